// Package progress reports how far a long run has got on one line of a
// terminal: what it does, done/total (percent), the rate and the time
// left, redrawn at most every 200 ms, and a summary line at the end. Where
// the output is not a terminal (a pipe, a file) or the environment is CI
// (CI=true), it prints nothing at all, so that logs and redirected output
// stay clean.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// Interval is the least time between two redraws.
const Interval = 200 * time.Millisecond

// Reporter draws one run's progress. Add may be called from any number of
// goroutines; Done ends it. A nil *Reporter does nothing.
type Reporter struct {
	out    io.Writer
	what   string
	total  int64
	width  int // the terminal's columns, 0 when unknown
	active bool
	now    func() time.Time

	done  atomic.Int64
	start time.Time

	mu       sync.Mutex // guards the drawing and ended
	ended    bool
	stop     chan struct{}
	finished chan struct{}
}

// Option changes how New decides and draws.
type Option func(*settings)

type settings struct {
	terminal *bool
	width    int
	interval time.Duration
	now      func() time.Time
}

// Terminal overrides the terminal check of w (tests draw to a pipe this
// way). CI=true in the environment still silences the reporter.
func Terminal(on bool) Option { return func(s *settings) { s.terminal = &on } }

// Width sets the columns the line is cut to (0: no cut).
func Width(cols int) Option { return func(s *settings) { s.width = cols } }

// Every sets the redraw interval (Interval by default).
func Every(d time.Duration) Option { return func(s *settings) { s.interval = d } }

// Clock sets the clock the rate and the time left are computed with.
func Clock(now func() time.Time) Option { return func(s *settings) { s.now = now } }

// New starts reporting the progress of what, total units of work (0: the
// total is unknown), on w. It draws only when w is a terminal and CI is
// not set in the environment.
func New(w *os.File, what string, total int64, opts ...Option) *Reporter {
	s := settings{interval: Interval, now: time.Now}
	for _, o := range opts {
		o(&s)
	}
	r := &Reporter{out: w, what: what, total: max(total, 0), now: s.now, stop: make(chan struct{}), finished: make(chan struct{})}
	r.start = r.now()
	if w == nil {
		close(r.finished)
		return r
	}
	fd := int(w.Fd())
	isTerm := term.IsTerminal(fd)
	if s.terminal != nil {
		isTerm = *s.terminal
	}
	r.active = isTerm && !inCI()
	if !r.active {
		close(r.finished)
		return r
	}
	r.width = s.width
	if r.width == 0 && s.terminal == nil {
		if cols, _, err := term.GetSize(fd); err == nil {
			r.width = cols
		}
	}
	go r.loop(s.interval)
	return r
}

// inCI reports whether the environment says it is CI (CI set, and not to
// false or 0).
func inCI() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv("CI")))
	return v != "" && v != "false" && v != "0"
}

// Active reports whether r draws anything.
func (r *Reporter) Active() bool { return r != nil && r.active }

// Add counts n more units done.
func (r *Reporter) Add(n int64) {
	if r != nil {
		r.done.Add(n)
	}
}

// Done ends the report: it clears the line and prints a summary (on a
// terminal; otherwise nothing). Done may be called more than once; Add
// after Done is ignored.
func (r *Reporter) Done() {
	if r == nil {
		return
	}
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		return
	}
	r.ended = true
	r.mu.Unlock()
	if !r.active {
		return
	}
	close(r.stop)
	<-r.finished
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprint(r.out, "\r\x1b[K"+r.cut(r.summary())+"\n")
}

// Above runs f, which prints (to the same terminal), with the progress
// line cleared, so that what f prints stays above the line, redrawn at the
// next interval.
func (r *Reporter) Above(f func()) {
	if !r.Active() {
		f()
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.ended {
		fmt.Fprint(r.out, "\r\x1b[K")
	}
	f()
}

func (r *Reporter) loop(every time.Duration) {
	defer close(r.finished)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.mu.Lock()
			if !r.ended {
				fmt.Fprint(r.out, "\r"+r.cut(r.line())+"\x1b[K")
			}
			r.mu.Unlock()
		}
	}
}

// line is the progress line: what: done/total (pct) rate/s, about Ns
// left; without the total, the percent and the time left when the total
// is unknown.
func (r *Reporter) line() string {
	done, elapsed := r.done.Load(), r.now().Sub(r.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	if r.total == 0 {
		return fmt.Sprintf("%s: %d %s/s", r.what, done, rateString(rate))
	}
	s := fmt.Sprintf("%s: %d/%d (%.0f%%) %s/s", r.what, done, r.total, 100*float64(min(done, r.total))/float64(r.total), rateString(rate))
	if done > 0 && done < r.total && rate > 0 {
		left := time.Duration(float64(r.total-done) / rate * float64(time.Second))
		s += ", about " + leftString(left) + " left"
	}
	return s
}

// summary is the final line: what: done (of total) in the time taken, the
// rate.
func (r *Reporter) summary() string {
	done, elapsed := r.done.Load(), r.now().Sub(r.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	of := ""
	if r.total > 0 && done != r.total {
		of = fmt.Sprintf(" of %d", r.total)
	}
	return fmt.Sprintf("%s: %d%s in %s (%s/s)", r.what, done, of, elapsed.Round(100*time.Millisecond), rateString(rate))
}

// cut shortens s to the terminal's width, so that \r redraws one line.
func (r *Reporter) cut(s string) string {
	if r.width <= 1 {
		return s
	}
	if rs := []rune(s); len(rs) > r.width-1 {
		return string(rs[:r.width-2]) + "…"
	}
	return s
}

func rateString(r float64) string {
	if r < 10 {
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.0f", r)
}

func leftString(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	}
	return d.Round(time.Second).String()
}

// Hook is a reporter for work that reports itself as (done, total) so far,
// as infra/loader's progress hook does: the first call starts a Reporter
// of what on w with its total, later calls add what was done since. Call
// the returned end when the work ends (it is Done of the reporter, if any
// call started one).
func Hook(w *os.File, what string, opts ...Option) (hook func(done, total int), end func()) {
	var r *Reporter
	var last int
	var mu sync.Mutex
	hook = func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if r == nil {
			r = New(w, what, int64(total), opts...)
		}
		r.Add(int64(done - last))
		last = done
	}
	end = func() {
		mu.Lock()
		defer mu.Unlock()
		r.Done()
	}
	return hook, end
}

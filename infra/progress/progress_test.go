package progress

import (
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pipe returns a pipe's write end and what is read from it once closed.
func pipe(t *testing.T) (*os.File, func() string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	read := make(chan struct{})
	go func() {
		out, _ = io.ReadAll(r)
		close(read)
	}()
	return w, func() string {
		w.Close()
		<-read
		r.Close()
		return string(out)
	}
}

// fakeClock is a clock the test sets.
type fakeClock struct{ t atomic.Int64 }

func (c *fakeClock) now() time.Time { return time.Unix(0, c.t.Load()) }

func TestTerminalDrawsAndSummarises(t *testing.T) {
	t.Setenv("CI", "")
	w, output := pipe(t)
	clock := &fakeClock{}
	r := New(w, "write", 100, Terminal(true), Every(5*time.Millisecond), Clock(clock.now))
	clock.t.Store(int64(10 * time.Second))
	r.Add(25)
	time.Sleep(50 * time.Millisecond) // several redraws
	clock.t.Store(int64(40 * time.Second))
	r.Add(75)
	r.Done()
	r.Done() // again: nothing more
	out := output()
	if !strings.Contains(out, "\rwrite: 25/100 (25%) 2.5/s, about 30s left\x1b[K") {
		t.Errorf("no progress line in %q", out)
	}
	if !strings.HasSuffix(out, "\r\x1b[Kwrite: 100 in 40s (2.5/s)\n") {
		t.Errorf("no summary at the end of %q", out)
	}
	if n := strings.Count(out, "\n"); n != 1 {
		t.Errorf("%d lines written, want 1 (the summary): %q", n, out)
	}
}

func TestUnknownTotal(t *testing.T) {
	t.Setenv("CI", "")
	w, output := pipe(t)
	clock := &fakeClock{}
	r := New(w, "taps", 0, Terminal(true), Every(5*time.Millisecond), Clock(clock.now))
	clock.t.Store(int64(2 * time.Second))
	r.Add(40)
	time.Sleep(30 * time.Millisecond)
	r.Done()
	out := output()
	if !strings.Contains(out, "\rtaps: 40 20/s\x1b[K") {
		t.Errorf("no progress line in %q", out)
	}
	if strings.Contains(out, "left") || strings.Contains(out, "%") {
		t.Errorf("a time left or a percent without a total: %q", out)
	}
	if !strings.HasSuffix(out, "taps: 40 in 2s (20/s)\n") {
		t.Errorf("summary: %q", out)
	}
}

func TestSummaryOfAnUnfinishedRun(t *testing.T) {
	t.Setenv("CI", "")
	w, output := pipe(t)
	clock := &fakeClock{}
	r := New(w, "init", 60, Terminal(true), Clock(clock.now))
	clock.t.Store(int64(3 * time.Second))
	r.Add(12)
	r.Done()
	if out := output(); out != "\r\x1b[Kinit: 12 of 60 in 3s (4.0/s)\n" {
		t.Errorf("got %q", out)
	}
}

func TestQuietWhenNotATerminal(t *testing.T) {
	t.Setenv("CI", "")
	w, output := pipe(t)
	r := New(w, "load", 10, Every(time.Millisecond)) // a pipe: no terminal
	if r.Active() {
		t.Error("active on a pipe")
	}
	r.Add(5)
	time.Sleep(20 * time.Millisecond)
	r.Add(5)
	r.Done()
	if out := output(); out != "" {
		t.Errorf("wrote %q to a pipe", out)
	}
}

func TestQuietInCI(t *testing.T) {
	for _, v := range []string{"true", "1", "yes"} {
		t.Setenv("CI", v)
		w, output := pipe(t)
		r := New(w, "load", 10, Terminal(true), Every(time.Millisecond))
		r.Add(3)
		time.Sleep(20 * time.Millisecond)
		r.Done()
		if out := output(); out != "" {
			t.Errorf("CI=%s: wrote %q", v, out)
		}
	}
	t.Setenv("CI", "false")
	w, output := pipe(t)
	r := New(w, "load", 10, Terminal(true))
	r.Done()
	if out := output(); out == "" {
		t.Error("CI=false: nothing written")
	}
}

func TestConcurrentAdd(t *testing.T) {
	t.Setenv("CI", "")
	w, output := pipe(t)
	r := New(w, "many", 8000, Terminal(true), Every(time.Millisecond))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				r.Add(1)
			}
		})
	}
	wg.Wait()
	r.Done()
	r.Add(1) // after Done: ignored by the drawing
	out := output()
	last := out[strings.LastIndex(out, "\r")+1:]
	if !strings.HasPrefix(last, "\x1b[Kmany: 8000 in ") {
		t.Errorf("summary %q", last)
	}
}

func TestCut(t *testing.T) {
	t.Setenv("CI", "")
	w, output := pipe(t)
	r := New(w, strings.Repeat("x", 50), 10, Terminal(true), Width(20))
	r.Done()
	out := output()
	if got := strings.TrimSuffix(strings.TrimPrefix(out, "\r\x1b[K"), "\n"); len([]rune(got)) != 19 || !strings.HasSuffix(got, "…") {
		t.Errorf("cut to %q (%d runes), want 19 ending in …", got, len([]rune(got)))
	}
}

func TestNil(t *testing.T) {
	var r *Reporter
	r.Add(1)
	r.Done()
	if r.Active() {
		t.Error("a nil reporter active")
	}
}

func TestAbove(t *testing.T) {
	t.Setenv("CI", "")
	w, output := pipe(t)
	r := New(w, "rows", 2, Terminal(true))
	r.Above(func() { w.WriteString("row 1\n") })
	r.Done()
	r.Above(func() { w.WriteString("row 2\n") })
	if out := output(); !strings.HasPrefix(out, "\r\x1b[Krow 1\n") || !strings.HasSuffix(out, "(0.0/s)\nrow 2\n") {
		t.Errorf("got %q", out)
	}
	var quiet *Reporter
	ran := false
	quiet.Above(func() { ran = true })
	if !ran {
		t.Error("a nil reporter's Above did not run f")
	}
}

// TestHook: (done, total) calls, as infra/loader makes them, become one
// report: started with the total at the first call, each later call adding
// what was done since.
func TestHook(t *testing.T) {
	t.Setenv("CI", "")
	w, output := pipe(t)
	clock := &fakeClock{}
	hook, end := Hook(w, "writing items", Terminal(true), Clock(clock.now))
	hook(0, 60)
	hook(25, 60)
	hook(40, 60)
	clock.t.Store(int64(4 * time.Second))
	end()
	end() // twice is fine
	if out := output(); out != "\r\x1b[Kwriting items: 40 of 60 in 4s (10/s)\n" {
		t.Errorf("got %q", out)
	}
	// A hook never called draws nothing, and end does not fail.
	w, output = pipe(t)
	_, end = Hook(w, "nothing", Terminal(true))
	end()
	if out := output(); out != "" {
		t.Errorf("a hook never called drew %q", out)
	}
}

package rie

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// Function is a function to run under the emulator.
type Function struct {
	// Name names the function in its log lines (its logical id).
	Name string
	// Emulator and Bootstrap are the binaries' paths (Build's).
	Emulator, Bootstrap string
	// Env is the environment of the emulator and the bootstrap
	// (Environment's); nothing else of ours reaches them.
	Env []string
	// Timeout is the function's timeout (the emulator enforces
	// AWS_LAMBDA_FUNCTION_TIMEOUT from Env, which must agree).
	Timeout time.Duration
	// Log receives the function's lines, each prefixed with its name in
	// brackets, as `sam local` prints a container's.
	Log io.Writer
	// MaxInstances bounds the emulators running at once (DefaultMaxInstances
	// when 0): a request that finds them all busy waits for one.
	MaxInstances int
	// IdleTimeout is how long an idle emulator is kept warm
	// (DefaultIdleTimeout when 0).
	IdleTimeout time.Duration

	logMu sync.Mutex
}

// DefaultMaxInstances bounds each function's emulators: Lambda's own
// account limit (1,000) would exhaust a laptop, and 32 serve the
// benchmarks' crowds of 60 writers without throttling a request (they
// wait for an instance instead).
const DefaultMaxInstances = 32

// DefaultIdleTimeout is how long an idle instance stays warm (Lambda keeps
// an idle environment for minutes, a number it does not promise).
const DefaultIdleTimeout = 5 * time.Minute

func (f *Function) line(s string) {
	f.logMu.Lock()
	defer f.logMu.Unlock()
	fmt.Fprintf(f.Log, "[%s] %s\n", f.Name, s)
}

func (f *Function) logf(format string, args ...any) { f.line(fmt.Sprintf(format, args...)) }

// Pool runs a function's invocations on emulators, one invocation per
// emulator at a time, as Lambda runs them on execution environments:
// an idle warm one when there is one (the most recently used), else a new
// one (a cold start), up to MaxInstances; idle ones stop after
// IdleTimeout.
type Pool struct {
	f     *Function
	slots chan struct{} // one per instance running or allowed to start

	mu     sync.Mutex
	idle   []*instance // most recently used last
	all    map[*instance]bool
	closed bool
	done   chan struct{}
}

// NewPool returns a pool for f. Close stops it.
func NewPool(f *Function) *Pool {
	if f.MaxInstances <= 0 {
		f.MaxInstances = DefaultMaxInstances
	}
	if f.IdleTimeout <= 0 {
		f.IdleTimeout = DefaultIdleTimeout
	}
	p := &Pool{f: f, slots: make(chan struct{}, f.MaxInstances), all: map[*instance]bool{}, done: make(chan struct{})}
	go p.reap()
	return p
}

// errClosed is an invocation of a closed pool.
var errClosed = fmt.Errorf("the function's instances are stopped")

// Invoke runs one invocation with the event payload and returns the
// function's response. Its errors wrap ErrTimeout, ErrFunction or
// ErrExited when the function failed as Lambda reports failures; any
// other is the local machinery's.
func (p *Pool) Invoke(ctx context.Context, requestID string, payload []byte) ([]byte, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("no instance of %s free: %w", p.f.Name, ctx.Err())
	}
	defer func() { <-p.slots }()
	in, err := p.get()
	if err != nil {
		return nil, err
	}
	out, broken, err := in.invoke(ctx, requestID, payload)
	if broken {
		p.drop(in)
	} else {
		p.put(in)
	}
	return out, err
}

// get takes an idle instance or starts one.
func (p *Pool) get() (*instance, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errClosed
	}
	if n := len(p.idle); n > 0 {
		in := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		select {
		case <-in.exited: // died while idle (killed from outside)
			p.drop(in)
			p.f.logf("an idle instance had exited (%s); starting another", in.cmd.ProcessState)
			return p.get()
		default:
			return in, nil
		}
	}
	p.mu.Unlock()
	in, err := start(p.f)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		go in.stop()
		return nil, errClosed
	}
	p.all[in] = true
	return in, nil
}

func (p *Pool) put(in *instance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	in.lastUse = time.Now()
	p.idle = append(p.idle, in)
}

func (p *Pool) drop(in *instance) {
	p.mu.Lock()
	delete(p.all, in)
	p.mu.Unlock()
	in.stop()
}

// reap stops the instances idle for longer than IdleTimeout.
func (p *Pool) reap() {
	t := time.NewTicker(min(p.f.IdleTimeout/4, 10*time.Second))
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case now := <-t.C:
			p.mu.Lock()
			var old []*instance
			p.idle = slices.DeleteFunc(p.idle, func(in *instance) bool {
				if now.Sub(in.lastUse) >= p.f.IdleTimeout {
					old = append(old, in)
					delete(p.all, in)
					return true
				}
				return false
			})
			p.mu.Unlock()
			for _, in := range old {
				in.stop()
			}
		}
	}
}

// Instances returns how many emulators are running, idle and busy.
func (p *Pool) Instances() (running, idle int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.all), len(p.idle)
}

// CloseIdle stops every idle instance; busy ones stay.
func (p *Pool) CloseIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	for _, in := range idle {
		delete(p.all, in)
	}
	p.mu.Unlock()
	stopAll(idle)
}

// Close stops every instance, busy ones included (their invocations
// fail), and waits until their processes are gone.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	var all []*instance
	for in := range p.all {
		all = append(all, in)
	}
	p.all, p.idle = nil, nil
	p.mu.Unlock()
	stopAll(all)
}

func stopAll(ins []*instance) {
	var wg sync.WaitGroup
	for _, in := range ins {
		wg.Go(in.stop)
	}
	wg.Wait()
}

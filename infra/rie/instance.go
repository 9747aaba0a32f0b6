package rie

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-json-experiment/json"
)

// invokePath is the emulator's invoke endpoint.
const invokePath = "/2015-03-31/functions/function/invocations"

// The ways an invocation fails, as Lambda reports them: API Gateway
// answers each with its 500 (Pool.Invoke's errors wrap one of them).
var (
	// ErrTimeout is an invocation that ran past the function's timeout.
	ErrTimeout = errors.New("task timed out")
	// ErrFunction is an invocation the function failed (its runtime
	// reported an error, or its answer is over Lambda's 6 MB).
	ErrFunction = errors.New("function error")
	// ErrExited is an invocation whose bootstrap exited before it answered.
	ErrExited = errors.New("runtime exited")
)

// MaxResponseBytes is Lambda's limit on a synchronous invocation's
// response (6 MB and 100 bytes); the emulator enforces it.
const MaxResponseBytes = 6*1024*1024 + 100

// MaxRequestBytes is Lambda's limit on a synchronous invocation's event.
// The emulator cuts a longer one short without a word, so the caller must
// refuse it first (the local API answers 413).
const MaxRequestBytes = 6 * 1024 * 1024

// instance is one emulator and the bootstrap it runs: a Lambda execution
// environment. It serves one invocation at a time (the emulator crashes on
// a second), which the pool ensures.
type instance struct {
	f       *Function
	addrs   []string // the two ports, reserved until the emulator stops
	cmd     *exec.Cmd
	url     string
	client  *http.Client
	exited  chan struct{} // closed when the emulator has exited
	lastUse time.Time     // guarded by the pool's mutex

	mu          sync.Mutex
	reports     int    // REPORT lines seen
	initMs      string // the last INIT REPORT's duration, until a REPORT line takes it
	bootstrap   int    // the bootstrap's pid, once seen
	lastFailure string // why the bootstrap last exited
}

// reserved are the ports this process gave its emulators and has not
// taken back: a port the kernel hands out again right after we closed
// it must not go to two of our emulators at once (the second would crash,
// or worse, answer for the first).
var (
	portsMu  sync.Mutex
	reserved = map[string]bool{}
)

// freePorts returns n loopback addresses with ports free a moment ago and
// not given to another of our emulators (the emulator cannot be given
// port 0: it tells the bootstrap its runtime API address before it
// binds). releasePorts gives them back.
func freePorts(n int) ([]string, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	var out []string
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for len(out) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l) // held open until done, so the next Listen gives another port
		if addr := l.Addr().String(); !reserved[addr] {
			out = append(out, addr)
		}
	}
	for _, a := range out {
		reserved[a] = true
	}
	return out, nil
}

func releasePorts(addrs []string) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for _, a := range addrs {
		delete(reserved, a)
	}
}

// startTimeout bounds how long an emulator may take to listen.
const startTimeout = 10 * time.Second

// start starts an emulator for f and waits until it takes invocations.
// The bootstrap itself starts on the first invocation (a cold start), as
// the emulator does it.
func start(f *Function) (*instance, error) {
	var err error
	for range 3 { // a port taken between freePorts and the emulator's bind
		var in *instance
		if in, err = startOnce(f); err == nil {
			return in, nil
		}
	}
	return nil, err
}

func startOnce(f *Function) (*instance, error) {
	addrs, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(f.Emulator,
		"--runtime-interface-emulator-address", addrs[0],
		"--runtime-api-address", addrs[1],
		"--log-level", "info",
		f.Bootstrap)
	cmd.Dir = filepath.Dir(f.Bootstrap)
	cmd.Env = f.Env
	// Its own process group, so that a Ctrl-C to ours reaches it only
	// through Close, in order; and a SIGTERM if we die without one.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	in := &instance{
		f: f, addrs: addrs, cmd: cmd, url: "http://" + addrs[0] + invokePath, exited: make(chan struct{}),
		client: &http.Client{Transport: &http.Transport{MaxIdleConns: 1, IdleConnTimeout: time.Hour}},
	}
	if err := cmd.Start(); err != nil {
		releasePorts(addrs)
		return nil, fmt.Errorf("start %s: %w", f.Emulator, err)
	}
	var copying sync.WaitGroup
	copying.Add(2)
	go func() { defer copying.Done(); in.copyStdout(stdout) }()
	go func() { defer copying.Done(); in.copyStderr(stderr) }()
	go func() {
		copying.Wait()
		cmd.Wait()
		close(in.exited)
	}()
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", addrs[0], 100*time.Millisecond)
		if err == nil {
			c.Close()
			return in, nil
		}
		select {
		case <-in.exited:
			releasePorts(addrs)
			return nil, fmt.Errorf("the emulator exited at start (%s)", cmd.ProcessState)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			in.stop()
			return nil, fmt.Errorf("the emulator did not listen on %s within %s", addrs[0], startTimeout)
		}
	}
}

// answer is the emulator's answer to one invocation, when it is not the
// function's response: a payload 2.0 response, as aws-lambda-go encodes
// it, starts with its statusCode, which invoke tests before it decodes
// anything (a response can be megabytes; an error report is small).
type answer struct {
	ErrorType    string `json:"errorType"`
	ErrorMessage string `json:"errorMessage"`
	StatusCode   *int   `json:"statusCode"`
}

// invoke sends one event. broken reports an emulator that no longer
// answers (the pool stops it); a timeout or a bootstrap's exit leaves it
// usable, as the emulator starts the bootstrap again on the next
// invocation (a new init).
func (in *instance) invoke(ctx context.Context, requestID string, payload []byte) (out []byte, broken bool, err error) {
	// The emulator answers a timeout itself, 0.1 s after it: wait a
	// little longer before deciding that it hangs.
	ctx, cancel := context.WithTimeout(ctx, in.f.Timeout+2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url, bytes.NewReader(payload))
	if err != nil {
		return nil, true, err
	}
	req.Header.Set("X-Amzn-RequestId", requestID)
	resp, err := in.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			in.f.logf("%s Task timed out after %.2f seconds (the emulator did not answer; stopped)", requestID, in.f.Timeout.Seconds())
			return nil, true, fmt.Errorf("%w after %s", ErrTimeout, in.f.Timeout)
		}
		return nil, true, fmt.Errorf("the emulator failed: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1<<20))
	if err != nil {
		return nil, true, fmt.Errorf("the emulator's answer: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusBadGateway:
		why := in.failure()
		var a answer
		if json.Unmarshal(body, &a) == nil && a.ErrorMessage != "" {
			why = a.ErrorMessage
		}
		if a.ErrorType == "Function.ResponseSizeTooLarge" {
			// aws-lambda-go exits when its answer is refused; Lambda
			// reports the size, a function error.
			in.f.logf("%s function error %s: %s", requestID, a.ErrorType, a.ErrorMessage)
			return nil, false, fmt.Errorf("%w: %s", ErrFunction, a.ErrorType)
		}
		in.f.logf("%s the bootstrap exited before it answered (%s); the next request starts it again", requestID, why)
		return nil, false, fmt.Errorf("%w: %s", ErrExited, why)
	case resp.StatusCode != http.StatusOK:
		return nil, true, fmt.Errorf("the emulator answered %d: %.200s", resp.StatusCode, body)
	case bytes.HasPrefix(body, []byte("Task timed out after")):
		in.f.logf("%s %s", requestID, body)
		return nil, false, fmt.Errorf("%w after %s", ErrTimeout, in.f.Timeout)
	}
	var a answer
	if !bytes.HasPrefix(body, []byte(`{"statusCode":`)) && json.Unmarshal(body, &a) == nil && a.ErrorType != "" && a.StatusCode == nil {
		in.f.logf("%s function error %s: %s", requestID, a.ErrorType, a.ErrorMessage)
		return nil, false, fmt.Errorf("%w: %s", ErrFunction, a.ErrorType)
	}
	return body, false, nil
}

// reportLine matches the emulator's REPORT line.
var reportLine = regexp.MustCompile(`^REPORT RequestId: \S+\t(Init Duration: [0-9.]+ ms\t)?`)

// maxMemory matches its Max Memory Used, which repeats the memory size.
var maxMemory = regexp.MustCompile(`Max Memory Used: [0-9]+ MB`)

// initReport matches the emulator's own log of an init's duration.
var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// runtimeExited matches its log of a bootstrap's exit.
var runtimeExited = regexp.MustCompile(`Process runtime-[0-9]+ exited: (.*)$`)

// copyStdout passes the emulator's standard output (the function's logs,
// both its stdout and stderr, and Lambda's START, END and REPORT lines) to
// the function's log, a line at a time. The emulator's REPORT line gets
// Lambda's true figures: Init Duration when the invocation started the
// bootstrap (the emulator's own times an unrelated call, and only on its
// first invocation), and Max Memory Used as the bootstrap's peak resident
// memory (the emulator's repeats the memory size).
func (in *instance) copyStdout(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := reportLine.FindStringSubmatchIndex(line); m != nil {
			line = in.report(line, m)
		}
		in.f.line(line)
	}
	io.Copy(io.Discard, r) // a line over 1 MB: drop the rest
}

func (in *instance) report(line string, m []int) string {
	in.mu.Lock()
	if in.reports == 0 {
		// The first invocation is the cold start: the emulator's log of
		// its init, on the other stream, may not have been read yet.
		for range 20 {
			if in.initMs != "" {
				break
			}
			in.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			in.mu.Lock()
		}
	}
	in.reports++
	initMs := in.initMs
	in.initMs = ""
	pid := in.bootstrap
	in.mu.Unlock()
	if pid == 0 {
		// The emulator's log of the init (read by copyStderr) may come
		// after its REPORT line: find the bootstrap now.
		if pids := children(in.cmd.Process.Pid); len(pids) > 0 {
			pid = pids[0]
		}
	}
	head := line[:m[1]]
	if m[2] >= 0 { // drop the emulator's Init Duration
		head = line[:m[2]] + line[m[3]:m[1]]
	}
	rest := line[m[1]:]
	if initMs != "" {
		if ms, err := strconv.ParseFloat(initMs, 64); err == nil {
			head += fmt.Sprintf("Init Duration: %.2f ms\t", ms)
		}
	}
	if mb := peakMB(pid); mb > 0 {
		rest = maxMemory.ReplaceAllString(rest, fmt.Sprintf("Max Memory Used: %d MB", mb))
	}
	return head + rest
}

// peakMB is the peak resident memory of process pid in MB (rounded up),
// or 0 when it cannot be read.
func peakMB(pid int) int {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				return 0
			}
			return (kb + 1023) / 1024
		}
	}
	return 0
}

// copyStderr reads the emulator's own log: the duration of each init (for
// the REPORT line) and why a bootstrap exited. The rest is the emulator's
// internals, not Lambda's, and is dropped unless LOCAL_RIE_LOG is set.
func (in *instance) copyStderr(r io.Reader) {
	verbose := os.Getenv("LOCAL_RIE_LOG") != ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if verbose {
			in.f.line("(emulator) " + line)
		}
		if m := initReport.FindStringSubmatch(line); m != nil {
			in.mu.Lock()
			in.initMs = m[1]
			in.mu.Unlock()
			in.findBootstrap()
		} else if m := runtimeExited.FindStringSubmatch(line); m != nil {
			in.mu.Lock()
			in.lastFailure = "the bootstrap " + m[1]
			in.bootstrap = 0
			in.mu.Unlock()
		}
	}
	io.Copy(io.Discard, r)
}

// failure is why the bootstrap last exited, as the emulator logged it.
func (in *instance) failure() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.lastFailure == "" {
		return "no reason logged"
	}
	return in.lastFailure
}

// findBootstrap records the pid of the emulator's child, the bootstrap.
func (in *instance) findBootstrap() {
	pids := children(in.cmd.Process.Pid)
	in.mu.Lock()
	defer in.mu.Unlock()
	in.bootstrap = 0
	if len(pids) > 0 {
		in.bootstrap = pids[0]
	}
}

// children returns the pids of process pid's children.
func children(pid int) []int {
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// stopTimeout is how long an emulator has to stop after SIGTERM.
const stopTimeout = 2 * time.Second

// stop ends the emulator and its bootstrap and waits for them: SIGTERM
// (on which the emulator kills the bootstrap's process group), then
// SIGKILL to both groups if it is still there after stopTimeout. The
// bootstrap's group is killed in any case: one the emulator left behind
// (it was killed itself, or the bootstrap did not stop) would spin on a
// runtime API that is gone.
func (in *instance) stop() {
	pid := in.cmd.Process.Pid
	boots := children(pid)
	syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-in.exited:
	case <-time.After(stopTimeout):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-in.exited
	}
	for _, b := range boots {
		syscall.Kill(-b, syscall.SIGKILL)
	}
	in.client.CloseIdleConnections()
	releasePorts(in.addrs)
}

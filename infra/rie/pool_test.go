package rie

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xblread/xblread/infra/testkit"
)

var bins struct {
	emulator, misbehave string
	err                 error
}

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "rie")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		if os.Getenv("RIE_CHILD") == "1" {
			// TestEmulatorDiesWithUs's child: its parent built them.
			bins.emulator, bins.misbehave = os.Getenv("RIE_EMULATOR"), os.Getenv("RIE_MISBEHAVE")
		} else if !testing.Short() {
			ctx := context.Background()
			b, err := Build(ctx, "../..", dir)
			if err == nil {
				bins.emulator = b.Emulator
				bins.misbehave = filepath.Join(dir, "misbehave", "bootstrap")
				err = BuildBootstrap(ctx, "../..", "./infra/rie/testdata/misbehave", bins.misbehave)
			}
			bins.err = err
		}
		return m.Run()
	}()
	os.Exit(code)
}

// misbehaving returns a pool of the misbehave function, closed when the
// test ends, and its log.
func misbehaving(t *testing.T, timeout time.Duration, max int) (*Pool, *testkit.SyncBuffer) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the emulator")
	}
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	log := &testkit.SyncBuffer{}
	p := NewPool(&Function{
		Name: "Misbehave", Emulator: bins.emulator, Bootstrap: bins.misbehave,
		Env: []string{
			"AWS_LAMBDA_FUNCTION_TIMEOUT=" + fmt.Sprint(int(timeout.Seconds())),
			"AWS_LAMBDA_FUNCTION_NAME=Misbehave", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512",
			"MISBEHAVE_ENV=from-env", "PATH=/usr/bin:/bin",
		},
		Timeout: timeout, Log: log, MaxInstances: max,
	})
	t.Cleanup(p.Close)
	return p, log
}

type reply struct {
	StatusCode int    `json:"statusCode"`
	Body       string `json:"body"`
	PID        int    `json:"pid"`
	Env        string `json:"env"`
}

func call(t *testing.T, p *Pool, id, event string) (reply, error) {
	t.Helper()
	out, err := p.Invoke(context.Background(), id, []byte(event))
	var r reply
	if err == nil {
		if jerr := json.Unmarshal(out, &r); jerr != nil {
			t.Fatalf("%s: %v: %.200s", id, jerr, out)
		}
	}
	return r, err
}

// TestPoolReusesAWarmInstance: a second invocation runs in the same
// bootstrap, with the environment given; the REPORT lines carry the
// emulator's figures, the Init Duration only on the cold start.
func TestPoolReusesAWarmInstance(t *testing.T) {
	p, log := misbehaving(t, 3*time.Second, 4)
	a, err := call(t, p, "req-1", `{"log":"hello from the function"}`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := call(t, p, "req-2", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	if a.PID != b.PID || a.Env != b.Env || !strings.HasPrefix(a.Env, "from-env|") {
		t.Errorf("not one warm instance with its environment: %+v %+v", a, b)
	}
	if n, _ := p.Instances(); n != 1 {
		t.Errorf("%d instances, want 1", n)
	}
	waitFor(t, log, "REPORT RequestId: req-2")
	out := log.String()
	for _, want := range []string{"[Misbehave] hello from the function", "[Misbehave] START RequestId: req-1", "[Misbehave] END RequestId: req-2"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	r1, r2 := reportOf(out, "req-1"), reportOf(out, "req-2")
	if !strings.Contains(r1, "Init Duration: ") || strings.Contains(r2, "Init Duration") {
		t.Errorf("Init Duration must be on the cold start only:\n%s\n%s", r1, r2)
	}
	for _, r := range []string{r1, r2} {
		if !strings.Contains(r, "Billed Duration: ") || !strings.Contains(r, "Memory Size: 512 MB") || strings.Contains(r, "Max Memory Used: 512 MB") {
			t.Errorf("REPORT line: %q", r)
		}
	}
}

func reportOf(log, id string) string {
	for line := range strings.Lines(log) {
		if strings.Contains(line, "REPORT RequestId: "+id+"\t") {
			return line
		}
	}
	return ""
}

func waitFor(t *testing.T, log *testkit.SyncBuffer, s string) {
	t.Helper()
	for range 200 {
		if strings.Contains(log.String(), s) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("log never said %q:\n%s", s, log.String())
}

// TestPoolScalesAndStops: concurrent invocations get instances of their
// own up to the bound, the rest wait; CloseIdle stops the idle ones and
// Close leaves no process behind.
func TestPoolScalesAndStops(t *testing.T) {
	p, _ := misbehaving(t, 3*time.Second, 3)
	var wg sync.WaitGroup
	pids := make([]int, 5)
	errs := make([]error, 5)
	for i := range 5 {
		wg.Go(func() {
			r, err := call(t, p, fmt.Sprint("c", i), `{"sleepMs":300}`)
			pids[i], errs[i] = r.PID, err
		})
	}
	wg.Wait()
	seen := map[int]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
		seen[pids[i]] = true
	}
	if len(seen) != 3 {
		t.Errorf("%d bootstraps served 5 concurrent invocations; want the bound, 3", len(seen))
	}
	if n, idle := p.Instances(); n != 3 || idle != 3 {
		t.Errorf("running %d idle %d; want 3 and 3", n, idle)
	}
	procs := processesOf(p)
	p.CloseIdle()
	if n, _ := p.Instances(); n != 0 {
		t.Errorf("%d instances after CloseIdle", n)
	}
	for _, pid := range append(procs, keys(seen)...) {
		if alive(pid) {
			t.Errorf("process %d still alive after CloseIdle", pid)
		}
	}
	if _, err := call(t, p, "after", `{}`); err != nil {
		t.Errorf("after CloseIdle: %v", err)
	}
	procs = processesOf(p)
	p.Close()
	for _, pid := range procs {
		if alive(pid) {
			t.Errorf("process %d still alive after Close", pid)
		}
	}
	if _, err := p.Invoke(context.Background(), "closed", []byte(`{}`)); err == nil {
		t.Error("a closed pool invoked")
	}
}

func keys(m map[int]bool) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	return out
}

// processesOf returns the emulators' and bootstraps' pids.
func processesOf(p *Pool) []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int
	for in := range p.all {
		out = append(out, in.cmd.Process.Pid)
		out = append(out, children(in.cmd.Process.Pid)...)
	}
	return out
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(b), ") Z ") // a zombie is dead
}

// TestPoolFailures: each way an invocation fails is reported as Lambda
// reports it, logged, and the next invocation is served.
func TestPoolFailures(t *testing.T) {
	p, log := misbehaving(t, 1*time.Second, 2)
	for _, tt := range []struct {
		name, event string
		want        error
		log         string
	}{
		{"timeout", `{"sleepMs":3000}`, ErrTimeout, "Task timed out after 1.00 seconds"},
		{"error", `{"error":"boom"}`, ErrFunction, "function error errorString: boom"},
		{"too large", fmt.Sprintf(`{"size":%d}`, MaxResponseBytes), ErrFunction, "Function.ResponseSizeTooLarge"},
		{"exit", `{"exit":3}`, ErrExited, "exit status 3); the next request starts it again"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := call(t, p, tt.name, tt.event)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("the failure took %s", d)
			}
			waitFor(t, log, tt.log)
			if r, err := call(t, p, tt.name+"-next", `{}`); err != nil || r.StatusCode != 200 {
				t.Errorf("the next invocation: %+v %v\n%s", r, err, log.String())
			}
		})
	}
	// Just under the limit is a response (with its JSON around it).
	if r, err := call(t, p, "big", fmt.Sprintf(`{"size":%d}`, MaxResponseBytes-200)); err != nil || len(r.Body) != MaxResponseBytes-200 {
		t.Errorf("a response under 6 MB: %d bytes, %v", len(r.Body), err)
	}
}

// TestEmulatorDiesWithUs: an emulator left by a process that was killed
// (SIGKILL, no Close) stops, bootstrap included.
func TestEmulatorDiesWithUs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the emulator")
	}
	if os.Getenv("RIE_CHILD") == "1" {
		p, _ := misbehaving(t, 3*time.Second, 1)
		if _, err := call(t, p, "x", `{}`); err != nil {
			t.Fatal(err)
		}
		fmt.Println("PIDS", processesOf(p))
		time.Sleep(time.Minute)
		return
	}
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestEmulatorDiesWithUs$")
	cmd.Env = append(os.Environ(), "RIE_CHILD=1", "RIE_EMULATOR="+bins.emulator, "RIE_MISBEHAVE="+bins.misbehave)
	var out testkit.SyncBuffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pids []int
	for range 3000 { // 30 s: a busy machine starts the child slowly
		if i := strings.Index(out.String(), "PIDS ["); i >= 0 && strings.Contains(out.String()[i:], "]") {
			s := out.String()[i+6:]
			for _, f := range strings.Fields(s[:strings.Index(s, "]")]) {
				var n int
				fmt.Sscan(f, &n)
				pids = append(pids, n)
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(pids) != 2 {
		cmd.Process.Kill()
		t.Fatalf("child printed no emulator and bootstrap: %q", out.String())
	}
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("process %d outlived the process that started it", pid)
		}
	}
}

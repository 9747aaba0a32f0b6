package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xblread/xblread/infra/ddblocal"
	"github.com/xblread/xblread/infra/devstack"
	"github.com/xblread/xblread/infra/progress"
	"github.com/xblread/xblread/infra/rie"
	"github.com/xblread/xblread/pkg/store"
)

// measureInit builds the emulator, each function's bootstrap and a
// hello-world one, as make build does but for this machine's architecture
// (rie.Build), and times each bootstrap's start-up runs times,
// interleaved: a cold start each, under a new emulator (rie.Pool), its
// first invocation's init as the emulator reports it (the REPORT line's
// Init Duration: from the bootstrap's start to its first Runtime API
// next, Lambda's init phase). Interrupted (ctx done), it prints the
// start-ups of the rounds complete and returns ctx's error.
func measureInit(ctx context.Context, runs int) error {
	root, err := ddblocal.RepoRoot(".")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "xblread-init")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	names := []string{"hello"}
	for _, f := range devstack.Functions {
		names = append(names, f.Name)
	}
	bins, err := rie.Build(ctx, root, dir, names[1:]...)
	if err != nil {
		return err
	}
	bins.Bootstrap["hello"] = filepath.Join(dir, "hello", "bootstrap")
	if err := rie.BuildBootstrap(ctx, root, "./infra/bench/hello", bins.Bootstrap["hello"]); err != nil {
		return err
	}
	fns, err := initFunctions(root, bins, names)
	if err != nil {
		return err
	}
	// Cold starts, warm invocations of hello (measureHop: n/10 unmeasured
	// first) and inittrace starts.
	prog := progress.New(os.Stderr, "init", int64(2*runs*len(names)+55*runs))
	defer prog.Done()
	times := map[string][]time.Duration{}
	done := 0 // rounds complete
	for range runs {
		if ctx.Err() != nil {
			break
		}
		for _, name := range names {
			d, err := coldStart(ctx, fns[name])
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				return fmt.Errorf("%s: %w", name, err)
			}
			times[name] = append(times[name], d)
			prog.Add(1)
		}
		if ctx.Err() == nil {
			done++
		}
	}
	if done == 0 {
		return ctx.Err()
	}
	for _, name := range names {
		times[name] = times[name][:done]
	}
	hello := pct(times["hello"], 50)
	note := ""
	if done < runs {
		note = fmt.Sprintf(" (interrupted: %d of %d runs)", done, runs)
	}
	prog.Done()
	fmt.Printf("Start-up (init as the emulator reports it: the bootstrap's start to its first Runtime API next), a cold start under a new emulator each, %d runs each, interleaved, this machine's architecture%s\n\n", done, note)
	fmt.Println("| bootstrap | size bytes | init p50 / p90 ms | p50 vs hello-world |")
	fmt.Println("| --- | ---: | ---: | ---: |")
	for _, name := range names {
		fi, err := os.Stat(bins.Bootstrap[name])
		if err != nil {
			return err
		}
		t := times[name]
		fmt.Printf("| %s | %d | %.2f / %.2f | %.2f× |\n", name, fi.Size(), ms(pct(t, 50)), ms(pct(t, 90)), float64(pct(t, 50))/float64(hello))
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	prog = progress.New(os.Stderr, "init: warm invocations and inittrace", int64(runs*len(names)+55*runs))
	defer prog.Done()
	if err := measureHop(ctx, fns["hello"], 50*runs, prog); err != nil {
		return err
	}
	return heavyInits(ctx, bins.Bootstrap, names, runs, prog)
}

// measureHop times n warm invocations of the hello-world bootstrap under
// the emulator (rie.Pool) against its handler in this process
// (lambda.Handler.Invoke), interleaved: what the emulator itself adds to
// every request of make run.
func measureHop(ctx context.Context, fn func(io.Writer) *rie.Function, n int, prog *progress.Reporter) error {
	log := &reportLog{report: make(chan string, 1)}
	p := rie.NewPool(fn(log))
	defer p.Close()
	h := lambda.NewHandler(func(context.Context) (string, error) { return "hello", nil })
	warmup := n / 10
	var emu, local []time.Duration
	for i := range warmup + n {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		t0 := time.Now()
		if _, err := p.Invoke(ctx, fmt.Sprintf("bench-hop-%d", i), []byte(initEvent)); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("hello under the emulator: %w\n%s", err, log.String())
		}
		t1 := time.Now()
		if _, err := h.Invoke(ctx, []byte(initEvent)); err != nil {
			return err
		}
		if i >= warmup {
			emu, local = append(emu, t1.Sub(t0)), append(local, time.Since(t1))
		}
		prog.Add(1)
	}
	prog.Above(func() {
		fmt.Printf("\nA warm invocation of hello under the emulator (rie.Pool.Invoke), %d after %d unmeasured: p50 / p99 %.3f / %.3f ms; its handler in this process: %.3f / %.3f ms\n",
			n, warmup, ms(pct(emu, 50)), ms(pct(emu, 99)), ms(pct(local, 50)), ms(pct(local, 99)))
	})
	return nil
}

// initFunctions returns each bootstrap of bins as a function to run
// under the emulator, with the environment the template and the env vars
// file of the local stack give it (the hello-world one gets the
// statistics batch's), on a table that is never reached: an init reads
// nothing from DynamoDB.
func initFunctions(root string, bins *rie.Binaries, names []string) (map[string]func(io.Writer) *rie.Function, error) {
	t, err := devstack.LoadTemplate(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	props, err := t.Functions()
	if err != nil {
		return nil, err
	}
	vars, err := rie.ReadEnvFile(filepath.Join(root, devstack.EnvVarsFile))
	if err != nil {
		return nil, err
	}
	fixed := map[string]string{"TABLE_NAME": "xblread", store.EndpointEnv: "http://127.0.0.1:1", "RATE_LIMITS": "off"}
	fns := map[string]func(io.Writer) *rie.Function{}
	for _, name := range names {
		id, f := devstack.Functions[0].LogicalID, maps.Clone(fixed)
		if name == "hello" {
			f["AWS_LAMBDA_FUNCTION_NAME"] = "xblread-bench-hello"
		} else {
			fn, _ := devstack.Lookup(name)
			id = fn.LogicalID
		}
		p, ok := props[id]
		if !ok {
			return nil, fmt.Errorf("no function %s in the template", id)
		}
		boot := bins.Bootstrap[name]
		env := rie.Environment(t, id, p, rie.EnvOptions{Overrides: vars, Fixed: f, TaskRoot: filepath.Dir(boot)})
		fns[name] = func(log io.Writer) *rie.Function {
			return &rie.Function{
				Name: name, Emulator: bins.Emulator, Bootstrap: boot, Env: env, Log: log,
				Timeout: time.Duration(cmp.Or(p.Timeout, 3)) * time.Second, MaxInstances: 1,
			}
		}
	}
	return fns, nil
}

// initEvent is the event of the cold start's invocation: a request for a
// route no function serves, answered without DynamoDB.
const initEvent = `{"version":"2.0","routeKey":"$default","rawPath":"/bench/init","headers":{},"requestContext":{"http":{"method":"GET","path":"/bench/init","protocol":"HTTP/1.1","sourceIp":"127.0.0.1"},"requestId":"bench-init","stage":"$default"}}`

// initDuration reads a REPORT line's Init Duration.
var initDuration = regexp.MustCompile(`REPORT RequestId: .*\tInit Duration: ([0-9.]+) ms\t`)

// coldStart invokes the function fn makes once on a new pool (a new
// emulator, the bootstrap started by the invocation) and returns the init
// its REPORT line gives.
func coldStart(ctx context.Context, fn func(io.Writer) *rie.Function) (time.Duration, error) {
	log := &reportLog{report: make(chan string, 1)}
	p := rie.NewPool(fn(log))
	defer p.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := p.Invoke(ctx, "bench-init", []byte(initEvent)); err != nil {
		return 0, fmt.Errorf("%w\n%s", err, log.String())
	}
	select {
	case line := <-log.report:
		m := initDuration.FindStringSubmatch(line)
		if m == nil {
			return 0, fmt.Errorf("no Init Duration on the cold start's REPORT line: %q", line)
		}
		v, err := strconv.ParseFloat(m[1], 64)
		return time.Duration(v * float64(time.Millisecond)), err
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(5 * time.Second):
		return 0, fmt.Errorf("no REPORT line within 5 s of the answer\n%s", log.String())
	}
}

// reportLog keeps a function's lines and passes on its first REPORT line.
type reportLog struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	report chan string
}

func (l *reportLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if bytes.Contains(p, []byte("REPORT RequestId: ")) {
		select {
		case l.report <- string(p):
		default:
		}
	}
	return len(p), nil
}

func (l *reportLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// heavyInitMillis is the package init time past which heavyInits names a
// package.
const heavyInitMillis = 0.05

// heavyInits prints, for each bootstrap, the packages whose init (the Go
// runtime's GODEBUG=inittrace=1 report, the median of runs starts) takes
// longer than heavyInitMillis: where a start-up regression comes from
// (package-level regexp.MustCompile, tables built at init, ...).
func heavyInits(ctx context.Context, bins map[string]string, names []string, runs int, prog *progress.Reporter) error {
	prog.Above(func() {
		fmt.Printf("\nPackage inits over %.2f ms (GODEBUG=inittrace=1, median of %d starts)\n\n", heavyInitMillis, runs)
		fmt.Println("| bootstrap | all package inits ms | heaviest |")
		fmt.Println("| --- | ---: | --- |")
	})
	for _, name := range names {
		byPkg := map[string][]time.Duration{}
		var totals []time.Duration
		for range runs {
			trace, err := initTrace(ctx, bins[name])
			if ctx.Err() != nil {
				return ctx.Err()
			}
			prog.Add(1)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			var total time.Duration
			for pkg, d := range trace {
				byPkg[pkg] = append(byPkg[pkg], d)
				total += d
			}
			totals = append(totals, total)
		}
		type heavy struct {
			pkg string
			d   time.Duration
		}
		var hs []heavy
		for pkg, ds := range byPkg {
			if d := pct(ds, 50); ms(d) > heavyInitMillis {
				hs = append(hs, heavy{pkg, d})
			}
		}
		slices.SortFunc(hs, func(a, b heavy) int { return cmp.Compare(b.d, a.d) })
		var list []string
		for _, h := range hs {
			list = append(list, fmt.Sprintf("%s %.2f", h.pkg, ms(h.d)))
		}
		prog.Above(func() { fmt.Printf("| %s | %.2f | %s |\n", name, ms(pct(totals, 50)), strings.Join(list, ", ")) })
	}
	return nil
}

// initTrace runs bin with GODEBUG=inittrace=1 and no Runtime API (it exits
// once main runs) and returns each package init's clock time.
func initTrace(ctx context.Context, bin string) (map[string]time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = []string{"GODEBUG=inittrace=1"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Run() // it fails without a Runtime API: only the trace matters
	trace := map[string]time.Duration{}
	for line := range strings.Lines(stderr.String()) {
		// init net/http @3.7 ms, 0.025 ms clock, 4712 bytes, 49 allocs
		f := strings.Fields(line)
		if len(f) < 7 || f[0] != "init" || f[6] != "clock," {
			continue
		}
		v, err := strconv.ParseFloat(f[4], 64)
		if err != nil {
			return nil, fmt.Errorf("inittrace line %q: %w", line, err)
		}
		trace[f[1]] += time.Duration(v * float64(time.Millisecond))
	}
	if len(trace) == 0 {
		return nil, fmt.Errorf("no inittrace output: %.200s", stderr.String())
	}
	return trace, nil
}

package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/infra/devstack"
	"github.com/xblread/xblread/infra/lambdart"
	"github.com/xblread/xblread/pkg/store"
)

// measureInit builds each function's bootstrap and a hello-world one, as
// make build does but for this machine's architecture, and times each
// start-up runs times: from the process's start to its first request for
// an invocation (Lambda's init phase), interleaved.
func measureInit(runs int) error {
	dir, err := os.MkdirTemp("", "xblread-init")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bins := map[string]string{}
	names := []string{"hello"}
	pkgs := map[string]string{"hello": "./infra/bench/hello"}
	for _, f := range devstack.Functions {
		names = append(names, f.Name)
		pkgs[f.Name] = "./functions/" + f.Name
	}
	for _, name := range names {
		bin := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s", "-o", bin, pkgs[name])
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", name, err, out)
		}
		bins[name] = bin
	}
	times := map[string][]time.Duration{}
	for range runs {
		for _, name := range names {
			d, err := startUp(bins[name], name)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			times[name] = append(times[name], d)
		}
	}
	hello := pct(times["hello"], 50)
	fmt.Printf("Start-up (init: process start to the first Runtime API next), %d runs each, interleaved, this machine's architecture\n\n", runs)
	fmt.Println("| bootstrap | size bytes | init p50 / p90 ms | p50 vs hello-world |")
	fmt.Println("| --- | ---: | ---: | ---: |")
	for _, name := range names {
		fi, _ := os.Stat(bins[name])
		t := times[name]
		fmt.Printf("| %s | %d | %.2f / %.2f | %.2f× |\n", name, fi.Size(), ms(pct(t, 50)), ms(pct(t, 90)), float64(pct(t, 50))/float64(hello))
	}
	return heavyInits(bins, names, runs)
}

// heavyInitMillis is the package init time past which heavyInits names a
// package.
const heavyInitMillis = 0.05

// heavyInits prints, for each bootstrap, the packages whose init (the Go
// runtime's GODEBUG=inittrace=1 report, the median of runs starts) takes
// longer than heavyInitMillis: where a start-up regression comes from
// (package-level regexp.MustCompile, tables built at init, ...).
func heavyInits(bins map[string]string, names []string, runs int) error {
	fmt.Printf("\nPackage inits over %.2f ms (GODEBUG=inittrace=1, median of %d starts)\n\n", heavyInitMillis, runs)
	fmt.Println("| bootstrap | all package inits ms | heaviest |")
	fmt.Println("| --- | ---: | --- |")
	for _, name := range names {
		byPkg := map[string][]time.Duration{}
		var totals []time.Duration
		for range runs {
			trace, err := initTrace(bins[name])
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
		fmt.Printf("| %s | %.2f | %s |\n", name, ms(pct(totals, 50)), strings.Join(list, ", "))
	}
	return nil
}

// initTrace runs bin with GODEBUG=inittrace=1 and no Runtime API (it exits
// once main runs) and returns each package init's clock time.
func initTrace(bin string) (map[string]time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
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

// startUp runs bin under a Runtime API with the environment Lambda gives a
// function (its own variables set as the template sets them) and returns
// how long it took to ask for its first invocation.
func startUp(bin, name string) (time.Duration, error) {
	rt, err := lambdart.Start()
	if err != nil {
		return 0, err
	}
	defer rt.Close()
	cmd := exec.Command(bin)
	cmd.Env = []string{
		"AWS_LAMBDA_RUNTIME_API=" + rt.Addr,
		"AWS_LAMBDA_FUNCTION_NAME=xblread-bench-" + name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512",
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench", "AWS_SESSION_TOKEN=bench",
		"_HANDLER=bootstrap",
		"TABLE_NAME=xblread",
		store.EndpointEnv + "=http://127.0.0.1:1",
		"AUTH_ISSUER=" + devkey.Issuer,
		"AUTH_AUDIENCE=" + devkey.Audience,
		"AUTH_PUBLIC_KEYS=" + string(devkey.PublicPEM),
		"AWS_SAM_LOCAL=true", // the development key is refused elsewhere
		"METRICS_NAMESPACE=XblRead",
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	select {
	case <-rt.Ready():
		return time.Since(start), nil
	case <-time.After(10 * time.Second):
		return 0, fmt.Errorf("no request for an invocation within 10 s")
	}
}

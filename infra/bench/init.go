package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	return nil
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

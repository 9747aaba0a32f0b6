package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xblread/xblread/infra/ddblocal"
	"github.com/xblread/xblread/infra/devstack"
	"github.com/xblread/xblread/infra/localapi"
	"github.com/xblread/xblread/infra/rie"
)

func runServe(args []string) error {
	fs := newFlags("serve")
	addr := fs.String("addr", "127.0.0.1:"+envOr("PORT", "3000"), "listen address (env PORT sets the port)")
	tmpl := fs.String("template", "", "SAM template with the routes (default: template.yaml here or in a parent directory)")
	where := tableFlags(fs)
	newAPI := apiFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	table, endpoint, err := where()
	if err != nil {
		return err
	}
	unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer l.Close()
	os.Setenv(devstack.RTAEndpointEnv, "http://"+l.Addr().String()) // see devstack.WithWebSocket
	srv, err := newAPI(ctx, *tmpl, table, endpoint)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(os.Stdout, "serving the local API on http://%s (table %s at %s), real-time activity on ws://%s/connect\n", l.Addr(), table, cmp.Or(endpoint, "AWS"), l.Addr())
	return serveUntilDone(ctx, l, devstack.WithWebSocket(srv, os.Stderr))
}

// apiFlags adds the flags that choose how the local API runs the
// functions, and returns what builds it: by default each function's real
// bootstrap under the Runtime Interface Emulator, with the template's
// environment and the --env-vars file's (see devstack.NewEmulatedServer);
// with --in-process, the handlers in this process. Logs go to stderr.
func apiFlags(fs *flag.FlagSet) func(ctx context.Context, tmpl, table, endpoint string) (*localapi.Server, error) {
	inProcess := fs.Bool("in-process", false, "run the functions' handlers in this process rather than their bootstraps under the emulator (starts sooner; not what Lambda runs)")
	envVars := fs.String("env-vars", "", "a sam local --env-vars file: variables by function logical id, or under Parameters for all (default: "+devstack.EnvVarsFile+")")
	maxInstances := fs.Int("max-instances", rie.DefaultMaxInstances, "emulators per function at most; a request that finds them all busy waits for one")
	return func(ctx context.Context, tmpl, table, endpoint string) (*localapi.Server, error) {
		if *inProcess {
			return devstack.NewServer(ctx, tmpl, table, endpoint, os.Stderr)
		}
		if *maxInstances < 1 {
			return nil, usagef("--max-instances must be at least 1")
		}
		e, err := emulated(*envVars)
		if err != nil {
			return nil, err
		}
		e.MaxInstances = *maxInstances
		fmt.Fprintln(os.Stderr, "building the functions' bootstraps and the emulator for this machine ...")
		return devstack.NewEmulatedServer(ctx, tmpl, table, endpoint, e)
	}
}

// emulated are the settings of the emulated functions: built from the
// repository here, with the env vars file at path (the repository's
// infra/sam/env.json when empty), the shell's values for declared
// variables, logs to stderr.
func emulated(envVars string) (devstack.Emulated, error) {
	root, err := ddblocal.RepoRoot(".")
	if err != nil {
		return devstack.Emulated{}, err
	}
	if envVars == "" {
		envVars = filepath.Join(root, devstack.EnvVarsFile)
	}
	vars, err := rie.ReadEnvFile(envVars)
	if err != nil {
		return devstack.Emulated{}, invalidError{err}
	}
	return devstack.Emulated{Root: root, EnvVars: vars, Shell: os.LookupEnv, Log: os.Stderr}, nil
}

// serveUntilDone serves on l until ctx ends, then shuts down gracefully.
func serveUntilDone(ctx context.Context, l net.Listener, h http.Handler) error {
	hs := devstack.NewHTTPServer(h)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func runInvoke(args []string) error {
	fs := newFlags("invoke")
	eventPath := fs.String("event", "", "event file (payload 2.0 JSON), - for standard input (required)")
	envVars := fs.String("env-vars", "", "a sam local --env-vars file: variables by function logical id, or under Parameters for all (default: "+devstack.EnvVarsFile+")")
	tmpl := fs.String("template", "", "SAM template (default: template.yaml here or in a parent directory)")
	where := tableFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	// The function name may come before, between or after the flags.
	name := fs.Arg(0)
	if fs.NArg() > 1 {
		return usagef("unexpected arguments: %s", strings.Join(fs.Args()[1:], " "))
	}
	if name == "" {
		return usagef("name a function: %s", functionNames())
	}
	f, ok := devstack.Lookup(name)
	if !ok {
		return usagef("unknown function %q: one of %s", name, functionNames())
	}
	if *eventPath == "" {
		return usagef("--event is required")
	}
	table, endpoint, err := where()
	if err != nil {
		return err
	}
	var payload []byte
	if *eventPath == "-" {
		payload, err = io.ReadAll(os.Stdin)
	} else {
		payload, err = os.ReadFile(*eventPath)
	}
	if err != nil {
		return err
	}
	if !json.Valid(payload) {
		return invalidError{fmt.Errorf("%s is not valid JSON", *eventPath)}
	}
	if len(payload) > localapi.MaxEventBytes {
		return invalidError{fmt.Errorf("%s is %d bytes, over Lambda's %d", *eventPath, len(payload), localapi.MaxEventBytes)}
	}
	unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	t, err := devstack.LoadTemplate(*tmpl)
	if err != nil {
		return err
	}
	e, err := emulated(*envVars)
	if err != nil {
		return err
	}
	e.MaxInstances = 1
	fns, err := devstack.EmulatedFunctions(ctx, t, table, endpoint, e, f.LogicalID)
	if err != nil {
		return err
	}
	fn, ok := fns[f.LogicalID]
	if !ok {
		return fmt.Errorf("function %s is not in the template", f.LogicalID)
	}
	pool := fn.Invoker.(*rie.Pool)
	defer pool.Close()
	out, err := pool.Invoke(ctx, newRequestID(), payload)
	if err != nil {
		return fmt.Errorf("%s failed: %w", f.LogicalID, err)
	}
	os.Stdout.Write(append(out, '\n'))
	// A response the function made but that reports a failure of its own
	// (5xx) fails the command, so that scripts see it.
	var resp struct {
		StatusCode int `json:"statusCode"`
	}
	if json.Unmarshal(out, &resp) == nil && resp.StatusCode >= 500 {
		if resp.StatusCode == http.StatusServiceUnavailable && endpoint != "" {
			if err := dialEndpoint(endpoint); refused(err) {
				return notRunning(fmt.Sprintf("the function answered 503: DynamoDB at %s", endpoint), startDynamoDB, err)
			}
		}
		return fmt.Errorf("the function answered %d", resp.StatusCode)
	}
	return nil
}

// newRequestID returns a random (version 4) UUID, as Lambda request ids
// are.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func functionNames() string {
	var names []string
	for _, f := range devstack.Functions {
		names = append(names, f.Name)
	}
	return strings.Join(names, ", ")
}

package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/xblread/xblread/infra/devstack"
	"github.com/xblread/xblread/infra/localapi"
)

func runServe(args []string) error {
	fs := newFlags("serve")
	addr := fs.String("addr", "127.0.0.1:"+envOr("PORT", "3000"), "listen address (env PORT sets the port)")
	tmpl := fs.String("template", "", "SAM template with the routes (default: template.yaml here or in a parent directory)")
	where := tableFlags(fs)
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	srv, err := devstack.NewServer(ctx, *tmpl, table, endpoint, os.Stderr)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stdout, "serving the local API on http://%s (table %s at %s)\n", l.Addr(), table, cmp.Or(endpoint, "AWS"))
	return serveUntilDone(ctx, l, srv)
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
	// The function name may come before or after the flags.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	fs := newFlags("invoke")
	eventPath := fs.String("event", "", "event file (payload 2.0 JSON), - for standard input (required)")
	tmpl := fs.String("template", "", "SAM template (default: template.yaml here or in a parent directory)")
	where := tableFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
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
	ctx := context.Background()
	t, err := devstack.LoadTemplate(*tmpl)
	if err != nil {
		return err
	}
	fns, err := devstack.Handlers(ctx, t, table, endpoint, os.Stderr)
	if err != nil {
		return err
	}
	fn, ok := fns[f.LogicalID]
	if !ok {
		return fmt.Errorf("function %s is not in the template", f.LogicalID)
	}
	out, err := localapi.Invoke(ctx, fn, f.LogicalID, payload)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stdout, string(out))
	// A response the function made but that reports a failure of its own
	// (5xx) fails the command, so that scripts see it.
	var resp struct {
		StatusCode int `json:"statusCode"`
	}
	if json.Unmarshal(out, &resp) == nil && resp.StatusCode >= 500 {
		return fmt.Errorf("the function answered %d", resp.StatusCode)
	}
	return nil
}

func functionNames() string {
	var names []string
	for _, f := range devstack.Functions {
		names = append(names, f.Name)
	}
	return strings.Join(names, ", ")
}

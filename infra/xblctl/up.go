package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xblread/xblread/infra/ddblocal"
	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/infra/devstack"
	"github.com/xblread/xblread/pkg/app"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// demoFixture is loaded by `up` when no fixture is named.
const demoFixture = "infra/fixtures/demo.json"

func runUp(args []string) error {
	fs := newFlags("up")
	addr := fs.String("addr", "127.0.0.1:"+envOr("PORT", "3000"), "API listen address (env PORT sets the port)")
	ddbPort := fs.Int("dynamodb-port", 8000, "DynamoDB Local port (env DYNAMODB_PORT); unused when "+store.EndpointEnv+" is set")
	tmpl := fs.String("template", "", "SAM template with the routes (default: template.yaml here or in a parent directory)")
	table := fs.String("table", envOr("TABLE_NAME", app.DefaultTable), "table name (env TABLE_NAME)")
	newAPI := apiFlags(fs)
	stream := fs.Bool("stream", true, "give the table the deployed table's stream, which the leaderboards' index follows; false leaves the boards empty, and DynamoDB Local writes faster without one (a crowd on one session: 60 joiners p99 2.6 s without, 4.3 s with)")
	if p := os.Getenv("DYNAMODB_PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return usagef("DYNAMODB_PORT=%q is not a port number", p)
		}
		*ddbPort = n
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	// Whoever started us (make) going away stops us too.
	unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	root, err := ddblocal.RepoRoot(".")
	if err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		files = strings.Fields(os.Getenv("FIXTURES"))
	}
	if len(files) == 0 {
		files = []string{filepath.Join(root, demoFixture)}
	}
	ds := readFixtures(files)
	if os.Getenv(store.EndpointEnv) == "" {
		// The DynamoDB Local this run starts is new and empty: every fault
		// of the files, a SCID they use but do not configure included, is
		// reported before anything starts.
		if err := ds.check(ctx, nil, ""); err != nil {
			return err
		}
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("API address %s: %w (set PORT to use another port)", *addr, err)
	}
	defer l.Close()
	// The real-time activity functions post to the WebSocket API's
	// management endpoint, which this API serves (devstack.WithWebSocket).
	os.Setenv(devstack.RTAEndpointEnv, "http://"+l.Addr().String())

	endpoint := os.Getenv(store.EndpointEnv)
	where := "from " + store.EndpointEnv
	var ddbDone <-chan struct{}
	if endpoint == "" {
		// DynamoDB Local has no option to choose its address.
		where = "DynamoDB Local, listening on every interface"
		fmt.Fprintf(os.Stderr, "starting DynamoDB Local on port %d (it listens on every interface) ...\n", *ddbPort)
		srv, err := ddblocal.Start(ctx, root, *ddbPort)
		if err != nil {
			return err
		}
		defer func() {
			srv.Stop()
			fmt.Fprintln(os.Stderr, "stopped DynamoDB Local")
		}()
		endpoint, ddbDone = srv.Endpoint, srv.Done()
	} else {
		fmt.Fprintf(os.Stderr, "using DynamoDB at %s (%s is set)\n", endpoint, store.EndpointEnv)
	}
	st, err := openStore(ctx, *table, endpoint)
	if err != nil {
		return err
	}
	if err := createTable(ctx, st, os.Stderr, *stream); err != nil {
		return err
	}
	if os.Getenv(store.EndpointEnv) != "" {
		// A table of the caller's: its configurations count too (a new
		// DynamoDB Local's table was checked empty above).
		if err := ds.check(ctx, &st, endpoint); err != nil {
			return err
		}
	}
	if err := loadData(ctx, st, endpoint, ds, files, os.Stderr, os.Stderr); err != nil {
		return err
	}
	api, err := newAPI(ctx, *tmpl, *table, endpoint)
	if err != nil {
		return err
	}
	defer func() {
		api.Close()
		fmt.Fprintln(os.Stderr, "stopped the functions")
	}()
	base := "http://" + l.Addr().String()
	fmt.Fprintf(os.Stdout, "ready: local API on %s (DynamoDB %s, %s; table %s). Ctrl-C stops everything.\n", base, endpoint, where, *table)
	for _, c := range tryCommands(base, &ds.data) {
		fmt.Fprintf(os.Stdout, "try:   %s\n", c)
	}
	if ddbDone != nil {
		go func() {
			select {
			case <-ddbDone:
				fmt.Fprintln(os.Stderr, "DynamoDB Local exited; stopping")
				stop()
			case <-ctx.Done():
			}
		}()
	}
	fmt.Fprintf(os.Stdout, "real-time activity: ws://%s/connect (subprotocol rta.xboxlive.com.V2)\n", l.Addr())
	return serveUntilDone(ctx, l, devstack.WithWebSocket(api, os.Stderr))
}

// tryCommands returns copy-paste curl commands against the loaded data,
// each with a freshly minted token.
func tryCommands(base string, ds *xbl.Dataset) []string {
	configs := map[string]xbl.ServiceConfig{}
	for _, c := range ds.Configs {
		configs[c.SCID] = c
	}
	caller := func(x xbl.XUID, scid string) xbl.Caller {
		c := xbl.Caller{XUID: x, UserHash: "dev" + x.String(), TitleID: "1297287135", Sandbox: "RETAIL"}
		if cfg, ok := configs[scid]; ok {
			if len(cfg.TitleIDs) > 0 {
				c.TitleID = cfg.TitleIDs[0]
			}
			if len(cfg.Sandboxes) > 0 {
				c.Sandbox = cfg.Sandboxes[0]
			}
		}
		return c
	}
	var out []string
	if len(ds.Stats) > 0 {
		u := ds.Stats[0]
		names := make([]string, 0, len(u.Stats))
		for n := range u.Stats {
			names = append(names, n)
		}
		sort.Strings(names)
		body, _ := json.Marshal(map[string]any{
			"requestedusers": []string{u.XUID.String()},
			"requestedscids": []map[string]any{{"scid": u.SCID, "requestedstats": names}},
		})
		if tok, err := devkey.Mint(caller(u.XUID, u.SCID), 12*time.Hour); err == nil {
			out = append(out, fmt.Sprintf("curl -s %s -H %s -H 'Content-Type: application/json' -d %s",
				shellQuote(base+"/batch?operation=read"), shellQuote("Authorization: "+tok), shellQuote(string(body))))
		}
	}
	if len(ds.Sessions) > 0 && len(ds.Sessions[0].Members) > 0 {
		ss := ds.Sessions[0]
		x := ss.Members[0].XUID
		if tok, err := devkey.Mint(caller(x, ss.SCID), 12*time.Hour); err == nil {
			out = append(out, fmt.Sprintf("curl -s %s -H %s -H 'x-xbl-contract-version: 107'",
				shellQuote(base+"/serviceconfigs/"+ss.SCID+"/sessions?xuid="+x.String()), shellQuote("Authorization: "+tok)))
		}
	}
	return out
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func runDynamoDB(args []string) error {
	fs := newFlags("dynamodb")
	port := fs.Int("port", 8000, "port (env DYNAMODB_PORT)")
	if p := os.Getenv("DYNAMODB_PORT"); p != "" {
		if n, err := strconv.Atoi(p); err == nil {
			*port = n
		}
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	root, err := ddblocal.RepoRoot(".")
	if err != nil {
		return err
	}
	srv, err := ddblocal.Start(ctx, root, *port)
	if err != nil {
		return err
	}
	defer srv.Stop()
	fmt.Fprintf(os.Stdout, "DynamoDB Local on %s (in memory). Ctrl-C stops it.\n", srv.Endpoint)
	select {
	case <-ctx.Done():
	case <-srv.Done():
		return fmt.Errorf("DynamoDB Local exited")
	}
	return nil
}

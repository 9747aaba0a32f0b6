// Package devstack is the development stack: the table of the stack's
// functions (each wired as its main wires it), and the local API that
// `xblctl serve` runs: the functions' own handlers, built from the
// environment's configuration (trusting the development key when no key is
// configured), behind the routes of template.yaml. xblctl, the benchmarks
// and the test suites share it.
package devstack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/infra/loader"
	"github.com/xblread/xblread/infra/localapi"
	"github.com/xblread/xblread/infra/rie"
	"github.com/xblread/xblread/infra/samtemplate"
	"github.com/xblread/xblread/infra/streams"
	"github.com/xblread/xblread/infra/wsapi"
	"github.com/xblread/xblread/pkg/apigw"
	"github.com/xblread/xblread/pkg/app"
	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/leaderboardsapi"
	"github.com/xblread/xblread/pkg/metrics"
	"github.com/xblread/xblread/pkg/rankstream"
	"github.com/xblread/xblread/pkg/ratelimit"
	"github.com/xblread/xblread/pkg/rta"
	"github.com/xblread/xblread/pkg/rtaapi"
	"github.com/xblread/xblread/pkg/rtastream"
	"github.com/xblread/xblread/pkg/sessionsapi"
	"github.com/xblread/xblread/pkg/sessionswriteapi"
	"github.com/xblread/xblread/pkg/statsapi"
	"github.com/xblread/xblread/pkg/statswriteapi"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/rankstore"
	"github.com/xblread/xblread/pkg/store/rtastore"
	"github.com/xblread/xblread/pkg/store/sessionstore"
	"github.com/xblread/xblread/pkg/store/statstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// Config is the functions' configuration for the local stack: the
// environment's, on the given table and endpoint, marked Local (so that
// the development key may be trusted), with the development key trusted
// when no key is set.
func Config(table, endpoint string) (app.Config, error) {
	c, err := app.ConfigFromEnv()
	if err != nil {
		return c, err
	}
	c.Table, c.Endpoint = table, endpoint
	if c.Client, err = loader.NewClient(context.Background(), endpoint); err != nil {
		return c, err
	}
	if endpoint == "" {
		// AWS's own table: the development key, which anyone can sign
		// with, is not trusted there.
		if !c.HasKeys() {
			return c, errors.New("serving AWS's table needs the real token keys: set AUTH_JWKS_URL or AUTH_PUBLIC_KEYS, AUTH_ISSUER and AUTH_AUDIENCE")
		}
		return c, nil
	}
	c.Local = true
	if !c.HasKeys() {
		c.PEM = string(devkey.PublicPEM)
		c.Issuer, c.Audience = devkey.Issuer, devkey.Audience
	}
	return c, nil
}

// LoadTemplate reads the template at path, or template.yaml here or in the
// nearest parent directory when path is empty.
func LoadTemplate(path string) (*samtemplate.Template, error) {
	if path == "" {
		return samtemplate.LoadNearest(".")
	}
	return samtemplate.Load(path)
}

// Function is one Lambda function of the stack, as the local tooling needs
// it.
type Function struct {
	// Name is the function's directory under functions/.
	Name string
	// LogicalID is the function's resource id in template.yaml.
	LogicalID string
	// Routes are the ServeMux patterns the function's handler serves.
	Routes []string
	// New builds the function's HTTP handler, as its main does.
	New func(*app.Env) http.Handler
}

// Functions are the stack's functions. Each main under functions/ wires
// its own the same way: TestEachMainLinksOnlyItsAPI checks that there is a
// main per entry and that each links its own API's packages and no
// other's; TestRoutesMatchTemplate checks the routes against template.yaml.
var Functions = []Function{
	{
		Name: "statsbatch", LogicalID: "StatsBatchFunction", Routes: statsapi.Routes,
		New: func(e *app.Env) http.Handler {
			return statsapi.New(e.API("statsbatch", ratelimit.UserStats), e.Configs, statstore.New(e.Table))
		},
	},
	{
		Name: "statswrite", LogicalID: "StatsWriteFunction", Routes: statswriteapi.Routes,
		New: func(e *app.Env) http.Handler {
			return statswriteapi.New(e.API("statswrite", ratelimit.StatsWrite), e.Configs, statstore.New(e.Table))
		},
	},
	{
		Name: "sessionsbatch", LogicalID: "SessionsBatchFunction", Routes: sessionsapi.Routes,
		New: func(e *app.Env) http.Handler {
			return sessionsapi.New(e.API("sessionsbatch", ratelimit.SessionDirectory), e.Configs, sessionstore.New(e.Table))
		},
	},
	{
		Name: "sessionswrite", LogicalID: "SessionsWriteFunction", Routes: slices.Concat(sessionswriteapi.Routes, sessionswriteapi.HandleRoutes),
		New: func(e *app.Env) http.Handler {
			return sessionswriteapi.New(e.API("sessionswrite", ratelimit.SessionDirectory), e.Configs, sessionstore.New(e.Table))
		},
	},
	{
		Name: "leaderboards", LogicalID: "LeaderboardsFunction", Routes: leaderboardsapi.Routes,
		New: func(e *app.Env) http.Handler {
			return leaderboardsapi.New(e.API("leaderboards", ratelimit.Leaderboards), e.Configs, rankstore.New(e.Table))
		},
	},
}

// SampleEventStatus is the status a function answers one of its sample
// events (functions/*/events) with, on the demo fixture, the events of a
// function sent in the order of their file names: 201 for a session
// created (PUT with If-None-Match: *) and for a handle posted, 404 for the
// calls by handle id (a handle's id is made when it is posted: the
// samples' id names none), 200 otherwise (the sample leaves leave
// sessions that keep other members).
func SampleEventStatus(routeKey string, headers map[string]string) int {
	method, route, _ := strings.Cut(routeKey, " ")
	switch {
	case method == http.MethodPut && headers["if-none-match"] == "*", routeKey == "POST /handles":
		return http.StatusCreated
	case strings.HasPrefix(route, "/handles/{id}"):
		return http.StatusNotFound
	}
	return http.StatusOK
}

// Lookup finds a function by directory name or logical id.
func Lookup(name string) (Function, bool) {
	for _, f := range Functions {
		if f.Name == name || f.LogicalID == name {
			return f, true
		}
	}
	return Function{}, false
}

// StreamFunction is a function of the stack fed by the table's stream
// (DynamoDB Streams), not by HTTP: make run drives it from DynamoDB
// Local's stream (see startPollers).
type StreamFunction struct {
	// Name is the function's directory under functions/; LogicalID its
	// resource id in template.yaml.
	Name, LogicalID string
	// Keep is the event source mapping's filter, as the template's
	// FilterCriteria write it (TestStreamFilterMatchesTemplate).
	Keep func(*events.DynamoDBEventRecord) bool
	// New builds the function's handler, as its main does.
	New func(*app.Env) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)
}

// StreamFunctions are the stack's stream functions.
var StreamFunctions = []StreamFunction{
	{
		Name: "leaderboardindex", LogicalID: "LeaderboardIndexFunction", Keep: keepStatistics,
		New: func(e *app.Env) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			h := &rankstream.Handler{Index: &leaderboards.Index{Configs: e.Configs, Store: rankstore.New(e.Table)}, Log: e.Log}
			return h.Handle
		},
	},
	{
		Name: "rtanotify", LogicalID: "RtaNotifyFunction", Keep: rtastream.IsDocument,
		New: func(e *app.Env) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			h := &rtastream.Handler{Svc: &rta.Service{Store: rtastore.New(e.Table), Poster: localPoster()}, Log: e.Log}
			return h.Handle
		},
	},
}

// WebSocketFunction is a function of the stack behind the WebSocket API
// (real-time activity): make run serves it at /connect (see WithWebSocket).
type WebSocketFunction struct {
	Name, LogicalID string
	// New builds the function's handler, as its main does.
	New func(*app.Env) func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error)
}

// WebSocketFunctions are the stack's WebSocket functions.
var WebSocketFunctions = []WebSocketFunction{
	{
		Name: "rta", LogicalID: "RtaFunction",
		New: func(e *app.Env) func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			return rtaapi.New(rtastore.New(e.Table), sessionstore.New(e.Table), e.Limiter, e.Verifier, localPoster(), e.Log).Handle
		},
	},
}

// RTAEndpointEnv names the management endpoint of the WebSocket API the
// real-time activity functions post to: make run's own
// (http://127.0.0.1:$PORT, where WithWebSocket serves /@connections).
const RTAEndpointEnv = "RTA_ENDPOINT"

// localPoster posts to make run's management endpoint, unsigned.
// RTAEndpointEnv is read here, when the handler is built: it must be set
// before (up, serve, Start and the benches set it first).
func localPoster() *apigw.Poster {
	return &apigw.Poster{Endpoint: os.Getenv(RTAEndpointEnv)}
}

// lookupWebSocket finds a WebSocket function by directory name or
// logical id.
func lookupWebSocket(name string) (WebSocketFunction, bool) {
	for _, f := range WebSocketFunctions {
		if f.Name == name || f.LogicalID == name {
			return f, true
		}
	}
	return WebSocketFunction{}, false
}

// WithWebSocket serves the local API srv with the WebSocket API's
// stand-in beside it: GET /connect (the upgrade, then every frame) runs
// RtaFunction, and /@connections/{id} is the management endpoint the
// functions post to. Closing srv closes every connection.
func WithWebSocket(srv *localapi.Server, log io.Writer) http.Handler {
	ws := wsapi.New(func(ctx context.Context, payload []byte) ([]byte, error) {
		return srv.InvokeFunction(ctx, WebSocketFunctions[0].LogicalID, payload)
	}, log)
	srv.AddCloser(ws.Close)
	mux := http.NewServeMux()
	mux.Handle("/connect", ws)
	mux.Handle("/@connections/", ws)
	mux.Handle("/", srv)
	return mux
}

// lookupStream finds a stream function by directory name or logical id.
func lookupStream(name string) (StreamFunction, bool) {
	for _, f := range StreamFunctions {
		if f.Name == name || f.LogicalID == name {
			return f, true
		}
	}
	return StreamFunction{}, false
}

// dirOf is the directory under functions/ of the function with logical
// id (or name) id, of either table.
func dirOf(id string) (string, bool) {
	if f, ok := Lookup(id); ok {
		return f.Name, true
	}
	if f, ok := lookupStream(id); ok {
		return f.Name, true
	}
	if f, ok := lookupWebSocket(id); ok {
		return f.Name, true
	}
	return "", false
}

// keepStatistics is the stream functions' filter, as the template's
// FilterCriteria write it (TestStreamFilterMatchesTemplate): statistics
// items only.
func keepStatistics(r *events.DynamoDBEventRecord) bool {
	sk := r.Change.Keys[store.AttrSK]
	return sk.DataType() == events.DataTypeString && sk.String() == store.SKStats
}

// startPollers drives each stream function of srv from the table's
// stream, until srv closes; a table without a stream (the suites') drives
// none.
func startPollers(srv *localapi.Server, client *dynamodb.Client, table string, log io.Writer) {
	out, err := client.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil || out.Table.LatestStreamArn == nil {
		return
	}
	for _, f := range StreamFunctions {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		p := &streams.Poller{
			Table: client, Streams: streams.ClientFor(client), Name: table, Keep: f.Keep,
			Invoke: func(ctx context.Context, payload []byte) ([]byte, error) {
				return srv.InvokeFunction(ctx, f.LogicalID, payload)
			},
			Logf: func(format string, args ...any) {
				fmt.Fprintf(log, "[%s stream] "+format+"\n", append([]any{f.LogicalID}, args...)...)
			},
		}
		go func() {
			defer close(done)
			if err := p.Run(ctx); err != nil {
				fmt.Fprintf(log, "[%s stream] %v\n", f.LogicalID, err)
			}
		}()
		srv.AddCloser(func() { cancel(); <-done })
	}
}

// handlers builds every function of the template with the handler its
// Lambda binary runs and its timeout from the template, and returns them
// with the environment they share. Logs and EMF records go to logOut.
func handlers(ctx context.Context, t *samtemplate.Template, table, endpoint string, logOut io.Writer) (map[string]localapi.Function, *app.Env, error) {
	cfg, err := Config(table, endpoint)
	if err != nil {
		return nil, nil, err
	}
	props, err := t.Functions()
	if err != nil {
		return nil, nil, err
	}
	env, err := app.NewEnv(ctx, cfg, app.NewLogger(logOut))
	if err != nil {
		return nil, nil, err
	}
	env.Metrics = metrics.NewWriter(logOut)
	fns := map[string]localapi.Function{}
	for id, p := range props {
		timeout := time.Duration(p.Timeout) * time.Second
		if timeout <= 0 {
			timeout = 3 * time.Second // Lambda's default
		}
		if sf, ok := lookupStream(id); ok {
			h := sf.New(env)
			fns[id] = localapi.Function{New: func() lambda.Handler { return lambda.NewHandler(h) }, Timeout: timeout}
			continue
		}
		if wf, ok := lookupWebSocket(id); ok {
			h := wf.New(env)
			fns[id] = localapi.Function{New: func() lambda.Handler { return lambda.NewHandler(h) }, Timeout: timeout}
			continue
		}
		f, ok := Lookup(id)
		if !ok {
			return nil, nil, fmt.Errorf("template function %s is not in devstack.Functions", id)
		}
		fn := app.Lambda(f.New(env))
		fns[id] = localapi.Function{New: func() lambda.Handler { return lambda.NewHandler(fn) }, Timeout: timeout}
	}
	return fns, env, nil
}

// NewServer builds the local API from the template at templatePath (see
// LoadTemplate).
func NewServer(ctx context.Context, templatePath, table, endpoint string, logOut io.Writer) (*localapi.Server, error) {
	srv, _, err := newServer(ctx, templatePath, table, endpoint, logOut)
	return srv, err
}

// newServer is NewServer, with the environment its functions share.
func newServer(ctx context.Context, templatePath, table, endpoint string, logOut io.Writer) (*localapi.Server, *app.Env, error) {
	t, err := LoadTemplate(templatePath)
	if err != nil {
		return nil, nil, err
	}
	routes, err := t.Routes()
	if err != nil {
		return nil, nil, err
	}
	fns, env, err := handlers(ctx, t, table, endpoint, logOut)
	if err != nil {
		return nil, nil, err
	}
	srv, err := localapi.New(routes, fns, app.NewLogger(logOut))
	if err != nil {
		return nil, nil, err
	}
	if endpoint != "" {
		startPollers(srv, env.Table.Client, table, logOut)
	}
	return srv, env, nil
}

// NewHTTPServer serves h as the local API does: with limits on how long a
// client may take to send its headers and body or keep an idle connection,
// so that a slow or stalled client cannot hold the server.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// Stack is a local API over a table of its own, on a loopback port.
type Stack struct {
	// URL is the API's base URL; Table the table it reads.
	URL, Table string
	client     *dynamodb.Client
	server     *http.Server
	listener   net.Listener
	api        *localapi.Server
	env        *app.Env // the functions'
}

// Start creates a new table on endpoint, loads ds into it and serves the
// local API for it, its logs and EMF records to logOut. Close undoes both.
func Start(ctx context.Context, endpoint string, ds *xbl.Dataset, logOut io.Writer) (*Stack, loader.Result, error) {
	return StartWithProgress(ctx, endpoint, ds, logOut, nil)
}

// StartWithProgress is Start, with loader.Load's progress hook (items
// written of the total) while ds loads.
func StartWithProgress(ctx context.Context, endpoint string, ds *xbl.Dataset, logOut io.Writer, progress func(done, total int)) (*Stack, loader.Result, error) {
	var res loader.Result
	client, err := store.NewClient(ctx, endpoint)
	if err != nil {
		return nil, res, err
	}
	s := &Stack{Table: fmt.Sprintf("local-%d", time.Now().UnixNano()), client: client}
	if _, err := loader.CreateTableWithoutStream(ctx, client, s.Table); err != nil {
		return nil, res, err
	}
	if res, err = loader.Load(ctx, store.Table{Client: client, Name: s.Table}, ds, progress); err != nil {
		s.Close()
		return nil, res, err
	}
	if s.listener, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		s.Close()
		return nil, res, err
	}
	os.Setenv(RTAEndpointEnv, "http://"+s.listener.Addr().String()) // see WithWebSocket
	srv, env, err := newServer(ctx, "", s.Table, endpoint, logOut)
	if err != nil {
		s.Close()
		return nil, res, err
	}
	s.api, s.env = srv, env
	l := s.listener
	s.server = NewHTTPServer(WithWebSocket(srv, logOut))
	go s.server.Serve(l)
	s.URL = "http://" + l.Addr().String()
	return s, res, nil
}

// CloseIdle ends what the stack keeps for the next requests: its idle warm
// instances (as Lambda reclaims idle environments) and the functions' idle
// connections to DynamoDB. What is left running after it is not a pool:
// the load test's leak check counts goroutines after it.
func (s *Stack) CloseIdle() {
	s.api.CloseIdle()
	if c, ok := s.env.Table.Client.Options().HTTPClient.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// Close stops serving and deletes the table.
func (s *Stack) Close() {
	switch {
	case s.server != nil:
		s.server.Close()
	case s.listener != nil:
		s.listener.Close()
	}
	s.client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(s.Table)})
}

// EnvVarsFile is the --env-vars file of sam local (and of the emulated
// stack, by default), relative to the repository's root.
const EnvVarsFile = "infra/sam/env.json"

// Emulated are the settings of a stack whose functions run as their real
// bootstraps under the Runtime Interface Emulator (see NewEmulatedServer).
type Emulated struct {
	// Root is the repository's root: the binaries are built from it.
	Root string
	// BinDir is where the emulator and the bootstraps are built (default
	// Root/.local/rie).
	BinDir string
	// EnvVars are the --env-vars file's values (see rie.Environment):
	// infra/sam/env.json's for `make run`.
	EnvVars rie.EnvFile
	// Shell gives a declared variable its value from the caller's
	// environment, below EnvVars (os.LookupEnv for `make run`); nil for
	// none.
	Shell func(string) (string, bool)
	// Fixed are set over everything (for the benchmarks: RATE_LIMITS=off).
	Fixed map[string]string
	// Log receives the functions' lines, prefixed by their names, a line
	// per Write, from several goroutines at once: it must be safe for
	// concurrent use (os.Stderr is).
	Log io.Writer
	// MaxInstances bounds each function's emulators
	// (rie.DefaultMaxInstances when 0).
	MaxInstances int
}

// EmulatedFunctions builds the emulator and every function of the
// template for this machine, and returns for each a pool of emulators
// running its bootstrap with the environment the template gives it (see
// rie.Environment), or for the functions only names by logical id, on
// table at endpoint (which are set over the
// environment: an env vars file written for sam local's Docker network
// cannot know them). Close the pools (localapi.Server.Close) when done.
func EmulatedFunctions(ctx context.Context, t *samtemplate.Template, table, endpoint string, e Emulated, only ...string) (map[string]localapi.Function, error) {
	props, err := t.Functions()
	if err != nil {
		return nil, err
	}
	if len(only) > 0 {
		for _, id := range only {
			if _, ok := props[id]; !ok {
				return nil, fmt.Errorf("function %s is not in the template", id)
			}
		}
		maps.DeleteFunc(props, func(id string, _ samtemplate.FunctionProps) bool { return !slices.Contains(only, id) })
	}
	var names []string
	for id := range props {
		name, ok := dirOf(id)
		if !ok {
			return nil, fmt.Errorf("template function %s is not in devstack.Functions or StreamFunctions", id)
		}
		names = append(names, name)
	}
	dir := cmp.Or(e.BinDir, filepath.Join(e.Root, ".local", "rie"))
	bins, err := rie.Build(ctx, e.Root, dir, names...)
	if err != nil {
		return nil, err
	}
	fixed := map[string]string{"TABLE_NAME": table, store.EndpointEnv: endpoint}
	if v := os.Getenv(RTAEndpointEnv); v != "" {
		fixed[RTAEndpointEnv] = v // this API's own (WithWebSocket)
	}
	maps.Copy(fixed, e.Fixed)
	envs := map[string][]string{}
	for id, p := range props {
		f, _ := Lookup(id)
		env := rie.Environment(t, id, p, rie.EnvOptions{
			Overrides: e.EnvVars, Shell: e.Shell, Fixed: fixed, TaskRoot: filepath.Dir(bins.Bootstrap[f.Name]),
		})
		if endpoint == "" && slices.ContainsFunc(env, func(kv string) bool {
			v, ok := strings.CutPrefix(kv, "AUTH_PUBLIC_KEYS=")
			return ok && strings.Contains(v, strings.TrimSpace(string(devkey.PublicPEM)))
		}) {
			// AWS's own table: the development key, which anyone can
			// sign with, is not trusted there.
			return nil, fmt.Errorf("%s would trust the development key on AWS's table: give the real token keys in an --env-vars file (AUTH_JWKS_URL or AUTH_PUBLIC_KEYS, AUTH_ISSUER, AUTH_AUDIENCE)", id)
		}
		envs[id] = env
	}
	fns := map[string]localapi.Function{}
	for id, p := range props {
		name, _ := dirOf(id)
		timeout := time.Duration(cmp.Or(p.Timeout, 3)) * time.Second
		pool := rie.NewPool(&rie.Function{
			Name: id, Emulator: bins.Emulator, Bootstrap: bins.Bootstrap[name], Env: envs[id],
			Timeout: timeout, Log: e.Log, MaxInstances: e.MaxInstances,
		})
		fns[id] = localapi.Function{Invoker: pool, Timeout: timeout}
	}
	return fns, nil
}

// NewEmulatedServer is NewServer with every function run as its real
// bootstrap under the emulator (EmulatedFunctions): what `make run`
// serves. The access log goes to e.Log. Close the server's pools when
// done.
func NewEmulatedServer(ctx context.Context, templatePath, table, endpoint string, e Emulated) (*localapi.Server, error) {
	t, err := LoadTemplate(templatePath)
	if err != nil {
		return nil, err
	}
	routes, err := t.Routes()
	if err != nil {
		return nil, err
	}
	fns, err := EmulatedFunctions(ctx, t, table, endpoint, e)
	if err != nil {
		return nil, err
	}
	srv, err := localapi.New(routes, fns, app.NewLogger(e.Log))
	if err != nil {
		for _, f := range fns {
			f.Invoker.(*rie.Pool).Close()
		}
		return nil, err
	}
	if endpoint != "" {
		client, err := loader.NewClient(ctx, endpoint)
		if err != nil {
			srv.Close()
			return nil, err
		}
		startPollers(srv, client, table, e.Log)
	}
	return srv, nil
}

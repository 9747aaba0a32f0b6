// Package app wires a function: it reads the configuration from the
// environment, creates the AWS clients once, and builds the handler that
// both the Lambda binary and the local API run.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/metrics"
	"github.com/xblread/xblread/pkg/mpsd"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/userstats"
)

// DefaultTable is the table name when TABLE_NAME is not set.
const DefaultTable = "xblread"

// Config is a function's configuration, from the environment.
type Config struct {
	Table    string // TABLE_NAME
	Endpoint string // AWS_ENDPOINT_URL_DYNAMODB; empty for the SDK's default
	Issuer   string // AUTH_ISSUER
	Audience string // AUTH_AUDIENCE
	JWKS     string // AUTH_JWKS: a JWKS document
	JWKSURL  string // AUTH_JWKS_URL: where to fetch one at start-up
	PEM      string // AUTH_PUBLIC_KEYS: PEM public keys
	// MetricsNamespace is the CloudWatch namespace of the EMF records
	// (METRICS_NAMESPACE, default XblRead).
	MetricsNamespace string
}

// DefaultMetricsNamespace is the namespace when METRICS_NAMESPACE is not set.
const DefaultMetricsNamespace = "XblRead"

// ConfigFromEnv reads the configuration from the environment.
func ConfigFromEnv() Config {
	c := Config{
		Table:    os.Getenv("TABLE_NAME"),
		Endpoint: os.Getenv(store.EndpointEnv),
		Issuer:   os.Getenv("AUTH_ISSUER"),
		Audience: os.Getenv("AUTH_AUDIENCE"),
		JWKS:     os.Getenv("AUTH_JWKS"),
		JWKSURL:  os.Getenv("AUTH_JWKS_URL"),
		PEM:      os.Getenv("AUTH_PUBLIC_KEYS"),

		MetricsNamespace: os.Getenv("METRICS_NAMESPACE"),
	}
	if c.Table == "" {
		c.Table = DefaultTable
	}
	if c.MetricsNamespace == "" {
		c.MetricsNamespace = DefaultMetricsNamespace
	}
	return c
}

// HasKeys reports whether c names any token verification key.
func (c Config) HasKeys() bool { return c.JWKS != "" || c.JWKSURL != "" || c.PEM != "" }

// Deps are what the handlers need, created once per process.
type Deps struct {
	Store    *store.Store
	Verifier *auth.Verifier
	Log      *slog.Logger
	// Metrics receives the EMF records; nil writes none.
	Metrics          *metrics.Writer
	MetricsNamespace string
}

// api returns the HTTP plumbing settings of the named function.
func (d *Deps) api(function string) httpapi.API {
	return httpapi.API{Function: function, Verifier: d.Verifier, Log: d.Log, Metrics: d.Metrics, MetricsNamespace: d.MetricsNamespace}
}

// NewDeps creates the DynamoDB client and the token verifier from c.
// Metrics are left off; set Deps.Metrics to write them.
func NewDeps(ctx context.Context, c Config, log *slog.Logger) (*Deps, error) {
	v, err := NewVerifier(ctx, c)
	if err != nil {
		return nil, err
	}
	client, err := store.NewClient(ctx, c.Endpoint)
	if err != nil {
		return nil, err
	}
	return &Deps{Store: store.New(client, c.Table), Verifier: v, Log: log, MetricsNamespace: c.MetricsNamespace}, nil
}

// NewVerifier builds the token verifier from c's key sources.
func NewVerifier(ctx context.Context, c Config) (*auth.Verifier, error) {
	if !c.HasKeys() {
		return nil, errors.New("no token keys configured: set AUTH_JWKS, AUTH_JWKS_URL or AUTH_PUBLIC_KEYS")
	}
	ks := auth.NewKeySet()
	if c.JWKS != "" {
		if err := ks.AddJWKS([]byte(c.JWKS)); err != nil {
			return nil, fmt.Errorf("AUTH_JWKS: %w", err)
		}
	}
	if c.JWKSURL != "" {
		doc, err := auth.FetchJWKS(ctx, c.JWKSURL)
		if err != nil {
			return nil, err
		}
		if err := ks.AddJWKS(doc); err != nil {
			return nil, fmt.Errorf("AUTH_JWKS_URL: %w", err)
		}
	}
	if c.PEM != "" {
		if err := ks.AddPEM([]byte(c.PEM)); err != nil {
			return nil, fmt.Errorf("AUTH_PUBLIC_KEYS: %w", err)
		}
	}
	v, err := auth.NewVerifier(ks, c.Issuer, c.Audience)
	if err != nil {
		return nil, fmt.Errorf("%w (set AUTH_ISSUER and AUTH_AUDIENCE)", err)
	}
	return v, nil
}

// Function is one Lambda function of the stack.
type Function struct {
	// Name is the function's directory under functions/.
	Name string
	// LogicalID is the function's resource id in template.yaml.
	LogicalID string
	// Routes are the ServeMux patterns the function's handler serves.
	Routes []string
	// New builds the function's HTTP handler.
	New func(*Deps) http.Handler
}

// Functions are the stack's functions.
var Functions = []Function{
	{
		Name: "statsbatch", LogicalID: "StatsBatchFunction", Routes: userstats.Routes,
		New: func(d *Deps) http.Handler {
			return userstats.NewHandler(d.api("statsbatch"), d.Store)
		},
	},
	{
		Name: "sessionsbatch", LogicalID: "SessionsBatchFunction", Routes: mpsd.Routes,
		New: func(d *Deps) http.Handler {
			return mpsd.NewHandler(d.api("sessionsbatch"), d.Store)
		},
	},
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

// LambdaHandler is the handler a function binary gives lambda.Start: it
// takes API Gateway HTTP API payload 2.0 events.
type LambdaHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Lambda adapts an HTTP handler to payload 2.0 events.
func Lambda(h http.Handler) LambdaHandler {
	return httpadapter.NewV2(h).ProxyWithContext
}

// New builds the named function from the environment, as its Lambda
// binary runs it: clients and keys created once, EMF records on standard
// output (where Lambda turns them into metrics).
func New(ctx context.Context, name string, log *slog.Logger) (LambdaHandler, error) {
	f, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("unknown function %q", name)
	}
	d, err := NewDeps(ctx, ConfigFromEnv(), log)
	if err != nil {
		return nil, err
	}
	d.Metrics = metrics.NewWriter(os.Stdout)
	return Lambda(f.New(d)), nil
}

// Package app is what every function's main shares: the configuration from
// the environment, the AWS client and token verifier created once, the
// logger, and the adapter from an HTTP handler to API Gateway events. Each
// main wires its own API with it; app knows none of the APIs.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/configcache"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/metrics"
	"github.com/xblread/xblread/pkg/ratelimit"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/ratestore"
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
	// Local says the function runs on a developer's machine (sam local
	// sets AWS_SAM_LOCAL=true; the local stack sets Local itself): only
	// then may the keys include the development key.
	Local bool
	// MetricsNamespace is the CloudWatch namespace of the EMF records
	// (METRICS_NAMESPACE, default XblRead).
	MetricsNamespace string
	// ConfigCacheTTL is how long an instance trusts a SCID configuration
	// it read (CONFIG_CACHE_TTL_SECONDS, default 60; 0 turns the cache
	// off); ConfigCacheSize how many it keeps (CONFIG_CACHE_SIZE, default
	// 1000).
	ConfigCacheTTL  time.Duration
	ConfigCacheSize int
	// Client, when set, is the DynamoDB client to use instead of one made
	// from the environment by store.NewClient (the local tools set it).
	Client *dynamodb.Client
	// RateLimits are the callers' limits (RATE_LIMITS, RATE_LIMIT_*).
	RateLimits ratelimit.Config
}

// DefaultMetricsNamespace is the namespace when METRICS_NAMESPACE is not set.
const DefaultMetricsNamespace = "XblRead"

// ConfigFromEnv reads the configuration from the environment. A value
// that cannot be read is an error (the function does not start).
func ConfigFromEnv() (Config, error) {
	c := Config{
		Table:    os.Getenv("TABLE_NAME"),
		Endpoint: os.Getenv(store.EndpointEnv),
		Issuer:   os.Getenv("AUTH_ISSUER"),
		Audience: os.Getenv("AUTH_AUDIENCE"),
		JWKS:     os.Getenv("AUTH_JWKS"),
		JWKSURL:  os.Getenv("AUTH_JWKS_URL"),
		PEM:      os.Getenv("AUTH_PUBLIC_KEYS"),
		Local:    os.Getenv("AWS_SAM_LOCAL") == "true",

		MetricsNamespace: os.Getenv("METRICS_NAMESPACE"),

		ConfigCacheTTL:  configcache.DefaultTTL,
		ConfigCacheSize: configcache.DefaultSize,
	}
	rl, err := ratelimit.ConfigFromEnv(os.Getenv)
	c.RateLimits = rl
	if v := os.Getenv("CONFIG_CACHE_TTL_SECONDS"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 0 {
			err = errors.Join(err, fmt.Errorf("CONFIG_CACHE_TTL_SECONDS %q is not a whole number of seconds", v))
		}
		c.ConfigCacheTTL = time.Duration(n) * time.Second
	}
	if v := os.Getenv("CONFIG_CACHE_SIZE"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 {
			err = errors.Join(err, fmt.Errorf("CONFIG_CACHE_SIZE %q is not a positive number", v))
		}
		c.ConfigCacheSize = n
	}
	if c.Table == "" {
		c.Table = DefaultTable
	}
	if c.MetricsNamespace == "" {
		c.MetricsNamespace = DefaultMetricsNamespace
	}
	return c, err
}

// HasKeys reports whether c names any token verification key.
func (c Config) HasKeys() bool { return c.JWKS != "" || c.JWKSURL != "" || c.PEM != "" }

// Env is what every function needs, created once per process: the table
// and its client, the cache of SCID configurations over it, the token
// verifier, the logger and the metrics writer.
type Env struct {
	Table   store.Table
	Configs *configcache.Cache
	// Limiter counts each caller's requests; nil limits nothing.
	Limiter  *ratelimit.Limiter
	Verifier *auth.Verifier
	Log      *slog.Logger
	// Metrics receives the EMF records; nil writes none.
	Metrics          *metrics.Writer
	MetricsNamespace string
}

// API returns the HTTP edge settings of the named function.
// API returns the HTTP edge settings of the named function, whose requests
// are limited as service's (one of ratelimit's services).
func (e *Env) API(function, service string) httpapi.API {
	return httpapi.API{
		Function: function, Verifier: e.Verifier, Log: e.Log, Metrics: e.Metrics, MetricsNamespace: e.MetricsNamespace,
		Limiter: e.Limiter, Service: service,
	}
}

// NewEnv creates the DynamoDB client and the token verifier from c.
// Metrics are left off; set Env.Metrics to write them.
func NewEnv(ctx context.Context, c Config, log *slog.Logger) (*Env, error) {
	v, err := NewVerifier(ctx, c, log)
	if err != nil {
		return nil, err
	}
	client := c.Client
	if client == nil {
		var err error
		if client, err = store.NewClient(ctx, c.Endpoint); err != nil {
			return nil, err
		}
	}
	t := store.Table{Client: client, Name: c.Table}
	env := &Env{
		Table: t, Configs: configcache.New(t, c.ConfigCacheTTL, c.ConfigCacheSize),
		Verifier: v, Log: log, MetricsNamespace: c.MetricsNamespace,
	}
	if !c.RateLimits.Off {
		env.Limiter = ratelimit.New(ratestore.New(t), c.RateLimits.Limits)
	}
	return env, nil
}

// FromEnvironment is a function binary's set-up: the configuration from
// the environment, clients and keys created once, EMF records on standard
// output (where Lambda turns them into metrics).
func FromEnvironment(ctx context.Context, log *slog.Logger) (*Env, error) {
	c, err := ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	e, err := NewEnv(ctx, c, log)
	if err != nil {
		return nil, err
	}
	e.Metrics = metrics.NewWriter(os.Stdout)
	return e, nil
}

// TableFromEnvironment is the set-up of a function that answers no
// caller (a stream's): the configuration from the environment and its
// table's client, created once. It needs no token keys.
func TableFromEnvironment(ctx context.Context) (store.Table, Config, error) {
	c, err := ConfigFromEnv()
	if err != nil {
		return store.Table{}, c, err
	}
	client := c.Client
	if client == nil {
		if client, err = store.NewClient(ctx, c.Endpoint); err != nil {
			return store.Table{}, c, err
		}
	}
	return store.Table{Client: client, Name: c.Table}, c, nil
}

// NewVerifier builds the token verifier from c's key sources. Skipped
// keys and refetches of AUTH_JWKS_URL are logged to log (nil: discarded).
// Unless c.Local, the keys must not include the development key.
func NewVerifier(ctx context.Context, c Config, log *slog.Logger) (*auth.Verifier, error) {
	if !c.HasKeys() {
		return nil, errors.New("no token keys configured: set AUTH_JWKS, AUTH_JWKS_URL or AUTH_PUBLIC_KEYS")
	}
	ks := auth.NewKeySet()
	ks.Log = log
	if !c.Local {
		ks.Forbid(auth.DevKeyThumbprint)
	}
	keyErr := func(source string, err error) error {
		if errors.Is(err, auth.ErrForbiddenKey) {
			return fmt.Errorf("%s includes the development key (infra/devkey; its private key is public in the repository), "+
				"which a deployed function must not trust: configure the identity provider's keys in %s instead; "+
				"to run locally on purpose, set AWS_SAM_LOCAL=true (sam local sets it)", source, source)
		}
		return fmt.Errorf("%s: %w", source, err)
	}
	if c.JWKS != "" {
		if err := ks.AddJWKS([]byte(c.JWKS)); err != nil {
			return nil, keyErr("AUTH_JWKS", err)
		}
	}
	if c.JWKSURL != "" {
		if err := ks.AddJWKSURL(ctx, c.JWKSURL); err != nil {
			return nil, keyErr("AUTH_JWKS_URL", err)
		}
	}
	if c.PEM != "" {
		if err := ks.AddPEM([]byte(c.PEM)); err != nil {
			return nil, keyErr("AUTH_PUBLIC_KEYS", err)
		}
	}
	v, err := auth.NewVerifier(ks, c.Issuer, c.Audience)
	if err != nil {
		return nil, fmt.Errorf("%w (set AUTH_ISSUER and AUTH_AUDIENCE)", err)
	}
	return v, nil
}

// LambdaHandler is the handler a function binary gives lambda.Start: it
// takes API Gateway HTTP API payload 2.0 events.
type LambdaHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// eventJSON reads events with encoding/json's rules (the v1 options of
// go-json-experiment, the engine of the coming encoding/json/v2).
var eventJSON = jsonv1.DefaultOptionsV1()

// Invoke implements lambda.Handler, so that lambda.Start and
// lambda.NewHandler call it instead of reading the event by reflection
// with encoding/json: the same event and the same response bytes, in about
// half the time (BenchmarkInvoke). It differs from aws-lambda-go's
// reflection in three ways that API Gateway's events never meet: data after
// the event is an error (aws-lambda-go ignores it), the response reaches
// the Runtime API as application/octet-stream rather than application/json
// (Lambda hands the bytes on as they are), and aws-lambda-go's JSON options
// and handler trace hooks do not apply.
func (f LambdaHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := jsonv2.Unmarshal(payload, &ev, eventJSON); err != nil {
		return nil, err
	}
	resp, err := f(ctx, ev)
	if err != nil {
		return nil, err
	}
	// As aws-lambda-go writes it: encoding/json, no HTML escaping (and
	// faster than the v2 engine for this small fixed shape).
	return httpapi.Marshal(resp)
}

// Lambda adapts an HTTP handler to payload 2.0 events. API Gateway's HTTP
// API hands the function rawPath percent-decoded (a path segment "a%20b"
// arrives as "a b", "%25" as "%"), which the adapter would otherwise parse
// as a URL: a '%', '?' or '#' in it would fail the invocation or cut the
// path. Lambda escapes the path back, segment by segment, so that the
// handler's path values are what the caller meant.
func Lambda(h http.Handler) LambdaHandler {
	proxy := httpadapter.NewV2(h).ProxyWithContext
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		ev.RawPath = EscapePath(ev.RawPath)
		ev.RequestContext.HTTP.Path = EscapePath(ev.RequestContext.HTTP.Path)
		return proxy(ctx, ev)
	}
}

// EscapePath escapes a decoded path for a URL: each segment as
// url.PathEscape does, the slashes kept.
func EscapePath(decoded string) string {
	for i := 0; i < len(decoded); i++ {
		if c := decoded[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("/-_.~$&+,;=:@()", c) >= 0) {
			segs := strings.Split(decoded, "/")
			for j, s := range segs {
				segs[j] = url.PathEscape(s)
			}
			return strings.Join(segs, "/")
		}
	}
	return decoded // the common case: nothing to escape
}

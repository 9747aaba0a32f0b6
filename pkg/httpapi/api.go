package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/metrics"
)

// RequestIDHeader carries the request id in every response; the same id is
// in every log line of the request (as requestId) and is Lambda's request id.
const RequestIDHeader = "X-Request-Id"

// API is one function's HTTP plumbing.
type API struct {
	// Name names the API in logs.
	Name string
	// Function names the Lambda function serving the API: the Function
	// dimension of its metrics ("local" when empty).
	Function string
	// Format is how error bodies are written.
	Format Format
	// Verifier checks every request's Authorization header.
	Verifier *auth.Verifier
	// Log receives one line per request, and the details of failures.
	Log *slog.Logger
	// Metrics, when set, receives one EMF record per request in the
	// namespace MetricsNamespace, dimensioned by API and route.
	Metrics          *metrics.Writer
	MetricsNamespace string
}

// HandlerFunc handles a request and returns an error instead of writing one.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts h to http.Handler: an error it returns is written with
// the API's format.
func (a *API) Handle(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.Fail(w, r, err)
		}
	})
}

// Fail writes err as an error response and logs what the caller does not see.
func (a *API) Fail(w http.ResponseWriter, r *http.Request, err error) {
	p := Classify(err)
	ctx := r.Context()
	switch {
	case p.Status >= 500 || p.Status == http.StatusRequestTimeout:
		a.Log.ErrorContext(ctx, "request failed", "status", p.Status, "error", err.Error())
	case p.Check != "":
		a.Log.WarnContext(ctx, "unauthorized", "check", p.Check, "error", err.Error())
	default:
		a.Log.InfoContext(ctx, "request refused", "status", p.Status, "error", err.Error())
	}
	if p.Status == 499 {
		return
	}
	writeProblem(w, a.Format, p)
}

// Wrap returns mux behind the shared middleware: request id, default
// headers, panic recovery, the deadline, authentication, a log line and a
// metrics record per request. Handlers find the caller with
// auth.FromContext and the metrics record with metrics.FromContext.
func (a *API) Wrap(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, id := withRequestID(r.Context())
		route := "unmatched"
		if _, p := mux.Handler(r); p != "" && p != "/" {
			route = p
		}
		var m *metrics.Record
		if a.Metrics != nil {
			m = metrics.New(a.MetricsNamespace)
			fn := a.Function
			if fn == "" {
				fn = "local"
			}
			m.Dimension("Function", fn)
			m.Dimension("Route", route)
			m.Property("requestId", id)
			ctx = metrics.NewContext(ctx, m)
		}
		var cancel context.CancelFunc = func() {}
		if d, ok := ctx.Deadline(); ok {
			ctx, cancel = context.WithDeadline(ctx, d.Add(-deadlineMargin))
		}
		defer cancel()
		r = r.WithContext(ctx)

		rec := &recorder{ResponseWriter: w}
		hd := rec.Header()
		hd.Set(RequestIDHeader, id)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Cache-Control", "no-store")
		defer func() {
			if v := recover(); v != nil {
				a.Log.ErrorContext(ctx, "panic", "panic", v, "stack", string(debug.Stack()))
				if rec.status == 0 {
					writeProblem(rec, a.Format, Problem{Status: http.StatusInternalServerError, Message: "internal error"})
				}
			}
			elapsed := float64(time.Since(start).Microseconds()) / 1000
			a.Log.InfoContext(ctx, "request",
				"api", a.Name, "route", route, "method", r.Method, "path", r.URL.Path, "status", rec.status,
				"bytes", rec.bytes, "durationMs", elapsed)
			if m != nil {
				m.Add("Requests", 1, metrics.Count)
				m.Add("Latency", elapsed, metrics.Milliseconds)
				m.Add("Status5xx", b2f(rec.status >= 500), metrics.Count)
				m.Add("Status4xx", b2f(rec.status >= 400 && rec.status < 500), metrics.Count)
				m.Add("DependencyFailures", b2f(rec.status == http.StatusServiceUnavailable), metrics.Count)
				m.Add("Timeouts", b2f(rec.status == http.StatusRequestTimeout), metrics.Count)
				m.Property("status", rec.status)
				if err := a.Metrics.Write(m); err != nil {
					a.Log.ErrorContext(ctx, "metrics record refused", "error", err.Error())
				}
			}
		}()

		caller, err := a.Verifier.Verify(r.Header.Get("Authorization"))
		if err != nil {
			a.Fail(rec, r, err)
			return
		}
		mux.ServeHTTP(rec, r.WithContext(auth.NewContext(ctx, caller)))
	})
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// withRequestID returns the request's id: Lambda's request id when running
// in Lambda (or behind xblctl serve), else a new one, which it stores in a
// Lambda context so that logging finds it the same way in both cases.
func withRequestID(ctx context.Context) (context.Context, string) {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return ctx, lc.AwsRequestID
	}
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	return lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: id}), id
}

// recorder remembers the status and size of a response for the log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// NotFound answers a path that no route of the API serves.
func (a *API) NotFound() http.Handler {
	return a.Handle(func(w http.ResponseWriter, r *http.Request) error {
		return Errorf(http.StatusNotFound, "no route for %s %s", r.Method, r.URL.EscapedPath())
	})
}

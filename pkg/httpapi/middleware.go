package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/metrics"
	"github.com/xblread/xblread/pkg/ratelimit"
)

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain returns h behind mws, the first outermost.
func Chain(h http.Handler, mws ...Middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// exchange is what the middleware learns of one request: its id, route and
// start, and the status and size of the response.
type exchange struct {
	http.ResponseWriter
	id     string
	route  string
	start  time.Time
	status int
	bytes  int
}

func (e *exchange) WriteHeader(status int) {
	if e.status == 0 {
		e.status = status
	}
	e.ResponseWriter.WriteHeader(status)
}

func (e *exchange) Write(b []byte) (int, error) {
	if e.status == 0 {
		e.status = http.StatusOK
	}
	n, err := e.ResponseWriter.Write(b)
	e.bytes += n
	return n, err
}

type exchangeKey struct{}

func exchangeOf(r *http.Request) *exchange {
	if e, ok := r.Context().Value(exchangeKey{}).(*exchange); ok {
		return e
	}
	return &exchange{route: "unmatched", start: time.Now()}
}

// RequestID starts the exchange: it gives the request its id (Lambda's
// request id, or a new one outside Lambda, stored the way Lambda stores it
// so that logs find it either way), sets X-Request-Id and the default
// headers, and records the response's status and size for the middleware
// after it.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, id := withRequestID(r.Context())
		e := &exchange{ResponseWriter: w, id: id, route: "unmatched", start: time.Now()}
		h := w.Header()
		h.Set(RequestIDHeader, id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(e, r.WithContext(context.WithValue(ctx, exchangeKey{}, e)))
	})
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

// Route names the request's route, the mux pattern that matches it, for
// logs and metrics ("unmatched" when none does).
func Route(mux *http.ServeMux) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, p := mux.Handler(r); p != "" && p != "/" {
				exchangeOf(r).route = p
			}
			next.ServeHTTP(w, r)
		})
	}
}

// AccessLog logs one line per request when it ends: route, method, path,
// status, size and duration.
func (a *API) AccessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		e := exchangeOf(r)
		a.Log.InfoContext(r.Context(), "request",
			"api", a.Name, "route", e.route, "method", r.Method, "path", r.URL.Path, "status", e.status,
			"bytes", e.bytes, "durationMs", millis(time.Since(e.start)))
	})
}

// Measure writes one EMF metrics record per request, dimensioned by
// function and route, when the API has a metrics writer. Handlers add to
// the record through metrics.FromContext.
func (a *API) Measure(next http.Handler) http.Handler {
	if a.Metrics == nil {
		return next
	}
	fn := a.Function
	if fn == "" {
		fn = "local"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := exchangeOf(r)
		m := metrics.New(a.MetricsNamespace)
		m.Dimension("Function", fn)
		m.Dimension("Route", e.route)
		m.Property("requestId", e.id)
		next.ServeHTTP(w, r.WithContext(metrics.NewContext(r.Context(), m)))
		m.Add("Requests", 1, metrics.Count)
		m.Add("Latency", millis(time.Since(e.start)), metrics.Milliseconds)
		m.Add("Status5xx", b2f(e.status >= 500), metrics.Count)
		m.Add("Status4xx", b2f(e.status >= 400 && e.status < 500), metrics.Count)
		m.Add("DependencyFailures", b2f(e.status == http.StatusServiceUnavailable), metrics.Count)
		m.Add("Timeouts", b2f(e.status == http.StatusRequestTimeout), metrics.Count)
		m.Add("Throttled", b2f(e.status == http.StatusTooManyRequests), metrics.Count)
		m.Property("status", e.status)
		if err := a.Metrics.Write(m); err != nil {
			a.Log.ErrorContext(r.Context(), "metrics record refused", "error", err.Error())
		}
	})
}

// errPanic is what a recovered panic is answered as.
var errPanic = derrors.New(derrors.Internal, "internal error")

// Recover turns a panic into a logged stack and, if nothing was written
// yet, a 500.
func (a *API) Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				a.Log.ErrorContext(r.Context(), "panic", "panic", v, "stack", string(debug.Stack()))
				if exchangeOf(r).status == 0 {
					writeProblem(w, a.Format, Classify(errPanic))
				}
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// Deadline moves the request's deadline (the function's, in Lambda)
// earlier by margin, so that a request out of time is answered 408 before
// Lambda ends the invocation.
func Deadline(margin time.Duration) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d, ok := r.Context().Deadline()
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			ctx, cancel := context.WithDeadline(r.Context(), d.Add(-margin))
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// Authenticate verifies the Authorization header and puts the caller in
// the request's context; a request without a valid token gets a 401.
func (a *API) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, err := a.Verifier.Verify(r.Header.Get("Authorization"))
		if err != nil {
			a.Fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.NewContext(r.Context(), caller)))
	})
}

// RateLimit counts the caller's request against its limit, concurrently
// with the request's own work, so that an allowed request waits for no
// extra round trip: the handler answers into a buffer, and the answer is
// sent if the count allows it, else a 429 replaces it. A caller this
// instance knows to be over its limit is refused at once, with no call at
// all. The writes of an API marked Writes are counted before the handler
// runs instead: a refused write changes nothing. If the count fails
// (DynamoDB throttled or down), the request is served all the same, and a
// RateLimiterErrors metric and a log line say so.
func (a *API) RateLimit(next http.Handler) http.Handler {
	if a.Limiter == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		caller, _ := auth.FromContext(ctx)
		if err := a.Limiter.Known(a.Service, caller); err != nil {
			a.Fail(w, r, err)
			return
		}
		if a.Writes && r.Method != http.MethodGet {
			// A write is counted first: a refused one must change nothing.
			if a.refused(w, r, a.Limiter.Check(ctx, a.Service, caller)) {
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		counted := make(chan error, 1)
		go func() { counted <- a.Limiter.Check(ctx, a.Service, caller) }()
		buf := &buffered{header: http.Header{}}
		next.ServeHTTP(buf, r)
		var err error
		select {
		case err = <-counted:
		case <-ctx.Done(): // the count is late: serve what the handler answered
			err = ctx.Err()
		}
		if a.refused(w, r, err) {
			return
		}
		buf.flush(w)
	})
}

// refused answers the request with a 429 when the count err says the
// caller is over its limit. Any other failure of the count is logged and
// counted, and the request served unlimited.
func (a *API) refused(w http.ResponseWriter, r *http.Request, err error) bool {
	var ex *ratelimit.Exceeded
	switch {
	case errors.As(err, &ex):
		a.Fail(w, r, err)
		return true
	case err != nil:
		a.Log.ErrorContext(r.Context(), "rate limiter failed: request served unlimited", "error", err.Error())
		metrics.FromContext(r.Context()).Add("RateLimiterErrors", 1, metrics.Count)
	}
	return false
}

// buffered holds a response until it may be sent.
type buffered struct {
	header http.Header
	status int
	body   []byte
}

func (b *buffered) Header() http.Header { return b.header }

func (b *buffered) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *buffered) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	b.body = append(b.body, p...)
	return len(p), nil
}

func (b *buffered) flush(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range b.header {
		h[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	w.Write(b.body)
}

// NoRedirect answers a path with "." or ".." segments or an empty segment
// ("/a//b") with a 404 itself: http.ServeMux would redirect it to its
// cleaned form, which may be another route (/serviceconfigs/../batch).
func (a *API) NoRedirect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if unclean(r.URL.Path) {
			a.Fail(w, r, derrors.New(derrors.NotFound, "no route for %s %s: the path has empty, . or .. segments", r.Method, r.URL.EscapedPath()))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// unclean reports whether path has a ".", ".." or empty segment (a
// trailing slash aside).
func unclean(path string) bool {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, s := range segs {
		if s == "." || s == ".." || s == "" && i < len(segs)-1 {
			return true
		}
	}
	return false
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

package httpapi

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/jsonpath"
	"github.com/xblread/xblread/pkg/metrics"
	"github.com/xblread/xblread/pkg/ratelimit"
)

// RequestIDHeader carries the request id in every response; the same id is
// in every log line of the request (as requestId) and is Lambda's request id.
const RequestIDHeader = "X-Request-Id"

// deadlineMargin is the time kept back from the function's deadline to
// answer 408 before Lambda kills the invocation.
const deadlineMargin = 300 * time.Millisecond

// API is one function's HTTP edge settings.
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
	// namespace MetricsNamespace, dimensioned by function and route.
	Metrics          *metrics.Writer
	MetricsNamespace string
	// Limiter, when set, limits each caller's requests to Service (one of
	// ratelimit's services).
	Limiter *ratelimit.Limiter
	Service string
	// Writes marks an API whose handlers change data: its requests other
	// than GET are counted before the handler runs, so that a refused
	// request changes nothing (the reads' count runs beside the handler).
	Writes bool
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

// Fail writes err as an error response and logs what the caller does not
// see: the cause of a 5xx or 408 as an error, an authentication failure's
// check as a warning, other refusals as information.
func (a *API) Fail(w http.ResponseWriter, r *http.Request, err error) {
	p := Classify(err)
	ctx := r.Context()
	var ae *auth.Error
	switch {
	case p.Status >= 500 || p.Status == http.StatusRequestTimeout:
		a.Log.ErrorContext(ctx, "request failed", "status", p.Status, "error", err.Error())
	case errors.As(err, &ae):
		a.Log.WarnContext(ctx, "unauthorized", "check", ae.Check, "error", err.Error())
	default:
		a.Log.InfoContext(ctx, "request refused", "status", p.Status, "error", err.Error())
	}
	if p.Status == StatusClientClosed {
		return
	}
	var ex *ratelimit.Exceeded
	if errors.As(err, &ex) {
		writeThrottled(w, p.Status, ex)
		return
	}
	writeProblem(w, a.Format, p)
}

// Wrap puts mux behind the API's middleware, outermost first. Handlers
// find the caller with auth.FromContext and the metrics record with
// metrics.FromContext.
func (a *API) Wrap(mux *http.ServeMux) http.Handler {
	return Chain(mux,
		RequestID,
		Route(mux),
		a.Measure,
		a.AccessLog,
		a.Recover,
		Deadline(deadlineMargin),
		a.Authenticate,
		a.RateLimit,
		a.NoRedirect,
	)
}

// NotFound answers a path that no route of the API serves.
func (a *API) NotFound() http.Handler {
	return a.Handle(func(w http.ResponseWriter, r *http.Request) error {
		return derrors.New(derrors.NotFound, "no route for %s %s", r.Method, r.URL.EscapedPath())
	})
}

// ReadBody reads r's body of at most limit bytes; a longer or unreadable
// one is Invalid.
func ReadBody(r *http.Request, limit int) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, derrors.New(derrors.Invalid, "request body could not be read")
	}
	if len(body) > limit {
		return nil, derrors.New(derrors.Invalid, "request body exceeds the limit of %d bytes", limit)
	}
	return body, nil
}

// ContractVersion reads the required x-xbl-contract-version header, a
// version of at least min (Invalid otherwise, naming the problem).
func ContractVersion(r *http.Request, min int) (int, error) {
	vals := r.Header.Values("X-Xbl-Contract-Version")
	if len(vals) == 0 {
		return 0, derrors.New(derrors.Invalid, "x-xbl-contract-version header is required (%d or later)", min)
	}
	v, err := strconv.Atoi(strings.TrimSpace(vals[0]))
	if len(vals) > 1 || err != nil {
		return 0, derrors.New(derrors.Invalid, "x-xbl-contract-version %q is not a version number", jsonpath.Clip(strings.Join(vals, ",")))
	}
	if v < min {
		return 0, derrors.New(derrors.Invalid, "x-xbl-contract-version %d is not supported; use %d or later", v, min)
	}
	return v, nil
}

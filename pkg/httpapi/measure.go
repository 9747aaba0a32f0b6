package httpapi

import (
	"net/http"
	"time"

	"github.com/xblread/xblread/pkg/metrics"
)

// millis is d in milliseconds, as the metrics and logs give durations.
func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// b2f is 1 for true, 0 for false: a count metric of one request.
func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
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

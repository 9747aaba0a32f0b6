package httpapi

import (
	"net/http"
	"time"
)

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

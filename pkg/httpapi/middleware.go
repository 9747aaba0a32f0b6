package httpapi

import (
	"net/http"
	"time"
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

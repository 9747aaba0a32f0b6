package httpapi

import (
	"errors"
	"net/http"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/metrics"
	"github.com/xblread/xblread/pkg/ratelimit"
)

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

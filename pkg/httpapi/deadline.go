package httpapi

import (
	"context"
	"net/http"
	"time"
)

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

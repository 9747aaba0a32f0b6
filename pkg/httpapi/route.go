package httpapi

import "net/http"

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

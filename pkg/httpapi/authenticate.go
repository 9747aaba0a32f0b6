package httpapi

import (
	"net/http"

	"github.com/xblread/xblread/pkg/auth"
)

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

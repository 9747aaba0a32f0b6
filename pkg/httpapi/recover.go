package httpapi

import (
	"net/http"
	"runtime/debug"

	"github.com/xblread/xblread/pkg/derrors"
)

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

// errPanic is what a recovered panic is answered as.
var errPanic = derrors.New(derrors.Internal, "internal error")

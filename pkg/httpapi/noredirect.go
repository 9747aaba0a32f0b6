package httpapi

import (
	"net/http"
	"strings"

	"github.com/xblread/xblread/pkg/derrors"
)

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

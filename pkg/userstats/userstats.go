// Package userstats serves the user statistics API: POST /batch and the
// single-user GET /users/xuid({xuid})/scids/{scid}/stats/{names}.
package userstats

import (
	"net/http"

	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/store"
)

// Routes are the ServeMux patterns the API serves; template.yaml routes
// the same method and path to this function.
var Routes = []string{
	"POST /batch",
	"GET /users/{user}/scids/{scid}/stats/{names}",
}

// NewHandler returns the API's handler. Errors are JSON bodies
// {"errorCode": <status>, "errorMessage": "<text>"}.
func NewHandler(api httpapi.API, st *store.Store) http.Handler {
	api.Name = "userstats"
	api.Format = httpapi.JSON
	mux := http.NewServeMux()
	for _, route := range Routes {
		mux.Handle(route, api.NotBuilt(route))
	}
	mux.Handle("/", api.NotFound())
	return api.Wrap(mux)
}

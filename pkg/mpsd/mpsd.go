// Package mpsd serves the multiplayer session directory's batch query: the
// sessions a list of players belongs to, with filters, for one SCID.
package mpsd

import (
	"net/http"

	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/store"
)

// Routes are the ServeMux patterns the API serves; template.yaml routes
// the same method and path to this function.
var Routes = []string{
	"POST /serviceconfigs/{scid}/batch",
	"POST /serviceconfigs/{scid}/sessiontemplates/{template}/batch",
	"GET /serviceconfigs/{scid}/sessions",
	"GET /serviceconfigs/{scid}/sessiontemplates/{template}/sessions",
}

// NewHandler returns the API's handler. Errors are text/plain bodies.
func NewHandler(api httpapi.API, st *store.Store) http.Handler {
	api.Name = "mpsd"
	api.Format = httpapi.Text
	mux := http.NewServeMux()
	for _, route := range Routes {
		mux.Handle(route, api.NotBuilt(route))
	}
	mux.Handle("/", api.NotFound())
	return api.Wrap(mux)
}

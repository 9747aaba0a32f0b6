package userstats

import (
	"net/http"
	"slices"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/xbl"
)

// checkAccess decides whether the caller may read the stats of one
// requested SCID, whose configuration is cfg (nil when it has none):
//   - an SCID without configuration: 404;
//   - a caller whose sandbox is not one of the SCID's: 403;
//   - a restricted stat (or one the configuration does not name) requested
//     by a title that does not own the SCID: 403, naming SCID and stat.
//
// Open stats are readable by any caller authorized to the sandbox.
func checkAccess(cfg *xbl.ServiceConfig, sr scidRequest, c *auth.Caller) error {
	if cfg == nil {
		return httpapi.Errorf(http.StatusNotFound, "scid %s has no service configuration", sr.Raw)
	}
	if !slices.Contains(cfg.Sandboxes, c.Sandbox) {
		return httpapi.Errorf(http.StatusForbidden, "sandbox %q is not authorized for scid %s", c.Sandbox, sr.Raw)
	}
	if slices.Contains(cfg.TitleIDs, c.TitleID) {
		return nil
	}
	for _, name := range sr.Stats {
		if cfg.Stats[name] != xbl.Open {
			return httpapi.Errorf(http.StatusForbidden, "stat %q of scid %s is restricted to the titles that own the scid", name, sr.Raw)
		}
	}
	return nil
}

// Package leaderboardsapi is the HTTP edge of the leaderboards: XSAPI's
// global leaderboard query over a title-managed statistic,
// GET /scids/{scid}/leaderboards/stat({name}) (contract 4.1), and its
// social forms, which are refused (the service has no people graph). It
// checks the version, reads the query string once, asks a
// leaderboards.Service for the page and writes it as XSAPI parses it.
package leaderboardsapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/jsonpath"
	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/metrics"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/xbl"
)

// Name names the API in logs.
const Name = "leaderboards"

// Routes are the ServeMux patterns the API serves; template.yaml routes
// the same method and path to this function.
var Routes = []string{
	"GET /scids/{scid}/leaderboards/{board}",
	"GET /users/{user}/scids/{scid}/stats/{stat}/people/{group}",
}

type handler struct {
	api    *httpapi.API
	boards *leaderboards.Service
}

// New returns the API's handler, reading SCID configurations from configs
// (usually a configcache.Cache) and the ranking from r; when r also reads
// statistics (a stats.Reader, as rankstore and memstore are), rows carry
// the players' other statistics on include=valuemetadata. Errors are JSON
// bodies {"errorCode": <status>, "errorMessage": "<text>"}.
func New(api httpapi.API, configs xbl.ConfigReader, r leaderboards.Ranking) http.Handler {
	api.Name = Name
	api.Format = httpapi.JSON
	svc := &leaderboards.Service{Configs: configs, Ranking: r}
	svc.Stats, _ = r.(stats.Reader)
	h := &handler{api: &api, boards: svc}
	mux := http.NewServeMux()
	mux.Handle(Routes[0], api.Handle(h.global))
	mux.Handle(Routes[1], api.Handle(h.social))
	mux.Handle("/", api.NotFound())
	return api.Wrap(mux)
}

// errNoPeople refuses the social forms.
var errNoPeople = derrors.New(derrors.NotFound, "social leaderboards (view=People, and /users/xuid(...)/scids/.../people/...) are not served: this service has no people graph; query the global leaderboard")

// checkVersion accepts the contract version XSAPI sends for a form (4.1
// for the global query), or none.
func checkVersion(r *http.Request, want string) error {
	v, ok := r.Header[http.CanonicalHeaderKey("X-Xbl-Contract-Version")]
	if !ok {
		return nil
	}
	if len(v) != 1 || strings.TrimSpace(v[0]) != want {
		return derrors.New(derrors.Unsupported, "x-xbl-contract-version %q is not supported; use %s", jsonpath.Clip(strings.Join(v, ",")), want)
	}
	return nil
}

func (h *handler) global(w http.ResponseWriter, r *http.Request) error {
	if err := checkVersion(r, "4.1"); err != nil {
		return err
	}
	req, err := parseGlobal(r.PathValue("scid"), r.PathValue("board"), r.URL.RawQuery)
	if err != nil {
		return err
	}
	page, err := h.read(r.Context(), req)
	if err != nil {
		return err
	}
	body, err := httpapi.Marshal(render(page))
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Cache-Control", "private, no-cache")
	hd.Set("Content-Type", "application/json; charset=utf-8")
	_, err = w.Write(body)
	return err
}

// social refuses the social form after checking what it names, so that a
// malformed request is still told what is wrong with it.
func (h *handler) social(w http.ResponseWriter, r *http.Request) error {
	if err := checkVersion(r, "2.1"); err != nil {
		return err
	}
	if _, err := parseSocial(r.PathValue("user"), r.PathValue("scid"), r.PathValue("stat"), r.PathValue("group")); err != nil {
		return err
	}
	return errNoPeople
}

// read answers req and records what it cost in the log and the metrics.
func (h *handler) read(ctx context.Context, req *leaderboards.Request) (*leaderboards.Page, error) {
	caller, _ := auth.FromContext(ctx)
	page, err := h.boards.Read(ctx, caller, req)
	if page != nil {
		u := page.Usage
		h.api.Log.InfoContext(ctx, "dynamodb", "calls", u.Calls, "retries", u.Retries, "items", u.Items,
			"consumedRCU", u.ConsumedRCU, "rows", len(page.Rows))
		m := metrics.FromContext(ctx)
		m.Add("DynamoDBCalls", float64(u.Calls), metrics.Count)
		m.Add("ItemsRead", float64(u.Items), metrics.Count)
		m.Add("ConsumedRCU", u.ConsumedRCU, metrics.Count)
		m.Add("Rows", float64(len(page.Rows)), metrics.Count)
	}
	return page, err
}

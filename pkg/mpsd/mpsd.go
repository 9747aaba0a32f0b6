// Package mpsd serves the multiplayer session directory's batch query: the
// sessions a list of players belongs to, with filters, for one SCID, as
// CONTRACT.md §3 describes it.
package mpsd

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/metrics"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// Name names the API in logs.
const Name = "mpsd"

// Routes are the ServeMux patterns the API serves; template.yaml routes
// the same method and path to this function.
var Routes = []string{
	"POST /serviceconfigs/{scid}/batch",
	"POST /serviceconfigs/{scid}/sessiontemplates/{template}/batch",
	"GET /serviceconfigs/{scid}/sessions",
	"GET /serviceconfigs/{scid}/sessiontemplates/{template}/sessions",
}

// queryConcurrency bounds the Query calls of one request in flight.
const queryConcurrency = 16

// Reader reads sessions and SCID configurations; *store.Store is the
// production Reader.
type Reader interface {
	ReadConfig(ctx context.Context, scid string) (*xbl.ServiceConfig, store.Usage, error)
	UserSessions(ctx context.Context, x xbl.XUID, scid, template string) ([]store.SessionItem, store.Usage, error)
	KeywordSessions(ctx context.Context, scid, keyword, template string) ([]store.SessionItem, store.Usage, error)
}

type handler struct {
	api    *httpapi.API
	reader Reader
}

// NewHandler returns the API's handler. Errors are text/plain bodies.
func NewHandler(api httpapi.API, r Reader) http.Handler {
	api.Name = Name
	api.Format = httpapi.Text
	h := &handler{api: &api, reader: r}
	mux := http.NewServeMux()
	for _, route := range Routes {
		batch := route[:4] == "POST"
		mux.Handle(route, api.Handle(func(w http.ResponseWriter, r *http.Request) error { return h.serve(w, r, batch) }))
	}
	mux.Handle("/", api.NotFound())
	return api.Wrap(mux)
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request, batch bool) error {
	q, err := parseQuery(r, batch)
	if err != nil {
		return err
	}
	if batch {
		if q.XUIDs, err = parseBody(r); err != nil {
			return err
		}
	}
	caller, _ := auth.FromContext(r.Context())
	if err := checkPrivilege(q, caller); err != nil {
		return err
	}
	results, err := h.find(r.Context(), q, caller)
	if err != nil {
		return err
	}
	metrics.FromContext(r.Context()).Add("Results", float64(len(results)), metrics.Count)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(response{Results: results}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return nil
}

// checkPrivilege refuses private=true and reservations=true unless the
// caller has server-level access or is every queried user. It looks at no
// data, so the answer is the same whether or not such sessions exist. A
// keyword query names no user: only a server may ask it for private
// sessions.
func checkPrivilege(q *query, c *auth.Caller) error {
	if !q.Private && !q.Reservations || c.Server {
		return nil
	}
	self := len(q.XUIDs) > 0
	for _, x := range q.XUIDs {
		if x != c.XUID {
			self = false
		}
	}
	if self {
		return nil
	}
	return httpapi.Errorf(http.StatusForbidden, "private and reservations queries are allowed only for the caller's own xuid, or with server access")
}

// find reads the SCID's configuration and the queried sessions at the same
// time, checks the caller's sandbox, and returns the results in order.
func (h *handler) find(ctx context.Context, q *query, c *auth.Caller) ([]result, error) {
	var (
		cfg      *xbl.ServiceConfig
		perXUID  = make([][]store.SessionItem, len(q.XUIDs))
		keyword  []store.SessionItem
		mu       sync.Mutex
		usage    store.Usage
		addUsage = func(u store.Usage) {
			mu.Lock()
			usage.Calls += u.Calls
			usage.ConsumedRCU += u.ConsumedRCU
			mu.Unlock()
		}
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(queryConcurrency)
	g.Go(func() error {
		c, u, err := h.reader.ReadConfig(gctx, q.SCID)
		addUsage(u)
		cfg = c
		return err
	})
	if len(q.XUIDs) == 0 {
		g.Go(func() error {
			items, u, err := h.reader.KeywordSessions(gctx, q.SCID, q.Keyword, q.Template)
			addUsage(u)
			keyword = items
			return err
		})
	}
	for i, x := range q.XUIDs {
		g.Go(func() error {
			items, u, err := h.reader.UserSessions(gctx, x, q.SCID, q.Template)
			addUsage(u)
			perXUID[i] = items
			return err
		})
	}
	err := g.Wait()
	h.api.Log.InfoContext(ctx, "dynamodb", "calls", usage.Calls, "consumedRCU", usage.ConsumedRCU, "xuids", len(q.XUIDs))
	m := metrics.FromContext(ctx)
	m.Add("XUIDs", float64(len(q.XUIDs)), metrics.Count)
	m.Add("DynamoDBCalls", float64(usage.Calls), metrics.Count)
	m.Add("ConsumedRCU", usage.ConsumedRCU, metrics.Count)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		return nil, httpapi.Errorf(http.StatusNotFound, "scid %s has no service configuration", q.SCIDRaw)
	}
	if !slices.Contains(cfg.Sandboxes, c.Sandbox) {
		return nil, httpapi.Errorf(http.StatusForbidden, "sandbox %q is not authorized for scid %s", c.Sandbox, q.SCIDRaw)
	}

	results := []result{}
	if len(q.XUIDs) == 0 {
		sortNewestFirst(keyword)
		for _, si := range keyword {
			if len(results) == q.Take {
				break
			}
			if q.wantSession(&si) {
				results = append(results, q.result(&si, nil))
			}
		}
		return results, nil
	}
	for i, x := range q.XUIDs {
		items := perXUID[i]
		sortNewestFirst(items)
		for _, si := range items {
			if len(results) == q.Take {
				return results, nil
			}
			if q.wantMember(&si) {
				results = append(results, q.result(&si, &x))
			}
		}
	}
	return results, nil
}

// wantSession applies the filters every query has.
func (q *query) wantSession(si *store.SessionItem) bool {
	switch {
	case si.Visibility == xbl.Private && !q.Private:
		return false
	case q.Visibility != "" && si.Visibility != q.Visibility:
		return false
	case q.HasVersion && si.Version > q.Version:
		return false
	case q.Keyword != "" && !slices.Contains(si.Keywords, q.Keyword):
		return false
	}
	return true
}

// wantMember adds the member filters of a query by xuid: active members
// always, inactive and reserved ones when asked for.
func (q *query) wantMember(si *store.SessionItem) bool {
	switch si.Status {
	case xbl.Active:
	case xbl.Inactive:
		if !q.Inactive {
			return false
		}
	case xbl.Reserved:
		if !q.Reservations {
			return false
		}
	default:
		return false
	}
	return q.wantSession(si)
}

// sortNewestFirst orders sessions by start time, newest first, then by
// template and name so that equal times have one order.
func sortNewestFirst(items []store.SessionItem) {
	slices.SortFunc(items, func(a, b store.SessionItem) int {
		if c := b.StartTime.Compare(a.StartTime); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.Template, b.Template), cmp.Compare(a.Name, b.Name))
	})
}

// The response, as XSAPI parses it.
type (
	response struct {
		Results []result `json:"results"`
	}
	result struct {
		XUID            string     `json:"xuid,omitempty"`
		StartTime       string     `json:"startTime"`
		SessionRef      sessionRef `json:"sessionRef"`
		Accepted        int        `json:"accepted"`
		Status          string     `json:"status,omitempty"`
		Visibility      string     `json:"visibility"`
		JoinRestriction string     `json:"joinRestriction,omitempty"`
		MyTurn          bool       `json:"myTurn,omitempty"`
		Keywords        []string   `json:"keywords"`
	}
	sessionRef struct {
		SCID         string `json:"scid"`
		TemplateName string `json:"templateName"`
		Name         string `json:"name"`
	}
)

// timeLayout writes start times in UTC with at most 7 fractional digits,
// trailing zeros dropped.
const timeLayout = "2006-01-02T15:04:05.9999999Z"

// result is one row: x is the xuid the session was found through, nil for
// a keyword query.
func (q *query) result(si *store.SessionItem, x *xbl.XUID) result {
	r := result{
		StartTime:  si.StartTime.UTC().Truncate(100 * time.Nanosecond).Format(timeLayout),
		SessionRef: sessionRef{SCID: q.SCIDRaw, TemplateName: si.Template, Name: si.Name},
		Accepted:   max(si.Accepted, 0),
		Visibility: string(si.Visibility),
		Keywords:   si.Keywords,
	}
	if r.Keywords == nil {
		r.Keywords = []string{}
	}
	if si.Visibility == xbl.OpenVis || si.Visibility == xbl.Full {
		r.JoinRestriction = si.JoinRestriction
	}
	if x != nil {
		r.XUID = x.String()
		r.Status = string(si.Status)
		r.MyTurn = si.MyTurn
	}
	return r
}

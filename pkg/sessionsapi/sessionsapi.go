// Package sessionsapi is the HTTP edge of the session directory query:
// POST /serviceconfigs/{scid}/batch, GET /serviceconfigs/{scid}/sessions
// and their sessiontemplates/{template} forms. It reads the query string
// and the contract version, decodes a batch body once into typed values,
// asks a sessions.Service for the answer (Find) and writes it as XSAPI
// reads it.
package sessionsapi

import (
	"net/http"
	"time"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/metrics"
	"github.com/xblread/xblread/pkg/sessions"
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

type handler struct {
	api      *httpapi.API
	sessions *sessions.Service
}

// New returns the API's handler, reading SCID configurations from configs
// (usually a configcache.Cache) and sessions from r, on the system clock.
// Errors are text/plain bodies.
func New(api httpapi.API, configs xbl.ConfigReader, r sessions.Reader) http.Handler {
	return Handler(api, &sessions.Service{Configs: configs, Reader: r})
}

// Handler returns the API's handler over s, which answers the queries: its
// Configs and Reader are read, and its clock says when reservations
// expire.
func Handler(api httpapi.API, s *sessions.Service) http.Handler {
	api.Name = Name
	api.Format = httpapi.Text
	h := &handler{api: &api, sessions: s}
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
	ctx := r.Context()
	caller, _ := auth.FromContext(ctx)
	res, err := h.sessions.Find(ctx, caller, q)
	if res != nil {
		h.api.Log.InfoContext(ctx, "dynamodb", "calls", res.Usage.Calls, "items", res.Usage.Items, "consumedRCU", res.Usage.ConsumedRCU, "xuids", len(q.XUIDs))
		m := metrics.FromContext(ctx)
		m.Add("XUIDs", float64(len(q.XUIDs)), metrics.Count)
		m.Add("DynamoDBCalls", float64(res.Usage.Calls), metrics.Count)
		m.Add("ItemsRead", float64(res.Usage.Items), metrics.Count)
		m.Add("ConsumedRCU", res.Usage.ConsumedRCU, metrics.Count)
	}
	if err != nil {
		return err
	}
	metrics.FromContext(ctx).Add("Results", float64(len(res.Rows)), metrics.Count)
	out := response{Results: make([]result, len(res.Rows))}
	for i := range res.Rows {
		out.Results[i] = resultOf(q.SCIDRaw, &res.Rows[i])
	}
	body, err := httpapi.Marshal(out)
	if err != nil {
		return err
	}
	if n := httpapi.EnvelopeSize(body); n > httpapi.MaxResponseBytes {
		return derrors.New(derrors.Invalid, "the answer would take %d bytes, over the limit of %d: ask for fewer sessions (take)", n, httpapi.MaxResponseBytes)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	return nil
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

// resultOf is one row as XSAPI reads it: xuid, status and myTurn only for
// a session found through an xuid, joinRestriction only for open or full
// sessions, keywords always an array. scid is the SCID as the caller wrote
// it.
func resultOf(scid string, row *sessions.Row) result {
	r := result{
		StartTime:  row.StartTime.UTC().Truncate(100 * time.Nanosecond).Format(timeLayout),
		SessionRef: sessionRef{SCID: scid, TemplateName: row.Template, Name: row.Name},
		Accepted:   max(row.Accepted, 0),
		Visibility: string(row.Visibility),
		Keywords:   row.Keywords,
	}
	if r.Keywords == nil {
		r.Keywords = []string{}
	}
	if row.Visibility == xbl.OpenVis || row.Visibility == xbl.Full {
		r.JoinRestriction = row.JoinRestriction
	}
	if row.XUID != nil {
		r.XUID = row.XUID.String()
		r.Status = string(row.Status)
		r.MyTurn = row.MyTurn
	}
	return r
}

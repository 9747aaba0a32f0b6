// Package sessionswriteapi is the HTTP edge of the session writes (MPSD,
// contract 107): PUT and GET of
// /serviceconfigs/{scid}/sessionTemplates/{template}/sessions/{name}
// (sessiontemplates alike) and DELETE of .../sessions/{name}/members/me,
// with XSAPI's conditional headers. It reads a PUT body once into typed
// structs (ParseChange), hands the change to sessions.Service, and renders
// the session document as XSAPI parses it (Render).
package sessionswriteapi

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/xbl"
)

// Name names the API in logs.
const Name = "mpsdwrite"

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 256 << 10

// MinContractVersion is the lowest x-xbl-contract-version served.
const MinContractVersion = 104

// ContractVersion is the version of the documents this API writes.
const ContractVersion = 107

// Routes are the ServeMux patterns the API serves; template.yaml routes
// the same methods and paths to this function.
var Routes = []string{
	"PUT /serviceconfigs/{scid}/sessionTemplates/{template}/sessions/{name}",
	"GET /serviceconfigs/{scid}/sessionTemplates/{template}/sessions/{name}",
	"DELETE /serviceconfigs/{scid}/sessionTemplates/{template}/sessions/{name}/members/me",
	"PUT /serviceconfigs/{scid}/sessiontemplates/{template}/sessions/{name}",
	"GET /serviceconfigs/{scid}/sessiontemplates/{template}/sessions/{name}",
	"DELETE /serviceconfigs/{scid}/sessiontemplates/{template}/sessions/{name}/members/me",
}

type handler struct {
	svc *sessions.Service
}

// New returns the API's handler over the session service of configs and
// st. Errors are text/plain bodies, as MPSD's.
func New(api httpapi.API, configs xbl.ConfigReader, st sessions.Store) http.Handler {
	return newHandler(api, &sessions.Service{Configs: configs, Store: st, Now: time.Now})
}

// newHandler returns the API's handler over svc, whose Now is set.
func newHandler(api httpapi.API, svc *sessions.Service) http.Handler {
	api.Name = Name
	api.Format = httpapi.Text
	api.Writes = true // a write refused by the rate limit must change nothing
	h := &handler{svc: svc}
	mux := http.NewServeMux()
	for _, route := range Routes {
		mux.Handle(route, api.Handle(h.serve))
	}
	mux.Handle("/", api.NotFound())
	return api.Wrap(mux)
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request) error {
	if _, err := httpapi.ContractVersion(r, MinContractVersion); err != nil {
		return err
	}
	ref := sessions.Ref{SCIDRaw: r.PathValue("scid"), Template: r.PathValue("template"), Name: r.PathValue("name")}
	var err error
	if ref.SCID, err = xbl.ParseSCID(ref.SCIDRaw); err != nil {
		return badRequest("%v", err)
	}
	if err := xbl.CheckName("session template name", ref.Template); err != nil {
		return badRequest("%v", err)
	}
	if err := xbl.CheckName("session name", ref.Name); err != nil {
		return badRequest("%v", err)
	}
	ctx := r.Context()
	caller, _ := auth.FromContext(ctx)
	switch r.Method {
	case http.MethodGet:
		d, err := h.svc.Get(ctx, caller, ref)
		if err != nil {
			return err
		}
		if d == nil {
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		if httpapi.ETagMatches(r.Header.Values("If-None-Match"), d.ETag) {
			w.Header().Set("ETag", quote(d.ETag))
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		return h.writeDoc(w, http.StatusOK, d, ref)
	}
	cond, err := condition(r)
	if err != nil {
		return err
	}
	// DELETE .../members/me is the leave PUT {"members":{"me":null}}.
	ch := &sessions.Change{Members: map[string]*sessions.MemberChange{"me": nil}}
	if r.Method == http.MethodPut {
		body, err := httpapi.ReadBody(r, MaxBodyBytes)
		if err != nil {
			return err
		}
		if ch, err = ParseChange(body); err != nil {
			return err
		}
	}
	res, err := h.svc.Put(ctx, caller, ref, cond, ch)
	if err != nil {
		return err
	}
	switch res.Outcome {
	case sessions.Created:
		return h.writeDoc(w, http.StatusCreated, res.Doc, ref)
	case sessions.Deleted:
		w.WriteHeader(http.StatusNoContent)
		return nil
	case sessions.ConditionFailed:
		if res.Doc == nil {
			// No session, or one the caller may not read: no body, as
			// XSAPI reads a 412's body as the session.
			w.WriteHeader(http.StatusPreconditionFailed)
			return nil
		}
		return h.writeDoc(w, http.StatusPreconditionFailed, res.Doc, ref)
	}
	return h.writeDoc(w, http.StatusOK, res.Doc, ref)
}

// condition reads XSAPI's write modes: If-None-Match: * (create only),
// If-Match: * (update only), If-Match: <ETag> (this version only; a list
// of ETags names any of them).
func condition(r *http.Request) (sessions.Condition, error) {
	var c sessions.Condition
	imAny, im := httpapi.ETags(r.Header.Values("If-Match"))
	inmAny, inm := httpapi.ETags(r.Header.Values("If-None-Match"))
	switch {
	case (imAny || len(im) > 0) && (inmAny || len(inm) > 0):
		return c, badRequest("If-Match and If-None-Match cannot both be sent")
	case len(inm) > 0:
		return c, badRequest("If-None-Match on a session write must be *")
	case inmAny:
		c.IfNoneMatchAny = true
	case imAny:
		c.IfMatchAny = true
	default:
		c.IfMatch = im
	}
	return c, nil
}

// quote writes an ETag as HTTP's quoted string; XSAPI echoes it back.
func quote(etag string) string { return `"` + etag + `"` }

// timeLayout writes times in UTC with at most 7 fractional digits.
const timeLayout = "2006-01-02T15:04:05.9999999Z"

// writeDoc answers d as it stands now (the service's clock).
func (h *handler) writeDoc(w http.ResponseWriter, status int, d *sessions.Doc, ref sessions.Ref) error {
	body, next, err := Render(d, h.svc.Now())
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("ETag", quote(d.ETag))
	hd.Set("Content-Type", "application/json; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	if !next.IsZero() {
		hd.Set("Expires", next.UTC().Format(http.TimeFormat))
	}
	hd.Set("Content-Location", "/serviceconfigs/"+url.PathEscape(ref.SCIDRaw)+"/sessionTemplates/"+url.PathEscape(ref.Template)+"/sessions/"+url.PathEscape(ref.Name))
	w.WriteHeader(status)
	_, err = w.Write(body)
	return err
}

// Render writes d as the session document XSAPI parses (members keyed by
// index and chained by next up to membersInfo.next; constants and
// properties always with system and custom), at now: expired reservations
// are left out. It also returns the document's next timer: the earliest
// reservation expiry (zero for none).
func Render(d *sessions.Doc, now time.Time) ([]byte, time.Time, error) {
	var members []sessions.Member
	var nextTimer time.Time
	for _, m := range d.Members {
		if m.Expired(now) {
			continue
		}
		if m.Reserved && !m.ReservedUntil.IsZero() && (nextTimer.IsZero() || m.ReservedUntil.Before(nextTimer)) {
			nextTimer = m.ReservedUntil
		}
		members = append(members, m)
	}
	slices.SortFunc(members, func(a, b sessions.Member) int { return a.Index - b.Index })
	obj := func(m map[string]json.RawMessage) map[string]any {
		out := make(map[string]any, len(m)+4)
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	custom := func(raw json.RawMessage) any {
		if raw == nil {
			return json.RawMessage("{}")
		}
		return raw
	}
	customMap := func(m map[string]json.RawMessage) any {
		if m == nil {
			return map[string]any{}
		}
		return m
	}
	csys := obj(d.ConstantsSystem)
	csys["visibility"] = string(d.Visibility)
	csys["maxMembersCount"] = d.MaxMembers
	csys["version"] = d.Version
	csys["reservedRemovalTimeout"] = d.ReservedRemovalTimeout
	psys := obj(d.PropertiesSystem)
	psys["keywords"] = nonNil(d.Keywords)
	psys["turn"] = nonNilInts(d.Turn)
	psys["joinRestriction"] = cmp.Or(d.JoinRestriction, "none")
	doc := map[string]any{
		"contractVersion": ContractVersion,
		"correlationId":   d.CorrelationID,
		"startTime":       d.StartTime.UTC().Format(timeLayout),
		"constants":       map[string]any{"system": csys, "custom": custom(d.ConstantsCustom)},
		"properties":      map[string]any{"system": psys, "custom": customMap(d.PropertiesCustom)},
		"servers":         customMap(d.Servers),
	}
	if !nextTimer.IsZero() {
		doc["nextTimer"] = nextTimer.UTC().Format(timeLayout)
	}
	first, accepted := d.NextIndex, 0
	if len(members) > 0 {
		first = members[0].Index
	}
	ms := make(map[string]any, len(members))
	for i, m := range members {
		next := d.NextIndex
		if i+1 < len(members) {
			next = members[i+1].Index
		}
		if !m.Reserved {
			accepted++
		}
		out := obj(m.Extra)
		msys := obj(m.ConstantsSystem)
		msys["xuid"] = m.XUID.String()
		msys["index"] = m.Index
		psys := obj(m.PropertiesSystem)
		psys["active"] = m.Active
		psys["ready"] = m.Ready
		out["constants"] = map[string]any{"system": msys, "custom": custom(m.ConstantsCustom)}
		out["properties"] = map[string]any{"system": psys, "custom": customMap(m.PropertiesCustom)}
		out["next"] = next
		if m.Gamertag != "" {
			out["gamertag"] = m.Gamertag
		}
		if m.TitleID != "" {
			out["activeTitleId"] = m.TitleID
		}
		if m.Reserved {
			out["reserved"] = true
		} else {
			out["joinTime"] = m.JoinTime.UTC().Format(timeLayout)
		}
		if slices.Contains(d.Turn, m.Index) {
			out["turn"] = true
		}
		ms[strconv.Itoa(m.Index)] = out
	}
	doc["members"] = ms
	doc["membersInfo"] = map[string]int{"first": first, "next": d.NextIndex, "count": len(members), "accepted": accepted}
	body, err := httpapi.Marshal(doc)
	if err != nil {
		return nil, time.Time{}, derrors.Wrap(derrors.Internal, "render session", err)
	}
	return body, nextTimer, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilInts(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

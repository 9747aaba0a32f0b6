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

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

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
// st; when st is also a sessions.Queue, writes that lose a race for a
// session wait in it to be combined. Errors are text/plain bodies, as
// MPSD's.
func New(api httpapi.API, configs xbl.ConfigReader, st sessions.Store) http.Handler {
	svc := &sessions.Service{Configs: configs, Store: st, Now: time.Now}
	svc.Queue, _ = st.(sessions.Queue)
	svc.Handles, _ = st.(sessions.HandleStore)
	return newHandler(api, svc)
}

// newHandler returns the API's handler over svc.
func newHandler(api httpapi.API, svc *sessions.Service) http.Handler {
	api.Name = Name
	api.Format = httpapi.Text
	api.Writes = true // a write refused by the rate limit must change nothing
	h := &handler{svc: svc}
	mux := http.NewServeMux()
	for _, route := range Routes {
		mux.Handle(route, api.Handle(h.serve))
	}
	for _, route := range HandleRoutes {
		mux.Handle(route, api.Handle(h.serveHandles))
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
		inm := r.Header.Values("If-None-Match")
		if _, _, err := httpapi.ETags("If-None-Match", inm); err != nil {
			return err
		}
		d, err := h.svc.Get(ctx, caller, ref)
		if err != nil {
			return err
		}
		return h.writeRead(w, d, ref, inm)
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
	return h.writeResult(w, res, ref)
}

// writeRead answers a read of the session ref: 204 when there is none,
// 304 when If-None-Match (inm) names its ETag, 200 with it otherwise.
func (h *handler) writeRead(w http.ResponseWriter, d *sessions.Doc, ref sessions.Ref, inm []string) error {
	if d == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if httpapi.ETagMatches(inm, d.ETag) {
		w.Header().Set("ETag", quote(d.ETag))
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return h.writeDoc(w, http.StatusOK, d, ref)
}

// writeResult answers a write's result: 201 with the session created, 200
// with the session updated, 204 for a session deleted, 412 with the
// current session (without a body when there is none the caller may read).
func (h *handler) writeResult(w http.ResponseWriter, res *sessions.WriteResult, ref sessions.Ref) error {
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
// of ETags names any of them). A header sent empty, or a list mixing *
// with ETags, is refused (httpapi.ETags): never read as no condition.
func condition(r *http.Request) (sessions.Condition, error) {
	var c sessions.Condition
	imAny, im, err := httpapi.ETags("If-Match", r.Header.Values("If-Match"))
	if err != nil {
		return c, err
	}
	inmAny, inm, err := httpapi.ETags("If-None-Match", r.Header.Values("If-None-Match"))
	if err != nil {
		return c, err
	}
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

// writeDoc answers d, as the service left it (expired reservations left
// out at the instant it used).
func (h *handler) writeDoc(w http.ResponseWriter, status int, d *sessions.Doc, ref sessions.Ref) error {
	body, err := Render(d)
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("ETag", quote(d.ETag))
	hd.Set("Content-Type", "application/json; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	if next := d.NextTimer(); !next.IsZero() {
		hd.Set("Expires", next.UTC().Format(http.TimeFormat))
	}
	hd.Set("Content-Location", "/serviceconfigs/"+url.PathEscape(ref.SCIDRaw)+"/sessionTemplates/"+url.PathEscape(ref.Template)+"/sessions/"+url.PathEscape(ref.Name))
	w.WriteHeader(status)
	_, err = w.Write(body)
	return err
}

// The session document as XSAPI parses it. Members are in name order, as
// Render writes them (the kept members of an object, Other, after the
// named ones); kept values are written as stored.
type (
	docOut struct {
		ChangeNumber    int64                 `json:"changeNumber"`
		Constants       constantsOut          `json:"constants"`
		ContractVersion int                   `json:"contractVersion"`
		CorrelationID   string                `json:"correlationId"`
		Members         map[string]*memberOut `json:"members"`
		MembersInfo     membersInfo           `json:"membersInfo"`
		NextTimer       string                `json:"nextTimer,omitempty"`
		Properties      propertiesOut         `json:"properties"`
		Servers         rawObject             `json:"servers"`
		StartTime       string                `json:"startTime"`
	}
	constantsOut struct {
		Custom json.RawMessage    `json:"custom"`
		System constantsSystemOut `json:"system"`
	}
	constantsSystemOut struct {
		MaxMembersCount        int            `json:"maxMembersCount"`
		ReservedRemovalTimeout int64          `json:"reservedRemovalTimeout"`
		Version                int            `json:"version"`
		Visibility             xbl.Visibility `json:"visibility"`
		Other                  rawObject      `json:",embed"`
	}
	propertiesOut struct {
		Custom rawObject           `json:"custom"`
		System propertiesSystemOut `json:"system"`
	}
	propertiesSystemOut struct {
		JoinRestriction string    `json:"joinRestriction"`
		Keywords        []string  `json:"keywords"`
		Turn            []int     `json:"turn"`
		Other           rawObject `json:",embed"`
	}
	memberOut struct {
		ActiveTitleID string              `json:"activeTitleId,omitempty"`
		Constants     memberConstantsOut  `json:"constants"`
		DeviceToken   string              `json:"deviceToken"`
		Gamertag      string              `json:"gamertag,omitempty"`
		JoinTime      string              `json:"joinTime,omitempty"`
		Next          int                 `json:"next"`
		Properties    memberPropertiesOut `json:"properties"`
		Reserved      bool                `json:"reserved,omitzero"`
		Turn          bool                `json:"turn,omitzero"`
		Extra         rawObject           `json:",embed"`
	}
	memberConstantsOut struct {
		Custom json.RawMessage `json:"custom"`
		System struct {
			Index int       `json:"index"`
			XUID  string    `json:"xuid"`
			Other rawObject `json:",embed"`
		} `json:"system"`
	}
	memberPropertiesOut struct {
		Custom rawObject `json:"custom"`
		System struct {
			Active bool      `json:"active"`
			Ready  bool      `json:"ready"`
			Other  rawObject `json:",embed"`
		} `json:"system"`
	}
	membersInfo struct {
		Accepted int `json:"accepted"`
		Count    int `json:"count"`
		First    int `json:"first"`
		Next     int `json:"next"`
	}
	// rawObject is an object of kept values; nil is written as {}.
	rawObject = map[string]json.RawMessage
)

// renderOptions write a document as the store encodes it: map members in
// name order, U+2028 and U+2029 escaped, HTML characters not.
var renderOptions = jsonv2.JoinOptions(jsonv2.Deterministic(true), jsontext.EscapeForJS(true))

// Render writes d as the session document XSAPI parses (members keyed by
// index and chained by next up to membersInfo.next; constants and
// properties always with system and custom; the next timer when a
// reservation will expire). d is as the service answered it: Render reads
// no clock and leaves no member out.
func Render(d *sessions.Doc) ([]byte, error) {
	members := slices.Clone(d.Members)
	slices.SortFunc(members, func(a, b sessions.Member) int { return a.Index - b.Index })
	out := docOut{
		Constants: constantsOut{Custom: custom(d.ConstantsCustom), System: constantsSystemOut{
			MaxMembersCount: d.MaxMembers, ReservedRemovalTimeout: d.ReservedRemovalTimeout,
			Version: d.Version, Visibility: d.Visibility, Other: d.ConstantsSystem,
		}},
		ChangeNumber:    d.ChangeNumber,
		ContractVersion: ContractVersion,
		CorrelationID:   d.CorrelationID,
		Members:         make(map[string]*memberOut, len(members)),
		MembersInfo:     membersInfo{First: d.NextIndex, Next: d.NextIndex, Count: len(members)},
		Properties: propertiesOut{Custom: d.PropertiesCustom, System: propertiesSystemOut{
			JoinRestriction: cmp.Or(d.JoinRestriction, "none"), Keywords: d.Keywords, Turn: d.Turn,
			Other: d.PropertiesSystem,
		}},
		Servers:   d.Servers,
		StartTime: d.StartTime.UTC().Format(timeLayout),
	}
	if next := d.NextTimer(); !next.IsZero() {
		out.NextTimer = next.UTC().Format(timeLayout)
	}
	if len(members) > 0 {
		out.MembersInfo.First = members[0].Index
	}
	for i := range members {
		m := &members[i]
		mo := &memberOut{
			ActiveTitleID: m.TitleID, DeviceToken: m.Token(), Gamertag: m.Gamertag, Next: d.NextIndex,
			Reserved: m.Reserved, Turn: slices.Contains(d.Turn, m.Index), Extra: m.Extra,
		}
		if i+1 < len(members) {
			mo.Next = members[i+1].Index
		}
		if !m.Reserved {
			out.MembersInfo.Accepted++
			mo.JoinTime = m.JoinTime.UTC().Format(timeLayout)
		}
		mo.Constants.Custom = custom(m.ConstantsCustom)
		mo.Constants.System.Index, mo.Constants.System.XUID = m.Index, m.XUID.String()
		mo.Constants.System.Other = m.ConstantsSystem
		mo.Properties.Custom = m.PropertiesCustom
		mo.Properties.System.Active, mo.Properties.System.Ready = m.Active, m.Ready
		mo.Properties.System.Other = m.PropertiesSystem
		out.Members[strconv.Itoa(m.Index)] = mo
	}
	body, err := jsonv2.Marshal(&out, renderOptions)
	if err != nil {
		return nil, derrors.Wrap(derrors.Internal, "render session", err)
	}
	return body, nil
}

// custom is a kept custom object, {} when there is none.
func custom(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return json.RawMessage("{}")
	}
	return raw
}

package sessionswriteapi

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/xbl"
)

// HandleRoutes are the handle calls (MPSD's /handles), served by the same
// function as the session writes.
var HandleRoutes = []string{
	"POST /handles",
	"POST /handles/query",
	"DELETE /handles/{id}",
	"PUT /handles/{id}/session",
	"GET /handles/{id}/session",
}

// MaxHandleID bounds a handle id in a path: ids this service makes are
// 36 bytes (XSAPI keeps them in 40); a longer one names no handle.
const MaxHandleID = 64

// The bodies of the handle calls, as XSAPI writes them.
type (
	handleBody struct {
		Type             string          `json:"type"`
		Version          jsontext.Value  `json:"version"`
		SessionRef       *sessionRefBody `json:"sessionRef"`
		OriginSessionRef *sessionRefBody `json:"originSessionRef"`
		InvitedXuid      *string         `json:"invitedXuid"`
		InviteAttributes jsontext.Value  `json:"inviteAttributes"`
	}
	sessionRefBody struct {
		SCID         string `json:"scid"`
		TemplateName string `json:"templateName"`
		Name         string `json:"name"`
	}
	queryBody struct {
		Type   string `json:"type"`
		SCID   string `json:"scid"`
		Owners *struct {
			XUIDs  *[]string      `json:"xuids"`
			People jsontext.Value `json:"people"`
		} `json:"owners"`
	}
)

// The answers.
type (
	handleOut struct {
		ID               string          `json:"id"`
		Type             string          `json:"type"`
		Version          int             `json:"version"`
		SessionRef       sessionRefBody  `json:"sessionRef"`
		OriginSessionRef *sessionRefBody `json:"originSessionRef,omitempty"`
		TitleID          string          `json:"titleId"`
		OwnerXUID        string          `json:"ownerXuid"`
		InvitedXUID      string          `json:"invitedXuid,omitempty"`
		SenderXUID       string          `json:"senderXuid,omitempty"`
		Expiration       string          `json:"expiration,omitempty"`
		InviteAttributes json.RawMessage `json:"inviteAttributes,omitempty"`
		RelatedInfo      *relatedInfo    `json:"relatedInfo,omitempty"`
		// CustomProperties are the session's properties.custom: always
		// sent on an activity ({} when none), as XSAPI reads it unchecked.
		CustomProperties rawObject `json:"customProperties,omitzero"`
	}
	relatedInfo struct {
		JoinRestriction string         `json:"joinRestriction"`
		Closed          bool           `json:"closed"`
		MaxMembersCount int            `json:"maxMembersCount"`
		MembersCount    int            `json:"membersCount"`
		Visibility      xbl.Visibility `json:"visibility"`
	}
)

func refOut(r sessions.Ref) sessionRefBody {
	return sessionRefBody{SCID: cmp.Or(r.SCIDRaw, r.SCID), TemplateName: r.Template, Name: r.Name}
}

// ref checks a sessionRef at path.
func (b *sessionRefBody) ref(path string) (sessions.Ref, error) {
	r := sessions.Ref{SCIDRaw: b.SCID, Template: b.TemplateName, Name: b.Name}
	var err error
	if r.SCID, err = xbl.ParseSCID(b.SCID); err != nil {
		return r, badRequest("%s.scid: %v", path, err)
	}
	if err := xbl.CheckName("session template name", b.TemplateName); err != nil {
		return r, badRequest("%s.templateName: %v", path, err)
	}
	if err := xbl.CheckName("session name", b.Name); err != nil {
		return r, badRequest("%s.name: %v", path, err)
	}
	return r, nil
}

// ParseHandle reads a POST /handles body.
func ParseHandle(body []byte) (*sessions.HandleRequest, error) {
	b, err := httpapi.DecodeObject[handleBody](body)
	if err != nil {
		return nil, err
	}
	req := &sessions.HandleRequest{Type: b.Type}
	switch b.Type {
	case sessions.Activity, sessions.Invite, sessions.Transfer:
	case "":
		return nil, httpapi.Required("$.type", `"activity", "invite" or "transfer"`)
	default:
		return nil, badRequest(`$.type must be "activity", "invite" or "transfer"`)
	}
	if b.Version != nil && string(b.Version) != "1" {
		return nil, badRequest("$.version must be 1")
	}
	if b.SessionRef == nil {
		return nil, httpapi.Required("$.sessionRef", "an object")
	}
	if req.Ref, err = b.SessionRef.ref("$.sessionRef"); err != nil {
		return nil, err
	}
	switch b.Type {
	case sessions.Invite:
		if b.InvitedXuid == nil {
			return nil, httpapi.Required("$.invitedXuid", "an xuid (a decimal string)")
		}
		if req.Invited, err = xbl.ParseXUID(*b.InvitedXuid); err != nil || req.Invited == 0 {
			return nil, badRequest("$.invitedXuid must be an xuid (a decimal string)")
		}
		if b.InviteAttributes != nil {
			attrs, err := inviteAttributes(b.InviteAttributes)
			if err != nil {
				return nil, err
			}
			req.Attributes = attrs
		}
	case sessions.Transfer:
		if b.OriginSessionRef == nil {
			return nil, httpapi.Required("$.originSessionRef", "an object")
		}
		origin, err := b.OriginSessionRef.ref("$.originSessionRef")
		if err != nil {
			return nil, err
		}
		req.Origin = &origin
	}
	return req, nil
}

// inviteAttributes checks an invite's attributes: an object of at most
// sessions.MaxOpaqueBytes, whose titleId, contextString and context are
// strings (titleId decimal), as XSAPI writes and reads them.
func inviteAttributes(v jsontext.Value) (json.RawMessage, error) {
	if v.Kind() != '{' {
		return nil, badRequest("$.inviteAttributes must be an object")
	}
	// Every member read as a kept value is: numbers that fit a double,
	// nesting bounded, strings with the fewest escapes.
	var a map[string]kept
	if err := httpapi.Decode(v, &a); err != nil {
		_, msg := derrors.Of(err)
		return nil, badRequest("$.inviteAttributes%s", strings.TrimPrefix(msg, "$"))
	}
	for _, name := range []string{"titleId", "contextString", "context"} {
		if f, ok := a[name]; ok && jsontext.Value(f).Kind() != '"' {
			return nil, badRequest("$.inviteAttributes.%s must be a string", name)
		}
	}
	if f, ok := a["titleId"]; ok {
		var title string
		jsonv2.Unmarshal(f, &title)
		if n, err := strconv.ParseUint(title, 10, 32); err != nil || n == 0 {
			return nil, badRequest("$.inviteAttributes.titleId must be a title id (a decimal string of a 32-bit number)")
		}
	}
	out := make(map[string]json.RawMessage, len(a))
	for k, f := range a {
		out[k] = json.RawMessage(f)
	}
	if n := sessions.ObjectSize(out); n > sessions.MaxOpaqueBytes {
		return nil, badRequest("$.inviteAttributes is %d bytes; the limit is %d", n, sessions.MaxOpaqueBytes)
	}
	b, err := httpapi.Marshal(out)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(b), nil
}

func (h *handler) handleOut(hd *sessions.Handle) *handleOut {
	out := &handleOut{ID: hd.ID, Type: hd.Type, Version: 1, SessionRef: refOut(hd.Ref), TitleID: hd.TitleID, OwnerXUID: hd.Owner.String()}
	if hd.Origin != nil {
		o := refOut(*hd.Origin)
		out.OriginSessionRef = &o
	}
	if hd.Type == sessions.Invite {
		out.InvitedXUID, out.SenderXUID = hd.Invited.String(), hd.Owner.String()
		out.Expiration = hd.Expires.UTC().Format(timeLayout)
		out.InviteAttributes = hd.Attributes
	}
	return out
}

// serveHandles serves the handle calls.
func (h *handler) serveHandles(w http.ResponseWriter, r *http.Request) error {
	if _, err := httpapi.ContractVersion(r, MinContractVersion); err != nil {
		return err
	}
	if h.svc.Handles == nil {
		return errNoHandles
	}
	ctx := r.Context()
	caller, _ := auth.FromContext(ctx)
	id := r.PathValue("id")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/handles":
		body, err := httpapi.ReadBody(r, MaxBodyBytes)
		if err != nil {
			return err
		}
		req, err := ParseHandle(body)
		if err != nil {
			return err
		}
		hd, err := h.svc.PostHandle(ctx, caller, req)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, h.handleOut(hd))
	case r.Method == http.MethodPost:
		return h.query(w, r, caller)
	case len(id) > MaxHandleID || strings.ContainsAny(id, "/#"):
		return errUnknownHandle
	case r.Method == http.MethodDelete:
		if err := h.svc.DeleteHandle(ctx, caller, id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	case r.Method == http.MethodGet:
		inm := r.Header.Values("If-None-Match")
		if _, _, err := httpapi.ETags("If-None-Match", inm); err != nil {
			return err
		}
		ref, d, err := h.svc.SessionByHandle(ctx, caller, id)
		if err != nil {
			return err
		}
		return h.writeRead(w, d, ref, inm)
	}
	cond, err := condition(r)
	if err != nil {
		return err
	}
	body, err := httpapi.ReadBody(r, MaxBodyBytes)
	if err != nil {
		return err
	}
	ch, err := ParseChange(body)
	if err != nil {
		return err
	}
	ref, res, err := h.svc.PutByHandle(ctx, caller, id, cond, ch)
	if err != nil {
		return err
	}
	return h.writeResult(w, res, ref)
}

var (
	errNoHandles     = badRequest("this deployment serves no handles")
	errUnknownHandle = derrors.New(derrors.NotFound, "no such handle")
)

// query serves POST /handles/query: activities by owners.xuids.
func (h *handler) query(w http.ResponseWriter, r *http.Request, caller *xbl.Caller) error {
	for _, inc := range strings.Split(r.URL.Query().Get("include"), ",") {
		switch strings.TrimSpace(inc) {
		case "", "relatedInfo", "customProperties":
		default:
			return badRequest("include: %q is not one of relatedInfo, customProperties", inc)
		}
	}
	body, err := httpapi.ReadBody(r, MaxBodyBytes)
	if err != nil {
		return err
	}
	q, err := httpapi.DecodeObject[queryBody](body)
	if err != nil {
		return err
	}
	switch {
	case q.Type == "":
		return httpapi.Required("$.type", `"activity"`)
	case q.Type != sessions.Activity:
		return badRequest(`$.type must be "activity" (the only handles a query finds)`)
	case q.Owners == nil:
		return httpapi.Required("$.owners", "an object")
	case q.Owners.People != nil:
		return badRequest("$.owners.people: this service has no people graph (friends, followers) to find owners in; name the players in $.owners.xuids")
	case q.Owners.XUIDs == nil:
		return httpapi.Required("$.owners.xuids", "an array of xuids")
	}
	scid, err := xbl.ParseSCID(q.SCID)
	if err != nil {
		return badRequest("$.scid: %v", err)
	}
	var owners []xbl.XUID
	for i, s := range *q.Owners.XUIDs {
		x, err := xbl.ParseXUID(s)
		if err != nil || x == 0 {
			return badRequest("$.owners.xuids[%d] must be an xuid (a decimal string)", i)
		}
		owners = append(owners, x)
	}
	rows, err := h.svc.QueryActivities(r.Context(), caller, q.SCID, scid, owners)
	if err != nil {
		return err
	}
	out := struct {
		Results []*handleOut `json:"results"`
	}{Results: []*handleOut{}}
	for _, row := range rows {
		o := h.handleOut(row.Handle)
		d := row.Doc // its expired reservations left out
		o.RelatedInfo = &relatedInfo{
			JoinRestriction: cmp.Or(d.JoinRestriction, "none"), Closed: d.Closed(),
			MaxMembersCount: d.MaxMembers, MembersCount: len(d.Members),
			Visibility: sessions.ShownVisibility(d.Visibility, d.MaxMembers, len(d.Members)), // as the session directory query shows it
		}
		o.CustomProperties = d.PropertiesCustom
		if o.CustomProperties == nil {
			o.CustomProperties = rawObject{}
		}
		out.Results = append(out.Results, o)
	}
	return writeJSON(w, http.StatusOK, out)
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := httpapi.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err = w.Write(body)
	return err
}

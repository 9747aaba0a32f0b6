package sessionswriteapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/xbl"
)

// setupMPM is setup with handles served, and scidA naming one session
// template, lobby: an open lobby of 8 whose custom constants name a mode.
func setupMPM(t *testing.T) http.Handler {
	t.Helper()
	_, _, st, clk := setup(t)
	cfg, _, err := st.ReadConfig(context.Background(), scidA)
	if err != nil || cfg == nil {
		t.Fatalf("scidA's configuration: %v", err)
	}
	vis, seats := xbl.OpenVis, 8
	b, err := sessions.EncodeTemplate(&sessions.ConstantsChange{Visibility: &vis, MaxMembers: &seats, Custom: json.RawMessage(`{"mode":"coop"}`),
		System: map[string]json.RawMessage{"memberInactiveTimeout": json.RawMessage("600000")}})
	if err != nil {
		t.Fatal(err)
	}
	c := *cfg
	c.SessionTemplates = map[string]xbl.SessionTemplate{"lobby": {Constants: b}}
	st.Load(&xbl.Dataset{Configs: []xbl.ServiceConfig{c}})
	svc := &sessions.Service{Configs: st, Reader: st, Store: st, Queue: st, Handles: st, Now: clk.Now}
	return newHandler(testkit.API(t), svc)
}

// checkActivities applies XSAPI's reading of a handles query answer
// (DeserializeMultiplayerActivityDetails): results is a required array;
// in each, type, id (under 40 bytes), titleId and ownerXuid are strings
// (the last two decimal: a number fails the call), sessionRef holds three
// strings, customProperties is read without a presence check (so it must
// be there), and relatedInfo's members are typed when present.
func checkActivities(body []byte) error {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return err
	}
	results, ok := doc["results"].([]any)
	if !ok {
		return fmt.Errorf("results is %v, not an array", doc["results"])
	}
	for i, r := range results {
		a, ok := r.(map[string]any)
		if !ok {
			return fmt.Errorf("results[%d] is not an object", i)
		}
		if err := checkHandle(a); err != nil {
			return fmt.Errorf("results[%d]: %v", i, err)
		}
		if _, ok := a["customProperties"].(map[string]any); !ok {
			return fmt.Errorf("results[%d].customProperties is %v, not an object", i, a["customProperties"])
		}
		if ri, ok := a["relatedInfo"]; ok {
			info, ok := ri.(map[string]any)
			if !ok {
				return fmt.Errorf("results[%d].relatedInfo is not an object", i)
			}
			for f, kind := range map[string]string{"membersCount": "uint", "maxMembersCount": "uint", "closed": "bool"} {
				if err := typed(info, f, kind); err != nil {
					return fmt.Errorf("results[%d].relatedInfo: %v", i, err)
				}
			}
			if err := enum(info, "joinRestriction", "none", "local", "followed"); err != nil {
				return err
			}
			if err := enum(info, "visibility", "private", "visible", "full", "open"); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkHandle applies XSAPI's reading of one handle: id a string under 40
// bytes (its buffer), titleId and ownerXuid decimal strings, sessionRef's
// members strings (scid under 40 bytes, the others under 100).
func checkHandle(a map[string]any) error {
	id, ok := a["id"].(string)
	if !ok || id == "" || len(id) >= 40 {
		return fmt.Errorf("id is %v, not a string under 40 bytes", a["id"])
	}
	for _, f := range []string{"titleId", "ownerXuid"} {
		if err := typed(a, f, "decimal"); err != nil {
			return err
		}
	}
	ref, ok := a["sessionRef"].(map[string]any)
	if !ok {
		return fmt.Errorf("sessionRef is %v", a["sessionRef"])
	}
	for f, most := range map[string]int{"scid": 40, "templateName": 100, "name": 100} {
		if s, ok := ref[f].(string); !ok || len(s) >= most {
			return fmt.Errorf("sessionRef.%s is %v", f, ref[f])
		}
	}
	return nil
}

// sessionRefOf reads a Content-Location as XSAPI does
// (XblMultiplayerSessionReferenceParseFromUriPath): split on "/", empty
// parts dropped, at least 6 parts, the scid, template and name at 1, 3
// and 5.
func sessionRefOf(loc string) (scid, template, name string, err error) {
	var parts []string
	for _, p := range strings.Split(loc, "/") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) < 6 {
		return "", "", "", fmt.Errorf("Content-Location %q: failed to parse session reference from URI", loc)
	}
	return parts[1], parts[3], parts[5], nil
}

// TestMultiplayerManagerGolden sends Multiplayer Manager's calls in its
// order, with its bodies and headers: the host creates a lobby without
// constants (the template gives them), sets itself as host with
// If-Match: *, posts its activity; a friend queries activities, joins by
// handle, posts its own; the host invites a third player, who reads and
// joins by the invite; the host clears its activity. Every session answer
// passes XSAPI's parse rules and carries a Content-Location XSAPI reads
// back as the lobby; every handle answer passes XSAPI's; the whole
// sequence is testdata/golden/mpm_flow.json.
func TestMultiplayerManagerGolden(t *testing.T) {
	h := setupMPM(t)
	const lobby = "4f3a6d0e-7b1c-4c55-9d2e-0a1b2c3d4e5f"
	host, friend, third := tok(t, 1001, false), tok(t, 1002, false), tok(t, 1003, false)
	type answer struct {
		Step     string          `json:"step"`
		Status   int             `json:"status"`
		Location string          `json:"contentLocation,omitempty"`
		Body     json.RawMessage `json:"body,omitempty"`
	}
	var answers []answer
	do := func(step, auth, method, target, body string, want int, headers ...string) map[string]any {
		t.Helper()
		w := send(h, auth, method, target, body, headers...)
		if w.Code != want {
			t.Fatalf("%s: %d, want %d: %s", step, w.Code, want, w.Body)
		}
		a := answer{Step: step, Status: w.Code, Location: w.Header().Get("Content-Location")}
		var out map[string]any
		switch {
		case w.Body.Len() == 0:
		case strings.HasPrefix(w.Header().Get("Content-Type"), "application/json"):
			a.Body = w.Body.Bytes()
			json.Unmarshal(w.Body.Bytes(), &out)
		default:
			a.Body, _ = json.Marshal(w.Body.String())
		}
		switch {
		case out == nil:
		case out["membersInfo"] != nil:
			if _, err := checkXSAPIParse(w.Body.Bytes()); err != nil {
				t.Errorf("%s: XSAPI would not parse the session: %v", step, err)
			}
			scid, tmpl, name, err := sessionRefOf(a.Location)
			if err != nil || scid != scidA || tmpl != "lobby" || name != lobby {
				t.Errorf("%s: Content-Location %q reads as %s/%s/%s (%v)", step, a.Location, scid, tmpl, name, err)
			}
		case out["results"] != nil:
			if err := checkActivities(w.Body.Bytes()); err != nil {
				t.Errorf("%s: XSAPI would not read the activities: %v", step, err)
			}
		default:
			if err := checkHandle(out); err != nil {
				t.Errorf("%s: XSAPI would not read the handle: %v", step, err)
			}
		}
		answers = append(answers, a)
		return out
	}
	member := func(xuid string) string {
		return `{"constants":{"system":{"xuid":"` + xuid + `","initialize":true}},"properties":{"system":{"active":true,"connection":"7d9a1c2e-0000-4000-8000-00000000` + xuid + `","subscription":{"id":"5a1f0000-0000-4000-8000-00000000` + xuid + `","changeTypes":["everything"]}}}}`
	}
	ref := `{"scid":"` + scidA + `","templateName":"lobby","name":"` + lobby + `"}`

	// The host creates the lobby: no constants, no match header.
	doc := do("host creates the lobby", host, "PUT", path(lobby),
		`{"properties":{"system":{"joinRestriction":"followed","readRestriction":"followed"},"custom":{"Joinability":"joinable_by_friends"}},"members":{"me":`+member("1001")+`}}`, 201)
	token := doc["members"].(map[string]any)["0"].(map[string]any)["deviceToken"].(string)
	do("host sets itself as host", host, "PUT", path(lobby), `{"properties":{"system":{"host":"`+token+`"}}}`, 200, "If-Match", "*")
	do("host posts its activity", host, "POST", "/handles", `{"type":"activity","sessionRef":`+ref+`,"version":1}`, 201)

	// The friend finds it, joins by handle, posts its own activity.
	res := do("friend queries activities", friend, "POST", "/handles/query?include=relatedInfo,customProperties", `{"type":"activity","scid":"`+scidA+`","owners":{"xuids":["1001"]}}`, 200)
	id := res["results"].([]any)[0].(map[string]any)["id"].(string)
	do("friend joins by handle", friend, "PUT", "/handles/"+id+"/session", `{"members":{"me":`+member("1002")+`}}`, 200)
	do("friend posts its activity", friend, "POST", "/handles", `{"type":"activity","sessionRef":`+ref+`,"version":1}`, 201)
	do("friend reads the lobby by handle", friend, "GET", "/handles/"+id+"/session", "", 200)
	do("host reads the lobby", host, "GET", path(lobby), "", 200)
	do("both activities", host, "POST", "/handles/query?include=relatedInfo,customProperties", `{"type":"activity","scid":"`+scidA+`","owners":{"xuids":["1001","1002","1003"]}}`, 200)

	// The host invites a third player, who reads and joins by the invite.
	inv := do("host invites", host, "POST", "/handles", `{"type":"invite","sessionRef":`+ref+`,"version":1,"invitedXuid":"1003","inviteAttributes":{"titleId":"`+titleA+`","contextString":"join me"}}`, 201)
	invID := inv["id"].(string)
	do("a stranger reads the invite", friend, "GET", "/handles/"+invID+"/session", "", 403)
	do("the invitee reads the lobby", third, "GET", "/handles/"+invID+"/session", "", 200)
	do("the invitee joins", third, "PUT", "/handles/"+invID+"/session", `{"members":{"me":`+member("1003")+`}}`, 200)

	// The host clears its activity: the query for itself, then DELETE.
	mine := do("host finds its activity", host, "POST", "/handles/query?include=relatedInfo,customProperties", `{"type":"activity","scid":"`+scidA+`","owners":{"xuids":["1001"]}}`, 200)
	do("host clears its activity", host, "DELETE", "/handles/"+mine["results"].([]any)[0].(map[string]any)["id"].(string), "", 204)
	do("the cleared activity is gone", friend, "GET", "/handles/"+id+"/session", "", 404)

	body, err := json.Marshal(answers)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	body = guid.ReplaceAllFunc(body, func(g []byte) []byte {
		if string(g) == scidA || string(g) == lobby {
			return g
		}
		if _, ok := seen[string(g)]; !ok {
			seen[string(g)] = "guid-" + strconv.Itoa(len(seen)+1)
		}
		return []byte(seen[string(g)])
	})
	testkit.Golden(t, filepath.Join("testdata", "golden", "mpm_flow.json"), body)
}

// TestHandleRefusals: every malformed or refused handle call gets a 4xx
// naming the fault, never a 5xx.
func TestHandleRefusals(t *testing.T) {
	h := setupMPM(t)
	host := tok(t, 1001, false)
	send(h, host, "PUT", path("l1"), `{"members":{"me":{"properties":{"system":{"active":true}}}}}`)
	ref := `{"scid":"` + scidA + `","templateName":"lobby","name":"l1"}`
	tests := []struct {
		name, method, target, body string
		status                     int
		msg                        string
	}{
		{"no body", "POST", "/handles", "", 400, "empty"},
		{"not an object", "POST", "/handles", `[]`, 400, "must be a JSON object"},
		{"no type", "POST", "/handles", `{"sessionRef":` + ref + `}`, 400, "$.type is required"},
		{"unknown type", "POST", "/handles", `{"type":"search","sessionRef":` + ref + `}`, 400, "$.type"},
		{"type of another kind", "POST", "/handles", `{"type":1,"sessionRef":` + ref + `}`, 400, "$.type"},
		{"version 2", "POST", "/handles", `{"type":"activity","version":2,"sessionRef":` + ref + `}`, 400, "$.version must be 1"},
		{"no sessionRef", "POST", "/handles", `{"type":"activity"}`, 400, "$.sessionRef is required"},
		{"bad scid", "POST", "/handles", `{"type":"activity","sessionRef":{"scid":"x","templateName":"lobby","name":"l1"}}`, 400, "$.sessionRef.scid"},
		{"empty name", "POST", "/handles", `{"type":"activity","sessionRef":{"scid":"` + scidA + `","templateName":"lobby","name":""}}`, 400, "$.sessionRef.name"},
		{"unknown template", "POST", "/handles", `{"type":"activity","sessionRef":{"scid":"` + scidA + `","templateName":"arena","name":"l1"}}`, 404, "no session template"},
		{"no such session", "POST", "/handles", `{"type":"activity","sessionRef":{"scid":"` + scidA + `","templateName":"lobby","name":"l2"}}`, 404, "no such session"},
		{"invite without invitee", "POST", "/handles", `{"type":"invite","sessionRef":` + ref + `}`, 400, "$.invitedXuid is required"},
		{"invitee a number", "POST", "/handles", `{"type":"invite","invitedXuid":1003,"sessionRef":` + ref + `}`, 400, "$.invitedXuid"},
		{"invite attributes not an object", "POST", "/handles", `{"type":"invite","invitedXuid":"1003","inviteAttributes":[],"sessionRef":` + ref + `}`, 400, "$.inviteAttributes must be an object"},
		{"invite title a number", "POST", "/handles", `{"type":"invite","invitedXuid":"1003","inviteAttributes":{"titleId":1},"sessionRef":` + ref + `}`, 400, "$.inviteAttributes"},
		{"invite attribute too large a number", "POST", "/handles", `{"type":"invite","invitedXuid":"1003","inviteAttributes":{"x":1e999},"sessionRef":` + ref + `}`, 400, "does not fit a double"},
		{"invite title null", "POST", "/handles", `{"type":"invite","invitedXuid":"1003","inviteAttributes":{"titleId":null},"sessionRef":` + ref + `}`, 400, "$.inviteAttributes.titleId must be a string"},
		{"invite title past 32 bits", "POST", "/handles", `{"type":"invite","invitedXuid":"1003","inviteAttributes":{"titleId":"4294967296"},"sessionRef":` + ref + `}`, 400, "32-bit"},
		{"invite attributes nested deep", "POST", "/handles", `{"type":"invite","invitedXuid":"1003","inviteAttributes":{"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `},"sessionRef":` + ref + `}`, 400, "nests 33 levels"},
		{"host a number", "PUT", path("l1"), `{"properties":{"system":{"host":123}}}`, 400, "$.properties.system.host must be a device token"},
		{"host too long", "PUT", path("l1"), `{"properties":{"system":{"host":"` + strings.Repeat("a", 40) + `"}}}`, 400, "under 40 bytes"},
		{"custom nested deep", "PUT", path("l1"), `{"properties":{"custom":{"deep":` + strings.Repeat("[", 33) + strings.Repeat("]", 33) + `}}}`, 400, "nests 33 levels"},
		{"transfer without origin", "POST", "/handles", `{"type":"transfer","sessionRef":` + ref + `}`, 400, "$.originSessionRef is required"},
		{"duplicate member", "POST", "/handles", `{"type":"activity","type":"activity","sessionRef":` + ref + `}`, 400, "type"},
		{"query by people", "POST", "/handles/query", `{"type":"activity","scid":"` + scidA + `","owners":{"people":{"moniker":"people","monikerXuid":"1001"}}}`, 400, "no people graph"},
		{"query without owners", "POST", "/handles/query", `{"type":"activity","scid":"` + scidA + `"}`, 400, "$.owners is required"},
		{"query of another type", "POST", "/handles/query", `{"type":"invite","scid":"` + scidA + `","owners":{"xuids":["1"]}}`, 400, "$.type"},
		{"query owner a number", "POST", "/handles/query", `{"type":"activity","scid":"` + scidA + `","owners":{"xuids":[1001]}}`, 400, "xuids"},
		{"query owner not an xuid", "POST", "/handles/query", `{"type":"activity","scid":"` + scidA + `","owners":{"xuids":["x"]}}`, 400, "$.owners.xuids[0]"},
		{"query include unknown", "POST", "/handles/query?include=people", `{"type":"activity","scid":"` + scidA + `","owners":{"xuids":["1"]}}`, 400, "include"},
		{"query too many owners", "POST", "/handles/query", `{"type":"activity","scid":"` + scidA + `","owners":{"xuids":[` + strings.TrimSuffix(strings.Repeat(`"1",`, 101), ",") + `]}}`, 400, "at most 100"},
		{"unknown handle", "GET", "/handles/00000000-0000-4000-8000-000000000000/session", "", 404, "no such handle"},
		{"unknown handle put", "PUT", "/handles/00000000-0000-4000-8000-000000000000/session", `{}`, 404, "no such handle"},
		{"unknown handle delete", "DELETE", "/handles/00000000-0000-4000-8000-000000000000", "", 404, "no such handle"},
		{"long handle id", "GET", "/handles/" + strings.Repeat("a", 65) + "/session", "", 404, "no such handle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := send(h, host, tt.method, tt.target, tt.body)
			if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.msg) {
				t.Errorf("%d %s, want %d containing %q", w.Code, w.Body, tt.status, tt.msg)
			}
		})
	}
}

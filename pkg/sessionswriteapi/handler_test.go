package sessionswriteapi

import (
	"fmt"
	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/ratelimit"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadRequests: every refusal is a 4xx naming the problem (a JSON path
// for bodies), text/plain, and writes nothing.
func TestBadRequests(t *testing.T) {
	write, _, _, _ := setup(t)
	host := tok(t, 9876, false)
	join := `{"members":{"me":{"constants":{"system":{"xuid":"9876","initialize":true}},"properties":{"system":{"active":true}}}}}`
	tests := []struct {
		name, method, target, body string
		headers                    []string
		status                     int
		msg                        string
	}{
		{"no contract version", "PUT", path("s"), join, []string{"x-xbl-contract-version", ""}, 400, "x-xbl-contract-version header is required"},
		{"old contract version", "PUT", path("s"), join, []string{"x-xbl-contract-version", "103"}, 400, "not supported"},
		{"bad SCID", "PUT", "/serviceconfigs/nope/sessionTemplates/t/sessions/s", join, nil, 400, "scid"},
		{"unconfigured SCID", "PUT", "/serviceconfigs/" + scidC + "/sessionTemplates/t/sessions/s", join, nil, 404, ""},
		{"SCID of another title", "PUT", "/serviceconfigs/" + scidB + "/sessionTemplates/t/sessions/s", join, nil, 403, ""},
		{"name with #", "PUT", path("a%23b"), join, nil, 400, "session name"},
		{"name too long", "PUT", path(strings.Repeat("n", 100)), join, nil, 400, "100 bytes"},
		{"both conditions", "PUT", path("s"), join, []string{"If-Match", "*", "If-None-Match", "*"}, 400, "cannot both"},
		{"If-None-Match with an ETag", "PUT", path("s"), join, []string{"If-None-Match", `"x"`}, 400, "must be *"},
		{"If-Match empty", "PUT", path("s"), join, []string{"If-Match", ""}, 400, "the If-Match header is empty"},
		{"If-Match of a comma", "PUT", path("s"), join, []string{"If-Match", ","}, 400, "the If-Match header is empty"},
		{"If-None-Match empty", "PUT", path("s"), join, []string{"If-None-Match", ""}, 400, "the If-None-Match header is empty"},
		{"If-Match of an ETag and *", "PUT", path("s"), join, []string{"If-Match", `"stale", *`}, 400, "the If-Match header mixes *"},
		{"DELETE with If-Match empty", "DELETE", path("s") + "/members/me", "", []string{"If-Match", ""}, 400, "the If-Match header is empty"},
		{"GET with If-None-Match empty", "GET", path("s"), "", []string{"If-None-Match", " "}, 400, "the If-None-Match header is empty"},
		{"not JSON", "PUT", path("s"), `{`, nil, 400, "the request body is not valid JSON"},
		{"an array", "PUT", path("s"), `[]`, nil, 400, "the request body must be a JSON object"},
		{"trailing data", "PUT", path("s"), `{} {}`, nil, 400, "data after"},
		{"unknown top-level member", "PUT", path("s"), `{"roleTypes":{}}`, nil, 400, "$.roleTypes"},
		{"unknown constants member", "PUT", path("s"), `{"constants":{"sys":{}}}`, nil, 400, "$.constants.sys"},
		{"visibility", "PUT", path("s"), `{"constants":{"system":{"visibility":"secret"}}}`, nil, 400, "$.constants.system.visibility"},
		{"visibility full", "PUT", path("s"), `{"constants":{"system":{"visibility":"full"}}}`, nil, 400, "$.constants.system.visibility"},
		{"maxMembersCount 0", "PUT", path("s"), `{"constants":{"system":{"maxMembersCount":0}}}`, nil, 400, "$.constants.system.maxMembersCount"},
		{"maxMembersCount 101", "PUT", path("s"), `{"constants":{"system":{"maxMembersCount":101}}}`, nil, 400, "$.constants.system.maxMembersCount"},
		{"maxMembersCount a string", "PUT", path("s"), `{"constants":{"system":{"maxMembersCount":"8"}}}`, nil, 400, "$.constants.system.maxMembersCount"},
		{"version fractional", "PUT", path("s"), `{"constants":{"system":{"version":1.5}}}`, nil, 400, "$.constants.system.version"},
		{"reservedRemovalTimeout negative", "PUT", path("s"), `{"constants":{"system":{"reservedRemovalTimeout":-1}}}`, nil, 400, "$.constants.system.reservedRemovalTimeout"},
		{"reservedRemovalTimeout 0", "PUT", path("s"), `{"constants":{"system":{"reservedRemovalTimeout":0}}}`, nil, 400, "$.constants.system.reservedRemovalTimeout must be a whole number from 1000 to 3600000"},
		{"reservedRemovalTimeout over an hour", "PUT", path("s"), `{"constants":{"system":{"reservedRemovalTimeout":3600001}}}`, nil, 400, "$.constants.system.reservedRemovalTimeout must be a whole number from 1000 to 3600000"},
		{"inactiveRemovalTimeout a string", "PUT", path("s"), `{"constants":{"system":{"inactiveRemovalTimeout":"7200000"}}}`, nil, 400, "$.constants.system.inactiveRemovalTimeout must be a whole number from 0 to 2147483647"},
		{"readyRemovalTimeout fractional", "PUT", path("s"), `{"constants":{"system":{"readyRemovalTimeout":0.5}}}`, nil, 400, "$.constants.system.readyRemovalTimeout must be a whole number"},
		{"sessionEmptyTimeout negative", "PUT", path("s"), `{"constants":{"system":{"sessionEmptyTimeout":-1}}}`, nil, 400, "$.constants.system.sessionEmptyTimeout must be a whole number"},
		{"sessionEmptyTimeout null", "PUT", path("s"), `{"constants":{"system":{"sessionEmptyTimeout":null}}}`, nil, 400, "$.constants.system.sessionEmptyTimeout must be a whole number"},
		{"constants.system null member", "PUT", path("s"), `{"constants":{"system":{"capabilities":null}}}`, nil, 400, "$.constants.system.capabilities cannot be null"},
		{"keywords not an array", "PUT", path("s"), `{"properties":{"system":{"keywords":"a"}}}`, nil, 400, "$.properties.system.keywords"},
		{"keyword not a string", "PUT", path("s"), `{"properties":{"system":{"keywords":["a",1]}}}`, nil, 400, "$.properties.system.keywords[1]"},
		{"keyword empty", "PUT", path("s"), `{"properties":{"system":{"keywords":[""]}}}`, nil, 400, "$.properties.system.keywords[0]"},
		{"too many keywords", "PUT", path("s"), `{"properties":{"system":{"keywords":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q","r","s","t","u","v","w","x","y","z","A1","B1","C1","D1","E1","F1","G1"]}}}`, nil, 400, "limit is 32"},
		{"turn of strings", "PUT", path("s"), `{"properties":{"system":{"turn":["0"]}}}`, nil, 400, "$.properties.system.turn[0]"},
		{"turn negative", "PUT", path("s"), `{"properties":{"system":{"turn":[-1]}}}`, nil, 400, "$.properties.system.turn[0]"},
		{"joinRestriction", "PUT", path("s"), `{"properties":{"system":{"joinRestriction":"friends"}}}`, nil, 400, "$.properties.system.joinRestriction"},
		{"custom not an object", "PUT", path("s"), `{"properties":{"custom":[1]}}`, nil, 400, "$.properties.custom must be a JSON object"},
		{"custom too big", "PUT", path("s"), `{"properties":{"custom":{"a":"` + strings.Repeat("x", 17000) + `"}}}`, nil, 400, "$.properties.custom.a: 17002 bytes, over the limit of 16384"},
		{"member key", "PUT", path("s"), `{"members":{"you":{}}}`, nil, 400, "$.members.you"},
		{"member key reserve_01", "PUT", path("s"), `{"members":{"reserve_01":{}}}`, nil, 400, "$.members.reserve_01"},
		{"reservation null", "PUT", path("s"), `{"members":{"reserve_0":null}}`, nil, 400, "$.members.reserve_0 cannot be null"},
		{"xuid not an xuid", "PUT", path("s"), `{"members":{"me":{"constants":{"system":{"xuid":"abc"}}}}}`, nil, 400, "$.members.me.constants.system.xuid"},
		{"someone else's xuid", "PUT", path("s"), `{"members":{"me":{"constants":{"system":{"xuid":"1111"}}}}}`, nil, 403, "$.members.me.constants.system.xuid"},
		{"active not a bool", "PUT", path("s"), `{"members":{"me":{"properties":{"system":{"active":"yes"}}}}}`, nil, 400, "$.members.me.properties.system.active"},
		{"active and ready", "PUT", path("s"), `{"members":{"me":{"properties":{"system":{"active":true,"ready":true}}}}}`, nil, 400, "active and ready"},
		{"member turn", "PUT", path("s"), `{"members":{"me":{"turn":true}}}`, nil, 400, "$.members.me.turn: set by the service"},
		{"active null", "PUT", path("s"), `{"members":{"me":{"properties":{"system":{"active":null}}}}}`, nil, 400, "$.members.me.properties.system.active must be true or false"},
		{"member gamertag", "PUT", path("s"), `{"members":{"me":{"gamertag":"x"}}}`, nil, 400, "$.members.me.gamertag: set by the service"},
		{"initialize not a bool", "PUT", path("s"), `{"members":{"me":{"constants":{"system":{"initialize":[]}}}}}`, nil, 400, "$.members.me.constants.system.initialize must be true or false"},
		{"groups not strings", "PUT", path("s"), `{"members":{"me":{"properties":{"system":{"groups":["a",1]}}}}}`, nil, 400, "$.members.me.properties.system.groups[1] must be a string"},
		{"encounters not an array", "PUT", path("s"), `{"members":{"me":{"properties":{"system":{"encounters":"a"}}}}}`, nil, 400, "$.members.me.properties.system.encounters must be an array of strings"},
		{"a number no double holds", "PUT", path("s"), `{"properties":{"custom":{"n":1e999}}}`, nil, 400, "$.properties.custom.n: the number 1e999 does not fit a double"},
		{"a lone surrogate", "PUT", path("s"), `{"properties":{"custom":{"x":"a\ud800b"}}}`, nil, 400, "$.properties.custom.x: a string holds a lone surrogate"},
		{"a lone low surrogate", "PUT", path("s"), `{"servers":{"x":["\udc00"]}}`, nil, 400, "$.servers.x[0]: a string holds a lone surrogate (at byte 18)"},
		{"a lone surrogate in a key", "PUT", path("s"), `{"properties":{"custom":{"\ud800":1}}}`, nil, 400, "$.properties.custom: a string holds a lone surrogate (at byte 26)"},
		{"a reversed pair", "PUT", path("s"), `{"members":{"me":{"properties":{"custom":{"x":"\udc00\ud800"}}}}}`, nil, 400, "lone surrogate"},
		{"body too large", "PUT", path("s"), `{"servers":{"a":"` + strings.Repeat("x", MaxBodyBytes) + `"}}`, nil, 400, "exceeds the limit"},
		{"no route", "POST", path("s"), join, nil, 404, ""},
		{"members path other than me", "DELETE", path("s") + "/members/1", "", nil, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := append([]string{}, tt.headers...)
			w := send(write, host, tt.method, tt.target, tt.body, headers...)
			if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.msg) {
				t.Errorf("%d %q, want %d containing %q", w.Code, w.Body, tt.status, tt.msg)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type %q, want text/plain", ct)
			}
		})
	}
	if w := send(write, host, "GET", path("s"), ""); w.Code != http.StatusNoContent {
		t.Errorf("after the refusals the session exists: %d %s", w.Code, w.Body)
	}
}

// TestBothTemplateSpellings: sessionTemplates and sessiontemplates name the
// same session.
func TestBothTemplateSpellings(t *testing.T) {
	write, _, _, _ := setup(t)
	host := tok(t, 9876, false)
	w := send(write, host, "PUT", "/serviceconfigs/"+scidA+"/sessiontemplates/lobby/sessions/x", `{"members":{"me":{"properties":{"system":{"active":true}}}}}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("create via sessiontemplates: %d %s", w.Code, w.Body)
	}
	etag := w.Header().Get("ETag")
	if w := send(write, host, "GET", "/serviceconfigs/"+scidA+"/sessionTemplates/lobby/sessions/x", ""); w.Code != 200 || w.Header().Get("ETag") != etag {
		t.Errorf("read via sessionTemplates: %d %s", w.Code, w.Header())
	}
	if w := send(write, host, "DELETE", "/serviceconfigs/"+scidA+"/sessionTemplates/lobby/sessions/x/members/me", ""); w.Code != http.StatusNoContent {
		t.Errorf("leave: %d %s", w.Code, w.Body)
	}
	if w := send(write, host, "GET", "/serviceconfigs/"+scidA+"/sessiontemplates/lobby/sessions/x", ""); w.Code != http.StatusNoContent {
		t.Errorf("after the last member left: %d %s", w.Code, w.Body)
	}
}

// TestKeptValuesRoundTrip: kept values come back as the same JSON values,
// a surrogate pair and escapes included, written with the fewest escapes
// ("<" as is), whatever escapes the client chose; their size is counted so,
// and their numbers stay as sent.
func TestKeptValuesRoundTrip(t *testing.T) {
	write, _, _, _ := setup(t)
	host := tok(t, 9876, false)
	sent := `{"e":"\ud83d\ude00 \\u \"q\" \u003c\u00e9\/","n":-1.5e300,"i":12345678901234567890,"z":[0,{"a":null}]}`
	w := send(write, host, "PUT", path("kept"), `{"properties":{"custom":`+sent+`}}`)
	if w.Code != 201 || !strings.Contains(w.Body.String(), `"custom":{"e":"😀 \\u \"q\" <é/","i":12345678901234567890,"n":-1.5e300,"z":[0,{"a":null}]}`) {
		t.Errorf("%d %s", w.Code, w.Body)
	}
	// 32 keywords of 256 bytes, each "é" escaped: within the limits however
	// they are written.
	var kws []string
	for i := range 32 {
		kws = append(kws, fmt.Sprintf(`"%s%02d"`, strings.Repeat(`\u00e9`, 127), i))
	}
	if w := send(write, host, "PUT", path("escaped"), `{"properties":{"system":{"keywords":[`+strings.Join(kws, ",")+`]}}}`); w.Code != 201 {
		t.Errorf("escaped keywords: %d %.300s", w.Code, w.Body)
	}
	// The custom object's limit counts its names too.
	big := strings.Repeat("x", 9000)
	if w := send(write, host, "PUT", path("names"), `{"properties":{"custom":{"`+big+`":"`+big+`"}}}`); w.Code != 400 || !strings.Contains(w.Body.String(), "$.properties.custom is 18007 bytes; the limit is 16384") {
		t.Errorf("long names: %d %.300s", w.Code, w.Body)
	}
	if w := send(write, host, "PUT", path("extra"), `{"members":{"me":{"`+big+big+`":1}}}`); w.Code != 400 || !strings.Contains(w.Body.String(), "$.members.me: its fields other than constants and properties are 18006 bytes") {
		t.Errorf("a member's long field name: %d %.300s", w.Code, w.Body)
	}
}

// TestConditionsOnLeaveAndLists: DELETE .../members/me honors If-Match as
// the leave PUT does, and answers the session while it has members; an
// If-Match list matches any of its ETags; Content-Location is escaped.
func TestConditionsOnLeaveAndLists(t *testing.T) {
	write, _, _, _ := setup(t)
	host, guest := tok(t, 9876, false), tok(t, 1111, false)
	join := `{"members":{"me":{"properties":{"system":{"active":true}}}}}`
	w := send(write, host, "PUT", path("a%3Fb%20c"), join)
	etag := w.Header().Get("ETag")
	if w.Code != 201 || w.Header().Get("Content-Location") != "/serviceconfigs/"+scidA+"/sessionTemplates/lobby/sessions/a%3Fb%20c" {
		t.Fatalf("create: %d %q", w.Code, w.Header().Get("Content-Location"))
	}
	// As the payload 2.0 adapter hands a list over: one value each.
	w = send(write, guest, "PUT", path("a%3Fb%20c"), join, "If-Match", `"other"`, "If-Match", etag)
	if w.Code != 200 {
		t.Fatalf("join with an If-Match list holding the ETag: %d %s", w.Code, w.Body)
	}
	if w := send(write, guest, "GET", path("a%3Fb%20c"), "", "If-None-Match", `"other"`, "If-None-Match", w.Header().Get("ETag")); w.Code != 304 {
		t.Errorf("GET with an If-None-Match list holding the ETag: %d", w.Code)
	}
	if w := send(write, guest, "DELETE", path("a%3Fb%20c")+"/members/me", "", "If-Match", etag); w.Code != 412 {
		t.Errorf("leave with a stale If-Match: %d %s", w.Code, w.Body)
	}
	if w := send(write, guest, "DELETE", path("a%3Fb%20c")+"/members/me", ""); w.Code != 200 || !strings.Contains(w.Body.String(), `"count":1`) {
		t.Errorf("leave of a session that keeps a member: %d %s", w.Code, w.Body)
	}
}

// TestRefusedWritesChangeNothing: a session write refused by the rate
// limit (429) is counted before the handler runs, so it changes nothing.
func TestRefusedWritesChangeNothing(t *testing.T) {
	st := testkit.MemStore(t, filepath.Join("..", "sessionsapi", "testdata", "fixture.json"))
	api := testkit.API(t)
	api.Service = ratelimit.SessionDirectory
	api.Limiter = ratelimit.New(st, ratelimit.Config{Services: map[string]ratelimit.Limit{ratelimit.SessionDirectory: {Burst: 3, Sustain: 3}}}.Limits)
	write := New(api, st, st)
	host := tok(t, 9876, false)
	codes := map[int]int{}
	for i := range 5 {
		w := send(write, host, "PUT", path("limited"), fmt.Sprintf(`{"members":{"me":{"properties":{"system":{"active":true}}}},"properties":{"custom":{"seq":%d}}}`, i))
		codes[w.Code]++
	}
	if codes[201]+codes[200] != 3 || codes[429] != 2 {
		t.Fatalf("one after another: %v, want 3 written and 2 × 429", codes)
	}
	d, err := st.Session(t.Context(), scidA, "lobby", "limited")
	if err != nil || d == nil || string(d.PropertiesCustom["seq"]) != "2" {
		t.Errorf("after refused writes the session is %+v (%v), want the third write's", d, err)
	}
}

// TestExpiresIsTheNextTimer: a session holding a reservation answers its
// expiry as nextTimer and as the Expires header.
func TestExpiresIsTheNextTimer(t *testing.T) {
	write, _, _, _ := setup(t)
	w := send(write, tok(t, 9876, false), "PUT", path("timer"), `{"constants":{"system":{"reservedRemovalTimeout":5000}},"members":{"me":{"properties":{"system":{"active":true}}},"reserve_0":{"constants":{"system":{"xuid":"1111"}}}}}`)
	if w.Code != 201 || w.Header().Get("Expires") != "Tue, 01 Dec 2026 10:00:05 GMT" || !strings.Contains(w.Body.String(), `"nextTimer":"2026-12-01T10:00:05Z"`) {
		t.Errorf("%d Expires %q %s", w.Code, w.Header().Get("Expires"), w.Body)
	}
}

// TestKeptTimeouts: MPSD's timeouts other than reservedRemovalTimeout do
// not act here but are kept as sent (0 included: sessionEmptyTimeout 0 is
// what MPSD's templates send), as numbers, which XSAPI reads them as.
func TestKeptTimeouts(t *testing.T) {
	write, _, _, _ := setup(t)
	w := send(write, tok(t, 9876, false), "PUT", path("timeouts"), `{"constants":{"system":{"inactiveRemovalTimeout":7.2e6,"readyRemovalTimeout":180000,"sessionEmptyTimeout":0}},"members":{"me":{"properties":{"system":{"active":true}}}}}`)
	if w.Code != 201 || !strings.Contains(w.Body.String(), `"inactiveRemovalTimeout":7.2e6`) || !strings.Contains(w.Body.String(), `"readyRemovalTimeout":180000`) || !strings.Contains(w.Body.String(), `"sessionEmptyTimeout":0`) {
		t.Errorf("%d %s", w.Code, w.Body)
	}
}

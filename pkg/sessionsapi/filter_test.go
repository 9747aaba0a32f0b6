package sessionsapi

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestQueries(t *testing.T) {
	h := newHandler(t, loaded(t))
	get := "/serviceconfigs/" + scidA + "/sessions"
	post := "/serviceconfigs/" + scidA + "/batch"
	server := token(t, who{server: true})
	tests := []struct {
		name, method, target, body string
		authz                      string
		want                       string
	}{
		{"active only by default", "GET", get + "?xuid=9876", "", "", "9876:deathmatch/session-seven"},
		{"inactive", "GET", get + "?xuid=9876&inactive=true", "", "", "9876:deathmatch/late-night 9876:deathmatch/session-seven"},
		{"private, own xuid", "GET", get + "?xuid=9876&private=true", "", "", "9876:coop/evening-raid 9876:deathmatch/session-seven"},
		{"private and inactive", "GET", get + "?xuid=9876&private=true&inactive=true", "", "", "9876:deathmatch/late-night 9876:coop/evening-raid 9876:deathmatch/session-seven"},
		{"another user, newest first", "GET", get + "?xuid=1111", "", "", "1111:deathmatch/late-night 1111:deathmatch/session-seven 1111:coop/full-house"},
		{"visibility", "GET", get + "?xuid=1111&visibility=full", "", "", "1111:coop/full-house"},
		{"visibility private", "GET", get + "?xuid=9876&visibility=private&private=true", "", "", "9876:coop/evening-raid"},
		{"version", "GET", get + "?xuid=1111&version=1", "", "", "1111:deathmatch/session-seven 1111:coop/full-house"},
		{"keyword", "GET", get + "?xuid=1111&keyword=one", "", "", "1111:deathmatch/late-night 1111:deathmatch/session-seven"},
		{"plus is literal", "GET", get + "?xuid=1111&keyword=a+b", "", "", "1111:deathmatch/late-night"},
		{"%20 is a space", "GET", get + "?xuid=9876&keyword=a%20b&private=true", "", "", "9876:coop/evening-raid"},
		{"take", "GET", get + "?xuid=1111&take=2", "", "", "1111:deathmatch/late-night 1111:deathmatch/session-seven"},
		{"take 0", "GET", get + "?xuid=1111&take=0", "", "", ""},
		{"no sessions", "GET", get + "?xuid=5555", "", "", ""},
		{"reservations, server", "GET", get + "?xuid=4444&reservations=true", "", server, "4444:coop/full-house"},
		{"reserved hidden by default", "GET", get + "?xuid=4444", "", "", ""},
		{"template", "GET", "/serviceconfigs/" + scidA + "/sessiontemplates/coop/sessions?xuid=1111", "", "", "1111:coop/full-house"},
		{"template and inactive", "GET", "/serviceconfigs/" + scidA + "/sessiontemplates/deathmatch/sessions?xuid=9876&inactive=true", "", "", "9876:deathmatch/late-night 9876:deathmatch/session-seven"},
		{"template prefix is exact", "GET", "/serviceconfigs/" + scidA + "/sessiontemplates/death/sessions?xuid=9876", "", "", ""},
		{"keyword only", "GET", get + "?keyword=one", "", "", "-:deathmatch/late-night -:deathmatch/session-seven"},
		{"keyword only, template", "GET", "/serviceconfigs/" + scidA + "/sessiontemplates/coop/sessions?keyword=one", "", "", ""},
		{"keyword only, private hidden", "GET", get + "?keyword=raid", "", "", ""},
		{"keyword only, private, server", "GET", get + "?keyword=raid&private=true", "", server, "-:coop/evening-raid"},
		{"keyword only, take", "GET", get + "?keyword=one&take=1", "", "", "-:deathmatch/late-night"},
		{"keyword only, version", "GET", get + "?keyword=one&version=2", "", "", "-:deathmatch/session-seven"},
		{"scid in upper case", "GET", "/serviceconfigs/7492BACA-C1B4-440D-A391-B7EF364A8D40/sessions?xuid=9876", "", "", "9876:deathmatch/session-seven"},
		{"batch, grouped per xuid in order", "POST", post, `{"xuids":["1111",9876]}`, "",
			"1111:deathmatch/late-night 1111:deathmatch/session-seven 1111:coop/full-house 9876:deathmatch/session-seven"},
		{"batch, take caps the total", "POST", post + "?take=4", `{"xuids":["9876","1111"]}`, "",
			"9876:deathmatch/session-seven 1111:deathmatch/late-night 1111:deathmatch/session-seven 1111:coop/full-house"},
		{"batch, take cuts inside a user", "POST", post + "?take=2", `{"xuids":["9876","1111"]}`, "",
			"9876:deathmatch/session-seven 1111:deathmatch/late-night"},
		{"batch, repeated xuid once", "POST", post, `{"xuids":["9876",9876,"9876"]}`, "", "9876:deathmatch/session-seven"},
		{"batch, unknown users", "POST", post, `{"xuids":["5555","6666"]}`, "", ""},
		{"batch, reservations and private, server", "POST", post + "?reservations=true&private=true", `{"xuids":["5432","1111"]}`, server,
			"5432:deathmatch/session-seven 1111:deathmatch/late-night 1111:coop/evening-raid 1111:deathmatch/session-seven 1111:coop/full-house"},
		{"batch, template", "POST", "/serviceconfigs/" + scidA + "/sessiontemplates/deathmatch/batch?inactive=true", `{"xuids":["9876","1111"]}`, "",
			"9876:deathmatch/late-night 9876:deathmatch/session-seven 1111:deathmatch/late-night 1111:deathmatch/session-seven"},
		{"batch, keyword filter", "POST", post + "?keyword=two", `{"xuids":["9876","1111"]}`, "",
			"9876:deathmatch/session-seven 1111:deathmatch/session-seven"},
		{"other scid", "GET", "/serviceconfigs/" + scidB + "/sessions?xuid=9876", "", "", "9876:deathmatch/other-scid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hd []string
			if tt.authz != "" {
				hd = []string{"Authorization", tt.authz}
			}
			w := call(t, h, tt.method, tt.target, tt.body, hd...)
			if got := rows(t, w); got != tt.want {
				t.Errorf("results\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestResultFields(t *testing.T) {
	h := newHandler(t, loaded(t))
	w := call(t, h, "GET", "/serviceconfigs/"+scidA+"/sessions?xuid=1111&take=100", "")
	byName := map[string]map[string]any{}
	for _, r := range results(t, w) {
		byName[r["sessionRef"].(map[string]any)["name"].(string)] = r
	}
	want := map[string]string{
		// active, open with a restriction, one member merely reserved
		"session-seven": `{"accepted":2,"joinRestriction":"local","keywords":["one","two"],"sessionRef":{"name":"session-seven","scid":"7492baca-c1b4-440d-a391-b7ef364a8d40","templateName":"deathmatch"},"startTime":"2026-11-20T13:45:30.09Z","status":"active","visibility":"open","xuid":"1111"}`,
		// visible: no joinRestriction though one is set; myTurn false is left out; 9 digits cut to 7
		"late-night": `{"accepted":2,"keywords":["one","a+b"],"sessionRef":{"name":"late-night","scid":"7492baca-c1b4-440d-a391-b7ef364a8d40","templateName":"deathmatch"},"startTime":"2026-11-21T23:59:59.1234567Z","status":"active","visibility":"visible","xuid":"1111"}`,
		// full with a restriction; no keywords is []; inactive counts as accepted
		"full-house": `{"accepted":3,"joinRestriction":"local","keywords":[],"sessionRef":{"name":"full-house","scid":"7492baca-c1b4-440d-a391-b7ef364a8d40","templateName":"coop"},"startTime":"2026-11-19T08:00:00.5Z","status":"active","visibility":"full","xuid":"1111"}`,
	}
	for name, js := range want {
		var exp map[string]any
		json.Unmarshal([]byte(js), &exp)
		got := byName[name]
		// Round-trip to compare numbers alike.
		b, _ := json.Marshal(got)
		var norm map[string]any
		json.Unmarshal(b, &norm)
		if !reflect.DeepEqual(norm, exp) {
			t.Errorf("%s:\n got %s\nwant %s", name, b, js)
		}
	}

	// myTurn appears, as true, only where it is true.
	w = call(t, h, "GET", "/serviceconfigs/"+scidA+"/sessions?xuid=9876", "")
	r := results(t, w)[0]
	if r["myTurn"] != true {
		t.Errorf("myTurn = %#v, want true", r["myTurn"])
	}
	// A keyword query has no xuid, status or myTurn.
	for _, r := range results(t, call(t, h, "GET", "/serviceconfigs/"+scidA+"/sessions?keyword=two", "")) {
		for _, k := range []string{"xuid", "status", "myTurn"} {
			if _, ok := r[k]; ok {
				t.Errorf("keyword result has %s", k)
			}
		}
	}
	if body := call(t, h, "GET", "/serviceconfigs/"+scidA+"/sessions?xuid=5555", "").Body.String(); body != `{"results":[]}` {
		t.Errorf("empty answer = %s, want {\"results\":[]}", body)
	}
}

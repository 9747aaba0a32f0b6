package statsapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/configcache"
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/ratelimit"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/xbl"
)

// golden compares body with testdata/golden/name.json (rewritten with -update).
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	testkit.Golden(t, filepath.Join("testdata", "golden", name+".json"), body)
}

// TestGolden sends the request shapes real callers send and compares whole
// bodies.
func TestGolden(t *testing.T) {
	h := newHandler(t, loaded(t))
	tests := []struct {
		name, method, target, body string
		headers                    []string
	}{
		{
			// What XSAPI sends: string xuids, ?operation=read, contract
			// version 1, keys in the 2017 SDK's alphabetical order.
			name: "xsapi_batch", method: "POST", target: "/batch?operation=read",
			body:    `{"requestedscids":[{"requestedstats":["OverallReputation","KD","Motto"],"scid":"` + scidA + `"},{"requestedstats":["Kills"],"scid":"` + scidB + `"}],"requestedusers":["2533274792693551","2533274792693552"]}`,
			headers: []string{"x-xbl-contract-version", "1", "Content-Type", "application/json; charset=utf-8"},
		},
		{
			// The documentation's shape: numeric xuids, no query, no
			// version header, pretty-printed, the largest xuid, a user
			// with no data at all.
			name: "docs_batch", method: "POST", target: "/batch",
			body: `{
  "requestedusers": [18446744073709551615, 2533274792693553],
  "requestedscids": [{"scid": "` + strings.ToUpper(scidA) + `", "requestedstats": ["KD", "OverallReputation"]}]
}`,
		},
		{
			name: "xsapi_single_get", method: "GET",
			target:  "/users/xuid(2533274792693551)/scids/" + scidA + "/stats/OverallReputation,FairplayReputation,KD,Nothing,SecretStat",
			headers: []string{"x-xbl-contract-version", "1"},
		},
		{
			name: "single_get_no_data", method: "GET",
			target: "/users/xuid(2533274792693553)/scids/" + scidA + "/stats/KD",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := call(t, h, tt.method, tt.target, tt.body, tt.headers...)
			if w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			golden(t, tt.name, w.Body.Bytes())
		})
	}
}

type batchResponse struct {
	Users []struct {
		XUID     string  `json:"xuid"`
		Gamertag *string `json:"gamertag"`
		SCIDs    []struct {
			SCID  string `json:"scid"`
			Stats []struct {
				Name  string `json:"statname"`
				Type  string `json:"type"`
				Value string `json:"value"`
			} `json:"stats"`
		} `json:"scids"`
	} `json:"users"`
}

func decode(t *testing.T, w *httptest.ResponseRecorder) batchResponse {
	t.Helper()
	var r batchResponse
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestOrderingAndShape(t *testing.T) {
	h := newHandler(t, loaded(t))
	body := `{"requestedusers":["2533274792693553",2533274792693552,"2533274792693551","2533274792693552"],
		"requestedscids":[
			{"scid":"` + scidB + `","requestedstats":["Kills"]},
			{"scid":"` + scidA + `","requestedstats":["KD","Missing","OverallReputation","KD"]},
			{"scid":"` + strings.ToUpper(scidA) + `","requestedstats":["OverallReputation"]}]}`
	w := call(t, h, "POST", "/batch", body)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	r := decode(t, w)
	var got []string
	for _, u := range r.Users {
		got = append(got, u.XUID)
	}
	if want := []string{"2533274792693553", "2533274792693552", "2533274792693551"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("users %v, want %v (request order, each once)", got, want)
	}
	for _, u := range r.Users {
		// A, asked twice, is answered once, where it was first asked and
		// as it was first written.
		if len(u.SCIDs) != 2 || u.SCIDs[0].SCID != scidB || u.SCIDs[1].SCID != scidA {
			t.Fatalf("user %s scids %+v, want B, A", u.XUID, u.SCIDs)
		}
	}
	noData := r.Users[0]
	if noData.Gamertag != nil {
		t.Errorf("user without a profile has gamertag %q", *noData.Gamertag)
	}
	for _, s := range noData.SCIDs {
		if s.Stats == nil || len(s.Stats) != 0 {
			t.Errorf("user without data: stats %v, want []", s.Stats)
		}
	}
	if !strings.Contains(w.Body.String(), `"stats":[]`) {
		t.Error(`body does not write "stats":[] for missing data`)
	}
	night := r.Users[1]
	if night.Gamertag == nil || *night.Gamertag != "NightOwl" {
		t.Errorf("gamertag %v, want NightOwl", night.Gamertag)
	}
	var names []string
	for _, s := range night.SCIDs[1].Stats {
		names = append(names, s.Name+"="+s.Type+":"+s.Value)
	}
	if want := "KD=Double:0.1 OverallReputation=Integer:-12"; strings.Join(names, " ") != want {
		t.Errorf("stats %v, want %s (request order, only stats with a value, once each)", names, want)
	}
	saint := r.Users[2]
	if len(saint.SCIDs[0].Stats) != 1 || saint.SCIDs[0].Stats[0].Value != "1204" {
		t.Errorf("scid B stats %+v", saint.SCIDs[0].Stats)
	}
}

func TestValuesAreStringsExactly(t *testing.T) {
	h := newHandler(t, loaded(t))
	w := call(t, h, "GET", "/users/xuid(2533274792693551)/scids/"+scidA+"/stats/SecretStat,KD,Motto", "")
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	for _, want := range []string{
		`{"statname":"SecretStat","type":"Integer","value":"9007199254740993"}`, // beyond float64's exact range
		`{"statname":"KD","type":"Double","value":"1.25"}`,
		`{"statname":"Motto","type":"String","value":"gg \"ez\" <3 é"}`,
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("body lacks %s:\n%s", want, w.Body)
		}
	}
	w = call(t, h, "POST", "/batch", `{"requestedusers":[18446744073709551615],"requestedscids":[{"scid":"`+scidA+`","requestedstats":["KD"]}]}`)
	if !strings.Contains(w.Body.String(), `"xuid":"18446744073709551615"`) || !strings.Contains(w.Body.String(), `"value":"1e+21"`) {
		t.Errorf("largest xuid or large double not exact: %s", w.Body)
	}
}

func TestKeyOrderAndUnknownKeysDoNotMatter(t *testing.T) {
	h := newHandler(t, loaded(t))
	a := call(t, h, "POST", "/batch", `{"requestedusers":["2533274792693551"],"requestedscids":[{"scid":"`+scidA+`","requestedstats":["KD"]}]}`)
	b := call(t, h, "POST", "/batch", `{"x-extra":{"deep":[1,2]},"requestedscids":[{"requestedstats":["KD"],"note":"hi","scid":"`+scidA+`"}],"requestedusers":[2533274792693551],"RequestedUsers":"ignored"}`)
	if a.Code != 200 || b.Code != 200 {
		t.Fatalf("%d %s / %d %s", a.Code, a.Body, b.Code, b.Body)
	}
	if a.Body.String() != b.Body.String() || a.Header().Get("ETag") != b.Header().Get("ETag") {
		t.Errorf("different answers:\n%s\n%s", a.Body, b.Body)
	}
}

func TestETag(t *testing.T) {
	st := loaded(t)
	h := newHandler(t, st)
	target := "/users/xuid(2533274792693551)/scids/" + scidA + "/stats/OverallReputation"
	first := call(t, h, "GET", target, "")
	etag := first.Header().Get("ETag")
	if first.Code != 200 || !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Fatalf("status %d, ETag %q: want a strong tag", first.Code, etag)
	}
	if cc := first.Header().Get("Cache-Control"); cc == "" || strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q does not allow revalidation", cc)
	}
	for name, inm := range map[string]string{
		"exact": etag, "in a list": `"other", ` + etag, "star": "*", "weak form": "W/" + etag,
	} {
		w := call(t, h, "GET", target, "", "If-None-Match", inm)
		if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
			t.Errorf("%s: %d with %d body bytes, want 304 and none", name, w.Code, w.Body.Len())
		}
		if w.Header().Get("ETag") != etag {
			t.Errorf("%s: 304 without the ETag", name)
		}
	}
	if w := call(t, h, "GET", target, "", "If-None-Match", `"stale"`); w.Code != 200 {
		t.Errorf("stale tag: %d, want 200", w.Code)
	}
	// The batch form has ETags too.
	batch := `{"requestedusers":["2533274792693551"],"requestedscids":[{"scid":"` + scidA + `","requestedstats":["OverallReputation"]}]}`
	bw := call(t, h, "POST", "/batch", batch)
	if w := call(t, h, "POST", "/batch", batch, "If-None-Match", bw.Header().Get("ETag")); w.Code != http.StatusNotModified {
		t.Errorf("batch revalidation: %d, want 304", w.Code)
	}

	// A changed value changes the tag.
	st.Load(testkit.DatasetText(t, `{"users":[{"xuid":"2533274792693551","gamertag":"WarriorSaint","stats":{"`+scidA+`":{"OverallReputation":{"type":"Integer","value":67}}}}]}`))
	after := call(t, h, "GET", target, "", "If-None-Match", etag)
	if after.Code != 200 || after.Header().Get("ETag") == etag || !strings.Contains(after.Body.String(), `"value":"67"`) {
		t.Errorf("after a change: %d, ETag %q (was %q): %s", after.Code, after.Header().Get("ETag"), etag, after.Body)
	}
}

func TestUnauthorized(t *testing.T) {
	h := newHandler(t, loaded(t))
	expired, _ := devkey.Mint(xbl.Caller{XUID: 1, UserHash: "uhs", TitleID: titleA, Sandbox: "RETAIL"}, -time.Hour)
	for name, authz := range map[string]string{"none": "", "garbage": "XBL3.0 x=u;abc", "expired": expired} {
		w := call(t, h, "GET", "/users/xuid(1)/scids/"+scidA+"/stats/KD", "", "Authorization", authz)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, w.Code)
		}
	}
}

func TestNoConfigurationIs404(t *testing.T) {
	h := newHandler(t, loaded(t))
	w := call(t, h, "POST", "/batch", `{"requestedusers":["1"],"requestedscids":[{"scid":"`+scidA+`","requestedstats":["KD"]},{"scid":"`+scidC+`","requestedstats":["KD"]}]}`)
	if w.Code != http.StatusNotFound || !strings.Contains(errorMessage(w), scidC) {
		t.Errorf("%d %s, want 404 naming %s", w.Code, w.Body, scidC)
	}
	w = call(t, h, "GET", "/users/xuid(1)/scids/"+scidC+"/stats/KD", "")
	if w.Code != http.StatusNotFound {
		t.Errorf("GET: %d, want 404", w.Code)
	}
}

func TestUnknownRouteIs404(t *testing.T) {
	h := newHandler(t, loaded(t))
	for _, target := range []string{"/batches", "/users/xuid(1)/scids/" + scidA + "/stats"} {
		if w := call(t, h, "GET", target, ""); w.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", target, w.Code)
		}
	}
}

// TestDynamoDBDownIs503: a store that cannot answer is a 503 with
// Retry-After, and its cause never reaches the caller.
func TestDynamoDBDownIs503(t *testing.T) {
	st := loaded(t)
	st.Err = derrors.Wrap(derrors.Unavailable, "the service is temporarily unavailable; retry later", errors.New("dial tcp 127.0.0.1:1: connection refused"))
	w := call(t, newHandler(t, st), "GET", "/users/xuid(1)/scids/"+scidA+"/stats/KD", "")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("%d (Retry-After %q) %s, want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if strings.Contains(w.Body.String(), "127.0.0.1") || strings.Contains(w.Body.String(), "connect") {
		t.Errorf("503 body leaks the cause: %s", w.Body)
	}
}

// slowReader answers when the context ends.
type slowReader struct{}

func (slowReader) ReadStats(ctx context.Context, _ stats.Query) (*stats.Found, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestSlowDynamoDBIs408: a store that does not answer ends the request
// with a 408 before the function's deadline.
func TestSlowDynamoDBIs408(t *testing.T) {
	h := newHandler(t, slowReader{})
	w := testkit.WithDeadline(t, h, time.Second, token(t, caller{}), "GET", "/users/xuid(1)/scids/"+scidA+"/stats/KD", "")
	if w.Code != http.StatusRequestTimeout {
		t.Errorf("%d %s, want 408", w.Code, w.Body)
	}
}

// TestAccessBeforeAnyRead: with the configurations cached (a warm
// instance), a refused request reads nothing at all, and an allowed one
// reads only the statistics.
func TestAccessBeforeAnyRead(t *testing.T) {
	st := loaded(t)
	h := New(testkit.API(t), configcache.New(st, time.Minute, 10), st)
	batch := `{"requestedusers":["2533274792693551"],"requestedscids":[{"scid":"` + scidA + `","requestedstats":["OverallReputation"]},{"scid":"` + scidB + `","requestedstats":["Kills"]}]}`
	if w := call(t, h, "POST", "/batch", batch); w.Code != 200 {
		t.Fatalf("warm-up: %d %s", w.Code, w.Body)
	}
	for _, tt := range []struct {
		name, tok, body string
		status          int
	}{
		{"other sandbox", token(t, caller{sandbox: "XDKS.9"}), batch, 403},
		{"restricted stat", token(t, caller{title: "1"}), `{"requestedusers":["1"],"requestedscids":[{"scid":"` + scidA + `","requestedstats":["SecretStat"]}]}`, 403},
		{"unconfigured scid", token(t, caller{}), `{"requestedusers":["1"],"requestedscids":[{"scid":"` + scidC + `","requestedstats":["KD"]}]}`, 404},
		{"unconfigured, again", token(t, caller{}), `{"requestedusers":["1"],"requestedscids":[{"scid":"` + scidC + `","requestedstats":["KD"]}]}`, 404},
	} {
		name := tt.name
		t.Run(name, func(t *testing.T) {
			before := st.Reads()
			w := call(t, h, "POST", "/batch", tt.body, "Authorization", tt.tok)
			if w.Code != tt.status {
				t.Fatalf("%d %s, want %d", w.Code, w.Body, tt.status)
			}
			// The unconfigured SCID is read once (the cache then keeps its
			// absence); everything else was cached by the warm-up.
			if reads := st.Reads() - before; reads > 0 && name != "unconfigured scid" {
				t.Errorf("%d reads for a refused request on a warm instance", reads)
			}
		})
	}
	before := st.Reads()
	if w := call(t, h, "POST", "/batch", batch); w.Code != 200 || st.Reads()-before != 1 {
		t.Errorf("warm allowed request: %d, %d reads, want 200 and the statistics read only", w.Code, st.Reads()-before)
	}
}

// TestGamertagComesWithStatistics: the gamertag is the one the user's
// statistics items carry; a user with a profile but no statistics in the
// requested SCIDs is answered without one (the contract: "when known").
func TestGamertagComesWithStatistics(t *testing.T) {
	st := loaded(t)
	st.Load(testkit.DatasetText(t, `{"users":[{"xuid":"42","gamertag":"NoStats"}]}`))
	h := newHandler(t, st)
	w := call(t, h, "POST", "/batch", `{"requestedusers":["42","2533274792693552"],"requestedscids":[{"scid":"`+scidA+`","requestedstats":["KD"]}]}`)
	r := decode(t, w)
	if r.Users[0].Gamertag != nil {
		t.Errorf("user without statistics has gamertag %q", *r.Users[0].Gamertag)
	}
	if r.Users[1].Gamertag == nil || *r.Users[1].Gamertag != "NightOwl" {
		t.Errorf("gamertag %v, want NightOwl", r.Users[1].Gamertag)
	}
}

// TestRateLimit: past its burst limit a caller gets the 429 XSAPI reads,
// while another user is served.
func TestRateLimit(t *testing.T) {
	st := loaded(t)
	api := testkit.API(t)
	api.Limiter = ratelimit.New(st, ratelimit.Config{Services: map[string]ratelimit.Limit{ratelimit.UserStats: {Burst: 3, Sustain: 300}}}.Limits)
	api.Service = ratelimit.UserStats
	h := New(api, st, st)
	target := "/users/xuid(2533274792693551)/scids/" + scidA + "/stats/OverallReputation"
	for i := range 3 {
		if w := call(t, h, "GET", target, ""); w.Code != 200 {
			t.Fatalf("request %d: %d %s", i+1, w.Code, w.Body)
		}
	}
	w := testkit.Do(h, token(t, caller{}), "GET", target, "")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("4th: %d %q %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	ra, err := strconv.Atoi(w.Header().Get("Retry-After"))
	if err != nil || ra < 1 || ra > 15 {
		t.Errorf("Retry-After %q, want whole seconds up to 15", w.Header().Get("Retry-After"))
	}
	var body struct {
		Version, CurrentRequests, MaxRequests, PeriodInSeconds int
		LimitType                                              string
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Version != 1 || body.CurrentRequests != 4 ||
		body.MaxRequests != 3 || body.PeriodInSeconds != 15 || body.LimitType != "Rate" {
		t.Errorf("429 body %s", w.Body)
	}
	// Known over the limit: refused with no read and no count at all.
	before := st.Reads()
	if w := testkit.Do(h, token(t, caller{}), "GET", target, ""); w.Code != http.StatusTooManyRequests || st.Reads() != before {
		t.Errorf("5th: %d after %d store calls, want 429 and none", w.Code, st.Reads()-before)
	}
	if w := testkit.Do(h, token(t, caller{xuid: 99}), "GET", target, ""); w.Code != 200 {
		t.Errorf("another user: %d", w.Code)
	}
}

// TestRateLimiterFailsOpen: when the count cannot be made, the request is
// served.
func TestRateLimiterFailsOpen(t *testing.T) {
	st := loaded(t)
	failing := testkit.MemStore(t, "testdata/fixture.json")
	failing.Err = errors.New("dynamodb throttled")
	api := testkit.API(t)
	api.Limiter = ratelimit.New(failing, ratelimit.Config{Services: map[string]ratelimit.Limit{ratelimit.UserStats: {Burst: 1, Sustain: 1}}}.Limits)
	api.Service = ratelimit.UserStats
	h := New(api, st, st)
	for range 3 {
		if w := call(t, h, "GET", "/users/xuid(2533274792693551)/scids/"+scidA+"/stats/OverallReputation", ""); w.Code != 200 {
			t.Fatalf("%d %s, want 200 (fail open)", w.Code, w.Body)
		}
	}
}

// TestStatNamesAreCaseInsensitive: a stat is found whatever the letter case
// it is asked in, answered as asked, and its access level applies in every
// case.
func TestStatNamesAreCaseInsensitive(t *testing.T) {
	h := newHandler(t, loaded(t))
	w := call(t, h, "GET", "/users/xuid(2533274792693551)/scids/"+scidA+"/stats/kd,OVERALLREPUTATION", "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"statname":"kd","type":"Double","value":"1.25"`) ||
		!strings.Contains(w.Body.String(), `"statname":"OVERALLREPUTATION"`) {
		t.Errorf("%d %s", w.Code, w.Body)
	}
	w = call(t, h, "GET", "/users/xuid(2533274792693551)/scids/"+scidA+"/stats/secretSTAT", "", "Authorization", token(t, caller{title: titleB}))
	if w.Code != http.StatusForbidden {
		t.Errorf("a restricted stat in another case: %d, want 403", w.Code)
	}
}

package statswriteapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/ratelimit"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/statsapi"
	"github.com/xblread/xblread/pkg/store/memstore"
	"github.com/xblread/xblread/pkg/xbl"
)

const (
	scidA  = "7492baca-c1b4-440d-a391-b7ef364a8d40" // owned by titleA; sandboxes XDKS.1, RETAIL
	titleA = "1297287135"
	me     = "2533274792693551"
)

func setup(t *testing.T) (*memstore.Store, http.Handler, http.Handler) {
	t.Helper()
	st := testkit.MemStore(t, "../statsapi/testdata/fixture.json")
	return st, New(testkit.API(t), st, st), statsapi.New(testkit.API(t), st, st)
}

// ownerCaller is the player of path, writing with a title that owns scidA.
var ownerCaller = xbl.Caller{XUID: 2533274792693551, UserHash: "u", TitleID: titleA, Sandbox: "RETAIL"}

func tok(t *testing.T, x xbl.XUID, title string, server bool, gamertag string) string {
	return testkit.Token(t, xbl.Caller{XUID: x, UserHash: "u", TitleID: title, Sandbox: "RETAIL", Server: server, Gamertag: gamertag})
}

const path = "/stats/users/" + me + "/scids/" + scidA

// TestWriteThenRead: what XSAPI writes (POST, PATCH with a delete by
// null) is what the batch read and the document GET answer at once, with
// the types the values imply, and names in any letter case.
func TestWriteThenRead(t *testing.T) {
	_, write, read := setup(t)
	owner := tok(t, 2533274792693551, titleA, false, "NewTag")
	post := `{"stats":{"title":{"Wins":{"value":47},"Ratio":{"value":0.5},"Big":{"value":1e300},"Motto":{"value":"gg"},"Huge":{"value":9223372036854775807}}},
		"$schema":"http://stats.xboxlive.com/2017-1/schema#","previousRevision":0,"revision":52000000000,"timestamp":"2026-06-01T12:34:56.1234567Z"}`
	if w := testkit.Do(write, owner, "POST", path, post, "x-xbl-contract-version", "4"); w.Code != 200 {
		t.Fatalf("POST: %d %s", w.Code, w.Body)
	}
	if w := testkit.Do(write, owner, "PATCH", path+"/", `{"stats":{"title":{"WINS":{"value":48},"Motto":null,"Nope":null}}}`); w.Code != 200 {
		t.Fatalf("PATCH: %d %s", w.Code, w.Body)
	}
	w := testkit.Do(read, owner, "POST", "/batch", `{"requestedusers":["`+me+`"],"requestedscids":[{"scid":"`+scidA+`","requestedstats":["wins","Ratio","Big","Motto","Huge","OverallReputation"]}]}`)
	for _, want := range []string{
		`"gamertag":"NewTag"`, `{"statname":"wins","type":"Integer","value":"48"}`, `{"statname":"Ratio","type":"Double","value":"0.5"}`,
		`{"statname":"Big","type":"Double","value":"1e+300"}`, `{"statname":"Huge","type":"Integer","value":"9223372036854775807"}`,
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("batch read lacks %s:\n%s", want, w.Body)
		}
	}
	if strings.Contains(w.Body.String(), "Motto") || strings.Contains(w.Body.String(), "OverallReputation") {
		t.Errorf("deleted or replaced stats still answered: %s", w.Body)
	}
	g := testkit.Do(write, owner, "GET", path, "")
	var doc struct {
		Revision  int64
		Timestamp string
		Stats     struct {
			Title map[string]struct{ Value any }
		}
	}
	if g.Code != 200 || json.Unmarshal(g.Body.Bytes(), &doc) != nil || doc.Revision != 52000000000 || doc.Stats.Title["WINS"].Value != 48.0 || len(doc.Stats.Title) != 4 {
		t.Errorf("GET: %d %s", g.Code, g.Body)
	}
}

// TestNamesFoldAsEqualFold: two stat names are one statistic exactly when
// strings.EqualFold says so (xbl.StatKey): "i" and "İ" are two, so one
// write may hold both; "ſ" is "s", and a read in any of its spellings
// finds it.
func TestNamesFoldAsEqualFold(t *testing.T) {
	_, write, read := setup(t)
	owner := tok(t, 2533274792693551, titleA, false, "")
	if w := testkit.Do(write, owner, "PATCH", path, `{"stats":{"title":{"i":{"value":1},"İ":{"value":2},"ſ":{"value":3},"ς":{"value":4}}}}`); w.Code != 200 {
		t.Fatalf("PATCH: %d %s", w.Code, w.Body)
	}
	w := testkit.Do(read, owner, "POST", "/batch", `{"requestedusers":["`+me+`"],"requestedscids":[{"scid":"`+scidA+`","requestedstats":["I","İ","S","ı","Σ"]}]}`)
	for _, want := range []string{
		`{"statname":"I","type":"Integer","value":"1"}`, `{"statname":"İ","type":"Integer","value":"2"}`,
		`{"statname":"S","type":"Integer","value":"3"}`, `{"statname":"Σ","type":"Integer","value":"4"}`,
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("batch read lacks %s:\n%s", want, w.Body)
		}
	}
	if strings.Contains(w.Body.String(), `"ı"`) {
		t.Errorf("dotless i, never written, answered: %s", w.Body)
	}
}

// TestStaleRevisionChangesNothing: a POST not newer than the stored
// document answers 200 and changes nothing (last writer wins).
func TestStaleRevisionChangesNothing(t *testing.T) {
	_, write, _ := setup(t)
	owner := tok(t, 2533274792693551, titleA, false, "")
	for _, b := range []string{`{"stats":{"title":{"A":{"value":1}}},"revision":10}`, `{"stats":{"title":{"A":{"value":2}}},"revision":9}`, `{"stats":{"title":{"A":{"value":3}}},"revision":10}`} {
		if w := testkit.Do(write, owner, "POST", path, b); w.Code != 200 {
			t.Fatalf("%s: %d %s", b, w.Code, w.Body)
		}
	}
	if g := testkit.Do(write, owner, "GET", path, ""); !strings.Contains(g.Body.String(), `"A":{"value":1}`) {
		t.Errorf("stale writes applied: %s", g.Body)
	}
}

// TestWhoMayWrite: only the user (or a server), from the SCID's sandbox,
// with a title that owns it; nothing is written on a refusal.
func TestWhoMayWrite(t *testing.T) {
	st, write, _ := setup(t)
	body := `{"stats":{"title":{"A":{"value":1}}},"revision":1}`
	for _, tt := range []struct {
		name, token, target string
		status              int
	}{
		{"another user", tok(t, 42, titleA, false, ""), path, 403},
		{"another title", tok(t, 2533274792693551, "1818181818", false, ""), path, 403},
		{"another sandbox", testkit.Token(t, xbl.Caller{XUID: 2533274792693551, UserHash: "u", TitleID: titleA, Sandbox: "XDKS.9"}), path, 403},
		{"unconfigured scid", tok(t, 2533274792693551, titleA, false, ""), "/stats/users/" + me + "/scids/00000000-0000-0000-0000-0000000000cc", 404},
		{"a server for another user", tok(t, 1, titleA, true, ""), path, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := st.Document(t.Context(), stats.Target{XUID: 2533274792693551, SCID: scidA})
			w := testkit.Do(write, tt.token, "POST", tt.target, body)
			if w.Code != tt.status {
				t.Fatalf("%d %s, want %d", w.Code, w.Body, tt.status)
			}
			after, _ := st.Document(t.Context(), stats.Target{XUID: 2533274792693551, SCID: scidA})
			if tt.status != 200 && after.Revision != before.Revision {
				t.Error("a refused write changed the document")
			}
		})
	}
}

// TestBadBodies: every bad body is a 400 naming the field.
func TestBadBodies(t *testing.T) {
	_, write, _ := setup(t)
	owner := tok(t, 2533274792693551, titleA, false, "")
	for _, tt := range []struct{ method, body, want string }{
		{"POST", `[]`, "the request body must be a JSON object"},
		{"POST", `null`, "the request body must be a JSON object, not null"},
		{"PATCH", `null`, "the request body must be a JSON object, not null"},
		{"POST", `{"stats":{"title":{"A":{"value":null}}}}`, `$.stats.title.A.value must be a number or a string`},
		{"POST", "{\"stats\":{\"title\":{\"A\":{\"value\":\"\xff\"}}}}", `$.stats.title.A.value: a string is not valid UTF-8 (at byte 33)`},
		{"POST", `{"stats":{"title":{}},"timestamp":"yesterday"}`, "$.timestamp must be a UTC time"},
		{"POST", `{"stats":{"title":{}},"timestamp":"2026-13-45T99:00:00Z"}`, "$.timestamp must be a UTC time"},
		{"POST", `{"stats":{"title":{}},"timestamp":"2026-06-01T12:34:56+02:00"}`, "$.timestamp must be a UTC time"},
		{"POST", `{"stats":{"title":{}},"timestamp":"2026-06-01T12:34:56.12345678Z"}`, "$.timestamp must be a UTC time"},
		{"POST", ``, "request body is empty"},
		{"POST", `{"revision":50,"revision":2,"stats":{"title":{}}}`, "$.revision: the member \"revision\" comes twice in one object"},
		{"PATCH", `{"stats":{"title":{"Wins":{"value":1},"Wins":{"value":2}}}}`, "$.stats.title.Wins: the member \"Wins\" comes twice"},
		{"PATCH", `{"stats":{"title":{"A":{"value":1}}},"stats":{"title":{"B":{"value":1}}}}`, "$.stats: the member \"stats\" comes twice"},
		{"POST", `{"revision":1,"stats":{"title":{"Motto":{"value":"\ud800"}}}}`, "$.stats.title.Motto.value: a string holds a lone surrogate"},
		{"POST", `{"revision":1,"stats":{"title":{"Motto":{"value":"ab\udfff"}}}}`, "$.stats.title.Motto.value: a string holds a lone surrogate"},
		{"POST", `{"stats":`, "request body is not valid JSON"},
		{"PATCH", `{"stats":{"title":{}}} x`, "the request body has data after its JSON value (at byte 23)"},
		{"PATCH", `{"stats":{"title":{}}} {}`, "the request body has data after its JSON value (at byte 23)"},
		{"POST", `{}`, "$.stats is required (an object, not null)"},
		{"POST", `{"stats":null}`, "$.stats is required (an object, not null)"},
		{"POST", `{"stats":{}}`, "$.stats.title is required (an object, not null)"},
		{"PATCH", `{"stats":{"title":null}}`, "$.stats.title is required (an object, not null)"},
		{"POST", `{"stats":{"title":{"A":{}}}}`, `$.stats.title.A.value is required (a number or a string, not null)`},
		{"POST", `{"stats":{"title":{"A":{"value":true}}}}`, `$.stats.title.A.value must be a number or a string`},
		{"POST", `{"stats":{"title":{"A":{"value":{}}}}}`, `$.stats.title.A.value must be a number or a string`},
		{"POST", `{"stats":{"title":{"A":{"value":1e400}}}}`, "$.stats.title.A.value is 1e400: no double holds it"},
		{"POST", `{"stats":{"title":{"A":{"value":1e-400}}}}`, "$.stats.title.A.value is 1e-400: no double holds it"},
		{"PATCH", `{"stats":{"title":{"a b":{"value":1e999}}}}`, `$.stats.title["a b"].value is 1e999: no double holds it`},
		{"PATCH", `{"stats":{"title":{"` + strings.Repeat("n", 500_000) + `":{"value":1}}}}`, `…"]: stat name is longer than 256 bytes`},
		{"POST", `{"stats":{"title":{"A":{"value":1` + strings.Repeat("0", 400_000) + `}}}}`, `0…: no double holds it`},
		{"POST", `{"stats":{"title":{"A":null}}}`, "leave the stat out instead"},
		{"POST", `{"stats":{"title":{"A":{"value":1},"a":{"value":2}}}}`, "another letter case"},
		{"POST", `{"stats":{"title":{"A":{"value":"` + strings.Repeat("v", 1025) + `"}}}}`, "the limit is 1024"},
		{"POST", `{"stats":{"title":{"A":{"value":1}}},"revision":"x"}`, "$.revision must be a non-negative 64-bit integer"},
		{"POST", `{"stats":{"title":{}},"revision":null}`, "$.revision must be a non-negative 64-bit integer"},
		{"POST", `{"stats":{"title":{}},"revision":1.0}`, "$.revision must be a non-negative 64-bit integer"},
		{"POST", `{"stats":{"title":{}},"revision":1e3}`, "$.revision must be a non-negative 64-bit integer"},
		{"POST", `{"stats":{"title":{}},"revision":9223372036854775808}`, "$.revision must be a non-negative 64-bit integer"},
		{"POST", `{"stats":{"title":{}},"revision":-1}`, "$.revision must be a non-negative 64-bit integer"},
		{"POST", `{"stats":{"title":{}},"previousRevision":null}`, "$.previousRevision must be a 64-bit integer"},
		{"POST", `{"stats":{"title":{}},"previousRevision":"0"}`, "$.previousRevision must be a 64-bit integer"},
		{"POST", `{"stats":{"title":{}},"timestamp":null}`, "$.timestamp must be a UTC time"},
		{"POST", `{"stats":{"title":{}},"$schema":5}`, "$.$schema must be a string"},
		{"POST", `{"stats":{"title":{}},"Other":{"x":1,"x":2}}`, `$.Other.x: the member "x" comes twice`},
		{"POST", `{"stats":{"title":{"B":{"value":1},"b":{"value":1},"A":{"value":1},"a":{"value":2}}}}`, `$.stats.title.a: the stat "A" in another letter case`},
		{"POST", `{"stats":{"title":{"A":{"value":1}},"other":[1}}`, "the request body is not valid JSON (at byte 46)"},
		{"PATCH", `{"stats":{"title":{"":{"value":1}}}}`, "stat name is empty"},
		{"POST", `{"stats":{"title":{"s":{"value":1},"ſ":{"value":2}}}}`, `$.stats.title["ſ"]: the stat "s" in another letter case`},
		{"POST", `{"stats":{"title":{"σ":{"value":1},"Σ":{"value":2}}}}`, `the stat "Σ" in another letter case`},
		{"PATCH", `{"stats":{"title":{"a\u0085b":{"value":1}}}}`, "stat name contains a control character"},
		{"PATCH", "{\"stats\":{\"title\":{\"a\u009fb\":{\"value\":1}}}}", "stat name contains a control character"},
	} {
		w := testkit.Do(write, owner, tt.method, path, tt.body)
		var e struct{ ErrorMessage string }
		json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != 400 || !strings.Contains(e.ErrorMessage, tt.want) {
			t.Errorf("%s %.200s: %d %.300s, want 400 naming %q", tt.method, tt.body, w.Code, w.Body, tt.want)
		}
		if w.Body.Len() > 600 {
			t.Errorf("%s %.200s: the answer is %d bytes: it repeats the input", tt.method, tt.body, w.Body.Len())
		}
	}
	// What the rules allow passes: the members they do not name, whatever
	// they hold, $schema null, and a PATCH's revision, which it ignores.
	for _, tt := range []struct{ method, body string }{
		{"POST", `{"stats":{"title":{"A":{"value":-0}}},"revision":-0,"previousRevision":-5,"$schema":null,"other":[null,{"revision":"x"}]}`},
		{"POST", `{"Revision":"x","stats":{"title":{"A":{"value":1,"type":"Integer"}},"user":{}}}`},
		{"PATCH", `{"stats":{"title":{"A":{"value":"\u0041"}}},"revision":"x","timestamp":null}`},
	} {
		if w := testkit.Do(write, owner, tt.method, path, tt.body); w.Code != 200 {
			t.Errorf("%s %s: %d %s, want 200", tt.method, tt.body, w.Code, w.Body)
		}
	}
	if w := testkit.Do(write, owner, "POST", path, `{}`, "x-xbl-contract-version", "5"); w.Code != http.StatusNotAcceptable {
		t.Errorf("contract 5: %d", w.Code)
	}
}

// TestRefusedWritesChangeNothing: with the write limit on, a write the
// limiter refuses (429) is not applied, one after another and all at once;
// every write that answered 200 is.
func TestRefusedWritesChangeNothing(t *testing.T) {
	st := testkit.MemStore(t, "../statsapi/testdata/fixture.json")
	api := testkit.API(t)
	api.Service = ratelimit.StatsWrite
	api.Limiter = ratelimit.New(st, ratelimit.Config{Services: map[string]ratelimit.Limit{ratelimit.StatsWrite: {Burst: 3, Sustain: 3}}}.Limits)
	write := New(api, st, st)

	owner := tok(t, 2533274792693551, titleA, false, "")
	codes := map[int]int{}
	for i := range 5 {
		w := testkit.Do(write, owner, "POST", path, fmt.Sprintf(`{"stats":{"title":{"Seq%d":{"value":%d}}},"revision":%d}`, i, i, 100+i))
		codes[w.Code]++
	}
	if codes[200] != 3 || codes[429] != 2 {
		t.Fatalf("one after another: %v, want 3 × 200 and 2 × 429", codes)
	}
	doc, _ := st.Document(t.Context(), stats.Target{XUID: 2533274792693551, SCID: scidA})
	if doc == nil || doc.Revision != 102 || len(doc.Stats) != 1 || doc.Stats["Seq2"].Value != "2" {
		t.Errorf("after refused POSTs the document is %+v, want the third write's", doc)
	}

	other := tok(t, 2533274792693552, titleA, false, "")
	var mu sync.Mutex
	var ok []string
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("P%d", i)
			if w := testkit.Do(write, other, "PATCH", "/stats/users/2533274792693552/scids/"+scidA, `{"stats":{"title":{"`+name+`":{"value":1}}}}`); w.Code == 200 {
				mu.Lock()
				ok = append(ok, name)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	doc, _ = st.Document(t.Context(), stats.Target{XUID: 2533274792693552, SCID: scidA})
	var patched []string
	for name := range doc.Stats {
		if strings.HasPrefix(name, "P") {
			patched = append(patched, name)
		}
	}
	slices.Sort(ok)
	slices.Sort(patched)
	if len(ok) != 3 || !slices.Equal(ok, patched) {
		t.Errorf("all at once: %v answered 200, %v were written", ok, patched)
	}
}

func TestTimestampForm(t *testing.T) {
	for s, want := range map[string]bool{
		"2026-06-01T12:34:56Z":          true,
		"2026-06-01T12:34:56.1Z":        true,
		"2026-06-01T12:34:56.1234567Z":  true,
		"2026-06-01T12:34:56.12345678Z": false,
		"2026-06-01T12:34:56.Z":         false,
		"2026-06-01T12:34:56":           false,
		"2026-06-01 12:34:56Z":          false,
		"2026-06-01T12:34:5xZ":          false,
		"2026-06-01T12:34:56+00:00":     false,
		"2026-06-01T12:34:56.1a3Z":      false,
		"":                              false,
		"Z":                             false,
	} {
		if got := timestampForm(s); got != want {
			t.Errorf("timestampForm(%q) = %v, want %v", s, got, want)
		}
	}
}

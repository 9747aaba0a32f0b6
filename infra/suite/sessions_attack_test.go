package suite

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/pkg/xbl"
)

// attackStack is a local API over a fresh table holding the demo fixture,
// with a caller for each xuid asked for, and the path of a session.
type attackStack struct {
	t    *testing.T
	base string
}

func newAttackStack(t *testing.T, name string) *attackStack {
	ddbtest.Require(t)
	table := fmt.Sprintf("%s-%d", name, time.Now().UnixNano())
	loadDemo(t, ddbtest.Endpoint(t), table)
	return &attackStack{t: t, base: stackOn(t, ddbtest.Endpoint(t), table)}
}

func (a *attackStack) player(x xbl.XUID) string {
	return token(a.t, xbl.Caller{XUID: x, TitleID: titleA, Sandbox: "RETAIL", Gamertag: "P" + x.String()})
}

func (a *attackStack) server() string {
	return token(a.t, xbl.Caller{TitleID: titleA, Sandbox: "RETAIL", Server: true})
}

func sessionPath(name string) string {
	return "/serviceconfigs/" + scidA + "/sessionTemplates/lobby/sessions/" + name
}

// call is one session request; it fails the test unless the status is want.
func (a *attackStack) call(what, tok, method, path, body string, want int, headers ...[2]string) (string, string) {
	a.t.Helper()
	code, etag, out := sessionCall(a.t, a.base, tok, method, path, body, headers...)
	if code != want {
		a.t.Errorf("%s: %d %.300s, want %d", what, code, out, want)
	}
	return etag, out
}

// keywordRows are the sessions a keyword query finds, by name.
func (a *attackStack) keywordRows(kw string) []string {
	a.t.Helper()
	code, _, out := sessionCall(a.t, a.base, a.server(), "GET", "/serviceconfigs/"+scidA+"/sessions?keyword="+url.QueryEscape(kw), "")
	var r struct{ Results []queryRow }
	if code != 200 || json.Unmarshal([]byte(out), &r) != nil {
		a.t.Fatalf("keyword %q: %d %s", kw, code, out)
	}
	var names []string
	for _, row := range r.Results {
		names = append(names, row.SessionRef.Name)
	}
	return names
}

const activeMe = `{"members":{"me":{"properties":{"system":{"active":true}}}}}`

// TestSessionLeaveAlwaysSucceeds: keywords are one exactly when their
// canonical forms are (xbl.FoldKeyword), in the document, the index and the
// query, so no write touches one index item twice: the last member of a
// session of 32 keywords, "i" first and "İ" last, leaves (DELETE
// .../members/me and "me": null) with 204; "s" and "ſ" are one keyword, as
// are "σ" and "ς", found by any of their spellings.
func TestSessionLeaveAlwaysSucceeds(t *testing.T) {
	a := newAttackStack(t, "leave")
	host := a.player(7001)
	kws := []string{`"i"`}
	for i := range 30 {
		kws = append(kws, fmt.Sprintf(`"k%d"`, i))
	}
	kws = append(kws, `"İ"`)
	create := `{"properties":{"system":{"keywords":[` + strings.Join(kws, ",") + `]}},"members":{"me":{"properties":{"system":{"active":true}}}}}`
	for _, leave := range []struct{ method, body string }{{"DELETE", ""}, {"PUT", `{"members":{"me":null}}`}} {
		name := "kw-" + strings.ToLower(leave.method)
		_, out := a.call("create with i and İ", host, "PUT", sessionPath(name), create, 201)
		if !strings.Contains(out, `"keywords":["i",`) || !strings.Contains(out, `,"İ"]`) {
			t.Errorf("i and İ are two keywords: %.400s", out)
		}
		if rows := a.keywordRows("İ"); len(rows) != 1 || rows[0] != name {
			t.Errorf("keyword İ: %q", rows)
		}
		path := sessionPath(name)
		if leave.method == "DELETE" {
			path += "/members/me"
		}
		a.call("the last leave ("+leave.method+")", host, leave.method, path, leave.body, 204)
		a.call("GET after the leave", host, "GET", sessionPath(name), "", 204)
		if rows := a.keywordRows("i"); len(rows) != 0 {
			t.Errorf("keyword i after the leave: %q", rows)
		}
	}

	_, out := a.call("create with s, ſ, σ, ς", host, "PUT", sessionPath("kw-fold"), `{"properties":{"system":{"keywords":["ſ","s","S","σ","ς","Σ"]}},"members":{"me":{"properties":{"system":{"active":true}}}}}`, 201)
	if !strings.Contains(out, `"keywords":["s","ς"]`) {
		t.Errorf("keywords as stored: %.400s", out)
	}
	for _, kw := range []string{"s", "S", "ſ", "σ", "ς", "Σ"} {
		if rows := a.keywordRows(kw); len(rows) != 1 || rows[0] != "kw-fold" {
			t.Errorf("keyword %q: %q", kw, rows)
		}
	}
	a.call("the last leave", host, "DELETE", sessionPath("kw-fold")+"/members/me", "", 204)
}

// TestPrivateSessionTellsStrangersNothing: a caller who may not read a
// private session gets the same 403, with the same message, for every
// write, whatever constants or custom values it guesses and whatever
// condition it sends, and a 403 for a GET; nothing is written.
func TestPrivateSessionTellsStrangersNothing(t *testing.T) {
	a := newAttackStack(t, "stranger")
	host, stranger := a.player(7001), a.player(7002)
	path := sessionPath("pin")
	etag, _ := a.call("create", host, "PUT", path, `{"constants":{"system":{"visibility":"private","maxMembersCount":7},"custom":{"pin":"1234"}},"members":{"me":{"properties":{"system":{"active":true}}}}}`, 201, [2]string{"If-None-Match", "*"})
	want := ""
	for _, w := range []struct {
		name, method, body string
		headers            [][2]string
	}{
		{"maxMembersCount wrong", "PUT", `{"constants":{"system":{"maxMembersCount":8}}}`, nil},
		{"maxMembersCount right", "PUT", `{"constants":{"system":{"maxMembersCount":7}}}`, nil},
		{"PIN wrong", "PUT", `{"constants":{"custom":{"pin":"0000"}}}`, nil},
		{"PIN right", "PUT", `{"constants":{"custom":{"pin":"1234"}}}`, nil},
		{"visibility wrong", "PUT", `{"constants":{"system":{"visibility":"open"}}}`, nil},
		{"join", "PUT", activeMe, nil},
		{"properties", "PUT", `{"properties":{"custom":{"a":1}}}`, nil},
		{"a turn of nobody", "PUT", `{"properties":{"system":{"turn":[42]}}}`, nil},
		{"reserve", "PUT", `{"members":{"reserve_0":{"constants":{"system":{"xuid":"7003"}}}}}`, nil},
		{"leave", "PUT", `{"members":{"me":null}}`, nil},
		{"DELETE", "DELETE", "", nil},
		{"the current ETag", "PUT", `{"constants":{"custom":{"pin":"0000"}}}`, [][2]string{{"If-Match", etag}}},
		{"a stale ETag", "PUT", `{"constants":{"custom":{"pin":"0000"}}}`, [][2]string{{"If-Match", `"00000000-0000-4000-8000-000000000000"`}}},
		{"update only", "PUT", `{"constants":{"custom":{"pin":"0000"}}}`, [][2]string{{"If-Match", "*"}}},
		{"create only", "PUT", activeMe, [][2]string{{"If-None-Match", "*"}}},
		{"DELETE with the current ETag", "DELETE", "", [][2]string{{"If-Match", etag}}},
		{"DELETE with a stale ETag", "DELETE", "", [][2]string{{"If-Match", `"00000000-0000-4000-8000-000000000000"`}}},
	} {
		p := path
		if w.method == "DELETE" {
			p += "/members/me"
		}
		code, got, out := sessionCall(t, a.base, stranger, w.method, p, w.body, w.headers...)
		if want == "" {
			want = out
		}
		if code != 403 || out != want || got != "" {
			t.Errorf("%s: %d %q (ETag %q); every stranger's write gets 403 %q", w.name, code, out, got, want)
		}
	}
	a.call("GET by the stranger", stranger, "GET", path, "", 403)
	if cur, out := a.call("GET by the host", host, "GET", path, "", 200); cur != etag || !strings.Contains(out, `"count":1`) {
		t.Errorf("the strangers changed the session: %s %s", cur, out)
	}
}

// TestReservedPlayerMayOnlyJoinOrLeave: a player invited to a private
// session (a reservation) may not rewrite it before it joins; it may join,
// and then writes as a member; or decline.
func TestReservedPlayerMayOnlyJoinOrLeave(t *testing.T) {
	a := newAttackStack(t, "reserved")
	host, invited := a.player(7001), a.player(7003)
	path := sessionPath("invite")
	etag, _ := a.call("create with a reservation", host, "PUT", path, `{"constants":{"system":{"visibility":"private"}},"members":{"me":{"properties":{"system":{"active":true}}},"reserve_0":{"constants":{"system":{"xuid":"7003"}}}}}`, 201)
	for _, body := range []string{
		`{"properties":{"custom":{"map":"mine"}}}`,
		`{"properties":{"system":{"joinRestriction":"local"}}}`,
		`{"properties":{"system":{"turn":[0]}}}`,
		`{"properties":{"system":{"keywords":[]}}}`,
		`{"servers":{"s":{"constants":{}}}}`,
		`{"members":{"reserve_0":{"constants":{"system":{"xuid":"7004"}}}}}`,
		`{"members":{"me":null},"properties":{"custom":{"map":"mine"}}}`,
	} {
		if _, out := a.call("a reserved player's "+body, invited, "PUT", path, body, 403); !strings.Contains(out, "holds only a reservation") {
			t.Errorf("%s: %s", body, out)
		}
	}
	if cur, _ := a.call("GET", host, "GET", path, "", 200); cur != etag {
		t.Errorf("the reserved player changed the session")
	}
	a.call("the reserved player joins", invited, "PUT", path, activeMe, 200)
	a.call("then writes as a member", invited, "PUT", path, `{"properties":{"custom":{"map":"mine"}}}`, 200)
}

// TestMergedCustomLimit: the 16 KiB limit of properties.custom holds for
// the object as merged: writes of 10 KB each cannot grow it past it.
func TestMergedCustomLimit(t *testing.T) {
	a := newAttackStack(t, "merge")
	host := a.player(7001)
	path := sessionPath("grow")
	a.call("create", host, "PUT", path, activeMe, 201)
	ten := strings.Repeat("x", 10_000)
	a.call("custom a", host, "PUT", path, `{"properties":{"custom":{"a":"`+ten+`"}}}`, 200)
	if _, out := a.call("custom b", host, "PUT", path, `{"properties":{"custom":{"b":"`+ten+`"}}}`, 400); !strings.Contains(out, "$.properties.custom would be 20015 bytes after this write; the limit is 16384") {
		t.Errorf("custom b: %s", out)
	}
	a.call("custom b for a", host, "PUT", path, `{"properties":{"custom":{"a":null,"b":"`+ten+`"}}}`, 200)
	a.call("the last leave", host, "DELETE", path+"/members/me", "", 204)
}

// TestEverySessionEnds: a reservedRemovalTimeout of 0 (which set no expiry)
// is refused; a creator who reserves 99 seats and leaves leaves a session
// that is gone, from the document and from every reserved user's list,
// once the reservations expire.
func TestEverySessionEnds(t *testing.T) {
	a := newAttackStack(t, "ends")
	host := a.player(7001)
	path := sessionPath("seats")
	reserve := func(timeout string) string {
		var r []string
		for i := range 99 {
			r = append(r, fmt.Sprintf(`"reserve_%d":{"constants":{"system":{"xuid":"%d"}}}`, i, 9000+i))
		}
		return `{"constants":{"system":{"reservedRemovalTimeout":` + timeout + `}},"members":{"me":{"properties":{"system":{"active":true}}},` + strings.Join(r, ",") + `}}`
	}
	if _, out := a.call("timeout 0", host, "PUT", path, reserve("0"), 400); !strings.Contains(out, "$.constants.system.reservedRemovalTimeout must be a whole number from 1000 to 3600000") {
		t.Errorf("timeout 0: %s", out)
	}
	// The reservations expire 3 s after the create's clock (which is
	// later than created): time enough, even on a loaded machine, for the
	// creator to leave a session that still holds them.
	created := time.Now()
	a.call("timeout 3 s", host, "PUT", path, reserve("3000"), 201)
	if code, _, out := sessionCall(t, a.base, host, "DELETE", path+"/members/me", ""); code != 200 && !(code == 204 && time.Since(created) >= 3*time.Second) {
		t.Errorf("the creator leaves: %d %s, want 200", code, out)
	}
	batch := func() []queryRow {
		code, _, out := sessionCall(t, a.base, a.server(), "POST", "/serviceconfigs/"+scidA+"/batch?reservations=true", `{"xuids":["9000","9098"]}`)
		var r struct{ Results []queryRow }
		if code != 200 || json.Unmarshal([]byte(out), &r) != nil {
			t.Fatalf("batch: %d %s", code, out)
		}
		return r.Results
	}
	if rows := batch(); len(rows) != 2 && time.Since(created) < 2900*time.Millisecond {
		t.Errorf("before the reservations expire: %+v", rows)
	}
	time.Sleep(time.Until(created.Add(3100 * time.Millisecond)))
	a.call("GET once the reservations expired", a.server(), "GET", path, "", 204)
	if rows := batch(); len(rows) != 0 {
		t.Errorf("the reserved users' lists: %+v", rows)
	}
}

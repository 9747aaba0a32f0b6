package suite

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/pkg/xbl"
)

// sessionCall is one session request through the local API as XSAPI
// sends it (contract 107).
func sessionCall(t *testing.T, base, tok, method, path, body string, headers ...[2]string) (int, string, string) {
	t.Helper()
	h := append([][2]string{{"Authorization", tok}, {"x-xbl-contract-version", "107"}, {"Content-Type", "application/json; charset=utf-8"}}, headers...)
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	code, hdr, out := send(t, method, base+path, b, h)
	return code, hdr.Get("ETag"), out
}

type queryRow struct {
	XUID       string   `json:"xuid"`
	Status     string   `json:"status"`
	Accepted   int      `json:"accepted"`
	Visibility string   `json:"visibility"`
	MyTurn     bool     `json:"myTurn"`
	Keywords   []string `json:"keywords"`
	SessionRef struct {
		Name string `json:"name"`
	} `json:"sessionRef"`
}

// TestSessionWritesThroughTheLocalAPI: a game creates a lobby, a friend
// joins, the host reserves a seat, sets keywords and the turn; after each
// step the batch query, the one-user GET and the keyword query through the
// same local API (other functions, the same DynamoDB Local table) show the
// new state; the last leave removes the session from every query.
func TestSessionWritesThroughTheLocalAPI(t *testing.T) {
	ddbtest.Require(t)
	table := fmt.Sprintf("sessw-%d", time.Now().UnixNano())
	loadDemo(t, ddbtest.Endpoint(t), table)
	base := stackOn(t, ddbtest.Endpoint(t), table)
	host := token(t, xbl.Caller{XUID: 7001, TitleID: titleA, Sandbox: "RETAIL", Gamertag: "Host"})
	friend := token(t, xbl.Caller{XUID: 7002, TitleID: titleA, Sandbox: "RETAIL", Gamertag: "Friend"})
	srv := token(t, xbl.Caller{TitleID: titleA, Sandbox: "RETAIL", Server: true})
	path := "/serviceconfigs/" + scidA + "/sessionTemplates/lobby/sessions/suite-1"
	query := func(q string) []queryRow {
		t.Helper()
		var code int
		var out string
		if strings.HasPrefix(q, "{") {
			code, _, out = sessionCall(t, base, srv, "POST", "/serviceconfigs/"+scidA+"/batch?reservations=true&inactive=true", q)
		} else {
			code, _, out = sessionCall(t, base, srv, "GET", "/serviceconfigs/"+scidA+"/sessions?"+q, "")
		}
		var a struct{ Results []queryRow }
		if code != 200 || json.Unmarshal([]byte(out), &a) != nil {
			t.Fatalf("query %s: %d %s", q, code, out)
		}
		return a.Results
	}
	step := func(name string, tok, method, body string, want int, headers ...[2]string) string {
		t.Helper()
		code, etag, out := sessionCall(t, base, tok, method, path, body, headers...)
		if code != want {
			t.Fatalf("%s: %d %s, want %d", name, code, out, want)
		}
		return etag
	}
	etag := step("create", host, "PUT", `{"constants":{"system":{"visibility":"open","maxMembersCount":3,"version":1},"custom":{}},"members":{"me":{"constants":{"system":{"xuid":"7001","initialize":true}},"properties":{"system":{"active":true}}}}}`, 201, [2]string{"If-None-Match", "*"})
	if rows := query(`{"xuids":["7001"]}`); len(rows) != 1 || rows[0].Status != "active" || rows[0].Accepted != 1 || rows[0].Visibility != "open" {
		t.Fatalf("after create: %+v", rows)
	}
	step("join", friend, "PUT", `{"members":{"me":{"constants":{"system":{"xuid":"7002","initialize":true}},"properties":{"system":{"active":true}}}}}`, 200)
	step("reserve and keywords", host, "PUT", `{"members":{"reserve_0":{"constants":{"system":{"xuid":"7003","initialize":true}}}},"properties":{"system":{"keywords":["suite"],"turn":[1]}}}`, 200)
	rows := query(`{"xuids":["7001","7002","7003"]}`)
	if len(rows) != 3 || rows[0].Accepted != 2 || rows[0].Visibility != "full" || rows[1].Status != "active" || !rows[1].MyTurn || rows[2].Status != "reserved" {
		t.Errorf("after join and reserve: %+v", rows)
	}
	if rows := query("keyword=suite"); len(rows) != 1 || rows[0].SessionRef.Name != "suite-1" {
		t.Errorf("keyword query: %+v", rows)
	}
	if rows := query("xuid=7002"); len(rows) != 1 || !rows[0].MyTurn {
		t.Errorf("one-user GET: %+v", rows)
	}
	// An If-Match list holding the current ETag (after others) matches,
	// through the local API's payload 2.0 event as through API Gateway.
	code, listed, out := sessionCall(t, base, host, "PUT", path, `{"properties":{"system":{"joinRestriction":"local"}}}`, [2]string{"If-Match", `"not-this", ` + cur0(t, base, host, path)})
	if code != 200 || listed == "" {
		t.Errorf("If-Match list: %d %s", code, out)
	}
	// A stale ETag fails with the current session.
	code, cur, out := sessionCall(t, base, host, "PUT", path, `{"properties":{"system":{"keywords":[]}}}`, [2]string{"If-Match", etag})
	if code != 412 || cur == etag || !strings.Contains(out, `"keywords":["suite"]`) {
		t.Errorf("stale If-Match: %d %s %s", code, cur, out)
	}
	if code, _, out := sessionCall(t, base, friend, "DELETE", path+"/members/me", ""); code != 200 || !strings.Contains(out, `"count":2`) {
		t.Fatalf("friend leaves: %d %s", code, out)
	}
	step("host leaves", host, "PUT", `{"members":{"me":null}}`, 200)
	if rows := query(`{"xuids":["7001","7002","7003"]}`); len(rows) != 1 || rows[0].XUID != "7003" {
		t.Errorf("only the reservation is left: %+v", rows)
	}
	// The reserved player takes the seat and leaves last: the session goes.
	reserved := token(t, xbl.Caller{XUID: 7003, TitleID: titleA, Sandbox: "RETAIL"})
	step("reserved joins", reserved, "PUT", `{"members":{"me":{"properties":{"system":{"active":true}}}}}`, 200)
	step("reserved leaves", reserved, "PUT", `{"members":{"me":null}}`, 204)
	if rows := query(`{"xuids":["7001","7002","7003"]}`); len(rows) != 0 {
		t.Errorf("after the last leave: %+v", rows)
	}
	if rows := query("keyword=suite"); len(rows) != 0 {
		t.Errorf("keyword after the last leave: %+v", rows)
	}
	if code, _, out := sessionCall(t, base, host, "GET", path, ""); code != 204 {
		t.Errorf("GET after the last leave: %d %s", code, out)
	}
}

// TestSessionRaceAcrossInstances: two local APIs (two function instances)
// on one table race If-Match updates with the same ETag: exactly one
// wins each round, the other gets 412 with the winner's session and ETag.
func TestSessionRaceAcrossInstances(t *testing.T) {
	ddbtest.Require(t)
	table := fmt.Sprintf("sessrace-%d", time.Now().UnixNano())
	loadDemo(t, ddbtest.Endpoint(t), table)
	bases := []string{stackOn(t, ddbtest.Endpoint(t), table), stackOn(t, ddbtest.Endpoint(t), table)}
	host := token(t, xbl.Caller{XUID: 7001, TitleID: titleA, Sandbox: "RETAIL"})
	path := "/serviceconfigs/" + scidA + "/sessionTemplates/lobby/sessions/race-1"
	code, etag, out := sessionCall(t, bases[0], host, "PUT", path, `{"members":{"me":{"properties":{"system":{"active":true}}}}}`, [2]string{"If-None-Match", "*"})
	if code != 201 {
		t.Fatalf("create: %d %s", code, out)
	}
	for round := range 10 {
		var wg sync.WaitGroup
		type res struct {
			code       int
			etag, body string
		}
		got := make([]res, 2)
		for i, base := range bases {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, e, b := sessionCall(t, base, host, "PUT", path, fmt.Sprintf(`{"properties":{"system":{"keywords":["r%d-i%d"]}}}`, round, i), [2]string{"If-Match", etag})
				got[i] = res{c, e, b}
			}()
		}
		wg.Wait()
		win, lose := got[0], got[1]
		if win.code != 200 {
			win, lose = lose, win
		}
		if win.code != 200 || lose.code != 412 || lose.etag != win.etag || lose.body != win.body {
			t.Fatalf("round %d: %d and %d; want 200 and 412 with the winner's session (%s vs %s)", round, got[0].code, got[1].code, got[0].etag, got[1].etag)
		}
		etag = win.etag
	}
}

// cur0 is the session's current ETag.
func cur0(t *testing.T, base, tok, path string) string {
	t.Helper()
	code, etag, out := sessionCall(t, base, tok, "GET", path, "")
	if code != 200 || etag == "" {
		t.Fatalf("GET: %d %s", code, out)
	}
	return etag
}

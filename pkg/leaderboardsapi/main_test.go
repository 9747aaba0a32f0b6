package leaderboardsapi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/xbl"
)

// Test data: see testdata/fixture.json.
const (
	fixturePath = "testdata/fixture.json"
	scidBoards  = "0f1e2d3c-4b5a-4697-8877-665544332211" // title 1297287135; XDKS.1, RETAIL; boards Score, Time, Secret
	scidPlain   = "c402ff50-3e76-11e2-a25f-0800200c1212" // title 1818181818; RETAIL; no leaderboards
	scidNone    = "00000000-0000-0000-0000-0000000000cc" // no configuration
	titleA      = "1297287135"
	titleB      = "1818181818"
)

// newHandler serves the fixture from an in-memory store.
func newHandler(t testing.TB) http.Handler {
	t.Helper()
	s := testkit.MemStore(t, fixturePath)
	return New(testkit.API(t), s, s)
}

// caller describes a token; the zero value of a field takes a default.
type caller struct {
	xuid    uint64
	title   string
	sandbox string
}

func token(t testing.TB, c caller) string {
	t.Helper()
	if c.xuid == 0 {
		c.xuid = 2533274792693501
	}
	if c.title == "" {
		c.title = titleA
	}
	if c.sandbox == "" {
		c.sandbox = "RETAIL"
	}
	return testkit.Token(t, xbl.Caller{XUID: xbl.XUID(c.xuid), UserHash: "uhs", TitleID: c.title, Sandbox: c.sandbox})
}

// get sends GET target with auth and headers (name, value pairs; an
// "Authorization" of "" sends none). A 200 body must be one XSAPI reads
// as written; any other body must be the JSON error body.
func get(t testing.TB, h http.Handler, auth, target string, headers ...string) (*httptest.ResponseRecorder, *parsed) {
	t.Helper()
	w := testkit.Do(h, auth, "GET", target, "", headers...)
	if w.Code != http.StatusOK {
		checkErrorBody(t, w)
		return w, nil
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("GET %s: Content-Type %q", target, ct)
	}
	p, err := xsapiParse(w.Body.Bytes())
	if err != nil {
		t.Fatalf("GET %s: XSAPI fails: %v\n%s", target, err, w.Body)
	}
	if len(p.Misreads) != 0 {
		t.Errorf("GET %s: XSAPI misreads %v\n%s", target, p.Misreads, w.Body)
	}
	return w, p
}

// checkErrorBody checks the JSON error body every error carries.
func checkErrorBody(t testing.TB, w *httptest.ResponseRecorder) {
	t.Helper()
	var e struct {
		Code    *int    `json:"errorCode"`
		Message *string `json:"errorMessage"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code == nil || e.Message == nil || *e.Message == "" {
		t.Errorf("error body %q is not {errorCode, errorMessage}", w.Body)
		return
	}
	if *e.Code != w.Code {
		t.Errorf("errorCode %d, status %d", *e.Code, w.Code)
	}
	for _, h := range []string{"Content-Type", "Cache-Control", httpapi.RequestIDHeader} {
		if w.Header().Get(h) == "" {
			t.Errorf("error response lacks %s", h)
		}
	}
}

// errorMessage returns an error body's errorMessage.
func errorMessage(w *httptest.ResponseRecorder) string {
	var e struct {
		Message string `json:"errorMessage"`
	}
	json.Unmarshal(w.Body.Bytes(), &e)
	return e.Message
}

// The oracle: each board's order computed here from the fixture file
// alone, by its own rules: ranked values are the Integer and Double ones,
// compared as exact numbers; the board's sort, then ties by xuid as a
// number, the smaller first; a rank is 1 + the number of strictly better
// values (1, 2, 2, 4).

type oracleEntry struct {
	xuid     uint64
	value    *big.Rat
	gamertag string
}

type oracleBoard struct {
	stat, colType string
	ascending     bool
	entries       []oracleEntry
}

// rankOf is x's position in b's order (from 1), 0 when x is not on it.
func (b *oracleBoard) rankOf(x uint64) int {
	return 1 + slices.IndexFunc(b.entries, func(e oracleEntry) bool { return e.xuid == x })
}

// aroundStart is the position a page of n rows around the player at
// position pos starts from: the first player of the value (n-1)/2 places
// before the player's value, when the page then holds the player's whole
// tie; else the tie's first player, when the tie fits a page; else the
// player (leaderboards.AroundStart, worked out here on the oracle).
func (b *oracleBoard) aroundStart(pos, n int) int {
	g := b.groupStart(pos)
	end := pos
	for end < len(b.entries) && b.entries[end].value.Cmp(b.entries[pos-1].value) == 0 {
		end++
	}
	switch s := b.groupStart(max(1, g-(n-1)/2)); {
	case s+n-1 >= end:
		return s
	case end-g+1 <= n:
		return g
	}
	return pos
}

// groupStart is the position of the first player tied with the player
// at position pos: that player's rank.
func (b *oracleBoard) groupStart(pos int) int {
	for pos > 1 && pos <= len(b.entries) && b.entries[pos-2].value.Cmp(b.entries[pos-1].value) == 0 {
		pos--
	}
	return pos
}

type oracleData struct {
	boards map[string]*oracleBoard // by "scid/stat"
	xuids  []uint64                // every user of the fixture
}

func oracle(t testing.TB) *oracleData {
	t.Helper()
	data, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ServiceConfigs []struct {
			SCID         string `json:"scid"`
			Leaderboards []struct {
				Stat, Sort, Type string
			} `json:"leaderboards"`
		} `json:"serviceConfigs"`
		Users []struct {
			XUID     string                               `json:"xuid"`
			Gamertag string                               `json:"gamertag"`
			Stats    map[string]map[string]map[string]any `json:"stats"`
		} `json:"users"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	o := &oracleData{boards: map[string]*oracleBoard{}}
	for _, u := range doc.Users {
		x, err := strconv.ParseUint(u.XUID, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		o.xuids = append(o.xuids, x)
	}
	for _, c := range doc.ServiceConfigs {
		for _, l := range c.Leaderboards {
			b := &oracleBoard{stat: l.Stat, colType: cmp.Or(l.Type, "Integer"), ascending: l.Sort == "ascending"}
			for i, u := range doc.Users {
				v, ok := u.Stats[c.SCID][l.Stat]
				if !ok || (v["type"] != "Integer" && v["type"] != "Double") {
					continue
				}
				r, ok := new(big.Rat).SetString(fmt.Sprint(v["value"]))
				if !ok {
					t.Fatalf("fixture value %v", v["value"])
				}
				b.entries = append(b.entries, oracleEntry{xuid: o.xuids[i], value: r, gamertag: u.Gamertag})
			}
			slices.SortFunc(b.entries, func(x, y oracleEntry) int {
				c := x.value.Cmp(y.value)
				if !b.ascending {
					c = -c
				}
				return cmp.Or(c, cmp.Compare(x.xuid, y.xuid))
			})
			o.boards[c.SCID+"/"+l.Stat] = b
		}
	}
	return o
}

// checkPage checks that p is board b's page of up to n rows from rank
// start, as the oracle has it.
func checkPage(t testing.TB, p *parsed, b *oracleBoard, start, n int) {
	t.Helper()
	total := len(b.entries)
	if int(p.TotalCount) != total {
		t.Errorf("totalCount %d, want %d", p.TotalCount, total)
	}
	if len(p.Columns) != 1 || p.Columns[0] != (parsedColumn{b.stat, b.colType}) {
		t.Errorf("columns %+v, want [{%s %s}]", p.Columns, b.stat, b.colType)
	}
	want := []oracleEntry{}
	if start <= total {
		want = b.entries[start-1 : min(total, start-1+n)]
	}
	if len(p.Rows) != len(want) {
		t.Fatalf("%d rows from rank %d, want %d", len(p.Rows), start, len(want))
	}
	for i, r := range p.Rows {
		e, rank := want[i], b.groupStart(start+i)
		v, ok := new(big.Rat).SetString(r.Values[0])
		switch {
		case int(r.Rank) != rank || r.GlobalRank != r.Rank:
			t.Errorf("row %d: rank %d, globalrank %d; want %d", i, r.Rank, r.GlobalRank, rank)
		case r.XUID != e.xuid:
			t.Errorf("rank %d: xuid %d, want %d", rank, r.XUID, e.xuid)
		case len(r.Values) != 1 || !ok || v.Cmp(e.value) != 0:
			t.Errorf("rank %d: value %q, want %s", rank, r.Values, e.value.RatString())
		case r.Gamertag != e.gamertag || r.ModernGamertag != e.gamertag || r.UniqueModernGamertag != e.gamertag || r.ModernGamertagSuffix != "":
			t.Errorf("rank %d: gamertags %q %q %q %q, want %q", rank, r.Gamertag, r.ModernGamertag, r.ModernGamertagSuffix, r.UniqueModernGamertag, e.gamertag)
		case r.Percentile != float64(rank)/float64(total):
			t.Errorf("rank %d: percentile %s, want %d/%d", rank, r.PercentileText, rank, total)
		}
	}
	last := start - 1 + len(p.Rows)
	switch {
	case len(p.Rows) > 0 && last < total:
		if p.PagingNull || p.ContinuationToken == "" {
			t.Errorf("page ending at rank %d of %d has no continuation token", last, total)
		}
	default:
		if !p.PagingNull {
			t.Errorf("last page: pagingInfo is not null (token %q)", p.ContinuationToken)
		}
		if k := len(p.Rows); k > 0 && b.groupStart(total) == total && p.Rows[k-1].PercentileText != "1.0" {
			t.Errorf("last row's percentile is written %s, want 1.0", p.Rows[k-1].PercentileText)
		}
	}
}

// boardPath is the global query's path for stat on scid.
func boardPath(scid, stat string) string {
	return "/scids/" + scid + "/leaderboards/stat(" + stat + ")"
}

// v41 is the contract version header XSAPI sends with the global query.
var v41 = []string{"x-xbl-contract-version", "4.1"}

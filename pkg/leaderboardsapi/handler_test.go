package leaderboardsapi

import (
	"encoding/json"
	"math"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/leaderboards"
)

// golden compares body with testdata/golden/name.json (rewritten with
// go test -update).
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	testkit.Golden(t, filepath.Join("testdata", "golden", name+".json"), body)
}

// TestGolden sends the requests XSAPI's own tests build (docs/API.md,
// "Leaderboards") and compares whole bodies; each is also read as XSAPI reads it and
// checked against the oracle.
func TestGolden(t *testing.T) {
	h := newHandler(t)
	o := oracle(t)
	auth := token(t, caller{})
	tests := []struct {
		name, stat, query string
		start, n          int
	}{
		{"score_top", "Score", "maxItems=100", 1, 100},
		{"score_first_of_two", "Score", "maxItems=2", 1, 2},
		{"score_skip_to_rank", "Score", "maxItems=3&skipToRank=4", 4, 3},
		// 2533274792693505 is 6th, tied at 750 with the 4th to the 7th
		// (all rank 4): the tie is longer than the page, so the page
		// starts at the player (leaderboards.AroundStart).
		{"score_skip_to_tied_user", "Score", "maxItems=3&skipToUser=2533274792693505", 6, 3},
		{"time_ascending", "Time", "maxItems=100", 1, 100},
		{"secret_by_owner", "Secret", "", 1, 10},
		// Extra columns: each row's statistics the caller may read.
		{"score_valuemetadata", "Score", "include=valuemetadata&maxItems=3", 1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := boardPath(scidBoards, tt.stat)
			if tt.query != "" {
				target += "?" + tt.query
			}
			w, p := get(t, h, auth, target, v41...)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			checkPage(t, p, o.boards[scidBoards+"/"+tt.stat], tt.start, tt.n)
			golden(t, tt.name, w.Body.Bytes())
		})
	}
}

// TestOracleShape pins what the oracle itself says of the fixture, so that
// a mistake in both it and the service does not pass unseen.
func TestOracleShape(t *testing.T) {
	o := oracle(t)
	var got []string
	for _, e := range o.boards[scidBoards+"/Score"].entries {
		got = append(got, strconv.FormatUint(e.xuid, 10))
	}
	want := "2533274792693511 2533274792693504 2533274792693501 2533274792693502 2533274792693503 2533274792693505 18446744073709551615 100 2533274792693508 2533274792693510 2533274792693506 2533274792693512 2533274792693507"
	if strings.Join(got, " ") != want {
		t.Errorf("Score order %v,\nwant %s", got, want)
	}
	if n := len(o.boards[scidBoards+"/Time"].entries); n != 10 {
		t.Errorf("Time ranks %d players, want 10", n)
	}
}

// TestFollowTokens follows the continuation tokens from the top of each
// board, as XSAPI does (same maxItems, no skip key), for every page size:
// the pages are the board in order, each row once, and only the last has
// a null pagingInfo.
func TestFollowTokens(t *testing.T) {
	h := newHandler(t)
	o := oracle(t)
	auth := token(t, caller{})
	for _, stat := range []string{"Score", "Time", "Secret"} {
		b := o.boards[scidBoards+"/"+stat]
		for n := 1; n <= len(b.entries)+1; n++ {
			target := boardPath(scidBoards, stat) + "?maxItems=" + strconv.Itoa(n)
			start, pages := 1, 0
			for {
				w, p := get(t, h, auth, target, v41...)
				if w.Code != http.StatusOK {
					t.Fatalf("%s: status %d: %s", target, w.Code, w.Body)
				}
				checkPage(t, p, b, start, n)
				if t.Failed() {
					t.Fatalf("%s (page %d)", target, pages+1)
				}
				pages++
				if stat == "Score" && n == 2 && p.PagingNull {
					golden(t, "score_last_of_two", w.Body.Bytes())
				}
				if p.PagingNull {
					break
				}
				start += len(p.Rows)
				target = boardPath(scidBoards, stat) + "?maxItems=" + strconv.Itoa(n) + "&continuationToken=" + p.ContinuationToken
			}
			if want := (len(b.entries) + n - 1) / n; pages != want {
				t.Errorf("%s maxItems=%d: %d pages, want %d", stat, n, pages, want)
			}
		}
	}
}

// TestSkipToUser: every ranked player's page holds them, placed as
// leaderboards.AroundStart places it;
// a player without a ranked value (a String value on a ranked stat, no
// value, or an unknown xuid) gets the top page.
func TestSkipToUser(t *testing.T) {
	h := newHandler(t)
	o := oracle(t)
	auth := token(t, caller{})
	for _, stat := range []string{"Score", "Time"} {
		b := o.boards[scidBoards+"/"+stat]
		for _, x := range append(o.xuids, 42) {
			for n := 1; n <= 5; n++ {
				target := boardPath(scidBoards, stat) + "?maxItems=" + strconv.Itoa(n) + "&skipToUser=" + strconv.FormatUint(x, 10)
				w, p := get(t, h, auth, target, v41...)
				if w.Code != http.StatusOK {
					t.Fatalf("%s: status %d: %s", target, w.Code, w.Body)
				}
				start := 1
				if r := b.rankOf(x); r > 0 {
					start = b.aroundStart(r, n)
				}
				checkPage(t, p, b, start, n)
			}
		}
	}
	if o.boards[scidBoards+"/Score"].rankOf(2533274792693509) != 0 {
		t.Error("the String Score of 2533274792693509 is ranked")
	}
}

// TestEmptyPages: a rank past the end is an empty page, userList [] and
// pagingInfo null, which XSAPI reads.
func TestEmptyPages(t *testing.T) {
	h := newHandler(t)
	o := oracle(t)
	auth := token(t, caller{})
	w, p := get(t, h, auth, boardPath(scidBoards, "Score")+"?maxItems=5&skipToRank=4294967295", v41...)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	checkPage(t, p, o.boards[scidBoards+"/Score"], math.MaxUint32, 5)
	if body := w.Body.String(); !strings.Contains(body, `"userList":[]`) || !strings.Contains(body, `"pagingInfo":null`) {
		t.Errorf("empty page %s", body)
	}
}

// TestContractVersion: 4.1 and none are served; anything else is a 406.
func TestContractVersion(t *testing.T) {
	h := newHandler(t)
	auth := token(t, caller{})
	for _, v := range []string{"", "4.1", " 4.1 "} {
		var hd []string
		if v != "" {
			hd = []string{"x-xbl-contract-version", v}
		}
		if w, _ := get(t, h, auth, boardPath(scidBoards, "Score"), hd...); w.Code != http.StatusOK {
			t.Errorf("version %q: status %d: %s", v, w.Code, w.Body)
		}
	}
}

// TestRefusals: the status and message of each refusal.
func TestRefusals(t *testing.T) {
	h := newHandler(t)
	social := "/users/xuid(1)/scids/" + scidBoards + "/stats/Score/people/all?sort=descending&maxItems=20&skipToRank=2"
	timeToken := func() string {
		_, p := get(t, h, token(t, caller{}), boardPath(scidBoards, "Time")+"?maxItems=1", v41...)
		return p.ContinuationToken
	}()
	tests := []struct {
		name   string
		c      caller
		target string
		hd     []string
		status int
		msg    string
	}{
		{"no token", caller{}, boardPath(scidBoards, "Score"), []string{"Authorization", ""}, 401, ""},
		{"sandbox not of the SCID", caller{sandbox: "XDKS.2"}, boardPath(scidBoards, "Score"), nil, 403, `sandbox "XDKS.2" is not authorized`},
		{"restricted stat, title not an owner", caller{title: titleB}, boardPath(scidBoards, "Secret"), nil, 403, "restricted to the titles that own"},
		{"unconfigured SCID", caller{}, boardPath(scidNone, "Score"), nil, 404, "has no service configuration"},
		{"stat without leaderboard", caller{}, boardPath(scidBoards, "Kills"), nil, 404, `stat "Kills" of scid ` + scidBoards + " has no leaderboard"},
		{"undeclared stat", caller{}, boardPath(scidBoards, "Nope"), nil, 404, "has no leaderboard"},
		{"SCID without leaderboards", caller{title: titleB}, boardPath(scidPlain, "Kills"), nil, 404, "has no leaderboard"},
		{"not stat(...)", caller{}, "/scids/" + scidBoards + "/leaderboards/Score", nil, 404, "only stat(<name>) leaderboards"},
		{"maxItems 0", caller{}, boardPath(scidBoards, "Score") + "?maxItems=0", nil, 400, `maxItems "0" is not a whole number`},
		{"maxItems not a number", caller{}, boardPath(scidBoards, "Score") + "?maxItems=ten", nil, 400, `maxItems "ten"`},
		{"skipToRank and skipToUser", caller{}, boardPath(scidBoards, "Score") + "?skipToRank=2&skipToUser=100", nil, 400, "give at most one"},
		{"token of another board", caller{}, boardPath(scidBoards, "Score") + "?continuationToken=" + timeToken, nil, 400, "not one this leaderboard gave"},
		{"token made up", caller{}, boardPath(scidBoards, "Score") + "?continuationToken=6", nil, 400, "not one this leaderboard gave"},
		{"contract 3.1", caller{}, boardPath(scidBoards, "Score"), []string{"x-xbl-contract-version", "3.1"}, 406, `x-xbl-contract-version "3.1" is not supported; use 4.1`},
		{"view=People", caller{}, boardPath(scidBoards, "Score") + "?xuid=2814613569642996&maxItems=20&view=People&viewTarget=People", v41, 404, "no people graph"},
		{"social", caller{}, social, []string{"x-xbl-contract-version", "2.1"}, 404, "no people graph"},
		{"social, Favorites", caller{}, strings.Replace(social, "/all", "/Favorites", 1), []string{"x-xbl-contract-version", "2.1"}, 404, "no people graph"},
		{"social, malformed xuid", caller{}, strings.Replace(social, "xuid(1)", "xuid(abc)", 1), []string{"x-xbl-contract-version", "2.1"}, 400, ""},
		{"social, contract 4.1", caller{}, social, v41, 406, "use 2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _ := get(t, h, token(t, tt.c), tt.target, tt.hd...)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if msg := errorMessage(w); !strings.Contains(msg, tt.msg) {
				t.Errorf("errorMessage %q, want it to say %q", msg, tt.msg)
			}
		})
	}
}

// FuzzAnswerParses: for any maxItems, skipToRank and skipToUser over the
// fixture, an answer is a 200 XSAPI reads as written, with the oracle's
// rows (and so is the page its token leads to), or a 400 for a malformed
// key.
func FuzzAnswerParses(f *testing.F) {
	f.Add(uint8(0), int64(100), uint64(0), uint64(0), uint8(0))
	f.Add(uint8(0), int64(2), uint64(4), uint64(0), uint8(1))
	f.Add(uint8(1), int64(3), uint64(0), uint64(2533274792693505), uint8(2))
	f.Add(uint8(0), int64(0), uint64(0), uint64(12), uint8(3))
	f.Add(uint8(2), int64(-1), uint64(1<<32), uint64(0), uint8(1))
	h := newHandler(f)
	o := oracle(f)
	auth := token(f, caller{})
	stats := []string{"Score", "Time", "Secret"}
	f.Fuzz(func(t *testing.T, board uint8, maxItems int64, skipToRank, skipToUser uint64, mode uint8) {
		stat := stats[int(board)%len(stats)]
		b := o.boards[scidBoards+"/"+stat]
		var q []string
		invalid := false
		n := leaderboards.DefaultMaxItems
		if maxItems != 0 {
			q = append(q, "maxItems="+strconv.FormatInt(maxItems, 10))
			invalid = maxItems < 1 || maxItems > math.MaxInt32
			n = int(min(max(maxItems, 1), leaderboards.MaxItems))
		}
		start := 1
		switch mode % 4 {
		case 1:
			q = append(q, "skipToRank="+strconv.FormatUint(skipToRank, 10))
			invalid = invalid || skipToRank == 0 || skipToRank > math.MaxUint32
			start = b.groupStart(int(min(skipToRank, math.MaxUint32)))
		case 2, 3:
			x := skipToUser
			if mode%4 == 3 {
				x = o.xuids[skipToUser%uint64(len(o.xuids))]
			}
			q = append(q, "skipToUser="+strconv.FormatUint(x, 10))
			invalid = invalid || x == 0
			if r := b.rankOf(x); r > 0 {
				start = b.aroundStart(r, n)
			}
		}
		target := boardPath(scidBoards, stat) + "?" + strings.Join(q, "&")
		w, p := get(t, h, auth, target, v41...)
		if invalid {
			if w.Code != http.StatusBadRequest {
				t.Fatalf("%s: status %d, want 400: %s", target, w.Code, w.Body)
			}
			return
		}
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d: %s", target, w.Code, w.Body)
		}
		checkPage(t, p, b, start, n)
		if p.ContinuationToken != "" {
			next := boardPath(scidBoards, stat) + "?maxItems=" + strconv.Itoa(n) + "&continuationToken=" + p.ContinuationToken
			w, p2 := get(t, h, auth, next, v41...)
			if w.Code != http.StatusOK {
				t.Fatalf("%s: status %d: %s", next, w.Code, w.Body)
			}
			checkPage(t, p2, b, start+len(p.Rows), n)
		}
	})
}

// TestValueMetadata: with include=valuemetadata each row carries, as a
// string of JSON, the player's statistics of the SCID the caller may
// read, by the names the game wrote (numbers for Integer and Double,
// strings for String): a restricted one only for an owning title; a
// caller of another title sees the open ones.
func TestValueMetadata(t *testing.T) {
	h := newHandler(t)
	for _, tt := range []struct {
		name   string
		c      caller
		secret bool
	}{{"owning title", caller{}, true}, {"another title", caller{title: titleB}, false}} {
		t.Run(tt.name, func(t *testing.T) {
			w, p := get(t, h, token(t, tt.c), boardPath(scidBoards, "Score")+"?include=valuemetadata&maxItems=100", v41...)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			var row *parsedRow
			for i := range p.Rows {
				if p.Rows[i].XUID == 2533274792693501 {
					row = &p.Rows[i]
				}
				if p.Rows[i].Metadata == "" {
					t.Errorf("row %d has no valuemetadata", i)
				}
			}
			if row == nil {
				t.Fatal("WarriorSaint is not on the board")
			}
			var md map[string]any
			if err := json.Unmarshal([]byte(row.Metadata), &md); err != nil {
				t.Fatalf("valuemetadata %q: %v", row.Metadata, err)
			}
			if md["Score"] != 900.0 || md["Kills"] != 40.0 || md["Time"] != 61.5 || md["Motto"] != "gg" {
				t.Errorf("valuemetadata %v", md)
			}
			if _, ok := md["Secret"]; ok != tt.secret {
				t.Errorf("the restricted stat in valuemetadata: %v, want %v", ok, tt.secret)
			}
		})
	}
	// Without include, no valuemetadata.
	w, _ := get(t, h, token(t, caller{}), boardPath(scidBoards, "Score")+"?maxItems=1", v41...)
	if strings.Contains(w.Body.String(), "valuemetadata") {
		t.Errorf("valuemetadata without include: %s", w.Body)
	}
}

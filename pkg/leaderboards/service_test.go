package leaderboards_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/store/memstore"
	"github.com/xblread/xblread/pkg/xbl"
)

const (
	scid  = "7492baca-c1b4-440d-a391-b7ef364a8d40"
	other = "00000000-0000-0000-0000-0000000000aa"
)

var (
	player = xbl.Caller{XUID: 1, TitleID: "1297287135", Sandbox: "RETAIL"}
	// stranger is a title that does not own the SCID.
	stranger = xbl.Caller{XUID: 2, TitleID: "42", Sandbox: "RETAIL"}
)

func config() xbl.ServiceConfig {
	return xbl.ServiceConfig{
		SCID: scid, TitleIDs: []string{"1297287135"}, Sandboxes: []string{"RETAIL"},
		Stats: map[string]xbl.Access{"score": xbl.Open, "time": xbl.Open, "secret": xbl.Restricted, "kills": xbl.Open},
		Leaderboards: map[string]xbl.Leaderboard{
			"score":  {Stat: "Score", Type: xbl.Integer},
			"time":   {Stat: "Time", Ascending: true, Type: xbl.Double},
			"secret": {Stat: "Secret", Type: xbl.Integer},
		},
	}
}

func iv(n int64) xbl.StatValue {
	return xbl.StatValue{Type: xbl.Integer, Value: strconv.FormatInt(n, 10)}
}
func dv(f float64) xbl.StatValue { return xbl.StatValue{Type: xbl.Double, Value: xbl.FormatDouble(f)} }

// service returns a Service over players' values of stat (by xuid).
func service(t *testing.T, stat string, values map[xbl.XUID]xbl.StatValue) *leaderboards.Service {
	t.Helper()
	ds := &xbl.Dataset{Configs: []xbl.ServiceConfig{config(), {SCID: other, Sandboxes: []string{"RETAIL"}}}}
	for x, v := range values {
		ds.Stats = append(ds.Stats, xbl.UserStats{XUID: x, SCID: scid, Stats: map[string]xbl.StatValue{xbl.StatKey(stat): v}})
		ds.Profiles = append(ds.Profiles, xbl.Profile{XUID: x, Gamertag: fmt.Sprint("P", x)})
	}
	m := memstore.New()
	m.Load(ds)
	return &leaderboards.Service{Configs: m, Ranking: m}
}

func read(t *testing.T, s *leaderboards.Service, c xbl.Caller, req leaderboards.Request) *leaderboards.Page {
	t.Helper()
	if req.SCID == "" {
		req.SCID = scid
	}
	p, err := s.Read(context.Background(), &c, &req)
	if err != nil {
		t.Fatalf("%+v: %v", req, err)
	}
	return p
}

type row struct {
	x    xbl.XUID
	rank uint32
	v    string
}

func rowsOf(p *leaderboards.Page) []row {
	var out []row
	for _, r := range p.Rows {
		out = append(out, row{r.XUID, r.Rank, r.Value.Value})
	}
	return out
}

// TestOrder: by value in the board's order, compared as numbers whatever
// their type; equal values by xuid, sharing a rank (1, 2, 2, 4); values
// that are not numbers are not ranked.
func TestOrder(t *testing.T) {
	s := service(t, "Score", map[xbl.XUID]xbl.StatValue{
		10: iv(5), 11: iv(7), 12: dv(7), 13: dv(6.5), 14: iv(-3), 9: iv(5),
		15: {Type: xbl.String, Value: "99"}, 16: iv(1 << 62), 17: dv(1e300),
	})
	p := read(t, s, player, leaderboards.Request{Stat: "score"})
	want := []row{{17, 1, "1e+300"}, {16, 2, "4611686018427387904"}, {11, 3, "7"}, {12, 3, "7"}, {13, 5, "6.5"}, {9, 6, "5"}, {10, 6, "5"}, {14, 8, "-3"}}
	if got := rowsOf(p); !slices.Equal(got, want) || p.Total != 8 || p.Next != "" {
		t.Errorf("rows %v total %d next %q\nwant %v", got, p.Total, p.Next, want)
	}
	if p.Rows[0].Gamertag != "P17" || p.Rows[0].Percentile != 0.125 || p.Rows[7].Percentile != 1 {
		t.Errorf("first row %+v, last %+v", p.Rows[0], p.Rows[7])
	}
	asc := service(t, "Time", map[xbl.XUID]xbl.StatValue{1: dv(61.5), 2: dv(59.25), 3: iv(60), 4: dv(59.25)})
	if got := rowsOf(read(t, asc, player, leaderboards.Request{Stat: "TIME"})); !slices.Equal(got, []row{{2, 1, "59.25"}, {4, 1, "59.25"}, {3, 3, "60"}, {1, 4, "61.5"}}) {
		t.Errorf("ascending: %v", got)
	}
}

// TestPaging walks boards of many sizes page by page with the tokens:
// every entry once, in order, with its rank; skipToRank and skipToUser
// agree with the walk.
func TestPaging(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 9, 10, 11, 57, 250} {
		values := map[xbl.XUID]xbl.StatValue{}
		for i := range size {
			values[xbl.XUID(1000+r.IntN(100000))] = iv(int64(r.IntN(20))) // many ties
			_ = i
		}
		s := service(t, "Score", values)
		all := read(t, s, player, leaderboards.Request{Stat: "Score", MaxItems: 1000})
		if int(all.Total) != len(values) || len(all.Rows) != min(len(values), leaderboards.MaxItems) {
			t.Fatalf("size %d: total %d, %d rows", len(values), all.Total, len(all.Rows))
		}
		for _, n := range []int{1, 3, 10} {
			var walked []row
			req := leaderboards.Request{Stat: "Score", MaxItems: n}
			for pages := 0; ; pages++ {
				p := read(t, s, player, req)
				if len(p.Rows) > n || pages > len(values)+1 {
					t.Fatalf("size %d, n %d: page of %d rows, page %d", len(values), n, len(p.Rows), pages)
				}
				walked = append(walked, rowsOf(p)...)
				if p.Next == "" {
					break
				}
				req = leaderboards.Request{Stat: "Score", MaxItems: n, Continuation: p.Next}
			}
			if len(walked) != len(values) {
				t.Fatalf("size %d, n %d: walked %d rows", len(values), n, len(walked))
			}
			// groupStart[i] is the index of the first row tied with row i.
			groupStart := make([]int, len(walked))
			for i := range walked {
				if i > 0 && walked[i].v == walked[i-1].v {
					groupStart[i] = groupStart[i-1]
				} else {
					groupStart[i] = i
				}
			}
			for i, w := range walked {
				if w.rank != uint32(groupStart[i]+1) || i < len(all.Rows) && w != rowsOf(all)[i] {
					t.Fatalf("size %d, n %d: row %d is %+v", len(values), n, i, w)
				}
			}
			for i := 0; i < len(walked); i += 7 {
				p := read(t, s, player, leaderboards.Request{Stat: "Score", MaxItems: n, SkipToRank: uint32(i + 1)})
				g := groupStart[i]
				if got := rowsOf(p); !slices.Equal(got, walked[g:min(len(walked), g+n)]) {
					t.Fatalf("skipToRank %d: %v", i+1, got)
				}
				u := read(t, s, player, leaderboards.Request{Stat: "Score", MaxItems: n, SkipToUser: walked[i].x})
				// The page starts at the first player of the value (n-1)/2
				// places before the player's value, when it then holds
				// all of the player's tie; else at the tie's first player,
				// when the tie fits; else at the player. It always holds
				// the player.
				tieEnd := i
				for tieEnd+1 < len(walked) && walked[tieEnd+1].v == walked[i].v {
					tieEnd++
				}
				start := groupStart[max(0, g-(n-1)/2)]
				switch {
				case start+n > tieEnd:
				case tieEnd-g+1 <= n:
					start = g
				default:
					start = i
				}
				got := rowsOf(u)
				if !slices.Equal(got, walked[start:min(len(walked), start+n)]) {
					t.Fatalf("skipToUser %d (rank %d), n %d: %v", walked[i].x, i+1, n, got)
				}
				if !slices.ContainsFunc(got, func(r row) bool { return r.x == walked[i].x }) {
					t.Fatalf("skipToUser %d: not on its page %v", walked[i].x, got)
				}
			}
		}
		// Past the end: no rows, the total, no token.
		if p := read(t, s, player, leaderboards.Request{Stat: "Score", SkipToRank: uint32(len(values) + 1)}); len(p.Rows) != 0 || p.Next != "" || int(p.Total) != len(values) {
			t.Errorf("past the end: %+v", p)
		}
	}
}

// TestSkipToAbsentUser: a player without a value gets the top page.
func TestSkipToAbsentUser(t *testing.T) {
	s := service(t, "Score", map[xbl.XUID]xbl.StatValue{5: iv(1), 6: iv(2)})
	if got := rowsOf(read(t, s, player, leaderboards.Request{Stat: "Score", SkipToUser: 99})); !slices.Equal(got, []row{{6, 1, "2"}, {5, 2, "1"}}) {
		t.Errorf("%v", got)
	}
}

// TestPagingAcrossWrites: a token names a place in the order, not a
// rank: a row written above it between pages does not repeat a row.
func TestPagingAcrossWrites(t *testing.T) {
	values := map[xbl.XUID]xbl.StatValue{1: iv(50), 2: iv(40), 3: iv(30), 4: iv(20)}
	s := service(t, "Score", values)
	p := read(t, s, player, leaderboards.Request{Stat: "Score", MaxItems: 2})
	values[9] = iv(100)
	s2 := service(t, "Score", values) // the same board, one player more
	next := read(t, s2, player, leaderboards.Request{Stat: "Score", MaxItems: 2, Continuation: p.Next})
	if got := rowsOf(next); !slices.Equal(got, []row{{3, 4, "30"}, {4, 5, "20"}}) {
		t.Errorf("after a write above: %v", got)
	}
}

func TestRefusals(t *testing.T) {
	s := service(t, "Score", map[xbl.XUID]xbl.StatValue{5: iv(1)})
	tok := read(t, s, player, leaderboards.Request{Stat: "Score", MaxItems: 1, SkipToRank: 1})
	_ = tok
	two := service(t, "Score", map[xbl.XUID]xbl.StatValue{5: iv(1), 6: iv(2)})
	first := read(t, two, player, leaderboards.Request{Stat: "Score", MaxItems: 1})
	for _, tt := range []struct {
		name   string
		caller xbl.Caller
		req    leaderboards.Request
		kind   derrors.Kind
	}{
		{"bad scid", player, leaderboards.Request{SCID: "nope", Stat: "Score"}, derrors.Invalid},
		{"unconfigured scid", player, leaderboards.Request{SCID: "00000000-0000-0000-0000-000000000001", Stat: "Score"}, derrors.NotFound},
		{"other sandbox", xbl.Caller{TitleID: "1297287135", Sandbox: "XDKS.1"}, leaderboards.Request{Stat: "Score"}, derrors.Forbidden},
		{"no leaderboard", player, leaderboards.Request{Stat: "Kills"}, derrors.NotFound},
		{"unknown stat", player, leaderboards.Request{Stat: "Nope"}, derrors.NotFound},
		{"scid without leaderboards", player, leaderboards.Request{SCID: other, Stat: "Score"}, derrors.NotFound},
		{"restricted stat, other title", stranger, leaderboards.Request{Stat: "Secret"}, derrors.Forbidden},
		{"negative maxItems", player, leaderboards.Request{Stat: "Score", MaxItems: -1}, derrors.Invalid},
		{"two skips", player, leaderboards.Request{Stat: "Score", SkipToRank: 1, SkipToUser: 5}, derrors.Invalid},
		{"token and rank", player, leaderboards.Request{Stat: "Score", SkipToRank: 1, Continuation: first.Next}, derrors.Invalid},
		{"garbage token", player, leaderboards.Request{Stat: "Score", Continuation: "!!"}, derrors.Invalid},
		{"altered token", player, leaderboards.Request{Stat: "Score", Continuation: first.Next[:len(first.Next)-2] + "AA"}, derrors.Invalid},
		{"another board's token", player, leaderboards.Request{Stat: "Time", Continuation: first.Next}, derrors.Invalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.req.SCID == "" {
				tt.req.SCID = scid
			}
			_, err := two.Read(context.Background(), &tt.caller, &tt.req)
			var de *derrors.Error
			if !errors.As(err, &de) || de.Kind != tt.kind {
				t.Errorf("got %v, want kind %v", err, tt.kind)
			}
		})
	}
	// A restricted stat is readable by an owning title; an open one by any.
	read(t, s, player, leaderboards.Request{Stat: "Secret"})
	read(t, s, stranger, leaderboards.Request{Stat: "Score"})
}

// TestAroundStart: where a page around a player starts, worked by hand on
// a board of values 9 8 8 7 7 7 7 5 (positions 1 to 8).
func TestAroundStart(t *testing.T) {
	values := []int{9, 8, 8, 7, 7, 7, 7, 5}
	first := func(p uint32) (uint32, error) {
		for p > 1 && values[p-2] == values[p-1] {
			p--
		}
		return p, nil
	}
	for _, tt := range []struct {
		name         string
		better, ties uint32 // of the player's value
		n            int
		start        uint32
		atPlayer     bool
	}{
		{"the 9, 10 rows", 0, 1, 10, 1, false},
		{"an 8, 3 rows: from the 9, holding both 8s", 1, 2, 3, 1, false},
		{"an 8, 1 row: the 8s do not fit", 1, 2, 1, 0, true},
		{"a 7, 5 rows: from the first 8 misses the last 7; the 7s fit", 3, 4, 5, 4, false},
		{"a 7, 9 rows: from the 9", 3, 4, 9, 1, false},
		{"a 7, 3 rows: the 7s do not fit", 3, 4, 3, 0, true},
		{"the 5, 3 rows: from the first 7 misses it; from the 5", 7, 1, 3, 8, false},
		{"the 5, 1 row", 7, 1, 1, 8, false},
	} {
		start, at, err := leaderboards.AroundStart(tt.better, tt.ties, tt.n, first)
		if err != nil || at != tt.atPlayer || !at && start != tt.start {
			t.Errorf("%s: AroundStart(%d, %d, %d) = %d, %v, %v; want %d, %v", tt.name, tt.better, tt.ties, tt.n, start, at, err, tt.start, tt.atPlayer)
		}
	}
}

// TestTie: the first and last index of each entry's tie.
func TestTie(t *testing.T) {
	var es []leaderboards.Entry
	for _, v := range []string{"9", "8", "8", "7", "7", "7"} {
		es = append(es, leaderboards.Entry{Value: xbl.StatValue{Type: xbl.Integer, Value: v}})
	}
	for i, want := range [][2]int{{0, 0}, {1, 2}, {1, 2}, {3, 5}, {3, 5}, {3, 5}} {
		if first, last := leaderboards.Tie(es, i); first != want[0] || last != want[1] {
			t.Errorf("Tie(%d) = %d, %d; want %v", i, first, last, want)
		}
	}
}

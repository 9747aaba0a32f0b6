package rankstore_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/infra/loader"
	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/memstore"
	"github.com/xblread/xblread/pkg/store/rankstore"
	"github.com/xblread/xblread/pkg/xbl"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

const scid = "7492baca-c1b4-440d-a391-b7ef364a8d40"

// world is one board kept twice: in the table (stats items and the
// ranking) and in memstore (the oracle), changed alike.
type world struct {
	t      *testing.T
	table  store.Table
	rank   *rankstore.Store
	mem    *memstore.Store
	cfg    xbl.ServiceConfig
	values map[xbl.XUID]xbl.StatValue
}

func newWorld(t *testing.T, ascending bool) *world { return newWorldLanes(t, ascending, 0) }

// newWorldLanes is newWorld with a board of that many lanes (0 for the
// default; more makes it batched).
func newWorldLanes(t *testing.T, ascending bool, lanes int) *world {
	cfg := xbl.ServiceConfig{SCID: scid, TitleIDs: []string{"1"}, Sandboxes: []string{"RETAIL"},
		Stats:        map[string]xbl.Access{"score": xbl.Open},
		Leaderboards: map[string]xbl.Leaderboard{"score": {Stat: "Score", Ascending: ascending, Type: xbl.Integer, Lanes: lanes}}}
	w := &world{t: t, table: ddbtest.EmptyTable(t), mem: memstore.New(), cfg: cfg, values: map[xbl.XUID]xbl.StatValue{}}
	w.rank = rankstore.New(w.table)
	w.load(&xbl.Dataset{Configs: []xbl.ServiceConfig{cfg}})
	return w
}

func (w *world) load(ds *xbl.Dataset) {
	w.t.Helper()
	if _, err := loader.Load(context.Background(), w.table, ds, nil); err != nil {
		w.t.Fatal(err)
	}
	w.mem.Load(ds)
}

// set gives player x value v (nil deletes it), in both, moving the
// ranking as a statistics write would, and applying each move twice, as a
// retried batch would.
func (w *world) set(x xbl.XUID, v *xbl.StatValue) {
	w.t.Helper()
	moves := w.stage(x, v)
	for i := range 2 {
		applied, done, err := w.rank.Apply(context.Background(), moves)
		if err != nil || done != len(moves) {
			w.t.Fatal(done, err)
		}
		if want := map[bool]int{true: len(moves), false: 0}[i == 0]; applied != want {
			w.t.Fatalf("moves %+v: %d applied on try %d, want %d", moves, applied, i+1, want)
		}
	}
}

func (w *world) board() *leaderboards.Board {
	return &leaderboards.Board{SCID: scid, Leaderboard: w.cfg.Leaderboards["score"]}
}

type got struct {
	xuids      []xbl.XUID
	values     []string
	rank, ties uint32
	more       bool
	total      uint32
}

func summary(sl *leaderboards.Slice) got {
	g := got{rank: sl.Rank, ties: sl.Ties, more: sl.More, total: sl.Total}
	for _, e := range sl.Entries {
		g.xuids = append(g.xuids, e.XUID)
		g.values = append(g.values, e.Value.Value)
	}
	return g
}

func same(a, b got) bool {
	return slices.Equal(a.xuids, b.xuids) && slices.Equal(a.values, b.values) && a.more == b.more && a.total == b.total &&
		(len(a.xuids) == 0 || a.rank == b.rank && a.ties == b.ties)
}

// check compares every kind of reading of the board with the oracle.
func (w *world) check() {
	w.t.Helper()
	ctx := context.Background()
	b := w.board()
	total := uint32(len(w.values))
	for _, n := range []int{1, 3, 10} {
		for r := uint32(1); r <= total+1; r += 1 + total/7 {
			want, _ := w.mem.At(ctx, b, r, n)
			have, err := w.rank.At(ctx, b, r, n)
			if err != nil {
				w.t.Fatal(err)
			}
			if !same(summary(have), summary(want)) {
				w.t.Fatalf("At(%d, %d): %+v\nwant %+v", r, n, summary(have), summary(want))
			}
			if len(want.Entries) > 0 {
				c := leaderboards.CursorOf(&want.Entries[len(want.Entries)-1])
				want2, _ := w.mem.After(ctx, b, c, n)
				have2, err := w.rank.After(ctx, b, c, n)
				if err != nil {
					w.t.Fatal(err)
				}
				if !same(summary(have2), summary(want2)) {
					w.t.Fatalf("After(%+v, %d): %+v\nwant %+v", c, n, summary(have2), summary(want2))
				}
			}
		}
		asked := 0
		for _, x := range slices.Sorted(maps.Keys(w.values)) {
			if asked++; asked > 12 {
				break // Around reads the same ranking as At
			}
			want, wok, _ := w.mem.Around(ctx, b, x, n)
			have, hok, err := w.rank.Around(ctx, b, x, n)
			if err != nil {
				w.t.Fatal(err)
			}
			if wok != hok || wok && !same(summary(have), summary(want)) {
				w.t.Fatalf("Around(%d, %d): %v %+v\nwant %v %+v", x, n, hok, summary(have), wok, summary(want))
			}
		}
	}
	if _, ok, err := w.rank.Around(ctx, b, 1, 3); ok || err != nil {
		w.t.Errorf("Around a player without a value: %v %v", ok, err)
	}
}

func iv(n int) *xbl.StatValue { return &xbl.StatValue{Type: xbl.Integer, Value: strconv.Itoa(n)} }
func dv(f float64) *xbl.StatValue {
	return &xbl.StatValue{Type: xbl.Double, Value: xbl.FormatDouble(f)}
}

// TestSameAsOracle: a board built, changed and emptied by moves (each
// applied twice) reads exactly as memstore's, on both orders, with ties,
// values across buckets, negative and fractional values.
func TestSameAsOracle(t *testing.T) {
	for _, asc := range []bool{false, true} {
		t.Run(fmt.Sprint("ascending=", asc), func(t *testing.T) {
			w := newWorld(t, asc)
			r := rand.New(rand.NewPCG(7, 8))
			value := func() *xbl.StatValue {
				switch r.IntN(5) {
				case 0:
					return iv(r.IntN(5)) // many ties
				case 1:
					return iv(r.IntN(1 << 20))
				case 2:
					return dv(r.NormFloat64() * 100)
				case 3:
					return iv(-r.IntN(3000))
				}
				return dv(float64(r.IntN(4)))
			}
			w.check() // empty
			for i := range 60 {
				w.set(xbl.XUID(100+i), value())
			}
			w.check()
			for range 60 {
				x := xbl.XUID(100 + r.IntN(70))
				switch r.IntN(4) {
				case 0:
					w.set(x, nil)
				case 1:
					if v, ok := w.values[x]; ok && v.Type == xbl.Integer {
						n, _ := strconv.Atoi(v.Value)
						w.set(x, dv(float64(n))) // the same number, written as a Double
						continue
					}
					fallthrough
				default:
					w.set(x, value())
				}
			}
			w.check()
			for x := range w.values {
				w.set(x, nil)
			}
			w.check()
		})
	}
}

// TestBuildSameAsApply: a board written whole by Build reads as the one
// its players' moves make.
func TestBuildSameAsApply(t *testing.T) {
	for _, lanes := range []int{0, 64} {
		t.Run(fmt.Sprint("lanes=", lanes), func(t *testing.T) { testBuildSameAsApply(t, newWorldLanes(t, false, lanes)) })
	}
}

func testBuildSameAsApply(t *testing.T, w *world) {
	r := rand.New(rand.NewPCG(9, 9))
	var ds xbl.Dataset
	var entries []leaderboards.Entry
	for i := range 300 {
		x := xbl.XUID(1000 + i)
		v := iv(r.IntN(40) * r.IntN(40))
		if i%5 == 0 {
			v = dv(r.NormFloat64() * 50)
		}
		w.values[x] = *v
		ds.Stats = append(ds.Stats, xbl.UserStats{XUID: x, SCID: scid, Stats: map[string]xbl.StatValue{"score": *v}})
		entries = append(entries, leaderboards.Entry{XUID: x, Value: *v})
	}
	w.load(&ds)
	if err := rankstore.Build(context.Background(), w.table, w.board(), entries); err != nil {
		t.Fatal(err)
	}
	w.check()
}

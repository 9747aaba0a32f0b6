package rankstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/store/rankstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// stage gives player x value v (nil deletes it) in the statistics and
// the oracle, and returns the moves of that write, for a batch to apply.
func (w *world) stage(x xbl.XUID, v *xbl.StatValue) []leaderboards.Move {
	w.t.Helper()
	before, after := map[string]xbl.StatValue{}, map[string]xbl.StatValue{}
	if old, ok := w.values[x]; ok {
		before["score"] = old
	}
	if v != nil {
		after["score"] = *v
		w.values[x] = *v
	} else {
		delete(w.values, x)
	}
	w.load(&xbl.Dataset{Stats: []xbl.UserStats{{XUID: x, SCID: scid, Stats: after}}})
	moves := leaderboards.Moves(&w.cfg, x, before, after)
	for i := range moves {
		moves[i].Gamertag = "P" + x.String()
	}
	return moves
}

// randomValue is a value of many kinds: ties, integers of every size,
// negative, fractional.
func randomValue(r *rand.Rand) *xbl.StatValue {
	switch r.IntN(6) {
	case 0:
		return iv(r.IntN(5))
	case 1:
		return iv(r.IntN(1 << 20))
	case 2:
		return dv(r.NormFloat64() * 100)
	case 3:
		return iv(-r.IntN(3000))
	case 4:
		return nil
	}
	return iv(r.IntN(300))
}

// batch stages n writes of players from..from+players-1, several of a
// player among them, and returns their moves in order.
func (w *world) batch(r *rand.Rand, n int, from xbl.XUID, players int) []leaderboards.Move {
	var out []leaderboards.Move
	for range n {
		out = append(out, w.stage(from+xbl.XUID(r.IntN(players)), randomValue(r))...)
	}
	return out
}

// TestApplyBatch: a batch of many moves, a player moving several times
// in it, is written in few transactions and folded, and reads exactly as
// the oracle; the same batch again (a retried batch) leaves the board as
// it was (a player's move back to a place it left applies again on the
// way, and so does the move that leaves it again).
func TestApplyBatch(t *testing.T) {
	for _, lanes := range []int{0, 16} {
		t.Run(fmt.Sprint("lanes=", lanes), func(t *testing.T) { testApplyBatch(t, newWorldLanes(t, false, lanes)) })
	}
}

func testApplyBatch(t *testing.T, w *world) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 3 {
		moves := w.batch(r, 120, 100, 50)
		applied, done, err := w.rank.Apply(ctx, moves)
		if err != nil || done != len(moves) || applied != len(moves) {
			t.Fatalf("round %d: %d of %d applied, %d done: %v", round, applied, len(moves), done, err)
		}
		w.check()
		_, done, err = w.rank.Apply(ctx, moves)
		if err != nil || done != len(moves) {
			t.Fatalf("round %d again: %d done: %v", round, done, err)
		}
		w.check()
	}
	// Each player moving once: the same batch again applies nothing.
	var once []leaderboards.Move
	for i := range 60 {
		once = append(once, w.stage(xbl.XUID(500+i), iv(r.IntN(100)))...)
	}
	for try, want := range []int{len(once), 0} {
		if applied, done, err := w.rank.Apply(ctx, once); err != nil || done != len(once) || applied != want {
			t.Fatalf("try %d: %d applied, %d done: %v; want %d", try, applied, done, err, want)
		}
	}
	w.check()
}

// TestFoldFaults: on a batched board, a writer that stops after its transactions (before
// folding) leaves its journals to the retry of its batch, which folds
// them; a fold that stops after writing its parts leaves them to the
// next fold, which applies each once. The board then reads exactly as the
// oracle.
func TestFoldFaults(t *testing.T) {
	ctx := context.Background()
	w := newWorldLanes(t, true, 16)
	r := rand.New(rand.NewPCG(5, 6))

	moves := w.batch(r, 80, 100, 60)
	restore := rankstore.SetFaults(true, nil)
	if _, done, err := w.rank.Apply(ctx, moves); err != nil || done != len(moves) {
		t.Fatal(done, err)
	}
	restore()
	// The counters do not count the moves yet.
	if sl, err := w.rank.At(ctx, w.board(), 200, 10); err != nil || sl.Total != 0 {
		t.Fatalf("before the retry: total %d, %v; want 0", sl.Total, err)
	}
	if _, done, err := w.rank.Apply(ctx, moves); err != nil || done != len(moves) {
		t.Fatalf("the retry: %d done: %v", done, err)
	}
	w.check()

	// Many distinct values: a fold of more counters than one transaction
	// takes, so it writes parts.
	moves = nil
	for i := range 90 {
		moves = append(moves, w.stage(xbl.XUID(300+i), iv(1000*i+r.IntN(1000)))...)
	}
	crash := errors.New("crash")
	restore = rankstore.SetFaults(false, crash)
	if _, done, err := w.rank.Apply(ctx, moves); !errors.Is(err, crash) || done != 0 {
		t.Fatalf("a fold stopped after its parts: %d done: %v", done, err)
	}
	restore()
	if applied, done, err := w.rank.Apply(ctx, moves); err != nil || done != len(moves) || applied != 0 {
		t.Fatalf("the retry: %d applied, %d done: %v", applied, done, err)
	}
	w.check()

	// A top item that cannot be refreshed: the fold stops before counting
	// (the journals stay), and the retry refreshes it, so the top page
	// shows the new first player.
	moves = w.stage(999, iv(-1000000)) // first on this ascending board
	restore = rankstore.SetTopFault(crash)
	if _, done, err := w.rank.Apply(ctx, moves); !errors.Is(err, crash) || done != 0 {
		t.Fatalf("a top item not refreshed: %d done: %v", done, err)
	}
	restore()
	// The holder let the lease go on its way out.
	if holder, err := w.rank.LeaseHolder(ctx, w.board()); holder != "" || err != nil {
		t.Fatalf("after a failed fold the lease is held by %q (%v)", holder, err)
	}
	if _, done, err := w.rank.Apply(ctx, moves); err != nil || done != len(moves) {
		t.Fatalf("the retry: %d done: %v", done, err)
	}
	w.check()

	// More journals pending than one BatchGetItem takes (100 keys): 150
	// writers stop before folding; the retry of one waits for them all.
	restore = rankstore.SetFaults(true, nil)
	var last []leaderboards.Move
	for i := range 150 {
		last = w.stage(xbl.XUID(2000+i), iv(i))
		if _, _, err := w.rank.Apply(ctx, last); err != nil {
			t.Fatal(err)
		}
	}
	restore()
	if _, done, err := w.rank.Apply(ctx, last); err != nil || done != len(last) {
		t.Fatalf("the retry after 150 unfolded writers: %d done: %v", done, err)
	}
	w.check()
}

// TestConcurrentWriters: writers of different players apply their
// batches at once on one board, as Lambda's shards do; every move is
// folded exactly once.
func TestConcurrentWriters(t *testing.T) {
	for _, lanes := range []int{0, 16} {
		t.Run(fmt.Sprint("lanes=", lanes), func(t *testing.T) { testConcurrentWriters(t, newWorldLanes(t, false, lanes)) })
	}
}

func testConcurrentWriters(t *testing.T, w *world) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 7))
	const writers = 8
	batches := make([][][]leaderboards.Move, writers)
	for i := range writers {
		for range 3 {
			batches[i] = append(batches[i], w.batch(r, 25, xbl.XUID(1000+100*i), 20))
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			for _, moves := range batches[i] {
				if _, done, err := w.rank.Apply(ctx, moves); err != nil || done != len(moves) {
					errs <- errors.Join(err, errors.New("not done"))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	w.check()
}

// TestAcquireAgain: a lease is taken by one holder at a time, and taking
// it again with the same id (an UpdateItem sent again after its answer
// was lost) succeeds.
func TestAcquireAgain(t *testing.T) {
	ctx := context.Background()
	w := newWorldLanes(t, false, 16)
	b := w.board()
	for _, tt := range []struct {
		me   string
		want bool
	}{{"a", true}, {"a", true}, {"b", false}} {
		if got, err := w.rank.Acquire(ctx, b, tt.me); got != tt.want || err != nil {
			t.Errorf("Acquire(%q) = %v, %v; want %v", tt.me, got, err, tt.want)
		}
	}
	if holder, err := w.rank.LeaseHolder(ctx, b); holder != "a" || err != nil {
		t.Errorf("holder %q, %v", holder, err)
	}
}

package rankstore_test

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/store/rankstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// burst returns 10,000 moves in one second on b, a board of n players of
// the benchmark's skewed score: 90 % raise their score by 1 to 50, 10 %
// are new and enter at 0.
func burst(b *leaderboards.Board, n int, seed uint64) []leaderboards.Move {
	r := rand.New(rand.NewPCG(seed, 1))
	values := make([]int, n)
	for i := range values {
		u := r.Float64()
		values[i] = int(math.Floor(1000 * u * u * u * u * (1 + 9*r.Float64())))
	}
	moves := make([]leaderboards.Move, 10000)
	for i := range moves {
		m := leaderboards.Move{Board: *b}
		if i%10 == 0 {
			m.XUID = xbl.XUID(3000000000000000 + i)
			m.To = &xbl.StatValue{Type: xbl.Integer, Value: "0"}
		} else {
			p := r.IntN(n)
			m.XUID = xbl.XUID(2533274790000000 + p)
			m.From = &xbl.StatValue{Type: xbl.Integer, Value: strconv.Itoa(values[p])}
			values[p] += 1 + r.IntN(50)
			m.To = &xbl.StatValue{Type: xbl.Integer, Value: strconv.Itoa(values[p])}
		}
		moves[i] = m
	}
	return moves
}

// TestBurstHeat: 10,000 ranked writes in one second on one board of 64
// lanes, planned as the index writes them (rankstore.Plan), in stream
// batches of 100 and of 10 writes, put no partition and no item past
// DynamoDB's 1,000 write units a second, at 10,000 and 1,000,000
// players, and are folded within the second; a board of the default 4
// lanes (not batched) is past it (the lanes are what a board configures
// for its writes).
func TestBurstHeat(t *testing.T) {
	for _, players := range []int{10000, 1000000} {
		for _, lanes := range []int{xbl.MaxLanes, xbl.DefaultLanes} {
			b := &leaderboards.Board{SCID: "s", Leaderboard: xbl.Leaderboard{Stat: "Score", Type: xbl.Integer, Lanes: lanes}}
			moves := burst(b, players, uint64(players))
			for _, batch := range []int{100, 10} {
				h := rankstore.Plan(moves, batch)
				busiestPK, busiestItem := "", 0.0
				byPK := h.PartitionUnits()
				for pk, u := range byPK {
					if u > byPK[busiestPK] {
						busiestPK = pk
					}
				}
				for _, u := range h.Units {
					busiestItem = max(busiestItem, u)
				}
				total := 0.0
				for _, u := range h.Units {
					total += u
				}
				kinds := map[string]float64{"per move": total / float64(len(moves))}
				for pk, u := range byPK {
					kind := pk[:4]
					if strings.Contains(pk, "#k") {
						kind = "coarse"
					}
					kinds[kind] = max(kinds[kind], u)
				}
				t.Logf("%d players, %d lanes, batch %d: %d transactions, %d journals, %d folds in %s, %d partitions; busiest %s %.0f units, busiest item %.0f; by kind %v",
					players, lanes, batch, h.Transactions, h.Journals, h.Folds, h.FoldTime, len(byPK), busiestPK, byPK[busiestPK], busiestItem, kinds)
				if h.FoldTime > time.Second {
					t.Errorf("the folds take %s, past the burst's second", h.FoldTime)
				}
				if lanes == xbl.DefaultLanes {
					// Not batched: its counters are written with each
					// transaction, and its 4 lanes take a quarter each.
					if h.Journals != 0 || byPK[busiestPK] <= 1000 {
						t.Errorf("4 lanes: %d journals, the busiest partition %s at %.0f units; want none, past 1,000", h.Journals, busiestPK, byPK[busiestPK])
					}
					continue
				}
				if byPK[busiestPK] > 1000 || busiestItem > 1000 {
					t.Errorf("%d players, batch %d: busiest partition %s %.0f units, busiest item %.0f: past 1,000", players, batch, busiestPK, byPK[busiestPK], busiestItem)
				}
				if h.Folds > 10*(1+h.Journals/90) {
					t.Errorf("%d folds for %d journals", h.Folds, h.Journals)
				}
			}
		}
	}
}

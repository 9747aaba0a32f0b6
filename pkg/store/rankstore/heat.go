package rankstore

import (
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/store"
)

// Heat is the writes a burst of moves costs, item by item, as the index
// writes them (Plan).
type Heat struct {
	// Units are the write units each item takes.
	Units map[store.Key]float64
	// Transactions and Journals are the index's transactions and the
	// journals they write; Folds the folds that count them, and
	// FoldTime the least time they take one after another (each fold's
	// interval: the burst is folded as fast as it comes when that is
	// under the burst's second).
	Transactions, Journals, Folds int
	FoldTime                      time.Duration
}

// PartitionUnits returns h's write units by partition key.
func (h *Heat) PartitionUnits() map[string]float64 { return byPartition(h.Units) }

// Plan returns what the index writes for moves when Lambda hands them to
// it in batches of batch moves (a shard's batch), with the same code as
// Apply and the folds: each batch's transactions (group, txOf: the
// entries, 2 units a KB each, and the counters they change or, on a
// batched board, a journal), then each board's journals folded in the
// order written, as many a fold as one takes (choose), each fold's units
// as foldWrites.units counts them, with the top item rewritten on every
// fold (the most it can be).
func Plan(moves []leaderboards.Move, batch int) *Heat {
	h := &Heat{Units: map[store.Key]float64{}}
	s := &Store{now: time.Now}
	byBoard := map[string][]delta{} // the journals, in the order written
	boards := map[string]*leaderboards.Board{}
	for start := 0; start < len(moves); start += batch {
		ms := moves[start:min(start+batch, len(moves))]
		for i := 0; i < len(ms); {
			j := group(ms, i)
			ws, keep, _ := s.writesOf(ms[i:j])
			items, _, js, zeros, _ := s.txOf(ms[i:j], ws, keep, time.Now())
			h.Transactions++
			for _, it := range items {
				av := itemAV(it)
				var k store.Key
				store.Unmarshal(av, &k)
				h.Units[k] += txUnits(store.ItemSize(av))
			}
			for _, k := range zeros {
				h.Units[k]++
			}
			for _, w := range ws {
				boards[w.board] = &ms[i+w.move].Board
			}
			for bk, d := range js {
				byBoard[bk] = append(byBoard[bk], d)
				h.Journals++
			}
			i = j
		}
	}
	for _, bk := range slices.Sorted(maps.Keys(byBoard)) {
		b, js := boards[bk], byBoard[bk]
		for len(js) > 0 {
			n, sum := choose(js)
			fw := foldWrites{deletes: js[:n], counters: sum, top: true}
			if n+len(sum) > maxTxItems {
				fw.parts, _ = partsOf(b, sum, "", newID(time.Now()))
			}
			units := fw.units(b)
			for k, u := range units {
				h.Units[k] += u
			}
			h.Folds++
			h.FoldTime += foldResult{units: byPartition(units)}.interval()
			js = js[n:]
		}
	}
	return h
}

// topSize is about the size of a full top item: TopRows rows of a
// 32-character place, a value, its type and a gamertag, with their names.
const topSize = TopRows * 70

// itemAV returns the item or key a transaction's item writes.
func itemAV(it types.TransactWriteItem) map[string]types.AttributeValue {
	switch {
	case it.Put != nil:
		return it.Put.Item
	case it.Delete != nil:
		return it.Delete.Key
	case it.Update != nil:
		return it.Update.Key
	}
	return nil
}

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
func (h *Heat) PartitionUnits() map[string]float64 {
	out := map[string]float64{}
	for k, u := range h.Units {
		out[k.PK] += u
	}
	return out
}

// Plan returns what the index writes for moves when Lambda hands them to
// it in batches of batch moves (a shard's batch), with the same code as
// Apply and the folds: each batch's transactions (group, txOf: the
// entries, 2 units a KB each, and a journal per board), then the
// journals folded in time order, as many a fold as one takes (choose):
// their deletes, the counters they change (2 units each), in parts when
// they do not fit one transaction (each part's put and delete), the value
// counters the fold lowered (1 unit each, deleted or not), the lease (2:
// taken and let go or renewed) and the top item (its size, rewritten on
// every fold: the most it can be).
func Plan(moves []leaderboards.Move, batch int) *Heat {
	h := &Heat{Units: map[store.Key]float64{}}
	s := &Store{now: time.Now}
	var journals []delta
	for start := 0; start < len(moves); start += batch {
		ms := moves[start:min(start+batch, len(moves))]
		for i := 0; i < len(ms); {
			j := group(ms, i)
			var ws []entryWrite
			for k := range ms[i:j] {
				ws, _ = s.entryWrites(ws, ms[i:j], k)
			}
			keep := make([]bool, len(ws))
			for k := range keep {
				keep[k] = true
			}
			items, owner, js, zeros, _ := s.txOf(ms[i:j], ws, keep, time.Now())
			h.Transactions++
			for _, k := range zeros {
				h.Units[k]++
			}
			for n, it := range items {
				av := itemAV(it)
				k := keyOf(av)
				h.Units[k] += txUnits(store.ItemSize(av))
				if owner[n] < 0 && slices.Contains(slices.Collect(maps.Values(js)), k) {
					var d delta
					if store.Unmarshal(av, &d) == nil {
						d.size = store.ItemSize(av)
						journals = append(journals, d)
					}
				}
			}
			i = j
		}
	}
	h.Journals = len(journals)
	// Fold each board's journals, in the order they were written.
	byBoard := map[string][]delta{}
	boards := map[string]*leaderboards.Board{}
	boardOf := map[string]string{} // journal lane → board
	for i := range moves {
		bk := EntriesPK(&moves[i].Board)
		if boards[bk] == nil {
			boards[bk] = &moves[i].Board
			for _, pk := range JournalPKs(&moves[i].Board) {
				boardOf[pk] = bk
			}
		}
	}
	for _, j := range journals {
		bk := boardOf[j.PK]
		byBoard[bk] = append(byBoard[bk], j)
	}
	for _, bk := range slices.Sorted(maps.Keys(byBoard)) {
		b, js := boards[bk], byBoard[bk]
		for len(js) > 0 {
			n, sum := choose(js)
			h.Folds++
			r := foldResult{units: map[string]float64{}}
			add := func(k store.Key, u float64) {
				h.Units[k] += u
				r.units[k.PK] += u
			}
			for _, j := range js[:n] {
				add(j.Key, txUnits(j.size))
			}
			if n+len(sum) > maxTxItems {
				for _, p := range partsOf(b, sum, "", newID(time.Now())) {
					av, _ := store.Marshal(p)
					add(p.Key, 2*txUnits(store.ItemSize(av))) // put, then deleted
				}
			}
			for sk, d := range sum {
				k := store.Key{PK: CounterPK(b, sk), SK: sk}
				add(k, txUnits(counterSize))
				if d < 0 && sk[0] == '3' {
					add(k, 1)
				}
			}
			add(LeaseKey(b), 2)
			add(TopKey(b), float64((topSize+1023)/1024))
			h.FoldTime += r.interval()
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

func keyOf(av map[string]types.AttributeValue) store.Key {
	var k store.Key
	if pk, ok := av["pk"].(*types.AttributeValueMemberS); ok {
		k.PK = pk.Value
	}
	if sk, ok := av["sk"].(*types.AttributeValueMemberS); ok {
		k.SK = sk.Value
	}
	return k
}

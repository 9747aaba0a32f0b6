package rankstore

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// perLane is the most journals and parts one fold reads from each
// journal lane.
const perLane = 100

// foldResult is what one fold did: whether it found journals or parts,
// and the write units it planned for each partition (foldWrites.units).
type foldResult struct {
	found bool
	units map[string]float64
}

// interval is the time until the next fold: as long as partitionBudget
// takes to pay for this fold's busiest partition, FoldEvery at least.
func (r foldResult) interval() time.Duration {
	busiest := 0.0
	for _, u := range r.units {
		busiest = max(busiest, u)
	}
	return max(FoldEvery, time.Duration(busiest/partitionBudget*float64(time.Second)))
}

// foldWrites is what one fold writes: the journals and earlier parts it
// deletes, the parts it writes (and deletes), the counter changes it
// applies, and whether it rewrites the top item.
type foldWrites struct {
	deletes, parts []delta
	counters       map[string]int
	top            bool
}

// units returns the write units fw costs each item: 2 a KB for each item
// of a transaction (a delete is billed by the item's size; a part is put,
// then deleted), 1 for each value counter it lowers (deleted on condition
// that it is 0, deleted or not), 2 for the lease (taken and renewed or let
// go) and, when the top item is rewritten, its size at most (topSize).
// foldOnce paces folds by it; Plan counts a burst with it.
func (fw *foldWrites) units(b *leaderboards.Board) map[store.Key]float64 {
	u := map[store.Key]float64{LeaseKey(b): 2}
	for _, d := range fw.deletes {
		u[d.Key] += txUnits(d.size)
	}
	for _, p := range fw.parts {
		u[p.Key] += 2 * txUnits(p.size)
	}
	for sk := range fw.counters {
		u[store.Key{PK: CounterPK(b, sk), SK: sk}] += txUnits(counterSize)
	}
	for _, k := range lowered(b, fw.counters) {
		u[k]++
	}
	if fw.top {
		u[TopKey(b)] += float64((topSize + 1023) / 1024)
	}
	return u
}

// byPartition sums units by partition key.
func byPartition(units map[store.Key]float64) map[string]float64 {
	out := map[string]float64{}
	for k, u := range units {
		out[k.PK] += u
	}
	return out
}

// txUnits is the write units an item of size bytes costs in a
// transaction: 2 a KB.
func txUnits(size int) float64 { return 2 * float64((size+1023)/1024) }

// counterSize is the size of a counter item (pk, sk and n), for the units
// a counter write costs: always under 1 KB.
const counterSize = 120

// readDeltas reads b's pending parts and journals, strongly consistent,
// up to perLane from each lane, in sort key order: parts first (sort key
// "0…"), then journals by time.
func (s *Store) readDeltas(ctx context.Context, b *leaderboards.Board) ([]delta, error) {
	pks := JournalPKs(b)
	got := make([][]delta, len(pks))
	var u xbl.Usage
	err := s.queryEach(ctx, pks, func(int) (string, string) { return "#sk >= :at", "0" }, perLane, true, true, &u, func(i int, av map[string]types.AttributeValue) (bool, error) {
		var d delta
		if err := store.Unmarshal(av, &d); err != nil {
			return false, err
		}
		d.size = store.ItemSize(av)
		got[i] = append(got[i], d)
		return len(got[i]) < perLane, nil
	})
	ds := slices.Concat(got...)
	slices.SortFunc(ds, func(a, c delta) int { return strings.Compare(a.SK, c.SK) })
	return ds, err
}

// choose returns how many of journals (in time order) one fold takes, and
// their changes summed: as many as fit in one transaction with the parts
// their changes need (maxTxItems − 1 counters a part), or with the
// counters themselves when they fit.
func choose(journals []delta) (int, map[string]int) {
	sum := map[string]int{}
	n := 0
	for _, j := range journals {
		next := maps.Clone(sum)
		for sk, d := range j.D {
			next[sk] += d
		}
		parts := (len(next) + maxTxItems - 2) / (maxTxItems - 1)
		if n > 0 && n+1+parts > maxTxItems {
			break
		}
		sum, n = next, n+1
	}
	maps.DeleteFunc(sum, func(_ string, d int) bool { return d == 0 })
	return n, sum
}

// partsOf splits the counter changes sum into parts of at most
// maxTxItems − 1 counters (each part is applied in one transaction with
// its own delete), in counter partition order so that a part writes few
// partitions; id is the fold's. Each part's size is set.
func partsOf(b *leaderboards.Board, sum map[string]int, best, id string) ([]delta, error) {
	sks := slices.SortedFunc(maps.Keys(sum), func(x, y string) int {
		return cmp.Or(strings.Compare(CounterPK(b, x), CounterPK(b, y)), strings.Compare(x, y))
	})
	var out []delta
	for chunk := range slices.Chunk(sks, maxTxItems-1) {
		k := len(out)
		d := delta{Key: store.Key{PK: JournalPK(b, k%b.LaneCount()), SK: "0" + id + "#" + strconv.Itoa(k)}, D: map[string]int{}, Best: best}
		for _, sk := range chunk {
			d.D[sk] = sum[sk]
		}
		av, err := store.Marshal(d)
		if err != nil {
			return nil, err
		}
		d.size = store.ItemSize(av)
		out = append(out, d)
	}
	return out, nil
}

// addItems returns the counter updates of changes d on b.
func (s *Store) addItems(b *leaderboards.Board, d map[string]int) []types.TransactWriteItem {
	var out []types.TransactWriteItem
	for _, sk := range slices.Sorted(maps.Keys(d)) {
		out = append(out, types.TransactWriteItem{Update: &types.Update{
			TableName:                 aws.String(s.table.Name),
			Key:                       store.Key{PK: CounterPK(b, sk), SK: sk}.AV(),
			UpdateExpression:          aws.String("ADD #n :n"),
			ExpressionAttributeNames:  map[string]string{"#n": "n"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":n": num(int64(d[sk]))},
		}})
	}
	return out
}

// deleteItem is a transaction's delete of k, on condition that it exists.
func (s *Store) deleteItem(k store.Key) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName:           aws.String(s.table.Name),
		Key:                 k.AV(),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	}}
}

// transact sends items as one transaction, again after a conflict or
// throttling. When conditions failed, failed lists the items (by index)
// whose condition failed, and nothing was written.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) (failed []int, err error) {
	for attempt := 0; ; attempt++ {
		_, err := s.table.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil, nil
		}
		var tce *types.TransactionCanceledException
		if errors.As(err, &tce) {
			for i, r := range tce.CancellationReasons {
				if aws.ToString(r.Code) == "ConditionalCheckFailed" {
					failed = append(failed, i)
				}
			}
			if len(failed) > 0 {
				return failed, nil
			}
		}
		if tce == nil || attempt >= store.MaxAttempts {
			return nil, store.CallError(ctx, "transact "+s.table.Name, err)
		}
		// A conflict with another transaction, or throttling.
		if err := store.Sleep(ctx, store.Backoff(attempt)); err != nil {
			return nil, err
		}
	}
}

// foldOnce folds b's pending journals into its counters, exactly once
// each: the board's top item is brought up to date first; the parts a
// fold before it left are applied; then as many journals as fit are
// deleted, in one transaction, with either the counters they change (when
// the two fit in one transaction) or the parts that hold those changes,
// each part then applied in a transaction with its own delete. Value
// counters it leaves at 0 are deleted.
func (s *Store) foldOnce(ctx context.Context, b *leaderboards.Board) (foldResult, error) {
	var r foldResult
	ds, err := s.readDeltas(ctx, b)
	if err != nil || len(ds) == 0 {
		return r, err
	}
	r.found = true
	split := 0
	for split < len(ds) && ds[split].SK[0] == '0' {
		split++
	}
	parts, journals := ds[:split], ds[split:]
	n, sum := choose(journals)
	fw := foldWrites{deletes: slices.Concat(parts, journals[:n]), counters: maps.Clone(sum)}
	for _, p := range parts {
		for sk, d := range p.D {
			fw.counters[sk] += d
		}
	}
	if n+len(sum) > maxTxItems {
		if fw.parts, err = partsOf(b, sum, "", newID(s.now())); err != nil {
			return r, err
		}
	}
	// The top item first, while the parts and journals it owes a refresh
	// still exist: a fold that stops after this leaves them for the next,
	// which refreshes it again; one that refreshed it last would leave it
	// stale for good if it stopped in between. (Their entries are in the
	// lanes already: they were written with the journals.)
	best, anyway := "", false
	for _, d := range fw.deletes {
		best = bestOf(best, d.Best)
		anyway = anyway || d.Best == "" && d.SK[0] == '0'
	}
	for i := range fw.parts {
		fw.parts[i].Best = best
	}
	fw.top, err = s.refreshTop(ctx, b, best, anyway)
	r.units = byPartition(fw.units(b))
	if err != nil {
		return r, err
	}
	applied := map[string]int{}
	if err := s.applyParts(ctx, b, parts, applied); err != nil {
		return r, err
	}
	if n > 0 {
		var items []types.TransactWriteItem
		for _, j := range journals[:n] {
			items = append(items, s.deleteItem(j.Key))
		}
		if fw.parts == nil {
			items = append(items, s.addItems(b, sum)...)
		}
		for _, p := range fw.parts {
			av, err := store.Marshal(p)
			if err != nil {
				return r, err
			}
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table.Name), Item: av}})
		}
		failed, err := s.transact(ctx, items)
		if err != nil || failed != nil {
			return r, err // another fold took these journals first
		}
		if fw.parts == nil {
			for sk, d := range sum {
				applied[sk] += d
			}
		} else {
			if faults.afterParts != nil {
				return r, faults.afterParts
			}
			if err := s.applyParts(ctx, b, fw.parts, applied); err != nil {
				return r, err
			}
		}
	}
	s.deleteZeros(ctx, lowered(b, applied))
	return r, nil
}

// bestOf returns the better (lower) of two value keys in hex, "" being
// none.
func bestOf(a, b string) string {
	if a == "" || b != "" && b < a {
		return b
	}
	return a
}

// applyParts applies parts, each in one transaction with its own delete
// (a part another fold applied first fails its condition and is left
// alone), 8 at once, adding what they applied to applied.
func (s *Store) applyParts(ctx context.Context, b *leaderboards.Board, parts []delta, applied map[string]int) error {
	done := make([]bool, len(parts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, p := range parts {
		g.Go(func() error {
			failed, err := s.transact(gctx, append([]types.TransactWriteItem{s.deleteItem(p.Key)}, s.addItems(b, p.D)...))
			done[i] = err == nil && failed == nil
			return err
		})
	}
	err := g.Wait()
	for i, p := range parts {
		if done[i] {
			for sk, d := range p.D {
				applied[sk] += d
			}
		}
	}
	return err
}

// deleteZeros deletes the value counters ks, lowered by a fold or a
// transaction, on condition that they are 0 (best effort: a counter left
// at 0 only costs a read; each delete costs a write unit, deleted or not).
func (s *Store) deleteZeros(ctx context.Context, ks []store.Key) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, k := range ks {
		g.Go(func() error {
			s.table.Client.DeleteItem(gctx, &dynamodb.DeleteItemInput{
				TableName:                 aws.String(s.table.Name),
				Key:                       k.AV(),
				ConditionExpression:       aws.String("#n = :zero"),
				ExpressionAttributeNames:  map[string]string{"#n": "n"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":zero": num(0)},
			})
			return nil
		})
	}
	g.Wait()
}

// lowered returns the value counters of b that changes lowers.
func lowered(b *leaderboards.Board, changes map[string]int) []store.Key {
	var out []store.Key
	for _, sk := range slices.Sorted(maps.Keys(changes)) {
		if changes[sk] < 0 && sk[0] == '3' {
			out = append(out, store.Key{PK: CounterPK(b, sk), SK: sk})
		}
	}
	return out
}

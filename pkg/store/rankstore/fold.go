package rankstore

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
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
// and the write units it gave each partition.
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

// txUnits is the write units an item of size bytes costs in a
// transaction: 2 a KB.
func txUnits(size int) float64 { return 2 * float64((size+1023)/1024) }

// counterSize is the size of a counter item (pk, sk and n), for the units
// a counter write costs: always under 1 KB.
const counterSize = 120

// readDeltas reads b's pending parts and journals, strongly consistent,
// up to perLane from each lane, in sort key order: parts first (sort key
// "0…"), then journals by time.
func (s *Store) readDeltas(ctx context.Context, b *leaderboards.Board) (ds []delta, full bool, u xbl.Usage, err error) {
	pks := JournalPKs(b)
	got := make([][]delta, len(pks))
	usage := make([]xbl.Usage, len(pks))
	g, gctx := errgroup.WithContext(ctx)
	for i, pk := range pks {
		g.Go(func() error {
			var derr error
			err := s.query(gctx, pk, "#sk >= :at", map[string]types.AttributeValue{":at": strVal("0")}, perLane, true, true, &usage[i], func(av map[string]types.AttributeValue) bool {
				var d delta
				if derr = store.Unmarshal(av, &d); derr != nil {
					return false
				}
				d.size = store.ItemSize(av)
				got[i] = append(got[i], d)
				return len(got[i]) < perLane
			})
			return errors.Join(err, derr)
		})
	}
	err = g.Wait()
	for i := range usage {
		u.Add(usage[i])
		full = full || len(got[i]) == perLane
	}
	ds = slices.Concat(got...)
	slices.SortFunc(ds, func(a, c delta) int { return compareStrings(a.SK, c.SK) })
	return ds, full, u, err
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
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
// partitions; id is the fold's.
func partsOf(b *leaderboards.Board, sum map[string]int, best, id string) []delta {
	sks := slices.SortedFunc(maps.Keys(sum), func(x, y string) int {
		if c := compareStrings(CounterPK(b, x), CounterPK(b, y)); c != 0 {
			return c
		}
		return compareStrings(x, y)
	})
	var out []delta
	for k, chunk := range enumerate(slices.Chunk(sks, maxTxItems-1)) {
		d := delta{Key: store.Key{PK: JournalPK(b, k%b.LaneCount()), SK: "0" + id + "#" + strconv.Itoa(k)}, D: map[string]int{}, Best: best}
		for _, sk := range chunk {
			d.D[sk] = sum[sk]
		}
		out = append(out, d)
	}
	return out
}

func enumerate[T any](seq func(func(T) bool)) func(func(int, T) bool) {
	return func(yield func(int, T) bool) {
		i := 0
		for v := range seq {
			if !yield(i, v) {
				return
			}
			i++
		}
	}
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
// throttling; done is false when a condition failed (another fold did
// this one's work first).
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) (done bool, err error) {
	for attempt := 0; ; attempt++ {
		_, err := s.table.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return true, nil
		}
		var tce *types.TransactionCanceledException
		if errors.As(err, &tce) && conditionFailed(tce) {
			return false, nil
		}
		if !errors.As(err, &tce) || attempt >= store.MaxAttempts {
			return false, store.CallError(ctx, "transact "+s.table.Name, err)
		}
		if err := store.Sleep(ctx, store.Backoff(attempt)); err != nil {
			return false, err
		}
	}
}

// conditionFailed reports whether a cancelled transaction failed on a
// condition.
func conditionFailed(tce *types.TransactionCanceledException) bool {
	for _, r := range tce.CancellationReasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			return true
		}
	}
	return false
}

// foldOnce folds b's pending journals into its counters, exactly once
// each: the board's top item is brought up to date first; the parts a
// fold before it left are applied; then as many journals as fit are
// deleted, in one transaction, with either the counters they change (when
// the two fit in one transaction) or the parts that hold those changes,
// each part then applied in a transaction with its own delete. Value
// counters it leaves at 0 are deleted.
func (s *Store) foldOnce(ctx context.Context, b *leaderboards.Board) (foldResult, error) {
	r := foldResult{units: map[string]float64{}}
	ds, _, _, err := s.readDeltas(ctx, b)
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
	take := journals[:n]
	// The top item first, while the parts and journals it owes a refresh
	// still exist: a fold that stops after this leaves them for the next,
	// which refreshes it again; one that refreshed it last would leave it
	// stale for good if it stopped in between. (Their entries are in the
	// lanes already: they were written with the journals.)
	top, topAnyway := "", false
	for _, d := range slices.Concat(parts, take) {
		top = bestOf(top, d.Best)
		topAnyway = topAnyway || d.Best == "" && d.SK[0] == '0'
	}
	if err := s.refreshTop(ctx, b, top, topAnyway, r.units); err != nil {
		return r, err
	}
	applied := map[string]int{}
	if err := s.applyParts(ctx, b, parts, applied, r.units); err != nil {
		return r, err
	}
	if n > 0 {
		var items []types.TransactWriteItem
		for _, j := range take {
			items = append(items, s.deleteItem(j.Key))
			r.units[j.PK] += txUnits(j.size)
		}
		if n+len(sum) <= maxTxItems {
			items = append(items, s.addItems(b, sum)...)
			ok, err := s.transact(ctx, items)
			if err != nil || !ok {
				return r, err
			}
			for sk, d := range sum {
				applied[sk] += d
				r.units[CounterPK(b, sk)] += txUnits(counterSize)
			}
		} else {
			ps := partsOf(b, sum, top, newID(s.now()))
			for i := range ps {
				av, err := store.Marshal(ps[i])
				if err != nil {
					return r, err
				}
				items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table.Name), Item: av}})
				ps[i].size = store.ItemSize(av)
				r.units[ps[i].PK] += txUnits(ps[i].size)
			}
			ok, err := s.transact(ctx, items)
			if err != nil || !ok {
				return r, err
			}
			if faults.afterParts != nil {
				return r, faults.afterParts
			}
			if err := s.applyParts(ctx, b, ps, applied, r.units); err != nil {
				return r, err
			}
		}
	}
	s.deleteZeros(ctx, lowered(b, applied), r.units)
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
func (s *Store) applyParts(ctx context.Context, b *leaderboards.Board, parts []delta, applied map[string]int, units map[string]float64) error {
	done := make([]bool, len(parts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, p := range parts {
		g.Go(func() error {
			ok, err := s.transact(gctx, append([]types.TransactWriteItem{s.deleteItem(p.Key)}, s.addItems(b, p.D)...))
			done[i] = ok
			return err
		})
	}
	err := g.Wait()
	for i, p := range parts {
		if !done[i] {
			continue
		}
		units[p.PK] += txUnits(p.size)
		for sk, d := range p.D {
			applied[sk] += d
			units[CounterPK(b, sk)] += txUnits(counterSize)
		}
	}
	return err
}

// deleteZeros deletes the value counters ks, lowered by a fold or a
// transaction, on condition that they are 0 (best effort: a counter left
// at 0 only costs a read; each delete costs a write unit, deleted or not,
// added to units when not nil).
func (s *Store) deleteZeros(ctx context.Context, ks []store.Key, units map[string]float64) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, k := range ks {
		if units != nil {
			units[k.PK]++
		}
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

package rankstore

import (
	"context"
	"maps"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/store"
)

// Build writes board b whole, for the tools that load a board of many
// players at once (the benchmarks): every entry, every counter with its
// count, and its top item, in BatchWriteItem calls sent 8 at a time. b must have no
// items yet, and nothing may move a player on it meanwhile; the running
// service only ever moves players (Apply). Every entry's value must be
// ranked, and a player may appear once.
func Build(ctx context.Context, t store.Table, b *leaderboards.Board, entries []leaderboards.Entry) error {
	var reqs []types.WriteRequest
	counts := map[string]int{}
	for _, e := range entries {
		k := b.Key(leaderboards.CursorOf(&e))
		av, err := store.Marshal(entry{Key: store.Key{PK: EntryPK(b, e.XUID), SK: entrySK(b, leaderboards.CursorOf(&e))}, Value: e.Value.Value, Type: typeCode(e.Value.Type), Gamertag: e.Gamertag})
		if err != nil {
			return err
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		for _, level := range []func([]byte) string{coarseSK, fineSK, valueSK} {
			counts[level(k[:8])]++
		}
	}
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(x, y leaderboards.Entry) int {
		return b.Compare(leaderboards.CursorOf(&x), leaderboards.CursorOf(&y))
	})
	tav, err := store.Marshal(topOf(b, sorted))
	if err != nil {
		return err
	}
	reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: tav}})
	for _, sk := range slices.Sorted(maps.Keys(counts)) {
		av := store.Key{PK: CounterPK(b, sk), SK: sk}.AV()
		av["n"] = &types.AttributeValueMemberN{Value: strconv.Itoa(counts[sk])}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for chunk := range slices.Chunk(reqs, store.MaxBatchWrite) {
		g.Go(func() error {
			_, err := t.WriteBatch(ctx, chunk)
			return err
		})
	}
	return g.Wait()
}

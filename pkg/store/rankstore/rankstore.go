// Package rankstore keeps the leaderboards' ranking in package store's
// table: Store implements leaderboards.Ranking (pages with exact ranks and
// totals) and applies leaderboards.Move (Apply).
//
// Each board (a SCID's leaderboard over one statistic) has its entries in
// EntryLanes partitions by player (EntryPK) and its counters in a
// partition per level and parent bucket (CounterPK):
//
//	pk                                      sk                          attributes
//	lbe#{scid}#{statkey}#{lane}             hex(Board.Key): value, xuid v (value text), t (i or d), g (gamertag)
//	lbc#{scid}#{statkey}                    1{hex(value key[0:2])}      n: players in a coarse value bucket
//	lbc#{scid}#{statkey}#{hex(vk[0:2])}     2{hex(value key[0:3])}      n: players in a fine value bucket
//	lbc#{scid}#{statkey}#{hex(vk[0:3])}     3{hex(value key[0:8])}      n: players with exactly that value
//
// where the value key is the first 8 bytes of Board.Key (the value's
// bits, in the board's order), and the lane (0 to 3) the top 2 bits of
// the 64-bit product xuid × 0x9E3779B97F4A7C15 (Fibonacci hashing). Each
// lane's entries are in board order (the sort key is the board's order):
// a page reads every lane at once, one Query each, and merges them
// (entries, lanes).
// A rank is 1 + the players strictly better than a value: the coarse
// buckets before the value's (all of them are read, a few hundred at most
// for the value ranges of games, since a coarse bucket spans a sixteenth
// of a power of two), the fine buckets before it in its coarse bucket (at
// most 256), and the values before it in its fine bucket (a 4096th of a
// power of two: at most 128 distinct integers below 2^20). The total is
// the sum of the coarse buckets. So a page reads three ranges of small
// counter items, one partition each, and its entries in every lane: seven
// Query calls, whatever the number of players.
//
// A move is one TransactWriteItems of at most 8 items: the old entry's
// delete (on condition that it exists) and the new entry's put (on
// condition that it does not), both in the player's lane, and ±1 on the
// counters where the old and new values' buckets differ. The conditions
// make a move applied twice (a retried batch) change nothing the second
// time. A value's counter that drops to 0 is deleted after the move, on
// condition that it is still 0.
package rankstore

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/statstore"
	"github.com/xblread/xblread/pkg/xbl"
)

var _ leaderboards.Ranking = (*Store)(nil)

// Store is the ranking of one table.
type Store struct {
	table store.Table
	stats *statstore.Store
}

// New returns the ranking kept in t.
func New(t store.Table) *Store { return &Store{table: t, stats: statstore.New(t)} }

// ReadStats implements stats.Reader over the same table (statstore): the
// rows' players' other statistics, for a page's extra columns.
func (s *Store) ReadStats(ctx context.Context, q stats.Query) (*stats.Found, error) {
	return s.stats.ReadStats(ctx, q)
}

// EntriesPK is the prefix of the partition keys of a board's entries
// (EntryPK), and CountsPK the partition key of its coarse counters (the
// scale simulator, infra/scale, counts their heat).
func EntriesPK(b *leaderboards.Board) string { return "lbe#" + b.SCID + "#" + xbl.StatKey(b.Stat) }
func CountsPK(b *leaderboards.Board) string  { return "lbc#" + b.SCID + "#" + xbl.StatKey(b.Stat) }

// EntryLanes is the number of partitions a board's entries are spread
// over, by player: each takes a quarter of the board's moves, so that
// the entries of a popular board do not meet in one partition's 1,000
// write units a second. A page reads every lane (EntryLanes Query calls
// of at least 0.5 read unit each) and merges them in board order.
const EntryLanes = 4

// EntryPK is the partition key of player x's entries on b: its lane.
func EntryPK(b *leaderboards.Board, x xbl.XUID) string {
	return EntriesPK(b) + "#" + strconv.Itoa(int((uint64(x)*0x9E3779B97F4A7C15)>>62)) // Fibonacci hashing: 4 lanes
}

// EntryLanePKs returns the partition keys of b's entry lanes.
func EntryLanePKs(b *leaderboards.Board) []string {
	out := make([]string, EntryLanes)
	for i := range out {
		out[i] = EntriesPK(b) + "#" + strconv.Itoa(i)
	}
	return out
}

// CounterPK is the partition key of the counter with sort key sk (or of
// the counters a level's prefix reads): a coarse counter is in the
// board's CountsPK; the fine counters of a coarse bucket share a
// partition of their own, and so do the value counters of a fine bucket
// (CountsPK, "#" and the parent bucket's hex). A page reads one partition
// per level, as before, and a move's counter writes spread over up to
// five partitions instead of one: the board's writes no longer all meet
// in one partition's 1,000 write units a second (docs/ARCHITECTURE.md).
func CounterPK(b *leaderboards.Board, sk string) string {
	switch {
	case len(sk) >= 5 && sk[0] == '2':
		return CountsPK(b) + "#" + sk[1:5]
	case len(sk) >= 7 && sk[0] == '3':
		return CountsPK(b) + "#" + sk[1:7]
	}
	return CountsPK(b)
}

// LevelPKs returns the partitions a page reads its three levels of
// counters from when it locates c's value: the board's coarse counters,
// the fine counters of c's coarse bucket and the value counters of c's
// fine bucket (the scale simulator counts a page's heat with it).
func LevelPKs(b *leaderboards.Board, c leaderboards.Cursor) [3]string {
	k := b.Key(c)
	return [3]string{CountsPK(b), CounterPK(b, fineSK(k[:8])), CounterPK(b, valueSK(k[:8]))}
}

// Counter sort keys of a value key vk (Board.Key's first 8 bytes).
func coarseSK(vk []byte) string { return "1" + hex.EncodeToString(vk[:2]) }
func fineSK(vk []byte) string   { return "2" + hex.EncodeToString(vk[:3]) }
func valueSK(vk []byte) string  { return "3" + hex.EncodeToString(vk[:8]) }

// entrySK is the sort key of the entry at place c.
func entrySK(b *leaderboards.Board, c leaderboards.Cursor) string {
	k := b.Key(c)
	return hex.EncodeToString(k[:])
}

// entry is an entry item.
type entry struct {
	store.Key
	Value    string `dynamodbav:"v"`
	Type     string `dynamodbav:"t"`
	Gamertag string `dynamodbav:"g,omitempty"`
}

func typeCode(t xbl.StatType) string {
	if t == xbl.Double {
		return "d"
	}
	return "i"
}

// decode reads an entry item back: its xuid is the sort key's last 8
// bytes.
func decode(av map[string]types.AttributeValue) (leaderboards.Entry, error) {
	var it entry
	if err := store.Unmarshal(av, &it); err != nil {
		return leaderboards.Entry{}, err
	}
	k, err := hex.DecodeString(it.SK)
	if err != nil || len(k) != leaderboards.KeySize {
		return leaderboards.Entry{}, errors.New("rankstore: entry sort key " + strconv.Quote(it.SK))
	}
	var x uint64
	for _, b := range k[8:] {
		x = x<<8 | uint64(b)
	}
	t := xbl.Integer
	if it.Type == "d" {
		t = xbl.Double
	}
	return leaderboards.Entry{XUID: xbl.XUID(x), Value: xbl.StatValue{Type: t, Value: it.Value}, Gamertag: it.Gamertag}, nil
}

// Apply applies move m, and reports whether it changed the ranking
// (false for a move applied before). gamertag is the player's, shown in
// the rows.
func (s *Store) Apply(ctx context.Context, m leaderboards.Move, gamertag string) (bool, error) {
	items, zero, err := s.plan(m, gamertag)
	if err != nil {
		return false, err
	}
	_, err = s.table.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && conditionFailed(tce) {
		return false, nil // applied before
	}
	if err != nil {
		return false, store.CallError(ctx, "transact "+s.table.Name, err)
	}
	if zero != nil {
		// Best effort: a counter left at 0 only costs a read.
		s.table.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:                 aws.String(s.table.Name),
			Key:                       zero.AV(),
			ConditionExpression:       aws.String("#n = :zero"),
			ExpressionAttributeNames:  map[string]string{"#n": "n"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":zero": &types.AttributeValueMemberN{Value: "0"}},
		})
	}
	return true, nil
}

// Writes returns the keys of the items a move of m writes: those of its
// transaction, then the value counter it may delete. The benchmarks
// count them to find the busiest partitions and items of a burst.
func Writes(m leaderboards.Move) []store.Key {
	tx, zero := WritePlan(m)
	if zero != nil {
		tx = append(tx, *zero)
	}
	return tx
}

// WritePlan returns what Apply writes for m: the keys of its
// transaction's items (2 write units each per KB) and the value counter
// it then deletes on condition that it is 0 (nil when none; 1 write unit,
// charged whether or not it deletes). The scale simulator (infra/scale)
// counts a burst's heat from it.
func WritePlan(m leaderboards.Move) (tx []store.Key, zero *store.Key) {
	items, zero, _ := (&Store{}).plan(m, "")
	for _, it := range items {
		var av map[string]types.AttributeValue
		switch {
		case it.Put != nil:
			av = it.Put.Item
		case it.Delete != nil:
			av = it.Delete.Key
		case it.Update != nil:
			av = it.Update.Key
		}
		pk, _ := av["pk"].(*types.AttributeValueMemberS)
		sk, _ := av["sk"].(*types.AttributeValueMemberS)
		if pk != nil && sk != nil {
			tx = append(tx, store.Key{PK: pk.Value, SK: sk.Value})
		}
	}
	return tx, zero
}

// plan is the transaction of a move, and the value counter it may leave
// at 0 (nil when none).
func (s *Store) plan(m leaderboards.Move, gamertag string) ([]types.TransactWriteItem, *store.Key, error) {
	b := &m.Board
	var items []types.TransactWriteItem
	epk := EntryPK(b, m.XUID)
	var oldVK, newVK []byte
	if m.From != nil {
		k := b.Key(leaderboards.Cursor{Value: *m.From, XUID: m.XUID})
		oldVK = k[:8]
	}
	if m.To != nil {
		k := b.Key(leaderboards.Cursor{Value: *m.To, XUID: m.XUID})
		newVK = k[:8]
	}
	sameKey := oldVK != nil && newVK != nil && string(oldVK) == string(newVK)
	if m.From != nil && !sameKey {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{
			TableName:           aws.String(s.table.Name),
			Key:                 store.Key{PK: epk, SK: entrySK(b, leaderboards.Cursor{Value: *m.From, XUID: m.XUID})}.AV(),
			ConditionExpression: aws.String("attribute_exists(pk)"),
		}})
	}
	if m.To != nil {
		av, err := store.Marshal(entry{
			Key:   store.Key{PK: epk, SK: entrySK(b, leaderboards.Cursor{Value: *m.To, XUID: m.XUID})},
			Value: m.To.Value, Type: typeCode(m.To.Type), Gamertag: gamertag,
		})
		if err != nil {
			return nil, nil, err
		}
		put := &types.Put{TableName: aws.String(s.table.Name), Item: av, ConditionExpression: aws.String("attribute_not_exists(pk)")}
		if sameKey {
			// The same place, the value written anew: applied before
			// when the entry already shows it.
			put.ConditionExpression = aws.String("attribute_exists(pk) AND (#v <> :v OR #t <> :t)")
			put.ExpressionAttributeNames = map[string]string{"#v": "v", "#t": "t"}
			put.ExpressionAttributeValues = map[string]types.AttributeValue{
				":v": &types.AttributeValueMemberS{Value: m.To.Value},
				":t": &types.AttributeValueMemberS{Value: typeCode(m.To.Type)},
			}
		}
		items = append(items, types.TransactWriteItem{Put: put})
	}
	for _, level := range []func([]byte) string{coarseSK, fineSK, valueSK} {
		var from, to string
		if oldVK != nil {
			from = level(oldVK)
		}
		if newVK != nil {
			to = level(newVK)
		}
		if from == to {
			continue
		}
		if from != "" {
			items = append(items, add(s.table.Name, store.Key{PK: CounterPK(b, from), SK: from}, -1))
		}
		if to != "" {
			items = append(items, add(s.table.Name, store.Key{PK: CounterPK(b, to), SK: to}, 1))
		}
	}
	var zero *store.Key
	if oldVK != nil && !sameKey {
		zero = &store.Key{PK: CounterPK(b, valueSK(oldVK)), SK: valueSK(oldVK)}
	}
	return items, zero, nil
}

func add(table string, k store.Key, n int) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(table),
		Key:                       k.AV(),
		UpdateExpression:          aws.String("ADD #n :n"),
		ExpressionAttributeNames:  map[string]string{"#n": "n"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: strconv.Itoa(n)}},
	}}
}

// conditionFailed reports whether a cancelled transaction failed only on
// conditions (no conflict, no throttling).
func conditionFailed(tce *types.TransactionCanceledException) bool {
	failed := false
	for _, r := range tce.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "", "None":
		case "ConditionalCheckFailed":
			failed = true
		default:
			return false
		}
	}
	return failed
}

// counts is what one reading of a board's counters found.
type counts struct {
	total  uint32
	coarse []counter // in board order
	u      xbl.Usage
}

type counter struct {
	sk string
	n  uint32
}

// query runs one Query of pk with the key condition cond (on #sk, with
// values vals) in board order, all pages, calling each for every item.
func (s *Store) query(ctx context.Context, pk, cond string, vals map[string]types.AttributeValue, limit int32, forward bool, u *xbl.Usage, each func(map[string]types.AttributeValue) bool) error {
	vals[":pk"] = &types.AttributeValueMemberS{Value: pk}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table.Name),
		KeyConditionExpression:    aws.String("#pk = :pk AND " + cond),
		ExpressionAttributeNames:  map[string]string{"#pk": "pk", "#sk": "sk"},
		ExpressionAttributeValues: vals,
		ScanIndexForward:          aws.Bool(forward),
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	}
	if limit > 0 {
		in.Limit = aws.Int32(limit)
	}
	for {
		page, err := s.table.Client.Query(ctx, in)
		if err != nil {
			return store.CallError(ctx, "query "+s.table.Name, err)
		}
		u.Calls++
		u.Items += len(page.Items)
		if page.ConsumedCapacity != nil {
			u.ConsumedRCU += aws.ToFloat64(page.ConsumedCapacity.CapacityUnits)
		}
		for _, av := range page.Items {
			if !each(av) {
				return nil
			}
		}
		if page.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

func strVal(s string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: s} }

// counterOf reads a counter item.
func counterOf(av map[string]types.AttributeValue) counter {
	var c counter
	if v, ok := av["sk"].(*types.AttributeValueMemberS); ok {
		c.sk = v.Value
	}
	if v, ok := av["n"].(*types.AttributeValueMemberN); ok {
		if n, err := strconv.ParseInt(v.Value, 10, 64); err == nil && n > 0 {
			c.n = uint32(n)
		}
	}
	return c
}

// level reads every counter of b whose sort key begins with prefix, in
// board order.
func (s *Store) level(ctx context.Context, b *leaderboards.Board, prefix string, u *xbl.Usage) ([]counter, error) {
	var out []counter
	err := s.query(ctx, CounterPK(b, prefix), "begins_with(#sk, :p)", map[string]types.AttributeValue{":p": strVal(prefix)}, 0, true, u, func(av map[string]types.AttributeValue) bool {
		if c := counterOf(av); c.n > 0 {
			out = append(out, c)
		}
		return true
	})
	return out, err
}

// readCounts reads the coarse buckets: the total, and where each bucket
// starts.
func (s *Store) readCounts(ctx context.Context, b *leaderboards.Board) (*counts, error) {
	c := &counts{}
	var err error
	c.coarse, err = s.level(ctx, b, "1", &c.u)
	for _, k := range c.coarse {
		c.total += k.n
	}
	return c, err
}

// before returns the number of players whose value is strictly better
// than the value key vk, and the number with exactly vk.
func (s *Store) before(ctx context.Context, b *leaderboards.Board, c *counts, vk []byte) (better, ties uint32, err error) {
	cs, fs, vs := coarseSK(vk), fineSK(vk), valueSK(vk)
	for _, k := range c.coarse {
		if k.sk < cs {
			better += k.n
		}
	}
	fine, err := s.level(ctx, b, "2"+cs[1:], &c.u)
	if err != nil {
		return 0, 0, err
	}
	for _, k := range fine {
		if k.sk < fs {
			better += k.n
		}
	}
	values, err := s.level(ctx, b, "3"+fs[1:], &c.u)
	if err != nil {
		return 0, 0, err
	}
	for _, k := range values {
		switch {
		case k.sk < vs:
			better += k.n
		case k.sk == vs:
			ties = k.n
		}
	}
	return better, ties, nil
}

// selectValue returns the value key of the player at position r (from
// 1), the number of players strictly better, and the number tied with
// it; ok is false past the end.
func (s *Store) selectValue(ctx context.Context, b *leaderboards.Board, c *counts, r uint32) (vk string, better, ties uint32, ok bool, err error) {
	if r == 0 || r > c.total {
		return "", 0, 0, false, nil
	}
	var cum uint32
	find := func(list []counter) (counter, bool) {
		for _, k := range list {
			if r <= cum+k.n {
				return k, true
			}
			cum += k.n
		}
		return counter{}, false
	}
	coarse, found := find(c.coarse)
	if !found {
		return "", 0, 0, false, nil
	}
	// down finds, among the counters under prefix, the one holding
	// position r. A move between the reads of two levels can leave a
	// level's counts short of the one above: the position then falls on
	// the level's last counter (the page starts a little early, never
	// fails).
	down := func(prefix string) (counter, bool, error) {
		list, err := s.level(ctx, b, prefix, &c.u)
		if err != nil || len(list) == 0 {
			return counter{}, false, err
		}
		k, found := find(list)
		if !found {
			k = list[len(list)-1]
			cum -= k.n
		}
		return k, true, nil
	}
	f, ok, err := down("2" + coarse.sk[1:])
	if err != nil || !ok {
		return "", 0, 0, false, err
	}
	v, ok, err := down("3" + f.sk[1:])
	if err != nil || !ok {
		return "", 0, 0, false, err
	}
	return v.sk[1:], cum, v.n, true, nil
}

// entries reads up to n entries of b from sort key from (inclusive or
// not), forward, and whether more follow: up to n+1 from each lane, at
// once, merged in board order.
func (s *Store) entries(ctx context.Context, b *leaderboards.Board, from string, inclusive bool, n int, u *xbl.Usage) ([]leaderboards.Entry, bool, error) {
	op := ">"
	if inclusive {
		op = ">="
	}
	all, err := s.lanes(ctx, b, "#sk "+op+" :at", from, n+1, true, u)
	if err != nil {
		return nil, false, err
	}
	if len(all) > n {
		return all[:n], true, nil
	}
	return all, false, nil
}

// lanes runs the Query cond (on #sk and :at) in every entry lane of b at
// once, up to limit entries each, in board order (forward) or in reverse,
// and returns their entries merged in that order. Each lane's items come
// sorted by sort key, and the sort key is the board's order, so the merge
// is a sort of at most EntryLanes × limit entries.
func (s *Store) lanes(ctx context.Context, b *leaderboards.Board, cond, at string, limit int, forward bool, u *xbl.Usage) ([]leaderboards.Entry, error) {
	type found struct {
		sk string
		e  leaderboards.Entry
	}
	pks := EntryLanePKs(b)
	got := make([][]found, len(pks))
	usage := make([]xbl.Usage, len(pks))
	g, gctx := errgroup.WithContext(ctx)
	for i, pk := range pks {
		g.Go(func() error {
			var derr error
			err := s.query(gctx, pk, cond, map[string]types.AttributeValue{":at": strVal(at)}, int32(limit), forward, &usage[i], func(av map[string]types.AttributeValue) bool {
				e, err := decode(av)
				if err != nil {
					derr = err
					return false
				}
				sk, _ := av["sk"].(*types.AttributeValueMemberS)
				got[i] = append(got[i], found{sk.Value, e})
				return len(got[i]) < limit
			})
			return errors.Join(err, derr)
		})
	}
	err := g.Wait()
	for i := range usage {
		u.Add(usage[i])
	}
	if err != nil {
		return nil, err
	}
	var merged []found
	for _, l := range got {
		merged = append(merged, l...)
	}
	slices.SortFunc(merged, func(a, c found) int {
		if forward {
			return strings.Compare(a.sk, c.sk)
		}
		return strings.Compare(c.sk, a.sk)
	})
	out := make([]leaderboards.Entry, min(len(merged), limit))
	for i := range out {
		out[i] = merged[i].e
	}
	return out, nil
}

// sliceFrom completes a slice whose first entry is es[0]: its rank and
// tie from the counters.
func (s *Store) sliceFrom(ctx context.Context, b *leaderboards.Board, c *counts, es []leaderboards.Entry, more bool) (*leaderboards.Slice, error) {
	sl := &leaderboards.Slice{Entries: es, More: more, Total: c.total}
	if len(es) > 0 {
		k := b.Key(leaderboards.CursorOf(&es[0]))
		better, ties, err := s.before(ctx, b, c, k[:8])
		if err != nil {
			return nil, err
		}
		sl.Rank, sl.Ties = better+1, ties
	}
	return sl, nil
}

// At implements leaderboards.Ranking.
func (s *Store) At(ctx context.Context, b *leaderboards.Board, r uint32, n int) (*leaderboards.Slice, error) {
	c, err := s.readCounts(ctx, b)
	if err != nil {
		return &leaderboards.Slice{Usage: c.u}, err
	}
	vk, better, ties, ok, err := s.selectValue(ctx, b, c, max(r, 1))
	if err != nil || !ok {
		return &leaderboards.Slice{Total: c.total, Usage: c.u}, err
	}
	es, more, err := s.entries(ctx, b, vk, true, n, &c.u)
	if err != nil {
		return &leaderboards.Slice{Usage: c.u}, err
	}
	return &leaderboards.Slice{Entries: es, Rank: better + 1, Ties: ties, More: more, Total: c.total, Usage: c.u}, nil
}

// After implements leaderboards.Ranking.
func (s *Store) After(ctx context.Context, b *leaderboards.Board, cur leaderboards.Cursor, n int) (*leaderboards.Slice, error) {
	c, err := s.readCounts(ctx, b)
	if err != nil {
		return &leaderboards.Slice{Usage: c.u}, err
	}
	es, more, err := s.entries(ctx, b, entrySK(b, cur), false, n, &c.u)
	if err != nil {
		return &leaderboards.Slice{Usage: c.u}, err
	}
	sl, err := s.sliceFrom(ctx, b, c, es, more)
	if err != nil {
		return &leaderboards.Slice{Usage: c.u}, err
	}
	sl.Usage = c.u
	return sl, nil
}

// Around implements leaderboards.Ranking: the player's value is read
// from their statistics item (what the ranking shows once it has applied
// the write that wrote it).
func (s *Store) Around(ctx context.Context, b *leaderboards.Board, x xbl.XUID, n int) (*leaderboards.Slice, bool, error) {
	key := xbl.StatKey(b.Stat)
	found, err := s.stats.ReadStats(ctx, stats.Query{Users: []xbl.XUID{x}, SCIDs: []string{b.SCID}, Names: []string{key}})
	var u xbl.Usage
	if found != nil {
		u = found.Usage
	}
	if err != nil {
		return &leaderboards.Slice{Usage: u}, false, err
	}
	v, ok := found.Stats[stats.UserSCID{XUID: x, SCID: b.SCID}][key]
	if !ok || !leaderboards.Ranked(v) {
		return &leaderboards.Slice{Usage: u}, false, nil
	}
	c, err := s.readCounts(ctx, b)
	c.u.Add(u)
	if err != nil {
		return &leaderboards.Slice{Usage: c.u}, false, err
	}
	at := entrySK(b, leaderboards.Cursor{Value: v, XUID: x})
	// The (n-1)/2 entries before x, nearest first.
	var prev []leaderboards.Entry
	if back := (n - 1) / 2; back > 0 {
		if prev, err = s.lanes(ctx, b, "#sk < :at", at, back, false, &c.u); err != nil {
			return &leaderboards.Slice{Usage: c.u}, false, err
		}
	}
	rest, more, err := s.entries(ctx, b, at, true, n-len(prev), &c.u)
	if err != nil {
		return &leaderboards.Slice{Usage: c.u}, false, err
	}
	es := make([]leaderboards.Entry, 0, len(prev)+len(rest))
	for i := len(prev) - 1; i >= 0; i-- {
		es = append(es, prev[i])
	}
	es = append(es, rest...)
	sl, err := s.sliceFrom(ctx, b, c, es, more)
	if err != nil {
		return &leaderboards.Slice{Usage: c.u}, false, err
	}
	sl.Usage = c.u
	return sl, true, nil
}

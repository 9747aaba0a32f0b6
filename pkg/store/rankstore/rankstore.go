// Package rankstore keeps the leaderboards' ranking in package store's
// table: Store implements leaderboards.Ranking (pages with exact ranks and
// totals) and leaderboards.Mover (Apply: a stream batch's moves).
//
// Each board (a SCID's leaderboard over one statistic) has its entries in
// its lanes by player (EntryPK; xbl.Leaderboard.Lanes, 4 by default) and
// its counters in a partition per level and parent bucket (CounterPK):
//
//	pk                                      sk                          attributes
//	lbe#{scid}#{statkey}#{lane}             hex(Board.Key): value, xuid v (value text), t (i or d), g (gamertag)
//	lbc#{scid}#{statkey}[#k{part}]          1{hex(value key[0:2])}      n: players in a coarse value bucket
//	lbc#{scid}#{statkey}#{hex(vk[0:2])}     2{hex(value key[0:3])}      n: players in a fine value bucket
//	lbc#{scid}#{statkey}#{hex(vk[0:3])}     3{hex(value key[0:8])}      n: players with exactly that value
//
// and, on a batched board (more than 4 lanes: xbl.Leaderboard.Batched),
// its journals and the parts of its folds (lbj#{scid}#{statkey}#{lane},
// sort keys 1{id} and 0{fold id}#{part}), its fold lease (LeaseKey) and
// its top item (TopKey), and its coarse counters in CoarseParts
// partitions (the #k{part} above). The value key is the first 8 bytes of
// Board.Key (the value's bits, in the board's order), and a player's lane
// the top bits of the 64-bit product xuid × 0x9E3779B97F4A7C15 (Fibonacci
// hashing) scaled to the lanes. Each lane's entries are in board order
// (the sort key is the board's order): a page reads every lane at once
// and merges them (lanes).
//
// A rank is 1 + the players strictly better than a value: the coarse
// buckets before the value's (all of them are read, a few hundred at most
// for the value ranges of games, since a coarse bucket spans a sixteenth
// of a power of two), the fine buckets before it in its coarse bucket (at
// most 256), and the values before it in its fine bucket (a 4096th of a
// power of two: at most 128 distinct integers below 2^20). The total is
// the sum of the coarse buckets. So a page reads three ranges of small
// counter items and its entries in every lane, whatever the number of
// players; a batched board's top page reads its top item instead of the
// lanes.
//
// Apply writes a batch's moves in as few transactions as fit: each entry
// write conditional on its own (the old place's delete if it exists, the
// new place's put if it does not), and the counters they change, in the
// transaction (a board of the default lanes) or in a journal folded into
// the counters later, exactly once, by the holder of the board's lease
// (write.go, fold.go; docs/ARCHITECTURE.md, "Leaderboards: how a rank is
// counted").
package rankstore

import (
	"context"
	"encoding/hex"
	"errors"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"

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
	now   func() time.Time
}

// New returns the ranking kept in t.
func New(t store.Table) *Store { return &Store{table: t, stats: statstore.New(t), now: time.Now} }

// ReadStats implements stats.Reader over the same table (statstore): the
// rows' players' other statistics, for a page's extra columns.
func (s *Store) ReadStats(ctx context.Context, q stats.Query) (*stats.Found, error) {
	return s.stats.ReadStats(ctx, q)
}

// EntriesPK is the prefix of the partition keys of a board's entries
// (EntryPK), and CountsPK that of its counters (CounterPK).
func EntriesPK(b *leaderboards.Board) string { return "lbe#" + b.SCID + "#" + xbl.StatKey(b.Stat) }
func CountsPK(b *leaderboards.Board) string  { return "lbc#" + b.SCID + "#" + xbl.StatKey(b.Stat) }

// EntryPK is the partition key of player x's entries on b: its lane, of
// the board's b.LaneCount() (xbl.Leaderboard.Lanes). The lanes spread a
// board's entries over partitions by player, so that the entries of a
// popular board do not meet in one partition's 1,000 write units a
// second; a page reads every lane (a Query each, at least 0.5 read unit)
// and merges them in board order.
func EntryPK(b *leaderboards.Board, x xbl.XUID) string {
	return EntriesPK(b) + "#" + strconv.Itoa(lane(x, b.LaneCount()))
}

// EntryLanePKs returns the partition keys of b's entry lanes.
func EntryLanePKs(b *leaderboards.Board) []string {
	out := make([]string, b.LaneCount())
	for i := range out {
		out[i] = EntriesPK(b) + "#" + strconv.Itoa(i)
	}
	return out
}

// CoarseParts is the number of partitions a batched board's coarse
// counters are spread over, by bucket: every fold writes the coarse
// counters its moves changed (a hundred or more on a board of spread
// scores), so one partition would take every fold's; a page reads them
// all, one Query each.
const CoarseParts = 8

// CounterPK is the partition key of the counter with sort key sk: a
// coarse counter is in CountsPK, or on a batched board in one of its
// CoarseParts partitions (CountsPK, "#k" and the part: Fibonacci hashing
// of the bucket); the
// fine counters of a coarse bucket share a partition of their own, and so
// do the value counters of a fine bucket (CountsPK, "#" and the parent
// bucket's hex). A page reads the coarse partitions and one partition per
// level below, and the folds' counter writes spread over many partitions
// (docs/ARCHITECTURE.md).
func CounterPK(b *leaderboards.Board, sk string) string {
	switch {
	case len(sk) >= 5 && sk[0] == '1' && b.Batched():
		v, _ := strconv.ParseUint(sk[1:5], 16, 64)
		part, _ := bits.Mul64(v*0x9E3779B97F4A7C15, CoarseParts)
		return CountsPK(b) + "#k" + strconv.Itoa(int(part))
	case len(sk) >= 5 && sk[0] == '2':
		return CountsPK(b) + "#" + sk[1:5]
	case len(sk) >= 7 && sk[0] == '3':
		return CountsPK(b) + "#" + sk[1:7]
	}
	return CountsPK(b)
}

// CoarsePKs returns the partition keys of b's coarse counters: CountsPK
// on a board that is not batched (xbl.Leaderboard.Batched: its coarse
// counters are written with each transaction of moves, not by folds).
func CoarsePKs(b *leaderboards.Board) []string {
	if !b.Batched() {
		return []string{CountsPK(b)}
	}
	out := make([]string, CoarseParts)
	for i := range out {
		out[i] = CountsPK(b) + "#k" + strconv.Itoa(i)
	}
	return out
}

// LevelPKs returns the partitions a page reads its counters from when it
// locates c's value: the board's coarse counters (CoarsePKs), then the
// fine counters of c's coarse bucket and the value counters of c's fine
// bucket (the scale simulator counts a page's heat with it).
func LevelPKs(b *leaderboards.Board, c leaderboards.Cursor) []string {
	k := b.Key(c)
	return append(CoarsePKs(b), CounterPK(b, fineSK(k[:8])), CounterPK(b, valueSK(k[:8])))
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
// values vals) in board order (or reverse), all pages, calling each for
// every item until it returns false; consistent makes it strongly
// consistent (the folds read so).
func (s *Store) query(ctx context.Context, pk, cond string, vals map[string]types.AttributeValue, limit int32, forward, consistent bool, u *xbl.Usage, each func(map[string]types.AttributeValue) bool) error {
	vals[":pk"] = &types.AttributeValueMemberS{Value: pk}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table.Name),
		KeyConditionExpression:    aws.String("#pk = :pk AND " + cond),
		ExpressionAttributeNames:  map[string]string{"#pk": "pk", "#sk": "sk"},
		ExpressionAttributeValues: vals,
		ScanIndexForward:          aws.Bool(forward),
		ConsistentRead:            aws.Bool(consistent),
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
func (s *Store) level(ctx context.Context, b *leaderboards.Board, prefix string, consistent bool, u *xbl.Usage) ([]counter, error) {
	var out []counter
	err := s.query(ctx, CounterPK(b, prefix), "begins_with(#sk, :p)", map[string]types.AttributeValue{":p": strVal(prefix)}, 0, true, consistent, u, func(av map[string]types.AttributeValue) bool {
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
	return s.readCountsOf(ctx, b, false)
}

func (s *Store) readCountsOf(ctx context.Context, b *leaderboards.Board, consistent bool) (*counts, error) {
	c := &counts{}
	pks := CoarsePKs(b)
	got := make([][]counter, len(pks))
	err := s.queryEach(ctx, pks, func(int) (string, string) { return "begins_with(#sk, :at)", "1" }, 0, true, consistent, &c.u, func(i int, av map[string]types.AttributeValue) (bool, error) {
		if k := counterOf(av); k.n > 0 {
			got[i] = append(got[i], k)
		}
		return true, nil
	})
	c.coarse = slices.Concat(got...)
	slices.SortFunc(c.coarse, func(x, y counter) int { return strings.Compare(x.sk, y.sk) })
	for _, k := range c.coarse {
		c.total += k.n
	}
	return c, err
}

// queryEach runs a query (all pages, as query does) in each partition of
// pks at once: arg(i) gives pks[i]'s key condition on #sk and its :at
// value; each is called with i and every item until it returns false or
// an error. Their usage is added to u.
func (s *Store) queryEach(ctx context.Context, pks []string, arg func(i int) (cond, at string), limit int32, forward, consistent bool, u *xbl.Usage, each func(i int, av map[string]types.AttributeValue) (bool, error)) error {
	usage := make([]xbl.Usage, len(pks))
	g, gctx := errgroup.WithContext(ctx)
	for i, pk := range pks {
		cond, at := arg(i)
		g.Go(func() error {
			var eerr error
			err := s.query(gctx, pk, cond, map[string]types.AttributeValue{":at": strVal(at)}, limit, forward, consistent, &usage[i], func(av map[string]types.AttributeValue) bool {
				more, err := each(i, av)
				eerr = err
				return more && err == nil
			})
			return errors.Join(err, eerr)
		})
	}
	err := g.Wait()
	for i := range usage {
		u.Add(usage[i])
	}
	return err
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
	fine, err := s.level(ctx, b, "2"+cs[1:], false, &c.u)
	if err != nil {
		return 0, 0, err
	}
	for _, k := range fine {
		if k.sk < fs {
			better += k.n
		}
	}
	values, err := s.level(ctx, b, "3"+fs[1:], false, &c.u)
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
		list, err := s.level(ctx, b, prefix, false, &c.u)
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
	all, err := s.lanes(ctx, b, "#sk "+op+" :at", from, n+1, true, false, u)
	if err != nil {
		return nil, false, err
	}
	if len(all) > n {
		return all[:n], true, nil
	}
	return all, false, nil
}

// lanes runs the Query cond (on #sk and :at) in every entry lane of b at
// once, in board order (forward) or in reverse, and returns the first
// limit entries of all lanes merged in that order. A lane is read a few
// entries at a time (about twice its share of limit): a lane whose last
// entry read still comes before the limit-th merged one may hold more of
// them, and is read on from there, until no lane can. So a page of 10
// rows over 64 lanes reads about 3 entries a lane, not 11.
func (s *Store) lanes(ctx context.Context, b *leaderboards.Board, cond, at string, limit int, forward, consistent bool, u *xbl.Usage) ([]leaderboards.Entry, error) {
	type found struct {
		sk string
		e  leaderboards.Entry
	}
	order := func(x, y found) int {
		if forward {
			return strings.Compare(x.sk, y.sk)
		}
		return strings.Compare(y.sk, x.sk)
	}
	pks := EntryLanePKs(b)
	got := make([][]found, len(pks))
	read := make([]int, len(pks)) // the entries of the lane's last Query
	chunk := min(limit, (2*limit+len(pks)-1)/len(pks)+2)
	after := map[bool]string{true: "#sk > :at", false: "#sk < :at"}[forward]
	todo := make([]int, len(pks))
	for i := range todo {
		todo[i] = i
	}
	var merged []found
	for round := 0; len(todo) > 0; round++ {
		todoPKs := make([]string, len(todo))
		for k, i := range todo {
			todoPKs[k], read[i] = pks[i], 0
		}
		err := s.queryEach(ctx, todoPKs, func(k int) (string, string) {
			if l := got[todo[k]]; round > 0 {
				return after, l[len(l)-1].sk
			}
			return cond, at
		}, int32(chunk), forward, consistent, u, func(k int, av map[string]types.AttributeValue) (bool, error) {
			i := todo[k]
			e, err := decode(av)
			if err != nil {
				return false, err
			}
			sk, _ := av["sk"].(*types.AttributeValueMemberS)
			got[i] = append(got[i], found{sk.Value, e})
			read[i]++
			return read[i] < chunk, nil
		})
		if err != nil {
			return nil, err
		}
		merged = slices.Concat(got...)
		slices.SortFunc(merged, order)
		// A lane whose last Query was full and whose last entry comes
		// before the limit-th entry read so far may hold more of the
		// first limit. (The limit-th only moves earlier as lanes are read
		// on, so a lane left out stays out.)
		var next []int
		for _, i := range todo {
			if l := got[i]; read[i] == chunk && (len(merged) < limit || order(l[len(l)-1], merged[limit-1]) < 0) {
				next = append(next, i)
			}
		}
		todo = next
	}
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

// At implements leaderboards.Ranking: on a batched board, from its top
// item when the slice is within it (a page from rank 1, say); else from
// the counters and the lanes.
func (s *Store) At(ctx context.Context, b *leaderboards.Board, r uint32, n int) (*leaderboards.Slice, error) {
	var tu xbl.Usage
	if b.Batched() && int(r)+n <= TopRows {
		sl, ok, err := s.fromTop(ctx, b, r, n)
		if err != nil {
			return sl, err
		}
		if ok {
			c, err := s.readCounts(ctx, b)
			sl.Usage.Add(c.u)
			sl.Total = c.total
			return sl, err
		}
		tu = sl.Usage
	}
	c, err := s.readCounts(ctx, b)
	c.u.Add(tu)
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
	// Where the page starts is found from the counters
	// (leaderboards.AroundStart), so that the lanes are read once.
	k := b.Key(leaderboards.Cursor{Value: v, XUID: x})
	better, ties, err := s.before(ctx, b, c, k[:8])
	if err != nil {
		return &leaderboards.Slice{Usage: c.u}, false, err
	}
	at := hex.EncodeToString(k[:8]) // the first player of x's value
	firstVK := ""
	start, atPlayer, err := leaderboards.AroundStart(better, ties, n, func(p uint32) (uint32, error) {
		vk, cum, _, ok, err := s.selectValue(ctx, b, c, p)
		if err != nil || !ok {
			return better + 1, err
		}
		firstVK = vk
		return cum + 1, nil
	})
	if err != nil {
		return &leaderboards.Slice{Usage: c.u}, false, err
	}
	switch {
	case atPlayer:
		at = entrySK(b, leaderboards.Cursor{Value: v, XUID: x})
	case start != better+1:
		at = firstVK // the value at start, found by AroundStart's call
	}
	es, more, err := s.entries(ctx, b, at, true, n, &c.u)
	if err != nil {
		return &leaderboards.Slice{Usage: c.u}, false, err
	}
	sl, err := s.sliceFrom(ctx, b, c, es, more)
	if err != nil {
		return &leaderboards.Slice{Usage: c.u}, false, err
	}
	sl.Usage = c.u
	return sl, true, nil
}

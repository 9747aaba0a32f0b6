package rankstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// How the index writes a board (docs/ARCHITECTURE.md, "The write path").
const (
	// maxTxItems is DynamoDB's limit of items in one transaction.
	maxTxItems = 100
	// FoldEvery is the shortest time between two folds of one board.
	// A fold waits longer after one that wrote much to a partition: as
	// long as partitionBudget takes to pay for its busiest partition's
	// units, so that the folds of a board give no partition more than
	// partitionBudget units a second (and no item, each being written at
	// most once a fold).
	FoldEvery = 10 * time.Millisecond
	// partitionBudget is the write units a second the folds of a board
	// may give one partition.
	partitionBudget = 800
	// leaseFor is how long a fold's lease holds unless renewed; holdFor
	// how long one holder folds before it lets another take over.
	leaseFor = 10 * time.Second
	holdFor  = 3 * time.Second
	// pollEvery is how often a writer waiting for its journals to be
	// folded looks again.
	pollEvery = 100 * time.Millisecond
	// leaseEvery is how many polls a waiting writer makes between two
	// reads of the lease.
	leaseEvery = 5
	// TopRows is the number of rows a board's top item holds: a page of
	// leaderboards.MaxItems rows from rank 1, and whether more follow.
	TopRows = leaderboards.MaxItems + 1
)

// JournalPK is the partition key of lane i of b's journals.
func JournalPK(b *leaderboards.Board, i int) string {
	return "lbj#" + b.SCID + "#" + xbl.StatKey(b.Stat) + "#" + strconv.Itoa(i)
}

// JournalPKs returns the partition keys of b's journals: as many as its
// lanes (a journal takes a transaction's moves, and a busy board's
// transactions hold few moves of it when its writes are spread over many
// stream batches: each journal lane then takes as many writes as an
// entry lane).
func JournalPKs(b *leaderboards.Board) []string {
	out := make([]string, b.LaneCount())
	for i := range out {
		out[i] = JournalPK(b, i)
	}
	return out
}

// LeaseKey is the key of b's fold lease, and TopKey that of its top item.
func LeaseKey(b *leaderboards.Board) store.Key {
	return store.Key{PK: "lbl#" + b.SCID + "#" + xbl.StatKey(b.Stat), SK: "lease"}
}
func TopKey(b *leaderboards.Board) store.Key {
	return store.Key{PK: "lbt#" + b.SCID + "#" + xbl.StatKey(b.Stat), SK: "top"}
}

// delta is a journal (sort key "1" and a time-ordered id) or a part of a
// fold (sort key "0", the fold's id, "#" and the part's number): changes
// of counters by sort key (CounterPK gives each one's partition) and the
// best value key a journal's moves touched (hex; empty for none), for the
// top item.
type delta struct {
	store.Key
	D    map[string]int `dynamodbav:"d"`
	Best string         `dynamodbav:"b,omitempty"`
	size int            // bytes, as read (for the units its delete costs)
}

// newID returns a new time-ordered id.
func newID(now time.Time) string {
	return fmt.Sprintf("%016x%08x", now.UnixNano(), rand.Uint32())
}

// entryWrite is one entry write of a move: the old entry's delete or the
// new entry's put, each with its own condition, so that a replayed
// move's writes that are already done are left out one by one.
type entryWrite struct {
	move  int    // the move's index in its transaction's moves
	board string // EntriesPK of the move's board
	vk    []byte // the value key of the entry's place (Board.Key's first 8 bytes)
	delta int    // −1 for a delete, +1 for a put, 0 for a new text at the same place
	item  types.TransactWriteItem
}

// entryWrites appends the entry writes of moves[i]: the old entry's
// delete (on condition that it exists) and the new entry's put (on
// condition that it does not; when both are at one place, on condition
// that the entry exists and shows another text of the value). The board
// counts what the writes do: −1 on the old place's counters for a
// delete done, +1 on the new one's for a put done. A write whose
// condition fails is already done (a retried batch) and is left out, the
// move's other write still made: so a batch replayed from any record
// leaves each player's entries as its last write left them (a player
// that moved a→b→c has, replayed, a put of b and its delete on the way,
// and c's put left out), and the counters count exactly the entries.
func (s *Store) entryWrites(out []entryWrite, moves []leaderboards.Move, i int) ([]entryWrite, error) {
	m := &moves[i]
	b := &m.Board
	epk := EntryPK(b, m.XUID)
	bk := EntriesPK(b)
	var oldK, newK [leaderboards.KeySize]byte
	if m.From != nil {
		oldK = b.Key(leaderboards.Cursor{Value: *m.From, XUID: m.XUID})
	}
	if m.To != nil {
		newK = b.Key(leaderboards.Cursor{Value: *m.To, XUID: m.XUID})
	}
	same := m.From != nil && m.To != nil && oldK == newK
	if m.From != nil && !same {
		out = append(out, entryWrite{move: i, board: bk, vk: oldK[:8], delta: -1, item: s.deleteItem(store.Key{PK: epk, SK: hex.EncodeToString(oldK[:])})})
	}
	if m.To != nil {
		av, err := store.Marshal(entry{Key: store.Key{PK: epk, SK: hex.EncodeToString(newK[:])}, Value: m.To.Value, Type: typeCode(m.To.Type), Gamertag: m.Gamertag})
		if err != nil {
			return nil, err
		}
		put := &types.Put{TableName: aws.String(s.table.Name), Item: av, ConditionExpression: aws.String("attribute_not_exists(pk)")}
		delta := 1
		if same {
			delta = 0
			put.ConditionExpression = aws.String("attribute_exists(pk) AND (#v <> :v OR #t <> :t)")
			put.ExpressionAttributeNames = map[string]string{"#v": "v", "#t": "t"}
			put.ExpressionAttributeValues = map[string]types.AttributeValue{
				":v": &types.AttributeValueMemberS{Value: m.To.Value},
				":t": &types.AttributeValueMemberS{Value: typeCode(m.To.Type)},
			}
		}
		out = append(out, entryWrite{move: i, board: bk, vk: newK[:8], delta: delta, item: types.TransactWriteItem{Put: put}})
	}
	return out, nil
}

// entryCount is the number of entry writes of m (entryWrites): a put
// when it has a new value, and a delete when it leaves another place.
func entryCount(m *leaderboards.Move) int {
	n := 0
	if m.To != nil {
		n++
	}
	if b := &m.Board; m.From != nil && (m.To == nil || b.Key(leaderboards.Cursor{Value: *m.From, XUID: m.XUID}) != b.Key(leaderboards.Cursor{Value: *m.To, XUID: m.XUID})) {
		n++
	}
	return n
}

// writesOf returns the entry writes of moves, all kept.
func (s *Store) writesOf(moves []leaderboards.Move) (ws []entryWrite, keep []bool, err error) {
	for i := range moves {
		if ws, err = s.entryWrites(ws, moves, i); err != nil {
			return nil, nil, err
		}
	}
	keep = make([]bool, len(ws))
	for i := range keep {
		keep[i] = true
	}
	return ws, keep, nil
}

// group returns the end of the moves from moves[i] that one transaction
// takes: as many as fit in maxTxItems with one journal per batched board
// (or the counters of another's moves, six at most a move), each player
// at most once per board (an entry may be written once per transaction).
func group(moves []leaderboards.Move, i int) int {
	boards := map[string]bool{}
	players := map[string]bool{}
	items := 0
	j := i
	for ; j < len(moves); j++ {
		m := &moves[j]
		bk := EntriesPK(&m.Board)
		pk := bk + "#" + m.XUID.String()
		n := entryCount(m)
		switch {
		case !m.Board.Batched():
			n += 6 // at most ±1 on three levels' counters
		case !boards[bk]:
			n++ // the board's journal
		}
		if j > i && (players[pk] || items+n > maxTxItems) {
			break
		}
		boards[bk], players[pk] = true, true
		items += n
	}
	return j
}

// txOf builds the transaction of the entry writes ws that are kept, and,
// for each board, the counter changes they make: on a batched board
// (xbl.Leaderboard.Batched), one journal of them (and the best place they
// touch, for the top item); on another, the counters themselves, each
// once, with zeros the value counters they lower (deleted after the
// commit if 0). owner[i] is the index in ws of the transaction's item i
// (−1 for a journal or counter); journals are the journals by board
// (EntriesPK).
func (s *Store) txOf(moves []leaderboards.Move, ws []entryWrite, keep []bool, now time.Time) (items []types.TransactWriteItem, owner []int, journals map[string]delta, zeros []store.Key, err error) {
	type board struct {
		b    *leaderboards.Board
		d    map[string]int
		best string
		lane int
	}
	var order []string
	boards := map[string]*board{}
	for i, w := range ws {
		if !keep[i] {
			continue
		}
		items = append(items, w.item)
		owner = append(owner, i)
		jb := boards[w.board]
		if jb == nil {
			m := &moves[w.move]
			jb = &board{b: &m.Board, d: map[string]int{}, lane: lane(m.XUID, m.Board.LaneCount())}
			boards[w.board] = jb
			order = append(order, w.board)
		}
		if w.delta != 0 {
			for _, level := range []func([]byte) string{coarseSK, fineSK, valueSK} {
				jb.d[level(w.vk)] += w.delta
			}
		}
		if h := hex.EncodeToString(w.vk); jb.best == "" || h < jb.best {
			jb.best = h
		}
	}
	journals = map[string]delta{}
	id := newID(now)
	for _, bk := range order {
		jb := boards[bk]
		maps.DeleteFunc(jb.d, func(_ string, n int) bool { return n == 0 })
		if !jb.b.Batched() {
			// Counted with the entries: each counter the transaction
			// changes, once.
			for _, it := range s.addItems(jb.b, jb.d) {
				items = append(items, it)
				owner = append(owner, -1)
			}
			zeros = append(zeros, lowered(jb.b, jb.d)...)
			continue
		}
		j := delta{Key: store.Key{PK: JournalPK(jb.b, jb.lane), SK: "1" + id}, D: jb.d, Best: jb.best}
		av, err := store.Marshal(j)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table.Name), Item: av}})
		owner = append(owner, -1)
		j.size = store.ItemSize(av)
		journals[bk] = j
	}
	return items, owner, journals, zeros, nil
}

// lane returns x's lane of n: the top bits of the 64-bit product
// x × 0x9E3779B97F4A7C15 (Fibonacci hashing), scaled to n.
func lane(x xbl.XUID, n int) int {
	hi, _ := bits.Mul64(uint64(x)*0x9E3779B97F4A7C15, uint64(n))
	return int(hi)
}

// faults are the failures tests inject (export_test.go): a writer that
// stops after its transactions, before folding, a fold that stops after
// writing its parts, before applying them, and a top item that cannot be
// refreshed.
var faults struct {
	skipFold   bool
	afterParts error
	top        error // refreshTop fails with it
}

// boardState is what Apply wrote to one board.
type boardState struct {
	b        *leaderboards.Board
	first    int         // the first move on it
	journals []store.Key // the journals written
	replay   bool        // a move on it was applied before
}

// Apply implements leaderboards.Mover. Its moves are written in
// transactions of at most maxTxItems items: each move's entry writes
// (whose conditions make a move applied twice change nothing the second
// time) and the counters they change, or, on a batched board, one journal
// of them (txOf). It then folds each batched board's journals into its
// counters (fold) and returns when its own journals are folded, by itself
// or by another writer holding the board's lease.
func (s *Store) Apply(ctx context.Context, moves []leaderboards.Move) (applied, done int, err error) {
	boards := map[string]*boardState{}
	var order []string
	var werr error
	for i := 0; i < len(moves); {
		j := group(moves, i)
		kept, journals, replayed, err := s.commit(ctx, moves[i:j])
		if err != nil {
			werr, done = err, i
			break
		}
		for k := i; k < j; k++ {
			if kept[k-i] {
				applied++
			}
			if !moves[k].Board.Batched() {
				continue // counted in its transaction: nothing to fold
			}
			bk := EntriesPK(&moves[k].Board)
			st := boards[bk]
			if st == nil {
				st = &boardState{b: &moves[k].Board, first: k}
				boards[bk] = st
				order = append(order, bk)
			}
			st.replay = st.replay || replayed[bk]
		}
		for bk, j := range journals {
			boards[bk].journals = append(boards[bk].journals, j.Key)
		}
		i, done = j, j
	}
	if faults.skipFold {
		return applied, done, werr
	}
	// Fold every board written, even when a later transaction failed:
	// the retry may not come back to them.
	ferr := make([]error, len(order))
	g, gctx := errgroup.WithContext(ctx)
	for k, bk := range order {
		g.Go(func() error {
			st := boards[bk]
			ferr[k] = s.fold(gctx, st.b, st.journals, st.replay)
			return nil
		})
	}
	g.Wait()
	for k, bk := range order {
		if ferr[k] != nil && boards[bk].first < done {
			done, werr = boards[bk].first, ferr[k]
		}
	}
	return applied, done, werr
}

// commit writes moves in one transaction, leaving out each entry write
// already done (a cancelled transaction says which items failed their
// conditions; it is sent again without them). kept reports the moves of
// which a write was made, journals the journal written on each board,
// replayed the boards a write was left out of.
func (s *Store) commit(ctx context.Context, moves []leaderboards.Move) (kept []bool, journals map[string]delta, replayed map[string]bool, err error) {
	ws, keep, err := s.writesOf(moves)
	if err != nil {
		return nil, nil, nil, err
	}
	replayed = map[string]bool{}
	kept = make([]bool, len(moves))
	// Each send that fails on conditions leaves out at least one write:
	// the loop ends.
	for slices.Contains(keep, true) {
		items, owner, js, zeros, err := s.txOf(moves, ws, keep, s.now())
		if err != nil {
			return nil, nil, nil, err
		}
		failed, err := s.transact(ctx, items)
		if err != nil {
			return nil, nil, nil, err
		}
		if failed == nil {
			for i, w := range ws {
				kept[w.move] = kept[w.move] || keep[i]
			}
			s.deleteZeros(ctx, zeros)
			return kept, js, replayed, nil
		}
		for _, i := range failed {
			if owner[i] >= 0 {
				keep[owner[i]] = false
				replayed[ws[owner[i]].board] = true
			}
		}
	}
	return kept, nil, replayed, nil
}

// fold returns once the journals mine are folded into b's counters: by
// this call, when it takes the board's lease, or by another holder. When
// replay is set (a move on b was applied before: a retried batch), the
// journals pending on b are waited for as well, since the attempt that
// wrote them may have ended before folding them.
func (s *Store) fold(ctx context.Context, b *leaderboards.Board, mine []store.Key, replay bool) error {
	if replay {
		pending, err := s.pending(ctx, b)
		if err != nil {
			return err
		}
		for _, k := range pending {
			if !slices.Contains(mine, k) {
				mine = append(mine, k)
			}
		}
	}
	me := newID(s.now())
	for poll := 0; len(mine) > 0; poll++ {
		// The lease is read on the first poll and every leaseEvery polls
		// after: a busy board has many writers waiting, and one lease
		// item to read.
		if poll%leaseEvery == 0 {
			l, err := s.readLease(ctx, b)
			if err != nil {
				return err
			}
			now := s.now()
			free := l.Owner == "" || l.Until < now.UnixMilli()
			if free && l.Next > now.UnixMilli() {
				if err := store.Sleep(ctx, time.UnixMilli(l.Next).Sub(now)+time.Duration(rand.Int64N(int64(10*time.Millisecond)))); err != nil {
					return err
				}
			}
			if free {
				got, err := s.acquire(ctx, b, me)
				if err != nil {
					return err
				}
				if got {
					if err := s.hold(ctx, b, me); err != nil {
						return err
					}
					poll = -1 // read the lease again on the next poll
				}
			}
		}
		var err error
		if mine, err = s.left(ctx, mine); err != nil || len(mine) == 0 {
			return err
		}
		if err := store.Sleep(ctx, pollEvery/2+time.Duration(rand.Int64N(int64(pollEvery)))); err != nil {
			return err
		}
	}
	return nil
}

// lease is a board's fold lease: its holder's id and until when it holds
// (Unix milliseconds), and when the next fold may start.
type lease struct {
	store.Key
	Owner string `dynamodbav:"o,omitempty"`
	Until int64  `dynamodbav:"u,omitempty"`
	Next  int64  `dynamodbav:"nx,omitempty"`
}

func (s *Store) readLease(ctx context.Context, b *leaderboards.Board) (lease, error) {
	var l lease
	out, err := s.table.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table.Name), Key: LeaseKey(b).AV()})
	if err != nil {
		return l, store.CallError(ctx, "get "+s.table.Name, err)
	}
	if out.Item != nil {
		err = store.Unmarshal(out.Item, &l)
	}
	return l, err
}

// acquire takes b's lease for me if nobody holds it and its next fold is
// due.
func (s *Store) acquire(ctx context.Context, b *leaderboards.Board, me string) (bool, error) {
	now := s.now()
	return s.updateLease(ctx, b, "SET #o = :me, #u = :until",
		// o = me: this call's own update, sent again after its answer
		// was lost, takes the lease it already took.
		"#o = :me OR (attribute_not_exists(#o) OR #u < :now) AND (attribute_not_exists(#nx) OR #nx <= :now)",
		map[string]types.AttributeValue{":me": strVal(me), ":until": num(now.Add(leaseFor).UnixMilli()), ":now": num(now.UnixMilli())})
}

// renew sets when b's next fold may start and, unless release, holds the
// lease on; release lets it go. It reports whether me still held it.
func (s *Store) renew(ctx context.Context, b *leaderboards.Board, me string, next time.Time, release bool) (bool, error) {
	if release {
		return s.updateLease(ctx, b, "SET #nx = :nx REMOVE #o, #u", "#o = :me",
			map[string]types.AttributeValue{":me": strVal(me), ":nx": num(next.UnixMilli())})
	}
	return s.updateLease(ctx, b, "SET #nx = :nx, #u = :until", "#o = :me",
		map[string]types.AttributeValue{":me": strVal(me), ":nx": num(next.UnixMilli()), ":until": num(s.now().Add(leaseFor).UnixMilli())})
}

// updateLease updates b's lease item on condition cond; false when the
// condition failed.
func (s *Store) updateLease(ctx context.Context, b *leaderboards.Board, update, cond string, vals map[string]types.AttributeValue) (bool, error) {
	_, err := s.table.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table.Name),
		Key:                       LeaseKey(b).AV(),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#o": "o", "#u": "u", "#nx": "nx"},
		ExpressionAttributeValues: vals,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	if err != nil {
		return false, store.CallError(ctx, "update "+s.table.Name, err)
	}
	return true, nil
}

// hold folds b while me holds its lease, each fold after the last's
// interval (foldResult.interval), until a fold finds nothing or holdFor
// has passed: a busy board's lease stays with one holder, so that the
// writers waiting meanwhile need not race for it. The lease is let go on
// every way out, with the time the next fold may start (even when the
// context ended: the lease would hold for leaseFor otherwise), unless
// another took it.
func (s *Store) hold(ctx context.Context, b *leaderboards.Board, me string) (err error) {
	start := s.now()
	next := start
	held := true
	defer func() {
		if held {
			_, rerr := s.renew(context.WithoutCancel(ctx), b, me, next, true)
			err = errors.Join(err, rerr)
		}
	}()
	for {
		if wait := next.Sub(s.now()); wait > 0 {
			if err := store.Sleep(ctx, wait); err != nil {
				return err
			}
		}
		at := s.now()
		r, err := s.foldOnce(ctx, b)
		next = at.Add(r.interval())
		if err != nil || !r.found || s.now().Sub(start) > holdFor {
			return err
		}
		if held, err = s.renew(ctx, b, me, next, false); err != nil || !held {
			return err
		}
	}
}

// left returns the keys of ks whose items still exist, read strongly
// consistently.
func (s *Store) left(ctx context.Context, ks []store.Key) ([]store.Key, error) {
	var out []store.Key
	var mu sync.Mutex // the chunks' answers come at once
	err := s.table.BatchGetConsistent(ctx, ks, store.ProjectionOf[store.Key](), func(items []map[string]types.AttributeValue, _ xbl.Usage) {
		mu.Lock()
		defer mu.Unlock()
		for _, av := range items {
			var k store.Key
			if store.Unmarshal(av, &k) == nil {
				out = append(out, k)
			}
		}
	})
	return out, err
}

// pending returns the keys of the journals and parts pending on b.
func (s *Store) pending(ctx context.Context, b *leaderboards.Board) ([]store.Key, error) {
	ds, err := s.readDeltas(ctx, b)
	keys := make([]store.Key, len(ds))
	for i := range ds {
		keys[i] = ds[i].Key
	}
	return keys, err
}

func num(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

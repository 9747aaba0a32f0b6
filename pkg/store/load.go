package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/xblread/xblread/pkg/xbl"
)

// Batch limits of DynamoDB.
const (
	maxBatchWrite = 25
	maxBatchGet   = 100
	// writeConcurrency bounds the BatchWriteItem calls in flight during a load.
	writeConcurrency = 8
)

// LoadResult counts what Load wrote.
type LoadResult struct {
	Configs     int // SCID configurations
	Profiles    int // user profiles
	StatItems   int // (user, SCID) statistics items
	Sessions    int // sessions
	Memberships int // membership items
	Keywords    int // keyword index items
	Deleted     int // stale membership and keyword items removed
	Writes      int // BatchWriteItem calls, retries included
}

// Items is the number of items Load put or deleted.
func (r LoadResult) Items() int {
	return r.Configs + r.Profiles + r.StatItems + r.Sessions + r.Memberships + r.Keywords + r.Deleted
}

// Load writes d to the table, replacing items with the same keys, so loading
// the same data twice leaves the same items. A session that is loaded again
// with fewer members or keywords loses its stale membership and keyword
// items. Writes go out in BatchWriteItem calls of 25, a few at a time, and
// unprocessed items are retried with backoff. progress, when not nil, is
// called (never concurrently) with the items written so far and the total.
func (s *Store) Load(ctx context.Context, d *xbl.Dataset, progress func(done, total int)) (LoadResult, error) {
	var res LoadResult
	w := newWriteSet()
	for _, c := range d.Configs {
		w.put(ConfigKey(c.SCID), configItem(c))
	}
	for _, p := range d.Profiles {
		w.put(ProfileKey(p.XUID), profileItem(p))
	}
	for _, u := range d.Stats {
		w.put(StatsKey(u.XUID, u.SCID), statsItem(u))
	}
	// Later sessions with the same key replace earlier ones.
	sessions := map[Key]*xbl.Session{}
	var order []Key
	for i := range d.Sessions {
		ss := &d.Sessions[i]
		k := SessionKey(ss.SCID, ss.Template, ss.Name)
		if _, ok := sessions[k]; !ok {
			order = append(order, k)
		}
		sessions[k] = ss
	}
	old, err := s.storedSessions(ctx, order)
	if err != nil {
		return res, err
	}
	for _, k := range order {
		ss := sessions[k]
		w.put(k, sessionItem(ss))
		for _, m := range ss.Members {
			w.put(MembershipKey(m.XUID, ss.SCID, ss.Template, ss.Name), membershipItem(ss, m))
		}
		for _, kw := range ss.Keywords {
			w.put(KeywordKey(ss.SCID, kw, ss.Template, ss.Name), keywordItem(ss, kw))
		}
		if o, ok := old[k]; ok {
			for _, x := range o.members {
				w.delete(MembershipKey(x, ss.SCID, ss.Template, ss.Name))
			}
			for _, kw := range o.keywords {
				w.delete(KeywordKey(ss.SCID, kw, ss.Template, ss.Name))
			}
		}
	}
	res = w.count()
	calls, err := s.writeAll(ctx, w.requests(), progress)
	res.Writes = calls
	return res, err
}

// writeSet collects the writes of a load, one per key: a put replaces an
// earlier write of its key, and a delete never replaces a put.
type writeSet struct {
	order []Key
	reqs  map[Key]types.WriteRequest
	kinds map[Key]string
}

func newWriteSet() *writeSet {
	return &writeSet{reqs: map[Key]types.WriteRequest{}, kinds: map[Key]string{}}
}

func (w *writeSet) put(k Key, it map[string]types.AttributeValue) {
	if _, ok := w.reqs[k]; !ok {
		w.order = append(w.order, k)
	}
	w.reqs[k] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	w.kinds[k] = kindOf(k)
}

func (w *writeSet) delete(k Key) {
	if _, ok := w.reqs[k]; ok {
		return
	}
	w.order = append(w.order, k)
	w.reqs[k] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k.av()}}
	w.kinds[k] = "deleted"
}

func kindOf(k Key) string {
	switch {
	case k.SK == skConfig:
		return "config"
	case k.SK == skProfile:
		return "profile"
	case k.SK == skStats:
		return "stats"
	case len(k.PK) > len(prefixSession) && k.PK[:len(prefixSession)] == prefixSession:
		return "session"
	case len(k.PK) > len(prefixKeyword) && k.PK[:len(prefixKeyword)] == prefixKeyword:
		return "keyword"
	}
	return "membership"
}

func (w *writeSet) count() LoadResult {
	var r LoadResult
	for _, kind := range w.kinds {
		switch kind {
		case "config":
			r.Configs++
		case "profile":
			r.Profiles++
		case "stats":
			r.StatItems++
		case "session":
			r.Sessions++
		case "keyword":
			r.Keywords++
		case "membership":
			r.Memberships++
		case "deleted":
			r.Deleted++
		}
	}
	return r
}

func (w *writeSet) requests() []types.WriteRequest {
	out := make([]types.WriteRequest, len(w.order))
	for i, k := range w.order {
		out[i] = w.reqs[k]
	}
	return out
}

// writeAll sends reqs in BatchWriteItem calls of at most 25, with bounded
// concurrency, retrying unprocessed items. It returns the number of calls.
func (s *Store) writeAll(ctx context.Context, reqs []types.WriteRequest, progress func(done, total int)) (int, error) {
	var calls atomic.Int64
	var mu sync.Mutex // serializes progress calls
	done := 0
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(writeConcurrency)
	for start := 0; start < len(reqs); start += maxBatchWrite {
		chunk := reqs[start:min(start+maxBatchWrite, len(reqs))]
		g.Go(func() error {
			n, err := s.writeBatch(ctx, chunk)
			calls.Add(int64(n))
			if err != nil {
				return err
			}
			if progress != nil {
				mu.Lock()
				done += len(chunk)
				progress(done, len(reqs))
				mu.Unlock()
			}
			return nil
		})
	}
	err := g.Wait()
	return int(calls.Load()), err
}

func (s *Store) writeBatch(ctx context.Context, reqs []types.WriteRequest) (calls int, err error) {
	pending := map[string][]types.WriteRequest{s.table: reqs}
	for attempt := 0; ; attempt++ {
		out, err := s.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		calls++
		if err != nil {
			return calls, unavailable(ctx, "batch write to "+s.table, err)
		}
		if len(out.UnprocessedItems[s.table]) == 0 {
			return calls, nil
		}
		if attempt+1 >= maxAttempts {
			return calls, fmt.Errorf("batch write to %s: %d items: %w", s.table, len(out.UnprocessedItems[s.table]), ErrIncomplete)
		}
		pending = out.UnprocessedItems
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return calls, err
		}
	}
}

// storedSession is what a load needs to know of a session already stored.
type storedSession struct {
	members  []xbl.XUID
	keywords []string
}

// storedSessions reads the sessions already stored under keys, so that a
// reload can remove membership and keyword items that no longer apply.
func (s *Store) storedSessions(ctx context.Context, keys []Key) (map[Key]storedSession, error) {
	out := map[Key]storedSession{}
	items, err := s.getAll(ctx, keys, "#pk, #sk, members, keywords", map[string]string{"#pk": AttrPK, "#sk": AttrSK})
	if err != nil {
		return nil, fmt.Errorf("read stored sessions: %w", err)
	}
	for _, it := range items {
		var st storedSession
		if l, ok := it["members"].(*types.AttributeValueMemberL); ok {
			for _, m := range l.Value {
				mm, ok := m.(*types.AttributeValueMemberM)
				if !ok {
					continue
				}
				if x, ok := mm.Value["xuid"].(*types.AttributeValueMemberS); ok {
					if v, err := xbl.ParseXUID(x.Value); err == nil {
						st.members = append(st.members, v)
					}
				}
			}
		}
		if l, ok := it["keywords"].(*types.AttributeValueMemberL); ok {
			for _, kw := range l.Value {
				if v, ok := kw.(*types.AttributeValueMemberS); ok {
					st.keywords = append(st.keywords, v.Value)
				}
			}
		}
		out[Key{str(it[AttrPK]), str(it[AttrSK])}] = st
	}
	return out, nil
}

func str(v types.AttributeValue) string {
	if sv, ok := v.(*types.AttributeValueMemberS); ok {
		return sv.Value
	}
	return ""
}

// getAll reads the items under keys (each at most once).
func (s *Store) getAll(ctx context.Context, keys []Key, projection string, names map[string]string) ([]map[string]types.AttributeValue, error) {
	var mu sync.Mutex
	var items []map[string]types.AttributeValue
	err := s.batchGet(ctx, keys, projection, names, func(its []map[string]types.AttributeValue, _ Usage) {
		mu.Lock()
		items = append(items, its...)
		mu.Unlock()
	})
	return items, err
}

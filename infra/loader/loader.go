// Package loader is the operator's way into the table: it creates the table
// from store.Definition and bulk-loads fixture data (xbl.Dataset) as the
// item structs of package store (configurations, profiles, statistics)
// and of package sessionstore (sessions: each document encoded once, its
// head and index entries as a write would store them). Nothing deployed
// uses it.
package loader

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	sessionsdoc "github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/sessionstore"
	"github.com/xblread/xblread/pkg/store/statstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// writeConcurrency bounds the BatchWriteItem calls in flight during a load.
const writeConcurrency = 8

// Result counts what Load wrote.
type Result struct {
	Configs     int // SCID configurations
	Profiles    int // user profiles
	StatItems   int // (user, SCID) statistics items
	Sessions    int // sessions (their documents)
	Heads       int // sessions' head items (what queries read)
	Memberships int // membership items
	Keywords    int // keyword index items
	Deleted     int // stale membership and keyword items removed
	Writes      int // BatchWriteItem calls, retries included
}

// Items is the number of items Load put or deleted.
func (r Result) Items() int {
	return r.Configs + r.Profiles + r.StatItems + r.Sessions + r.Heads + r.Memberships + r.Keywords + r.Deleted
}

// Load writes d to the table, replacing items with the same keys, so loading
// the same data twice leaves the same items. A session that is loaded again
// with fewer members or keywords loses its stale membership and keyword
// items. Every item is encoded before anything is written. Writes go out in
// BatchWriteItem calls of 25, a few at a time, and unprocessed items are
// retried with backoff. progress, when not nil, is called (never
// concurrently) with the items written so far and the total: first with
// none written, before any write (so that a progress display can start
// with the total), then after each BatchWriteItem call.
func Load(ctx context.Context, t store.Table, d *xbl.Dataset, progress func(done, total int)) (Result, error) {
	var res Result
	w := newWriteSet()
	for _, c := range d.Configs {
		w.put(store.NewConfigItem(c))
	}
	gamertags := make(map[xbl.XUID]string, len(d.Profiles))
	for _, p := range d.Profiles {
		w.put(store.NewProfileItem(p))
		gamertags[p.XUID] = p.Gamertag
	}
	// Statistics items carry the gamertag, so that reads need no profile.
	for _, u := range d.Stats {
		w.put(statstore.NewStatsItem(u, gamertags[u.XUID]))
	}
	// Later sessions with the same key replace earlier ones.
	sessions := map[store.Key]*xbl.Session{}
	var order []store.Key
	for i := range d.Sessions {
		ss := &d.Sessions[i]
		k := store.HeadKey(ss.SCID, ss.Template, ss.Name)
		if _, ok := sessions[k]; !ok {
			order = append(order, k)
		}
		sessions[k] = ss
	}
	old, err := storedSessions(ctx, t, order)
	if err != nil {
		return res, err
	}
	for _, k := range order {
		ss := sessions[k]
		items, err := sessionstore.LoadItems(sessionsdoc.FromFixture(ss, fixtureETag(ss)))
		if err != nil {
			return res, err
		}
		w.put(items.Doc)
		w.put(items.Head)
		for _, p := range items.Pointers {
			w.put(p)
		}
		// The entries of the stored version, under its own start time; a
		// put of the same key wins over its delete.
		if o, ok := old[store.HeadKey(ss.SCID, ss.Template, ss.Name)]; ok {
			start, err := time.Parse(time.RFC3339Nano, o.StartTime)
			if err != nil {
				return res, fmt.Errorf("stored session %s/%s: startTime: %w", ss.Template, ss.Name, err)
			}
			for _, m := range o.Members {
				if x, err := xbl.ParseXUID(m.XUID); err == nil {
					for _, key := range store.MembershipKeys(x, ss.SCID, ss.Template, ss.Name, start) {
						w.delete(key)
					}
				}
			}
			for _, kw := range o.Keywords {
				for _, key := range store.KeywordKeys(ss.SCID, kw, ss.Template, ss.Name, start) {
					w.delete(key)
				}
			}
		}
	}
	if w.err != nil {
		return res, fmt.Errorf("nothing was written: %w", w.err)
	}
	res = w.count()
	// Session items go last, once every entry they list is written and
	// every stale one deleted: a load that fails before then leaves the
	// stored sessions as they were, and running it again finds the stale
	// entries to delete.
	entries, sessionItems := w.requests()
	total := len(entries) + len(sessionItems)
	if progress != nil {
		progress(0, total)
	}
	calls, err := writeAll(ctx, t, entries, func(done, _ int) {
		if progress != nil {
			progress(done, total)
		}
	})
	res.Writes = calls
	if err != nil {
		return res, err
	}
	calls, err = writeAll(ctx, t, sessionItems, func(done, _ int) {
		if progress != nil {
			progress(len(entries)+done, total)
		}
	})
	res.Writes += calls
	return res, err
}

// writeSet collects the writes of a load, one per key: a put replaces an
// earlier write of its key, and a delete never replaces a put.
type writeSet struct {
	order []store.Key
	reqs  map[store.Key]types.WriteRequest
	kinds map[store.Key]string
	err   error
}

func newWriteSet() *writeSet {
	return &writeSet{reqs: map[store.Key]types.WriteRequest{}, kinds: map[store.Key]string{}}
}

func (w *writeSet) put(item any) {
	av, err := store.Marshal(item)
	if err != nil {
		w.err = fmt.Errorf("encode %T: %w", item, err)
		return
	}
	var k store.Key
	if err := store.Unmarshal(av, &k); err != nil {
		w.err = fmt.Errorf("encode %T: %w", item, err)
		return
	}
	if err := store.CheckItem(av); err != nil {
		w.err = errors.Join(w.err, fmt.Errorf("%s item %.80s / %.80s: %w", store.ItemKind(k), k.PK, k.SK, err))
		return
	}
	if _, ok := w.reqs[k]; !ok {
		w.order = append(w.order, k)
	}
	w.reqs[k] = types.WriteRequest{PutRequest: &types.PutRequest{Item: av}}
	w.kinds[k] = store.ItemKind(k)
}

func (w *writeSet) delete(k store.Key) {
	if _, ok := w.reqs[k]; ok {
		return
	}
	w.order = append(w.order, k)
	w.reqs[k] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k.AV()}}
	w.kinds[k] = "deleted"
}

func (w *writeSet) count() Result {
	var r Result
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
		case "head":
			r.Heads++
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

// requests returns the writes of every item but sessions, then of the
// session items.
func (w *writeSet) requests() (entries, sessions []types.WriteRequest) {
	for _, k := range w.order {
		if w.kinds[k] == "session" || w.kinds[k] == "head" {
			sessions = append(sessions, w.reqs[k])
		} else {
			entries = append(entries, w.reqs[k])
		}
	}
	return entries, sessions
}

// writeAll sends reqs in BatchWriteItem calls of at most 25, with bounded
// concurrency, retrying unprocessed items. It returns the number of calls.
func writeAll(ctx context.Context, t store.Table, reqs []types.WriteRequest, progress func(done, total int)) (int, error) {
	var calls atomic.Int64
	var mu sync.Mutex // serializes progress calls
	done := 0
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(writeConcurrency)
	for start := 0; start < len(reqs); start += store.MaxBatchWrite {
		chunk := reqs[start:min(start+store.MaxBatchWrite, len(reqs))]
		g.Go(func() error {
			n, err := t.WriteBatch(ctx, chunk)
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

// storedSessions reads the heads of the sessions already stored under keys
// (their members, keywords and start time), so that a reload can remove
// membership and keyword entries that no longer apply.
func storedSessions(ctx context.Context, t store.Table, keys []store.Key) (map[store.Key]sessionstore.Item, error) {
	out := map[store.Key]sessionstore.Item{}
	var mu sync.Mutex
	var decodeErr error
	p := store.Projection{Expression: "#pk, #sk, m, keywords, startTime", Names: map[string]string{"#pk": store.AttrPK, "#sk": store.AttrSK}}
	err := t.BatchGet(ctx, keys, p, func(items []map[string]types.AttributeValue, _ xbl.Usage) {
		mu.Lock()
		defer mu.Unlock()
		for _, av := range items {
			var it sessionstore.Item
			if err := store.Unmarshal(av, &it); err != nil {
				decodeErr = err
				continue
			}
			out[it.Key] = it
		}
	})
	if err == nil {
		err = decodeErr
	}
	if err != nil {
		return nil, fmt.Errorf("read stored sessions: %w", err)
	}
	return out, nil
}

// fixtureETag is the ETag (and correlation id) of a loaded session: the
// same for the same session, so that loading twice writes the same items.
func fixtureETag(ss *xbl.Session) string {
	b, _ := json.Marshal(ss)
	h := sha256.Sum256(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

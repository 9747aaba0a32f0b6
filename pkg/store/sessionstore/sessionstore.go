// Package sessionstore is the DynamoDB adapter of package sessions over
// the table of package store: the session items (Item: a head or an index
// entry; DocItem: a document), sessions.Reader (the session directory
// query: index entries read in answer order, the heads they carry or
// point at, each made a row by the query's sessions.Filter) and
// sessions.Store (the writes and reads of session documents).
package sessionstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

var _ sessions.Reader = (*Store)(nil)

// Store reads and writes sessions in one table. It keeps no clock: a
// query's reservations expire by the time its sessions.Filter holds.
type Store struct {
	table store.Table
}

// New returns a Store over t.
func New(t store.Table) *Store { return &Store{table: t} }

// What a session query reads, derived from the item structs (the
// benchmark's raw side reads the same): of an index entry, where its
// session is and the copy of the session's head it may carry (not its key,
// nor a membership's index); of a head item, all of it but its sort key.
var (
	EntryProjection = store.ProjectionOf[Item](store.AttrPK, store.AttrSK, "i")
	HeadProjection  = store.ProjectionOf[Item](store.AttrSK)
	// QueryNames are the attribute names of a query: its key condition's
	// and the entries' projection's. Calls only read it.
	QueryNames = func() map[string]string {
		m := map[string]string{"#pk": store.AttrPK, "#sk": store.AttrSK}
		for ph, n := range EntryProjection.Names {
			m[ph] = n
		}
		return m
	}()
)

// UserSessions reads user x's membership entries of f.SCID in answer order
// (sort-key prefix m#, or mt#{template}# for one template), and the heads
// of the sessions found whose entries carry no copy of it, in pages sized
// from limit; it stops as soon as limit rows, and any ties of the last,
// are read. A session whose head no longer lists x (x left after the entry
// was read, or the entry is stale) is not a row.
func (s *Store) UserSessions(ctx context.Context, x xbl.XUID, f *sessions.Filter, limit int) ([]sessions.Session, xbl.Usage, error) {
	return s.query(ctx, f, store.UserSCID(x, f.SCID), store.MembershipPrefix(f.Template), &x, limit)
}

// KeywordSessions reads f.Keyword's index entries in answer order (k#, or
// kt#{template}#), as UserSessions does; a session whose head no longer
// carries the keyword is not a row.
func (s *Store) KeywordSessions(ctx context.Context, f *sessions.Filter, limit int) ([]sessions.Session, xbl.Usage, error) {
	return s.query(ctx, f, store.KeywordPK(f.SCID, f.Keyword), store.KeywordPrefix(f.Template), nil, limit)
}

// Page sizes of a session query: the first page asks for one item more
// than the answer can use, so that a query whose rows all pass its filters
// ends in one call; later pages ask for what is still missing, at least
// minPage (filters skipped rows), at most maxPage, or for tiePage items
// when only ties of the last row are still wanted.
const (
	minPage = 10
	maxPage = 500
	tiePage = 2
)

// query reads partition pk from prefix in answer order and makes rows of
// its sessions with f.Row, through x (nil for a keyword's entries).
func (s *Store) query(ctx context.Context, f *sessions.Filter, pk, prefix string, x *xbl.XUID, limit int) ([]sessions.Session, xbl.Usage, error) {
	var out []sessions.Session
	var u xbl.Usage
	if limit <= 0 {
		return out, u, nil
	}
	scid := f.SCID
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table.Name),
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ProjectionExpression:     aws.String(EntryProjection.Expression),
		ExpressionAttributeNames: QueryNames,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: pk},
			":prefix": &types.AttributeValueMemberS{Value: prefix},
		},
		Limit:                  aws.Int32(int32(min(limit+1, maxPage))),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	// kept counts sessions kept; once it reaches limit, last is the start
	// time of the limit-th, and only ties of it are still wanted.
	kept := 0
	var last time.Time
	for {
		page, err := s.table.Client.Query(ctx, in)
		if err != nil {
			return nil, u, store.CallError(ctx, "query "+s.table.Name, err)
		}
		u.Calls++
		u.Items += len(page.Items)
		if page.ConsumedCapacity != nil {
			u.ConsumedRCU += aws.ToFloat64(page.ConsumedCapacity.CapacityUnits)
		}
		pointers := make([]Item, len(page.Items))
		keys := make([]store.Key, 0, len(page.Items))
		seen := make(map[store.Key]bool, len(page.Items))
		for i, av := range page.Items {
			if err := decodeItem(av, &pointers[i]); err != nil {
				return nil, u, fmt.Errorf("query %s: item %s: %w", s.table.Name, pk, err)
			}
			if k := pointers[i].Head(scid); !pointers[i].Copy && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
		heads, hu, err := s.heads(ctx, keys)
		u.Add(hu)
		if err != nil {
			return nil, u, err
		}
		for i := range pointers {
			p := &pointers[i]
			st, err := time.Parse(time.RFC3339Nano, p.StartTime)
			if err != nil {
				return nil, u, fmt.Errorf("query %s: item %s: startTime: %w", s.table.Name, pk, err)
			}
			if kept >= limit && !st.Equal(last) {
				return out, u, nil // newer rows are all read: the answer is certain
			}
			h := heads[p.Head(scid)]
			if p.Copy {
				if h, err = headOf(&p.HeadFields); err != nil {
					return nil, u, fmt.Errorf("query %s: item %s, session %s/%s: %w", s.table.Name, pk, p.Template, p.Name, err)
				}
			}
			if h == nil || !h.StartTime.Equal(st) {
				continue // the session is gone, or this entry is of an earlier session of that name
			}
			ss, ok := f.Row(h, x)
			if !ok {
				continue
			}
			out = append(out, ss)
			kept++
			if kept == limit {
				last = ss.StartTime
			}
		}
		if page.LastEvaluatedKey == nil {
			return out, u, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
		next := min(max(limit-kept, minPage), maxPage)
		if kept >= limit {
			next = tiePage // only ties of the last kept row are still wanted
		}
		in.Limit = aws.Int32(int32(next))
	}
}

// heads reads the head items of keys (distinct), eventually consistent:
// a head is written in the same transaction as the session's document.
func (s *Store) heads(ctx context.Context, keys []store.Key) (map[store.Key]*sessions.Head, xbl.Usage, error) {
	out := make(map[store.Key]*sessions.Head, len(keys))
	var u xbl.Usage
	if len(keys) == 0 {
		return out, u, nil
	}
	var mu sync.Mutex
	var bad error
	err := s.table.BatchGet(ctx, keys, HeadProjection, func(items []map[string]types.AttributeValue, cu xbl.Usage) {
		mu.Lock()
		defer mu.Unlock()
		u.Add(cu)
		for _, av := range items {
			var it Item
			if err := decodeItem(av, &it); err != nil {
				bad = fmt.Errorf("batch get from %s: head: %w", s.table.Name, err)
				continue
			}
			h, err := headOf(&it.HeadFields)
			if err != nil {
				bad = fmt.Errorf("batch get from %s: head %s: %w", s.table.Name, it.PK, err)
				continue
			}
			out[store.Key{PK: it.PK, SK: store.SKHead}] = h
		}
	})
	if err == nil {
		err = bad
	}
	return out, u, err
}

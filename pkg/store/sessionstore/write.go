package sessionstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

var _ sessions.Store = (*Store)(nil)

// MaxTransactItems is DynamoDB's limit on the actions of one transaction.
const MaxTransactItems = 100

// Items are the items that store one session: its document, its head,
// and its membership and keyword index entries.
type Items struct {
	Doc      store.DocItem
	Head     store.HeadItem
	Pointers []store.PointerItem
}

// ItemsOf returns d's items.
func ItemsOf(d *sessions.Doc) (*Items, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("session %s/%s: %w", d.Template, d.Name, err)
	}
	it := &Items{
		Doc:  store.DocItem{Key: store.SessionKey(d.SCID, d.Template, d.Name), ETag: d.ETag, Doc: string(b)},
		Head: headItemOf(d),
	}
	for i := range d.Members {
		m := &d.Members[i]
		p := store.NewMemberPointers(m.XUID, m.Index, d.SCID, d.Template, d.Name, d.StartTime)
		it.Pointers = append(it.Pointers, p[:]...)
	}
	for _, kw := range d.Keywords {
		p := store.NewKeywordPointers(kw, d.SCID, d.Template, d.Name, d.StartTime)
		it.Pointers = append(it.Pointers, p[:]...)
	}
	return it, nil
}

func headItemOf(d *sessions.Doc) store.HeadItem {
	h := d.Head()
	it := store.HeadItem{
		Key: store.HeadKey(d.SCID, d.Template, d.Name), Template: h.Template, Name: h.Name,
		StartTime: h.StartTime.UTC().Format(store.TimeLayout), Version: h.Version, Visibility: string(h.Visibility),
		MaxMembers: h.MaxMembers, JoinRestriction: h.JoinRestriction, Keywords: h.Keywords, Turn: h.Turn,
		Members: make([]store.HeadMember, len(h.Members)),
	}
	if it.Keywords == nil {
		it.Keywords = []string{}
	}
	if it.Turn == nil {
		it.Turn = []int{}
	}
	for i, m := range h.Members {
		it.Members[i] = store.HeadMember{XUID: m.XUID.String(), Index: m.Index, Status: m.Status}
		if !m.ReservedUntil.IsZero() {
			it.Members[i].Until = m.ReservedUntil.UnixMilli()
		}
	}
	return it
}

func headOf(it *store.HeadItem) (*sessions.Head, error) {
	st, err := time.Parse(time.RFC3339Nano, it.StartTime)
	if err != nil {
		return nil, fmt.Errorf("startTime: %w", err)
	}
	h := &sessions.Head{
		Template: it.Template, Name: it.Name, StartTime: st, Version: it.Version,
		Visibility: xbl.Visibility(it.Visibility), MaxMembers: it.MaxMembers, JoinRestriction: it.JoinRestriction,
		Keywords: it.Keywords, Turn: it.Turn, Members: make([]sessions.HeadMember, len(it.Members)),
	}
	for i, m := range it.Members {
		x, err := xbl.ParseXUID(m.XUID)
		if err != nil {
			return nil, fmt.Errorf("member %d: %w", i, err)
		}
		h.Members[i] = sessions.HeadMember{XUID: x, Index: m.Index, Status: m.Status}
		if m.Until != 0 {
			h.Members[i].ReservedUntil = time.UnixMilli(m.Until)
		}
	}
	return h, nil
}

// Session implements sessions.Store: one strongly consistent GetItem of
// the document.
func (s *Store) Session(ctx context.Context, scid, template, name string) (*sessions.Doc, error) {
	out, err := s.table.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table.Name),
		Key:            store.SessionKey(scid, template, name).AV(),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, store.CallError(ctx, "get session from "+s.table.Name, err)
	}
	if out.Item == nil {
		return nil, nil
	}
	var it store.DocItem
	if err := store.Unmarshal(out.Item, &it); err != nil {
		return nil, fmt.Errorf("session %s/%s: %w", template, name, err)
	}
	var d sessions.Doc
	if err := json.Unmarshal([]byte(it.Doc), &d); err != nil {
		return nil, fmt.Errorf("session %s/%s: document: %w", template, name, err)
	}
	d.ETag = it.ETag
	return &d, nil
}

// SaveSession implements sessions.Store. The document (conditional on
// prev's ETag), the head and the index entries that change go in one
// transaction when they fit in one (every write but those that add or
// remove dozens of members at once). Otherwise the new entries are written
// first, then the document, head and keyword entries in one transaction,
// then the entries of removed members are deleted, each only if it is
// still the removed member's: a query checks every entry against the head,
// so an entry that is there too early or too long is never a row.
func (s *Store) SaveSession(ctx context.Context, prev, next *sessions.Doc) error {
	var before, after *Items
	var err error
	if prev != nil {
		if before, err = ItemsOf(prev); err != nil {
			return err
		}
	}
	if next != nil {
		if after, err = ItemsOf(next); err != nil {
			return err
		}
		if av, err := store.Marshal(after.Doc); err == nil {
			if err := store.CheckItem(av); err != nil {
				return derrors.Wrap(derrors.Invalid, "the session document is too large", err)
			}
		}
	}
	var core []types.TransactWriteItem
	// The document: the commit point and its condition.
	if next != nil {
		av, err := store.Marshal(after.Doc)
		if err != nil {
			return err
		}
		put := &types.Put{TableName: aws.String(s.table.Name), Item: av}
		if prev == nil {
			put.ConditionExpression = aws.String("attribute_not_exists(pk)")
		} else {
			put.ConditionExpression = aws.String("etag = :etag")
			put.ExpressionAttributeValues = map[string]types.AttributeValue{":etag": &types.AttributeValueMemberS{Value: prev.ETag}}
		}
		hv, err := store.Marshal(after.Head)
		if err != nil {
			return err
		}
		core = append(core, types.TransactWriteItem{Put: put}, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table.Name), Item: hv}})
	} else {
		core = append(core,
			types.TransactWriteItem{Delete: &types.Delete{
				TableName: aws.String(s.table.Name), Key: before.Doc.Key.AV(),
				ConditionExpression:       aws.String("etag = :etag"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":etag": &types.AttributeValueMemberS{Value: prev.ETag}},
			}},
			types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table.Name), Key: before.Head.Key.AV()}})
	}
	add, remove := diff(before, after)
	var kwAdd, kwRemove, memAdd, memRemove []store.PointerItem
	for _, p := range add {
		if p.Index == nil {
			kwAdd = append(kwAdd, p)
		} else {
			memAdd = append(memAdd, p)
		}
	}
	for _, p := range remove {
		if p.Index == nil {
			kwRemove = append(kwRemove, p)
		} else {
			memRemove = append(memRemove, p)
		}
	}
	puts := func(ps []store.PointerItem) ([]types.TransactWriteItem, error) {
		var out []types.TransactWriteItem
		for _, p := range ps {
			av, err := store.Marshal(p)
			if err != nil {
				return nil, err
			}
			out = append(out, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table.Name), Item: av}})
		}
		return out, nil
	}
	deletes := func(ps []store.PointerItem) []types.TransactWriteItem {
		var out []types.TransactWriteItem
		for _, p := range ps {
			out = append(out, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table.Name), Key: p.Key.AV()}})
		}
		return out
	}
	kwPuts, err := puts(kwAdd)
	if err != nil {
		return err
	}
	core = append(core, kwPuts...)
	core = append(core, deletes(kwRemove)...)
	memPuts, err := puts(memAdd)
	if err != nil {
		return err
	}
	if len(core)+len(memPuts)+len(memRemove) <= MaxTransactItems {
		core = append(core, memPuts...)
		core = append(core, deletes(memRemove)...)
		return s.transact(ctx, core)
	}
	// Too many for one transaction: entries first, commit, then removals.
	if err := s.putAll(ctx, memAdd); err != nil {
		return err
	}
	if err := s.transact(ctx, core); err != nil {
		return err
	}
	// The write is done: an entry left behind by a failure here is never
	// a row (the head does not list its user) and costs one item per read.
	s.removeMembers(ctx, memRemove)
	return nil
}

// diff returns the index entries of after that before lacks, and those of
// before that after lacks (by key).
func diff(before, after *Items) (add, remove []store.PointerItem) {
	var b, a []store.PointerItem
	if before != nil {
		b = before.Pointers
	}
	if after != nil {
		a = after.Pointers
	}
	has := func(ps []store.PointerItem, p store.PointerItem) bool {
		return slices.ContainsFunc(ps, func(q store.PointerItem) bool {
			return q.Key == p.Key && (q.Index == nil) == (p.Index == nil) && (q.Index == nil || *q.Index == *p.Index)
		})
	}
	for _, p := range a {
		if !has(b, p) {
			add = append(add, p)
		}
	}
	for _, p := range b {
		// An entry whose key stays (the same user, another index) is
		// overwritten by its put, not deleted.
		if !slices.ContainsFunc(a, func(q store.PointerItem) bool { return q.Key == p.Key }) {
			remove = append(remove, p)
		}
	}
	return add, remove
}

func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) error {
	_, err := s.table.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 && aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		return sessions.ErrChanged
	}
	if err != nil {
		return store.CallError(ctx, "write session to "+s.table.Name, err)
	}
	return nil
}

// putAll writes ps in BatchWriteItem calls, retrying unprocessed items.
func (s *Store) putAll(ctx context.Context, ps []store.PointerItem) error {
	for start := 0; start < len(ps); start += store.MaxBatchWrite {
		var reqs []types.WriteRequest
		for _, p := range ps[start:min(start+store.MaxBatchWrite, len(ps))] {
			av, err := store.Marshal(p)
			if err != nil {
				return err
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		}
		pending := map[string][]types.WriteRequest{s.table.Name: reqs}
		for attempt := 0; len(pending[s.table.Name]) > 0; attempt++ {
			if attempt >= store.MaxAttempts {
				return store.CallError(ctx, "write session entries to "+s.table.Name, store.ErrIncomplete)
			}
			if attempt > 0 {
				if err := store.Sleep(ctx, store.Backoff(attempt-1)); err != nil {
					return err
				}
			}
			out, err := s.table.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return store.CallError(ctx, "write session entries to "+s.table.Name, err)
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

// removeMembers deletes the membership entries ps, each only while it
// still points at the removed member's index.
func (s *Store) removeMembers(ctx context.Context, ps []store.PointerItem) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, p := range ps {
		g.Go(func() error {
			_, err := s.table.Client.DeleteItem(gctx, &dynamodb.DeleteItemInput{
				TableName:                 aws.String(s.table.Name),
				Key:                       p.Key.AV(),
				ConditionExpression:       aws.String("i = :i"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":i": &types.AttributeValueMemberN{Value: fmt.Sprint(*p.Index)}},
			})
			var ccf *types.ConditionalCheckFailedException
			if err != nil && !errors.As(err, &ccf) {
				return store.CallError(gctx, "remove session entries from "+s.table.Name, err)
			}
			return nil
		})
	}
	return g.Wait()
}

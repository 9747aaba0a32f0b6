package sessionstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
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
	Doc      DocItem
	Head     Item
	Pointers []Item

	headAV map[string]types.AttributeValue // Head.HeadFields encoded, once
}

// ItemsOf returns d's items; with copies, its index entries carry copies
// of its head. The document item holds d.Encoded, the write's one
// encoding: a document without it is an Internal error (the rules always
// encode).
func ItemsOf(d *sessions.Doc, copies bool) (*Items, error) {
	b := d.Encoded
	if b == nil {
		return nil, fmt.Errorf("sessionstore: session %s/%s has no encoding to store", d.Template, d.Name)
	}
	it := &Items{
		Doc:      DocItem{Key: store.SessionKey(d.SCID, d.Template, d.Name), ETag: d.ETag, Doc: string(b), Copies: copies, TTL: endOf(d)},
		Head:     Item{Key: store.HeadKey(d.SCID, d.Template, d.Name), HeadFields: headFieldsOf(d)},
		Pointers: pointersOf(d),
	}
	if copies {
		for i := range it.Pointers {
			it.Pointers[i].HeadFields, it.Pointers[i].Copy = it.Head.HeadFields, true
		}
	}
	return it, nil
}

// endOf is when the session d ends by itself, in Unix seconds (the items'
// time to live): the latest end of its members when each ends by itself
// (a reservation, or a member whose connection closed); 0 while a member
// lasts until it leaves.
func endOf(d *sessions.Doc) int64 {
	var end time.Time
	for i := range d.Members {
		u := d.Members[i].Ends()
		if u.IsZero() {
			return 0
		}
		if u.After(end) {
			end = u
		}
	}
	if end.IsZero() {
		return 0
	}
	return end.Add(time.Second).Truncate(time.Second).Unix()
}

// pointersOf returns d's index entries, without copies of its head.
func pointersOf(d *sessions.Doc) []Item {
	var out []Item
	for i := range d.Members {
		m := &d.Members[i]
		p := MemberEntries(m.XUID, m.Index, d.SCID, d.Template, d.Name, d.StartTime)
		out = append(out, p[:]...)
	}
	for _, kw := range d.Keywords {
		p := KeywordEntries(kw, d.SCID, d.Template, d.Name, d.StartTime)
		out = append(out, p[:]...)
	}
	return out
}

// LoadItems returns the items the loader writes for d: with copies of the
// head in its index entries when SaveSession would keep them so.
func LoadItems(d *sessions.Doc) (*Items, error) {
	it, err := ItemsOf(d, true)
	if err != nil || copiesFit(it, 0) {
		return it, err
	}
	return ItemsOf(d, false)
}

// Copies of the head in a session's index entries save a query one head
// read (0.5 read unit) per row, and cost every write of the session a
// rewrite of every entry (2 write units each, in a transaction). So they
// are kept to lobby-sized sessions: at most MaxCopyEntries entries (16
// members and keywords together; a write then rewrites at most 34 items)
// and a head of at most MaxCopyBytes (a lobby's is a few hundred bytes;
// 32 long keywords make 8 KB).
const (
	MaxCopyEntries = 32
	MaxCopyBytes   = 1024
)

// copiesFit reports whether the entries of it carry copies of its head:
// at most MaxCopyEntries of them, which with the document, the claim's
// delete, the head and extra other actions (deletes of removed entries,
// the replies of a combined commit) fit in one transaction, and a head of
// at most MaxCopyBytes.
func copiesFit(it *Items, extra int) bool {
	if len(it.Pointers) > MaxCopyEntries || 3+len(it.Pointers)+extra > MaxTransactItems {
		return false
	}
	av, err := it.headAttrs()
	return err == nil && store.ItemSize(av) <= MaxCopyBytes
}

// headAttrs returns the head's attributes, encoded once per write and
// shared by the head item and every copy of it.
func (it *Items) headAttrs() (map[string]types.AttributeValue, error) {
	if it.headAV == nil {
		av, err := store.Marshal(it.Head.HeadFields)
		if err != nil {
			return nil, err
		}
		it.headAV = av
	}
	return it.headAV, nil
}

// itemAV returns the attributes of p, a head item or an index entry of
// it: when p is the head or carries a copy of it, the head's attributes
// as encoded once per write (it.headAV), with p's key, index and flag.
// It is what store.Marshal(p) returns (TestItemAV), without encoding the
// head again for every entry.
func (it *Items) itemAV(p *Item) (map[string]types.AttributeValue, error) {
	if p.Key != it.Head.Key && !p.Copy {
		return store.Marshal(p)
	}
	head, err := it.headAttrs()
	if err != nil {
		return nil, err
	}
	av := make(map[string]types.AttributeValue, len(head)+4)
	maps.Copy(av, head)
	av[store.AttrPK] = &types.AttributeValueMemberS{Value: p.PK}
	av[store.AttrSK] = &types.AttributeValueMemberS{Value: p.SK}
	if p.Index != nil {
		av["i"] = &types.AttributeValueMemberN{Value: strconv.Itoa(*p.Index)}
	}
	if p.Copy {
		av["c"] = &types.AttributeValueMemberBOOL{Value: true}
	}
	if it.Doc.TTL != 0 {
		// The head and its copies end with the session (DocItem.TTL).
		av[store.AttrTTL] = &types.AttributeValueMemberN{Value: strconv.FormatInt(it.Doc.TTL, 10)}
	}
	return av, nil
}

// headFieldsOf returns d's head as the head item stores it.
func headFieldsOf(d *sessions.Doc) HeadFields {
	f := HeadFields{
		Template: d.Template, Name: d.Name,
		StartTime: d.StartTime.UTC().Format(store.TimeLayout), Version: d.Version, Visibility: string(d.Visibility),
		MaxMembers: d.MaxMembers, JoinRestriction: d.JoinRestriction, Keywords: d.Keywords, Turn: d.Turn,
		Members: make([]HeadMember, len(d.Members)),
	}
	for i := range d.Members {
		m := &d.Members[i]
		f.Members[i] = HeadMember{XUID: m.XUID.String(), Index: m.Index, Status: m.Status()}
		if u := m.Ends(); !u.IsZero() {
			f.Members[i].Until = u.UnixMilli()
		}
	}
	return f
}

// headOf returns the head a head item (or an index entry's copy) stores.
func headOf(it *HeadFields) (*sessions.Head, error) {
	st, err := time.Parse(time.RFC3339Nano, it.StartTime)
	if err != nil {
		return nil, fmt.Errorf("startTime: %w", err)
	}
	h := &sessions.Head{
		Template: it.Template, Name: it.Name, StartTime: st, Version: it.Version,
		Visibility: xbl.Visibility(it.Visibility), MaxMembers: it.MaxMembers, JoinRestriction: it.JoinRestriction,
		Keywords: it.Keywords, Turn: it.Turn, Members: make([]sessions.Member, len(it.Members)),
	}
	for i, m := range it.Members {
		x, err := xbl.ParseXUID(m.XUID)
		if err != nil {
			return nil, fmt.Errorf("member %d: %w", i, err)
		}
		h.Members[i] = sessions.Member{XUID: x, Index: m.Index}
		if !h.Members[i].SetStatus(m.Status) {
			return nil, fmt.Errorf("member %d: status %q", i, m.Status)
		}
		if m.Until != 0 {
			if h.Members[i].Reserved {
				h.Members[i].ReservedUntil = time.UnixMilli(m.Until)
			} else {
				h.Members[i].InactiveUntil = time.UnixMilli(m.Until)
			}
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
	var it DocItem
	if err := store.Unmarshal(out.Item, &it); err != nil {
		return nil, fmt.Errorf("session %s/%s: %w", template, name, err)
	}
	d, err := sessions.Decode([]byte(it.Doc), it.ETag)
	if err != nil {
		return nil, fmt.Errorf("session %s/%s: document: %w", template, name, err)
	}
	d.Copies = it.Copies
	return d, nil
}

// SaveSession implements sessions.Store. The document (conditional on
// prev's ETag, or on its absence) is the commit point; the head is written
// with it. When all of the session's index entries fit in the same
// transaction and the session is lobby-sized (copiesFit), every entry is
// rewritten with a copy of the new head, so a query reads entries only.
// Otherwise the entries carry no copy and a query reads the head of each
// entry it finds: the new entries are written first, then the document and
// head, with the deletes of removed keywords' entries, in one transaction,
// then the entries of removed members are deleted, each only while it
// still holds the removed member's index; a session that had copies loses
// them before that commit. Either
// way a query never sees a row of a version that was not committed, nor a
// mix of two. The document item holds next.Encoded as it is; the head's
// attributes are encoded once and shared by the head item and every copy.
func (s *Store) SaveSession(ctx context.Context, prev, next *sessions.Doc) (err error) {
	claim := "" // the id of this write's claim on prev's version (see claim)
	if prev != nil {
		key := store.ClaimKey(prev.SCID, prev.Template, prev.Name)
		claim = sessions.NewID()
		if err := s.claim(ctx, key, prev.ETag, claim); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				s.release(ctx, key, claim)
			}
		}()
	}
	return s.commit(ctx, prev, next, claim, nil)
}

// commit is SaveSession's write of next over prev by the write that holds
// claim ("" for none: a create), with the actions replies (the replies of
// a combined commit) in its transaction.
func (s *Store) commit(ctx context.Context, prev, next *sessions.Doc, claim string, replies []types.TransactWriteItem) error {
	var old []Item // prev's entries (their copies do not matter here)
	if prev != nil {
		old = pointersOf(prev)
	}
	if next == nil {
		// The last member left: delete everything of the session.
		core := []types.TransactWriteItem{
			s.deleteDoc(store.SessionKey(prev.SCID, prev.Template, prev.Name), prev.ETag),
			s.deleteItem(store.HeadKey(prev.SCID, prev.Template, prev.Name)),
			s.unclaim(store.ClaimKey(prev.SCID, prev.Template, prev.Name), claim),
		}
		core = append(core, replies...)
		if len(core)+len(old) <= MaxTransactItems {
			for _, p := range old {
				core = append(core, s.deleteItem(p.Key))
			}
			return s.transact(ctx, core, "")
		}
		if prev.Copies {
			if err := s.putAll(ctx, old); err != nil {
				return err
			}
		}
		if err := s.transact(ctx, core, ""); err != nil {
			return err
		}
		s.removeEntries(ctx, old)
		return nil
	}
	after, err := ItemsOf(next, true)
	if err != nil {
		return err
	}
	add, remove := diff(old, after.Pointers)
	if copiesFit(after, len(remove)+len(replies)) {
		// Everything in one transaction, every entry with a copy.
		core, err := s.core(prev, claim, after, after.Pointers, remove)
		if err != nil {
			return err
		}
		return s.transact(ctx, append(core, replies...), next.ETag)
	}
	// Too many entries for one transaction, or too large a head: entries
	// without copies.
	after.Doc.Copies, after.Pointers = false, uncopied(after.Pointers, nil)
	add = uncopied(add, nil)
	var memAdd, memRemove, kwAdd, kwRemove []Item
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
	// First: the new entries; when the stored entries carry copies, every
	// entry that stays or goes loses its copy (a copy of prev must not
	// outlive the commit).
	first := append(memAdd, kwAdd...)
	if prev != nil && prev.Copies {
		first = append(append(after.Pointers, memRemove...), kwRemove...)
	}
	if err := s.putAll(ctx, first); err != nil {
		return err
	}
	// Removed keywords' entries go in the commit while there is room (a
	// keyword query checks the head, so one deleted late is never a row).
	room := min(len(kwRemove), MaxTransactItems-3-len(replies))
	core, err := s.core(prev, claim, after, nil, kwRemove[:room])
	if err != nil {
		return err
	}
	if err := s.transact(ctx, append(core, replies...), next.ETag); err != nil {
		return err
	}
	// The write is done: an entry left behind by a failure here is never
	// a row (the head does not list its user) and costs one item per read.
	s.removeEntries(ctx, append(memRemove, kwRemove[room:]...))
	return nil
}

// core is the commit: the document, conditional on prev's ETag (or on no
// document) and on this write's claim (if it holds one), the head, the entries puts and the deletes of the entries
// remove.
func (s *Store) core(prev *sessions.Doc, claim string, after *Items, puts, remove []Item) ([]types.TransactWriteItem, error) {
	doc, err := s.put(after.Doc)
	if err != nil {
		return nil, err
	}
	if err := store.CheckItem(doc.Put.Item); err != nil {
		return nil, derrors.Wrap(derrors.Invalid, "the session document is too large", err)
	}
	if prev == nil {
		doc.Put.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		doc.Put.ConditionExpression = aws.String("etag = :etag")
		doc.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":etag": &types.AttributeValueMemberS{Value: prev.ETag}}
	}
	core := []types.TransactWriteItem{doc}
	if claim != "" {
		core = append(core, s.unclaim(store.Key{PK: after.Doc.PK, SK: store.SKClaim}, claim))
	}
	for _, p := range append([]Item{after.Head}, puts...) {
		av, err := after.itemAV(&p)
		if err != nil {
			return nil, err
		}
		core = append(core, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table.Name), Item: av}})
	}
	for _, p := range remove {
		core = append(core, s.deleteItem(p.Key))
	}
	return core, nil
}

func (s *Store) put(item any) (types.TransactWriteItem, error) {
	av, err := store.Marshal(item)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table.Name), Item: av}}, nil
}

func (s *Store) deleteItem(k store.Key) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table.Name), Key: k.AV()}}
}

func (s *Store) deleteDoc(k store.Key, etag string) types.TransactWriteItem {
	d := s.deleteItem(k)
	d.Delete.ConditionExpression = aws.String("etag = :etag")
	d.Delete.ExpressionAttributeValues = map[string]types.AttributeValue{":etag": &types.AttributeValueMemberS{Value: etag}}
	return d
}

// uncopied appends to out ps without their copies of the head.
func uncopied(ps, out []Item) []Item {
	for _, p := range ps {
		p.HeadFields = HeadFields{Template: p.Template, Name: p.Name, StartTime: p.StartTime}
		p.Copy = false
		out = append(out, p)
	}
	return out
}

// diff returns the entries of after that before lacks (by key and member
// index), and those of before whose key after lacks (an entry whose key
// stays, for the same user at another index, is overwritten, not deleted).
func diff(before, after []Item) (add, remove []Item) {
	has := func(ps []Item, p Item) bool {
		return slices.ContainsFunc(ps, func(q Item) bool {
			return q.Key == p.Key && (q.Index == nil) == (p.Index == nil) && (q.Index == nil || *q.Index == *p.Index)
		})
	}
	for _, p := range after {
		if !has(before, p) {
			add = append(add, p)
		}
	}
	for _, p := range before {
		if !slices.ContainsFunc(after, func(q Item) bool { return q.Key == p.Key }) {
			remove = append(remove, p)
		}
	}
	return add, remove
}

// settleTime bounds settle: it runs after the caller's context ended (a
// commit cut short by the deadline), within the time sessions.Put keeps
// for its answer.
const settleTime = 800 * time.Millisecond

// transact commits items, whose first is the session's document: nil when
// they were applied, ErrChanged or ErrContended when they were not. The
// transaction carries a ClientRequestToken, so that sending it again is
// idempotent (for 10 minutes); when its outcome was not seen (a timeout,
// a connection lost, a 5xx after it was sent), settle finds it out.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem, etag string) error {
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items, ClientRequestToken: aws.String(sessions.NewID())}
	_, err := s.table.Client.TransactWriteItems(ctx, in)
	if err == nil {
		return nil
	}
	if known := refused(err); known != nil {
		return known
	}
	return s.settle(ctx, in, etag, err)
}

// refused is the answer to a transaction DynamoDB refused: ErrChanged when
// the document's condition failed, ErrContended for a conflict with
// another transaction; nil for any other error (its outcome is unknown).
func refused(err error) error {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for i, r := range tce.CancellationReasons {
			switch code := aws.ToString(r.Code); {
			case i == 0 && code == "ConditionalCheckFailed":
				return sessions.ErrChanged
			case code == "ConditionalCheckFailed":
				// The claim (the commit's second action) ended and another
				// write took it, or a queued write's reply found it gone:
				// final for this commit.
				return errOtherCondition
			case code == "TransactionConflict":
				// Another transaction on the same items was in flight.
				return sessions.ErrContended
			}
		}
		return store.CallError(context.Background(), "write session", err) // refused, for another reason
	}
	var conflict *types.TransactionConflictException
	if errors.As(err, &conflict) {
		return sessions.ErrContended
	}
	return nil
}

// errOtherCondition is a commit refused by a condition other than the
// document's (the claim's, a reply's): it was not applied, and sending it
// again changes nothing. It is ErrContended to the service.
var errOtherCondition = fmt.Errorf("%w (a condition of the commit failed)", sessions.ErrContended)

// settle finds out whether the transaction in, whose answer was lost
// (first), was applied: it sends in again with its token, which DynamoDB
// answers with success when it was (without applying it twice) and
// applies now when it was not, and reads the document back when the
// answer is that its condition fails (a write of ours, applied, changed
// the ETag it was conditional on; etag is the one it stores, "" for a
// delete). It gives first back, as Unavailable, only when it could not
// find out within settleTime.
func (s *Store) settle(ctx context.Context, in *dynamodb.TransactWriteItemsInput, etag string, first error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTime)
	defer cancel()
	for ctx.Err() == nil {
		_, err := s.table.Client.TransactWriteItems(ctx, in)
		if err == nil {
			return nil
		}
		var inProgress *types.TransactionInProgressException
		switch known := refused(err); {
		case errors.Is(known, sessions.ErrChanged):
			applied, rerr := s.stores(ctx, in.TransactItems[0], etag)
			if rerr == nil && applied {
				return nil
			}
			if rerr == nil {
				return sessions.ErrChanged
			}
		case errors.Is(known, errOtherCondition):
			// Sent again with its token, a commit that was applied
			// answers success; a refused condition means it was not.
			return known
		case errors.As(err, &inProgress), errors.Is(known, sessions.ErrContended), known == nil:
		default:
			return known
		}
		store.Sleep(ctx, 20*time.Millisecond) // the loop ends with ctx
	}
	return derrors.Wrap(derrors.Unavailable, "the session write's outcome is unknown; read the session", first)
}

// stores reports whether the document of the transaction item doc (its
// put or its delete) is as that item leaves it: stored with etag, or gone
// for a delete.
func (s *Store) stores(ctx context.Context, doc types.TransactWriteItem, etag string) (bool, error) {
	if doc.Put == nil && doc.Delete == nil {
		// A combined commit of replies only: its writers read their
		// replies (sessions.Queue).
		return false, nil
	}
	key := map[string]types.AttributeValue{}
	if doc.Delete != nil {
		key = doc.Delete.Key
	} else {
		key[store.AttrPK], key[store.AttrSK] = doc.Put.Item[store.AttrPK], doc.Put.Item[store.AttrSK]
	}
	out, err := s.table.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table.Name), Key: key, ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("etag"),
	})
	if err != nil {
		return false, err
	}
	if doc.Delete != nil {
		return out.Item == nil, nil
	}
	got, _ := out.Item["etag"].(*types.AttributeValueMemberS)
	return got != nil && got.Value == etag, nil
}

// putAll writes ps in BatchWriteItem calls (store.Table.WriteBatch); a
// conflict with a transaction in flight on one of them is ErrContended.
func (s *Store) putAll(ctx context.Context, ps []Item) error {
	for start := 0; start < len(ps); start += store.MaxBatchWrite {
		var reqs []types.WriteRequest
		for _, p := range ps[start:min(start+store.MaxBatchWrite, len(ps))] {
			av, err := store.Marshal(p)
			if err != nil {
				return err
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		}
		_, err := s.table.WriteBatch(ctx, reqs)
		var conflict *types.TransactionConflictException
		if errors.As(err, &conflict) {
			return sessions.ErrContended
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// removeEntries deletes the index entries ps: a membership entry only while
// it still holds the removed member's index.
// It is best effort: a failure leaves entries that are never rows.
func (s *Store) removeEntries(ctx context.Context, ps []Item) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, p := range ps {
		g.Go(func() error {
			in := &dynamodb.DeleteItemInput{TableName: aws.String(s.table.Name), Key: p.Key.AV()}
			if p.Index != nil {
				in.ConditionExpression = aws.String("i = :i")
				in.ExpressionAttributeValues = map[string]types.AttributeValue{":i": &types.AttributeValueMemberN{Value: fmt.Sprint(*p.Index)}}
			}
			_, err := s.table.Client.DeleteItem(gctx, in)
			var ccf *types.ConditionalCheckFailedException
			if err != nil && !errors.As(err, &ccf) {
				return store.CallError(gctx, "remove session entries from "+s.table.Name, err)
			}
			return nil
		})
	}
	g.Wait() // best effort: see above
}

// A write to a stored session first claims the version it read: one
// conditional UpdateItem of the session's small claim item
// (store.ClaimKey), which fails at once while another write holds a live
// claim on that version, and only the claimant sends the transaction,
// which deletes the claim item on condition that it still holds it.
// Writers that lost the race for a version learn it from a refused
// UpdateItem instead of queueing a transaction bound to fail behind the
// winner's: under a crowd those doomed transactions were what held every
// commit back (docs/ARCHITECTURE.md, "What a session write contends on").
// The claim is its own item, not an attribute of the document, because an
// update is billed by the size of the item it changes: 1 write unit here,
// plus 2 for its delete in the commit, whatever the document's size. A
// claim whose write died ends after claimTime; one on a version no longer
// stored is simply replaced (the commit's condition on the document's
// ETag fails anyway).
const (
	attrClaim      = "claim"
	attrClaimETag  = "etag"
	attrClaimUntil = "claimUntil"
	claimTime      = 2 * time.Second
	// claimAny is the etag of a combining write's claim (Combine): it
	// holds the session whatever its version, and no write replaces it
	// while it lives.
	claimAny = "*"
)

// claim claims version etag of the session whose claim item is at key,
// for the write whose id is id: nil when it holds it, sessions.ErrContended
// when another write holds a live claim on that version, or a combining
// write one on any. With etag claimAny it claims the session whatever its
// version, unless any write holds a live claim.
func (s *Store) claim(ctx context.Context, key store.Key, etag, id string) error {
	now := time.Now()
	values := map[string]types.AttributeValue{
		":id":    &types.AttributeValueMemberS{Value: id},
		":etag":  &types.AttributeValueMemberS{Value: etag},
		":until": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(claimTime).UnixMilli(), 10)},
		":now":   &types.AttributeValueMemberN{Value: strconv.FormatInt(now.UnixMilli(), 10)},
	}
	cond := "attribute_not_exists(#c) OR #u < :now"
	if etag != claimAny {
		cond += " OR (#e <> :etag AND #e <> :any)"
		values[":any"] = &types.AttributeValueMemberS{Value: claimAny}
	}
	_, err := s.table.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table.Name),
		Key:                 key.AV(),
		UpdateExpression:    aws.String("SET #c = :id, #e = :etag, #u = :until"),
		ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: map[string]string{
			"#c": attrClaim, "#e": attrClaimETag, "#u": attrClaimUntil,
		},
		ExpressionAttributeValues: values,
	})
	var ccf *types.ConditionalCheckFailedException
	var conflict *types.TransactionConflictException
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ccf):
		return sessions.ErrContended // the version is claimed by another write
	case errors.As(err, &conflict):
		// A commit that deletes the claim item is in flight (DynamoDB
		// refuses a write of an item a running transaction holds).
		return sessions.ErrContended
	}
	return store.CallError(ctx, "claim session in "+s.table.Name, err)
}

// release gives up claim id at key after a write that did not commit, so
// that the next writer need not wait for it to end. It is best effort: a
// claim not released ends after claimTime.
func (s *Store) release(ctx context.Context, key store.Key, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 200*time.Millisecond)
	defer cancel()
	s.table.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table.Name),
		Key:                       key.AV(),
		ConditionExpression:       aws.String("#c = :id"),
		ExpressionAttributeNames:  map[string]string{"#c": attrClaim},
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: id}},
	})
}

// unclaim is the commit's delete of claim id at key, on condition that the
// write still holds it.
func (s *Store) unclaim(key store.Key, id string) types.TransactWriteItem {
	d := s.deleteItem(key)
	d.Delete.ConditionExpression = aws.String("#c = :id")
	d.Delete.ExpressionAttributeNames = map[string]string{"#c": attrClaim}
	d.Delete.ExpressionAttributeValues = map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: id}}
	return d
}

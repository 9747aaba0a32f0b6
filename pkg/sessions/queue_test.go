package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// TestCombineRules: a combined commit applies each waiting write as Put
// would apply it alone, in order, at one reading of the clock, and
// replies to each: a stranger to a private session is refused before its
// condition is looked at, an If-Match: * on no session fails its
// condition, a write the rules refuse changes nothing, a write past its
// writer's wait is refused (its writer answered 503), a write that
// changes nothing is done without a change, and a write that empties the
// session ends the batch.
func TestCombineRules(t *testing.T) {
	st := newDocStore()
	vis, seats := xbl.OpenVis, 3
	create := joinChange(true)
	create.Constants = &ConstantsChange{Visibility: &vis, MaxMembers: &seats}
	put(t, st, host, Condition{}, create, t0)
	stored, _ := st.Session(context.Background(), ref.SCID, ref.Template, ref.Name)
	private := xbl.Private
	priv := joinChange(true)
	priv.Constants = &ConstantsChange{Visibility: &private}
	fourth := &xbl.Caller{XUID: 400, TitleID: "1297287135", Sandbox: "RETAIL"}
	late := t0.Add(-time.Second)
	waiting := []*Queued{
		{ID: "1", Caller: *guest, Change: joinChange(true)},
		{ID: "2", Caller: *guest, Change: joinChange(true)},              // already as asked
		{ID: "3", Caller: *third, Change: joinChange(true), Until: late}, // its writer is gone
		{ID: "4", Caller: *third, Change: joinChange(true)},              // the last seat
		{ID: "5", Caller: *fourth, Change: joinChange(true)},             // full
		{ID: "6", Caller: *host, Change: &Change{Properties: &PropertiesChange{Custom: map[string]json.RawMessage{"k": raw("1")}}}, Cond: Condition{IfMatchAny: true}},
	}
	next, replies := svc(st, t0).combine(ref)(stored, waiting)
	want := []Reply{
		{ID: "1", Outcome: Updated},
		{ID: "2", Outcome: Updated},
		{ID: "3", Refused: true, Kind: derrors.Unavailable},
		{ID: "4", Outcome: Updated},
		{ID: "5", Refused: true, Kind: derrors.Conflict},
		{ID: "6", Outcome: Updated},
	}
	check := func(got, want []Reply) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%d replies, want %d: %+v", len(got), len(want), got)
		}
		for i := range want {
			g := got[i]
			if g.ID != want[i].ID || g.Outcome != want[i].Outcome || g.Refused != want[i].Refused || g.Kind != want[i].Kind || g.Refused != (g.Message != "") {
				t.Errorf("reply %d: %+v, want %+v", i, g, want[i])
			}
		}
	}
	check(replies, want)
	if next == stored || len(next.Members) != 3 || next.ETag == "" || next.ETag == stored.ETag || next.Encoded == nil {
		t.Fatalf("the combined session: %+v", next)
	}

	// Nothing changes: the stored document comes back as it is.
	same, replies := svc(st, t0).combine(ref)(stored, []*Queued{{ID: "7", Caller: *host, Change: joinChange(true)}})
	if same != stored {
		t.Errorf("a batch that changes nothing returned a new document")
	}
	check(replies, []Reply{{ID: "7", Outcome: Updated}})

	// A private session's stranger is refused before its condition.
	if err := st.SaveSession(context.Background(), stored, next); err != nil {
		t.Fatal(err)
	}
	st2 := newDocStore()
	put(t, st2, host, Condition{}, priv, t0)
	p, _ := st2.Session(context.Background(), ref.SCID, ref.Template, ref.Name)
	_, replies = svc(st2, t0).combine(ref)(p, []*Queued{{ID: "8", Caller: *guest, Change: joinChange(true), Cond: Condition{IfMatchAny: true}}})
	check(replies, []Reply{{ID: "8", Refused: true, Kind: derrors.Forbidden}})

	// If-Match: * on no session fails its condition; a leave that empties
	// the session ends the batch.
	_, replies = svc(st2, t0).combine(ref)(nil, []*Queued{{ID: "9", Caller: *guest, Change: joinChange(true), Cond: Condition{IfMatchAny: true}}})
	check(replies, []Reply{{ID: "9", Outcome: ConditionFailed}})
	leave := &Change{Members: map[string]*MemberChange{"me": nil}}
	gone, replies := svc(st2, t0).combine(ref)(p, []*Queued{{ID: "a", Caller: *host, Change: leave}, {ID: "b", Caller: *host, Change: joinChange(true)}})
	if gone != nil {
		t.Errorf("the session after its last member left: %+v", gone)
	}
	check(replies, []Reply{{ID: "a", Outcome: Deleted}})
}

// queueStore is docStore with a Queue in memory, whose commits can be
// held back (hold: Combine answers ErrContended, as while another write
// holds the session).
type queueStore struct {
	*docStore
	waiting []*Queued
	replies map[string]*Reply
	hold    bool
}

func (q *queueStore) Enqueue(_ context.Context, _ Ref, w *Queued) error {
	b, err := EncodeQueued(w)
	if err != nil {
		return err
	}
	w, err = DecodeQueued(w.ID, b) // kept as stored
	q.mu.Lock()
	defer q.mu.Unlock()
	q.waiting = append(q.waiting, w)
	return err
}

func (q *queueStore) Combine(_ context.Context, _ Ref, limit int, apply func(*Doc, []*Queued) (*Doc, []Reply)) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.hold {
		return 0, ErrContended
	}
	batch := q.waiting[:min(limit, len(q.waiting))]
	if len(batch) == 0 {
		return 0, nil
	}
	var stored *Doc
	if d := q.docs[ref.SCID+"/"+ref.Template+"/"+ref.Name]; d != nil {
		stored, _ = Decode(d.Encoded, d.ETag)
	}
	next, replies := apply(stored, batch)
	k := ref.SCID + "/" + ref.Template + "/" + ref.Name
	switch {
	case next == stored:
	case next == nil:
		delete(q.docs, k)
	default:
		q.docs[k] = next
	}
	for _, r := range replies {
		q.replies[r.ID] = &r
	}
	q.waiting = q.waiting[len(replies):]
	return len(replies), nil
}

func (q *queueStore) Reply(_ context.Context, _ Ref, id string) (*Reply, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.replies[id], nil
}

func (q *queueStore) Withdraw(_ context.Context, _ Ref, id string) (*Reply, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, w := range q.waiting {
		if w.ID == id {
			q.waiting = append(q.waiting[:i:i], q.waiting[i+1:]...)
		}
	}
	r := q.replies[id]
	delete(q.replies, id)
	return r, nil
}

// TestQueuedWrites: a write that loses a race for its session waits in the
// queue and is answered by the commit that takes it, its own or another
// writer's, as Put would answer it alone; a write whose time runs out
// while it waits withdraws, is answered 503, and is never applied; an
// ETag-bound write never waits (it retries).
func TestQueuedWrites(t *testing.T) {
	ctx := context.Background()
	newQueue := func() *queueStore {
		q := &queueStore{docStore: newDocStore(), replies: map[string]*Reply{}}
		put(t, q, host, Condition{}, joinChange(true), t0)
		return q
	}
	queued := func(q *queueStore, c *xbl.Caller, cond Condition, ch *Change, timeout time.Duration) (*WriteResult, error) {
		s := svc(&contendedStore{docStore: q.docStore, left: 1}, t0)
		s.Queue = q
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return s.Put(ctx, c, ref, cond, ch)
	}

	q := newQueue()
	res, err := queued(q, guest, Condition{}, joinChange(true), 3*time.Second)
	if err != nil || res.Outcome != Updated || res.Doc.Member(guest.XUID) == nil {
		t.Fatalf("a queued join: %+v %v", res, err)
	}
	if len(q.waiting) != 0 || len(q.replies) != 0 {
		t.Errorf("left in the queue: %d waiting, %d replies", len(q.waiting), len(q.replies))
	}
	// A refusal is the error Put would give.
	res, err = queued(q, guest, Condition{}, &Change{Constants: &ConstantsChange{MaxMembers: ptr(5)}}, 3*time.Second)
	if derrors.KindOf(err) != derrors.Conflict {
		t.Errorf("a queued write the rules refuse: %+v %v, want a conflict", res, err)
	}
	// Out of time: 503, withdrawn, never applied.
	q.hold = true
	res, err = queued(q, third, Condition{}, joinChange(true), 1300*time.Millisecond)
	if !errors.Is(err, errBusy) {
		t.Errorf("a queued write out of time: %+v %v, want errBusy", res, err)
	}
	q.hold = false
	if len(q.waiting) != 0 {
		t.Errorf("the write out of time is still queued")
	}
	if n, _ := q.Combine(ctx, ref, CombineLimit, svc(q, t0).combine(ref)); n != 0 {
		t.Errorf("a later commit took %d writes", n)
	}
	if d, _ := q.Session(ctx, ref.SCID, ref.Template, ref.Name); d.Member(third.XUID) != nil {
		t.Errorf("the write answered 503 was applied")
	}
	// An ETag-bound write retries instead.
	d, _ := q.Session(ctx, ref.SCID, ref.Template, ref.Name)
	res, err = queued(q, third, Condition{IfMatch: []string{d.ETag}}, joinChange(true), 3*time.Second)
	if err != nil || res.Outcome != Updated || len(q.replies) != 0 {
		t.Errorf("an If-Match write after a lost race: %+v %v", res, err)
	}
}

// TestQueuedRoundTrip: a queued write reads back as it was stored, its
// absent parts absent and its nulls null.
func TestQueuedRoundTrip(t *testing.T) {
	on := true
	w := &Queued{ID: "x", Caller: *host, Cond: Condition{IfMatchAny: true}, Until: t0,
		Change: &Change{
			Constants:  &ConstantsChange{MaxMembers: ptr(4)},
			Properties: &PropertiesChange{Keywords: &[]string{}, Custom: map[string]json.RawMessage{"a": raw("null"), "b": raw(`{"c":1}`)}},
			Members:    map[string]*MemberChange{"me": {Active: &on}, "reserve_0": {XUID: 5, ConstantsCustom: raw("null")}},
			Servers:    map[string]json.RawMessage{"s": raw("null")},
		}}
	b, err := EncodeQueued(w)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeQueued("x", b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := EncodeQueued(got)
	if string(b) != string(b2) || got.Change.Constants.Custom != nil || got.Change.Members["me"].ConstantsCustom != nil ||
		string(got.Change.Members["reserve_0"].ConstantsCustom) != "null" || !got.Until.Equal(t0) || got.Caller != *host {
		t.Errorf("round trip:\n%s\n%s", b, b2)
	}
}

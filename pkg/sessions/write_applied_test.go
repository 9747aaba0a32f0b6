package sessions

import (
	"context"
	"testing"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// lostAnswerStore applies every commit, then answers as a storage failure
// of unknown outcome does (a settle that gave up).
type lostAnswerStore struct{ *docStore }

func (s lostAnswerStore) SaveSession(ctx context.Context, prev, next *Doc) error {
	if err := s.docStore.SaveSession(ctx, prev, next); err != nil {
		return err
	}
	return derrors.New(derrors.Unavailable, "the session write's outcome is unknown")
}

// TestAppliedWritesAreNotBusy: a write whose commit was applied but whose
// answer was lost is answered by what is stored, never 503: a join, and
// the leave of a private session, after which the caller could no longer
// write to it (so applying the leave again would be refused).
func TestAppliedWritesAreNotBusy(t *testing.T) {
	st := newDocStore()
	priv := xbl.Private
	ch := joinChange(true)
	ch.Constants = &ConstantsChange{Visibility: &priv}
	put(t, st, host, Condition{}, ch, t0)
	put(t, st, srv, Condition{}, &Change{Members: map[string]*MemberChange{"reserve_1": {XUID: guest.XUID}}}, t0)
	s := svc(lostAnswerStore{st}, t0)
	ctx := context.Background()
	if res, err := s.Put(ctx, guest, ref, Condition{}, joinChange(true)); err != nil || res.Outcome != Updated {
		t.Fatalf("an applied join: %+v, %v; want Updated", res, err)
	}
	if res, err := s.Put(ctx, guest, ref, Condition{}, &Change{Members: map[string]*MemberChange{"me": nil}}); err != nil {
		t.Fatalf("an applied leave of a private session: %+v, %v; want no error", res, err)
	}
	if d, _ := st.Session(ctx, ref.SCID, ref.Template, ref.Name); d == nil || d.Member(guest.XUID) != nil {
		t.Fatalf("after the leave: %+v", d)
	}
	if res, err := s.Put(ctx, host, ref, Condition{}, &Change{Members: map[string]*MemberChange{"me": nil}}); err != nil || res.Outcome != Deleted {
		t.Fatalf("the last member's applied leave: %+v, %v; want Deleted", res, err)
	}
	// A create, applied with its answer lost, is a create (201).
	if res, err := s.Put(ctx, host, ref, Condition{}, joinChange(true)); err != nil || res.Outcome != Created {
		t.Fatalf("an applied create: %+v, %v; want Created", res, err)
	}
	// Settled as already so: a write that found the session as it asks
	// after another's create is an update.
	if res, err := s.Put(ctx, host, ref, Condition{}, joinChange(true)); err != nil || res.Outcome != Updated {
		t.Fatalf("a write already applied: %+v, %v; want Updated", res, err)
	}
}

// lostStore applies no commit, and answers as a storage failure of unknown
// outcome does.
type lostStore struct{ *docStore }

func (lostStore) SaveSession(context.Context, *Doc, *Doc) error {
	return derrors.New(derrors.Unavailable, "the session write's outcome is unknown")
}

// TestUnappliedWritesAreBusy: a write whose commit was not applied, its
// outcome unknown, is 503 (Unavailable): what is stored is not as it asked.
func TestUnappliedWritesAreBusy(t *testing.T) {
	st := newDocStore()
	put(t, st, host, Condition{}, joinChange(true), t0)
	_, err := svc(lostStore{st}, t0).Put(context.Background(), guest, ref, Condition{}, joinChange(true))
	if derrors.KindOf(err) != derrors.Unavailable {
		t.Fatalf("a join not applied: %v, want Unavailable", err)
	}
}

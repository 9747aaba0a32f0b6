package sessions

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// docStore is a Store in a map of encoded documents, as the stores keep
// them, with a hook that runs before each save.
type docStore struct {
	mu         sync.Mutex
	docs       map[string]*Doc // with Encoded
	beforeSave func()
	saves      int
}

func newDocStore() *docStore { return &docStore{docs: map[string]*Doc{}} }

func (s *docStore) Session(_ context.Context, scid, template, name string) (*Doc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.docs[scid+"/"+template+"/"+name]; d != nil {
		return Decode(d.Encoded, d.ETag)
	}
	return nil, nil
}

func (s *docStore) SaveSession(_ context.Context, prev, next *Doc) error {
	if s.beforeSave != nil {
		f := s.beforeSave
		s.beforeSave = nil
		f()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := next
	if d == nil {
		d = prev
	}
	k := d.SCID + "/" + d.Template + "/" + d.Name
	cur := s.docs[k]
	if prev == nil && cur != nil || prev != nil && (cur == nil || cur.ETag != prev.ETag) {
		return ErrChanged
	}
	s.saves++
	if next == nil {
		delete(s.docs, k)
	} else {
		if next.Encoded == nil {
			return fmt.Errorf("session %s saved without its encoding", k)
		}
		s.docs[k] = next
	}
	return nil
}

var (
	host  = &xbl.Caller{XUID: 100, Gamertag: "Host", TitleID: "1297287135", Sandbox: "RETAIL"}
	guest = &xbl.Caller{XUID: 200, Gamertag: "Guest", TitleID: "1297287135", Sandbox: "RETAIL"}
	third = &xbl.Caller{XUID: 300, Gamertag: "Third", TitleID: "1297287135", Sandbox: "RETAIL"}
	srv   = &xbl.Caller{TitleID: "1297287135", Sandbox: "RETAIL", Server: true}
	t0    = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ref   = Ref{SCIDRaw: scidA, SCID: scidA, Template: "lobby", Name: "game-1"}
)

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func joinChange(active bool) *Change {
	return &Change{Members: map[string]*MemberChange{"me": {Active: &active, ConstantsSystem: map[string]json.RawMessage{"initialize": raw("true")}}}}
}

func put(t *testing.T, st Store, c *xbl.Caller, cond Condition, ch *Change, now time.Time) *WriteResult {
	t.Helper()
	res, err := svc(st, now).Put(context.Background(), c, ref, cond, ch)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	return res
}

func TestCreateJoinReserveLeave(t *testing.T) {
	st := newDocStore()
	vis, max := xbl.OpenVis, 3
	create := joinChange(true)
	create.Constants = &ConstantsChange{Visibility: &vis, MaxMembers: &max, Custom: raw(`{}`)}
	create.Properties = &PropertiesChange{Keywords: &[]string{"Demo", "demo", "fun"}}
	res := put(t, st, host, Condition{IfNoneMatchAny: true}, create, t0)
	if res.Outcome != Created || len(res.Doc.Members) != 1 || !res.Doc.Members[0].Active || res.Doc.Members[0].Gamertag != "Host" {
		t.Fatalf("create: %+v", res)
	}
	if !slices.Equal(res.Doc.Keywords, []string{"demo", "fun"}) {
		t.Errorf("keywords %v: kept in their canonical form, duplicates in another case dropped", res.Doc.Keywords)
	}
	etag := res.Doc.ETag

	// Creating again is a failed condition with the current session.
	if res := put(t, st, guest, Condition{IfNoneMatchAny: true}, create, t0); res.Outcome != ConditionFailed || res.Doc.ETag != etag {
		t.Errorf("second create: %+v", res)
	}
	// The same constants on an update are fine; others conflict.
	max2 := 5
	_, err := svc(st, t0).Put(context.Background(), guest, ref, Condition{}, &Change{Constants: &ConstantsChange{MaxMembers: &max2}})
	if derrors.KindOf(err) != derrors.Conflict {
		t.Errorf("changing maxMembersCount: %v, want a conflict", err)
	}
	res = put(t, st, guest, Condition{IfMatch: []string{etag}}, joinChange(true), t0.Add(time.Second))
	if res.Outcome != Updated || len(res.Doc.Members) != 2 || res.Doc.ETag == etag || res.Doc.Members[1].Index != 1 {
		t.Fatalf("join: %+v", res)
	}
	// A stale ETag fails, with the winner's session.
	if res2 := put(t, st, third, Condition{IfMatch: []string{etag}}, joinChange(true), t0); res2.Outcome != ConditionFailed || res2.Doc.ETag != res.Doc.ETag {
		t.Errorf("stale If-Match: %+v", res2)
	}
	// The host reserves the last seat for 300; then the session is full.
	res = put(t, st, host, Condition{}, &Change{Members: map[string]*MemberChange{"reserve_0": {XUID: 300}}}, t0.Add(2*time.Second))
	if m := res.Doc.Member(300); m == nil || !m.Reserved || !m.ReservedUntil.Equal(t0.Add(32*time.Second)) {
		t.Fatalf("reserve: %+v", res.Doc.Members)
	}
	h := res.Doc.Head()
	if v, ok := h.View(ptr(xbl.XUID(300)), t0.Add(3*time.Second)); !ok || v.Status != xbl.Reserved || v.Visibility != xbl.Full || v.Accepted != 2 {
		t.Errorf("view of the reserved member: %+v %v", v, ok)
	}
	_, err = svc(st, t0.Add(3*time.Second)).Put(context.Background(), &xbl.Caller{XUID: 400, TitleID: "1297287135", Sandbox: "RETAIL"}, ref, Condition{}, joinChange(true))
	if derrors.KindOf(err) != derrors.Conflict {
		t.Errorf("a fourth player joining a full session: %v", err)
	}
	// The reservation expires: not a member, not counted, and removed by
	// the next write.
	if _, ok := h.View(ptr(xbl.XUID(300)), t0.Add(40*time.Second)); ok {
		t.Error("expired reservation still viewed")
	}
	res = put(t, st, &xbl.Caller{XUID: 400, TitleID: "1297287135", Sandbox: "RETAIL"}, Condition{}, joinChange(false), t0.Add(40*time.Second))
	if res.Doc.Member(300) != nil || res.Doc.Member(400) == nil || res.Doc.Member(400).Active {
		t.Errorf("after expiry: %+v", res.Doc.Members)
	}
	// Everyone leaves: the last leave deletes the session.
	for _, c := range []*xbl.Caller{host, guest} {
		if res := put(t, st, c, Condition{}, &Change{Members: map[string]*MemberChange{"me": nil}}, t0.Add(50*time.Second)); res.Outcome != Updated {
			t.Errorf("leave %d: %+v", c.XUID, res)
		}
	}
	res = put(t, st, &xbl.Caller{XUID: 400, TitleID: "1297287135", Sandbox: "RETAIL"}, Condition{}, &Change{Members: map[string]*MemberChange{"me": nil}}, t0.Add(50*time.Second))
	if res.Outcome != Deleted || len(st.docs) != 0 {
		t.Errorf("last leave: %+v, %d stored", res, len(st.docs))
	}
}

func TestApplyRules(t *testing.T) {
	priv := xbl.Private
	base := func() *Doc {
		d, err := applier(t0).Apply(nil, joinChange(true), host, ref)
		if err != nil {
			t.Fatal(err)
		}
		d.ETag = "e1"
		return d
	}
	tests := []struct {
		name   string
		prev   *Doc
		caller *xbl.Caller
		ch     *Change
		kind   derrors.Kind // 0: no error
		msg    string
	}{
		{"keywords on a private session", nil, host, &Change{Constants: &ConstantsChange{Visibility: &priv}, Properties: &PropertiesChange{Keywords: &[]string{"x"}}}, derrors.Invalid, "private session cannot have keywords"},
		{"join a private session without a reservation", func() *Doc { d := base(); d.Visibility = xbl.Private; return d }(), guest, joinChange(true), derrors.Forbidden, "the session is private"},
		{"join a visible session without a reservation", func() *Doc { d := base(); d.Visibility = xbl.Visible; return d }(), guest, joinChange(true), derrors.Forbidden, "needs a reservation"},
		{"join with someone else's xuid", base(), guest, &Change{Members: map[string]*MemberChange{"me": {XUID: 999}}}, derrors.Forbidden, "not the caller"},
		{"active and ready", base(), host, &Change{Members: map[string]*MemberChange{"me": {Active: ptr(true), Ready: ptr(true)}}}, derrors.Invalid, "active and ready"},
		{"reserve as a server", base(), srv, &Change{Members: map[string]*MemberChange{"reserve_0": {XUID: 5}}}, 0, ""},
		{"reserve without xuid", base(), host, &Change{Members: map[string]*MemberChange{"reserve_0": {}}}, derrors.Invalid, "reserve_0.constants.system.xuid is required"},
		{"turn of a non-member", base(), host, &Change{Properties: &PropertiesChange{Turn: &[]int{7}}}, derrors.Invalid, "turn[0]: 7 is not the index of a member"},
		{"constants.custom changes", func() *Doc { d := base(); d.ConstantsCustom = raw(`{"a":1}`); return d }(), host, &Change{Constants: &ConstantsChange{Custom: raw(`{"a":2}`)}}, derrors.Conflict, "constants.custom"},
		{"same constants again", func() *Doc { d := base(); d.ConstantsCustom = raw(`{"a":1}`); return d }(), host, &Change{Constants: &ConstantsChange{Custom: raw(`{ "a" : 1 }`)}}, 0, ""},
		{"a constant added after create", base(), host, &Change{Constants: &ConstantsChange{System: map[string]json.RawMessage{"capabilities": raw(`{}`)}}}, derrors.Conflict, "$.constants.system.capabilities"},
		{"constants.custom added after create", base(), host, &Change{Constants: &ConstantsChange{Custom: raw(`{}`)}}, derrors.Conflict, "$.constants.custom"},
		{"a member constant added after joining", base(), host, &Change{Members: map[string]*MemberChange{"me": {ConstantsCustom: raw(`1`)}}}, derrors.Conflict, "$.members.me.constants.custom"},
		{"a member's constants repeated", base(), host, &Change{Members: map[string]*MemberChange{"me": {ConstantsSystem: map[string]json.RawMessage{"initialize": raw(`true`)}}}}, 0, ""},
		{"a server joins with no xuid", base(), srv, joinChange(true), derrors.Invalid, "no xuid"},
		{"XSAPI's join after a PUT added the caller", func() *Doc {
			d, err := applier(t0).Apply(base(), &Change{Properties: &PropertiesChange{Custom: map[string]json.RawMessage{"a": raw(`1`)}}}, guest, ref)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}(), guest, joinChange(true), 0, ""},
		{"a member constant added after a join without constants", func() *Doc {
			d, err := applier(t0).Apply(base(), &Change{Members: map[string]*MemberChange{"me": {Active: ptr(true)}}}, guest, ref)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}(), guest, &Change{Members: map[string]*MemberChange{"me": {ConstantsCustom: raw(`{"team":1}`)}}}, derrors.Conflict, "$.members.me.constants.custom"},
		{"constants with < repeated after another write", func() *Doc {
			d := base()
			d.ConstantsCustom = raw(`{"map":"<Dust & Bones>"}`)
			d = d.Clone()
			d, err := applier(t0).Apply(d, &Change{Properties: &PropertiesChange{Custom: map[string]json.RawMessage{"a": raw(`1`)}}}, host, ref)
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := d.Encode(); !strings.Contains(string(b), "<Dust & Bones>") {
				t.Errorf("stored as %s", b)
			}
			return d
		}(), host, &Change{Constants: &ConstantsChange{Custom: raw(`{"map":"<Dust & Bones>"}`)}}, 0, ""},
		{"constants repeated in another order and spelling", func() *Doc {
			d := base()
			d.ConstantsCustom = raw(`{"a":1,"b":{"y":1.50,"x":2},"big":12345678901234567890}`)
			return d
		}(), host, &Change{Constants: &ConstantsChange{Custom: raw(`{"big":12345678901234567890,"b":{"x":2e0,"y":1.5},"a":1.0}`)}}, 0, ""},
		{"constants with a different big integer", func() *Doc {
			d := base()
			d.ConstantsCustom = raw(`{"big":12345678901234567890}`)
			return d
		}(), host, &Change{Constants: &ConstantsChange{Custom: raw(`{"big":12345678901234567891}`)}}, derrors.Conflict, "$.constants.custom"},
		{"constants stored with the client's escapes, repeated without", func() *Doc {
			d := base()
			d.ConstantsCustom = raw(`{"map":"\u00e9\u003c"}`)
			return d
		}(), host, &Change{Constants: &ConstantsChange{Custom: raw(`{"map":"é<"}`)}}, 0, ""},
		{"a member constant changed after that join", func() *Doc {
			d, err := applier(t0).Apply(base(), joinChange(true), guest, ref)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}(), guest, &Change{Members: map[string]*MemberChange{"me": {ConstantsSystem: map[string]json.RawMessage{"initialize": raw(`false`)}}}}, derrors.Conflict, "$.members.me.constants.system.initialize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := applier(t0).Apply(tt.prev, tt.ch, tt.caller, ref)
			if tt.kind == 0 {
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				return
			}
			if k, msg := derrors.Of(err); k != tt.kind || !strings.Contains(msg, tt.msg) {
				t.Errorf("Apply: %v, want %v containing %q", err, tt.kind, tt.msg)
			}
		})
	}
}

// TestPropertiesMerge: custom and unknown system properties are merged by
// key, a null deletes; a PUT by a non-member adds the caller (inactive).
func TestPropertiesMerge(t *testing.T) {
	d, err := applier(t0).Apply(nil, &Change{Properties: &PropertiesChange{Custom: map[string]json.RawMessage{"a": raw(`1`), "b": raw(`{"c":[1]}`)}, System: map[string]json.RawMessage{"host": raw(`"x"`)}}}, host, ref)
	if err != nil {
		t.Fatal(err)
	}
	if m := d.Member(100); m == nil || m.Active {
		t.Fatalf("creator not added as an inactive member: %+v", d.Members)
	}
	d, err = applier(t0).Apply(d, &Change{Properties: &PropertiesChange{Custom: map[string]json.RawMessage{"a": raw(`null`), "d": raw(`"e"`)}}}, host, ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.PropertiesCustom["a"]; ok || string(d.PropertiesCustom["b"]) != `{"c":[1]}` || string(d.PropertiesCustom["d"]) != `"e"` || string(d.PropertiesSystem["host"]) != `"x"` {
		t.Errorf("merged: custom %s, system %s", d.PropertiesCustom, d.PropertiesSystem)
	}
}

// TestPutRetriesWithoutCondition: a write without an ETag condition that
// loses a race applies itself again to the winner's session; one with an
// ETag gets ConditionFailed and the winner's session.
func TestPutRetriesWithoutCondition(t *testing.T) {
	st := newDocStore()
	put(t, st, host, Condition{}, joinChange(true), t0)
	st.beforeSave = func() { put(t, st, third, Condition{}, joinChange(true), t0) }
	res := put(t, st, guest, Condition{}, joinChange(true), t0)
	if res.Outcome != Updated || len(res.Doc.Members) != 3 {
		t.Fatalf("racing join: %+v", res.Doc.Members)
	}
	cur := res.Doc.ETag
	st.beforeSave = func() {
		put(t, st, host, Condition{}, &Change{Properties: &PropertiesChange{Keywords: &[]string{"x"}}}, t0)
	}
	res = put(t, st, guest, Condition{IfMatch: []string{cur}}, &Change{Properties: &PropertiesChange{Keywords: &[]string{"y"}}}, t0)
	if res.Outcome != ConditionFailed || !slices.Equal(res.Doc.Keywords, []string{"x"}) {
		t.Errorf("racing If-Match: %+v", res)
	}
	// Writing what is already there changes nothing: no write.
	saves := st.saves
	if res := put(t, st, guest, Condition{}, joinChange(true), t0); res.Outcome != Updated || st.saves != saves {
		t.Errorf("idempotent join wrote: %+v, %d saves", res, st.saves-saves)
	}
}

func TestAccessBeforeReading(t *testing.T) {
	st := newDocStore()
	other := &xbl.Caller{XUID: 1, TitleID: "999", Sandbox: "RETAIL"}
	wrongSandbox := &xbl.Caller{XUID: 1, TitleID: "1297287135", Sandbox: "NOPE"}
	for _, c := range []struct {
		caller *xbl.Caller
		ref    Ref
		kind   derrors.Kind
	}{
		{other, ref, derrors.Forbidden},
		{wrongSandbox, ref, derrors.Forbidden},
		{host, Ref{SCIDRaw: scidC, SCID: scidC, Template: "t", Name: "n"}, derrors.NotFound},
	} {
		_, err := svc(st, t0).Put(context.Background(), c.caller, c.ref, Condition{}, joinChange(true))
		if derrors.KindOf(err) != c.kind {
			t.Errorf("%+v: %v, want %v", c.caller, err, c.kind)
		}
		if _, err := svc(st, t0).Get(context.Background(), c.caller, c.ref); derrors.KindOf(err) != c.kind {
			t.Errorf("get %+v: %v, want %v", c.caller, err, c.kind)
		}
	}
	if len(st.docs) != 0 || st.saves != 0 {
		t.Error("a refused write wrote")
	}
	// A private session is read by its members and servers only.
	priv := xbl.Private
	ch := joinChange(true)
	ch.Constants = &ConstantsChange{Visibility: &priv}
	put(t, st, host, Condition{}, ch, t0)
	if _, err := svc(st, t0).Get(context.Background(), guest, ref); derrors.KindOf(err) != derrors.Forbidden {
		t.Errorf("a stranger reads a private session: %v", err)
	}
	for _, c := range []*xbl.Caller{host, srv} {
		if d, err := svc(st, t0).Get(context.Background(), c, ref); err != nil || d == nil {
			t.Errorf("%+v reads the private session: %v %v", c, d, err)
		}
	}
	if _, err := svc(st, t0).Put(context.Background(), guest, ref, Condition{}, &Change{Members: map[string]*MemberChange{"me": nil}}); derrors.KindOf(err) != derrors.Forbidden {
		t.Errorf("a stranger's leave of a private session: %v, want forbidden (not the session)", err)
	}
	// Not even whether an ETag is current: one 403 before the condition.
	cur := st.docs[scidA+"/lobby/game-1"].ETag // a right guess answers as a wrong one
	for _, cond := range []Condition{{IfMatch: []string{"nope"}}, {IfMatch: []string{cur}}, {IfNoneMatchAny: true}, {}} {
		if res, err := svc(st, t0).Put(context.Background(), guest, ref, cond, joinChange(true)); derrors.KindOf(err) != derrors.Forbidden {
			t.Errorf("a stranger's write under %+v to a private session: %+v, %v; want forbidden", cond, res, err)
		}
	}
}

// TestErrChangedIsNotSwallowed: a session that changes on every try is
// tried again until the deadline (no cap on attempts), then answered
// Unavailable (503 with Retry-After), retryMargin before the deadline.
func TestErrChangedIsNotSwallowed(t *testing.T) {
	st := &failingStore{}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := svc(st, t0).Put(ctx, host, ref, Condition{}, joinChange(true))
	if derrors.KindOf(err) != derrors.Unavailable || st.tries < 5 || time.Since(start) > 1200*time.Millisecond {
		t.Errorf("a session that changes on every try: %v after %d tries and %v", err, st.tries, time.Since(start))
	}
}

// TestBackoffGrows: the waits after lost races are decorrelated jitter,
// between retryWait and maxRetryWait, and grow with the races lost.
func TestBackoffGrows(t *testing.T) {
	// Waits drawn one after another are correlated: the average is taken
	// over many, so that a run of short draws does not fail the test.
	const burnIn, n = 100, 20_000
	var w, sum time.Duration
	for i := range burnIn + n {
		w = backoff(w)
		if w < retryWait || w > maxRetryWait {
			t.Fatalf("wait %v out of [%v, %v]", w, retryWait, maxRetryWait)
		}
		if i >= burnIn {
			sum += w
		}
	}
	if avg := sum / n; avg < maxRetryWait/5 {
		t.Errorf("after %d lost races the waits average %v", burnIn, avg)
	}
}

type failingStore struct{ tries int }

func (f *failingStore) Session(context.Context, string, string, string) (*Doc, error) {
	return nil, nil
}
func (f *failingStore) SaveSession(context.Context, *Doc, *Doc) error {
	f.tries++
	return ErrChanged
}

func newConfigs() xbl.ConfigReader { return newFakeReader() }

// svc is the service over st whose clock stands at now.
func svc(st Store, now time.Time) *Service {
	return &Service{Configs: newConfigs(), Store: st, Now: func() time.Time { return now }}
}

// applier is the service whose clock stands at now, for Apply.
func applier(now time.Time) *Service { return svc(nil, now) }

func ptr[T any](v T) *T { return &v }

// TestOnlyExpiredReservationsLeft: when the last member leaves a session
// that still holds a reservation, the session stays (200) until the
// reservation expires; from then on it reads as gone, and the next write
// deletes it.
func TestOnlyExpiredReservationsLeft(t *testing.T) {
	st := newDocStore()
	ch := joinChange(true)
	ch.Members["reserve_0"] = &MemberChange{XUID: 300}
	put(t, st, host, Condition{}, ch, t0)
	if res := put(t, st, host, Condition{}, &Change{Members: map[string]*MemberChange{"me": nil}}, t0); res.Outcome != Updated || len(res.Doc.Members) != 1 {
		t.Fatalf("leave with a reservation left: %+v", res)
	}
	if d, err := svc(st, t0.Add(31*time.Second)).Get(context.Background(), srv, ref); d != nil || err != nil {
		t.Errorf("after the reservation expired: %+v %v, want no session", d, err)
	}
	if res := put(t, st, srv, Condition{}, &Change{Properties: &PropertiesChange{Turn: &[]int{}}}, t0.Add(31*time.Second)); res.Outcome != Deleted || len(st.docs) != 0 {
		t.Errorf("the next write: %+v, %d stored", res, len(st.docs))
	}
}

// TestContendedWritesRetry: a commit cancelled by another transaction in
// flight is read and tried again, whatever the condition.
func TestContendedWritesRetry(t *testing.T) {
	st := newDocStore()
	etag := put(t, st, host, Condition{}, joinChange(true), t0).Doc.ETag
	c := &contendedStore{docStore: st, left: 2}
	res, err := svc(c, t0).Put(context.Background(), guest, ref, Condition{IfMatch: []string{etag}}, joinChange(true))
	if err != nil || res.Outcome != Updated || c.left != 0 {
		t.Errorf("after two contended commits: %+v %v (%d left)", res, err, c.left)
	}
}

type contendedStore struct {
	*docStore
	left int
}

func (c *contendedStore) SaveSession(ctx context.Context, prev, next *Doc) error {
	if c.left > 0 {
		c.left--
		return ErrContended
	}
	return c.docStore.SaveSession(ctx, prev, next)
}

// TestAGoneSessionIsGoneForWrites: a stored session of expired
// reservations only is created anew by a create-only write (a new start
// time and correlation id), and is no keyword query row.
func TestAGoneSessionIsGoneForWrites(t *testing.T) {
	st := newDocStore()
	ch := joinChange(true)
	ch.Members["reserve_0"] = &MemberChange{XUID: 300}
	ch.Properties = &PropertiesChange{Keywords: &[]string{"k"}}
	first := put(t, st, host, Condition{}, ch, t0).Doc
	put(t, st, host, Condition{}, &Change{Members: map[string]*MemberChange{"me": nil}}, t0)
	later := t0.Add(time.Minute)
	stored, _ := st.Session(context.Background(), scidA, "lobby", "game-1")
	if _, ok := stored.Head().View(nil, later); ok {
		t.Error("a session of expired reservations is a keyword row")
	}
	res := put(t, st, guest, Condition{IfNoneMatchAny: true}, joinChange(true), later)
	if res.Outcome != Created || res.Doc.StartTime.Equal(first.StartTime) || res.Doc.CorrelationID == first.CorrelationID || len(res.Doc.Members) != 1 {
		t.Errorf("create over a gone session: %+v", res)
	}
}

// TestTurnFollowsMembers: a member who leaves leaves the turn.
func TestTurnFollowsMembers(t *testing.T) {
	st := newDocStore()
	put(t, st, host, Condition{}, joinChange(true), t0)
	put(t, st, guest, Condition{}, joinChange(true), t0)
	put(t, st, host, Condition{}, &Change{Properties: &PropertiesChange{Turn: &[]int{1, 0}}}, t0)
	res := put(t, st, guest, Condition{}, &Change{Members: map[string]*MemberChange{"me": nil}}, t0)
	if !slices.Equal(res.Doc.Turn, []int{0}) {
		t.Errorf("turn after member 1 left: %v", res.Doc.Turn)
	}
}

// TestDocumentSizeLimit: a write that would make the document larger than
// MaxDocBytes is refused, whatever its parts' own limits allow.
func TestDocumentSizeLimit(t *testing.T) {
	big := json.RawMessage(`"` + strings.Repeat("x", MaxOpaqueBytes-2) + `"`)
	ch := &Change{Members: map[string]*MemberChange{"me": {ConstantsCustom: big}}}
	for i := range 20 {
		ch.Members[fmt.Sprint("reserve_", i)] = &MemberChange{XUID: xbl.XUID(1000 + i), ConstantsCustom: big}
	}
	_, err := applier(t0).Apply(nil, ch, host, ref)
	if k, msg := derrors.Of(err); k != derrors.Invalid || !strings.Contains(msg, "the limit is") {
		t.Errorf("a %d-member document of 16 KiB constants each: %v", len(ch.Members), err)
	}
}

// TestEncodeFailureIsInternal: a document the service cannot encode (a
// kept value that is not JSON, which no parsed body holds) is the
// service's fault, not the caller's.
func TestEncodeFailureIsInternal(t *testing.T) {
	ch := &Change{Properties: &PropertiesChange{Custom: map[string]json.RawMessage{"a": raw(`{`)}}}
	if _, err := applier(t0).Apply(nil, ch, host, ref); derrors.KindOf(err) != derrors.Internal {
		t.Errorf("an unencodable document: %v, want an Internal error", err)
	}
}

// TestAnswersAsSeen: every document the service answers is as it stood
// at the instant the service used: expired reservations left out, and
// NextTimer the next reservation to expire.
func TestAnswersAsSeen(t *testing.T) {
	st := newDocStore()
	ch := joinChange(true)
	ch.Members["reserve_0"] = &MemberChange{XUID: 300}
	res := put(t, st, host, Condition{}, ch, t0)
	if len(res.Doc.Members) != 2 || !res.Doc.NextTimer().Equal(t0.Add(30*time.Second)) {
		t.Fatalf("after the reservation: %d members, next timer %v", len(res.Doc.Members), res.Doc.NextTimer())
	}
	later := t0.Add(31 * time.Second)
	d, err := svc(st, later).Get(context.Background(), host, ref)
	if err != nil || len(d.Members) != 1 || !d.NextTimer().IsZero() {
		t.Fatalf("read after it expired: %+v %v", d, err)
	}
	res = put(t, st, host, Condition{IfNoneMatchAny: true}, joinChange(true), later)
	if res.Outcome != ConditionFailed || len(res.Doc.Members) != 1 || !res.Doc.NextTimer().IsZero() {
		t.Errorf("a failed create after it expired: %+v", res)
	}
}

// TestRetriesStopBeforeTheDeadline: a write that keeps losing stops trying
// while its deadline still leaves time to answer (503, not 408).
func TestRetriesStopBeforeTheDeadline(t *testing.T) {
	st := &failingStore{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := svc(st, t0).Put(ctx, host, ref, Condition{}, joinChange(true))
	if derrors.KindOf(err) != derrors.Unavailable || time.Since(start) > 600*time.Millisecond {
		t.Errorf("%v after %v and %d tries, want Unavailable with time to spare", err, time.Since(start), st.tries)
	}
}

// TestRepeatedConstantsKeepTheETag: constants repeated in another spelling
// are the same constants: the write changes nothing, keeps the stored
// spelling and the ETag.
func TestRepeatedConstantsKeepTheETag(t *testing.T) {
	st := newDocStore()
	ch := joinChange(true)
	ch.Constants = &ConstantsChange{Custom: raw(`{"map":"<Dust & Bones>","n":1.50}`), System: map[string]json.RawMessage{"capabilities": raw(`{"a":1,"b":true}`)}}
	ch.Members["me"].ConstantsCustom = raw(`{"team":1.0}`)
	first := put(t, st, host, Condition{}, ch, t0)
	ch.Constants = &ConstantsChange{Custom: raw(`{"n":1.5,"map":"\u003cDust \u0026 Bones>"}`), System: map[string]json.RawMessage{"capabilities": raw(`{"b":true,"a":1e0}`)}}
	ch.Members["me"].ConstantsCustom = raw(`{"team":1}`)
	again := put(t, st, host, Condition{}, ch, t0.Add(time.Second))
	if again.Doc.ETag != first.Doc.ETag || string(again.Doc.ConstantsCustom) != `{"map":"<Dust & Bones>","n":1.50}` ||
		string(again.Doc.ConstantsSystem["capabilities"]) != `{"a":1,"b":true}` || string(again.Doc.Members[0].ConstantsCustom) != `{"team":1.0}` {
		t.Errorf("ETag %s then %s; constants %s %s, member's %s", first.Doc.ETag, again.Doc.ETag, again.Doc.ConstantsCustom, again.Doc.ConstantsSystem, again.Doc.Members[0].ConstantsCustom)
	}
}

// slowStore's commits run until their context ends, as a commit to a
// contended session can.
type slowStore struct{ *docStore }

func (s slowStore) SaveSession(ctx context.Context, prev, next *Doc) error {
	<-ctx.Done()
	return fmt.Errorf("commit: %w", ctx.Err())
}

// TestASlowCommitIsBusyNotATimeout: a commit that runs into the deadline
// ends retryMargin before it, and the write answers Unavailable (503 with
// Retry-After), in time.
func TestASlowCommitIsBusyNotATimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := svc(slowStore{newDocStore()}, t0).Put(ctx, host, ref, Condition{}, joinChange(true))
	if derrors.KindOf(err) != derrors.Unavailable || time.Since(start) > 600*time.Millisecond {
		t.Errorf("%v after %v, want Unavailable with time to spare", err, time.Since(start))
	}
}

// BenchmarkPut is one member's write to a lobby of four with two keywords
// and custom properties (it flips its ready state, so each write stores a
// new version), on a store in memory: the rules' own cost, encoding
// included.
func BenchmarkPut(b *testing.B) {
	st := newDocStore()
	s := svc(st, t0)
	ctx := context.Background()
	kws := []string{"ranked", "eu"}
	setup := joinChange(true)
	setup.Properties = &PropertiesChange{Keywords: &kws, Custom: map[string]json.RawMessage{"map": raw(`"harbor"`), "mode": raw(`{"teams":2,"ffa":false}`)}}
	if _, err := s.Put(ctx, host, ref, Condition{}, setup); err != nil {
		b.Fatal(err)
	}
	for _, c := range []*xbl.Caller{guest, third, {XUID: 400, Gamertag: "Fourth", TitleID: "1297287135", Sandbox: "RETAIL"}} {
		if _, err := s.Put(ctx, c, ref, Condition{}, joinChange(true)); err != nil {
			b.Fatal(err)
		}
	}
	flip := []*Change{
		{Members: map[string]*MemberChange{"me": {Ready: ptr(true)}}},
		{Members: map[string]*MemberChange{"me": {Active: ptr(true)}}},
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if res, err := s.Put(ctx, guest, ref, Condition{}, flip[i%2]); err != nil || res.Outcome != Updated {
			b.Fatal(res, err)
		}
		i++
	}
}

// TestOneEncodingPerWrite: the bytes a write stores are the ones Apply
// encoded and measured (the very slice, not a second encoding), and they
// decode back to the session written.
func TestOneEncodingPerWrite(t *testing.T) {
	st := newDocStore()
	res := put(t, st, host, Condition{}, joinChange(true), t0)
	stored := st.docs[ref.SCID+"/"+ref.Template+"/"+ref.Name]
	if len(res.Doc.Encoded) == 0 || &stored.Encoded[0] != &res.Doc.Encoded[0] {
		t.Fatal("the stored document is not the write's encoding")
	}
	back, err := Decode(stored.Encoded, stored.ETag)
	if err != nil {
		t.Fatal(err)
	}
	again, err := back.Encode()
	if err != nil || string(again) != string(res.Doc.Encoded) {
		t.Errorf("decoded and encoded again:\n%s\nwant\n%s", again, res.Doc.Encoded)
	}
}

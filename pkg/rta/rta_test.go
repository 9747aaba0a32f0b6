package rta

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/xbl"
)

// TestParseFrame: the two frames a client sends, and every other shape
// refused with a reason.
func TestParseFrame(t *testing.T) {
	tests := []struct {
		in   string
		want *Frame
		err  string
	}{
		{`[1,1,"https://sessiondirectory.xboxlive.com/connections/"]`, &Frame{Type: 1, Seq: 1, URI: ConnectionsResource}, ""},
		{` [ 2 , 7 , 3 ] `, &Frame{Type: 2, Seq: 7, SubID: 3}, ""},
		{`[1,1,"x"]`, &Frame{Type: 1, Seq: 1, URI: "x"}, ""},
		{``, nil, "must be a JSON array"},
		{`{}`, nil, "must be a JSON array"},
		{`[1,1]`, nil, "3 elements; this one has 2"},
		{`[1,1,"a","b"]`, nil, "this one has more"},
		{`[1,1,"a"] [1]`, nil, "data after the message"},
		{`[3,1,1]`, nil, "message type 3 is not one a client sends"},
		{`[1,-1,"a"]`, nil, "sequence number"},
		{`[1,1.5,"a"]`, nil, "sequence number"},
		{`["1",1,"a"]`, nil, "message type"},
		{`[1,1,1]`, nil, "must be a string"},
		{`[2,1,"3"]`, nil, "subscription id"},
		{"[1,1,\"\xff\"]", nil, "valid JSON (UTF-8)"},
		{`[1,1,"` + strings.Repeat("a", MaxURIBytes+1) + `"]`, nil, "resource of"},
		{`[1,1,"` + strings.Repeat("a", MaxFrameBytes) + `"]`, nil, "the limit is 4096"},
		{`[1,99999999999999999999,"a"]`, nil, "sequence number"},
	}
	for _, tt := range tests {
		f, err := ParseFrame([]byte(tt.in))
		var fe *FrameError
		switch {
		case tt.err == "" && (err != nil || *f != *tt.want):
			t.Errorf("%.60q: %+v %v, want %+v", tt.in, f, err, tt.want)
		case tt.err != "" && (!errors.As(err, &fe) || !strings.Contains(fe.Reason, tt.err)):
			t.Errorf("%.60q: %v, want a FrameError with %q", tt.in, err, tt.err)
		}
	}
}

// FuzzParseFrame: any frame is read or refused with a FrameError, never
// anything else, and a frame read is one of the two a client sends.
func FuzzParseFrame(f *testing.F) {
	for _, s := range []string{`[1,1,"https://sessiondirectory.xboxlive.com/connections/"]`, `[2,7,3]`, `[1,1]`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ParseFrame(b)
		var fe *FrameError
		switch {
		case err != nil && !errors.As(err, &fe):
			t.Fatalf("not a FrameError: %v", err)
		case err == nil && fr.Type != Subscribe && fr.Type != Unsubscribe:
			t.Fatalf("type %d", fr.Type)
		case err == nil && (fr.Seq < 0 || fr.SubID < 0):
			t.Fatalf("negative: %+v", fr)
		}
	})
}

// memStore and poster are the test's store and the sockets it posts to.
type memStore struct {
	mu    sync.Mutex
	conns map[string]Connection
}

func (m *memStore) PutConnection(_ context.Context, c *Connection, prev int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conns[c.ID].Version != prev {
		return ErrChanged
	}
	cc := *c
	cc.Subs = map[int64]string{}
	for k, v := range c.Subs {
		cc.Subs[k] = v
	}
	m.conns[c.ID] = cc
	return nil
}

func (m *memStore) Connections(_ context.Context, ids []string) (map[string]*Connection, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]*Connection{}
	for _, id := range ids {
		if c, ok := m.conns[id]; ok {
			cc := c
			cc.Subs = map[int64]string{}
			for k, v := range c.Subs {
				cc.Subs[k] = v
			}
			out[id] = &cc
		}
	}
	return out, nil
}

func (m *memStore) DeleteConnection(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.conns, id)
	return nil
}

func (m *memStore) AddSession(_ context.Context, id, resource string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.conns[id]
	if !ok {
		return nil
	}
	c.Sessions = append(c.Sessions, resource)
	c.Version++
	m.conns[id] = c
	return nil
}

// presence records the Disconnected calls.
type presence struct{ got []string }

func (p *presence) Disconnected(_ context.Context, ref sessions.Ref, x xbl.XUID, conn string) error {
	p.got = append(p.got, ref.SCID+"~"+ref.Template+"~"+ref.Name+" "+x.String()+" "+conn)
	return nil
}

type poster struct {
	mu   sync.Mutex
	got  map[string][]string
	gone map[string]bool
}

func (p *poster) Post(_ context.Context, id string, msg []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gone[id] {
		return ErrGone
	}
	p.got[id] = append(p.got[id], string(msg))
	return nil
}

var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

func newService() (*Service, *memStore, *poster, *time.Time) {
	st := &memStore{conns: map[string]Connection{}}
	p := &poster{got: map[string][]string{}, gone: map[string]bool{}}
	now := t0
	return &Service{Store: st, Poster: p, Now: func() time.Time { return now }, NewID: func() string { return "ncid-1" }}, st, p, &now
}

// TestSubscriptions: a player connects (a server cannot), subscribes to
// the multiplayer resource and gets its connection id (the same
// subscription again when it asks twice), an unknown resource is code 1,
// unsubscribing an unknown subscription is code 1, and a connection past
// its two hours is gone.
func TestSubscriptions(t *testing.T) {
	s, _, _, now := newService()
	ctx := context.Background()
	if err := s.Connect(ctx, &xbl.Caller{Server: true, TitleID: "1"}, "c0"); derrors.KindOf(err) != derrors.Forbidden {
		t.Errorf("a server's connection: %v", err)
	}
	if err := s.Connect(ctx, &xbl.Caller{XUID: 1, TitleID: "1"}, "c1"); err != nil {
		t.Fatal(err)
	}
	steps := []struct{ in, want string }{
		{`[1,1,"https://sessiondirectory.xboxlive.com/connections/"]`, `[1,1,0,1,{"ConnectionId":"c1"}]`},
		{`[1,2,"https://sessiondirectory.xboxlive.com/connections/"]`, `[1,2,0,1,{"ConnectionId":"c1"}]`},
		{`[1,3,"https://presence.xboxlive.com/users/xuid(1)/devices"]`, `[1,3,1,0,null]`},
		{`[2,4,9]`, `[2,4,1]`},
		{`[2,5,1]`, `[2,5,0]`},
		{`[1,6,"https://sessiondirectory.xboxlive.com/connections/"]`, `[1,6,0,2,{"ConnectionId":"c1"}]`},
	}
	for _, st := range steps {
		got, err := s.Receive(ctx, "c1", []byte(st.in))
		if err != nil || string(got) != st.want {
			t.Errorf("%s: %s %v, want %s", st.in, got, err, st.want)
		}
	}
	if _, err := s.Receive(ctx, "c1", []byte(`[9]`)); err == nil {
		t.Error("a malformed frame was answered")
	}
	*now = now.Add(MaxLife)
	if _, err := s.Receive(ctx, "c1", []byte(steps[0].in)); derrors.KindOf(err) != derrors.NotFound {
		t.Errorf("a connection two hours old: %v", err)
	}
}

// member is a member of a session with a connection and a subscription
// of changeTypes ("" for no connection).
func member(x xbl.XUID, index int, conn string, changeTypes ...string) sessions.Member {
	m := sessions.Member{XUID: x, Index: index, Active: true}
	if conn != "" {
		types, _ := json.Marshal(changeTypes)
		m.PropertiesSystem = map[string]json.RawMessage{
			"connection":   json.RawMessage(`"` + conn + `"`),
			"subscription": json.RawMessage(`{"id":"s","changeTypes":` + string(types) + `}`),
		}
	}
	return m
}

// TestTap: a change taps, with the session's resource and new change
// number, each member whose connection is that player's own live
// connection subscribed to the multiplayer resource and whose changeTypes
// match; nobody else; a gone connection is passed over and kept (its
// $disconnect makes its player inactive).
func TestTap(t *testing.T) {
	s, st, p, _ := newService()
	ctx := context.Background()
	for i, x := range []xbl.XUID{1, 2, 3, 4, 5, 6} {
		id := "c" + x.String()
		if err := s.Connect(ctx, &xbl.Caller{XUID: x, TitleID: "1"}, id); err != nil {
			t.Fatal(err)
		}
		if i != 4 { // 5 never subscribes
			s.Receive(ctx, id, []byte(`[1,1,"`+ConnectionsResource+`"]`))
		}
	}
	p.gone["c6"] = true
	before := &sessions.Doc{SCID: "scid", Template: "lobby", Name: "n", CorrelationID: "branch-1", ChangeNumber: 4,
		Members: []sessions.Member{member(1, 0, "c1", "everything"), member(2, 1, "c2", "host")}}
	after := &sessions.Doc{SCID: "scid", Template: "lobby", Name: "n", CorrelationID: "branch-1", ChangeNumber: 5,
		Members: []sessions.Member{
			member(1, 0, "c1", "everything"),
			member(2, 1, "c2", "host"),        // does not want a join
			member(3, 2, "c4", "everything"),  // names another player's connection
			member(4, 3, "", "everything"),    // no connection
			member(5, 4, "c5", "membersList"), // not subscribed to the multiplayer resource
			member(6, 5, "c6", "membersList"), // gone
			member(7, 6, "c99", "everything"), // no such connection
		}}
	sent, err := s.Tap(ctx, before, after)
	if err != nil || sent != 1 {
		t.Fatalf("sent %d, %v; want 1", sent, err)
	}
	want := `[3,1,{"ncid":"ncid-1","shoulderTaps":[{"resource":"scid~lobby~n","changeNumber":5,"branch":"branch-1"}]}]`
	if got := p.got["c1"]; len(got) != 1 || got[0] != want {
		t.Errorf("c1 heard %q, want %s", got, want)
	}
	for id, got := range p.got {
		if id != "c1" {
			t.Errorf("%s heard %q", id, got)
		}
	}
	if _, ok := st.conns["c6"]; !ok {
		t.Error("the gone connection was deleted: its $disconnect would not know its sessions")
	}
	// A host change taps those who asked for host changes too.
	after2 := *after
	after2.ChangeNumber = 6
	after2.PropertiesSystem = map[string]json.RawMessage{"host": json.RawMessage(`"tok"`)}
	if sent, _ := s.Tap(ctx, after, &after2); sent != 2 || len(p.got["c2"]) != 1 {
		t.Errorf("a host change: %d taps, c2 heard %q", sent, p.got["c2"])
	}
	// A write that changes nothing a kind names taps nobody.
	if sent, _ := s.Tap(ctx, &after2, &after2); sent != 0 {
		t.Errorf("no change: %d taps", sent)
	}
}

// TestKinds maps each change to its kinds.
func TestKinds(t *testing.T) {
	base := func() *sessions.Doc {
		return &sessions.Doc{CorrelationID: "c", Visibility: xbl.OpenVis, MaxMembers: 4,
			Members: []sessions.Member{{XUID: 1, Active: true}}}
	}
	tests := []struct {
		name   string
		change func(d *sessions.Doc)
		want   string
	}{
		{"nothing", func(d *sessions.Doc) {}, ""},
		{"a join", func(d *sessions.Doc) { d.Members = append(d.Members, sessions.Member{XUID: 2, Active: true}) }, "membersList,membersStatus,membersCustomProperty"},
		{"inactive", func(d *sessions.Doc) { d.Members[0].Active = false }, "membersStatus"},
		{"host", func(d *sessions.Doc) { d.PropertiesSystem = map[string]json.RawMessage{"host": json.RawMessage(`"x"`)} }, "host"},
		{"closed", func(d *sessions.Doc) {
			d.PropertiesSystem = map[string]json.RawMessage{"closed": json.RawMessage(`true`)}
		}, "joinability"},
		{"join restriction", func(d *sessions.Doc) { d.JoinRestriction = "followed" }, "joinability"},
		{"custom", func(d *sessions.Doc) { d.PropertiesCustom = map[string]json.RawMessage{"a": json.RawMessage(`1`)} }, "customProperty"},
		{"member custom", func(d *sessions.Doc) {
			d.Members[0].PropertiesCustom = map[string]json.RawMessage{"a": json.RawMessage(`1`)}
		}, "membersCustomProperty"},
		{"matchmaking", func(d *sessions.Doc) {
			d.PropertiesSystem = map[string]json.RawMessage{"matchmaking": json.RawMessage(`{}`)}
		}, "matchmakingStatus"},
	}
	for _, tt := range tests {
		after := base()
		tt.change(after)
		if got := strings.Join(Kinds(base(), after), ","); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := Kinds(nil, base()); !strings.Contains(strings.Join(got, ","), Initialization) {
		t.Errorf("a create: %v", got)
	}
}

// TestPresence: a connection a member names since a change learns of that
// session (once), and closing it tells Presence of each such session for
// its own player; a connection another player names learns nothing.
func TestPresence(t *testing.T) {
	s, st, _, _ := newService()
	ctx := context.Background()
	pr := &presence{}
	s.Presence = pr
	for _, x := range []xbl.XUID{1, 2} {
		s.Connect(ctx, &xbl.Caller{XUID: x, TitleID: "1"}, "c"+x.String())
	}
	doc := func(n int64, members ...sessions.Member) *sessions.Doc {
		return &sessions.Doc{SCID: "scid", Template: "lobby", Name: "n", CorrelationID: "b", ChangeNumber: n, Members: members}
	}
	one := doc(1, member(1, 0, "c1", "everything"))
	s.Tap(ctx, nil, one)
	two := doc(2, member(1, 0, "c1", "everything"), member(3, 1, "c2", "everything")) // 3 names 2's connection
	s.Tap(ctx, one, two)
	if got := st.conns["c1"].Sessions; len(got) != 1 || got[0] != "scid/lobby/n" {
		t.Errorf("c1's sessions: %v", got)
	}
	// A reconnect that changes nothing else: the new connection learns of
	// the session all the same.
	s.Connect(ctx, &xbl.Caller{XUID: 1, TitleID: "1"}, "c1b")
	three := doc(2, member(1, 0, "c1b", "everything"), member(3, 1, "c2", "everything"))
	s.Tap(ctx, two, three)
	if got := st.conns["c1b"].Sessions; len(got) != 1 {
		t.Errorf("the reconnected connection's sessions: %v", got)
	}
	if got := st.conns["c2"].Sessions; len(got) != 0 {
		t.Errorf("c2 learned of a session another player's member names: %v", got)
	}
	if err := s.Disconnect(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if len(pr.got) != 1 || pr.got[0] != "scid~lobby~n 1 c1" {
		t.Errorf("presence told %v", pr.got)
	}
	// A name with '~' in it is no trouble ('/' is in no name).
	s.Connect(ctx, &xbl.Caller{XUID: 4, TitleID: "1"}, "c4")
	odd := &sessions.Doc{SCID: "scid", Template: "lob~by", Name: "a~b", CorrelationID: "b", ChangeNumber: 1, Members: []sessions.Member{member(4, 0, "c4", "everything")}}
	s.Tap(ctx, nil, odd)
	pr.got = nil
	s.Disconnect(ctx, "c4")
	if len(pr.got) != 1 || pr.got[0] != "scid~lob~by~a~b 4 c4" {
		t.Errorf("presence of a session named with '~': %v", pr.got)
	}
	if _, ok := st.conns["c1"]; ok {
		t.Error("the closed connection is kept")
	}
}

// limiter refuses every count after the first n.
type limiter struct{ n int }

func (l *limiter) Check(_ context.Context, service string, c *xbl.Caller) error {
	if service != LimitService || c.XUID == 0 {
		return errors.New("counted as another service or caller")
	}
	if l.n == 0 {
		return derrors.New(derrors.Throttled, "too many")
	}
	l.n--
	return nil
}

// TestMessagesLimited: a player over its message limit is answered code
// 1001 (throttled, which XSAPI retries), its subscriptions unchanged.
func TestMessagesLimited(t *testing.T) {
	s, st, _, _ := newService()
	s.Limiter = &limiter{n: 1}
	ctx := context.Background()
	s.Connect(ctx, &xbl.Caller{XUID: 1, TitleID: "1"}, "c1")
	if got, _ := s.Receive(ctx, "c1", []byte(`[1,1,"`+ConnectionsResource+`"]`)); string(got) != `[1,1,0,1,{"ConnectionId":"c1"}]` {
		t.Errorf("within the limit: %s", got)
	}
	if got, _ := s.Receive(ctx, "c1", []byte(`[2,2,1]`)); string(got) != `[2,2,1001]` {
		t.Errorf("over the limit: %s", got)
	}
	if len(st.conns["c1"].Subs) != 1 {
		t.Errorf("a refused message changed the subscriptions: %v", st.conns["c1"].Subs)
	}
}

// TestCopiedConnection: a member that names another player's connection
// (the id is readable in the session) neither hears through it nor stops
// its owner hearing, whatever the order of the members.
func TestCopiedConnection(t *testing.T) {
	s, _, p, _ := newService()
	ctx := context.Background()
	s.Connect(ctx, &xbl.Caller{XUID: 1, TitleID: "1"}, "c1")
	s.Receive(ctx, "c1", []byte(`[1,1,"`+ConnectionsResource+`"]`))
	for _, order := range [][]sessions.Member{
		{member(1, 0, "c1", "host"), member(9, 1, "c1", "everything")},
		{member(9, 1, "c1", "everything"), member(1, 0, "c1", "host")},
	} {
		p.got = map[string][]string{}
		before := &sessions.Doc{SCID: "s", Template: "t", Name: "n", CorrelationID: "b", ChangeNumber: 1, Members: order}
		after := *before
		after.ChangeNumber = 2
		after.PropertiesSystem = map[string]json.RawMessage{"host": json.RawMessage(`"x"`)}
		if n, err := s.Tap(ctx, before, &after); err != nil || n != 1 || len(p.got["c1"]) != 1 {
			t.Errorf("a host change: %d taps, %v; c1 heard %v", n, err, p.got["c1"])
		}
		// A change the owner did not ask for (member 9's everything) is
		// not heard.
		after2 := after
		after2.ChangeNumber = 3
		after2.PropertiesCustom = map[string]json.RawMessage{"k": json.RawMessage(`1`)}
		if n, _ := s.Tap(ctx, &after, &after2); n != 0 {
			t.Errorf("a custom property change the owner did not ask for: %d taps", n)
		}
	}
}

// failingStore fails its reads, or its writes, with a storage error.
type failingStore struct {
	*memStore
	reads, writes bool
}

func (f *failingStore) Connections(ctx context.Context, ids []string) (map[string]*Connection, error) {
	if f.reads {
		return nil, derrors.New(derrors.Unavailable, "storage down")
	}
	return f.memStore.Connections(ctx, ids)
}

func (f *failingStore) PutConnection(ctx context.Context, c *Connection, prev int64) error {
	if f.writes {
		return derrors.New(derrors.Unavailable, "storage down")
	}
	return f.memStore.PutConnection(ctx, c, prev)
}

// TestStorageFailureAnswers1002: when the connection's read or write
// fails, the frame is answered "unavailable" (1002, which XSAPI retries)
// with the error, subscribe and unsubscribe alike.
func TestStorageFailureAnswers1002(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name          string
		reads, writes bool
		frame, want   string
	}{
		{"subscribe, the read fails", true, false, `[1,1,"` + ConnectionsResource + `"]`, `[1,1,1002,0,null]`},
		{"subscribe, the write fails", false, true, `[1,2,"` + ConnectionsResource + `"]`, `[1,2,1002,0,null]`},
		{"unsubscribe, the read fails", true, false, `[2,3,1]`, `[2,3,1002]`},
	} {
		s, st, _, _ := newService()
		if err := s.Connect(ctx, &xbl.Caller{XUID: 1, TitleID: "1"}, "c1"); err != nil {
			t.Fatal(err)
		}
		s.Store = &failingStore{memStore: st, reads: tt.reads, writes: tt.writes}
		answer, err := s.Receive(ctx, "c1", []byte(tt.frame))
		if derrors.KindOf(err) != derrors.Unavailable || string(answer) != tt.want {
			t.Errorf("%s: %s, %v; want %s with the storage error", tt.name, answer, err, tt.want)
		}
	}
}

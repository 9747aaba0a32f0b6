package sessions

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestDisconnected: a member whose connection closes becomes inactive,
// and is gone once the session's inactive timeout has passed (a session
// left with nobody is gone); a member that reconnected (it names another
// connection) is left be, and a member back active stays.
func TestDisconnected(t *testing.T) {
	st := newDocStore()
	ctx := context.Background()
	on := true
	withConn := func(conn string) *Change {
		return &Change{Members: map[string]*MemberChange{"me": {Active: &on, PropertiesSystem: map[string]json.RawMessage{"connection": raw(`"` + conn + `"`)}}}}
	}
	create := withConn("c1")
	create.Constants = &ConstantsChange{System: map[string]json.RawMessage{"inactiveRemovalTimeout": raw("60000")}}
	put(t, st, host, Condition{}, create, t0)
	put(t, st, guest, Condition{}, withConn("g1"), t0)
	s := svc(st, t0)
	if err := s.Disconnected(ctx, ref, host.XUID, "c-other"); err != nil {
		t.Fatal(err)
	}
	if d, _ := st.Session(ctx, ref.SCID, ref.Template, ref.Name); !d.Member(host.XUID).Active || d.ChangeNumber != 2 {
		t.Fatalf("another connection closing changed the host: %+v", d.Member(host.XUID))
	}
	if err := s.Disconnected(ctx, ref, host.XUID, "c1"); err != nil {
		t.Fatal(err)
	}
	d, _ := st.Session(ctx, ref.SCID, ref.Template, ref.Name)
	m := d.Member(host.XUID)
	if m.Active || m.Ready || !m.InactiveUntil.Equal(t0.Add(time.Minute)) || d.ChangeNumber != 3 {
		t.Fatalf("after the host's connection closed: %+v (change %d)", m, d.ChangeNumber)
	}
	// Before the timeout the host is still a member; after it, gone.
	if got, _ := svc(st, t0.Add(59*time.Second)).Get(ctx, host, ref); got == nil || got.Member(host.XUID) == nil {
		t.Errorf("the host is gone before its timeout")
	}
	if got, _ := svc(st, t0.Add(time.Minute)).Get(ctx, guest, ref); got == nil || got.Member(host.XUID) != nil {
		t.Errorf("the host is still a member after its timeout: %+v", got)
	}
	// The guest comes back active before its timeout: it stays.
	svc(st, t0).Disconnected(ctx, ref, guest.XUID, "g1")
	put(t, st, guest, Condition{}, withConn("g2"), t0.Add(time.Second))
	if got, _ := svc(st, t0.Add(2*time.Minute)).Get(ctx, guest, ref); got == nil || got.Member(guest.XUID) == nil || !got.Member(guest.XUID).InactiveUntil.IsZero() {
		t.Errorf("the guest back active: %+v", got)
	}
	// Nobody left: the session is gone.
	svc(st, t0.Add(2*time.Minute)).Disconnected(ctx, ref, guest.XUID, "g2")
	if got, _ := svc(st, t0.Add(4*time.Minute)).Get(ctx, guest, ref); got != nil {
		t.Errorf("a session of inactive members past their time: %+v", got)
	}
}

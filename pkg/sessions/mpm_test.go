package sessions

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/xblread/xblread/pkg/derrors"
)

// TestWhatMultiplayerManagerReads: the change number grows by one on each
// change and stays on a write that changes nothing; every member has a
// device token, its own device's once it wrote as itself; host is set with
// If-Match: * as Multiplayer Manager sets it; a closed session takes no
// new member but a reserved one, and closed and locked are booleans.
func TestWhatMultiplayerManagerReads(t *testing.T) {
	st := newDocStore()
	ctx := context.Background()
	s := svc(st, t0)
	onDevice := *host
	onDevice.DeviceID = "device-1"
	res := put(t, st, &onDevice, Condition{}, joinChange(true), t0)
	if res.Doc.ChangeNumber != 1 {
		t.Errorf("created: change number %d, want 1", res.Doc.ChangeNumber)
	}
	tok := res.Doc.Member(host.XUID).Token()
	if tok != DeviceToken(&onDevice) || tok == DeviceToken(host) || len(tok) != 32 {
		t.Errorf("the host's device token %q", tok)
	}
	if res = put(t, st, &onDevice, Condition{}, joinChange(true), t0); res.Doc.ChangeNumber != 1 || st.saves != 1 {
		t.Errorf("a write that changes nothing: change number %d, %d saves", res.Doc.ChangeNumber, st.saves)
	}
	hostProp := &Change{Properties: &PropertiesChange{System: map[string]json.RawMessage{"host": raw(`"` + tok + `"`)}}}
	if res = put(t, st, &onDevice, Condition{IfMatchAny: true}, hostProp, t0); res.Doc.ChangeNumber != 2 || string(res.Doc.PropertiesSystem["host"]) != `"`+tok+`"` {
		t.Errorf("host set: %+v", res.Doc)
	}
	res = put(t, st, host, Condition{}, &Change{Members: map[string]*MemberChange{"reserve_0": {XUID: third.XUID}}}, t0)
	if r := res.Doc.Member(third.XUID); res.Doc.ChangeNumber != 3 || r.Token() == "" || r.Token() == tok {
		t.Errorf("a reservation: change number %d, token %q", res.Doc.ChangeNumber, r.Token())
	}
	closed := &Change{Properties: &PropertiesChange{System: map[string]json.RawMessage{"closed": raw("true")}}}
	put(t, st, host, Condition{}, closed, t0)
	if _, err := s.Put(ctx, guest, ref, Condition{}, joinChange(true)); derrors.KindOf(err) != derrors.Forbidden {
		t.Errorf("a stranger joining a closed session: %v", err)
	}
	if res := put(t, st, third, Condition{}, joinChange(true), t0); res.Doc.Member(third.XUID).Reserved {
		t.Errorf("the reserved player could not take its seat in the closed session")
	}
	for _, f := range []string{"closed", "locked"} {
		bad := &Change{Properties: &PropertiesChange{System: map[string]json.RawMessage{f: raw(`"yes"`)}}}
		if _, err := s.Put(ctx, host, ref, Condition{}, bad); derrors.KindOf(err) != derrors.Invalid {
			t.Errorf("%s: \"yes\": %v", f, err)
		}
	}
}

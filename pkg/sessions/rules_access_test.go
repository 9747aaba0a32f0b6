package sessions

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// lobbyPIN is a private session whose constants hold a PIN: the host is a
// member, third holds a reservation.
func lobbyPIN(t *testing.T, vis xbl.Visibility) *docStore {
	t.Helper()
	st := newDocStore()
	seven := 7
	create := joinChange(true)
	create.Constants = &ConstantsChange{Visibility: &vis, MaxMembers: &seven, Custom: raw(`{"pin":"1234"}`)}
	create.Members["reserve_0"] = &MemberChange{XUID: third.XUID}
	if res := put(t, st, host, Condition{IfNoneMatchAny: true}, create, t0); res.Outcome != Created {
		t.Fatalf("create: %+v", res)
	}
	return st
}

// TestStrangerLearnsNothing: a caller who may not read a private session
// gets one answer to every write, whatever it sends: access is decided
// before any of the body is compared with the session, so a constants
// guess (a lobby PIN, maxMembersCount) is neither confirmed nor denied.
func TestStrangerLearnsNothing(t *testing.T) {
	st := lobbyPIN(t, xbl.Private)
	eight, seven := 8, 7
	big := raw(`"` + strings.Repeat("x", MaxOpaqueBytes-2) + `"`)
	bodies := map[string]*Change{
		"wrong maxMembersCount": {Constants: &ConstantsChange{MaxMembers: &eight}},
		"right maxMembersCount": {Constants: &ConstantsChange{MaxMembers: &seven}},
		"wrong PIN":             {Constants: &ConstantsChange{Custom: raw(`{"pin":"0000"}`)}},
		"right PIN":             {Constants: &ConstantsChange{Custom: raw(`{"pin":"1234"}`)}},
		"a new constant":        {Constants: &ConstantsChange{System: map[string]json.RawMessage{"capabilities": raw(`{}`)}}},
		"join":                  joinChange(true),
		"leave":                 {Members: map[string]*MemberChange{"me": nil}},
		"reserve":               {Members: map[string]*MemberChange{"reserve_0": {XUID: 999}}},
		"turn":                  {Properties: &PropertiesChange{Turn: &[]int{0}}},
		"a turn of nobody":      {Properties: &PropertiesChange{Turn: &[]int{42}}},
		"keywords":              {Properties: &PropertiesChange{Keywords: &[]string{"k"}}},
		"over the size limit":   {Properties: &PropertiesChange{Custom: map[string]json.RawMessage{"a": big, "b": big}}},
	}
	want := ""
	for name, ch := range bodies {
		for _, c := range []*xbl.Caller{guest, {XUID: third.XUID, TitleID: third.TitleID, Sandbox: third.Sandbox}} {
			now := t0
			if c.XUID == third.XUID {
				now = t0.Add(time.Hour) // the reservation has expired: a stranger again
			}
			_, err := svc(st, now).Put(context.Background(), c, ref, Condition{}, ch)
			k, msg := derrors.Of(err)
			if k != derrors.Forbidden {
				t.Errorf("%s by %s: %v, want forbidden", name, c.XUID, err)
			}
			if want == "" {
				want = msg
			}
			if msg != want {
				t.Errorf("%s by %s: %q; every stranger's write gets %q", name, c.XUID, msg, want)
			}
		}
	}
	if _, err := svc(st, t0).Get(context.Background(), guest, ref); derrors.KindOf(err) != derrors.Forbidden {
		t.Errorf("GET by a stranger: %v", err)
	}
	if st.saves != 1 {
		t.Errorf("%d saves: a stranger's write changed the session", st.saves)
	}
}

// TestVisibleSessionStranger: a visible session is readable by anyone, so
// a stranger learns nothing from a write's answer; still, its writes are
// refused before their content (joining needs a reservation), and its
// leave changes nothing.
func TestVisibleSessionStranger(t *testing.T) {
	st := lobbyPIN(t, xbl.Visible)
	eight := 8
	for name, ch := range map[string]*Change{
		"wrong maxMembersCount": {Constants: &ConstantsChange{MaxMembers: &eight}},
		"wrong PIN":             {Constants: &ConstantsChange{Custom: raw(`{"pin":"0000"}`)}},
		"join":                  joinChange(true),
		"leave and more":        {Members: map[string]*MemberChange{"me": nil}, Properties: &PropertiesChange{Custom: map[string]json.RawMessage{"a": raw(`1`)}}},
	} {
		_, err := svc(st, t0).Put(context.Background(), guest, ref, Condition{}, ch)
		if k, msg := derrors.Of(err); k != derrors.Forbidden || !strings.Contains(msg, "the session is visible: joining it needs a reservation") {
			t.Errorf("%s: %v", name, err)
		}
	}
	res := put(t, st, guest, Condition{}, &Change{Members: map[string]*MemberChange{"me": nil}}, t0)
	if res.Outcome != Updated || st.saves != 1 {
		t.Errorf("a stranger's leave: %+v, %d saves", res, st.saves)
	}
}

// TestReservedMayOnlyJoinOrLeave: a player holding only a reservation may
// take it up (and then write as a member, in the same write or later) or
// decline it; it may not rewrite the session before it has joined.
func TestReservedMayOnlyJoinOrLeave(t *testing.T) {
	local := "local"
	for name, ch := range map[string]*Change{
		"custom properties": {Properties: &PropertiesChange{Custom: map[string]json.RawMessage{"map": raw(`"mine"`)}}},
		"system properties": {Properties: &PropertiesChange{System: map[string]json.RawMessage{"matchmaking": raw(`{}`)}}},
		"joinRestriction":   {Properties: &PropertiesChange{JoinRestriction: &local}},
		"turn":              {Properties: &PropertiesChange{Turn: &[]int{0}}},
		"keywords":          {Properties: &PropertiesChange{Keywords: &[]string{}}},
		"servers":           {Servers: map[string]json.RawMessage{"s": raw(`{}`)}},
		"a reservation":     {Members: map[string]*MemberChange{"reserve_0": {XUID: 999}}},
		"constants again":   {Constants: &ConstantsChange{Custom: raw(`{"pin":"1234"}`)}},
		"leave and more":    {Members: map[string]*MemberChange{"me": nil}, Servers: map[string]json.RawMessage{"s": raw(`{}`)}},
		"an empty write":    {},
	} {
		st := lobbyPIN(t, xbl.Private)
		_, err := svc(st, t0).Put(context.Background(), third, ref, Condition{}, ch)
		if k, msg := derrors.Of(err); k != derrors.Forbidden || !strings.Contains(msg, "holds only a reservation") {
			t.Errorf("%s: %v", name, err)
		}
		if st.saves != 1 {
			t.Errorf("%s: written", name)
		}
	}

	// Declining: the seat is free again.
	st := lobbyPIN(t, xbl.Private)
	res := put(t, st, third, Condition{}, &Change{Members: map[string]*MemberChange{"me": nil}}, t0)
	if res.Outcome != Updated || res.Doc.Member(third.XUID) != nil {
		t.Errorf("decline: %+v", res)
	}
	// Taking the seat up, with a property in the same write: a member's.
	st = lobbyPIN(t, xbl.Private)
	ch := joinChange(true)
	ch.Properties = &PropertiesChange{Custom: map[string]json.RawMessage{"map": raw(`"mine"`)}}
	res = put(t, st, third, Condition{}, ch, t0)
	if m := res.Doc.Member(third.XUID); m == nil || m.Reserved || string(res.Doc.PropertiesCustom["map"]) != `"mine"` {
		t.Errorf("join: %+v", res.Doc)
	}
}

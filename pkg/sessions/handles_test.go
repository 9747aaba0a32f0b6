package sessions_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store/memstore"
	"github.com/xblread/xblread/pkg/xbl"
)

const mpmSCID = "7492baca-c1b4-440d-a391-b7ef364a8d40"

// mpm is a service on memstore whose SCID names one template, lobby (a
// private lobby of 4), and whose clock is *now.
func mpm(t *testing.T) (*sessions.Service, *time.Time) {
	t.Helper()
	vis, seats := xbl.Private, 4
	b, err := sessions.EncodeTemplate(&sessions.ConstantsChange{Visibility: &vis, MaxMembers: &seats})
	if err != nil {
		t.Fatal(err)
	}
	mem := memstore.New()
	mem.Load(&xbl.Dataset{Configs: []xbl.ServiceConfig{{SCID: mpmSCID, TitleIDs: []string{"1297287135"}, Sandboxes: []string{"RETAIL"},
		SessionTemplates: map[string]xbl.SessionTemplate{"lobby": {Constants: b}, "game": {Constants: b}}}}})
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	return &sessions.Service{Configs: mem, Store: mem, Queue: mem, Handles: mem, Now: func() time.Time { return now }}, &now
}

func player(x xbl.XUID) *xbl.Caller {
	return &xbl.Caller{XUID: x, Gamertag: "P" + x.String(), TitleID: "1297287135", Sandbox: "RETAIL", DeviceID: "dev-" + x.String()}
}

func lobbyRef(name string) sessions.Ref {
	return sessions.Ref{SCIDRaw: mpmSCID, SCID: mpmSCID, Template: "lobby", Name: name}
}

var mpmServer = &xbl.Caller{TitleID: "1297287135", Sandbox: "RETAIL", Server: true}

func joinMe() *sessions.Change {
	on := true
	return &sessions.Change{Members: map[string]*sessions.MemberChange{"me": {Active: &on, ConstantsSystem: map[string]json.RawMessage{"initialize": json.RawMessage("true")}}}}
}

// TestHandles walks Multiplayer Manager's flow and the handle rules: the
// host creates a lobby without constants and posts its activity; a
// stranger cannot see a private lobby's activity, nor post one; the
// host's friend, invited, reads and joins the lobby by the invite, then
// posts its own activity; an activity replaced, or whose owner left, is
// never answered; an invite is its invitee's only, and ends; a transfer
// needs its target; a handle never names a later session of the same
// name; only its owner deletes a handle.
func TestHandles(t *testing.T) {
	svc, now := mpm(t)
	ctx := context.Background()
	host, friend, stranger := player(1), player(2), player(3)
	lobby := lobbyRef("lobby-1")
	res, err := svc.Put(ctx, host, lobby, sessions.Condition{}, joinMe())
	if err != nil || res.Outcome != sessions.Created || res.Doc.Visibility != xbl.Private {
		t.Fatalf("the host's lobby: %+v %v", res, err)
	}
	post := func(c *xbl.Caller, req *sessions.HandleRequest) (*sessions.Handle, error) {
		return svc.PostHandle(ctx, c, req)
	}
	act, err := post(host, &sessions.HandleRequest{Type: sessions.Activity, Ref: lobby})
	if err != nil || act.ID == "" || len(act.ID) >= 40 || act.Owner != host.XUID || act.TitleID != host.TitleID {
		t.Fatalf("the host's activity: %+v %v", act, err)
	}
	if _, err := post(stranger, &sessions.HandleRequest{Type: sessions.Activity, Ref: lobby}); derrors.KindOf(err) != derrors.Forbidden {
		t.Errorf("a stranger's activity for the lobby: %v", err)
	}
	query := func(c *xbl.Caller, owners ...xbl.XUID) []sessions.ActivityRow {
		t.Helper()
		rows, err := svc.QueryActivities(ctx, c, mpmSCID, mpmSCID, owners)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	if rows := query(stranger, host.XUID); len(rows) != 0 {
		t.Errorf("a stranger sees the private lobby's activity: %+v", rows)
	}
	if rows := query(mpmServer, host.XUID, friend.XUID); len(rows) != 1 || rows[0].Handle.ID != act.ID || rows[0].Doc.Name != "lobby-1" {
		t.Errorf("a server's query: %+v", rows)
	}

	// The invite: its invitee's only; by it the friend joins the private
	// lobby.
	inv, err := post(host, &sessions.HandleRequest{Type: sessions.Invite, Ref: lobby, Invited: friend.XUID, Attributes: json.RawMessage(`{"titleId":"1297287135"}`)})
	if err != nil || !inv.Expires.Equal(now.Add(sessions.InviteLifetime)) {
		t.Fatalf("the invite: %+v %v", inv, err)
	}
	if _, _, err := svc.SessionByHandle(ctx, stranger, inv.ID); derrors.KindOf(err) != derrors.Forbidden {
		t.Errorf("a stranger reading the invite: %v", err)
	}
	if _, _, err := svc.PutByHandle(ctx, stranger, inv.ID, sessions.Condition{}, joinMe()); derrors.KindOf(err) != derrors.Forbidden {
		t.Errorf("a stranger joining by the invite: %v", err)
	}
	if ref, d, err := svc.SessionByHandle(ctx, friend, inv.ID); err != nil || d == nil || ref != lobby {
		t.Errorf("the invitee reads the lobby by the invite: %v %+v %v", ref, d, err)
	}
	ref, wr, err := svc.PutByHandle(ctx, friend, inv.ID, sessions.Condition{}, joinMe())
	if err != nil || ref != lobby || wr.Doc.Member(friend.XUID) == nil {
		t.Fatalf("the invitee joins by the invite: %+v %v", wr, err)
	}
	friendAct, err := post(friend, &sessions.HandleRequest{Type: sessions.Activity, Ref: lobby})
	if err != nil {
		t.Fatalf("the friend's activity: %v", err)
	}
	if rows := query(friend, host.XUID, friend.XUID, host.XUID); len(rows) != 2 {
		t.Errorf("both activities (the host named twice, answered once): %+v", rows)
	}
	// The sender reads and deletes its own invite; the invitee could too.
	inv2, err := post(host, &sessions.HandleRequest{Type: sessions.Invite, Ref: lobby, Invited: stranger.XUID})
	if err != nil {
		t.Fatal(err)
	}
	if _, d, err := svc.SessionByHandle(ctx, host, inv2.ID); err != nil || d == nil {
		t.Errorf("the sender reads its invite: %v", err)
	}
	if err := svc.DeleteHandle(ctx, host, inv2.ID); err != nil {
		t.Errorf("the sender deletes its invite: %v", err)
	}
	// Invites end.
	*now = now.Add(sessions.InviteLifetime)
	if _, _, err := svc.SessionByHandle(ctx, friend, inv.ID); derrors.KindOf(err) != derrors.NotFound {
		t.Errorf("an invite an hour old: %v", err)
	}

	// The host's new activity replaces the old one.
	lobby2 := lobbyRef("lobby-2")
	if _, err := svc.Put(ctx, host, lobby2, sessions.Condition{}, joinMe()); err != nil {
		t.Fatal(err)
	}
	act2, err := post(host, &sessions.HandleRequest{Type: sessions.Activity, Ref: lobby2})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.SessionByHandle(ctx, host, act.ID); derrors.KindOf(err) != derrors.NotFound {
		t.Errorf("the replaced activity: %v", err)
	}
	if rows := query(host, host.XUID); len(rows) != 1 || rows[0].Handle.ID != act2.ID {
		t.Errorf("after the replacement: %+v", rows)
	}
	// The friend leaves lobby-1: its activity is never answered again.
	if _, err := svc.Put(ctx, friend, lobby, sessions.Condition{}, &sessions.Change{Members: map[string]*sessions.MemberChange{"me": nil}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.SessionByHandle(ctx, host, friendAct.ID); derrors.KindOf(err) != derrors.NotFound {
		t.Errorf("reading by the activity of a player who left: %v", err)
	}
	if _, _, err := svc.PutByHandle(ctx, host, friendAct.ID, sessions.Condition{}, joinMe()); derrors.KindOf(err) != derrors.NotFound {
		t.Errorf("joining by the activity of a player who left: %v", err)
	}
	if rows := query(host, friend.XUID); len(rows) != 0 {
		t.Errorf("the activity of a player who left: %+v", rows)
	}

	// Transfers: the target must exist (403), the caller must be a member
	// of the origin.
	game := sessions.Ref{SCIDRaw: mpmSCID, SCID: mpmSCID, Template: "game", Name: "game-1"}
	if _, err := post(host, &sessions.HandleRequest{Type: sessions.Transfer, Ref: game, Origin: &lobby2}); derrors.KindOf(err) != derrors.Forbidden {
		t.Errorf("a transfer to a missing session: %v", err)
	}
	if _, err := svc.Put(ctx, host, game, sessions.Condition{}, joinMe()); err != nil {
		t.Fatal(err)
	}
	if _, err := post(stranger, &sessions.HandleRequest{Type: sessions.Transfer, Ref: game, Origin: &lobby2}); derrors.KindOf(err) != derrors.Forbidden {
		t.Errorf("a transfer by a stranger to its origin: %v", err)
	}
	tr, err := post(host, &sessions.HandleRequest{Type: sessions.Transfer, Ref: game, Origin: &lobby2})
	if err != nil {
		t.Fatalf("a transfer: %v", err)
	}
	// Only the owner deletes a handle.
	if err := svc.DeleteHandle(ctx, stranger, tr.ID); derrors.KindOf(err) != derrors.Forbidden {
		t.Errorf("a stranger deleting the transfer: %v", err)
	}
	// A later session of the same name is another session: the handle
	// names none.
	if _, err := svc.Put(ctx, host, game, sessions.Condition{}, &sessions.Change{Members: map[string]*sessions.MemberChange{"me": nil}}); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(time.Second)
	if _, err := svc.Put(ctx, host, game, sessions.Condition{}, joinMe()); err != nil {
		t.Fatal(err)
	}
	if _, d, err := svc.SessionByHandle(ctx, host, tr.ID); err != nil || d != nil {
		t.Errorf("a handle of a session since made again: %+v %v", d, err)
	}
	if _, _, err := svc.PutByHandle(ctx, host, tr.ID, sessions.Condition{}, joinMe()); derrors.KindOf(err) != derrors.NotFound {
		t.Errorf("a write by a handle of a session since made again: %v", err)
	}
	if err := svc.DeleteHandle(ctx, host, tr.ID); err != nil {
		t.Errorf("the owner deleting the transfer: %v", err)
	}
	if _, _, err := svc.SessionByHandle(ctx, host, tr.ID); derrors.KindOf(err) != derrors.NotFound {
		t.Errorf("a deleted handle: %v", err)
	}
}

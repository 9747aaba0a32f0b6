package sessionstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// The handle tests' times: the store keeps times at 100 ns (store.TimeLayout),
// so these are whole microseconds, and one is in a zone other than UTC.
var (
	hCreated = wt0.Add(1234567 * time.Microsecond)
	hExpires = hCreated.Add(sessions.HandleLifetime).In(time.FixedZone("UTC+1", 3600))
	hStart   = wt0.Add(-987654 * time.Microsecond)
)

const otherTitle = "1717113201"

// activity is owner's activity handle id for the session ref, by title.
func activity(id string, owner xbl.XUID, ref sessions.Ref, title string) *sessions.Handle {
	return &sessions.Handle{
		ID: id, Type: sessions.Activity, Ref: ref, Owner: owner, TitleID: title,
		Created: hCreated, Expires: hExpires, SessionStart: hStart,
	}
}

// sameHandle reports whether a and b are the same handle: times the same
// instants, every other field equal (Attributes nil in both, or the same
// bytes).
func sameHandle(a, b *sessions.Handle) bool {
	if a == nil || b == nil {
		return a == b
	}
	if !a.Created.Equal(b.Created) || !a.Expires.Equal(b.Expires) || !a.SessionStart.Equal(b.SessionStart) {
		return false
	}
	x, y := *a, *b
	x.Created, x.Expires, x.SessionStart = time.Time{}, time.Time{}, time.Time{}
	y.Created, y.Expires, y.SessionStart = time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(x, y)
}

// idsOf returns the ids of hs, sorted.
func idsOf(hs []*sessions.Handle) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.ID)
	}
	slices.Sort(out)
	return out
}

// byID indexes handles by id; a handle answered twice fails the test.
func byID(t *testing.T, hs []*sessions.Handle) map[string]*sessions.Handle {
	t.Helper()
	out := map[string]*sessions.Handle{}
	for _, h := range hs {
		if out[h.ID] != nil {
			t.Errorf("handle %s answered twice", h.ID)
		}
		out[h.ID] = h
	}
	return out
}

// TestHandlesOnDynamoDB holds the adapter to sessions.HandleStore's
// contract on DynamoDB Local: every field of an activity, an invite (its
// attributes and invitee; a server's, with no owner) and a transfer (its
// origin) reads back as it was put; an unknown id is nil without error;
// an activity put again for the same owner, SCID and title replaces the
// one before, whose handle is then gone; deleting an activity deletes its
// handle and the owner's activity, but deleting a replaced one leaves the
// newer activity in place; and the activities of several owners in one
// SCID are each owner's (one per title), none of another SCID, and none
// of the other items of their partitions.
func TestHandlesOnDynamoDB(t *testing.T) {
	tb, st, _ := writeTable(t)
	ctx := context.Background()
	game := sessions.Ref{SCIDRaw: strings.ToUpper(scidA), SCID: scidA, Template: "game", Name: "match-7"}

	t.Run("round trip", func(t *testing.T) {
		for _, h := range []*sessions.Handle{
			activity("rt-activity", 1, wref, "1297287135"),
			{
				ID: "rt-invite", Type: sessions.Invite, Ref: game, Owner: 1, TitleID: "1297287135", Invited: 2,
				Attributes: json.RawMessage(`{"titleId":"1297287135","contextString":"join \"me\"","senderString":"P1 ü"}`),
				Created:    hCreated, Expires: hCreated.Add(sessions.InviteLifetime), SessionStart: hStart,
			},
			{
				ID: "rt-server-invite", Type: sessions.Invite, Ref: wref, Owner: 0, TitleID: "1297287135", Invited: 18446744073709551615,
				Created: hCreated, Expires: hCreated.Add(sessions.InviteLifetime), SessionStart: hStart,
			},
			{
				ID: "rt-transfer", Type: sessions.Transfer, Ref: game, Origin: &wref, Owner: 3, TitleID: "1297287135",
				Created: hCreated, Expires: hExpires, SessionStart: hStart,
			},
		} {
			t.Run(h.ID, func(t *testing.T) {
				if err := st.PutHandle(ctx, h); err != nil {
					t.Fatal(err)
				}
				got, err := st.Handle(ctx, h.ID)
				if err != nil || !sameHandle(got, h) {
					t.Errorf("read back: %+v %v\nwant %+v", got, err, h)
				}
			})
		}
		if got, err := st.Handle(ctx, "no-such-handle"); got != nil || err != nil {
			t.Errorf("an unknown id: %+v %v; want nil, nil", got, err)
		}
		// An invite and a transfer are not their owner's activity.
		if got, err := st.Activities(ctx, scidA, []xbl.XUID{0, 1, 3}); err != nil || len(got) != 1 || got[0].ID != "rt-activity" {
			t.Errorf("activities after the round trips: %v %v; want rt-activity only", idsOf(got), err)
		}
	})

	t.Run("replace and delete", func(t *testing.T) {
		const owner = 5
		pk := store.UserSCID(owner, scidA)
		activities := func() []*sessions.Handle {
			t.Helper()
			got, err := st.Activities(ctx, scidA, []xbl.XUID{owner})
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		old, cur := activity("old", owner, wref, "1297287135"), activity("new", owner, game, "1297287135")
		cur.Created = hCreated.Add(time.Minute)
		if err := st.PutHandle(ctx, old); err != nil {
			t.Fatal(err)
		}
		if err := st.PutHandle(ctx, cur); err != nil {
			t.Fatal(err)
		}
		if got, err := st.Handle(ctx, old.ID); got != nil || err != nil {
			t.Errorf("the replaced activity's handle: %+v %v; want nil", got, err)
		}
		if got := activities(); len(got) != 1 || !sameHandle(got[0], cur) {
			t.Errorf("activities after the replace: %v %+v; want the new one only", idsOf(got), got)
		}
		// Put again (same id): it replaces nothing, and keeps its handle.
		if err := st.PutHandle(ctx, cur); err != nil {
			t.Fatal(err)
		}
		if got, err := st.Handle(ctx, cur.ID); err != nil || !sameHandle(got, cur) {
			t.Errorf("an activity put twice: %+v %v", got, err)
		}
		// Deleting the replaced one leaves the new one.
		if err := st.DeleteHandle(ctx, old); err != nil {
			t.Fatalf("delete of the replaced activity: %v", err)
		}
		if got := activities(); len(got) != 1 || got[0].ID != cur.ID {
			t.Errorf("after deleting the replaced activity: %v; want the new one still", idsOf(got))
		}
		if got, err := st.Handle(ctx, cur.ID); err != nil || got == nil {
			t.Errorf("after deleting the replaced activity, the new handle: %+v %v", got, err)
		}
		// Deleting the current one deletes the handle and the activity.
		if err := st.DeleteHandle(ctx, cur); err != nil {
			t.Fatal(err)
		}
		if got, err := st.Handle(ctx, cur.ID); got != nil || err != nil {
			t.Errorf("a deleted activity's handle: %+v %v", got, err)
		}
		if got := activities(); len(got) != 0 {
			t.Errorf("activities after the delete: %v; want none", idsOf(got))
		}
		for k, n := range items(t, tb, pk, store.HandleKey(old.ID).PK, store.HandleKey(cur.ID).PK) {
			if n != 0 {
				t.Errorf("%s: %d items left after both activities were deleted", k, n)
			}
		}
		// Deleting what is already gone is no error.
		if err := st.DeleteHandle(ctx, cur); err != nil {
			t.Errorf("a second delete: %v", err)
		}
	})

	t.Run("several owners", func(t *testing.T) {
		other := sessions.Ref{SCIDRaw: scidB, SCID: scidB, Template: "lobby", Name: "b-1"}
		put := []*sessions.Handle{
			activity("o10-t1", 10, wref, "1297287135"),
			activity("o10-t2", 10, game, otherTitle), // another title: a second activity
			activity("o11-a", 11, wref, "1297287135"),
			activity("o11-b", 11, other, "1297287135"), // the same owner and title in another SCID
			activity("o12-b", 12, other, "1297287135"),
			{ID: "o13-invite", Type: sessions.Invite, Ref: wref, Owner: 13, TitleID: "1297287135", Invited: 10, Created: hCreated, Expires: hExpires, SessionStart: hStart},
		}
		for _, h := range put {
			if err := st.PutHandle(ctx, h); err != nil {
				t.Fatal(err)
			}
		}
		// Owners 10 and 12 are members of a session too: their partitions
		// hold membership entries beside their activities.
		for _, x := range []xbl.XUID{10, 12} {
			mustPut(t, st, configs(), player(x), sessions.Condition{}, joinAs(true), wt0)
		}
		want := byID(t, put)
		for _, c := range []struct {
			name   string
			scid   string
			owners []xbl.XUID
			want   []string
		}{
			{"scid A", scidA, []xbl.XUID{10, 11, 12, 13, 14}, []string{"o10-t1", "o10-t2", "o11-a"}},
			{"scid B", scidB, []xbl.XUID{10, 11, 12, 13, 14}, []string{"o11-b", "o12-b"}},
			{"one owner", scidA, []xbl.XUID{11}, []string{"o11-a"}},
			{"no activity", scidA, []xbl.XUID{12, 13, 14}, nil},
			{"no owners", scidA, nil, nil},
			{"unconfigured scid", scidC, []xbl.XUID{10, 11, 12}, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				got, err := st.Activities(ctx, c.scid, c.owners)
				if err != nil {
					t.Fatal(err)
				}
				ids := byID(t, got)
				if keys := slices.Sorted(maps.Keys(ids)); !slices.Equal(keys, c.want) {
					t.Fatalf("activities: %v, want %v", keys, c.want)
				}
				for id, h := range ids {
					if !sameHandle(h, want[id]) {
						t.Errorf("activity %s: %+v\nwant %+v", id, h, want[id])
					}
				}
			})
		}
	})
}

// TestActivitiesCost counts what the activities query and the handle
// writes send: the activities of 100 owners, 7 of whom have one, are one
// Query per owner and nothing else; an activity is two PutItem calls (its
// handle, the owner's activity), and one DeleteItem more of the handle it
// replaces; an invite or a transfer is one PutItem; deleting an activity
// is two DeleteItem calls, an invite one.
func TestActivitiesCost(t *testing.T) {
	tb, st, _ := writeTable(t)
	counted, counter := countedStore(t, tb)
	ctx := context.Background()
	var owners []xbl.XUID
	var want []string
	for i := range 100 {
		x := xbl.XUID(1000 + i)
		owners = append(owners, x)
		if i%14 == 3 { // 7 of the 100
			h := activity(fmt.Sprint("act-", x), x, wref, "1297287135")
			if err := st.PutHandle(ctx, h); err != nil {
				t.Fatal(err)
			}
			want = append(want, h.ID)
		}
	}
	got, err := counted.Activities(ctx, scidA, owners)
	if err != nil {
		t.Fatal(err)
	}
	if ids := slices.Sorted(maps.Keys(byID(t, got))); len(want) != 7 || !slices.Equal(ids, want) {
		t.Errorf("activities of 100 owners: %v, want %v", ids, want)
	}
	if ops := counter.Ops(); !slices.Equal(ops, []string{"Query"}) || counter.Get("Query") != 100 || counter.Total() != 100 {
		t.Errorf("activities of 100 owners: %v, %d Query calls, %d in all; want 100 Query calls and nothing else", ops, counter.Get("Query"), counter.Total())
	}

	game := sessions.Ref{SCIDRaw: scidA, SCID: scidA, Template: "game", Name: "match-1"}
	invite := &sessions.Handle{ID: "inv", Type: sessions.Invite, Ref: wref, Owner: 1, TitleID: "1297287135", Invited: 2, Attributes: json.RawMessage(`{}`), Created: hCreated, Expires: hExpires, SessionStart: hStart}
	for _, c := range []struct {
		name       string
		do         func() error
		puts, dels int
	}{
		{"a first activity", func() error { return counted.PutHandle(ctx, activity("a1", 1, wref, "1297287135")) }, 2, 0},
		{"an activity that replaces one", func() error { return counted.PutHandle(ctx, activity("a2", 1, wref, "1297287135")) }, 2, 1},
		{"the same activity again", func() error { return counted.PutHandle(ctx, activity("a2", 1, wref, "1297287135")) }, 2, 0},
		{"another title's activity", func() error { return counted.PutHandle(ctx, activity("a3", 1, wref, otherTitle)) }, 2, 0},
		{"an invite", func() error { return counted.PutHandle(ctx, invite) }, 1, 0},
		{"a transfer", func() error {
			return counted.PutHandle(ctx, &sessions.Handle{ID: "tr", Type: sessions.Transfer, Ref: game, Origin: &wref, Owner: 1, TitleID: "1297287135", Created: hCreated, Expires: hExpires, SessionStart: hStart})
		}, 1, 0},
		{"delete an activity", func() error { return counted.DeleteHandle(ctx, activity("a2", 1, wref, "1297287135")) }, 0, 2},
		{"delete an invite", func() error { return counted.DeleteHandle(ctx, invite) }, 0, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			counter.Reset()
			if err := c.do(); err != nil {
				t.Fatal(err)
			}
			var want []string
			if c.dels > 0 {
				want = append(want, "DeleteItem")
			}
			if c.puts > 0 {
				want = append(want, "PutItem")
			}
			if ops := counter.Ops(); !slices.Equal(ops, want) || counter.Get("PutItem") != c.puts || counter.Get("DeleteItem") != c.dels {
				t.Errorf("%v: PutItem %d, DeleteItem %d; want PutItem %d, DeleteItem %d and nothing else", ops, counter.Get("PutItem"), counter.Get("DeleteItem"), c.puts, c.dels)
			}
		})
	}
	// What the writes left: a3 (another title) and a2 deleted, a1 replaced.
	if got, err := st.Activities(ctx, scidA, []xbl.XUID{1}); err != nil || len(got) != 1 || got[0].ID != "a3" {
		t.Errorf("activities of player 1 at the end: %v %v; want a3 only", idsOf(got), err)
	}
	for _, id := range []string{"a1", "a2", "inv"} {
		if h, err := st.Handle(ctx, id); h != nil || err != nil {
			t.Errorf("handle %s: %+v %v; want it gone", id, h, err)
		}
	}
}

// TestRacingJoinsByHandle: six players join an open lobby with one seat
// left through its host's activity, all at once, through the service with
// its queue: exactly one gets in (Updated, a member), the five others are
// refused as Conflict (the session is full), never another kind (not
// Unavailable, not Internal), and the stored session has exactly 3
// members, none of them twice; nothing is left waiting. Several rounds,
// each on a lobby of its own.
func TestRacingJoinsByHandle(t *testing.T) {
	tb, st, _ := writeTable(t)
	svc := &sessions.Service{Configs: configs(), Store: st, Queue: st, Handles: st, Now: func() time.Time { return wt0 }}
	ctx := context.Background()
	vis, seats := xbl.OpenVis, 3
	for round := range 4 {
		ref := sessions.Ref{SCIDRaw: scidA, SCID: scidA, Template: "lobby", Name: fmt.Sprint("race-", round)}
		create := joinAs(true)
		create.Constants = &sessions.ConstantsChange{Visibility: &vis, MaxMembers: &seats}
		if res, err := svc.Put(ctx, player(1), ref, sessions.Condition{}, create); err != nil || res.Outcome != sessions.Created {
			t.Fatalf("round %d: the host's lobby: %+v %v", round, res, err)
		}
		if res, err := svc.Put(ctx, player(2), ref, sessions.Condition{}, joinAs(true)); err != nil || len(res.Doc.Members) != 2 {
			t.Fatalf("round %d: the second player: %+v %v", round, res, err)
		}
		h, err := svc.PostHandle(ctx, player(1), &sessions.HandleRequest{Type: sessions.Activity, Ref: ref})
		if err != nil {
			t.Fatalf("round %d: the host's activity: %v", round, err)
		}
		const racers = 6
		results := make([]*sessions.WriteResult, racers)
		errs := make([]error, racers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				<-start
				_, results[i], errs[i] = svc.PutByHandle(ctx, player(xbl.XUID(100+i)), h.ID, sessions.Condition{}, joinAs(true))
			})
		}
		close(start)
		wg.Wait()
		var winners []xbl.XUID
		for i := range racers {
			x := xbl.XUID(100 + i)
			switch res, err := results[i], errs[i]; {
			case err == nil && res != nil && res.Outcome == sessions.Updated && res.Doc.Member(x) != nil:
				winners = append(winners, x)
			case err != nil && derrors.KindOf(err) == derrors.Conflict:
			default:
				t.Errorf("round %d: player %d: %+v, %v (kind %v); want Updated as a member, or a Conflict", round, x, res, err, derrors.KindOf(err))
			}
		}
		if len(winners) != 1 {
			t.Errorf("round %d: %d players got in (%v); want exactly 1", round, len(winners), winners)
		}
		d, err := st.Session(ctx, ref.SCID, ref.Template, ref.Name)
		if err != nil || d == nil {
			t.Fatalf("round %d: the lobby after the race: %v", round, err)
		}
		var members []xbl.XUID
		for _, m := range d.Members {
			members = append(members, m.XUID)
		}
		slices.Sort(members)
		if len(members) != 3 || members[0] != 1 || members[1] != 2 || len(winners) == 1 && members[2] != winners[0] {
			t.Errorf("round %d: stored members %v; want 1, 2 and the winner %v", round, members, winners)
		}
		out, err := tb.Client.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(tb.Name), ConsistentRead: aws.Bool(true),
			KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :w)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": &types.AttributeValueMemberS{Value: store.SessionKey(ref.SCID, ref.Template, ref.Name).PK},
				":w":  &types.AttributeValueMemberS{Value: store.PrefixQueued},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Items) != 0 {
			t.Errorf("round %d: %d writes left waiting", round, len(out.Items))
		}
	}
}

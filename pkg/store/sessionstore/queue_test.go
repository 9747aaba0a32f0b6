package sessionstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/sessionstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// TestQueue holds the adapter to sessions.Queue's contract on DynamoDB
// Local: a combined commit applies the waiting writes in the order they
// were queued and replies to each, in one transaction with the document;
// it waits for another write's live claim, and its own claim keeps
// version-bound writes out; a write withdrawn while a commit was being
// prepared makes that commit change nothing; a commit of replies only
// leaves the document as it is; and a combined commit costs one claim,
// one GetItem, one Query and one transaction.
func TestQueue(t *testing.T) {
	tb, st, _ := writeTable(t)
	mem := configs()
	ctx := context.Background()
	mustPut(t, st, mem, player(1), sessions.Condition{}, joinAs(true), wt0)
	svc := service(mem, st, wt0)
	enqueue := func(x xbl.XUID, at time.Duration) *sessions.Queued {
		t.Helper()
		w := &sessions.Queued{ID: sessions.QueueID(wt0.Add(at)), Caller: *player(x), Change: joinAs(true), Until: wt0.Add(time.Minute)}
		if err := st.Enqueue(ctx, wref, w); err != nil {
			t.Fatal(err)
		}
		return w
	}
	// apply joins every waiting write, in the order given.
	var order []string
	apply := func(stored *sessions.Doc, waiting []*sessions.Queued) (*sessions.Doc, []sessions.Reply) {
		cur := stored
		var replies []sessions.Reply
		order = order[:0]
		for _, w := range waiting {
			next, err := svc.Apply(cur, w.Change, &w.Caller, wref)
			if err != nil {
				t.Fatal(err)
			}
			cur = next
			order = append(order, w.ID)
			replies = append(replies, sessions.Reply{ID: w.ID, Outcome: sessions.Updated})
		}
		cur.ETag = sessions.NewID()
		return cur, replies
	}
	w3, w2 := enqueue(3, 2*time.Millisecond), enqueue(2, time.Millisecond)
	key := store.ClaimKey(scidA, "lobby", "game-1")
	if err := sessionstore.Claim(st, ctx, key, "some-etag", "other"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Combine(ctx, wref, sessions.CombineLimit, apply); !errors.Is(err, sessions.ErrContended) {
		t.Fatalf("a combine while another write holds the session: %v, want ErrContended", err)
	}
	sessionstore.Release(st, ctx, key, "other")
	counted, counter := countedStore(t, tb)
	if n, err := counted.Combine(ctx, wref, sessions.CombineLimit, apply); err != nil || n != 2 {
		t.Fatalf("combine: %d, %v", n, err)
	}
	if !slices.Equal(order, []string{w2.ID, w3.ID}) {
		t.Errorf("applied in the order %v, want the order queued", order)
	}
	if got := counter.Ops(); !slices.Equal(got, []string{"GetItem", "Query", "TransactWriteItems", "UpdateItem"}) || counter.Total() != 4 {
		t.Errorf("a combined commit: %v (%d calls); want a claim, a GetItem, a Query and a transaction", got, counter.Total())
	}
	d, _ := st.Session(ctx, scidA, "lobby", "game-1")
	if d == nil || len(d.Members) != 3 {
		t.Fatalf("after the combined commit: %+v", d)
	}
	for _, w := range []*sessions.Queued{w2, w3} {
		if r, err := st.Reply(ctx, wref, w.ID); err != nil || r == nil || r.Outcome != sessions.Updated || r.Refused {
			t.Errorf("reply to %s: %+v %v", w.ID, r, err)
		}
		if r, err := st.Withdraw(ctx, wref, w.ID); err != nil || r == nil || r.Outcome != sessions.Updated {
			t.Errorf("withdraw of %s, answered: %+v %v", w.ID, r, err)
		}
		if r, err := st.Reply(ctx, wref, w.ID); err != nil || r != nil {
			t.Errorf("reply after withdraw: %+v %v", r, err)
		}
	}
	if n, err := st.Combine(ctx, wref, sessions.CombineLimit, apply); err != nil || n != 0 {
		t.Errorf("a combine with nothing waiting: %d, %v", n, err)
	}

	// Withdrawn while the commit was being prepared: nothing changes.
	w4 := enqueue(4, 3*time.Millisecond)
	_, err := st.Combine(ctx, wref, sessions.CombineLimit, func(stored *sessions.Doc, waiting []*sessions.Queued) (*sessions.Doc, []sessions.Reply) {
		if r, err := st.Withdraw(ctx, wref, w4.ID); err != nil || r != nil {
			t.Errorf("withdraw of a waiting write: %+v %v", r, err)
		}
		return apply(stored, waiting)
	})
	if !errors.Is(err, sessions.ErrContended) {
		t.Errorf("a commit over a withdrawn write: %v, want ErrContended", err)
	}
	if d2, _ := st.Session(ctx, scidA, "lobby", "game-1"); d2.ETag != d.ETag || d2.Member(4) != nil {
		t.Errorf("the withdrawn write was applied")
	}

	// Replies only: the document stays.
	w5 := enqueue(5, 4*time.Millisecond)
	n, err := st.Combine(ctx, wref, sessions.CombineLimit, func(stored *sessions.Doc, waiting []*sessions.Queued) (*sessions.Doc, []sessions.Reply) {
		return stored, []sessions.Reply{{ID: waiting[0].ID, Refused: true, Kind: derrors.Conflict, Message: "the session is full"}}
	})
	if err != nil || n != 1 {
		t.Fatalf("a commit of replies only: %d %v", n, err)
	}
	if r, _ := st.Reply(ctx, wref, w5.ID); r == nil || !r.Refused || r.Kind != derrors.Conflict || r.Message != "the session is full" {
		t.Errorf("the refusal as stored: %+v", r)
	}
	if d2, _ := st.Session(ctx, scidA, "lobby", "game-1"); d2.ETag != d.ETag {
		t.Errorf("a commit of replies only changed the document")
	}

	// A combining write's claim keeps version-bound writes out.
	if err := sessionstore.Claim(st, ctx, key, "*", "combiner"); err != nil {
		t.Fatal(err)
	}
	next := d.Clone()
	next.ETag, next.Version = "v9", d.Version+1
	next.Encode()
	if err := st.SaveSession(ctx, d, next); !errors.Is(err, sessions.ErrContended) {
		t.Errorf("a write while a combining write holds the session: %v, want ErrContended", err)
	}
	sessionstore.Release(st, ctx, key, "combiner")
}

// TestCrowdOnDynamoDB: 24 players join one session at once through the
// service with its queue: every one gets in, each once, and nothing is
// left waiting.
func TestCrowdOnDynamoDB(t *testing.T) {
	tb, st, _ := writeTable(t)
	mem := configs()
	vis, seats := xbl.OpenVis, 32
	create := joinAs(true)
	create.Constants = &sessions.ConstantsChange{Visibility: &vis, MaxMembers: &seats}
	mustPut(t, st, mem, player(1), sessions.Condition{}, create, wt0)
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Go(func() {
			s := service(mem, st, wt0)
			s.Queue = st
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := s.Put(ctx, player(xbl.XUID(100+i)), wref, sessions.Condition{}, joinAs(true))
			if err != nil || res.Outcome != sessions.Updated || res.Doc.Member(xbl.XUID(100+i)) == nil {
				t.Errorf("join %d: %+v %v", i, res, err)
			}
		})
	}
	wg.Wait()
	d, err := st.Session(context.Background(), scidA, "lobby", "game-1")
	if err != nil || len(d.Members) != 25 {
		t.Fatalf("after 24 joins at once: %d members, %v", len(d.Members), err)
	}
	out, err := tb.Client.Query(context.Background(), &dynamodb.QueryInput{
		TableName: aws.String(tb.Name), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :w)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: store.SessionKey(scidA, "lobby", "game-1").PK},
			":w":  &types.AttributeValueMemberS{Value: store.PrefixQueued},
		},
	})
	if err != nil || len(out.Items) != 0 {
		t.Errorf("left waiting: %d items, %v", len(out.Items), err)
	}
}

// TestReservedOnlySessionsEnd: a session whose last joined member left
// while seats are still reserved carries a time to live, the latest of
// those reservations' expiries, on its document, its head and the copies
// of its head; a player who takes a reserved seat removes it.
func TestReservedOnlySessionsEnd(t *testing.T) {
	tb, st, _ := writeTable(t)
	mem := configs()
	ctx := context.Background()
	mustPut(t, st, mem, player(1), sessions.Condition{}, joinAs(true), wt0)
	res := mustPut(t, st, mem, player(1), sessions.Condition{}, &sessions.Change{Members: map[string]*sessions.MemberChange{"reserve_0": {XUID: 2}, "reserve_1": {XUID: 3}}}, wt0)
	end := res.Doc.Member(3).ReservedUntil
	ttls := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, pk := range []string{store.SessionKey(scidA, "lobby", "game-1").PK, store.UserSCID(2, scidA)} {
			page, err := tb.Client.Query(ctx, &dynamodb.QueryInput{
				TableName: aws.String(tb.Name), KeyConditionExpression: aws.String("pk = :pk"), ConsistentRead: aws.Bool(true),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				if ttl, ok := it[store.AttrTTL].(*types.AttributeValueMemberN); ok {
					sk := it[store.AttrSK].(*types.AttributeValueMemberS).Value
					out[sk[:min(len(sk), 3)]] = ttl.Value
				}
			}
		}
		return out
	}
	if got := ttls(); len(got) != 0 {
		t.Fatalf("a session with a member has a time to live: %v", got)
	}
	mustPut(t, st, mem, player(1), sessions.Condition{}, &sessions.Change{Members: map[string]*sessions.MemberChange{"me": nil}}, wt0)
	want := fmt.Sprint(end.Add(time.Second).Truncate(time.Second).Unix())
	if got := ttls(); got["doc"] != want || got["hea"] != want || got["mt#"] != want {
		t.Errorf("reservations only: time to live %v, want %s on the document, the head and the copies", got, want)
	}
	mustPut(t, st, mem, player(2), sessions.Condition{}, joinAs(true), wt0)
	if got := ttls(); len(got) != 0 {
		t.Errorf("after a reserved player joined: %v", got)
	}
}

// TestDisconnectCrowd: 24 members' connections close at once (a server
// restart, a network cut): through the queue, every one of them ends up
// inactive, none lost to the others' writes.
func TestDisconnectCrowd(t *testing.T) {
	_, st, _ := writeTable(t)
	mem := configs()
	vis, seats := xbl.OpenVis, 32
	on := true
	withConn := func(x xbl.XUID) *sessions.Change {
		return &sessions.Change{Members: map[string]*sessions.MemberChange{"me": {Active: &on,
			PropertiesSystem: map[string]json.RawMessage{"connection": json.RawMessage(fmt.Sprintf(`"c%d"`, x))}}}}
	}
	create := withConn(100)
	create.Constants = &sessions.ConstantsChange{Visibility: &vis, MaxMembers: &seats}
	mustPut(t, st, mem, player(100), sessions.Condition{}, create, wt0)
	for i := range 23 {
		mustPut(t, st, mem, player(xbl.XUID(101+i)), sessions.Condition{}, withConn(xbl.XUID(101+i)), wt0)
	}
	var wg sync.WaitGroup
	for i := range 24 {
		x := xbl.XUID(100 + i)
		wg.Go(func() {
			s := service(mem, st, wt0)
			s.Queue = st
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Disconnected(ctx, wref, x, fmt.Sprintf("c%d", x)); err != nil {
				t.Errorf("disconnect of %d: %v", x, err)
			}
		})
	}
	wg.Wait()
	d, err := st.Session(context.Background(), scidA, "lobby", "game-1")
	if err != nil || len(d.Members) != 24 {
		t.Fatalf("after the disconnects: %+v %v", d, err)
	}
	for _, m := range d.Members {
		if m.Active {
			t.Errorf("member %d is still active", m.XUID)
		}
	}
}

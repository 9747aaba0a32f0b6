package sessionstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/memstore"
	"github.com/xblread/xblread/pkg/store/sessionstore"
	"github.com/xblread/xblread/pkg/xbl"
)

const writeConfig = `{"serviceConfigs": [{"scid": "` + scidA + `", "titleIds": ["1297287135"], "sandboxes": ["RETAIL"]}]}`

var (
	wt0  = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	wref = sessions.Ref{SCIDRaw: scidA, SCID: scidA, Template: "lobby", Name: "game-1"}
)

func player(x xbl.XUID) *xbl.Caller {
	return &xbl.Caller{XUID: x, Gamertag: fmt.Sprint("P", x), TitleID: "1297287135", Sandbox: "RETAIL"}
}

var gameServer = &xbl.Caller{TitleID: "1297287135", Sandbox: "RETAIL", Server: true}

func joinAs(active bool) *sessions.Change {
	return &sessions.Change{Members: map[string]*sessions.MemberChange{"me": {Active: &active}}}
}

// writeTable is an empty table with the write tests' configuration, a
// store over it, and a test clock (Unix ns) for the service and queries.
func writeTable(t *testing.T) (store.Table, *sessionstore.Store, *atomic.Int64) {
	t.Helper()
	tb := ddbtest.EmptyTable(t)
	ddbtest.LoadText(t, tb, writeConfig)
	var now atomic.Int64
	now.Store(wt0.UnixNano())
	return tb, sessionstore.New(tb), &now
}

func mustPut(t *testing.T, st sessions.Store, configs xbl.ConfigReader, c *xbl.Caller, cond sessions.Condition, ch *sessions.Change, now time.Time) *sessions.WriteResult {
	t.Helper()
	res, err := service(configs, st, now).Put(context.Background(), c, wref, cond, ch)
	if err != nil {
		t.Fatalf("Put as %d: %v", c.XUID, err)
	}
	return res
}

// items returns every item of the partitions pks, by partition and sort
// key.
func items(t *testing.T, tb store.Table, pks ...string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, pk := range pks {
		page, err := tb.Client.Query(context.Background(), &dynamodb.QueryInput{
			TableName: aws.String(tb.Name), KeyConditionExpression: aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		})
		if err != nil {
			t.Fatal(err)
		}
		out[pk] = len(page.Items)
	}
	return out
}

// TestWritesAsTheMemstoreDoes runs one sequence of writes on DynamoDB
// Local and on memstore: every query answers the same after every step,
// and the document read back is the one written. At the end no item of
// the session is left.
func TestWritesAsTheMemstoreDoes(t *testing.T) {
	tb, st, now := writeTable(t)
	mem := configs()
	kw := func(k ...string) *sessions.Change {
		return &sessions.Change{Properties: &sessions.PropertiesChange{Keywords: &k}}
	}
	steps := []struct {
		caller *xbl.Caller
		ch     *sessions.Change
		wait   time.Duration
	}{
		{player(1), joinAs(true), 0},
		{player(2), joinAs(false), 0},
		{player(1), kw("red", "blue"), 0},
		{player(1), &sessions.Change{Members: map[string]*sessions.MemberChange{"reserve_0": {XUID: 3}, "reserve_1": {XUID: 4}}}, time.Second},
		{player(1), &sessions.Change{Properties: &sessions.PropertiesChange{Turn: &[]int{1}, JoinRestriction: ptr("local")}}, 0},
		{player(3), joinAs(true), time.Second},
		{player(1), kw("blue", "green"), 40 * time.Second}, // 4's reservation has expired
		{player(2), &sessions.Change{Members: map[string]*sessions.MemberChange{"me": nil}}, 0},
		{player(1), &sessions.Change{Members: map[string]*sessions.MemberChange{"me": nil}}, 0},
		{player(3), &sessions.Change{Members: map[string]*sessions.MemberChange{"me": nil}}, 0},
	}
	configs := mem // both stores read the configuration from memory
	for i, s := range steps {
		now.Add(int64(s.wait))
		at := time.Unix(0, now.Load()).UTC()
		a := mustPut(t, st, configs, s.caller, sessions.Condition{}, s.ch, at)
		b := mustPut(t, mem, configs, s.caller, sessions.Condition{}, s.ch, at)
		if a.Outcome != b.Outcome {
			t.Fatalf("step %d: outcome %v on DynamoDB, %v in memory", i, a.Outcome, b.Outcome)
		}
		stored, err := st.Session(context.Background(), scidA, "lobby", "game-1")
		if err != nil {
			t.Fatal(err)
		}
		if a.Doc != nil && !sameDoc(stored, a.Doc) {
			t.Errorf("step %d: stored document differs from the written one:\n%+v\n%+v", i, stored, a.Doc)
		}
		for _, x := range []xbl.XUID{1, 2, 3, 4} {
			got, _, err1 := st.UserSessions(context.Background(), x, every(at, ""), 10)
			want, _, err2 := mem.UserSessions(context.Background(), x, every(at, ""), 10)
			if err1 != nil || err2 != nil || !reflect.DeepEqual(norm(got), norm(want)) {
				t.Errorf("step %d: sessions of %d:\n%+v %v\nmemstore %+v %v", i, x, got, err1, want, err2)
			}
		}
		for _, k := range []string{"red", "blue", "green"} {
			got, _, err1 := st.KeywordSessions(context.Background(), every(at, k), 10)
			want, _, err2 := mem.KeywordSessions(context.Background(), every(at, k), 10)
			if err1 != nil || err2 != nil || !reflect.DeepEqual(norm(got), norm(want)) {
				t.Errorf("step %d: sessions with %s:\n%+v %v\nmemstore %+v %v", i, k, got, err1, want, err2)
			}
		}
	}
	key := store.SessionKey(scidA, "lobby", "game-1")
	pks := []string{key.PK, store.KeywordPK(scidA, "red"), store.KeywordPK(scidA, "blue"), store.KeywordPK(scidA, "green")}
	for x := range 5 {
		pks = append(pks, store.UserSCID(xbl.XUID(x), scidA))
	}
	for pk, n := range items(t, tb, pks...) {
		if n != 0 {
			t.Errorf("%d items left in %s after the last member left", n, pk)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// countedStore is a store over tb whose DynamoDB calls counter counts.
func countedStore(t *testing.T, tb store.Table) (*sessionstore.Store, *ddbtest.Counter) {
	client, counter := ddbtest.CountingClient(t)
	return sessionstore.New(store.Table{Client: client, Name: tb.Name}), counter
}

// service is the session service over configs and st whose clock stands
// at now.
func service(configs xbl.ConfigReader, st sessions.Store, now time.Time) *sessions.Service {
	return &sessions.Service{Configs: configs, Store: st, Now: func() time.Time { return now }}
}

// every is the filter of a query that asks for every row at now: of the
// user's sessions, or of keyword's when it is not empty.
func every(now time.Time, keyword string) *sessions.Filter {
	return &sessions.Filter{SCID: scidA, Keyword: keyword, Private: true, Reservations: true, Inactive: true, Now: now}
}

// configs is an in-memory source of the tests' SCID configuration.
func configs() *memstore.Store {
	mem := memstore.New()
	mem.Load(&xbl.Dataset{Configs: []xbl.ServiceConfig{{SCID: scidA, TitleIDs: []string{"1297287135"}, Sandboxes: []string{"RETAIL"}}}})
	return mem
}

func norm(s []sessions.Session) []sessions.Session {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	for i := range out {
		out[i].StartTime = out[i].StartTime.UTC()
	}
	return out
}

func sameDoc(a, b *sessions.Doc) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// TestRacingIfMatch: two store instances (two function instances) update
// one session with the same ETag at once: exactly one wins, the other gets
// ConditionFailed with the winner's session. Without a condition, both
// writes apply (one after the other).
func TestRacingIfMatch(t *testing.T) {
	tb, st, _ := writeTable(t)
	other := sessionstore.New(store.Table{Client: ddbtest.Client(t), Name: tb.Name})
	mem := configs()
	etag := mustPut(t, st, mem, player(1), sessions.Condition{}, joinAs(true), wt0).Doc.ETag
	for round := range 10 {
		var wg sync.WaitGroup
		res := make([]*sessions.WriteResult, 2)
		for i, s := range []sessions.Store{st, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k := []string{fmt.Sprintf("r%d-w%d", round, i)}
				r, err := service(mem, s, wt0).Put(context.Background(), player(1), wref, sessions.Condition{IfMatch: []string{etag}}, &sessions.Change{Properties: &sessions.PropertiesChange{Keywords: &k}})
				if err != nil {
					t.Error(err)
				}
				res[i] = r
			}()
		}
		wg.Wait()
		if res[0] == nil || res[1] == nil {
			t.FailNow()
		}
		won, lost := res[0], res[1]
		if won.Outcome != sessions.Updated {
			won, lost = lost, won
		}
		if won.Outcome != sessions.Updated || lost.Outcome != sessions.ConditionFailed || lost.Doc.ETag != won.Doc.ETag || !slices.Equal(lost.Doc.Keywords, won.Doc.Keywords) {
			t.Fatalf("round %d: %v and %v; want one update and one failed condition with the winner's session", round, res[0].Outcome, res[1].Outcome)
		}
		etag = won.Doc.ETag
	}
	// Unconditional joins from both instances at once all land.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := []sessions.Store{st, other}[i%2]
			if _, err := service(mem, s, wt0).Put(context.Background(), player(xbl.XUID(10+i)), wref, sessions.Condition{}, joinAs(true)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	d, err := st.Session(context.Background(), scidA, "lobby", "game-1")
	if err != nil || len(d.Members) != 9 {
		t.Fatalf("after 8 concurrent joins: %v members, %v", len(d.Members), err)
	}
	for i := range 8 {
		if got, _, _ := st.UserSessions(context.Background(), xbl.XUID(10+i), every(wt0, ""), 1); len(got) != 1 || got[0].Accepted != 9 {
			t.Errorf("member %d: %+v", 10+i, got)
		}
	}
}

// TestHundredMembers: a server reserves 99 seats in one write (more index
// entries than one transaction holds), the players take them, keywords and
// turn change on the full session (a write of the head and document only),
// and when the reservations of those who never came expire, the next write
// removes them all. Every query sees each step.
func TestHundredMembers(t *testing.T) {
	tb, st, now := writeTable(t)
	counted, counter := countedStore(t, tb)
	mem := configs()
	mustPut(t, st, mem, player(1000), sessions.Condition{}, joinAs(true), wt0)
	reserve := &sessions.Change{Members: map[string]*sessions.MemberChange{}}
	for i := range 99 {
		reserve.Members[fmt.Sprint("reserve_", i)] = &sessions.MemberChange{XUID: xbl.XUID(2000 + i)}
	}
	res := mustPut(t, counted, mem, gameServer, sessions.Condition{}, reserve, wt0)
	if len(res.Doc.Members) != 100 {
		t.Fatalf("%d members after 99 reservations", len(res.Doc.Members))
	}
	if counter.Get("BatchWriteItem") == 0 || counter.Get("TransactWriteItems") != 1 {
		t.Errorf("99 reservations: %v; want the entries in BatchWriteItem calls, then one transaction", counter.Ops())
	}
	for _, x := range []xbl.XUID{2000, 2098} {
		if got, _, _ := st.UserSessions(context.Background(), x, every(time.Unix(0, now.Load()).UTC(), ""), 1); len(got) != 1 || got[0].Status != xbl.Reserved || got[0].Visibility != xbl.Full {
			t.Errorf("reserved %d: %+v", x, got)
		}
	}
	// Fifty players take their seats.
	for i := range 50 {
		mustPut(t, st, mem, player(xbl.XUID(2000+i)), sessions.Condition{}, joinAs(true), wt0.Add(time.Second))
	}
	counter.Reset()
	kws := []string{"ranked", "eu"}
	res = mustPut(t, counted, mem, player(1000), sessions.Condition{}, &sessions.Change{Properties: &sessions.PropertiesChange{Keywords: &kws, Turn: &[]int{5}}}, wt0.Add(2*time.Second))
	// The new keywords' entries first (one BatchWriteItem), then the commit.
	if counter.Get("TransactWriteItems") != 1 || counter.Get("BatchWriteItem") != 1 || len(res.Doc.Members) != 100 {
		t.Errorf("keywords and turn on a 100-member session: %v, %d members", counter.Ops(), len(res.Doc.Members))
	}
	if got, _, _ := st.UserSessions(context.Background(), 2004, every(time.Unix(0, now.Load()).UTC(), ""), 1); len(got) != 1 || !got[0].MyTurn || !slices.Equal(got[0].Keywords, kws) || got[0].Accepted != 51 {
		t.Errorf("member at index 5: %+v", got)
	}
	if got, _, _ := st.KeywordSessions(context.Background(), every(time.Unix(0, now.Load()).UTC(), "eu"), 1); len(got) != 1 {
		t.Errorf("keyword eu: %+v", got)
	}
	// Swapping all 32 keywords of the full session at once (64 entries out,
	// 64 in: more than a transaction holds besides the commit).
	for round, prefix := range []string{"a", "b"} {
		var kw []string
		for i := range sessions.MaxKeywords {
			kw = append(kw, fmt.Sprint(prefix, i))
		}
		mustPut(t, st, mem, player(1000), sessions.Condition{}, &sessions.Change{Properties: &sessions.PropertiesChange{Keywords: &kw}}, wt0.Add(3*time.Second))
		if got, _, _ := st.KeywordSessions(context.Background(), every(time.Unix(0, now.Load()).UTC(), prefix+"31"), 1); len(got) != 1 {
			t.Errorf("round %d: keyword %s31: %+v", round, prefix, got)
		}
	}
	for _, k := range []string{"a0", "eu"} {
		if got, _, _ := st.KeywordSessions(context.Background(), every(time.Unix(0, now.Load()).UTC(), k), 1); len(got) != 0 {
			t.Errorf("replaced keyword %s still finds the session: %+v", k, got)
		}
	}
	if pks := items(t, tb, store.KeywordPK(scidA, "a5")); pks[store.KeywordPK(scidA, "a5")] != 0 {
		t.Errorf("entries of a replaced keyword left: %v", pks)
	}
	// The 49 reservations left expire: not rows, not counted; the next
	// write removes them and their entries.
	now.Add(int64(time.Minute))
	if got, _, _ := st.UserSessions(context.Background(), 2099-1, every(time.Unix(0, now.Load()).UTC(), ""), 1); len(got) != 0 {
		t.Errorf("expired reservation still found: %+v", got)
	}
	if got, _, _ := st.UserSessions(context.Background(), 1000, every(time.Unix(0, now.Load()).UTC(), ""), 1); len(got) != 1 || got[0].Visibility != xbl.OpenVis {
		t.Errorf("after expiry, the session is no longer full: %+v", got)
	}
	res = mustPut(t, st, mem, player(1000), sessions.Condition{}, &sessions.Change{Properties: &sessions.PropertiesChange{Turn: &[]int{0}}}, time.Unix(0, now.Load()).UTC())
	if len(res.Doc.Members) != 51 {
		t.Errorf("%d members after the expired reservations went, want 51", len(res.Doc.Members))
	}
	var pks []string
	for i := 50; i < 99; i++ {
		pks = append(pks, store.UserSCID(xbl.XUID(2000+i), scidA))
	}
	for pk, n := range items(t, tb, pks...) {
		if n != 0 {
			t.Errorf("%s: %d entries left after its reservation expired and was removed", pk, n)
		}
	}
}

// TestNoTornRows: while one writer flips a session between two states
// (keywords and turn change together), every row a query returns is one
// of the two states, never a mix.
func TestNoTornRows(t *testing.T) {
	_, st, _ := writeTable(t)
	mem := configs()
	mustPut(t, st, mem, player(1), sessions.Condition{}, joinAs(true), wt0)
	mustPut(t, st, mem, player(2), sessions.Condition{}, joinAs(true), wt0)
	states := []*sessions.Change{
		{Properties: &sessions.PropertiesChange{Keywords: &[]string{"a"}, Turn: &[]int{0}}},
		{Properties: &sessions.PropertiesChange{Keywords: &[]string{"b"}, Turn: &[]int{1}}},
	}
	done := make(chan struct{})
	defer func() { <-done }()
	go func() {
		defer close(done)
		for i := range 30 {
			if _, err := service(mem, st, wt0).Put(context.Background(), player(1), wref, sessions.Condition{}, states[i%2]); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	reads := 0
	for {
		select {
		case <-done:
			if reads == 0 {
				t.Error("no reads during the writes")
			}
			return
		default:
		}
		got, _, err := st.UserSessions(context.Background(), 1, every(wt0, ""), 1)
		if err != nil {
			t.Fatal(err)
		}
		reads++
		if len(got) == 1 && len(got[0].Keywords) == 1 {
			// Member 1 has index 0: its turn goes with keyword a.
			if (got[0].Keywords[0] == "a") != got[0].MyTurn {
				t.Fatalf("torn row: keywords %v, myTurn %v", got[0].Keywords, got[0].MyTurn)
			}
		}
	}
}

// TestCopiesComeAndGo: a small session's entries carry copies of its head
// (a query reads entries only); when a write's entries no longer fit in
// one transaction the copies go (a query reads heads), and they come back
// with the first write that fits again. Every query answers the committed
// state throughout.
func TestCopiesComeAndGo(t *testing.T) {
	tb, st, now := writeTable(t)
	counted, counter := countedStore(t, tb)
	mem := configs()
	at := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	heads := func(x xbl.XUID, wantStatus xbl.MemberStatus) int {
		t.Helper()
		counter.Reset()
		got, _, err := counted.UserSessions(context.Background(), x, every(at(), ""), 1)
		if err != nil || len(got) != 1 || got[0].Status != wantStatus {
			t.Fatalf("sessions of %d: %+v %v, want one, %s", x, got, err, wantStatus)
		}
		return counter.Get("BatchGetItem")
	}
	kw := []string{"k"}
	mustPut(t, st, mem, player(1), sessions.Condition{}, &sessions.Change{Members: map[string]*sessions.MemberChange{"me": {Active: ptr(true)}}, Properties: &sessions.PropertiesChange{Keywords: &kw}}, at())
	if n := heads(1, xbl.Active); n != 0 {
		t.Errorf("small session: %d BatchGetItem, want none (entries carry the head)", n)
	}
	reserve := &sessions.Change{Members: map[string]*sessions.MemberChange{}}
	for i := range 60 {
		reserve.Members[fmt.Sprint("reserve_", i)] = &sessions.MemberChange{XUID: xbl.XUID(3000 + i)}
	}
	mustPut(t, st, mem, player(1), sessions.Condition{}, reserve, at())
	if n := heads(1, xbl.Active); n != 1 {
		t.Errorf("61 members: %d BatchGetItem, want 1 (the head)", n)
	}
	if n := heads(3059, xbl.Reserved); n != 1 {
		t.Errorf("61 members, a reservation: %d BatchGetItem, want 1", n)
	}
	if got, _, _ := st.KeywordSessions(context.Background(), every(at(), "k"), 1); len(got) != 1 || got[0].Accepted != 1 {
		t.Errorf("keyword query of the large session: %+v", got)
	}
	now.Add(int64(time.Minute)) // the reservations expire
	for i, turn := range [][]int{{0}, nil} {
		mustPut(t, st, mem, player(1), sessions.Condition{}, &sessions.Change{Properties: &sessions.PropertiesChange{Turn: &turn}}, at())
		if got, _, _ := st.UserSessions(context.Background(), 3000, every(at(), ""), 1); len(got) != 0 {
			t.Errorf("write %d: an expired reservation is a row: %+v", i, got)
		}
	}
	if n := heads(1, xbl.Active); n != 0 {
		t.Errorf("small again: %d BatchGetItem, want none", n)
	}
	d, err := st.Session(context.Background(), scidA, "lobby", "game-1")
	if err != nil || !d.Copies || len(d.Members) != 1 {
		t.Errorf("document: copies %v, %d members, %v", d.Copies, len(d.Members), err)
	}
}

// TestEntriesOfAnEarlierSession: an index entry left by an earlier session
// of the same name (another start time) is never a row of the new one.
func TestEntriesOfAnEarlierSession(t *testing.T) {
	tb, st, _ := writeTable(t)
	mem := configs()
	d := mustPut(t, st, mem, player(1), sessions.Condition{}, joinAs(true), wt0).Doc
	// A stale entry of player 1 at an earlier start time, as a lost commit
	// of the large path could leave it.
	earlier := wt0.Add(-time.Hour)
	stale := sessionstore.Item{Key: store.MembershipKeys(1, scidA, d.Template, d.Name, earlier)[0], Index: ptr(0),
		HeadFields: sessionstore.HeadFields{Template: d.Template, Name: d.Name, StartTime: earlier.Format(store.TimeLayout)}}
	av, err := store.Marshal(stale)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(tb.Name), Item: av}); err != nil {
		t.Fatal(err)
	}
	got, _, err := st.UserSessions(context.Background(), 1, every(wt0, ""), 10)
	if err != nil || len(got) != 1 || !got[0].StartTime.Equal(wt0) {
		t.Errorf("sessions of 1: %+v %v, want the session once, at its start time", got, err)
	}
}

// TestLongKeywordsNoCopies: a session whose head is large (32 keywords of
// 200 bytes) keeps entries without copies, so a write does not rewrite 8 KB
// into every entry; queries read its head.
func TestLongKeywordsNoCopies(t *testing.T) {
	tb, st, _ := writeTable(t)
	counted, counter := countedStore(t, tb)
	var kw []string
	for i := range sessions.MaxKeywords {
		kw = append(kw, fmt.Sprintf("%03d%s", i, strings.Repeat("k", 197)))
	}
	mustPut(t, st, configs(), player(1), sessions.Condition{}, &sessions.Change{Members: map[string]*sessions.MemberChange{"me": {Active: ptr(true)}}, Properties: &sessions.PropertiesChange{Keywords: &kw}}, wt0)
	d, err := st.Session(context.Background(), scidA, "lobby", "game-1")
	if err != nil || d.Copies {
		t.Fatalf("copies %v, %v: want none for an 8 KB head", d.Copies, err)
	}
	counter.Reset()
	got, _, err := counted.KeywordSessions(context.Background(), every(wt0, kw[31]), 1)
	if err != nil || len(got) != 1 || counter.Get("BatchGetItem") != 1 {
		t.Errorf("keyword query: %+v %v, %v", got, err, counter.Ops())
	}
}

// TestKeywordsAreCaseInsensitive: a keyword query finds a session in any
// letter case of its keyword, and the row holds the keyword in its
// canonical form (xbl.FoldKeyword), as the session keeps it.
func TestKeywordsAreCaseInsensitive(t *testing.T) {
	_, st, _ := writeTable(t)
	kw := []string{"Ranked"}
	mustPut(t, st, configs(), player(1), sessions.Condition{}, &sessions.Change{Members: map[string]*sessions.MemberChange{"me": {Active: ptr(true)}}, Properties: &sessions.PropertiesChange{Keywords: &kw}}, wt0)
	for _, q := range []string{"Ranked", "ranked", "RANKED"} {
		got, _, err := st.KeywordSessions(context.Background(), every(wt0, q), 1)
		if err != nil || len(got) != 1 || got[0].Keywords[0] != "ranked" {
			t.Errorf("keyword %s: %+v %v", q, got, err)
		}
	}
}

// TestCopiesForLobbiesOnly: 16 members keep copies in their 32 entries;
// the 17th member's write strips them (every write would otherwise
// rewrite 34+ entries).
func TestCopiesForLobbiesOnly(t *testing.T) {
	_, st, _ := writeTable(t)
	mem := configs()
	reserve := &sessions.Change{Members: map[string]*sessions.MemberChange{"me": {Active: ptr(true)}}}
	for i := range 15 {
		reserve.Members[fmt.Sprint("reserve_", i)] = &sessions.MemberChange{XUID: xbl.XUID(500 + i)}
	}
	mustPut(t, st, mem, player(1), sessions.Condition{}, reserve, wt0)
	if d, _ := st.Session(context.Background(), scidA, "lobby", "game-1"); !d.Copies || len(d.Members) != 16 {
		t.Fatalf("16 members: copies %v, %d members", d.Copies, len(d.Members))
	}
	mustPut(t, st, mem, player(2), sessions.Condition{}, joinAs(true), wt0)
	if d, _ := st.Session(context.Background(), scidA, "lobby", "game-1"); d.Copies || len(d.Members) != 17 {
		t.Errorf("17 members: copies %v, %d members", d.Copies, len(d.Members))
	}
	if got, _, _ := st.UserSessions(context.Background(), 514, every(wt0, ""), 1); len(got) != 1 || got[0].Accepted != 2 {
		t.Errorf("a reserved member after the switch: %+v", got)
	}
}

// TestWhatAWriteCosts counts what one write to a lobby of four with two
// keywords sends: one strongly consistent GetItem of the document, one
// UpdateItem claiming the version read (see claim), and one transaction of
// the document, the claim's delete, the head and the 12 index entries
// (their copies of the head rewritten); a write that changes nothing reads the
// document and writes nothing.
func TestWhatAWriteCosts(t *testing.T) {
	tb, st, _ := writeTable(t)
	counted, counter := countedStore(t, tb)
	mem := configs()
	kws := []string{"ranked", "eu"}
	mustPut(t, st, mem, player(1), sessions.Condition{}, &sessions.Change{Members: map[string]*sessions.MemberChange{"me": {Active: ptr(true)}}, Properties: &sessions.PropertiesChange{Keywords: &kws}}, wt0)
	for x := range xbl.XUID(2) {
		mustPut(t, st, mem, player(2+x), sessions.Condition{}, joinAs(true), wt0)
	}
	transactItems := func() []int {
		var n []int
		for _, body := range counter.Bodies("TransactWriteItems") {
			var in struct{ TransactItems []json.RawMessage }
			if err := json.Unmarshal([]byte(body), &in); err != nil {
				t.Fatal(err)
			}
			n = append(n, len(in.TransactItems))
		}
		return n
	}
	counter.Reset()
	mustPut(t, counted, mem, player(5), sessions.Condition{}, joinAs(true), wt0)
	if got := counter.Ops(); !slices.Equal(got, []string{"GetItem", "TransactWriteItems", "UpdateItem"}) || counter.Get("GetItem") != 1 || counter.Get("UpdateItem") != 1 || !slices.Equal(transactItems(), []int{3 + 4*2 + 2*2}) {
		t.Errorf("a join: %v, GetItem %d, UpdateItem %d, transaction items %v; want 1 GetItem, 1 UpdateItem (the claim) and one transaction of 15 items", got, counter.Get("GetItem"), counter.Get("UpdateItem"), transactItems())
	}
	counter.Reset()
	if res := mustPut(t, counted, mem, player(5), sessions.Condition{}, joinAs(true), wt0); res.Outcome != sessions.Updated {
		t.Fatalf("repeat: %v", res.Outcome)
	}
	if got := counter.Ops(); !slices.Equal(got, []string{"GetItem"}) || counter.Get("GetItem") != 1 {
		t.Errorf("a write that changes nothing: %v; want 1 GetItem and no write", got)
	}
}

// lostAnswer is an HTTP client whose first TransactWriteItems reaches
// DynamoDB, is applied, and whose answer is lost: the caller sees its
// context end, as a commit cut short by the deadline does.
type lostAnswer struct {
	inner *http.Client
	lost  atomic.Bool
}

func (h *lostAnswer) Do(r *http.Request) (*http.Response, error) {
	resp, err := h.inner.Do(r)
	if err != nil || !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".TransactWriteItems") || h.lost.Swap(true) {
		return resp, err
	}
	resp.Body.Close()
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// TestAppliedIsNeverBusy: a join whose commit was applied but whose answer
// was lost at the deadline is answered by what is stored (the member is
// in), never Unavailable; the transaction sent again with its token does
// not apply it twice.
func TestAppliedIsNeverBusy(t *testing.T) {
	tb, _, _ := writeTable(t)
	h := &lostAnswer{inner: &http.Client{}}
	client, err := store.NewClient(context.Background(), ddbtest.Endpoint(t), func(o *dynamodb.Options) { o.HTTPClient = h })
	if err != nil {
		t.Fatal(err)
	}
	st := sessionstore.New(store.Table{Client: client, Name: tb.Name})
	mustPut(t, sessionstore.New(tb), configs(), player(1), sessions.Condition{}, joinAs(true), wt0)
	h.lost.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	res, err := service(configs(), st, wt0).Put(ctx, player(2), wref, sessions.Condition{}, joinAs(true))
	if err != nil || res.Outcome != sessions.Updated || res.Doc.Member(2) == nil {
		t.Fatalf("an applied join whose answer was lost: %+v %v", res, err)
	}
	d, err := sessionstore.New(tb).Session(context.Background(), wref.SCID, wref.Template, wref.Name)
	if err != nil || d.ETag != res.Doc.ETag || len(d.Members) != 2 {
		t.Errorf("stored: %+v %v, want the answered version with 2 members", d, err)
	}
}

package rtastore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/rta"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/rtastore"
	"github.com/xblread/xblread/pkg/xbl"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

// opened is the tests' opening time: in a zone other than UTC, and to
// 100 ns (what store.TimeLayout keeps).
var opened = time.Date(2026, 11, 20, 13, 45, 30, 123_456_700, time.FixedZone("UTC-5", -5*3600))

// conn returns a connection of player x opened at opened, at version 1,
// with subs (none when nil: an empty map, as rta.Service.Connect makes).
func conn(id string, x xbl.XUID, subs map[int64]string) *rta.Connection {
	if subs == nil {
		subs = map[int64]string{}
	}
	return &rta.Connection{ID: id, XUID: x, TitleID: "1297287135", Opened: opened, Subs: subs, NextSub: int64(len(subs)) + 1, Version: 1}
}

// same reports whether a and b are the same connection: Opened the same
// instant, every other field equal (Subs compared as maps, so an empty
// one equals only an empty one, never nil).
func same(a, b *rta.Connection) bool {
	if a == nil || b == nil {
		return a == b
	}
	if !a.Opened.Equal(b.Opened) || (a.Subs == nil) != (b.Subs == nil) {
		return false
	}
	x, y := *a, *b
	x.Opened, y.Opened = time.Time{}, time.Time{}
	return reflect.DeepEqual(x, y)
}

// rawItem reads the item of connection id as DynamoDB holds it (nil when
// there is none).
func rawItem(t *testing.T, tb store.Table, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := tb.Client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(tb.Name), Key: store.ConnectionKey(id).AV(), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

// read returns connection id as Connections answers it (nil: left out).
func read(t *testing.T, st *rtastore.Store, id string) *rta.Connection {
	t.Helper()
	cs, err := st.Connections(context.Background(), []string{id})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) > 1 {
		t.Errorf("Connections of one id answered %v", slices.Sorted(maps.Keys(cs)))
	}
	return cs[id]
}

// TestRoundTrip: every field of a connection reads back as it was put (the
// largest XUID, a subscription id past 2^53, the opening time to 100 ns in
// another zone); a connection with no subscriptions reads back with an
// empty, non-nil Subs; a put on condition of the version read replaces
// the connection; and a put of a new connection (prev 0) where one is
// stored already is ErrChanged.
func TestRoundTrip(t *testing.T) {
	tb := ddbtest.EmptyTable(t)
	st := rtastore.New(tb)
	ctx := context.Background()

	full := &rta.Connection{
		ID: "L0SM9cOFvHcCIhw=", XUID: 18446744073709551615, TitleID: "1717113201", Opened: opened,
		Subs:    map[int64]string{1: rta.ConnectionsResource, 7: "https://example.com/ü?a=b", 1<<53 + 1: "r"},
		NextSub: 1<<53 + 2, Version: 9,
	}
	empty := conn("no-subs", 2533274792693551, nil)
	for _, c := range []*rta.Connection{full, empty} {
		if err := st.PutConnection(ctx, c, 0); err != nil {
			t.Fatalf("put %s: %v", c.ID, err)
		}
		got := read(t, st, c.ID)
		if !same(got, c) {
			t.Errorf("read back %+v\nwant %+v", got, c)
		}
	}
	if got := read(t, st, empty.ID); got != nil && got.Subs == nil {
		t.Errorf("a connection with no subscriptions reads back with nil Subs")
	}

	next := *empty
	next.Subs = map[int64]string{1: rta.ConnectionsResource}
	next.NextSub, next.Version = 2, 2
	if err := st.PutConnection(ctx, &next, 1); err != nil {
		t.Fatalf("put at version 1: %v", err)
	}
	if got := read(t, st, empty.ID); !same(got, &next) {
		t.Errorf("after a put at version 1: %+v\nwant %+v", got, &next)
	}

	again := conn(full.ID, 1, nil)
	if err := st.PutConnection(ctx, again, 0); !errors.Is(err, rta.ErrChanged) {
		t.Errorf("a new connection where one is stored: %v, want ErrChanged", err)
	}
	if got := read(t, st, full.ID); !same(got, full) {
		t.Errorf("after the refused put: %+v\nwant %+v", got, full)
	}
}

// TestPutWrongPrev: a put on condition of a version other than the
// stored one (older, newer, or 0 for none), or of any version where none
// is stored, is ErrChanged and changes nothing: the stored item is what
// it was, and no item appears.
func TestPutWrongPrev(t *testing.T) {
	tb := ddbtest.EmptyTable(t)
	st := rtastore.New(tb)
	ctx := context.Background()

	c := conn("c1", 1, map[int64]string{1: rta.ConnectionsResource})
	c.Version = 3
	if err := st.PutConnection(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	before := rawItem(t, tb, c.ID)
	for _, prev := range []int64{0, 2, 4} {
		changed := conn(c.ID, 2, map[int64]string{5: "other"})
		changed.Version = prev + 1
		if err := st.PutConnection(ctx, changed, prev); !errors.Is(err, rta.ErrChanged) {
			t.Errorf("put at version %d of a connection at 3: %v, want ErrChanged", prev, err)
		}
		if after := rawItem(t, tb, c.ID); !reflect.DeepEqual(after, before) {
			t.Errorf("after a refused put at version %d the item is %v, want %v", prev, after, before)
		}
	}
	if err := st.PutConnection(ctx, conn("missing", 1, nil), 1); !errors.Is(err, rta.ErrChanged) {
		t.Errorf("put at version 1 of a connection that is not stored: %v, want ErrChanged", err)
	}
	if it := rawItem(t, tb, "missing"); it != nil {
		t.Errorf("a refused put stored %v", it)
	}
}

// TestConcurrentReadModifyWrite: two writers each add 20 subscriptions to
// one connection, each addition a read, a change and a put on condition of
// the version read, again on ErrChanged. Their first puts both follow
// both first reads, so at least one put is refused; in the end all 40
// subscriptions are there, each once, under ids 1 to 40, and the version
// counts 41 (1 + one per addition): no addition was lost.
func TestConcurrentReadModifyWrite(t *testing.T) {
	tb := ddbtest.EmptyTable(t)
	st := rtastore.New(tb)
	ctx := context.Background()
	const id, each = "shared", 20
	if err := st.PutConnection(ctx, conn(id, 1, nil), 0); err != nil {
		t.Fatal(err)
	}

	var firstReads sync.WaitGroup // both writers read before either puts
	firstReads.Add(2)
	var mu sync.Mutex
	refused := 0
	var g sync.WaitGroup
	for w := range 2 {
		g.Go(func() {
			first := true
			defer func() {
				if first { // failed before its first put: do not hold the other
					firstReads.Done()
				}
			}()
			for i := 0; i < each; {
				cs, err := st.Connections(ctx, []string{id})
				if err != nil || cs[id] == nil {
					t.Errorf("writer %d: read: %v, %v", w, cs, err)
					return
				}
				c := cs[id]
				if first {
					firstReads.Done()
					firstReads.Wait()
					first = false
				}
				prev := c.Version
				c.Subs[c.NextSub] = fmt.Sprintf("writer-%d/%d", w, i)
				c.NextSub++
				c.Version++
				switch err := st.PutConnection(ctx, c, prev); {
				case errors.Is(err, rta.ErrChanged):
					mu.Lock()
					refused++
					mu.Unlock()
				case err != nil:
					t.Errorf("writer %d: put: %v", w, err)
					return
				default:
					i++
				}
			}
		})
	}
	g.Wait()

	c := read(t, st, id)
	if c == nil {
		t.Fatal("the connection is gone")
	}
	var want, got []string
	for w := range 2 {
		for i := range each {
			want = append(want, fmt.Sprintf("writer-%d/%d", w, i))
		}
	}
	for _, res := range c.Subs {
		got = append(got, res)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("subscriptions %v\nwant %v", got, want)
	}
	for sub := int64(1); sub <= 2*each; sub++ {
		if _, ok := c.Subs[sub]; !ok {
			t.Errorf("no subscription %d", sub)
		}
	}
	if c.NextSub != 2*each+1 || c.Version != 2*each+1 {
		t.Errorf("next %d, version %d; want %d and %d", c.NextSub, c.Version, 2*each+1, 2*each+1)
	}
	if refused == 0 {
		t.Errorf("no put was refused, though both writers' first puts followed both first reads")
	}
	t.Logf("%d puts refused", refused)
}

// batchGetBody is what the test reads of a BatchGetItem request.
type batchGetBody struct {
	RequestItems map[string]struct {
		Keys           []map[string]map[string]string
		ConsistentRead bool
	}
}

// TestConnectionsOf150Ids: Connections of 150 ids (80 stored, 40 not, and
// 30 of those asked again) answers exactly the 80 stored ones, each as
// put, in 2 BatchGetItem calls (its 120 distinct ids, at most 100 a call:
// each id asked once), both strongly consistent, and no other call; no
// ids is no call and an empty answer.
func TestConnectionsOf150Ids(t *testing.T) {
	client, counter := ddbtest.CountingClient(t)
	tb := store.Table{Client: client, Name: ddbtest.NewTable(t)}
	st := rtastore.New(tb)
	ctx := context.Background()

	stored := map[string]*rta.Connection{}
	var ids []string
	for i := range 120 {
		id := fmt.Sprintf("conn-%03d", i)
		ids = append(ids, id)
		if i%3 == 2 {
			continue // 40 missing
		}
		c := conn(id, xbl.XUID(1000+i), map[int64]string{1: rta.ConnectionsResource, 2: "r" + strconv.Itoa(i)})
		if err := st.PutConnection(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
		stored[id] = c
	}
	if len(stored) != 80 {
		t.Fatalf("%d stored, want 80", len(stored))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 30 {
		ids = append(ids, ids[i*4]) // repeats of stored and missing ones
	}
	rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })

	counter.Reset()
	got, err := st.Connections(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(stored))) {
		t.Errorf("answered %v\nwant %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(stored)))
	}
	for id, c := range stored {
		if !same(got[id], c) {
			t.Errorf("%s: %+v, want %+v", id, got[id], c)
		}
	}
	if n := counter.Get("BatchGetItem"); n != 2 || counter.Total() != 2 {
		t.Errorf("%d BatchGetItem calls, %d calls in all (%v); want 2 and 2", n, counter.Total(), counter.Ops())
	}
	asked := map[string]int{}
	for _, b := range counter.Bodies("BatchGetItem") {
		var in batchGetBody
		if err := json.Unmarshal([]byte(b), &in); err != nil {
			t.Fatal(err)
		}
		ka := in.RequestItems[tb.Name]
		if len(ka.Keys) > store.MaxBatchGet || !ka.ConsistentRead {
			t.Errorf("a BatchGetItem of %d keys, ConsistentRead %v; want at most %d, strongly consistent", len(ka.Keys), ka.ConsistentRead, store.MaxBatchGet)
		}
		for _, k := range ka.Keys {
			asked[k[store.AttrPK]["S"]]++
		}
	}
	if len(asked) != 120 {
		t.Errorf("%d distinct keys asked, want 120", len(asked))
	}
	for pk, n := range asked {
		if n != 1 {
			t.Errorf("%s asked %d times", pk, n)
		}
	}

	counter.Reset()
	if none, err := st.Connections(ctx, nil); err != nil || none == nil || len(none) != 0 || counter.Total() != 0 {
		t.Errorf("Connections of no ids: %v, %v, %d calls; want an empty map and no call", none, err, counter.Total())
	}
}

// TestUnprocessedKeysAskedAgain: when DynamoDB leaves keys of a
// BatchGetItem unprocessed, Connections asks for them again and answers
// every stored connection; when it never processes any, Connections gives
// up as Unavailable (ErrIncomplete) once the next wait would pass the
// context's deadline.
func TestUnprocessedKeysAskedAgain(t *testing.T) {
	tb := ddbtest.EmptyTable(t)
	ctx := context.Background()
	var ids []string
	for i := range 10 {
		id := "c" + strconv.Itoa(i)
		ids = append(ids, id)
		if err := rtastore.New(tb).PutConnection(ctx, conn(id, 1, nil), 0); err != nil {
			t.Fatal(err)
		}
	}
	p := ddbtest.NewProxy(t)
	client, err := store.NewClient(ctx, p.URL)
	if err != nil {
		t.Fatal(err)
	}
	st := rtastore.New(store.Table{Client: client, Name: tb.Name})

	p.SplitBatchGets(true)
	got, err := st.Connections(ctx, ids)
	if err != nil || len(got) != len(ids) {
		t.Errorf("with keys left unprocessed: %d of %d, %v", len(got), len(ids), err)
	}
	if p.Splits() == 0 {
		t.Errorf("the proxy left no key unprocessed: the test tests nothing")
	}
	p.SplitBatchGets(false)

	p.NeverProcess(true)
	dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	_, err = st.Connections(dctx, ids)
	if derrors.KindOf(err) != derrors.Unavailable || !errors.Is(err, store.ErrIncomplete) {
		t.Errorf("with no key ever processed: %v (kind %v), want Unavailable, ErrIncomplete", err, derrors.KindOf(err))
	}
}

// TestItemAsWritten: the item holds what the package doc and
// ConnectionItem say, as DynamoDB's time to live and a reader of the
// table see it: ttl a number, the Unix second an hour after the
// connection's life (rta.MaxLife) ended; opened in store.TimeLayout, in
// UTC; xuid a decimal string; subs a map by decimal id, left out when
// there are none; next and version numbers.
func TestItemAsWritten(t *testing.T) {
	tb := ddbtest.EmptyTable(t)
	st := rtastore.New(tb)
	ctx := context.Background()
	c := conn("ttl", 2533274792693551, map[int64]string{3: rta.ConnectionsResource})
	c.NextSub, c.Version = 4, 7
	if err := st.PutConnection(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	if err := st.PutConnection(ctx, conn("bare", 1, nil), 0); err != nil {
		t.Fatal(err)
	}

	it := rawItem(t, tb, c.ID)
	wantTTL := opened.Add(rta.MaxLife + time.Hour).Unix()
	if ttl, ok := it[store.AttrTTL].(*types.AttributeValueMemberN); !ok || ttl.Value != strconv.FormatInt(wantTTL, 10) {
		t.Errorf("ttl %#v, want the number %d (%s)", it[store.AttrTTL], wantTTL, time.Unix(wantTTL, 0).UTC())
	}
	want := map[string]types.AttributeValue{
		store.AttrPK:  &types.AttributeValueMemberS{Value: "rta#ttl"},
		store.AttrSK:  &types.AttributeValueMemberS{Value: "conn"},
		"id":          &types.AttributeValueMemberS{Value: "ttl"},
		"xuid":        &types.AttributeValueMemberS{Value: "2533274792693551"},
		"titleId":     &types.AttributeValueMemberS{Value: "1297287135"},
		"opened":      &types.AttributeValueMemberS{Value: "2026-11-20T18:45:30.1234567Z"},
		"subs":        &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"3": &types.AttributeValueMemberS{Value: rta.ConnectionsResource}}},
		"next":        &types.AttributeValueMemberN{Value: "4"},
		"version":     &types.AttributeValueMemberN{Value: "7"},
		store.AttrTTL: &types.AttributeValueMemberN{Value: strconv.FormatInt(wantTTL, 10)},
	}
	if !reflect.DeepEqual(it, want) {
		t.Errorf("item %s\nwant %s", show(it), show(want))
	}
	if bare := rawItem(t, tb, "bare"); bare["subs"] != nil {
		t.Errorf("a connection with no subscriptions has subs %#v; want it left out", bare["subs"])
	}
}

// show prints an item, sorted by attribute.
func show(it map[string]types.AttributeValue) string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(it)) {
		fmt.Fprintf(&b, "%s=%#v ", name, it[name])
	}
	return b.String()
}

// TestDelete: a deleted connection is left out of Connections while the
// others stay; deleting one that is gone (or never was) is no error.
func TestDelete(t *testing.T) {
	tb := ddbtest.EmptyTable(t)
	st := rtastore.New(tb)
	ctx := context.Background()
	for _, id := range []string{"gone", "kept"} {
		if err := st.PutConnection(ctx, conn(id, 1, nil), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.DeleteConnection(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	cs, err := st.Connections(ctx, []string{"gone", "kept"})
	if err != nil || cs["gone"] != nil || cs["kept"] == nil || len(cs) != 1 {
		t.Errorf("after the delete: %v, %v; want kept only", slices.Sorted(maps.Keys(cs)), err)
	}
	for _, id := range []string{"gone", "never"} {
		if err := st.DeleteConnection(ctx, id); err != nil {
			t.Errorf("delete %s, which is not stored: %v", id, err)
		}
	}
}

// TestUnavailable: with DynamoDB out of reach, each call fails as
// Unavailable (store.ErrUnavailable), never as ErrChanged.
func TestUnavailable(t *testing.T) {
	client, err := store.NewClient(context.Background(), ddbtest.DeadEndpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	st := rtastore.New(store.Table{Client: client, Name: "t"})
	ctx := context.Background()
	_, errRead := st.Connections(ctx, []string{"a"})
	for name, err := range map[string]error{
		"PutConnection new":  st.PutConnection(ctx, conn("a", 1, nil), 0),
		"PutConnection prev": st.PutConnection(ctx, conn("a", 1, nil), 1),
		"Connections":        errRead,
		"DeleteConnection":   st.DeleteConnection(ctx, "a"),
	} {
		if derrors.KindOf(err) != derrors.Unavailable || !errors.Is(err, store.ErrUnavailable) || errors.Is(err, rta.ErrChanged) {
			t.Errorf("%s: %v (kind %v), want Unavailable", name, err, derrors.KindOf(err))
		}
	}
}

package sessionstore_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/infra/loader"
	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/sessionsapi"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/memstore"
	"github.com/xblread/xblread/pkg/store/sessionstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// heavy is 400 sessions of 4 members over 100 users (xuids 1 to 100):
// session k has users 4k+1 to 4k+4 (mod 100), so each user is in 16, and
// the 100 users' membership entries number 1,600.
func heavy() *xbl.Dataset {
	ds := &xbl.Dataset{Configs: []xbl.ServiceConfig{{SCID: scidA, TitleIDs: []string{"1297287135"}, Sandboxes: []string{"RETAIL"}}}}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for k := range 400 {
		s := xbl.Session{SCID: scidA, Template: []string{"coop", "deathmatch"}[k%2], Name: fmt.Sprintf("s%03d", k),
			StartTime: t0.Add(time.Duration(k/3) * time.Minute), // ties of three
			Version:   1, Visibility: xbl.OpenVis, Keywords: []string{"k"}}
		for m := range 4 {
			s.Members = append(s.Members, xbl.Member{XUID: xbl.XUID((4*k+m)%100 + 1), Status: xbl.Active})
		}
		ds.Sessions = append(ds.Sessions, s)
	}
	return ds
}

// TestHeavyBatchReadsWhatItAnswers sends the batch of 100 xuids, each in
// 16 sessions, take=100, through a proxy that counts what DynamoDB Local
// returns: at most 400 items (the 1,600 entries of all 100 xuids before),
// and the same answer as the in-memory store gives, byte for byte.
func TestHeavyBatchReadsWhatItAnswers(t *testing.T) {
	tb := ddbtest.EmptyTable(t)
	ds := heavy()
	if _, err := loader.Load(context.Background(), tb, ds, nil); err != nil {
		t.Fatal(err)
	}
	proxy := ddbtest.NewProxy(t)
	client, err := store.NewClient(context.Background(), proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	db := sessionsapi.New(testkit.API(t), tb, sessionstore.New(store.Table{Client: client, Name: tb.Name}))
	mem := memstore.New()
	mem.Load(ds)
	want := sessionsapi.New(testkit.API(t), mem, mem)

	for _, order := range []struct {
		name string
		xuid func(i int) int
	}{{"in xuid order", func(i int) int { return i + 1 }}, {"shuffled", func(i int) int { return (i*37)%100 + 1 }}} {
		t.Run(order.name, func(t *testing.T) {
			var xs []string
			for i := range 100 {
				xs = append(xs, fmt.Sprint(order.xuid(i)))
			}
			body := `{"xuids":[` + strings.Join(xs, ",") + `]}`
			target := "/serviceconfigs/" + scidA + "/batch?take=100"
			w := call(t, want, "POST", target, body)
			proxy.ResetCounts()
			got := call(t, db, "POST", target, body)
			c := proxy.Counts()
			if got.Code != 200 || got.Body.String() != w.Body.String() {
				t.Errorf("DynamoDB answers %d\n%s\nmemstore\n%s", got.Code, got.Body, w.Body)
			}
			if n := strings.Count(got.Body.String(), `"sessionRef"`); n != 100 {
				t.Errorf("%d rows, want 100", n)
			}
			items := c.Items() - c["GetItem"].Items // the configuration's
			if items > 400 {
				t.Errorf("%d items read in %d Query and %d BatchGetItem calls, want at most 400", items, c["Query"].Calls, c["BatchGetItem"].Calls)
			}
			// 16 at once, then one as each ends until 100 rows are read,
			// which 7 reads hold whatever their order: at most 16+6.
			if c["Query"].Calls > 16+6 {
				t.Errorf("%d Query calls, want at most 22", c["Query"].Calls)
			}
			t.Logf("%d items read in %d Query and %d BatchGetItem calls", items, c["Query"].Calls, c["BatchGetItem"].Calls)
		})
	}
}

// entry is a membership entry that carries a copy of its session's head
// (4 members, 2 keywords), as a query's projection returns it (no key, no
// index).
func entry(tb testing.TB) map[string]types.AttributeValue {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	index := 0
	p := sessionstore.Item{
		Key: store.MembershipKeys(2533274792693551, scidA, "deathmatch", "session-0000001", start)[0],
		HeadFields: sessionstore.HeadFields{Template: "deathmatch", Name: "session-0000001", StartTime: start.Format(store.TimeLayout),
			Version: 1, Visibility: "open", MaxMembers: 8, JoinRestriction: "local", Keywords: []string{"one", "two"}, Turn: []int{0}},
		Index: &index, Copy: true,
	}
	for m := range 4 {
		p.Members = append(p.Members, sessionstore.HeadMember{XUID: fmt.Sprint(2533274792693551 + m), Index: m, Status: "active"})
	}
	full, err := store.Marshal(p)
	if err != nil {
		tb.Fatal(err)
	}
	av := map[string]types.AttributeValue{}
	for k, v := range full {
		if k != store.AttrPK && k != store.AttrSK && k != "i" {
			av[k] = v
		}
	}
	return av
}

// TestDecodeItem: the query's decoder reads every attribute of Item as
// store.Unmarshal (attributevalue) does, and fails where it fails (and on
// a number where a string belongs).
func TestDecodeItem(t *testing.T) {
	// The attributes the decoder knows: all of Item's.
	known := []string{"pk", "sk", "template", "name", "startTime", "version", "visibility", "max", "joinRestriction", "keywords", "turn", "m", "i", "c"}
	var names []string
	for _, n := range store.ProjectionOf[sessionstore.Item]().Names {
		names = append(names, n)
	}
	slices.Sort(names)
	slices.Sort(known)
	if !slices.Equal(names, known) {
		t.Fatalf("Item's attributes are %v; decodeItem knows %v", names, known)
	}
	index := 3
	full := sessionstore.Item{
		Key: store.Key{PK: "p", SK: "s"}, Index: &index, Copy: true,
		HeadFields: sessionstore.HeadFields{Template: "t", Name: "n", StartTime: "2026-11-01T00:00:00.0000000Z", Version: 7,
			Visibility: "private", MaxMembers: 9, JoinRestriction: "followed", Keywords: []string{"a", "é"}, Turn: []int{0, 2},
			Members: []sessionstore.HeadMember{{XUID: "1", Index: 0, Status: "active"}, {XUID: "2", Index: 2, Status: "reserved", Until: 1790000000123}}},
	}
	items := []map[string]types.AttributeValue{entry(t)}
	for _, it := range []sessionstore.Item{full, {}, {HeadFields: sessionstore.HeadFields{Name: "only"}}} {
		av, err := store.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, av)
	}
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	items = append(items,
		map[string]types.AttributeValue{"keywords": &types.AttributeValueMemberSS{Value: []string{"x"}}, "other": s("ignored"), "c": &types.AttributeValueMemberNULL{Value: true}},
		map[string]types.AttributeValue{"m": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": s("1"), "u": n("12")}}}}},
	)
	for i, av := range items {
		var want, got sessionstore.Item
		if err := store.Unmarshal(av, &want); err != nil {
			t.Fatalf("item %d: store.Unmarshal: %v", i, err)
		}
		if err := sessionstore.DecodeItem(av, &got); err != nil {
			t.Fatalf("item %d: decodeItem: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("item %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	for i, av := range []map[string]types.AttributeValue{
		{"version": s("1")}, {"c": s("true")}, {"turn": n("1")}, {"m": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("x")}}},
		{"keywords": s("x")}, {"i": n("x")},
	} {
		var want, got sessionstore.Item
		if store.Unmarshal(av, &want) == nil || sessionstore.DecodeItem(av, &got) == nil {
			t.Errorf("bad item %d %v: store.Unmarshal and decodeItem must both fail", i, av)
		}
	}
	// Stricter than attributevalue, which reads a number as its digits
	// where a string belongs: the table holds strings there.
	var it sessionstore.Item
	if err := sessionstore.DecodeItem(map[string]types.AttributeValue{"name": n("1")}, &it); err == nil {
		t.Error("a number read as a name")
	}
}

// BenchmarkDecodeEntry measures the decode of one membership entry that
// carries a copy of its session's head (4 members, 2 keywords), as a query
// reads it: the query's decoder, and attributevalue's for comparison.
func BenchmarkDecodeEntry(b *testing.B) {
	av := entry(b)
	for _, d := range []struct {
		name   string
		decode func(map[string]types.AttributeValue, *sessionstore.Item) error
	}{
		{"decodeItem", sessionstore.DecodeItem},
		{"attributevalue", func(av map[string]types.AttributeValue, it *sessionstore.Item) error { return store.Unmarshal(av, it) }},
	} {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var it sessionstore.Item
				if err := d.decode(av, &it); err != nil || len(it.Members) != 4 {
					b.Fatal(err)
				}
			}
		})
	}
}

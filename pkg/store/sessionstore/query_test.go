package sessionstore_test

import (
	"context"
	"fmt"
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
			if c["Query"].Calls > 7+15 {
				t.Errorf("%d Query calls: more than the 7 xuids that answer and 15 in flight past them", c["Query"].Calls)
			}
			t.Logf("%d items read in %d Query and %d BatchGetItem calls", items, c["Query"].Calls, c["BatchGetItem"].Calls)
		})
	}
}

// BenchmarkDecodeEntry measures the decode of one membership entry that
// carries a copy of its session's head (4 members, 2 keywords), as a query
// reads it: store.Unmarshal into a sessionstore.Item, then its head.
func BenchmarkDecodeEntry(b *testing.B) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	p := sessionstore.MemberEntries(1, 0, scidA, "deathmatch", "session-0000001", start)[0]
	p.Copy = true
	p.Version, p.Visibility, p.MaxMembers, p.JoinRestriction = 1, "open", 8, "local"
	p.Keywords, p.Turn = []string{"one", "two"}, []int{0}
	for m := range 4 {
		p.Members = append(p.Members, sessionstore.HeadMember{XUID: fmt.Sprint(2533274792693551 + m), Index: m, Status: "active"})
	}
	full, err := store.Marshal(p)
	if err != nil {
		b.Fatal(err)
	}
	// What the query's projection returns: no key, no index.
	av := map[string]types.AttributeValue{}
	for k, v := range full {
		if k != store.AttrPK && k != store.AttrSK && k != "i" {
			av[k] = v
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		var it sessionstore.Item
		if err := store.Unmarshal(av, &it); err != nil {
			b.Fatal(err)
		}
		if _, err := time.Parse(time.RFC3339Nano, it.StartTime); err != nil || len(it.Members) != 4 {
			b.Fatal(err)
		}
	}
}

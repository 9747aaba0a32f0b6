package statstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/configcache"
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/statsapi"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/statstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// fixture is the handler tests' fixture: what they prove on the in-memory
// store holds here because TestSameAsMemstore compares the two on it.
const fixture = "../../statsapi/testdata/fixture.json"

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

// Test data: see testdata/fixture.json.
const (
	scidA  = "7492baca-c1b4-440d-a391-b7ef364a8d40" // titles 1297287135; sandboxes XDKS.1, RETAIL
	scidB  = "c402ff50-3e76-11e2-a25f-0800200c1212" // title 1818181818; sandbox RETAIL
	titleA = "1297287135"
)

func loaded(t *testing.T) store.Table {
	t.Helper()
	return ddbtest.Shared(t, fixture)
}

// newHandler serves the table as the function does, without the cache.
func newHandler(t testing.TB, table store.Table) http.Handler {
	t.Helper()
	return statsapi.New(testkit.API(t), table, statstore.New(table))
}

func token(t testing.TB) string {
	return testkit.Token(t, xbl.Caller{XUID: 2533274792693551, UserHash: "uhs", TitleID: titleA, Sandbox: "RETAIL"})
}

func call(t testing.TB, h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	return testkit.Do(h, token(t), method, target, body)
}

// TestDynamoDBCalls counts the requests a batch sends to DynamoDB Local,
// as the function does (configurations cached): a cold request reads each
// distinct SCID's configuration once (GetItem) and then the statistics; a
// warm one reads exactly the U·S statistics items, in ceil(U·S/100)
// BatchGetItem calls (no retries happen here), and nothing else.
func TestDynamoDBCalls(t *testing.T) {
	client, counter := ddbtest.CountingClient(t)
	st := store.Table{Client: client, Name: loaded(t).Name}
	h := statsapi.New(testkit.API(t), configcache.New(st, time.Hour, 100), statstore.New(st))
	scidList := []string{scidA, scidB}
	for i := 2; i < 10; i++ {
		scidList = append(scidList, fmt.Sprintf("00000000-0000-0000-0000-%012d", i))
	}
	// Configurations for the extra SCIDs, open to everyone in RETAIL.
	var cfgs []string
	for _, s := range scidList[2:] {
		cfgs = append(cfgs, `{"scid":"`+s+`","titleIds":["1"],"sandboxes":["RETAIL"],"stats":{"KD":"open"}}`)
	}
	ddbtest.LoadText(t, st, `{"serviceConfigs":[`+strings.Join(cfgs, ",")+`]}`)

	tests := []struct {
		users, scids int
		dupUsers     bool // every user twice, and every SCID twice in another case
	}{
		{1, 1, false}, {3, 10, false}, {33, 2, false}, {34, 2, false}, {100, 2, false}, {100, 10, false}, {50, 3, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d dup=%v", tt.users, tt.scids, tt.dupUsers), func(t *testing.T) {
			var us, ss []string
			for i := range tt.users {
				us = append(us, fmt.Sprintf(`"%d"`, 2533274792693551+i))
				if tt.dupUsers {
					us = append(us, fmt.Sprintf(`%d`, 2533274792693551+i))
				}
			}
			for _, s := range scidList[:tt.scids] {
				stat := "KD"
				if s == scidB {
					stat = "Kills" // the open stat of B
				}
				ss = append(ss, `{"scid":"`+s+`","requestedstats":["`+stat+`"]}`)
				if tt.dupUsers {
					ss = append(ss, `{"scid":"`+strings.ToUpper(s)+`","requestedstats":["`+stat+`"]}`)
				}
			}
			if len(us) > stats.MaxUsers || len(ss) > stats.MaxSCIDs {
				t.Skip("over the request limits")
			}
			body := `{"requestedusers":[` + strings.Join(us, ",") + `],"requestedscids":[` + strings.Join(ss, ",") + `]}`
			keys := tt.users * tt.scids
			want := (keys + 99) / 100
			for _, warm := range []bool{false, true} {
				counter.Reset()
				w := call(t, h, "POST", "/batch", body)
				if w.Code != 200 {
					t.Fatalf("%d %s", w.Code, w.Body)
				}
				if got := counter.Get("BatchGetItem"); got != want {
					t.Errorf("warm=%v: %d BatchGetItem calls for %d keys, want %d", warm, got, keys, want)
				}
				if got := counter.Get("GetItem"); warm && got != 0 || !warm && got > tt.scids {
					t.Errorf("warm=%v: %d GetItem calls for %d SCIDs", warm, got, tt.scids)
				}
				if counter.Total() != counter.Get("BatchGetItem")+counter.Get("GetItem") {
					t.Errorf("other calls were made: %d in all", counter.Total())
				}
			}
		})
	}
}

// TestUnprocessedKeysAreRetried makes DynamoDB leave half of every
// BatchGetItem's keys unprocessed: the answer is still complete.
func TestUnprocessedKeysAreRetried(t *testing.T) {
	want := call(t, newHandler(t, loaded(t)), "POST", "/batch", goldenBatch)
	if want.Code != 200 {
		t.Fatalf("%d %s", want.Code, want.Body)
	}
	proxy := ddbtest.NewProxy(t)
	proxy.SplitBatchGets(true)
	client, err := store.NewClient(context.Background(), proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	got := call(t, newHandler(t, store.Table{Client: client, Name: loaded(t).Name}), "POST", "/batch", goldenBatch)
	if got.Code != 200 || got.Body.String() != want.Body.String() {
		t.Errorf("with unprocessed keys: %d\n%s\nwant\n%s", got.Code, got.Body, want.Body)
	}
	if proxy.Splits() < 2 {
		t.Errorf("the proxy split %d responses; the fault was not exercised", proxy.Splits())
	}
}

// goldenBatch asks for every kind of data of the fixture.
const goldenBatch = `{"requestedusers":["2533274792693551","2533274792693552","18446744073709551615","2533274792693553"],
	"requestedscids":[{"scid":"` + scidA + `","requestedstats":["OverallReputation","KD","Motto","SecretStat"]},
	{"scid":"` + scidB + `","requestedstats":["Kills"]}]}`

// TestKeysNeverProcessedIs503 makes DynamoDB leave every key unprocessed:
// the retries stop before the function's deadline and the answer is a 503,
// never a partial result.
func TestKeysNeverProcessedIs503(t *testing.T) {
	proxy := ddbtest.NewProxy(t)
	proxy.NeverProcess(true)
	client, err := store.NewClient(context.Background(), proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	h := newHandler(t, store.Table{Client: client, Name: loaded(t).Name})
	w := testkit.WithDeadline(t, h, 2*time.Second, token(t), "POST", "/batch", goldenBatch)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("%d (Retry-After %q) %s, want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
}

// TestMissingTableIs500 reads a table that does not exist: a fault of the
// deployment, not of DynamoDB, so a 500 rather than a 503 to retry.
func TestMissingTableIs500(t *testing.T) {
	h := newHandler(t, store.Table{Client: ddbtest.Client(t), Name: "no-such-table"})
	w := call(t, h, "GET", "/users/xuid(1)/scids/"+scidA+"/stats/KD", "")
	if w.Code != http.StatusInternalServerError || w.Header().Get("Retry-After") != "" {
		t.Errorf("%d (Retry-After %q) %s, want 500", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if strings.Contains(w.Body.String(), "no-such-table") {
		t.Errorf("500 body leaks the cause: %s", w.Body)
	}
}

// TestDynamoDBDownIs503 points the store at a port where nothing listens.
func TestDynamoDBDownIs503(t *testing.T) {
	endpoint := ddbtest.DeadEndpoint(t)
	client, err := store.NewClient(context.Background(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	_, err = statstore.New(store.Table{Client: client, Name: "t"}).ReadStats(context.Background(), stats.Query{Users: []xbl.XUID{1}, SCIDs: []string{scidA}, Names: []string{"KD"}})
	if derrors.KindOf(err) != derrors.Unavailable || !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("error %v (kind %v), want Unavailable", err, derrors.KindOf(err))
	}
	h := newHandler(t, store.Table{Client: client, Name: "t"})
	w := call(t, h, "GET", "/users/xuid(1)/scids/"+scidA+"/stats/KD", "")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("%d (Retry-After %q) %s, want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if strings.Contains(w.Body.String(), strings.TrimPrefix(endpoint, "http://")) || strings.Contains(w.Body.String(), "connect") {
		t.Errorf("503 body leaks the cause: %s", w.Body)
	}
}

// TestSlowDynamoDBIs408 points the store at a server that accepts
// connections and never answers; the request ends before the function's
// deadline.
func TestSlowDynamoDBIs408(t *testing.T) {
	client, err := store.NewClient(context.Background(), ddbtest.SilentEndpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	h := newHandler(t, store.Table{Client: client, Name: "t"})
	w := testkit.WithDeadline(t, h, time.Second, token(t), "GET", "/users/xuid(1)/scids/"+scidA+"/stats/KD", "")
	if w.Code != http.StatusRequestTimeout {
		t.Errorf("%d %s, want 408", w.Code, w.Body)
	}
}

// TestSameAsMemstore reads the same queries from DynamoDB Local and from
// the in-memory store that the handler tests use: the answers are equal,
// so what those tests prove of the handler holds over DynamoDB.
func TestSameAsMemstore(t *testing.T) {
	tbl := loaded(t)
	db := statstore.New(tbl)
	mem := testkit.MemStore(t, fixture)
	for _, scid := range []string{scidA, scidB, "00000000-0000-0000-0000-0000000000cc"} {
		a, _, err := tbl.ReadConfig(context.Background(), scid)
		if err != nil {
			t.Fatal(err)
		}
		b, _, _ := mem.ReadConfig(context.Background(), scid)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("ReadConfig(%s): DynamoDB and memstore differ:\n%+v\n%+v", scid, a, b)
		}
	}
	users := []xbl.XUID{2533274792693551, 2533274792693552, 2533274792693553, 18446744073709551615, 1}
	queries := []stats.Query{
		{Users: users, SCIDs: []string{scidA, scidB, "00000000-0000-0000-0000-0000000000cc"}, Names: []string{"overallreputation", "kd", "motto", "secretstat", "kills", "nothing"}},
		{Users: users[:1], SCIDs: []string{scidA}, Names: []string{"kd"}},
		{Users: users[3:], SCIDs: []string{scidB}, Names: []string{"kills", "kd"}},
	}
	for i, q := range queries {
		a, err := db.ReadStats(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		b, err := mem.ReadStats(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a.Gamertags, b.Gamertags) || !reflect.DeepEqual(a.Stats, b.Stats) || a.Usage.Items != b.Usage.Items {
			t.Errorf("query %d: DynamoDB and memstore differ:\n%+v\n%+v", i, a, b)
		}
		if len(a.Stats) == 0 && i == 0 {
			t.Error("the fixture gave no statistics: the comparison proves nothing")
		}
	}
}

// contract is a small fixture: one configured SCID with an open and a
// restricted stat, and one user with a stat of each type.
const contract = `{
  "serviceConfigs": [{"scid": "` + scidA + `", "titleIds": ["1297287135"], "sandboxes": ["XDKS.1", "RETAIL"],
     "stats": {"OverallReputation": "open", "SecretStat": "restricted"}}],
  "users": [{"xuid": "2533274792693551", "gamertag": "WarriorSaint",
     "stats": {"` + scidA + `": {"OverallReputation": {"type": "Integer", "value": 66},
                                "KD": {"type": "Double", "value": "1.25"},
                                "Rank": {"type": "String", "value": "Gold"}}}}]
}`

func TestReadStatsProjectsOnlyRequestedStats(t *testing.T) {
	st := ddbtest.EmptyTable(t)
	ddbtest.LoadText(t, st, contract)
	res, err := statstore.New(st).ReadStats(context.Background(), stats.Query{
		Users: []xbl.XUID{2533274792693551, 42},
		SCIDs: []string{scidA, "00000000-0000-0000-0000-000000000000"},
		Names: []string{"kd", "secretstat", "absent"}, // in their StatKey form, as stats.QueryOf gives them
	})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Stats[stats.UserSCID{XUID: 2533274792693551, SCID: scidA}]
	want := map[string]xbl.StatValue{"kd": {Type: xbl.Double, Value: "1.25"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stats = %v, want only the requested KD", got)
	}
	if len(res.Stats) != 1 {
		t.Errorf("stats for %d user/scidA pairs, want 1", len(res.Stats))
	}
	if !reflect.DeepEqual(res.Gamertags, map[xbl.XUID]string{2533274792693551: "WarriorSaint"}) {
		t.Errorf("gamertags = %v (carried by the statistics item)", res.Gamertags)
	}
	if res.Usage.Calls != 1 || res.Usage.Retries != 0 || res.Usage.Items != 1 || res.Usage.ConsumedRCU <= 0 {
		t.Errorf("usage = %+v, want 1 call, 1 item and some capacity", res.Usage)
	}

	// The configuration is read whole: every stat's access level.
	cfg, u, err := st.ReadConfig(context.Background(), scidA)
	if err != nil || cfg == nil || !reflect.DeepEqual(cfg.Stats, map[string]xbl.Access{"overallreputation": xbl.Open, "secretstat": xbl.Restricted}) ||
		!reflect.DeepEqual(cfg.Sandboxes, []string{"XDKS.1", "RETAIL"}) || !reflect.DeepEqual(cfg.TitleIDs, []string{"1297287135"}) || u.Items != 1 {
		t.Errorf("config = %+v, %+v, %v", cfg, u, err)
	}
	if cfg, u, err := st.ReadConfig(context.Background(), "00000000-0000-0000-0000-000000000000"); cfg != nil || err != nil || u.Calls != 1 || u.Items != 0 {
		t.Errorf("no config = %+v, %+v, %v", cfg, u, err)
	}
}

// TestManyNames reads 60 distinct stat names in one query: every one comes
// back (the projection's placeholders never collide with its own).
func TestManyNames(t *testing.T) {
	st := ddbtest.EmptyTable(t)
	var entries, names []string
	for i := range 60 {
		entries = append(entries, fmt.Sprintf(`"Stat%d":{"type":"Integer","value":%d}`, i, i))
		names = append(names, fmt.Sprintf("stat%d", i))
	}
	ddbtest.LoadText(t, st, `{"serviceConfigs":[{"scid":"`+scidA+`","titleIds":["1"],"sandboxes":["RETAIL"]}],
		"users":[{"xuid":"5","gamertag":"Five","stats":{"`+scidA+`":{`+strings.Join(entries, ",")+`}}}]}`)
	res, err := statstore.New(st).ReadStats(context.Background(), stats.Query{Users: []xbl.XUID{5}, SCIDs: []string{scidA}, Names: names})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Stats[stats.UserSCID{XUID: 5, SCID: scidA}]
	if len(got) != 60 || got["stat28"].Value != "28" || got["stat59"].Value != "59" || res.Gamertags[5] != "Five" {
		t.Errorf("%d stats (stat28=%v), gamertag %q, want all 60", len(got), got["stat28"], res.Gamertags[5])
	}
}

package sessionstore_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/sessionsapi"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/sessionstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// keepAll is the filter of a read that makes a row of every session of
// scid (of template, when not empty) that carries keyword ("" for any),
// read now: private ones, and members inactive or reserved too.
func keepAll(scid, template, keyword string) *sessions.Filter {
	return &sessions.Filter{SCID: scid, Template: template, Keyword: keyword, Private: true, Reservations: true, Inactive: true, Now: time.Now()}
}

// fixture is the handler tests' fixture: what they prove on the in-memory
// store holds here because TestSameAsMemstore compares the two on it.
const fixture = "../../sessionsapi/testdata/fixture.json"

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

// Test data: see testdata/fixture.json (a copy of the one the handler tests
// of pkg/sessionsapi read from the in-memory store).
const (
	scidA = "7492baca-c1b4-440d-a391-b7ef364a8d40" // sandboxes XDKS.1, RETAIL
	scidB = "c402ff50-3e76-11e2-a25f-0800200c1212" // sandbox RETAIL
	scidC = "00000000-0000-0000-0000-0000000000cc" // no configuration
)

// loaded returns the table holding testdata/fixture.json, shared by the
// tests that only read it.
func loaded(t testing.TB) store.Table {
	t.Helper()
	return ddbtest.Shared(t, fixture)
}

// newHandler serves the table as the function does, without the cache.
func newHandler(t testing.TB, table store.Table) http.Handler {
	t.Helper()
	return sessionsapi.New(testkit.API(t), table, sessionstore.New(table))
}

func token(t testing.TB) string {
	t.Helper()
	return testkit.Token(t, xbl.Caller{XUID: 9876, UserHash: "uhs", TitleID: "1297287135", Sandbox: "RETAIL"})
}

// call sends a request as XSAPI does (contract version 107) for the
// default caller, xuid 9876 in RETAIL.
func call(t testing.TB, h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	return testkit.Do(h, token(t), method, target, body, "X-Xbl-Contract-Version", "107")
}

// TestOneQueryPerXUID counts what a query sends to DynamoDB Local: one
// Query per xuid (or one on the keyword index), the heads of its sessions in
// one BatchGetItem, one GetItem for the SCID's configuration, and never a
// Scan; a template narrows by sort-key prefix in
// the key condition, not by a filter.
func TestOneQueryPerXUID(t *testing.T) {
	client, counter := ddbtest.CountingClient(t)
	h := newHandler(t, store.Table{Client: client, Name: loaded(t).Name})
	tests := []struct {
		name, method, target, body string
		queries                    int
		condition                  string
	}{
		{"batch of 3", "POST", "/serviceconfigs/" + scidA + "/batch", `{"xuids":["9876","1111","5555"]}`, 3, "#pk = :pk"},
		{"one user", "GET", "/serviceconfigs/" + scidA + "/sessions?xuid=9876", "", 1, "#pk = :pk"},
		{"template batch", "POST", "/serviceconfigs/" + scidA + "/sessiontemplates/coop/batch", `{"xuids":["9876","1111"]}`, 2, "begins_with(#sk, :prefix)"},
		{"keyword", "GET", "/serviceconfigs/" + scidA + "/sessions?keyword=one", "", 1, "#pk = :pk"},
		{"keyword, template", "GET", "/serviceconfigs/" + scidA + "/sessiontemplates/deathmatch/sessions?keyword=one", "", 1, "begins_with(#sk, :prefix)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counter.Reset()
			if w := call(t, h, tt.method, tt.target, tt.body); w.Code != 200 {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			if got := counter.Get("Query"); got != tt.queries {
				t.Errorf("%d Query calls, want %d", got, tt.queries)
			}
			if got := counter.Get("GetItem"); got != 1 {
				t.Errorf("%d GetItem calls, want 1 (the configuration)", got)
			}
			// Each query page's heads in one BatchGetItem (none for a page
			// with no entries).
			if got := counter.Get("BatchGetItem"); got > tt.queries {
				t.Errorf("%d BatchGetItem calls, want at most %d (one per Query)", got, tt.queries)
			}
			if counter.Total() != tt.queries+1+counter.Get("BatchGetItem") {
				t.Errorf("%d calls in all, want %d", counter.Total(), tt.queries+1+counter.Get("BatchGetItem"))
			}
			for _, b := range counter.Bodies("Query") {
				if !strings.Contains(b, tt.condition) || strings.Contains(b, "FilterExpression") {
					t.Errorf("Query %s: want key condition %q and no filter", b, tt.condition)
				}
			}
		})
	}
}

// TestDynamoDBDownIs503 points the store at a port where nothing listens:
// every read fails as Unavailable, which the handler answers with a 503
// and Retry-After, never showing the cause.
func TestDynamoDBDownIs503(t *testing.T) {
	endpoint := ddbtest.DeadEndpoint(t)
	client, err := store.NewClient(context.Background(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	tbl := store.Table{Client: client, Name: "t"}
	st := sessionstore.New(tbl)
	ctx := context.Background()
	_, _, errConfig := tbl.ReadConfig(ctx, scidA)
	_, _, errUser := st.UserSessions(ctx, 9876, keepAll(scidA, "", ""), sessions.MaxTake)
	_, _, errKeyword := st.KeywordSessions(ctx, keepAll(scidA, "", "one"), sessions.MaxTake)
	for name, err := range map[string]error{"ReadConfig": errConfig, "UserSessions": errUser, "KeywordSessions": errKeyword} {
		if derrors.KindOf(err) != derrors.Unavailable || !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s: error %v (kind %v), want Unavailable", name, err, derrors.KindOf(err))
		}
	}

	w := call(t, newHandler(t, tbl), "GET", "/serviceconfigs/"+scidA+"/sessions?xuid=9876", "")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("%d (Retry-After %q) %s, want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if strings.Contains(w.Body.String(), strings.TrimPrefix(endpoint, "http://")) || strings.Contains(w.Body.String(), "connect") {
		t.Errorf("503 body leaks the cause: %s", w.Body)
	}
}

// TestMissingTableIs500 reads a table that does not exist: a fault of the
// deployment, not of DynamoDB, so Internal (a 500) rather than Unavailable
// (a 503 to retry).
func TestMissingTableIs500(t *testing.T) {
	tbl := store.Table{Client: ddbtest.Client(t), Name: "no-such-table"}
	st := sessionstore.New(tbl)
	ctx := context.Background()
	_, _, errConfig := tbl.ReadConfig(ctx, scidA)
	_, _, errUser := st.UserSessions(ctx, 9876, keepAll(scidA, "", ""), sessions.MaxTake)
	_, _, errKeyword := st.KeywordSessions(ctx, keepAll(scidA, "", "one"), sessions.MaxTake)
	for name, err := range map[string]error{"ReadConfig": errConfig, "UserSessions": errUser, "KeywordSessions": errKeyword} {
		if err == nil || derrors.KindOf(err) != derrors.Internal || errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s: error %v (kind %v), want Internal", name, err, derrors.KindOf(err))
		}
	}

	w := call(t, newHandler(t, tbl), "GET", "/serviceconfigs/"+scidA+"/sessions?xuid=9876", "")
	if w.Code != http.StatusInternalServerError || w.Header().Get("Retry-After") != "" {
		t.Errorf("%d (Retry-After %q) %s, want 500", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if strings.Contains(w.Body.String(), "no-such-table") {
		t.Errorf("500 body leaks the cause: %s", w.Body)
	}
}

// TestSlowDynamoDBIs408 points the store at a server that accepts
// connections and never answers; the request ends with a text/plain 408
// before the function's deadline.
func TestSlowDynamoDBIs408(t *testing.T) {
	client, err := store.NewClient(context.Background(), ddbtest.SilentEndpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	h := newHandler(t, store.Table{Client: client, Name: "t"})
	w := testkit.WithDeadline(t, h, time.Second, token(t), "POST", "/serviceconfigs/"+scidA+"/batch", `{"xuids":["9876","1111"]}`)
	if w.Code != http.StatusRequestTimeout || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Errorf("%d %q %s, want a text/plain 408", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
}

// sorted orders sessions by template and name, the order neither store
// promises, so that two answers compare as sets.
func sorted(s []sessions.Session) []sessions.Session {
	s = slices.Clone(s)
	slices.SortFunc(s, func(a, b sessions.Session) int {
		return cmp.Or(cmp.Compare(a.Template, b.Template), cmp.Compare(a.Name, b.Name))
	})
	return s
}

// configOf normalizes a configuration for comparison: a nil and an empty
// Stats map are alike.
func configOf(c *xbl.ServiceConfig) *xbl.ServiceConfig {
	if c == nil {
		return nil
	}
	out := *c
	if len(out.Stats) == 0 {
		out.Stats = nil
	}
	return &out
}

// TestSameAsMemstore reads the same configurations and sessions from
// DynamoDB Local and from the in-memory store that the handler tests of
// pkg/sessionsapi use: the answers are equal, so what those tests prove of
// the handler holds over DynamoDB.
func TestSameAsMemstore(t *testing.T) {
	tbl := loaded(t)
	db := sessionstore.New(tbl)
	mem := testkit.MemStore(t, fixture)
	ctx := context.Background()
	scids := []string{scidA, scidB, scidC}
	templates := []string{"", "deathmatch", "coop", "death", "nothing"}

	for _, scid := range scids {
		a, _, err := tbl.ReadConfig(ctx, scid)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := mem.ReadConfig(ctx, scid)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(configOf(a), configOf(b)) {
			t.Errorf("ReadConfig(%s): DynamoDB and memstore differ:\n%+v\n%+v", scid, a, b)
		}
	}

	found := 0
	compare := func(what string, a, b []sessions.Session) {
		t.Helper()
		a, b = sorted(a), sorted(b)
		if len(a) == 0 && len(b) == 0 {
			return // nil and empty are alike
		}
		found += len(a)
		if len(a) != len(b) {
			t.Errorf("%s: DynamoDB has %d sessions, memstore %d:\n%+v\n%+v", what, len(a), len(b), a, b)
			return
		}
		for i := range a {
			if !reflect.DeepEqual(a[i], b[i]) {
				t.Errorf("%s: session %s/%s differs:\nDynamoDB %+v\nmemstore %+v", what, a[i].Template, a[i].Name, a[i], b[i])
			}
		}
	}
	// both asks both stores the same read and compares their answers.
	both := func(what string, read func(sessions.Reader) ([]sessions.Session, xbl.Usage, error)) {
		a, _, err := read(db)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := read(mem)
		if err != nil {
			t.Fatal(err)
		}
		compare(what, a, b)
	}
	for _, scid := range scids {
		for _, tmpl := range templates {
			for _, x := range []xbl.XUID{9876, 1111, 2222, 3333, 4444, 5432, 5555} {
				both(fmt.Sprintf("UserSessions(%d, %s, %q)", x, scid, tmpl), func(r sessions.Reader) ([]sessions.Session, xbl.Usage, error) {
					return r.UserSessions(ctx, x, keepAll(scid, tmpl, ""), sessions.MaxTake)
				})
			}
			for _, kw := range []string{"one", "two", "a+b", "a b", "raid", "nothing"} {
				both(fmt.Sprintf("KeywordSessions(%s, %q, %q)", scid, kw, tmpl), func(r sessions.Reader) ([]sessions.Session, xbl.Usage, error) {
					return r.KeywordSessions(ctx, keepAll(scid, tmpl, kw), sessions.MaxTake)
				})
			}
		}
	}
	if found == 0 {
		t.Error("the fixture gave no sessions: the comparison proves nothing")
	}
}

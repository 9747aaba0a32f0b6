package statsapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/pkg/store"
)

// TestDynamoDBCalls counts the requests a batch sends to DynamoDB Local:
// for U users and S SCIDs at most ceil((U·S+U+S)/100) BatchGetItem calls
// (no retries happen here), and nothing else.
func TestDynamoDBCalls(t *testing.T) {
	client, counter := ddbtest.CountingClient(t)
	st := store.New(client, loaded(t).Table())
	h := newHandler(t, st)
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
			if len(us) > MaxUsers || len(ss) > MaxSCIDs {
				t.Skip("over the request limits")
			}
			counter.Reset()
			w := call(t, h, "POST", "/batch", `{"requestedusers":[`+strings.Join(us, ",")+`],"requestedscids":[`+strings.Join(ss, ",")+`]}`)
			if w.Code != 200 {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			keys := tt.users*tt.scids + tt.users + tt.scids
			want := (keys + 99) / 100
			if got := counter.Get("BatchGetItem"); got != want {
				t.Errorf("%d BatchGetItem calls for %d keys, want %d", got, keys, want)
			}
			if counter.Total() != counter.Get("BatchGetItem") {
				t.Errorf("other calls were made: %d in all", counter.Total())
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
	got := call(t, newHandler(t, store.New(client, loaded(t).Table())), "POST", "/batch", goldenBatch)
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
	h := newHandler(t, store.New(client, loaded(t).Table()))
	deadline := time.Now().Add(2 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "r1"})
	r := httptest.NewRequest("POST", "/batch", strings.NewReader(goldenBatch)).WithContext(ctx)
	r.Header.Set("Authorization", token(t, caller{}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("%d (Retry-After %q) %s, want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if time.Now().After(deadline) {
		t.Error("answered after the deadline")
	}
}

// TestMissingTableIs500 reads a table that does not exist: a fault of the
// deployment, not of DynamoDB, so a 500 rather than a 503 to retry.
func TestMissingTableIs500(t *testing.T) {
	h := newHandler(t, store.New(ddbtest.Client(t), "no-such-table"))
	w := call(t, h, "GET", "/users/xuid(1)/scids/"+scidA+"/stats/KD", "")
	if w.Code != http.StatusInternalServerError || w.Header().Get("Retry-After") != "" {
		t.Errorf("%d (Retry-After %q) %s, want 500", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if strings.Contains(w.Body.String(), "no-such-table") {
		t.Errorf("500 body leaks the cause: %s", w.Body)
	}
}

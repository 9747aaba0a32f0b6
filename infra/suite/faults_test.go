package suite

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/xblread/xblread/infra/ddblocal"
	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/infra/devstack"
	"github.com/xblread/xblread/infra/loader"
	"github.com/xblread/xblread/pkg/store"
)

// faultRoutes are one request of each API that reads DynamoDB.
var faultRoutes = []struct{ name, method, path, body string }{
	{"stats batch", "POST", "/batch", `{"requestedusers":["2533274792693551","2533274792693552"],"requestedscids":[{"scid":"` + scidA + `","requestedstats":["OverallReputation","KD"]}]}`},
	{"stats user", "GET", "/users/xuid(2533274792693551)/scids/" + scidA + "/stats/OverallReputation", ""},
	{"sessions batch", "POST", "/serviceconfigs/" + scidA + "/batch", `{"xuids":["2533274792693551","9876"]}`},
	{"sessions keyword", "GET", "/serviceconfigs/" + scidA + "/sessions?keyword=one", ""},
}

func loadDemo(t *testing.T, endpoint, table string) {
	t.Helper()
	client, err := store.NewClient(context.Background(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loader.CreateTable(context.Background(), client, table); err != nil {
		t.Fatal(err)
	}
	// Nothing is left behind on an endpoint of the caller's.
	t.Cleanup(func() {
		client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	ddbtest.Load(t, store.Table{Client: client, Name: table}, "../fixtures/demo.json")
}

// stackOn serves the local API against endpoint.
func stackOn(t *testing.T, endpoint, table string) string {
	t.Helper()
	srv, err := devstack.NewServer(context.Background(), "", table, endpoint, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL
}

func hit(t *testing.T, base string, r struct{ name, method, path, body string }) (int, string, string) {
	t.Helper()
	var body []byte
	if r.body != "" {
		body = []byte(r.body)
	}
	status, hd, got := send(t, r.method, base+r.path, body, [][2]string{{"Authorization", defaultToken(t)}, {"x-xbl-contract-version", cv(r.path)}})
	return status, hd.Get("Retry-After"), got
}

// TestDynamoDBFaults puts a fault-injecting proxy between the functions
// and DynamoDB Local.
func TestDynamoDBFaults(t *testing.T) {
	table := ddbtest.NewTableNamed(t, "faults")
	loadDemo(t, ddbtest.Endpoint(t), table)
	proxy := ddbtest.NewProxy(t)
	base := stackOn(t, proxy.URL, table)
	sum := &tally{name: "DynamoDB faults"}
	want := map[string]string{}
	for _, r := range faultRoutes {
		status, _, body := hit(t, base, r)
		if status != 200 {
			t.Fatalf("%s without faults: %d %s", r.name, status, body)
		}
		want[r.name] = body
	}

	faults := []struct {
		name   string
		on     func()
		status int
		limit  time.Duration
	}{
		{"throttled after the SDK's retries", func() { proxy.Throttle(true) }, 503, 2 * time.Second},
		{"truncated responses", func() { proxy.Truncate(true) }, 503, 2 * time.Second},
		{"slower than the deadline", func() { proxy.Delay(10 * time.Second) }, 408, 6 * time.Second},
		{"unprocessed keys on every first attempt", func() { proxy.SplitBatchGets(true) }, 200, 5 * time.Second},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			f.on()
			// After every route's subtest, which run in parallel.
			t.Cleanup(func() { proxy.Throttle(false); proxy.Truncate(false); proxy.Delay(0); proxy.SplitBatchGets(false) })
			for _, r := range faultRoutes {
				t.Run(r.name, func(t *testing.T) {
					t.Parallel()
					start := time.Now()
					status, retryAfter, body := hit(t, base, r)
					took := time.Since(start)
					if status != f.status {
						t.Errorf("%d, want %d: %s", status, f.status, body)
					}
					if status == 503 && retryAfter == "" {
						t.Error("503 without Retry-After")
					}
					if status == 200 && body != want[r.name] {
						t.Errorf("answer differs from the answer without faults:\n%s\nwant\n%s", body, want[r.name])
					}
					if status != 200 && strings.Contains(body, "sessionRef") || strings.Contains(body, "statname") && status != 200 {
						t.Errorf("a partial result: %s", body)
					}
					if took > f.limit {
						t.Errorf("answered after %s (limit %s)", took.Round(time.Millisecond), f.limit)
					}
					sum.record(t, 0)
				})
			}
		})
	}
	// After the faults, the same stack answers as before.
	for _, r := range faultRoutes {
		if status, _, body := hit(t, base, r); status != 200 || body != want[r.name] {
			t.Errorf("%s after the faults: %d %s", r.name, status, body)
		}
	}
	sum.report(t)
}

// TestDynamoDBRestart stops DynamoDB Local under a running API: 503 with
// Retry-After while it is down, then answers again once it is back, with
// no restart of the API.
func TestDynamoDBRestart(t *testing.T) {
	ddbtest.Require(t)
	root, err := ddblocal.RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx := context.Background()
	db, err := ddblocal.Start(ctx, root, port)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Stop() }()
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	loadDemo(t, endpoint, "restart")
	base := stackOn(t, endpoint, "restart")
	sum := &tally{name: "DynamoDB restart"}
	for _, r := range faultRoutes {
		if status, _, body := hit(t, base, r); status != 200 {
			t.Fatalf("%s before the stop: %d %s", r.name, status, body)
		}
	}
	db.Stop()
	for _, r := range faultRoutes {
		t.Run("down/"+r.name, func(t *testing.T) {
			start := time.Now()
			status, retryAfter, body := hit(t, base, r)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("answered after %s; want a 503 soon", took.Round(time.Millisecond))
			}
			if status != 503 || retryAfter == "" {
				t.Errorf("%d (Retry-After %q) %s, want 503 with Retry-After", status, retryAfter, body)
			}
			sum.record(t, 0)
		})
	}
	if db, err = ddblocal.Start(ctx, root, port); err != nil {
		t.Fatal(err)
	}
	loadDemo(t, endpoint, "restart") // in memory: the data went with the process
	for _, r := range faultRoutes {
		t.Run("back/"+r.name, func(t *testing.T) {
			status, _, body := hit(t, base, r)
			if status != 200 {
				t.Errorf("%d %s, want 200 once DynamoDB is back", status, body)
			}
			sum.record(t, 0)
		})
	}
	sum.report(t)
}

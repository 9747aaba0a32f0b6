package sessionsapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/pkg/store"
)

// TestOneQueryPerXUID counts what a query sends to DynamoDB Local: one
// Query per xuid (or one on the keyword index), one GetItem for the SCID's
// configuration, and never a Scan; a template narrows by sort-key prefix in
// the key condition, not by a filter.
func TestOneQueryPerXUID(t *testing.T) {
	client, counter := ddbtest.CountingClient(t)
	h := newHandler(t, store.New(client, loaded(t).Table()))
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
			if counter.Total() != tt.queries+1 {
				t.Errorf("%d calls in all, want %d", counter.Total(), tt.queries+1)
			}
			for _, b := range counter.Bodies("Query") {
				if !strings.Contains(b, tt.condition) || strings.Contains(b, "FilterExpression") {
					t.Errorf("Query %s: want key condition %q and no filter", b, tt.condition)
				}
			}
		})
	}
}

func TestDynamoDBDownIs503(t *testing.T) {
	endpoint := ddbtest.DeadEndpoint(t)
	client, err := store.NewClient(context.Background(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	w := call(t, newHandler(t, store.New(client, "t")), "GET", "/serviceconfigs/"+scidA+"/sessions?xuid=9876", "")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("%d (Retry-After %q) %s, want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if strings.Contains(w.Body.String(), strings.TrimPrefix(endpoint, "http://")) {
		t.Errorf("503 body leaks the cause: %s", w.Body)
	}
}

func TestSlowDynamoDBIs408(t *testing.T) {
	client, _ := store.NewClient(context.Background(), ddbtest.SilentEndpoint(t))
	h := newHandler(t, store.New(client, "t"))
	deadline := time.Now().Add(time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "r1"})
	r := httptest.NewRequest("POST", "/serviceconfigs/"+scidA+"/batch", strings.NewReader(`{"xuids":["9876","1111"]}`)).WithContext(ctx)
	r.Header.Set("Authorization", token(t, who{}))
	r.Header.Set("X-Xbl-Contract-Version", "107")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusRequestTimeout || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Errorf("%d %q %s, want a text/plain 408", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	if time.Now().After(deadline) {
		t.Error("answered after the deadline")
	}
}

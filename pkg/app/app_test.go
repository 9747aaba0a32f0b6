package app

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/pkg/auth/devkey"
	"github.com/xblread/xblread/pkg/fixture"
	"github.com/xblread/xblread/pkg/samtemplate"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

func template(t *testing.T) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.LoadNearest(".")
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// TestRoutesMatchTemplate checks that each function serves exactly the
// routes template.yaml sends it.
func TestRoutesMatchTemplate(t *testing.T) {
	routes, err := template(t).Routes()
	if err != nil {
		t.Fatal(err)
	}
	byFunction := map[string][]string{}
	for _, r := range routes {
		byFunction[r.Function] = append(byFunction[r.Function], r.Key())
	}
	for _, f := range Functions {
		got := byFunction[f.LogicalID]
		slices.Sort(got)
		want := slices.Clone(f.Routes)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: template routes %v, handler routes %v", f.LogicalID, got, want)
		}
		delete(byFunction, f.LogicalID)
	}
	for id := range byFunction {
		t.Errorf("template function %s has no Go function", id)
	}
}

// testDeps returns dependencies on a table holding the demo fixture.
func testDeps(t *testing.T) *Deps {
	t.Helper()
	v, err := devkey.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	st := ddbtest.NewStore(t)
	data, err := os.ReadFile(filepath.Join("..", "..", "infra", "fixtures", "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := fixture.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(context.Background(), &f.Data, nil); err != nil {
		t.Fatal(err)
	}
	return &Deps{Store: st, Verifier: v, Log: NewLogger(io.Discard)}
}

// TestSampleEvents invokes each function with each of its sample events,
// through lambda.NewHandler as the runtime does.
func TestSampleEvents(t *testing.T) {
	d := testDeps(t)
	for _, f := range Functions {
		h := lambda.NewHandler(Lambda(f.New(d)))
		files, _ := filepath.Glob(filepath.Join("..", "..", "functions", f.Name, "events", "*.json"))
		if len(files) == 0 {
			t.Errorf("%s: no sample events", f.Name)
		}
		var covered []string
		for _, file := range files {
			t.Run(f.Name+"/"+filepath.Base(file), func(t *testing.T) {
				payload, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				var ev events.APIGatewayV2HTTPRequest
				if err := json.Unmarshal(payload, &ev); err != nil {
					t.Fatal(err)
				}
				covered = append(covered, ev.RouteKey)
				out, err := h.Invoke(context.Background(), payload)
				if err != nil {
					t.Fatal(err)
				}
				var resp events.APIGatewayV2HTTPResponse
				if err := json.Unmarshal(out, &resp); err != nil {
					t.Fatal(err)
				}
				// Each event is a valid request that finds the demo fixture's data.
				if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"statname"`) && !strings.Contains(resp.Body, `"sessionRef"`) {
					t.Errorf("got %d %s", resp.StatusCode, resp.Body)
				}
				if resp.Headers["X-Request-Id"] == "" {
					t.Error("no request id header")
				}

				// The same event without its token is refused.
				delete(ev.Headers, "authorization")
				noAuth, _ := json.Marshal(ev)
				out, err = h.Invoke(context.Background(), noAuth)
				if err != nil {
					t.Fatal(err)
				}
				json.Unmarshal(out, &resp)
				if resp.StatusCode != 401 {
					t.Errorf("without a token: %d %s", resp.StatusCode, resp.Body)
				}
			})
		}
		slices.Sort(covered)
		covered = slices.Compact(covered)
		want := slices.Clone(f.Routes)
		slices.Sort(want)
		if !slices.Equal(covered, want) {
			t.Errorf("%s: sample events cover %v, want every route %v", f.Name, covered, want)
		}
	}
}

func TestNewVerifierConfig(t *testing.T) {
	ctx := context.Background()
	good := Config{PEM: string(devkey.PublicPEM), Issuer: devkey.Issuer, Audience: devkey.Audience}
	if _, err := NewVerifier(ctx, good); err != nil {
		t.Errorf("good config: %v", err)
	}
	for name, c := range map[string]Config{
		"no keys":     {Issuer: "i", Audience: "a"},
		"bad PEM":     {PEM: "not a key", Issuer: "i", Audience: "a"},
		"bad JWKS":    {JWKS: "{", Issuer: "i", Audience: "a"},
		"no issuer":   {PEM: good.PEM, Audience: "a"},
		"no audience": {PEM: good.PEM, Issuer: "i"},
	} {
		if _, err := NewVerifier(ctx, c); err == nil {
			t.Errorf("%s: NewVerifier succeeded", name)
		}
	}
}

func TestLookup(t *testing.T) {
	for _, name := range []string{"statsbatch", "StatsBatchFunction", "sessionsbatch", "SessionsBatchFunction"} {
		if _, ok := Lookup(name); !ok {
			t.Errorf("Lookup(%q) failed", name)
		}
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("Lookup(nope) succeeded")
	}
}

package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/infra/samtemplate"
	"github.com/xblread/xblread/pkg/app"
	"github.com/xblread/xblread/pkg/configcache"
	"github.com/xblread/xblread/pkg/ratelimit"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/ratestore"
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

// testEnv returns a function environment on a table holding the demo
// fixture.
func testEnv(t *testing.T) *app.Env {
	t.Helper()
	v, err := devkey.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	st := ddbtest.EmptyTable(t)
	ddbtest.Load(t, st, filepath.Join("..", "fixtures", "demo.json"))
	return &app.Env{Table: st, Configs: configcache.New(st, 0, 0), Verifier: v, Log: app.NewLogger(io.Discard)}
}

// TestSampleEvents invokes each function with each of its sample events,
// through lambda.NewHandler as the runtime does, as deployed (configuration
// cache and rate limiter on), and checks that every DynamoDB operation it
// made is one its policy in template.yaml allows.
func TestSampleEvents(t *testing.T) {
	base := testEnv(t)
	fns, err := template(t).Functions()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Functions {
		client, counter := ddbtest.CountingClient(t)
		table := store.Table{Client: client, Name: base.Table.Name}
		d := &app.Env{Table: table, Configs: configcache.New(table, time.Minute, 10), Verifier: base.Verifier, Log: base.Log,
			Limiter: ratelimit.New(ratestore.New(table), ratelimit.Config{Services: ratelimit.Defaults}.Limits)}
		h := lambda.NewHandler(app.Lambda(f.New(d)))
		t.Cleanup(func() {
			allowed := fmt.Sprint(fns[f.LogicalID].Policies)
			for _, op := range counter.Ops() {
				if !strings.Contains(allowed, "dynamodb:"+op) {
					t.Errorf("%s calls %s, which its policy does not allow: %s", f.LogicalID, op, allowed)
				}
			}
			if len(counter.Ops()) == 0 {
				t.Errorf("%s made no DynamoDB call: the check proves nothing", f.LogicalID)
			}
		})
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
				if resp.StatusCode != 200 || !strings.Contains(resp.Body, `"statname"`) && !strings.Contains(resp.Body, `"sessionRef"`) &&
					!strings.Contains(resp.Body, `"revision"`) && resp.Body != "{}" {
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

// TestTemplateNeverDrifts checks what template.yaml must keep: each
// function reads only its table, with read actions only; each has its
// alarms; and sam local's env.json sets only variables the template
// declares, trusting the development key.
func TestTemplateNeverDrifts(t *testing.T) {
	tmpl := template(t)
	fns, err := tmpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	tableID, _, err := tmpl.Table()
	if err != nil {
		t.Fatal(err)
	}
	readActions := map[string]bool{"dynamodb:BatchGetItem": true, "dynamodb:GetItem": true, "dynamodb:Query": true, "dynamodb:DescribeTable": true}
	for _, f := range Functions {
		props, ok := fns[f.LogicalID]
		if !ok {
			t.Fatalf("template lacks %s", f.LogicalID)
		}
		if len(props.Policies) == 0 {
			t.Errorf("%s has no policy", f.LogicalID)
		}
		for _, p := range props.Policies {
			doc, ok := p.(map[string]any)
			if !ok {
				t.Errorf("%s: policy %v is not an inline statement list", f.LogicalID, p)
				continue
			}
			stmts, _ := doc["Statement"].([]any)
			for _, s := range stmts {
				st := s.(map[string]any)
				if st["Effect"] != "Allow" {
					continue
				}
				actions, _ := st["Action"].([]any)
				for _, a := range actions {
					// The only writes: the rate limiter's counts, held to
					// their own partitions by a condition, and the
					// statistics write function's statistics items.
					cond := fmt.Sprint(st["Condition"])
					if a == "dynamodb:UpdateItem" && (strings.Contains(cond, "dynamodb:LeadingKeys:[rate#*]") ||
						f.Name == "statswrite" && strings.Contains(cond, "dynamodb:LeadingKeys:[*#*-*-*-*-* rate#*]")) {
						continue
					}
					if !readActions[a.(string)] {
						t.Errorf("%s may %s: not a read action", f.LogicalID, a)
					}
				}
				if res := fmt.Sprint(st["Resource"]); res != tableID+".Arn" && res != "["+tableID+".Arn]" {
					t.Errorf("%s: policy resource %v, want only the table", f.LogicalID, st["Resource"])
				}
			}
		}
	}

	alarms, err := tmpl.Alarms()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Functions {
		for _, want := range []struct{ ns, metric, dim, value string }{
			{"AWS/Lambda", "Errors", "FunctionName", f.LogicalID},
			{"AWS/Lambda", "Throttles", "FunctionName", f.LogicalID},
			{"AWS/Lambda", "Duration", "FunctionName", f.LogicalID},
			{app.DefaultMetricsNamespace, "DependencyFailures", "Function", f.Name},
		} {
			found := false
			for _, a := range alarms {
				if a.Namespace == want.ns && a.MetricName == want.metric && a.Dimension(want.dim) == want.value {
					found = true
					if a.AlarmActions == nil {
						t.Errorf("the %s %s alarm of %s notifies nobody", want.ns, want.metric, f.LogicalID)
					}
				}
			}
			if !found {
				t.Errorf("%s has no %s %s alarm", f.LogicalID, want.ns, want.metric)
			}
		}
	}

	raw, err := os.ReadFile(filepath.Join("..", "sam", "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	for id, vars := range env {
		props, ok := fns[id]
		if !ok {
			t.Errorf("env.json names %s, which the template lacks", id)
			continue
		}
		for k := range vars {
			if _, ok := props.Environment.Variables[k]; !ok {
				t.Errorf("env.json sets %s for %s; the template does not declare it, so sam local would ignore it", k, id)
			}
		}
		if vars["AUTH_PUBLIC_KEYS"] != string(devkey.PublicPEM) || vars["AUTH_ISSUER"] != devkey.Issuer || vars["AUTH_AUDIENCE"] != devkey.Audience {
			t.Errorf("env.json does not trust the development key for %s", id)
		}
	}
	for _, f := range Functions {
		if _, ok := env[f.LogicalID]; !ok {
			t.Errorf("env.json lacks %s", f.LogicalID)
		}
	}
}

// TestEachMainLinksOnlyItsAPI checks what the split into functions is for:
// every function of the table has its main under functions/, and each
// binary links its own API's packages and none of the other's.
func TestEachMainLinksOnlyItsAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	own := map[string][]string{
		"statsbatch":    {"pkg/statsapi"},
		"statswrite":    {"pkg/statswriteapi"},
		"sessionsbatch": {"pkg/sessions", "pkg/sessionsapi", "pkg/store/sessionstore"},
	}
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "functions", "*", "main.go"))
	if len(dirs) != len(Functions) || len(own) != len(Functions) {
		t.Fatalf("%d mains, %d functions in the table, %d in this test", len(dirs), len(Functions), len(own))
	}
	for _, f := range Functions {
		out, err := exec.Command("go", "list", "-deps", "../../functions/"+f.Name).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", f.Name, err)
		}
		deps := map[string]bool{}
		for _, line := range strings.Fields(string(out)) {
			deps[strings.TrimPrefix(line, "github.com/xblread/xblread/")] = true
		}
		for name, pkgs := range own {
			for _, p := range pkgs {
				if deps[p] != (name == f.Name) {
					t.Errorf("%s links %s: %v", f.Name, p, deps[p])
				}
			}
		}
		for p := range deps {
			if strings.HasPrefix(p, "infra/") {
				t.Errorf("%s links tooling package %s", f.Name, p)
			}
		}
	}
}

// TestServerLimitsSlowClients: the local API's server has read-header,
// read and idle timeouts, so that a client that stalls cannot hold it.
func TestServerLimitsSlowClients(t *testing.T) {
	s := NewHTTPServer(http.NotFoundHandler())
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.IdleTimeout <= 0 || s.WriteTimeout <= 0 || s.MaxHeaderBytes <= 0 {
		t.Errorf("server limits: %+v", s)
	}
}

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
	"regexp"
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
	"github.com/xblread/xblread/pkg/leaderboardsapi"
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
			policies := fns[f.LogicalID].Policies
			for _, op := range counter.Ops() {
				for _, body := range counter.Bodies(op) {
					accesses, err := iamAccesses(op, body)
					if err != nil {
						t.Errorf("%s: %v", f.LogicalID, err)
					}
					for _, a := range accesses {
						if !allows(policies, a) {
							t.Errorf("%s calls %s, which needs %s on partition %q: its policy does not allow it: %v", f.LogicalID, op, a.action, a.pk, policies)
						}
					}
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
				// Each event is a valid request that finds the demo fixture's
				// data (the events of a function run in file name order: a
				// write event may see the changes of those before it). A
				// leaderboard page may have no rows: loading a fixture
				// does not fill the ranking (the statistics stream does).
				want := SampleEventStatus(ev.RouteKey, ev.Headers)
				if resp.StatusCode != want || want == 200 && !strings.Contains(resp.Body, `"statname"`) && !strings.Contains(resp.Body, `"sessionRef"`) &&
					!strings.Contains(resp.Body, `"revision"`) && !strings.Contains(resp.Body, `"membersInfo"`) &&
					!strings.Contains(resp.Body, `"leaderboardInfo"`) && resp.Body != "{}" {
					t.Errorf("got %d %s, want %d", resp.StatusCode, resp.Body, want)
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
		// A route every request of which is refused has no sample event:
		// SampleEventStatus would want it answered.
		want := slices.DeleteFunc(slices.Clone(f.Routes), func(r string) bool { return alwaysRefused[r] })
		slices.Sort(want)
		if !slices.Equal(covered, want) {
			t.Errorf("%s: sample events cover %v, want every route %v", f.Name, covered, want)
		}
	}
}

// alwaysRefused are the routes whose every request is refused: the social
// leaderboards (the service has no people graph). infra/suite sends them.
var alwaysRefused = map[string]bool{leaderboardsapi.Routes[1]: true}

// access is one item access a DynamoDB call makes, as IAM authorizes it:
// the action and the item's partition key ("" when the call names none).
type access struct{ action, pk string }

// iamAccesses returns the IAM actions the DynamoDB call op with request
// body needs, each with the partition key it touches. A transaction is
// authorized item by item, as the actions of its parts: Put as PutItem,
// Update as UpdateItem, Delete as DeleteItem, ConditionCheck as
// ConditionCheckItem (there is no TransactWriteItems action).
func iamAccesses(op, body string) ([]access, error) {
	type av map[string]struct{ S string }
	var req struct {
		Key                       av
		Item                      av
		KeyConditionExpression    string
		ExpressionAttributeNames  map[string]string
		ExpressionAttributeValues av
		TransactItems             []struct {
			Put            *struct{ Item av }
			Update         *struct{ Key av }
			Delete         *struct{ Key av }
			ConditionCheck *struct{ Key av }
		}
		RequestItems map[string]json.RawMessage
	}
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		return nil, fmt.Errorf("%s: request body: %v", op, err)
	}
	pk := func(m av) string { return m[store.AttrPK].S }
	var out []access
	switch op {
	case "GetItem", "UpdateItem", "DeleteItem":
		out = append(out, access{"dynamodb:" + op, pk(req.Key)})
	case "PutItem":
		out = append(out, access{"dynamodb:PutItem", pk(req.Item)})
	case "TransactWriteItems":
		for _, it := range req.TransactItems {
			switch {
			case it.Put != nil:
				out = append(out, access{"dynamodb:PutItem", pk(it.Put.Item)})
			case it.Update != nil:
				out = append(out, access{"dynamodb:UpdateItem", pk(it.Update.Key)})
			case it.Delete != nil:
				out = append(out, access{"dynamodb:DeleteItem", pk(it.Delete.Key)})
			case it.ConditionCheck != nil:
				out = append(out, access{"dynamodb:ConditionCheckItem", pk(it.ConditionCheck.Key)})
			default:
				return nil, fmt.Errorf("TransactWriteItems: an item of no known kind: %s", body)
			}
		}
	case "BatchWriteItem":
		for _, raw := range req.RequestItems {
			var reqs []struct {
				PutRequest    *struct{ Item av }
				DeleteRequest *struct{ Key av }
			}
			if err := json.Unmarshal(raw, &reqs); err != nil {
				return nil, fmt.Errorf("BatchWriteItem: %v", err)
			}
			for _, r := range reqs {
				if r.PutRequest != nil {
					out = append(out, access{"dynamodb:BatchWriteItem", pk(r.PutRequest.Item)})
				}
				if r.DeleteRequest != nil {
					out = append(out, access{"dynamodb:BatchWriteItem", pk(r.DeleteRequest.Key)})
				}
			}
		}
	case "BatchGetItem":
		for _, raw := range req.RequestItems {
			var keys struct{ Keys []av }
			if err := json.Unmarshal(raw, &keys); err != nil {
				return nil, fmt.Errorf("BatchGetItem: %v", err)
			}
			for _, k := range keys.Keys {
				out = append(out, access{"dynamodb:BatchGetItem", pk(k)})
			}
		}
	case "Query":
		// IAM's LeadingKeys of a Query is the partition key value of its
		// key condition ("pk = :v" or "#n = :v", first).
		pkv := ""
		if m := keyCondition.FindStringSubmatch(req.KeyConditionExpression); m != nil {
			name := m[1]
			if strings.HasPrefix(name, "#") {
				name = req.ExpressionAttributeNames[name]
			}
			if name == store.AttrPK {
				pkv = req.ExpressionAttributeValues[m[2]].S
			}
		}
		out = append(out, access{"dynamodb:Query", pkv})
	default: // the rest: no item key in the request
		out = append(out, access{"dynamodb:" + op, ""})
	}
	return out, nil
}

// keyCondition reads the first comparison of a key condition expression.
var keyCondition = regexp.MustCompile(`^\s*(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)`)

// allows reports whether one of policies' Allow statements grants a: its
// action, and, when the statement holds its leading keys to patterns
// (ForAllValues:StringLike dynamodb:LeadingKeys), a partition key one of
// them matches.
func allows(policies []any, a access) bool {
	if denies(policies, a) {
		return false
	}
	for _, st := range statements(policies, "Allow", a.action) {
		cond, ok := st["Condition"].(map[string]any)
		if !ok {
			return true
		}
		like, _ := cond["ForAllValues:StringLike"].(map[string]any)
		patterns, _ := like["dynamodb:LeadingKeys"].([]any)
		if len(cond) != 1 || len(like) != 1 || len(patterns) == 0 {
			continue // a condition this check cannot evaluate grants nothing here
		}
		if matchesAny(patterns, a.pk) {
			return true
		}
	}
	return false
}

// TestWritesNeverReachConfigurations: the write functions' policies let
// them write their users' partitions ({xuid}#{scid}, whose IAM pattern
// also matches "scid#..." and "profile#...") but never a configuration or
// a profile.
func TestWritesNeverReachConfigurations(t *testing.T) {
	fns, err := template(t).Functions()
	if err != nil {
		t.Fatal(err)
	}
	const scid = "7492baca-c1b4-440d-a391-b7ef364a8d40"
	for _, c := range []struct {
		fn, action string
	}{{"StatsWriteFunction", "dynamodb:UpdateItem"}, {"SessionsWriteFunction", "dynamodb:PutItem"}, {"SessionsWriteFunction", "dynamodb:DeleteItem"}} {
		policies := fns[c.fn].Policies
		if !allows(policies, access{c.action, "2533274792693551#" + scid}) {
			t.Errorf("%s may not %s a user's partition", c.fn, c.action)
		}
		for _, pk := range []string{"scid#" + scid, "profile#2533274792693551", "lbe#" + scid + "#score#0", "lbc#" + scid + "#score#k0",
			"lbj#" + scid + "#score#0", "lbl#" + scid + "#score", "lbt#" + scid + "#score"} {
			if allows(policies, access{c.action, pk}) {
				t.Errorf("%s may %s %s", c.fn, c.action, pk)
			}
		}
	}
}

// TestIndexWritesOnlyBoards: the leaderboards' index writes and reads a
// board's items (entries, counters, journals, lease, top item) and reads
// configurations, and nothing else: no statistics, session or profile.
func TestIndexWritesOnlyBoards(t *testing.T) {
	fns, err := template(t).Functions()
	if err != nil {
		t.Fatal(err)
	}
	policies := fns["LeaderboardIndexFunction"].Policies
	const scid = "7492baca-c1b4-440d-a391-b7ef364a8d40"
	for _, pk := range []string{"lbe#" + scid + "#kd#3", "lbc#" + scid + "#kd#k1", "lbc#" + scid + "#kd#3f5e", "lbj#" + scid + "#kd#15", "lbl#" + scid + "#kd", "lbt#" + scid + "#kd"} {
		for _, action := range []string{"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"} {
			if !allows(policies, access{action, pk}) {
				t.Errorf("may not %s %s", action, pk)
			}
		}
	}
	if !allows(policies, access{"dynamodb:GetItem", "scid#" + scid}) || allows(policies, access{"dynamodb:UpdateItem", "scid#" + scid}) {
		t.Error("configurations: read only")
	}
	for _, pk := range []string{"2533274792693551#" + scid, "session#" + scid + "#lobby#x", "profile#2533274792693551", "rate#leaderboards#1#2"} {
		for _, action := range []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"} {
			if allows(policies, access{action, pk}) {
				t.Errorf("may %s %s", action, pk)
			}
		}
	}
}

// TestLeaderboardsReadOnlyTheirPartitions: the leaderboards function
// queries boards, gets configurations and batch-gets players' statistics
// items, and nothing else: not sessions, keywords, profiles or counts,
// whatever their names (a session named like a GUID included).
func TestLeaderboardsReadOnlyTheirPartitions(t *testing.T) {
	fns, err := template(t).Functions()
	if err != nil {
		t.Fatal(err)
	}
	policies := fns["LeaderboardsFunction"].Policies
	const scid = "7492baca-c1b4-440d-a391-b7ef364a8d40"
	allowed := []access{
		{"dynamodb:Query", "lbe#" + scid + "#kd#0"},
		{"dynamodb:Query", "lbc#" + scid + "#kd#k0"},
		{"dynamodb:GetItem", "lbt#" + scid + "#kd"},
		{"dynamodb:GetItem", "scid#" + scid},
		{"dynamodb:BatchGetItem", "2533274792693551#" + scid},
		{"dynamodb:BatchGetItem", "1#" + scid},
		{"dynamodb:BatchGetItem", "18446744073709551615#" + scid},
		{"dynamodb:UpdateItem", "rate#leaderboards#1297287135#2533274792693551"},
	}
	for _, a := range allowed {
		if !allows(policies, a) {
			t.Errorf("may not %s %s", a.action, a.pk)
		}
	}
	const guid = "0f5e4b3c-1d2a-4b6c-8d7e-9f0a1b2c3d4e"
	for _, pk := range []string{
		"session#" + scid + "#lobby#" + guid, "keyword#" + scid + "#" + guid, "profile#2533274792693551",
		"rate#userstats#1297287135#2533274792693551", "184467440737095516150#" + scid, "2533274792693551#" + scid + "x",
		"lbj#" + scid + "#kd#0", "lbl#" + scid + "#kd",
	} {
		for _, action := range []string{"dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchGetItem"} {
			if allows(policies, access{action, pk}) {
				t.Errorf("may %s %s", action, pk)
			}
		}
	}
	for _, a := range allowed {
		for _, action := range []string{"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:Scan"} {
			if allows(policies, access{action, a.pk}) {
				t.Errorf("may %s %s", action, a.pk)
			}
		}
	}
}

// denies reports whether one of policies' Deny statements refuses a: its
// action, for any partition key matching its
// ForAnyValue:StringLike dynamodb:LeadingKeys patterns.
func denies(policies []any, a access) bool {
	for _, st := range statements(policies, "Deny", a.action) {
		cond, ok := st["Condition"].(map[string]any)
		if !ok {
			return true
		}
		like, _ := cond["ForAnyValue:StringLike"].(map[string]any)
		patterns, _ := like["dynamodb:LeadingKeys"].([]any)
		if matchesAny(patterns, a.pk) {
			return true
		}
	}
	return false
}

// statements returns policies' statements of effect that name action.
func statements(policies []any, effect, action string) []map[string]any {
	var out []map[string]any
	for _, p := range policies {
		doc, _ := p.(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		for _, s := range stmts {
			st, _ := s.(map[string]any)
			actions, _ := st["Action"].([]any)
			if st["Effect"] == effect && slices.Contains(actions, any(action)) {
				out = append(out, st)
			}
		}
	}
	return out
}

// matchesAny reports whether pk matches one of the StringLike patterns.
func matchesAny(patterns []any, pk string) bool {
	for _, pat := range patterns {
		if pat, ok := pat.(string); ok && pk != "" && stringLike(pat, pk) {
			return true
		}
	}
	return false
}

// stringLike is IAM's StringLike: * matches any run of characters, ? any
// one.
func stringLike(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if stringLike(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && stringLike(pattern[1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && stringLike(pattern[1:], s[1:])
}

func TestStringLike(t *testing.T) {
	for _, tt := range []struct {
		pattern, s string
		want       bool
	}{
		{"rate#*", "rate#sessiondirectory#1297287135#2533274792693551", true},
		{"rate#*", "session#x", false},
		{"*#*-*-*-*-*", "2533274792693551#7492baca-c1b4-440d-a391-b7ef364a8d40", true},
		{"*#*-*-*-*-*", "profile#2533274792693551", false},
		{"session#*", "session#7492baca-c1b4-440d-a391-b7ef364a8d40#deathmatch#x", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
	} {
		if got := stringLike(tt.pattern, tt.s); got != tt.want {
			t.Errorf("stringLike(%q, %q) = %v", tt.pattern, tt.s, got)
		}
	}
}

func TestLookup(t *testing.T) {
	for _, name := range []string{"statsbatch", "StatsBatchFunction", "sessionsbatch", "SessionsBatchFunction", "sessionswrite", "SessionsWriteFunction", "leaderboards", "LeaderboardsFunction"} {
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
					// The only writes, each held to its partitions by a
					// condition: the rate limiter's counts, the statistics
					// write function's statistics items, and the session
					// write function's sessions and their index entries (and
					// its claims on session documents).
					cond := fmt.Sprint(st["Condition"])
					if a == "dynamodb:UpdateItem" && (strings.Contains(cond, "dynamodb:LeadingKeys:[rate#*]") ||
						f.Name == "statswrite" && strings.Contains(cond, "dynamodb:LeadingKeys:[*#*-*-*-*-* rate#*]") ||
						f.Name == "sessionswrite" && strings.Contains(cond, "dynamodb:LeadingKeys:[session#*]")) {
						continue
					}
					if f.Name == "sessionswrite" && (a == "dynamodb:PutItem" || a == "dynamodb:DeleteItem" || a == "dynamodb:BatchWriteItem") &&
						strings.Contains(cond, "dynamodb:LeadingKeys:[session#* keyword#* *#*-*-*-*-* handle#*]") {
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
			{app.DefaultMetricsNamespace, "RateLimiterErrors", "Function", f.Name},
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
	for _, f := range WebSocketFunctions {
		// $connect checks tokens: without the keys, every connect is a 500.
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
	// The packages each function links; it links none of the others'
	// (the statistics functions no session or leaderboard package, the
	// session functions no statistics or leaderboard package; the
	// leaderboards function links the statistics' rule and store, which
	// rankstore reads a player's value with, and no API of theirs).
	own := map[string][]string{
		"statsbatch":    {"pkg/stats", "pkg/statsapi", "pkg/store/statstore"},
		"statswrite":    {"pkg/stats", "pkg/statswriteapi", "pkg/store/statstore"},
		"sessionsbatch": {"pkg/sessions", "pkg/sessionsapi", "pkg/store/sessionstore"},
		"sessionswrite": {"pkg/sessions", "pkg/sessionswriteapi", "pkg/store/sessionstore"},
		"leaderboards":  {"pkg/leaderboards", "pkg/leaderboardsapi", "pkg/store/rankstore", "pkg/stats", "pkg/store/statstore"},
		// The index links the statistics item (its stream's images) and
		// the ranking's store, and no HTTP API.
		"leaderboardindex": {"pkg/leaderboards", "pkg/rankstream", "pkg/store/rankstore", "pkg/stats", "pkg/store/statstore"},
		// Real-time activity reads session documents (the notifier's
		// images, the change kinds): both link pkg/sessions, no API of it.
		"rta":       {"pkg/rta", "pkg/rtaapi", "pkg/store/rtastore", "pkg/sessions", "pkg/apigw", "pkg/store/sessionstore"},
		"rtanotify": {"pkg/rta", "pkg/rtastream", "pkg/store/rtastore", "pkg/sessions", "pkg/apigw"},
	}
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "functions", "*", "main.go"))
	var names []string
	for _, f := range Functions {
		names = append(names, f.Name)
	}
	for _, f := range StreamFunctions {
		names = append(names, f.Name)
	}
	for _, f := range WebSocketFunctions {
		names = append(names, f.Name)
	}
	if len(dirs) != len(names) || len(own) != len(names) {
		t.Fatalf("%d mains, %d functions in the tables, %d in this test", len(dirs), len(names), len(own))
	}
	for _, name := range names {
		f := struct{ Name string }{name}
		out, err := exec.Command("go", "list", "-deps", "../../functions/"+f.Name).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", f.Name, err)
		}
		deps := map[string]bool{}
		for _, line := range strings.Fields(string(out)) {
			deps[strings.TrimPrefix(line, "github.com/xblread/xblread/")] = true
		}
		for _, pkgs := range own {
			for _, p := range pkgs {
				if mine := slices.Contains(own[f.Name], p); deps[p] != mine {
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

// TestImportsAsArchitectureSays: every package under pkg/ and functions/
// imports, of this module, only what docs/ARCHITECTURE.md's "Who may
// import whom" table allows it, and the table names every such package.
func TestImportsAsArchitectureSays(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile("`((?:pkg|functions)/[a-z/]+)`")
	allowed := map[string]map[string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 4 || !strings.Contains(cells[1], "`pkg/") && !strings.Contains(cells[1], "`functions/") {
			continue
		}
		may := map[string]bool{}
		for _, m := range code.FindAllStringSubmatch(cells[2], -1) {
			may[m[1]] = true
		}
		for _, m := range code.FindAllStringSubmatch(cells[1], -1) {
			allowed[m[1]] = may
		}
	}
	const module = "github.com/xblread/xblread/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "../../pkg/...", "../../functions/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		may, ok := allowed[pkg]
		if !ok {
			t.Errorf("docs/ARCHITECTURE.md does not say what %s may import", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			if dep, ok := strings.CutPrefix(imp, module); ok && !may[dep] {
				t.Errorf("%s imports %s, which docs/ARCHITECTURE.md does not allow it", pkg, dep)
			}
		}
	}
}

// TestRateLimitDefaultsAgree: the template's rate-limit parameters default
// to the limits pkg/ratelimit applies when they are not set.
func TestRateLimitDefaultsAgree(t *testing.T) {
	tmpl := template(t)
	params := map[string]string{
		ratelimit.UserStats:        "RateLimitUserStats",
		ratelimit.SessionDirectory: "RateLimitSessionDirectory",
		ratelimit.StatsWrite:       "RateLimitStatsWrite",
		ratelimit.Leaderboards:     "RateLimitLeaderboards",
		ratelimit.RTA:              "RateLimitRta",
	}
	if len(params) != len(ratelimit.Defaults) {
		t.Fatalf("%d services have defaults, %d template parameters here", len(ratelimit.Defaults), len(params))
	}
	for service, l := range ratelimit.Defaults {
		if got := tmpl.Resolve(params[service]); got != l.String() {
			t.Errorf("template %s defaults to %q; pkg/ratelimit's %s default is %s", params[service], got, service, l)
		}
	}
}

// TestStreamFilterMatchesTemplate: make run's pollers keep the records the
// template's event source mapping lets through (statistics items only),
// and every stream function of the template is in StreamFunctions.
func TestStreamFilterMatchesTemplate(t *testing.T) {
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const pattern = `Pattern: '{"dynamodb": {"Keys": {"sk": {"S": ["stats"]}}}}'`
	if !strings.Contains(string(raw), pattern) {
		t.Errorf("template.yaml lacks the filter %s that keepStatistics implements", pattern)
	}
	for _, tt := range []struct {
		keys map[string]events.DynamoDBAttributeValue
		keep bool
	}{
		{map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute("1#s"), "sk": events.NewStringAttribute("stats")}, true},
		{map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute("lbe#s#x"), "sk": events.NewStringAttribute("00")}, false},
		{map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute("1#s")}, false},
	} {
		r := events.DynamoDBEventRecord{Change: events.DynamoDBStreamRecord{Keys: tt.keys}}
		if keepStatistics(&r) != tt.keep {
			t.Errorf("%v: kept %v", tt.keys, !tt.keep)
		}
	}
	tmpl, err := LoadTemplate("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tmpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	for id, p := range fns {
		stream := false
		for _, e := range p.Events {
			stream = stream || e.Type == "DynamoDB"
		}
		if _, ok := lookupStream(id); ok != stream {
			t.Errorf("%s: a stream event %v, in StreamFunctions %v", id, stream, ok)
		}
	}
}

// TestMakefileBuildsEveryFunction: sam build (BuildMethod: makefile)
// calls build-<LogicalID> for every function of the template, and make
// build builds (and measures) every function: the Makefile has each.
func TestMakefileBuildsEveryFunction(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	mk := string(raw)
	fns, err := template(t).Functions()
	if err != nil {
		t.Fatal(err)
	}
	var functions string
	for _, line := range strings.Split(mk, "\n") {
		if v, ok := strings.CutPrefix(line, "FUNCTIONS := "); ok {
			functions = " " + v + " "
		}
	}
	for id := range fns {
		name, ok := dirOf(id)
		if !ok {
			t.Errorf("%s is in no table of devstack", id)
			continue
		}
		if !strings.Contains(mk, "\nbuild-"+id+":\n") || !strings.Contains(mk, "./functions/"+name+"\n") {
			t.Errorf("the Makefile has no build-%s target building ./functions/%s", id, name)
		}
		if !strings.Contains(functions, " "+name+" ") {
			t.Errorf("make build does not build %s (FUNCTIONS)", name)
		}
	}
}

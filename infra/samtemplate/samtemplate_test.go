package samtemplate

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/xblread/xblread/pkg/store"
)

func load(t *testing.T) *Template {
	t.Helper()
	tmpl, err := LoadNearest(".")
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func TestRoutes(t *testing.T) {
	routes, err := load(t).Routes()
	if err != nil {
		t.Fatal(err)
	}
	want := []Route{
		{"POST", "/batch", "StatsBatchFunction"},
		{"POST", "/handles", "SessionsWriteFunction"},
		{"POST", "/handles/query", "SessionsWriteFunction"},
		{"DELETE", "/handles/{id}", "SessionsWriteFunction"},
		{"GET", "/handles/{id}/session", "SessionsWriteFunction"},
		{"PUT", "/handles/{id}/session", "SessionsWriteFunction"},
		{"GET", "/scids/{scid}/leaderboards/{board}", "LeaderboardsFunction"},
		{"POST", "/serviceconfigs/{scid}/batch", "SessionsBatchFunction"},
		{"GET", "/serviceconfigs/{scid}/sessionTemplates/{template}/sessions/{name}", "SessionsWriteFunction"},
		{"PUT", "/serviceconfigs/{scid}/sessionTemplates/{template}/sessions/{name}", "SessionsWriteFunction"},
		{"DELETE", "/serviceconfigs/{scid}/sessionTemplates/{template}/sessions/{name}/members/me", "SessionsWriteFunction"},
		{"GET", "/serviceconfigs/{scid}/sessions", "SessionsBatchFunction"},
		{"POST", "/serviceconfigs/{scid}/sessiontemplates/{template}/batch", "SessionsBatchFunction"},
		{"GET", "/serviceconfigs/{scid}/sessiontemplates/{template}/sessions", "SessionsBatchFunction"},
		{"GET", "/serviceconfigs/{scid}/sessiontemplates/{template}/sessions/{name}", "SessionsWriteFunction"},
		{"PUT", "/serviceconfigs/{scid}/sessiontemplates/{template}/sessions/{name}", "SessionsWriteFunction"},
		{"DELETE", "/serviceconfigs/{scid}/sessiontemplates/{template}/sessions/{name}/members/me", "SessionsWriteFunction"},
		{"GET", "/stats/users/{xuid}/scids/{scid}", "StatsWriteFunction"},
		{"PATCH", "/stats/users/{xuid}/scids/{scid}", "StatsWriteFunction"},
		{"POST", "/stats/users/{xuid}/scids/{scid}", "StatsWriteFunction"},
		{"GET", "/stats/users/{xuid}/scids/{scid}/", "StatsWriteFunction"},
		{"PATCH", "/stats/users/{xuid}/scids/{scid}/", "StatsWriteFunction"},
		{"POST", "/stats/users/{xuid}/scids/{scid}/", "StatsWriteFunction"},
		{"GET", "/users/{user}/scids/{scid}/stats/{names}", "StatsBatchFunction"},
		{"GET", "/users/{user}/scids/{scid}/stats/{stat}/people/{group}", "LeaderboardsFunction"},
	}
	if !reflect.DeepEqual(routes, want) {
		t.Errorf("Routes =\n%v\nwant\n%v", routes, want)
	}
}

// TestTableMatchesStore proves that template.yaml declares the table the
// store defines and the local stack creates.
func TestTableMatchesStore(t *testing.T) {
	_, props, err := load(t).Table()
	if err != nil {
		t.Fatal(err)
	}
	def := store.Definition()
	if props.BillingMode != string(def.BillingMode) {
		t.Errorf("BillingMode = %q, want %q", props.BillingMode, def.BillingMode)
	}
	var keys, wantKeys, attrs, wantAttrs [][2]string
	for _, k := range props.KeySchema {
		keys = append(keys, [2]string{k.AttributeName, k.KeyType})
	}
	for _, k := range def.KeySchema {
		wantKeys = append(wantKeys, [2]string{aws.ToString(k.AttributeName), string(k.KeyType)})
	}
	for _, a := range props.AttributeDefinitions {
		attrs = append(attrs, [2]string{a.AttributeName, a.AttributeType})
	}
	for _, a := range def.AttributeDefinitions {
		wantAttrs = append(wantAttrs, [2]string{aws.ToString(a.AttributeName), string(a.AttributeType)})
	}
	if !reflect.DeepEqual(keys, wantKeys) {
		t.Errorf("KeySchema = %v, want %v", keys, wantKeys)
	}
	if !reflect.DeepEqual(attrs, wantAttrs) {
		t.Errorf("AttributeDefinitions = %v, want %v", attrs, wantAttrs)
	}
	if len(props.GlobalSecondaryIndexes) != len(def.GlobalSecondaryIndexes) {
		t.Errorf("template has %d GSIs, store %d", len(props.GlobalSecondaryIndexes), len(def.GlobalSecondaryIndexes))
	}
}

func TestFunctions(t *testing.T) {
	tmpl := load(t)
	fns, err := tmpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != 8 {
		t.Fatalf("template has %d functions, want 8", len(fns))
	}
	for id, f := range fns {
		if f.Runtime != "provided.al2023" || f.Handler != "bootstrap" || len(f.Architectures) != 1 || tmpl.Resolve(f.Architectures[0]) != "arm64" {
			t.Errorf("%s: runtime %q handler %q architectures %v", id, f.Runtime, f.Handler, f.Architectures)
		}
		if f.Timeout <= 0 {
			t.Errorf("%s: no timeout", id)
		}
		if _, ok := f.Environment.Variables["TABLE_NAME"]; !ok {
			t.Errorf("%s: TABLE_NAME not set", id)
		}
	}
}

func TestParseRejectsBadTemplates(t *testing.T) {
	for name, doc := range map[string]string{
		"not yaml":     "Resources: [",
		"no resources": "AWSTemplateFormatVersion: '2010-09-09'\n",
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: Parse succeeded", name)
		}
	}
	dup := []byte(`
Resources:
  A:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        E: {Type: HttpApi, Properties: {Path: /x, Method: get}}
  B:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        E: {Type: HttpApi, Properties: {Path: /x, Method: GET}}
`)
	tmpl, err := Parse(dup)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmpl.Routes(); err == nil {
		t.Error("Routes accepted one route claimed by two functions")
	}
}

// TestDashboard: the dashboard body is JSON once !Sub has run, and it
// charts every function: its Lambda invocations and duration, and the
// service's own metrics under the function's name (a stream function's
// iterator age; the WebSocket function's connections and messages).
func TestDashboard(t *testing.T) {
	tmpl := load(t)
	var props struct {
		Body string `yaml:"DashboardBody"`
	}
	res := tmpl.Resources["Dashboard"]
	if err := res.Properties.Decode(&props); err != nil || props.Body == "" {
		t.Fatalf("no dashboard body: %v", err)
	}
	body := regexp.MustCompile(`\$\{[A-Za-z0-9:.]+\}`).ReplaceAllStringFunc(props.Body, func(ref string) string { return "REF_" + strings.Trim(ref, "${}") })
	var dash struct {
		Widgets []json.RawMessage `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &dash); err != nil || len(dash.Widgets) == 0 {
		t.Fatalf("the dashboard body is not JSON with widgets: %v", err)
	}
	fns, err := tmpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	for id, f := range fns {
		short := strings.ToLower(strings.TrimSuffix(id, "Function"))
		if n := strings.Count(body, `"REF_`+id+`"`); n < 2 {
			t.Errorf("%s: its Lambda metrics are charted %d times, want invocations and duration", id, n)
		}
		stream := false
		for _, e := range f.Events {
			stream = stream || e.Type == "DynamoDB"
		}
		if stream {
			// A stream's function answers no request: its lag is what
			// to chart.
			if !strings.Contains(body, `"IteratorAge", "FunctionName", "REF_`+id+`"`) {
				t.Errorf("%s: its iterator age is not charted", id)
			}
			continue
		}
		if len(f.Events) == 0 {
			// The WebSocket API's function (its routes are ApiGatewayV2
			// resources): the API's connections and messages.
			for _, m := range []string{`"ConnectCount", "ApiId"`, `"MessageCount"`} {
				if !strings.Contains(body, m) {
					t.Errorf("%s: the WebSocket API's %s is not charted", id, m)
				}
			}
			continue
		}
		if !strings.Contains(body, `"`+short+`"`) {
			t.Errorf("%s: none of its service metrics (Function %q) is charted", id, short)
		}
	}
}

// TestValueRefusesWhatItCannotResolve: an environment value that is a
// list, or an intrinsic other than Ref and Sub, is an error naming its
// line, not a silent empty string.
func TestValueRefusesWhatItCannotResolve(t *testing.T) {
	for _, v := range []string{"[a, b]", "!GetAtt Table.Arn", "{Fn::GetAtt: [Table, Arn]}"} {
		tmpl, err := Parse([]byte("Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Environment:\n        Variables:\n          X: " + v + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tmpl.Functions(); err == nil || !strings.Contains(err.Error(), "line 7") {
			t.Errorf("%s: %v, want an error naming line 7", v, err)
		}
	}
}

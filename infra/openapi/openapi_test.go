package openapi

// The validator is github.com/getkin/kin-openapi: maintained, in the Go
// module proxy this project builds from, and, since its OpenAPI 3.1
// support landed, it loads and validates 3.1 documents and validates
// bodies by JSON Schema 2020-12 (openapi3filter switches its JSON Schema
// 2020-12 validator on for 3.1 documents). pb33f/libopenapi, the other
// 3.1 validator, is not available from this machine's proxy.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/xblread/xblread/infra/samtemplate"
)

// The SCIDs the golden tests use (their packages' main_test.go).
const (
	scidA      = "7492baca-c1b4-440d-a391-b7ef364a8d40"
	scidB      = "c402ff50-3e76-11e2-a25f-0800200c1212"
	scidBoards = "0f1e2d3c-4b5a-4697-8877-665544332211"
)

// root is the repository's root: the directory of template.yaml.
func root(t *testing.T) string {
	t.Helper()
	p, err := samtemplate.Find(".")
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(p)
}

// load loads and validates docs/openapi.yaml.
func load(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(filepath.Join(root(t), "docs", "openapi.yaml"))
	if err != nil {
		t.Fatalf("load docs/openapi.yaml: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("docs/openapi.yaml is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("docs/openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// operations lists the document's operations as route keys, "GET /path".
func operations(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

// TestDocumentRoutes: the document describes every HttpApi route of
// template.yaml, with its method, and nothing else.
func TestDocumentRoutes(t *testing.T) {
	doc := load(t)
	tpl, err := samtemplate.Load(filepath.Join(root(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	routes, err := tpl.Routes()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range routes {
		want = append(want, r.Key())
	}
	sort.Strings(want)
	got := operations(doc)
	for _, k := range want {
		if !slices.Contains(got, k) {
			t.Errorf("template.yaml route %s is not in docs/openapi.yaml", k)
		}
	}
	for _, k := range got {
		if !slices.Contains(want, k) {
			t.Errorf("docs/openapi.yaml describes %s, which template.yaml does not route", k)
		}
	}
	if len(want) == 0 {
		t.Fatal("template.yaml has no routes")
	}
	t.Logf("%d routes of template.yaml, all in docs/openapi.yaml", len(want))
}

// exchange is one golden request and its answer.
type exchange struct {
	source  string   // the golden file and the answer's place in it
	method  string   // the request's
	target  string   // path and query
	headers []string // request headers, name then value
	body    string   // request body, "" for none
	status  int
	etag    string          // the answer's ETag, when the golden records it
	loc     string          // its Content-Location, when the golden records it
	answer  json.RawMessage // the answer's body as the golden holds it: JSON, a JSON string for a text/plain body, or nothing
}

// readJSON reads the repository file rel into v.
func readJSON(t *testing.T, rel string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

// readRaw reads the repository file rel.
func readRaw(t *testing.T, rel string) json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The golden files whose test sends requests written in Go: their route,
// request and status are copied here, file by file, from the test that
// writes them (named in each table). Keep these tables in step with those
// tests; TestGoldens fails on a golden file none of them reads.
var (
	// pkg/statsapi/handler_test.go, TestGolden: all 200.
	statsGoldens = []struct{ name, method, target, body string }{
		{"xsapi_batch", "POST", "/batch?operation=read", `{"requestedscids":[{"requestedstats":["OverallReputation","KD","Motto"],"scid":"` + scidA + `"},{"requestedstats":["Kills"],"scid":"` + scidB + `"}],"requestedusers":["2533274792693551","2533274792693552"]}`},
		{"docs_batch", "POST", "/batch", `{"requestedusers": [18446744073709551615, 2533274792693553], "requestedscids": [{"scid": "` + strings.ToUpper(scidA) + `", "requestedstats": ["KD", "OverallReputation"]}]}`},
		{"xsapi_single_get", "GET", "/users/xuid(2533274792693551)/scids/" + scidA + "/stats/OverallReputation,FairplayReputation,KD,Nothing,SecretStat", ""},
		{"single_get_no_data", "GET", "/users/xuid(2533274792693553)/scids/" + scidA + "/stats/KD", ""},
	}
	// pkg/sessionsapi/golden_test.go, TestGolden: all 200, contract 107.
	sessionsGoldens = []struct{ name, method, target, body string }{
		{"xsapi_get_one_user", "GET", "/serviceconfigs/" + scidA + "/sessions?xuid=9876&private=true&inactive=true&take=100", ""},
		{"xsapi_get_keyword", "GET", "/serviceconfigs/" + scidA + "/sessiontemplates/deathmatch/sessions?keyword=one&visibility=open&version=1&take=25", ""},
		{"xsapi_batch", "POST", "/serviceconfigs/" + scidA + "/batch?reservations=true&inactive=true&take=100", `{"xuids":["9876","1111","4444"]}`},
		{"xsapi_batch_template", "POST", "/serviceconfigs/" + scidA + "/sessiontemplates/coop/batch?take=10", `{"xuids":["1111","2222","3333"]}`},
		{"docs_batch_numbers", "POST", "/serviceconfigs/" + scidA + "/batch", `{"xuids": [9876, 5432]}`},
	}
	// pkg/leaderboardsapi/handler_test.go, TestGolden and TestFollowTokens
	// (score_last_of_two, whose token is the one the page before gave: a
	// stand-in token is written here). All 200, contract 4.1.
	boardGoldens = []struct{ name, stat, query string }{
		{"score_top", "Score", "maxItems=100"},
		{"score_first_of_two", "Score", "maxItems=2"},
		{"score_last_of_two", "Score", "maxItems=2&continuationToken=AUPURqYACQAAACMPAGkxMjAw"},
		{"score_skip_to_rank", "Score", "maxItems=3&skipToRank=4"},
		{"score_skip_to_tied_user", "Score", "maxItems=3&skipToUser=2533274792693505"},
		{"time_ascending", "Time", "maxItems=100"},
		{"secret_by_owner", "Secret", ""},
		{"score_valuemetadata", "Score", "include=valuemetadata&maxItems=3"},
	}
	// pkg/sessionswriteapi/handles_test.go, TestMultiplayerManagerGolden:
	// mpm_flow.json names each answer's step, not its request. The handle
	// ids the test got are GUIDs the golden replaced: a stand-in is used,
	// and a stand-in device token in the host's write.
	mpmSteps = map[string]struct{ method, target, body string }{
		"host creates the lobby":           {"PUT", mpmLobby, `{"properties":{"system":{"joinRestriction":"followed","readRestriction":"followed"},"custom":{"Joinability":"joinable_by_friends"}},"members":{"me":` + mpmMember("1001") + `}}`},
		"host sets itself as host":         {"PUT", mpmLobby, `{"properties":{"system":{"host":"270f937f306cc1868f930ee9c93147ca"}}}`},
		"host posts its activity":          {"POST", "/handles", `{"type":"activity","sessionRef":` + mpmRef + `,"version":1}`},
		"friend queries activities":        {"POST", "/handles/query?include=relatedInfo,customProperties", `{"type":"activity","scid":"` + scidA + `","owners":{"xuids":["1001"]}}`},
		"friend joins by handle":           {"PUT", "/handles/" + standInID + "/session", `{"members":{"me":` + mpmMember("1002") + `}}`},
		"friend posts its activity":        {"POST", "/handles", `{"type":"activity","sessionRef":` + mpmRef + `,"version":1}`},
		"friend reads the lobby by handle": {"GET", "/handles/" + standInID + "/session", ""},
		"host reads the lobby":             {"GET", mpmLobby, ""},
		"both activities":                  {"POST", "/handles/query?include=relatedInfo,customProperties", `{"type":"activity","scid":"` + scidA + `","owners":{"xuids":["1001","1002","1003"]}}`},
		"host invites":                     {"POST", "/handles", `{"type":"invite","sessionRef":` + mpmRef + `,"version":1,"invitedXuid":"1003","inviteAttributes":{"titleId":"1297287135","contextString":"join me"}}`},
		"a stranger reads the invite":      {"GET", "/handles/" + standInID + "/session", ""},
		"the invitee reads the lobby":      {"GET", "/handles/" + standInID + "/session", ""},
		"the invitee joins":                {"PUT", "/handles/" + standInID + "/session", `{"members":{"me":` + mpmMember("1003") + `}}`},
		"host finds its activity":          {"POST", "/handles/query?include=relatedInfo,customProperties", `{"type":"activity","scid":"` + scidA + `","owners":{"xuids":["1001"]}}`},
		"host clears its activity":         {"DELETE", "/handles/" + standInID, ""},
		"the cleared activity is gone":     {"GET", "/handles/" + standInID + "/session", ""},
	}
)

// mpmMember is a member's join in TestMultiplayerManagerGolden.
func mpmMember(xuid string) string {
	return `{"constants":{"system":{"xuid":"` + xuid + `","initialize":true}},"properties":{"system":{"active":true,"connection":"7d9a1c2e-0000-4000-8000-00000000` + xuid + `","subscription":{"id":"5a1f0000-0000-4000-8000-00000000` + xuid + `","changeTypes":["everything"]}}}}`
}

const (
	mpmLobby  = "/serviceconfigs/" + scidA + "/sessionTemplates/lobby/sessions/4f3a6d0e-7b1c-4c55-9d2e-0a1b2c3d4e5f"
	mpmRef    = `{"scid":"` + scidA + `","templateName":"lobby","name":"4f3a6d0e-7b1c-4c55-9d2e-0a1b2c3d4e5f"}`
	standInID = "6fb2263d-3626-4bdc-8a46-38bf20a90dfc"
)

// notHTTP are the testdata JSON files that hold no request or answer: the
// fixtures the golden tests load.
var notHTTP = []string{
	"pkg/leaderboardsapi/testdata/fixture.json",
	"pkg/sessionsapi/testdata/fixture.json",
	"pkg/statsapi/testdata/fixture.json",
}

// goldens gathers every golden exchange, and the testdata files read.
func goldens(t *testing.T) ([]exchange, map[string]bool) {
	read := map[string]bool{}
	var out []exchange

	for _, g := range statsGoldens {
		f := "pkg/statsapi/testdata/golden/" + g.name + ".json"
		read[f] = true
		h := []string{}
		if strings.HasPrefix(g.name, "xsapi") {
			h = []string{"x-xbl-contract-version", "1"}
		}
		out = append(out, exchange{source: f, method: g.method, target: g.target, headers: h, body: g.body, status: 200, answer: readRaw(t, f)})
	}
	for _, g := range sessionsGoldens {
		f := "pkg/sessionsapi/testdata/golden/" + g.name + ".json"
		read[f] = true
		out = append(out, exchange{source: f, method: g.method, target: g.target, headers: []string{"x-xbl-contract-version", "107"}, body: g.body, status: 200, answer: readRaw(t, f)})
	}
	for _, g := range boardGoldens {
		f := "pkg/leaderboardsapi/testdata/golden/" + g.name + ".json"
		read[f] = true
		target := "/scids/" + scidBoards + "/leaderboards/stat(" + g.stat + ")"
		if g.query != "" {
			target += "?" + g.query
		}
		out = append(out, exchange{source: f, method: "GET", target: target, headers: []string{"x-xbl-contract-version", "4.1"}, status: 200, answer: readRaw(t, f)})
	}
	out = append(out, statsWriteGoldens(t, read)...)
	out = append(out, sessionWriteGoldens(t, read)...)
	out = append(out, mpmGoldens(t, read)...)
	return out, read
}

// statsWriteGoldens reads pkg/statswriteapi's testdata/xsapi.json and the
// goldens TestXSAPIGolden writes from it: each request's answer, then the
// document GET of the first request's path, then the batch read of the
// case's stats.
func statsWriteGoldens(t *testing.T, read map[string]bool) []exchange {
	const dir = "pkg/statswriteapi/testdata/"
	var cases []struct {
		Name     string `json:"name"`
		Requests []struct {
			Method  string   `json:"method"`
			Path    string   `json:"path"`
			Headers []string `json:"headers"`
			Body    string   `json:"body"`
		} `json:"requests"`
		Read []string `json:"read"`
	}
	readJSON(t, dir+"xsapi.json", &cases)
	read[dir+"xsapi.json"] = true
	var out []exchange
	for _, c := range cases {
		f := dir + "golden/" + c.Name + ".json"
		read[f] = true
		var g struct {
			Answers []struct {
				Status int             `json:"status"`
				Body   json.RawMessage `json:"body"`
			} `json:"answers"`
			Document json.RawMessage `json:"document"`
			Batch    json.RawMessage `json:"batch"`
		}
		readJSON(t, f, &g)
		if len(g.Answers) != len(c.Requests) {
			t.Fatalf("%s: %d answers to %d requests", f, len(g.Answers), len(c.Requests))
		}
		for i, r := range c.Requests {
			out = append(out, exchange{source: fmt.Sprintf("%s answers[%d]", f, i), method: r.Method, target: r.Path, headers: r.Headers, body: r.Body, status: g.Answers[i].Status, answer: g.Answers[i].Body})
		}
		// The document GET: a 404 when the golden holds an error body.
		var e struct {
			ErrorCode int `json:"errorCode"`
		}
		json.Unmarshal(g.Document, &e)
		out = append(out, exchange{source: f + " document", method: "GET", target: c.Requests[0].Path, headers: []string{"x-xbl-contract-version", "4"}, status: cmpOr(e.ErrorCode, 200), answer: g.Document})
		xuid := filepath.Base(filepath.Dir(filepath.Dir(filepath.Clean(c.Requests[0].Path))))
		q, _ := json.Marshal(map[string]any{"requestedusers": []string{xuid},
			"requestedscids": []any{map[string]any{"scid": scidA, "requestedstats": c.Read}}})
		out = append(out, exchange{source: f + " batch", method: "POST", target: "/batch", body: string(q), status: 200, answer: g.Batch})
	}
	return out
}

// sessionWriteGoldens reads pkg/sessionswriteapi's testdata/xsapi.json and
// the goldens TestXSAPIGolden writes from it: each step's answer, then
// the session directory batch query of the case's xuids.
func sessionWriteGoldens(t *testing.T, read map[string]bool) []exchange {
	const dir = "pkg/sessionswriteapi/testdata/"
	var cases []struct {
		Name  string `json:"name"`
		Steps []struct {
			Method  string   `json:"method"`
			Session string   `json:"session"`
			Headers []string `json:"headers"`
			Body    string   `json:"body"`
		} `json:"steps"`
		Query []string `json:"query"`
	}
	readJSON(t, dir+"xsapi.json", &cases)
	read[dir+"xsapi.json"] = true
	var out []exchange
	for _, c := range cases {
		f := dir + "golden/" + c.Name + ".json"
		read[f] = true
		var g struct {
			Answers []struct {
				Status int             `json:"status"`
				ETag   string          `json:"etag"`
				Body   json.RawMessage `json:"body"`
			} `json:"answers"`
			Query json.RawMessage `json:"query"`
		}
		readJSON(t, f, &g)
		if len(g.Answers) != len(c.Steps) {
			t.Fatalf("%s: %d answers to %d steps", f, len(g.Answers), len(c.Steps))
		}
		etag := ""
		for i, s := range c.Steps {
			a := g.Answers[i]
			h := []string{"x-xbl-contract-version", "107"}
			for j := 0; j+1 < len(s.Headers); j += 2 {
				h = append(h, s.Headers[j], strings.ReplaceAll(s.Headers[j+1], "$ETAG", etag))
			}
			if a.ETag != "" {
				etag = a.ETag
			}
			out = append(out, exchange{source: fmt.Sprintf("%s answers[%d]", f, i), method: s.Method,
				target:  "/serviceconfigs/" + scidA + "/sessionTemplates/lobby/sessions/" + s.Session,
				headers: h, body: s.Body, status: a.Status, etag: a.ETag, answer: a.Body})
		}
		var xs []string
		for _, x := range c.Query {
			xs = append(xs, strconv.Quote(x))
		}
		out = append(out, exchange{source: f + " query", method: "POST",
			target:  "/serviceconfigs/" + scidA + "/sessiontemplates/lobby/batch?private=true&reservations=true&inactive=true",
			headers: []string{"x-xbl-contract-version", "107"}, body: `{"xuids":[` + strings.Join(xs, ",") + `]}`, status: 200, answer: g.Query})
	}
	return out
}

// mpmGoldens reads pkg/sessionswriteapi's golden mpm_flow.json, routed by
// the mpmSteps table.
func mpmGoldens(t *testing.T, read map[string]bool) []exchange {
	const f = "pkg/sessionswriteapi/testdata/golden/mpm_flow.json"
	read[f] = true
	var answers []struct {
		Step     string          `json:"step"`
		Status   int             `json:"status"`
		Location string          `json:"contentLocation"`
		Body     json.RawMessage `json:"body"`
	}
	readJSON(t, f, &answers)
	var out []exchange
	for i, a := range answers {
		r, ok := mpmSteps[a.Step]
		if !ok {
			t.Fatalf("%s: step %q is not in mpmSteps: add its method and path", f, a.Step)
		}
		out = append(out, exchange{source: fmt.Sprintf("%s [%d] %s", f, i, a.Step), method: r.method, target: r.target,
			headers: []string{"x-xbl-contract-version", "107"}, body: r.body, status: a.Status, loc: a.Location, answer: a.Body})
	}
	return out
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// route finds the document's operation for method and path.
func route(doc *openapi3.T, method, path string) (*routers.Route, map[string]string, error) {
	for p, item := range doc.Paths.Map() {
		params, ok := Match(p, path)
		if !ok {
			continue
		}
		op := item.GetOperation(method)
		if op == nil {
			continue
		}
		return &routers.Route{Spec: doc, Path: p, PathItem: item, Method: method, Operation: op}, params, nil
	}
	return nil, nil, fmt.Errorf("no operation of docs/openapi.yaml serves %s %s", method, path)
}

// TestGoldens validates every golden exchange against the document: the
// answer's status must be one its operation lists, and its body (JSON, or
// text/plain where the golden holds a string) must fit that status's
// schema; a request answered other than 400 must fit the operation's
// parameters, headers and request body.
func TestGoldens(t *testing.T) {
	doc := load(t)
	exchanges, read := goldens(t)

	// Every golden file is read by one of the tables above.
	var files []string
	for _, pat := range []string{"pkg/*/testdata/golden/*.json", "pkg/*/testdata/*.json"} {
		m, err := filepath.Glob(filepath.Join(root(t), pat))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			rel, _ := filepath.Rel(root(t), f)
			files = append(files, filepath.ToSlash(rel))
		}
	}
	for _, f := range files {
		if !read[f] && !slices.Contains(notHTTP, f) {
			t.Errorf("%s is not validated: add it to a table of this test", f)
		}
	}

	ctx := context.Background()
	requests, answers := 0, 0
	for _, x := range exchanges {
		u, err := url.Parse(x.target)
		if err != nil {
			t.Fatalf("%s: %v", x.source, err)
		}
		rt, params, err := route(doc, x.method, u.Path)
		if err != nil {
			t.Errorf("%s: %v", x.source, err)
			continue
		}
		resp, ok := rt.Operation.Responses.Map()[strconv.Itoa(x.status)]
		if !ok {
			t.Errorf("%s: %s %s answered %d, a status docs/openapi.yaml does not list for it", x.source, x.method, rt.Path, x.status)
			continue
		}

		var rd io.Reader
		if x.body != "" {
			rd = strings.NewReader(x.body)
		}
		req := httptest.NewRequest(x.method, x.target, rd)
		req.Header.Set("Authorization", "XBL3.0 x=1;token")
		for i := 0; i+1 < len(x.headers); i += 2 {
			req.Header.Add(x.headers[i], x.headers[i+1])
		}
		if x.body != "" && req.Header.Get("Content-Type") == "" {
			// The service reads every body as JSON, whatever its type.
			req.Header.Set("Content-Type", "application/json")
		}
		in := &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: rt,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
		}
		if x.status != http.StatusBadRequest {
			if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
				t.Errorf("%s: the request %s %s does not fit docs/openapi.yaml: %v", x.source, x.method, x.target, err)
			} else {
				requests++
			}
		}

		h := http.Header{}
		var body []byte
		switch {
		case len(x.answer) == 0:
			if resp.Value.Content != nil && x.status != http.StatusPreconditionFailed {
				t.Errorf("%s: %d has no body, but docs/openapi.yaml gives it one", x.source, x.status)
			}
		case x.answer[0] == '"':
			var s string
			json.Unmarshal(x.answer, &s)
			body = []byte(s)
			h.Set("Content-Type", "text/plain; charset=utf-8")
		default:
			body = x.answer
			h.Set("Content-Type", "application/json; charset=utf-8")
		}
		if x.etag != "" {
			h.Set("ETag", x.etag)
		}
		if x.loc != "" {
			h.Set("Content-Location", x.loc)
		}
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: x.status, Header: h,
			Options: &openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: body == nil, MultiError: true},
		}
		out.SetBodyBytes(body)
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			t.Errorf("%s: the %d answer to %s %s does not fit docs/openapi.yaml: %v\n%s", x.source, x.status, x.method, x.target, err, clip(body))
			continue
		}
		if body != nil {
			answers++
		}
	}
	t.Logf("%d golden exchanges from %d files: %d requests and %d answer bodies validated", len(exchanges), len(read), requests, answers)
}

func clip(b []byte) []byte {
	if len(b) > 400 {
		return append(bytes.Clone(b[:400]), "…"...)
	}
	return b
}

// Match reports (for the test alone) whether path matches the route template pattern, as API
// Gateway matches it: each {name} stands for one non-empty segment, a
// final {name+} for the rest of the path; other segments match exactly
// (case-sensitive). It returns the path parameters by name.
func Match(pattern, path string) (map[string]string, bool) {
	ps := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	xs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	params := map[string]string{}
	for i, p := range ps {
		if i >= len(xs) {
			return nil, false
		}
		name, isParam := strings.CutPrefix(p, "{")
		name, closed := strings.CutSuffix(name, "}")
		switch {
		case !isParam || !closed:
			if p != xs[i] {
				return nil, false
			}
		case strings.HasSuffix(name, "+") && i == len(ps)-1:
			rest := strings.Join(xs[i:], "/")
			if rest == "" {
				return nil, false
			}
			params[strings.TrimSuffix(name, "+")] = rest
			return params, true
		default:
			if xs[i] == "" {
				return nil, false
			}
			params[name] = xs[i]
		}
	}
	if len(xs) != len(ps) {
		return nil, false
	}
	return params, true
}

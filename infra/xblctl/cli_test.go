package main

import (
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/pkg/store"
)

// TestFlagsFirst: flags and their values move before the positional
// arguments, which keep their order behind "--"; after a "--" of the
// command line nothing is a flag.
func TestFlagsFirst(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.String("xuid", "", "")
	fs.Bool("patch", false, "")
	for _, tt := range []struct{ in, want []string }{
		{nil, nil},
		{[]string{"--xuid", "1"}, []string{"--xuid", "1"}},
		{[]string{"A=1", "--xuid", "1", "B=2"}, []string{"--xuid", "1", "--", "A=1", "B=2"}},
		{[]string{"A=1", "--patch", "B=2"}, []string{"--patch", "--", "A=1", "B=2"}}, // a bool flag takes no value
		{[]string{"A=1", "-xuid=1", "B=2"}, []string{"-xuid=1", "--", "A=1", "B=2"}}, // a value after =
		{[]string{"A=1", "--xuid", "-5"}, []string{"--xuid", "-5", "--", "A=1"}},     // a value that looks like a flag
		{[]string{"A=1", "--", "--xuid", "1"}, []string{"--", "A=1", "--xuid", "1"}}, // after --, arguments
		{[]string{"A=1", "--bogus", "B=2"}, []string{"--bogus", "--", "A=1", "B=2"}}, // unknown: left for Parse to refuse
		{[]string{"-", "--help"}, []string{"--help", "--", "-"}},                     // a lone - is an argument
		{[]string{"A=1", "--xuid"}, []string{"--xuid", "--", "A=1"}},                 // a missing value: Parse says so
		{[]string{"ID", "--patch=false", "--xuid", "2"}, []string{"--patch=false", "--xuid", "2", "--", "ID"}},
	} {
		if got := flagsFirst(fs, tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("flagsFirst(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// fakeAPI is a local API that records what it is sent and answers status
// with body.
type fakeAPI struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []string // "METHOD path body"
}

func newFakeAPI(t *testing.T, status int, body string) *fakeAPI {
	f := &fakeAPI{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, r.Method+" "+r.URL.Path+" "+string(b))
		f.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAPI) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.reqs...)
}

// TestFlagsAnywhere: a command's flags may come before, between or after
// its arguments (NAME=VALUE, IDs, function names, files).
func TestFlagsAnywhere(t *testing.T) {
	api := newFakeAPI(t, http.StatusOK, `{"revision":1}`)
	r := xblctl(t, nil, "stats", "write", "KD=2", "--xuid", "2533274792693551", "Motto=gg", "--scid", scid, "--api", api.URL, "--patch")
	if r.code != 0 {
		t.Fatalf("stats write with flags after NAME=VALUE: exit %d\n%s", r.code, r.stderr)
	}
	reqs := api.requests()
	if len(reqs) != 1 || !strings.HasPrefix(reqs[0], "PATCH /stats/users/2533274792693551/scids/"+scid+" ") {
		t.Fatalf("requests %q, want one PATCH", reqs)
	}
	var body struct {
		Stats struct{ Title map[string]json.RawMessage } `json:"stats"`
	}
	if err := json.Unmarshal([]byte(reqs[0][strings.LastIndex(reqs[0], " {")+1:]), &body); err != nil || len(body.Stats.Title) != 2 || body.Stats.Title["KD"] == nil || body.Stats.Title["Motto"] == nil {
		t.Errorf("PATCH sent %s (%v), want KD and Motto", reqs[0], err)
	}

	// After --, an argument that looks like a flag is a NAME=VALUE.
	if r := xblctl(t, nil, "stats", "write", "--xuid", "1", "--scid", scid, "--api", api.URL, "--patch", "--", "-x=1"); r.code != 0 {
		t.Errorf("stats write -- -x=1: exit %d\n%s", r.code, r.stderr)
	} else if got := api.requests(); !strings.Contains(got[len(got)-1], `"-x"`) {
		t.Errorf("stats write -- -x=1 sent %s", got[len(got)-1])
	}

	// The other commands with arguments: the arguments are read wherever
	// the flags are.
	dir := t.TempDir()
	badEvent := filepath.Join(dir, "bad.json")
	os.WriteFile(badEvent, []byte("{not json"), 0o644)
	badFixture := filepath.Join(dir, "bad-fixture.json")
	os.WriteFile(badFixture, []byte(`{"session":[]}`), 0o644)
	dead := []string{store.EndpointEnv + "=", "DYNAMODB_PORT=1"}
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"invoke", "--event", badEvent, "statsbatch"}, 3}, // the name after the flags: the event is read
		{[]string{"invoke", "statsbatch", "--event", badEvent}, 3},
		{[]string{"invoke", "--event", badEvent, "statsbatch", "extra"}, 2},
		{[]string{"load", badFixture, "--table", "t"}, 3},
		{[]string{"load", "--table", "t", badFixture}, 3},
		{[]string{"handle", "delete", "--xuid", "2533274792693551", "ID", "--api", api.URL}, 0},
		{[]string{"stats", "get", "--xuid", "1", "--api", api.URL, "--scid", scid}, 0},
		{[]string{"session", "get", "--scid", scid, "--template", "t", "--api", api.URL, "--name", "n", "--xuid", "1", "extra"}, 2},
		{[]string{"token", "--xuid", "1", "extra", "--uhs", "u", "--title", "1", "--sandbox", "S"}, 2},
	} {
		if r := xblctl(t, dead, tt.args...); r.code != tt.code {
			t.Errorf("xblctl %s: exit %d, want %d\n%s", strings.Join(tt.args, " "), r.code, tt.code, r.stderr)
		}
	}
}

// TestEveryHelpListsItsFlags: `xblctl COMMAND --help` (and `--help` of
// each handle subcommand) lists the command's flags, for every command of
// the table.
func TestEveryHelpListsItsFlags(t *testing.T) {
	flagLine := regexp.MustCompile(`(?m)^\s+-[a-z]`)
	check := func(args []string, want ...string) {
		t.Helper()
		r := xblctl(t, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "\nFlags:\n") || !flagLine.MatchString(r.stdout) {
			t.Errorf("xblctl %s: exit %d, lists no flags:\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		for _, w := range want {
			if !regexp.MustCompile(`(?m)^\s+-` + w + `\b`).MatchString(r.stdout) {
				t.Errorf("xblctl %s does not list -%s:\n%s", strings.Join(args, " "), w, r.stdout)
			}
		}
	}
	for _, c := range commands {
		check([]string{c.name, "--help"})
	}
	check([]string{"stats", "--help"}, "xuid", "scid", "patch", "revision", "api")
	check([]string{"stats", "-h"}, "xuid")
	check([]string{"stats", "write", "--help"}, "xuid", "patch")
	check([]string{"session", "--help"}, "scid", "template", "name", "xuid", "create", "join", "reserve")
	check([]string{"session", "put", "--help"}, "scid", "join")
	check([]string{"handle", "--help"}, "xuid", "api", "server")
	for _, v := range handleVerbs {
		check([]string{"handle", v.name, "--help"}, "xuid", "api")
	}
	check([]string{"load", "--help"}, "table", "endpoint", "aws")
}

// TestNothingRunningSaysWhatToStart: a command that finds nothing where
// it looked (the local API, DynamoDB), or a stack whose DynamoDB stopped
// (503), says what to start.
func TestNothingRunningSaysWhatToStart(t *testing.T) {
	deadAPI := "http://127.0.0.1:" + strings.TrimPrefix(ddbtest.DeadEndpoint(t), "http://127.0.0.1:")
	for _, args := range [][]string{
		{"stats", "get", "--xuid", "1", "--scid", scid, "--api", deadAPI},
		{"leaderboard", "--scid", scid, "--stat", "KD", "--api", deadAPI},
		{"session", "get", "--scid", scid, "--template", "t", "--name", "n", "--xuid", "1", "--api", deadAPI},
		{"handle", "get", "ID", "--api", deadAPI},
		{"rta", "watch", "--for", "1s", "--api", deadAPI},
	} {
		r := xblctl(t, nil, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "nothing is running there") || !strings.Contains(r.stderr, "start the local stack with `make run` (or `xblctl up`)") {
			t.Errorf("xblctl %s with no API: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}

	// A stack whose DynamoDB stopped answers 503.
	api := newFakeAPI(t, http.StatusServiceUnavailable, `{"code":503}`)
	for _, args := range [][]string{
		{"stats", "get", "--xuid", "1", "--scid", scid, "--api", api.URL},
		{"stats", "write", "--xuid", "1", "--scid", scid, "--api", api.URL, "KD=1"},
		{"leaderboard", "--scid", scid, "--stat", "KD", "--api", api.URL},
		{"session", "get", "--scid", scid, "--template", "t", "--name", "n", "--xuid", "1", "--api", api.URL},
		{"handle", "get", "ID", "--api", api.URL},
	} {
		r := xblctl(t, nil, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "answered 503") || !strings.Contains(r.stderr, "`make run`") {
			t.Errorf("xblctl %s answered 503: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}

	// DynamoDB Local not running.
	port := strings.TrimPrefix(ddbtest.DeadEndpoint(t), "http://127.0.0.1:")
	dead := []string{store.EndpointEnv + "=", "DYNAMODB_PORT=" + port}
	for _, args := range [][]string{
		{"create-table"},
		{"load", filepath.Join("..", "fixtures", "demo.json")},
	} {
		r := xblctl(t, dead, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "DynamoDB at http://127.0.0.1:"+port+" does not answer, nothing is running there") ||
			!strings.Contains(r.stderr, "start it with `make run`") || !strings.Contains(r.stderr, "`xblctl dynamodb`") {
			t.Errorf("xblctl %s with no DynamoDB: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}

// TestLoadReportsEveryFaultInOneRun: a fixture's unknown sections and
// members, its own faults and its cross-references (a leaderboard's stat
// not declared, a user's stats and a session for a SCID configured
// nowhere) are reported together, in one run, and nothing is written.
func TestLoadReportsEveryFaultInOneRun(t *testing.T) {
	table, env := tableEnv(t)
	xblctl(t, env, "create-table")
	const other = "11111111-2222-3333-4444-555555555555"
	doc := `{
  "serviceConfigs": [{"scid": "` + other + `", "titleIds": ["1"], "sandboxes": ["RETAIL"], "stats": {"KD": "open"},
                      "leaderboards": [{"stat": "Wins"}], "sesionTemplates": {}}],
  "users": [{"xuid": "222", "gamertag": "Ok", "stats": {"` + scid + `": {"KD": {"type": "Integer", "value": 1}}}},
            {"xuid": "333", "stats": {"` + other + `": {"KD": {"type": "Integer", "value": 1}}}}],
  "session": [],
  "sessions": [{"scid": "` + scid + `", "templateName": "t", "name": "n", "startTime": "2026-11-20T13:45:30Z",
                "version": 1, "visibility": "open", "members": [{"xuid": "222", "status": "active", "stat": "x"}]}]
}`
	file := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(file, []byte(doc), 0o644)
	r := xblctl(t, env, "load", file)
	if r.code != 3 {
		t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		file + ": invalid fixture (6 problems)",
		"$.session: is not a member this object has (it has serviceConfigs, users, sessions)",
		"$.serviceConfigs[0].sesionTemplates: is not a member this object has",
		"$.sessions[0].members[0].stat: is not a member this object has",
		`$.serviceConfigs[0].leaderboards[0].stat: stat "Wins" is not one of this configuration's stats`,
		`$.users[0].stats["` + scid + `"]: scid ` + scid + " has no service configuration, in these files or in table " + table,
		"$.sessions[0].scid: scid " + scid + " has no service configuration",
		"nothing was written",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, `$.users[1]`) {
		t.Errorf("a user of a configured SCID is reported:\n%s", r.stderr)
	}
	for pk, its := range items(t, table, "profile#222", "profile#333", "scid#"+other, "222#"+scid) {
		if len(its) != 0 {
			t.Errorf("partition %s was written", pk)
		}
	}

	// Without a DynamoDB to ask, the file's own faults are still all
	// reported, and the SCID that could not be checked is named.
	dead := []string{store.EndpointEnv + "=", "DYNAMODB_PORT=" + strings.TrimPrefix(ddbtest.DeadEndpoint(t), "http://127.0.0.1:")}
	r = xblctl(t, dead, "load", file)
	if r.code != 3 || !strings.Contains(r.stderr, "invalid fixture (4 problems)") || !strings.Contains(r.stderr, "not checked: whether table xblread configures scid "+scid) ||
		!strings.Contains(r.stderr, "nothing is running there") {
		t.Errorf("with DynamoDB down: exit %d\n%s", r.code, r.stderr)
	}
}

// TestLoadShowsProgressOnATerminal: on a terminal, load draws its
// progress (infra/progress) and ends with its summary; piped, it prints
// none.
func TestLoadShowsProgressOnATerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("no script(1) to run xblctl on a terminal")
	}
	_, env := tableEnv(t)
	xblctl(t, env, "create-table")
	demo := filepath.Join("..", "fixtures", "demo.json")
	if r := xblctl(t, append(env, "CI="), "load", demo); r.code != 0 || strings.Contains(r.stderr, "writing items") {
		t.Errorf("piped: exit %d, stderr %q, want no progress", r.code, r.stderr)
	}
	cmd := exec.Command(script, "-qec", bin+" load "+demo, "/dev/null")
	cmd.Env = append(append(os.Environ(), env...), "CI=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("load on a terminal: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`writing items: \d+ in `).Match(out) {
		t.Errorf("load on a terminal shows no progress:\n%q", out)
	}
}

// TestReadmeKeepsExitCodes: README's xblctl examples run the binary `make
// xblctl` builds, whose exit codes are xblctl's (`go run` turns any
// failure into 1), and make xblctl builds it where they look.
func TestReadmeKeepsExitCodes(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`go run \./infra/xblctl [a-z-]+`).Find(readme); m != nil {
		t.Errorf("README runs xblctl through go run (%s): its exit codes become 1", m)
	}
	uses := regexp.MustCompile(`\.local/bin/xblctl ([a-z-]+)`).FindAllSubmatch(readme, -1)
	if len(uses) < 10 {
		t.Fatalf("README shows %d .local/bin/xblctl commands", len(uses))
	}
	for _, u := range uses {
		found := false
		for _, c := range commands {
			found = found || c.name == string(u[1])
		}
		if !found {
			t.Errorf("README runs .local/bin/xblctl %s, no command", u[1])
		}
	}
	if !strings.Contains(string(readme), "`make xblctl`") {
		t.Error("README does not say make xblctl builds the binary")
	}
	out, err := exec.Command("make", "-s", "-n", "-C", filepath.Join("..", ".."), "xblctl").CombinedOutput()
	if err != nil {
		t.Skipf("make -n xblctl: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`build -o \.local/bin/xblctl \./infra/xblctl\b`).Match(out) {
		t.Errorf("make xblctl does not build .local/bin/xblctl:\n%s", out)
	}
	// The built binary keeps the documented codes: 3 for invalid input.
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"session":[]}`), 0o644)
	if r := xblctl(t, nil, "load", bad); r.code != exitInvalid {
		t.Errorf("load of a bad fixture: exit %d, want %d", r.code, exitInvalid)
	}
}

// TestUpReportsEveryFaultBeforeStarting: `up` (make run) with a bad
// fixture reports its faults, cross-references included, before it
// starts anything: the DynamoDB Local it would start is empty.
func TestUpReportsEveryFaultBeforeStarting(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(file, []byte(`{"session":[],"users":[{"xuid":"1","stats":{"`+scid+`":{"KD":{"type":"Integer","value":1}}}}]}`), 0o644)
	r := xblctl(t, []string{store.EndpointEnv + "=", "PORT=" + strconv.Itoa(freePort(t))}, "up", file)
	if r.code != 3 || !strings.Contains(r.stderr, "$.session: is not a member") ||
		!strings.Contains(r.stderr, `$.users[0].stats["`+scid+`"]: scid `+scid+" has no service configuration, in these files") ||
		strings.Contains(r.stderr, "starting DynamoDB Local") {
		t.Errorf("up with a bad fixture: exit %d\n%s", r.code, r.stderr)
	}
}

// TestVerbAnywhere: a command's verb may come after its flags.
func TestVerbAnywhere(t *testing.T) {
	fs := newFlags("stats")
	fs.String("xuid", "", "")
	fs.Bool("patch", false, "")
	for _, tt := range []struct{ in, want string }{
		{"get --xuid 1", "get --xuid 1"},
		{"--xuid 1 get", "get --xuid 1 --"},
		{"--patch --xuid get write A=1", "write --patch --xuid get -- A=1"}, // "get" is the flag's value
		{"--xuid 1", "--xuid 1"},
	} {
		if got := strings.Join(verbFirst(fs, strings.Fields(tt.in)), " "); got != tt.want {
			t.Errorf("verbFirst(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"query --owners 1", "query --owners 1"},
		{"--xuid 1 query --owners 1", "query --xuid 1 --owners 1"},
		{"--xuid 1 -- query", "--xuid 1 -- query"},
	} {
		if got := strings.Join(verbByName(strings.Fields(tt.in), "query", "get"), " "); got != tt.want {
			t.Errorf("verbByName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

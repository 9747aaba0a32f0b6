package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// bin is the xblctl binary under test, built once.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "xblctl-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "xblctl")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build xblctl: %v\n%s", err, out)
		os.Exit(1)
	}
	code := ddbtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// xblctl runs the binary with env added to the test environment.
// wantRun checks that a run of xblctl exited with code and printed out on
// stdout, and that a usage error (2) said something on stderr.
func wantRun(t *testing.T, r result, code int, out string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d\nstdout %s\nstderr %s", r.code, code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, out) {
		t.Errorf("stdout %q lacks %q", r.stdout, out)
	}
	if code == 2 && r.stderr == "" {
		t.Error("usage error with nothing on stderr")
	}
}

func xblctl(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"--help"}, 0, ""},
		{nil, 2, ""},
		{[]string{"frobnicate"}, 2, ""},
		{[]string{"load"}, 2, ""},
		{[]string{"load", "--bogus", "x.json"}, 2, ""},
		{[]string{"token", "--xuid", "1"}, 2, ""},
		{[]string{"token", "--xuid", "-1", "--uhs", "u", "--title", "1", "--sandbox", "S"}, 2, ""},
		{[]string{"token", "--xuid", "1", "--uhs", "u", "--title", "halo", "--sandbox", "S"}, 2, ""},
		{[]string{"invoke", "nosuchfunction", "--event", "x.json"}, 2, ""},
		{[]string{"invoke", "statsbatch"}, 2, ""},
		{[]string{"create-table", "extra"}, 2, ""},
		{[]string{"stats"}, 2, ""},
		{[]string{"stats", "delete"}, 2, ""},
		{[]string{"stats", "--help"}, 0, "Usage: xblctl stats write|get"},
		{[]string{"session"}, 2, ""},
		{[]string{"session", "put"}, 2, ""},
		{[]string{"session", "put", "--scid", "s", "--template", "t", "--name", "n"}, 2, ""},
		{[]string{"session", "put", "--scid", "s", "--template", "t", "--name", "n", "--xuid", "x"}, 2, ""},
		{[]string{"session", "put", "--scid", "s", "--template", "t", "--name", "n", "--xuid", "1", "--turn", "a"}, 2, ""},
		{[]string{"stats", "write", "--xuid", "1", "--scid", "x"}, 2, ""},
		{[]string{"stats", "get", "--xuid", "1", "--scid", "x", "A=1"}, 2, ""},
		{[]string{"stats", "write", "--xuid", "x", "--scid", "x", "A=1"}, 2, ""},
		{[]string{"stats", "write", "--xuid", "1", "--scid", "x", "A"}, 2, ""},
		{[]string{"stats", "write", "--xuid", "1", "--scid", "x", "--revision", "-1", "A=1"}, 2, ""},
		{[]string{"stats", "write", "--xuid", "1", "--scid", "x", "--revision", "1", "--patch", "A=1"}, 2, ""},
		{[]string{"stats", "write", "--xuid", "1", "--scid", "x", "A=1", "A=2"}, 2, ""},
	}
	for _, c := range commands {
		tests = append(tests, struct {
			args []string
			code int
			out  string
		}{[]string{c.name, "--help"}, 0, "Usage: xblctl " + c.name})
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			wantRun(t, xblctl(t, nil, tt.args...), tt.code, tt.out)
		})
	}
}

func tableEnv(t *testing.T) (string, []string) {
	ddbtest.Require(t)
	name := fmt.Sprintf("xblctl-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		ddbtest.Client(t).DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return name, []string{"TABLE_NAME=" + name, store.EndpointEnv + "=" + ddbtest.Endpoint(t)}
}

func TestCreateTable(t *testing.T) {
	name, env := tableEnv(t)
	r := xblctl(t, env, "create-table")
	if r.code != 0 || r.stdout != "created table "+name+"\n" {
		t.Fatalf("first: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	r = xblctl(t, env, "create-table")
	if r.code != 0 || r.stdout != "table "+name+" already exists\n" {
		t.Fatalf("second: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
}

// items returns every item of the partitions, for comparing loads.
func items(t *testing.T, table string, pks ...string) map[string][]map[string]types.AttributeValue {
	t.Helper()
	c := ddbtest.Client(t)
	out := map[string][]map[string]types.AttributeValue{}
	for _, pk := range pks {
		res, err := c.Query(context.Background(), &dynamodb.QueryInput{
			TableName:                 aws.String(table),
			KeyConditionExpression:    aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
			ConsistentRead:            aws.Bool(true),
		})
		if err != nil {
			t.Fatal(err)
		}
		out[pk] = res.Items
	}
	return out
}

const scid = "7492baca-c1b4-440d-a391-b7ef364a8d40"

var demoPartitions = []string{
	"scid#" + scid, "profile#2533274792693551", "2533274792693551#" + scid, "9876#" + scid,
	"keyword#" + scid + "#one", "session#" + scid + "#deathmatch#session-seven",
}

func TestLoad(t *testing.T) {
	table, env := tableEnv(t)
	demo := filepath.Join("..", "fixtures", "demo.json")
	if r := xblctl(t, env, "load", demo); r.code != 1 || !strings.Contains(r.stderr, "does not exist: run `xblctl create-table`") {
		t.Errorf("load before create-table: exit %d, stderr %q", r.code, r.stderr)
	}
	xblctl(t, env, "create-table")

	r := xblctl(t, env, "load", demo)
	if r.code != 0 {
		t.Fatalf("load: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "2 service configs, 5 profiles, 3 stats items, 3 sessions (14 membership items, 8 keyword items)") {
		t.Errorf("load output %q does not say what it loaded", r.stdout)
	}
	first := items(t, table, demoPartitions...)
	for pk, its := range first {
		if len(its) == 0 {
			t.Errorf("partition %s empty after load", pk)
		}
	}
	if r := xblctl(t, env, "load", demo); r.code != 0 {
		t.Fatalf("second load: exit %d\n%s", r.code, r.stderr)
	}
	if second := items(t, table, demoPartitions...); !reflect.DeepEqual(second, first) {
		t.Errorf("loading twice changed the data")
	}
}

func TestLoadRejectsBadFixtureWritingNothing(t *testing.T) {
	table, env := tableEnv(t)
	xblctl(t, env, "create-table")
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(good, []byte(`{"users":[{"xuid":"111","gamertag":"Fine"}]}`), 0o644)
	os.WriteFile(bad, []byte(`{
  "serviceConfigs": [{"scid": "`+scid+`", "titleIds": ["1"], "sandboxes": ["RETAIL"]}],
  "users": [{"xuid": "222", "gamertag": "Ok"}, {"xuid": "-5"}],
  "sessions": [{"scid": "`+scid+`", "templateName": "t", "name": "n", "startTime": "2026-11-20T13:45:30Z",
                "version": 1, "visibility": "open", "members": [{"xuid": "222", "status": "sleeping"}]}]
}`), 0o644)
	r := xblctl(t, env, "load", good, bad)
	if r.code != 3 {
		t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
	}
	for _, want := range []string{bad + ": invalid fixture (2 problems)", "$.users[1].xuid", "$.sessions[0].members[0].status", "nothing was written"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	for pk, its := range items(t, table, "profile#111", "profile#222", "scid#"+scid, "222#"+scid, "session#"+scid) {
		if len(its) != 0 {
			t.Errorf("partition %s was written", pk)
		}
	}
}

// TestLoadRefusesDataForUnconfiguredSCIDs: statistics or sessions of a
// SCID with no configuration, in the files or the table, are refused with
// their path; with the configuration in another file, or already loaded,
// they load.
func TestLoadRefusesDataForUnconfiguredSCIDs(t *testing.T) {
	_, env := tableEnv(t)
	xblctl(t, env, "create-table")
	dir := t.TempDir()
	data := filepath.Join(dir, "data.json")
	cfg := filepath.Join(dir, "config.json")
	os.WriteFile(data, []byte(`{"users":[{"xuid":"1","stats":{"`+scid+`":{"Wins":{"type":"Integer","value":1}}}}],
  "sessions":[{"scid":"`+scid+`","templateName":"t","name":"n","startTime":"2026-11-20T13:45:30Z","version":1,"visibility":"open","members":[{"xuid":"1","status":"active"}]}]}`), 0o644)
	os.WriteFile(cfg, []byte(`{"serviceConfigs":[{"scid":"`+scid+`","titleIds":["1"],"sandboxes":["RETAIL"]}]}`), 0o644)
	r := xblctl(t, env, "load", data)
	if r.code != 3 {
		t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
	}
	for _, want := range []string{`$.users[0].stats["` + scid + `"]`, "$.sessions[0].scid", "has no service configuration", "nothing was written"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r := xblctl(t, env, "load", data, cfg); r.code != 0 {
		t.Errorf("with the configuration beside it: exit %d\n%s", r.code, r.stderr)
	}
	if r := xblctl(t, env, "load", data); r.code != 0 {
		t.Errorf("with the configuration in the table: exit %d\n%s", r.code, r.stderr)
	}
}

func TestToken(t *testing.T) {
	v, err := devkey.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	r := xblctl(t, nil, "token", "--xuid", "2533274792693551", "--uhs", "abc", "--title", "1297287135",
		"--sandbox", "XDKS.1", "--device", "d1", "--gamertag", "WarriorSaint", "--server")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	header := strings.TrimSpace(r.stdout)
	got, err := v.Verify(header)
	if err != nil {
		t.Fatalf("minted token refused: %v", err)
	}
	want := xbl.Caller{XUID: 2533274792693551, UserHash: "abc", TitleID: "1297287135", Sandbox: "XDKS.1", DeviceID: "d1", Gamertag: "WarriorSaint", Server: true}
	if *got != want {
		t.Errorf("claims = %+v, want %+v", *got, want)
	}

	// Flip one character in the middle of the signature.
	i := len(header) - 10
	flip := byte('A')
	if header[i] == 'A' {
		flip = 'B'
	}
	tampered := header[:i] + string(flip) + header[i+1:]
	expired := strings.TrimSpace(xblctl(t, nil, "token", "--xuid", "1", "--uhs", "abc", "--title", "1", "--sandbox", "S", "--ttl", "-1h").stdout)
	for name, tt := range map[string]struct{ header, check string }{
		"tampered":          {tampered, "signature"},
		"expired":           {expired, "exp"},
		"userhash mismatch": {strings.Replace(header, "x=abc;", "x=abd;", 1), "userhash"},
	} {
		_, err := v.Verify(tt.header)
		var ae *auth.Error
		if !errors.As(err, &ae) || ae.Check != tt.check {
			t.Errorf("%s: Verify error = %v, want check %s", name, err, tt.check)
		}
	}
}

func TestInvoke(t *testing.T) {
	_, env := tableEnv(t)
	xblctl(t, env, "create-table")
	r := xblctl(t, env, "load", filepath.Join("..", "fixtures", "demo.json"))
	if r.code != 0 {
		t.Fatalf("load: %s", r.stderr)
	}
	r = xblctl(t, env, "invoke", "sessionsbatch", "--event", filepath.Join("..", "..", "functions", "sessionsbatch", "events", "batch.json"))
	if r.code != 0 || !strings.Contains(r.stdout, `"statusCode":200`) || !strings.Contains(r.stdout, `\"name\":\"session-seven\"`) {
		t.Errorf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("{not json"), 0o644)
	r = xblctl(t, env, "invoke", "statsbatch", "--event", filepath.Join("..", "..", "functions", "statsbatch", "events", "user.json"))
	if r.code != 0 || !strings.Contains(r.stdout, `"statusCode":200`) || !strings.Contains(r.stdout, `\"statname\":\"OverallReputation\"`) {
		t.Errorf("statsbatch: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if r := xblctl(t, env, "invoke", "statsbatch", "--event", bad); r.code != 3 {
		t.Errorf("bad event: exit %d, want 3", r.code)
	}
	// Nothing listens where the tool looks by default (DynamoDB Local on
	// DYNAMODB_PORT): the function answers 503, and the command fails.
	dead := []string{store.EndpointEnv + "=", "DYNAMODB_PORT=" + strings.TrimPrefix(ddbtest.DeadEndpoint(t), "http://127.0.0.1:")}
	r = xblctl(t, dead, "invoke", "statsbatch", "--event", filepath.Join("..", "..", "functions", "statsbatch", "events", "user.json"))
	if r.code != 1 || !strings.Contains(r.stdout, `"statusCode":503`) {
		t.Errorf("invoke with DynamoDB down: exit %d, stdout %s, want 1 and the 503", r.code, r.stdout)
	}
	if strings.Contains(r.stderr, "amazonaws.com") || strings.Contains(r.stdout, "amazonaws.com") {
		t.Errorf("invoke reached for AWS without --aws: %s %s", r.stdout, r.stderr)
	}
	if r := xblctl(t, env, "invoke", "statsbatch", "--aws", "--endpoint", "http://x", "--event", bad); r.code != 2 {
		t.Errorf("--aws with --endpoint: exit %d, want 2", r.code)
	}
}

// process is a running xblctl whose output lines are read as they come.
type process struct {
	cmd   *exec.Cmd
	lines chan string
	seen  []string      // every line read so far
	done  chan struct{} // closed when the process has exited
}

func start(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, lines: make(chan string, 1000), done: make(chan struct{})}
	go func() {
		s := bufio.NewScanner(pr)
		s.Buffer(nil, 1<<20)
		for s.Scan() {
			p.lines <- s.Text()
		}
		close(p.lines)
	}()
	go func() { cmd.Wait(); pw.Close(); close(p.done) }()
	t.Cleanup(func() { cmd.Process.Kill() })
	return p
}

// waitFor returns the submatches of the first output line, so far or to
// come, that matches re.
func (p *process) waitFor(t *testing.T, re *regexp.Regexp, limit time.Duration) []string {
	t.Helper()
	for _, line := range p.seen {
		if m := re.FindStringSubmatch(line); m != nil {
			return m
		}
	}
	timeout := time.After(limit)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("process ended before %s; output:\n%s", re, strings.Join(p.seen, "\n"))
			}
			p.seen = append(p.seen, line)
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-timeout:
			t.Fatalf("no line matching %s within %s; output:\n%s", re, limit, strings.Join(p.seen, "\n"))
		}
	}
}

func get(t *testing.T, url, authz string) (int, string) {
	t.Helper()
	return getJSON(t, url, authz, `{"requestedusers":["1"],"requestedscids":[]}`)
}

// getJSON posts body to url.
func getJSON(t *testing.T, url, authz, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServe(t *testing.T) {
	_, env := tableEnv(t)
	p := start(t, env, "serve", "--addr", "127.0.0.1:0")
	base := p.waitFor(t, regexp.MustCompile(`serving the local API on (http://\S+)`), 30*time.Second)[1]
	token := strings.TrimSpace(xblctl(t, nil, "token", "--xuid", "1", "--uhs", "u", "--title", "1", "--sandbox", "RETAIL").stdout)

	if code, body := get(t, base+"/batch?operation=read", token); code != 400 || !strings.Contains(body, `requestedscids is empty"`) {
		t.Errorf("request through the event path: %d %s", code, body)
	}
	if code, body := get(t, base+"/batch", ""); code != 401 || !strings.Contains(body, `"errorCode":401`) {
		t.Errorf("without a token: %d %s", code, body)
	}
	if code, body := get(t, base+"/no/such/route", token); code != 404 || body != `{"message":"Not Found"}` {
		t.Errorf("unknown route: %d %s", code, body)
	}
	p.waitFor(t, regexp.MustCompile(`"message":"access".*"routeKey":"-".*"status":404`), 5*time.Second)

	// xblctl write sends what XSAPI sends; the read then answers it.
	if r := xblctl(t, env, "create-table"); r.code != 0 {
		t.Fatalf("create-table: %d %s", r.code, r.stderr)
	}
	if r := xblctl(t, env, "load", filepath.Join("..", "fixtures", "demo.json")); r.code != 0 {
		t.Fatalf("load: %d %s", r.code, r.stderr)
	}
	const scid = "7492baca-c1b4-440d-a391-b7ef364a8d40"
	port := base[strings.LastIndex(base, ":")+1:]
	r := xblctl(t, append(env, "PORT="+port), "stats", "write", "--xuid", "42", "--scid", scid, "KD=2.5", "Rank=Gold")
	if r.code != 0 || !strings.Contains(r.stdout, "revision 1 (the stored document's plus one)") || !strings.Contains(r.stdout, "POST /stats/users/42/scids/"+scid+": 200") {
		t.Fatalf("write: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	// A revision not newer than the stored one changes nothing, and xblctl says so.
	r = xblctl(t, append(env, "PORT="+port), "stats", "write", "--revision", "1", "--xuid", "42", "--scid", scid, "KD=9")
	if r.code != 0 || !strings.Contains(r.stdout, "revision 1 is not newer than the stored document's (1)") {
		t.Fatalf("stale write: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	r = xblctl(t, append(env, "PORT="+port), "stats", "write", "--patch", "--xuid", "42", "--scid", scid, "Rank=null", "Wins=3")
	if r.code != 0 || !strings.Contains(r.stdout, "PATCH /stats/users/42/scids/"+scid+": 200") {
		t.Fatalf("patch: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	reader := strings.TrimSpace(xblctl(t, nil, "token", "--xuid", "1", "--uhs", "u", "--title", "1297287135", "--sandbox", "RETAIL").stdout)
	code, body := getJSON(t, base+"/batch", reader, `{"requestedusers":["42"],"requestedscids":[{"scid":"`+scid+`","requestedstats":["KD","Rank","Wins"]}]}`)
	if code != 200 || !strings.Contains(body, `"statname":"KD","type":"Double","value":"2.5"`) ||
		!strings.Contains(body, `"statname":"Wins","type":"Integer","value":"3"`) || strings.Contains(body, `"statname":"Rank"`) {
		t.Errorf("read after the writes: %d %s", code, body)
	}
	// xblctl leaderboard reads a board as XSAPI does (this server's table
	// was made after it started, so no index follows its stream: the
	// board may be empty, but it answers).
	r = xblctl(t, append(env, "PORT="+port), "leaderboard", "--scid", scid, "--stat", "KD", "--max", "5")
	if r.code != 0 || !strings.Contains(r.stdout, "GET /scids/"+scid+"/leaderboards/stat(KD)?maxItems=5: 200") || !strings.Contains(r.stdout, `"leaderboardInfo"`) {
		t.Errorf("leaderboard: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if r := xblctl(t, append(env, "PORT="+port), "leaderboard", "--scid", scid, "--stat", "Nope"); r.code != 1 || !strings.Contains(r.stdout, ": 404") {
		t.Errorf("leaderboard of a stat without one: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	r = xblctl(t, append(env, "PORT="+port), "stats", "get", "--xuid", "42", "--scid", scid)
	if r.code != 0 || !strings.Contains(r.stdout, `"KD":{"value":2.5}`) || !strings.Contains(r.stdout, `"Wins":{"value":3}`) || strings.Contains(r.stdout, "Rank") {
		t.Errorf("stats get: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	// xblctl session: create and join, reserve, read, leave; the query
	// through the same API sees each step.
	sess := []string{"--scid", scid, "--template", "lobby", "--name", "ctl", "--xuid", "42"}
	r = xblctl(t, append(env, "PORT="+port), append([]string{"session", "put", "--create", "--join", "--visibility", "open", "--max", "2", "--keywords", "ctl"}, sess...)...)
	if r.code != 0 || !strings.Contains(r.stdout, ": 201 ETag ") {
		t.Fatalf("session put --create: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	r = xblctl(t, append(env, "PORT="+port), append([]string{"session", "put", "--reserve", "43"}, sess...)...)
	if r.code != 0 || !strings.Contains(r.stdout, `"reserved":true`) {
		t.Fatalf("session put --reserve: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	req, _ := http.NewRequest("POST", base+"/serviceconfigs/"+scid+"/batch?reservations=true", strings.NewReader(`{"xuids":["42","43"]}`))
	req.Header.Set("Authorization", strings.TrimSpace(xblctl(t, nil, "token", "--xuid", "1", "--uhs", "u", "--title", "1297287135", "--sandbox", "RETAIL", "--server").stdout))
	req.Header.Set("x-xbl-contract-version", "107")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	code, body = resp.StatusCode, string(b)
	if code != 200 || !strings.Contains(body, `"xuid":"42"`) || !strings.Contains(body, `"status":"reserved"`) || !strings.Contains(body, `"visibility":"full"`) {
		t.Errorf("query after the session writes: %d %s", code, body)
	}
	if r := xblctl(t, append(env, "PORT="+port), append([]string{"session", "get"}, sess...)...); r.code != 0 || !strings.Contains(r.stdout, ": 200 ETag ") {
		t.Errorf("session get: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if r := xblctl(t, append(env, "PORT="+port), append([]string{"session", "put", "--create", "--join"}, sess...)...); r.code != 1 || !strings.Contains(r.stdout, ": 412 ETag ") {
		t.Errorf("second create: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if r := xblctl(t, append(env, "PORT="+port), append([]string{"session", "leave"}, sess...)...); r.code != 0 || !strings.Contains(r.stdout, ": 200 ETag ") {
		t.Errorf("session leave: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	// Without a running API the command says what to do.
	if r := xblctl(t, []string{"PORT=1"}, "stats", "write", "--xuid", "42", "--scid", scid, "KD=1"); r.code != 1 || !strings.Contains(r.stderr, "nothing is running there") {
		t.Errorf("write without an API: exit %d, %q", r.code, r.stderr)
	}
	// An EMF metrics record was written for the requests the functions saw.
	p.waitFor(t, regexp.MustCompile(`"_aws":\{"CloudWatchMetrics".*"Namespace":"XblRead".*"Route":"POST /batch"|"Route":"POST /batch".*"_aws":\{`), 5*time.Second)

	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.waitExit(10 * time.Second); err != nil {
		t.Errorf("serve after SIGTERM: %v", err)
	}
}

// waitExit waits for p to exit successfully within limit.
func (p *process) waitExit(limit time.Duration) error {
	select {
	case <-p.done:
	case <-time.After(limit):
		return fmt.Errorf("still running after %s", limit)
	}
	if !p.cmd.ProcessState.Success() {
		return fmt.Errorf("exited with %v", p.cmd.ProcessState)
	}
	return nil
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestUp runs the whole local stack as `make run` does, with a DynamoDB
// Local of its own, non-default ports and a custom fixture, and checks that
// Ctrl-C leaves nothing running.
func TestUp(t *testing.T) {
	ddbtest.Require(t)
	apiPort, ddbPort := freePort(t), freePort(t)
	fix := filepath.Join(t.TempDir(), "mine.json")
	os.WriteFile(fix, []byte(`{
  "serviceConfigs": [{"scid": "`+scid+`", "titleIds": ["42"], "sandboxes": ["XDKS.9"], "stats": {"Wins": "open"}}],
  "users": [{"xuid": "777", "gamertag": "Seven", "stats": {"`+scid+`": {"Wins": {"type": "Integer", "value": 7}}}}]
}`), 0o644)
	env := []string{store.EndpointEnv + "=", fmt.Sprintf("PORT=%d", apiPort), fmt.Sprintf("DYNAMODB_PORT=%d", ddbPort),
		"FIXTURES=" + fix, "TABLE_NAME=uptest"}
	p := start(t, env, "up")
	p.waitFor(t, regexp.MustCompile(`loaded .*mine\.json into table uptest: 1 service configs, 1 profiles, 1 stats items`), 90*time.Second)
	ready := p.waitFor(t, regexp.MustCompile(`^ready: local API on (http://127\.0\.0\.1:\d+) \(DynamoDB (http://127\.0\.0\.1:\d+)`), 30*time.Second)
	if want := fmt.Sprintf("http://127.0.0.1:%d", apiPort); ready[1] != want {
		t.Errorf("API on %s, want %s", ready[1], want)
	}
	if want := fmt.Sprintf("http://127.0.0.1:%d", ddbPort); ready[2] != want {
		t.Errorf("DynamoDB on %s, want %s", ready[2], want)
	}
	try := p.waitFor(t, regexp.MustCompile(`^try:\s+curl -s '([^']+)' -H 'Authorization: ([^']+)' -H 'Content-Type: application/json' -d '([^']+)'`), 5*time.Second)
	if !strings.Contains(try[2], "x=dev777;") {
		t.Errorf("the curl's token is not for the fixture's user: %s", try[2])
	}
	v, _ := devkey.Verifier()
	if c, err := v.Verify(try[2]); err != nil || c.Sandbox != "XDKS.9" || c.TitleID != "42" {
		t.Errorf("the curl's token: %+v, %v; want the fixture's sandbox and title", c, err)
	}
	if code, body := getJSON(t, try[1], try[2], try[3]); code != 200 || !strings.Contains(body, `{"statname":"Wins","type":"Integer","value":"7"}`) {
		t.Errorf("the printed curl: %d %s", code, body)
	}

	// The request was served by the function's real bootstrap under the
	// emulator, with the template's environment, and its REPORT line is
	// in the output, prefixed with the function's name.
	p.waitFor(t, regexp.MustCompile(`^\[StatsBatchFunction\] REPORT RequestId: \S+\tInit Duration: [0-9.]+ ms\tDuration: [0-9.]+ ms\tBilled Duration: [0-9]+ ms\tMemory Size: 512 MB\tMax Memory Used: [0-9]+ MB`), 5*time.Second)
	// The leaderboards' index may run too: the fixture's statistics
	// reached it through the table's stream.
	procs := descendants(p.cmd.Process.Pid)
	var emulators, bootstraps, stats int
	for _, pid := range procs {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		switch filepath.Base(exe) {
		case "aws-lambda-rie":
			emulators++
		case "bootstrap":
			bootstraps++
			if strings.HasSuffix(exe, "/leaderboardindex/bootstrap") {
				continue
			}
			stats++
			if !strings.HasSuffix(exe, "/statsbatch/bootstrap") {
				t.Errorf("bootstrap %s is not statsbatch's", exe)
			}
			environ, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
			for _, want := range []string{"GOGC=400", "GOMEMLIMIT=400MiB", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512", "AWS_LAMBDA_FUNCTION_TIMEOUT=6",
				"AWS_LAMBDA_FUNCTION_NAME=xblread-prod-statsbatch", "TABLE_NAME=uptest", "AWS_SAM_LOCAL=true", "RATE_LIMITS=on"} {
				if !slices.Contains(strings.Split(string(environ), "\x00"), want) {
					t.Errorf("the bootstrap's environment lacks %s", want)
				}
			}
		}
	}
	if stats != 1 || emulators != bootstraps {
		t.Errorf("%d emulators, %d bootstraps, %d of statsbatch serve one request; want one emulator per bootstrap, one statsbatch", emulators, bootstraps, stats)
	}

	p.cmd.Process.Signal(os.Interrupt)
	if err := p.waitExit(15 * time.Second); err != nil {
		t.Fatalf("up after Ctrl-C: %v", err)
	}
	for _, pid := range procs {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !strings.Contains(string(b), ") Z ") {
			t.Errorf("process %d (%s) outlived Ctrl-C", pid, strings.Fields(string(b))[1])
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	for _, port := range []int{apiPort, ddbPort} {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			t.Errorf("port %d still answers after Ctrl-C", port)
		}
	}
}

// TestReadmeStatsWrite: README's "the same write, shorter" sends the body
// of the curl POST beside it, stats and their JSON numbers included, but
// for the revision and timestamp xblctl chooses.
func TestReadmeStatsWrite(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	curl := regexp.MustCompile(`(?s)curl -s -X POST '[^']*/stats/users/[^']*'.*?-d '([^']*)'`).FindSubmatch(readme)
	if curl == nil {
		t.Fatal("README has no curl POST of a statistics write")
	}
	ctl := regexp.MustCompile(`\.local/bin/xblctl stats write ([^\n]*)`).FindSubmatch(readme)
	if ctl == nil {
		t.Fatal("README has no xblctl stats write")
	}
	var pairs []string
	args := strings.Fields(string(ctl[1]))
	for i := 0; i < len(args); i++ {
		if strings.HasPrefix(args[i], "--") {
			i++ // the flag's value
			continue
		}
		pairs = append(pairs, args[i])
	}
	var sent map[string]any
	dec := json.NewDecoder(bytes.NewReader(curl[1]))
	dec.UseNumber()
	if err := dec.Decode(&sent); err != nil {
		t.Fatalf("README's curl body: %v", err)
	}
	rev, err := sent["revision"].(json.Number).Int64()
	if err != nil {
		t.Fatal(err)
	}
	stats, err := statValues(pairs, false)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	dec = json.NewDecoder(bytes.NewReader(writeBody(stats, rev, sent["timestamp"].(string))))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sent) {
		t.Errorf("xblctl stats write %s sends\n%v\nREADME's curl sends\n%v", strings.Join(pairs, " "), got, sent)
	}
}

func TestStatValues(t *testing.T) {
	tests := []struct {
		args  []string
		patch bool
		want  string
	}{
		{[]string{"A=70", "B=1.5", "C=3.0", "D=-2e3"}, false, `{"A":{"value":70},"B":{"value":1.5},"C":{"value":3.0},"D":{"value":-2e3}}`},
		{[]string{`A="70"`, "B=gg", "C=null", "D=007", "E="}, false, `{"A":{"value":"70"},"B":{"value":"gg"},"C":{"value":"null"},"D":{"value":"007"},"E":{"value":""}}`},
		{[]string{"A=null", "B=true"}, true, `{"A":null,"B":{"value":"true"}}`},
	}
	for _, tt := range tests {
		got, err := statValues(tt.args, tt.patch)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := json.Marshal(got); string(b) != tt.want {
			t.Errorf("statValues(%q) = %s, want %s", tt.args, b, tt.want)
		}
	}
	for _, twice := range [][]string{{"A=1", "A=2"}, {"Kills=1", "kills=2"}, {"s=1", "ſ=2"}} {
		if _, err := statValues(twice, false); err == nil {
			t.Errorf("a stat given twice is accepted: %q", twice)
		}
	}
}

// descendants returns the pids of process pid's children, theirs, and so
// on.
func descendants(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
				out = append(out, descendants(n)...)
			}
		}
	}
	return out
}

package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/pkg/xbl"
)

func TestRTAUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"rta"}, 2, ""},
		{[]string{"rta", "listen"}, 2, ""},
		{[]string{"rta", "watch", "extra"}, 2, ""},
		{[]string{"rta", "watch", "--bogus"}, 2, ""},
		{[]string{"rta", "watch", "--xuid", "bob"}, 2, ""},
		{[]string{"rta", "watch", "--for", "soon"}, 2, ""},
		{[]string{"rta", "watch", "--for", "-1s"}, 2, ""},
		{[]string{"rta", "watch", "--subscribe=maybe"}, 2, ""},
		{[]string{"rta", "watch", "--api", "ftp://127.0.0.1:1"}, 2, ""},
		{[]string{"rta", "watch", "--api", "127.0.0.1"}, 2, ""},
		{[]string{"rta", "--help"}, 0, "Usage: xblctl rta watch [--xuid X] [--api URL] [--subscribe=true] [--for DURATION]"},
		{[]string{"rta", "watch", "--help"}, 0, "Usage: xblctl rta watch [--xuid X] [--api URL] [--subscribe=true] [--for DURATION]"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := xblctl(t, nil, tt.args...)
			wantRun(t, r, tt.code, tt.out)
			if tt.code == 0 {
				// Every flag the usage names, and the others.
				for _, f := range append(regexp.MustCompile(`--([a-z-]+)`).FindAllStringSubmatch(tt.out, -1), []string{"", "title"}, []string{"", "sandbox"}) {
					if !strings.Contains(r.stdout, "\n  -"+f[1]+" ") && !strings.Contains(r.stdout, "\n  -"+f[1]+"\n") {
						t.Errorf("--help lists no flag -%s:\n%s", f[1], r.stdout)
					}
				}
			}
		})
	}
	// Without a running API the command says what to do.
	if r := xblctl(t, []string{"PORT=1"}, "rta", "watch", "--for", "1s"); r.code != 1 || !strings.Contains(r.stderr, "nothing is running there") {
		t.Errorf("watch without an API: exit %d, %q", r.code, r.stderr)
	}
}

// TestRTAWatch runs `xblctl rta watch` against the local API with its
// WebSocket (`xblctl serve`, the handlers in process, on a DynamoDB Local
// table with its stream, which the notifier reads): the player connects,
// subscribes and is told its connection id; a session it creates with
// that connection and a subscription taps it with change number 1. A
// connect another player's token cannot make is refused, and --for ends
// the watch with exit 0.
func TestRTAWatch(t *testing.T) {
	_, env := tableEnv(t)
	// The table first, with its stream: serve drives the notifier from
	// the stream of a table that has one when it starts.
	if r := xblctl(t, env, "create-table"); r.code != 0 {
		t.Fatalf("create-table: %d %s", r.code, r.stderr)
	}
	if r := xblctl(t, env, "load", filepath.Join("..", "fixtures", "demo.json")); r.code != 0 {
		t.Fatalf("load: %d %s", r.code, r.stderr)
	}
	srv := start(t, append(env, "RATE_LIMITS=off"), "serve", "--in-process", "--addr", "127.0.0.1:0")
	base := srv.waitFor(t, regexp.MustCompile(`serving the local API on (http://\S+)`), 30*time.Second)[1]
	srv.waitFor(t, regexp.MustCompile(`real-time activity on ws://\S+/connect`), time.Second)
	env = append(env, "PORT="+base[strings.LastIndex(base, ":")+1:])
	const player = "2533274792693551"

	began := time.Now()
	w := start(t, env, "rta", "watch", "--xuid", player, "--for", "3s")
	conn := w.waitFor(t, regexp.MustCompile(`^connection (\S+): put it in members\.me\.properties\.system\.connection$`), 10*time.Second)[1]
	w.waitFor(t, regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d) \[1,1,0,\d+,\{"ConnectionId":"`+regexp.QuoteMeta(conn)+`"\}\]$`), 5*time.Second)

	// The player creates a lobby with its connection and a subscription.
	tok, err := devkey.Mint(xbl.Caller{XUID: 2533274792693551, UserHash: "xblctl", TitleID: "1297287135", Sandbox: "RETAIL"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"members":{"me":{"constants":{"system":{"xuid":"` + player + `","initialize":true}},"properties":{"system":{"active":true,"connection":"` + conn +
		`","subscription":{"id":"5a1f0000-0000-4000-8000-000000000001","changeTypes":["everything"]}}}}}}`
	req, _ := http.NewRequest("PUT", base+"/serviceconfigs/"+scid+"/sessionTemplates/lobby/sessions/rta-watch", strings.NewReader(body))
	req.Header.Set("Authorization", tok)
	req.Header.Set("x-xbl-contract-version", "107")
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("If-None-Match", "*")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, out)
	}

	// The event as it came, then its readable line.
	resource := regexp.QuoteMeta(scid + "~lobby~rta-watch")
	w.waitFor(t, regexp.MustCompile(`^\S+ \[3,\d+,\{.*"shoulderTaps":\[\{"resource":"`+resource+`","changeNumber":1,`), 5*time.Second)
	w.waitFor(t, regexp.MustCompile(`^\S+ tap `+resource+` changeNumber 1$`), time.Second)
	if err := w.waitExit(10 * time.Second); err != nil {
		t.Errorf("watch --for 3s: %v\n%s", err, strings.Join(w.seen, "\n"))
	}
	for line := range w.lines {
		w.seen = append(w.seen, line)
	}
	t.Logf("xblctl rta watch --for 3s:\n%s", strings.Join(w.seen, "\n"))
	if took := time.Since(began); took < 3*time.Second {
		t.Errorf("watch --for 3s ended after %s", took)
	}

	// A refused connect prints the status and body and exits 1: xuid 0 is
	// no player (403), a token without a title id is no token (401), and
	// a path the WebSocket API does not serve is API Gateway's 404.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--xuid", "0"}, ": 403\n"},
		{[]string{"--title", ""}, ": 401\n"},
		{[]string{"--api", strings.Replace(base, "http://", "ws://", 1) + "/no-such-path"}, ": 404\n"},
	} {
		r := xblctl(t, env, append([]string{"rta", "watch", "--for", "1s"}, c.args...)...)
		if r.code != 1 || !strings.Contains(r.stdout, c.want) || !strings.Contains(r.stderr, "the connect was refused") {
			t.Errorf("watch %s: exit %d\nstdout %s\nstderr %s", strings.Join(c.args, " "), r.code, r.stdout, r.stderr)
		}
	}

	// Unsubscribed, there is no connection id; Ctrl-C ends the watch with 0.
	u := start(t, env, "rta", "watch", "--subscribe=false")
	u.waitFor(t, regexp.MustCompile(`^connected to ws://\S+/connect, not subscribed`), 10*time.Second)
	u.cmd.Process.Signal(os.Interrupt)
	if err := u.waitExit(10 * time.Second); err != nil {
		t.Errorf("watch after Ctrl-C: %v", err)
	}

	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.waitExit(10 * time.Second); err != nil {
		t.Errorf("serve after SIGTERM: %v", err)
	}
}

// TestReadmeRTA: README's xblctl rta commands are well formed (no usage
// error: with no API to answer, each fails only for that), and its session
// write with the connection id is valid JSON that names the connection and
// a subscription.
func TestReadmeRTA(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := regexp.MustCompile(`\.local/bin/xblctl (rta [^\n|)&>]*)`).FindAllSubmatch(readme, -1)
	if len(lines) == 0 {
		t.Error("README shows no xblctl rta watch")
	}
	for _, l := range lines {
		args := append(strings.Fields(string(l[1])), "--for", "1s")
		if r := xblctl(t, []string{"PORT=1"}, args...); r.code != 1 || !strings.Contains(r.stderr, "nothing is running there") {
			t.Errorf("README's xblctl %s: exit %d, want 1 for the missing API\n%s", l[1], r.code, r.stderr)
		}
	}
	bodies := regexp.MustCompile(`(?m)-d '(.*"connection":"'"\$CONN"'".*)'$`).FindAllSubmatch(readme, -1)
	if len(bodies) == 0 {
		t.Fatal("README shows no session write with the connection id ($CONN)")
	}
	for _, b := range bodies {
		var doc struct {
			Members struct {
				Me struct {
					Properties struct {
						System struct {
							Connection   string
							Subscription struct {
								ID          string
								ChangeTypes []string
							}
						}
					}
				}
			}
		}
		body := strings.ReplaceAll(string(b[1]), `'"$CONN"'`, "abc=")
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Errorf("README's session write is not JSON: %v\n%s", err, body)
			continue
		}
		if s := doc.Members.Me.Properties.System; s.Connection != "abc=" || s.Subscription.ID == "" || len(s.Subscription.ChangeTypes) == 0 {
			t.Errorf("README's session write names no connection and subscription: %s", body)
		}
	}
}

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestHandleUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"handle"}, 2, ""},
		{[]string{"handle", "frobnicate"}, 2, ""},
		{[]string{"handle", "--help"}, 0, "xblctl handle transfer --scid S --template T --name N --origin-template T2 --origin-name N2 [--xuid X]"},
		{[]string{"handle", "activity"}, 2, ""},
		{[]string{"handle", "activity", "--scid", "s", "--template", "t"}, 2, ""},
		{[]string{"handle", "activity", "--scid", "s", "--template", "t", "--name", "n", "extra"}, 2, ""},
		{[]string{"handle", "activity", "--scid", "s", "--template", "t", "--name", "n", "--xuid", "x"}, 2, ""},
		{[]string{"handle", "activity", "--scid", "s", "--template", "t", "--name", "n", "--server"}, 2, ""},
		{[]string{"handle", "invite", "--scid", "s", "--template", "t", "--name", "n"}, 2, ""},
		{[]string{"handle", "invite", "--scid", "s", "--template", "t", "--name", "n", "--invite", "bob"}, 2, ""},
		{[]string{"handle", "transfer", "--scid", "s", "--template", "t", "--name", "n", "--origin-template", "t"}, 2, ""},
		{[]string{"handle", "query", "--scid", "s"}, 2, ""},
		{[]string{"handle", "query", "--scid", "s", "--owners", "1,bob"}, 2, ""},
		{[]string{"handle", "query", "--scid", "s", "--owners", "-"}, 2, ""},
		{[]string{"handle", "delete"}, 2, ""},
		{[]string{"handle", "get", "a", "b"}, 2, ""},
		{[]string{"handle", "get", "a", "--server", "--xuid", "1"}, 2, ""},
		{[]string{"handle", "join", "a", "--server"}, 2, ""},
		{[]string{"handle", "join", "--bogus", "a"}, 2, ""},
	}
	// Each subcommand's --help lists its usage and every flag it names.
	for _, v := range handleVerbs {
		tests = append(tests, struct {
			args []string
			code int
			out  string
		}{[]string{"handle", v.name, "--help"}, 0, "Usage: xblctl handle " + v.name + " " + v.args})
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := xblctl(t, nil, tt.args...)
			wantRun(t, r, tt.code, tt.out)
			if len(tt.args) == 3 && tt.args[2] == "--help" {
				for _, f := range append(regexp.MustCompile(`--([a-z-]+)`).FindAllStringSubmatch(tt.out, -1), []string{"", "api"}, []string{"", "server"}) {
					if !strings.Contains(r.stdout, "\n  -"+f[1]+" ") && !strings.Contains(r.stdout, "\n  -"+f[1]+"\n") {
						t.Errorf("--help lists no flag -%s:\n%s", f[1], r.stdout)
					}
				}
			}
		})
	}
}

// TestHandles runs the handle commands against the local API (its
// handlers in process, on DynamoDB Local) as Multiplayer Manager uses
// handles: the host's activity, a friend's query and join by handle, an
// invite, a transfer, a delete.
func TestHandles(t *testing.T) {
	_, env := tableEnv(t)
	p := start(t, env, "serve", "--in-process", "--addr", "127.0.0.1:0")
	base := p.waitFor(t, regexp.MustCompile(`serving the local API on (http://\S+)`), 30*time.Second)[1]
	if r := xblctl(t, env, "create-table"); r.code != 0 {
		t.Fatalf("create-table: %d %s", r.code, r.stderr)
	}
	if r := xblctl(t, env, "load", filepath.Join("..", "fixtures", "demo.json")); r.code != 0 {
		t.Fatalf("load: %d %s", r.code, r.stderr)
	}
	env = append(env, "PORT="+base[strings.LastIndex(base, ":")+1:])
	const host, friend, other = "2533274792693551", "2533274792693552", "2533274792693553"
	run := func(code int, args ...string) result {
		t.Helper()
		r := xblctl(t, env, args...)
		if r.code != code {
			t.Fatalf("xblctl %s: exit %d, want %d\nstdout %s\nstderr %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
		}
		return r
	}
	want := func(r result, subs ...string) {
		t.Helper()
		for _, s := range subs {
			if !strings.Contains(r.stdout, s) {
				t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
			}
		}
	}
	idOf := func(r result) string {
		t.Helper()
		m := regexp.MustCompile(`(?m)^POST /handles: 201 id (\S+)$`).FindStringSubmatch(r.stdout)
		if m == nil {
			t.Fatalf("no handle id in %q", r.stdout)
		}
		return m[1]
	}
	lobby := []string{"--scid", scid, "--template", "lobby", "--name", "mpm"}
	location := "Content-Location: /serviceconfigs/" + scid + "/sessionTemplates/lobby/sessions/mpm\n"

	// The host makes a lobby without constants (the demo fixture names no
	// templates: the defaults apply), joins it and posts its activity.
	run(0, append([]string{"session", "put", "--create", "--join", "--xuid", host}, lobby...)...)
	// Only a member may post a session's activity.
	want(run(1, append([]string{"handle", "activity", "--xuid", friend}, lobby...)...), "POST /handles: 403")
	activity := idOf(run(0, append([]string{"handle", "activity"}, lobby...)...))

	// A friend finds it, with the session's state, reads the session and
	// joins it by handle (flags after or before the ID).
	q := run(0, "handle", "query", "--scid", scid, "--owners", host+","+other, "--xuid", friend)
	want(q, "POST /handles/query?include=relatedInfo,customProperties: 200\n", `"id":"`+activity+`"`, `"type":"activity"`,
		`"ownerXuid":"`+host+`"`, `"sessionRef":{"scid":"`+scid+`","templateName":"lobby","name":"mpm"}`,
		`"membersCount":1`, `"maxMembersCount":100`, `"visibility":"open"`, `"customProperties":{}`)
	want(run(0, "handle", "get", activity, "--xuid", friend), "GET /handles/"+activity+"/session: 200 ETag \"", location, `"changeNumber":`)
	want(run(0, "handle", "join", "--xuid", friend, activity), "PUT /handles/"+activity+"/session: 200 ETag \"", location, `"xuid":"`+friend+`"`)
	want(run(0, "handle", "query", "--scid", scid, "--owners", host, "--xuid", friend), `"membersCount":2`)

	// An invite is its invitee's to read; a server may invite too.
	inv := run(0, append([]string{"handle", "invite", "--invite", other, "--context", "join me"}, lobby...)...)
	want(inv, `"type":"invite"`, `"invitedXuid":"`+other+`"`, `"senderXuid":"`+host+`"`, `"inviteAttributes":{"contextString":"join me","titleId":"1297287135"}`)
	invite := idOf(inv)
	want(run(1, "handle", "get", invite, "--xuid", friend), "GET /handles/"+invite+"/session: 403")
	want(run(0, "handle", "get", invite, "--xuid", other), location)
	idOf(run(0, append([]string{"handle", "invite", "--server", "--invite", other}, lobby...)...))

	// A transfer from the lobby to a game session.
	run(0, "session", "put", "--create", "--join", "--xuid", host, "--scid", scid, "--template", "game", "--name", "mpm-game")
	tr := run(0, "handle", "transfer", "--scid", scid, "--template", "game", "--name", "mpm-game", "--origin-template", "lobby", "--origin-name", "mpm", "--xuid", friend)
	want(tr, `"type":"transfer"`, `"originSessionRef":{"scid":"`+scid+`","templateName":"lobby","name":"mpm"}`)
	want(run(0, "handle", "get", idOf(tr), "--xuid", friend), "Content-Location: /serviceconfigs/"+scid+"/sessionTemplates/game/sessions/mpm-game\n")

	// The activity is its owner's to delete; then it is gone.
	want(run(1, "handle", "delete", activity, "--xuid", friend), "DELETE /handles/"+activity+": 403")
	want(run(0, "handle", "delete", activity), "DELETE /handles/"+activity+": 204")
	want(run(1, "handle", "get", activity, "--xuid", friend), ": 404")
	if r := run(0, "handle", "query", "--scid", scid, "--owners", host, "--xuid", friend); !strings.Contains(r.stdout, `{"results":[]}`) {
		t.Errorf("query after the delete: %s", r.stdout)
	}

	// Without a running API the command says what to do.
	if r := xblctl(t, []string{"PORT=1"}, "handle", "query", "--scid", scid, "--owners", host); r.code != 1 || !strings.Contains(r.stderr, "nothing is running there") {
		t.Errorf("query without an API: exit %d, %q", r.code, r.stderr)
	}

	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.waitExit(10 * time.Second); err != nil {
		t.Errorf("serve after SIGTERM: %v", err)
	}
}

// TestReadmeHandles: README's xblctl handle commands are well formed (no
// usage error): with no API to answer, each fails only for that.
func TestReadmeHandles(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := regexp.MustCompile(`\.local/bin/xblctl (handle [^\n|)]*)`).FindAllSubmatch(readme, -1)
	verbs := map[string]bool{}
	for _, l := range lines {
		args := strings.Fields(strings.NewReplacer(`"$HANDLE"`, "some-id", "$HANDLE", "some-id").Replace(string(l[1])))
		verbs[args[1]] = true
		if r := xblctl(t, []string{"PORT=1"}, args...); r.code != 1 || !strings.Contains(r.stderr, "nothing is running there") {
			t.Errorf("README's xblctl %s: exit %d, want 1 for the missing API\n%s", l[1], r.code, r.stderr)
		}
	}
	for _, v := range []string{"activity", "query", "get", "join"} {
		if !verbs[v] {
			t.Errorf("README shows no xblctl handle %s", v)
		}
	}
}

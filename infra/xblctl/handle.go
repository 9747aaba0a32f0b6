package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/pkg/xbl"
)

// handleVerb is one `xblctl handle` subcommand.
type handleVerb struct{ name, args, summary string }

// handleVerbs are the `xblctl handle` subcommands, in the order their
// usage lists them.
var handleVerbs = []handleVerb{
	{"activity", "--scid S --template T --name N [--xuid X]", "post the caller's activity for a session it is a member of (POST /handles, type activity): the session friends find with `handle query`; it replaces the caller's activity before it"},
	{"invite", "--scid S --template T --name N --invite XUID [--xuid X]", "invite a player to a session the caller is a member of (POST /handles, type invite): the invitee may read and join it for an hour, whatever its visibility"},
	{"transfer", "--scid S --template T --name N --origin-template T2 --origin-name N2 [--xuid X]", "point the members of a session (the origin, such as a lobby) at another (the target: --template and --name) (POST /handles, type transfer)"},
	{"query", "--scid S --owners X1,X2 [--xuid X]", "find the activities of players in a SCID, as Multiplayer Manager does (POST /handles/query?include=relatedInfo,customProperties)"},
	{"delete", "ID [--xuid X]", "delete a handle: its owner's, an invite's invitee's or a server's to delete (DELETE /handles/{id})"},
	{"get", "ID [--xuid X]", "read the session a handle names (GET /handles/{id}/session): its Content-Location, the session's own path, and the session"},
	{"join", "ID [--xuid X]", "join the session a handle names as the caller (PUT /handles/{id}/session with the body of `session put --join`)"},
}

// runHandle runs `xblctl handle VERB`: MPSD's handle calls (contract 107)
// as XSAPI sends them, against the local API with a development token.
func runHandle(args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fs := newFlags("handle")
		handleFlags(fs)
		printUsage(fs, os.Stdout) // the flags every subcommand has
		fmt.Fprintln(os.Stdout, "\nSubcommands:")
		for _, v := range handleVerbs {
			fmt.Fprintf(os.Stdout, "  xblctl handle %s %s\n", v.name, v.args)
		}
		fmt.Fprintln(os.Stdout, "\nRun 'xblctl handle SUBCOMMAND --help' for its flags.")
		return flag.ErrHelp
	}
	var names []string
	for _, v := range handleVerbs {
		names = append(names, v.name)
	}
	args = verbByName(args, names...)
	for _, v := range handleVerbs {
		if len(args) > 0 && args[0] == v.name {
			return runHandleVerb(v, args[1:])
		}
	}
	return usagef("give one of %s", strings.Join(names, ", "))
}

func runHandleVerb(v handleVerb, args []string) error {
	fs := newFlags("handle " + v.name)
	api, xuid, server, title, sandbox, gamertag := handleFlags(fs)
	var scid, template, name, invite, context, originSCID, originTemplate, originName, owners *string
	active := new(bool)
	switch v.name {
	case "activity", "invite", "transfer":
		scid = fs.String("scid", "", "the session's service configuration (required)")
		template = fs.String("template", "", "the session's template (required)")
		name = fs.String("name", "", "the session's name (required)")
	case "query":
		scid = fs.String("scid", "", "the service configuration (required)")
		owners = fs.String("owners", "", "the players whose activities to find, comma-separated xuids (required)")
	case "join":
		active = fs.Bool("active", true, "join active (false: inactive)")
	}
	switch v.name {
	case "invite":
		invite = fs.String("invite", "", "the invited player's xuid (required)")
		context = fs.String("context", "", "the invite's inviteAttributes.contextString")
	case "transfer":
		originSCID = fs.String("origin-scid", "", "the origin session's service configuration (default: --scid)")
		originTemplate = fs.String("origin-template", "", "the origin session's template (required)")
		originName = fs.String("origin-name", "", "the origin session's name (required)")
	}
	pos, err := parseHandleVerb(fs, v, args)
	if err != nil {
		return err
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })

	// The arguments: an ID for delete, get and join; the flags' values.
	var id string
	switch v.name {
	case "delete", "get", "join":
		if len(pos) != 1 || pos[0] == "" {
			return usagef("give one handle ID")
		}
		id = pos[0]
	default:
		if len(pos) > 0 {
			return usagef("unexpected arguments: %s", strings.Join(pos, " "))
		}
	}
	var missing []string
	for _, f := range []struct {
		flag string
		val  *string
	}{{"--scid", scid}, {"--template", template}, {"--name", name}, {"--owners", owners}, {"--invite", invite},
		{"--origin-template", originTemplate}, {"--origin-name", originName}} {
		if f.val != nil && *f.val == "" {
			missing = append(missing, f.flag)
		}
	}
	if len(missing) > 0 {
		return usagef("missing %s", strings.Join(missing, ", "))
	}
	var x xbl.XUID
	switch {
	case *server && explicit["xuid"]:
		return usagef("give --xuid or --server, not both")
	case *server && (v.name == "join" || v.name == "activity"):
		return usagef("--server: a server is no player: it has no activity and joins no session")
	case !*server:
		if x, err = xbl.ParseXUID(*xuid); err != nil {
			return usagef("--xuid: %v", err)
		}
	}

	// The request.
	base := strings.TrimSuffix(*api, "/")
	var method, target string
	var payload []byte
	switch v.name {
	case "activity", "invite", "transfer":
		body := map[string]any{"version": 1, "type": v.name, "sessionRef": sessionRef(*scid, *template, *name)}
		switch v.name {
		case "invite":
			inv, err := xbl.ParseXUID(*invite)
			if err != nil || inv == 0 {
				return usagef("--invite: give the invited player's xuid")
			}
			attrs := map[string]any{"titleId": *title}
			if *context != "" {
				attrs["contextString"] = *context
			}
			body["invitedXuid"], body["inviteAttributes"] = inv.String(), attrs
		case "transfer":
			if *originSCID == "" {
				*originSCID = *scid
			}
			body["originSessionRef"] = sessionRef(*originSCID, *originTemplate, *originName)
		}
		method, target = http.MethodPost, base+"/handles"
		payload, _ = json.Marshal(body)
	case "query":
		xuids := []string{}
		for _, s := range list(*owners) {
			o, err := xbl.ParseXUID(s)
			if err != nil || o == 0 {
				return usagef("--owners: %q is not an xuid", s)
			}
			xuids = append(xuids, o.String())
		}
		if len(xuids) == 0 {
			return usagef("--owners: give at least one xuid")
		}
		method, target = http.MethodPost, base+"/handles/query?include=relatedInfo,customProperties"
		payload, _ = json.Marshal(map[string]any{"type": "activity", "scid": *scid, "owners": map[string]any{"xuids": xuids}})
	case "delete":
		method, target = http.MethodDelete, base+"/handles/"+url.PathEscape(id)
	case "get":
		method, target = http.MethodGet, base+"/handles/"+url.PathEscape(id)+"/session"
	case "join":
		b, err := sessionBody(x, true, *active, "", 0, "", "", "", "")
		if err != nil {
			return err
		}
		method, target, payload = http.MethodPut, base+"/handles/"+url.PathEscape(id)+"/session", b
	}
	tok, err := devkey.Mint(xbl.Caller{XUID: x, UserHash: "xblctl", TitleID: *title, Sandbox: *sandbox, Gamertag: *gamertag, Server: *server}, time.Hour)
	if err != nil {
		return err
	}
	resp, out, err := callAPI(method, target, tok, "107", payload, nil)
	if err != nil {
		return err
	}

	// The answer: the status line (with the new handle's id, or the
	// session's ETag), the session's Content-Location, the body.
	line := fmt.Sprintf("%s %s: %d", method, resp.Request.URL.RequestURI(), resp.StatusCode)
	var h struct {
		ID string `json:"id"`
	}
	switch {
	case method == http.MethodPost && v.name != "query" && resp.StatusCode == http.StatusCreated && json.Unmarshal(out, &h) == nil && h.ID != "":
		line += " id " + h.ID
	case v.name == "get" || v.name == "join":
		if etag := resp.Header.Get("ETag"); etag != "" {
			line += " ETag " + etag
		}
		if loc := resp.Header.Get("Content-Location"); loc != "" {
			line += "\nContent-Location: " + loc
		}
	}
	fmt.Fprintf(os.Stdout, "%s\n%s\n", line, out)
	if resp.StatusCode >= 300 {
		return answered("the "+method, resp.StatusCode)
	}
	return nil
}

// handleFlags adds the flags every `xblctl handle` subcommand has to fs.
func handleFlags(fs *flag.FlagSet) (api, xuid *string, server *bool, title, sandbox, gamertag *string) {
	api = fs.String("api", "http://127.0.0.1:"+envOr("PORT", "3000"), "the local API's base URL (env PORT sets the port)")
	xuid = fs.String("xuid", "2533274792693551", "the caller")
	server = fs.Bool("server", false, "call with server-level access (no player; not with --xuid)")
	title = fs.String("title", "1297287135", "the caller's title id (it must own the SCID)")
	sandbox = fs.String("sandbox", "RETAIL", "the sandbox")
	gamertag = fs.String("gamertag", "", "the caller's gamertag")
	return
}

// sessionRef is a sessionRef as XSAPI writes it.
func sessionRef(scid, template, name string) map[string]string {
	return map[string]string{"scid": scid, "templateName": template, "name": name}
}

// parseHandleVerb parses a subcommand's flags, which may come before or
// after its arguments (see flagsFirst), and returns the arguments; --help
// prints the subcommand's usage and flags to stdout.
func parseHandleVerb(fs *flag.FlagSet, v handleVerb, args []string) ([]string, error) {
	err := fs.Parse(flagsFirst(fs, args))
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stdout, "Usage: xblctl handle %s %s\n\n%s.\n", v.name, v.args, strings.ToUpper(v.summary[:1])+v.summary[1:])
		printUsage(fs, os.Stdout) // the flags (no command is named "handle VERB")
		return nil, flag.ErrHelp
	}
	if err != nil {
		return nil, usageError{err.Error()}
	}
	return fs.Args(), nil
}

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/pkg/xbl"
)

// runSession runs `xblctl session put|get|leave`: an MPSD session write
// as XSAPI sends it (contract 107, its write modes as If-Match and
// If-None-Match), a read of the session, or the caller's leave, against
// the local API with a development token.
func runSession(args []string) error {
	fs := newFlags("session")
	api := fs.String("api", "http://127.0.0.1:"+envOr("PORT", "3000"), "the local API's base URL (env PORT sets the port)")
	scid := fs.String("scid", "", "the service configuration (required)")
	template := fs.String("template", "", "the session template (required)")
	name := fs.String("name", "", "the session name (required)")
	xuid := fs.String("xuid", "", "the caller (required unless --server)")
	server := fs.Bool("server", false, "call with server-level access (no player)")
	title := fs.String("title", "1297287135", "the caller's title id (it must own the SCID)")
	sandbox := fs.String("sandbox", "RETAIL", "the sandbox")
	gamertag := fs.String("gamertag", "", "the caller's gamertag, which the session shows")
	create := fs.Bool("create", false, "create only (If-None-Match: *)")
	update := fs.Bool("update", false, "update only (If-Match: *)")
	ifMatch := fs.String("if-match", "", "update only this version (If-Match: ETAG)")
	join := fs.Bool("join", false, "join (or update) as the caller: members.me")
	active := fs.Bool("active", true, "with --join: active (false: inactive)")
	visibility := fs.String("visibility", "", "on create: private, visible or open")
	maxMembers := fs.Int("max", 0, "on create: maxMembersCount (1-100)")
	keywords := fs.String("keywords", "", "set the keywords, comma-separated (\"-\" for none)")
	turn := fs.String("turn", "", "set the turn: member indices, comma-separated (\"-\" for none)")
	joinRestriction := fs.String("join-restriction", "", "set the join restriction: none, local or followed")
	reserve := fs.String("reserve", "", "reserve seats for these xuids, comma-separated")
	body := fs.String("body", "", "send this JSON body instead of one built from the flags")
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		return parse(fs, []string{"--help"}) // the usage, with the flags
	}
	args = verbFirst(fs, args)
	if len(args) == 0 || (args[0] != "put" && args[0] != "get" && args[0] != "leave") {
		return usagef("give put, get or leave")
	}
	verb := args[0]
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *scid == "" || *template == "" || *name == "" || (*xuid == "") != *server || fs.NArg() > 0 {
		return usagef("give --scid, --template, --name and --xuid (or --server), and no other arguments")
	}
	var x xbl.XUID
	if *xuid != "" {
		var err error
		if x, err = xbl.ParseXUID(*xuid); err != nil {
			return usagef("--xuid: %v", err)
		}
	}
	payload := []byte(*body)
	if verb == "put" && *body == "" {
		b, err := sessionBody(x, *join, *active, *visibility, *maxMembers, *keywords, *turn, *joinRestriction, *reserve)
		if err != nil {
			return err
		}
		payload = b
	}
	method, path := http.MethodPut, "/serviceconfigs/"+*scid+"/sessionTemplates/"+*template+"/sessions/"+*name
	switch verb {
	case "get":
		method, payload = http.MethodGet, nil
	case "leave":
		method, payload = http.MethodPut, []byte(`{"members":{"me":null}}`)
	}
	tok, err := devkey.Mint(xbl.Caller{XUID: x, UserHash: "xblctl", TitleID: *title, Sandbox: *sandbox, Gamertag: *gamertag, Server: *server}, time.Hour)
	if err != nil {
		return err
	}
	var headers []string
	switch {
	case *create:
		headers = []string{"If-None-Match", "*"}
	case *update:
		headers = []string{"If-Match", "*"}
	case *ifMatch != "":
		headers = []string{"If-Match", *ifMatch}
	}
	resp, out, err := callAPI(method, strings.TrimSuffix(*api, "/")+path, tok, "107", payload, headers)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stdout, "%s %s: %d ETag %s\n%s\n", method, resp.Request.URL.Path, resp.StatusCode, resp.Header.Get("ETag"), out)
	if resp.StatusCode >= 300 {
		return answered("the "+method, resp.StatusCode)
	}
	return nil
}

// sessionBody builds the body XSAPI would send for the flags.
func sessionBody(x xbl.XUID, join, active bool, visibility string, maxMembers int, keywords, turn, joinRestriction, reserve string) ([]byte, error) {
	body := map[string]any{}
	sys := map[string]any{}
	if visibility != "" {
		sys["visibility"] = visibility
	}
	if maxMembers != 0 {
		sys["maxMembersCount"] = maxMembers
	}
	if len(sys) > 0 {
		sys["version"] = 1
		body["constants"] = map[string]any{"system": sys, "custom": map[string]any{}}
	}
	props := map[string]any{}
	if keywords != "" {
		props["keywords"] = list(keywords)
	}
	if turn != "" {
		idx := []int{}
		for _, s := range list(turn) {
			n, err := strconv.Atoi(s)
			if err != nil {
				return nil, usagef("--turn: %q is not a member index", s)
			}
			idx = append(idx, n)
		}
		props["turn"] = idx
	}
	if joinRestriction != "" {
		props["joinRestriction"] = joinRestriction
	}
	if len(props) > 0 {
		body["properties"] = map[string]any{"system": props}
	}
	members := map[string]any{}
	if join {
		members["me"] = map[string]any{
			"constants":  map[string]any{"system": map[string]any{"xuid": x.String(), "initialize": true}},
			"properties": map[string]any{"system": map[string]any{"active": active}},
		}
	}
	for i, s := range list(reserve) {
		r, err := xbl.ParseXUID(s)
		if err != nil {
			return nil, usagef("--reserve: %v", err)
		}
		members["reserve_"+strconv.Itoa(i)] = map[string]any{"constants": map[string]any{"system": map[string]any{"xuid": r.String(), "initialize": true}}}
	}
	if len(members) > 0 {
		body["members"] = members
	}
	return json.Marshal(body)
}

// list splits a comma-separated flag; "-" is the empty list.
func list(s string) []string {
	out := []string{}
	if s == "" || s == "-" {
		return out
	}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

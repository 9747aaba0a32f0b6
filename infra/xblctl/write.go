package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/pkg/xbl"
)

// runStats runs `xblctl stats write` (a title-managed statistics write as
// XSAPI sends it: POST, or PATCH with --patch) or `xblctl stats get` (the
// stored document) against the local API, with a development token of the
// player.
func runStats(args []string) error {
	if len(args) == 0 || (args[0] != "write" && args[0] != "get") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return parse(newFlags("stats"), args)
		}
		return usagef("give write or get")
	}
	get := args[0] == "get"
	args = args[1:]
	fs := newFlags("stats")
	api := fs.String("api", "http://127.0.0.1:"+envOr("PORT", "3000"), "the local API's base URL (env PORT sets the port)")
	xuid := fs.String("xuid", "", "the player (required)")
	scid := fs.String("scid", "", "the service configuration (required)")
	title := fs.String("title", "1297287135", "the writing title's id (it must own the SCID)")
	sandbox := fs.String("sandbox", "RETAIL", "the sandbox")
	gamertag := fs.String("gamertag", "", "the player's gamertag, which the reads then answer")
	patch := fs.Bool("patch", false, "PATCH the named stats (NAME=null deletes one) instead of replacing the document")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *xuid == "" || *scid == "" || (fs.NArg() == 0) != get {
		if get {
			return usagef("give --xuid and --scid, and no NAME=VALUE")
		}
		return usagef("give --xuid, --scid and at least one NAME=VALUE")
	}
	x, err := xbl.ParseXUID(*xuid)
	if err != nil {
		return usagef("--xuid: %v", err)
	}
	title2 := map[string]any{}
	for _, kv := range fs.Args() {
		name, v, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return usagef("%q is not NAME=VALUE", kv)
		}
		switch {
		case v == "null" && *patch:
			title2[name] = nil
		case json.Valid([]byte(v)) && (strings.ContainsAny(v[:1], "-0123456789")):
			title2[name] = map[string]any{"value": json.Number(v)}
		default:
			title2[name] = map[string]any{"value": v}
		}
	}
	body := map[string]any{"stats": map[string]any{"title": title2}}
	method := http.MethodPatch
	if !*patch {
		method = http.MethodPost
		// What XSAPI sends: its revision is 100 ns ticks since 2015 >> 16.
		ticks := time.Since(time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)).Nanoseconds() / 100
		body["$schema"] = "http://stats.xboxlive.com/2017-1/schema#"
		body["previousRevision"] = 0
		body["revision"] = ticks >> 16
		body["timestamp"] = time.Now().UTC().Format("2006-01-02T15:04:05.9999999Z")
	}
	payload, _ := json.Marshal(body)
	if get {
		method, payload = http.MethodGet, nil
	}
	tok, err := devkey.Mint(xbl.Caller{XUID: x, UserHash: "xblctl", TitleID: *title, Sandbox: *sandbox, Gamertag: *gamertag}, time.Hour)
	if err != nil {
		return err
	}
	resp, out, err := callAPI(method, strings.TrimSuffix(*api, "/")+"/stats/users/"+x.String()+"/scids/"+*scid, tok, "4", payload, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stdout, "%s %s: %d %s\n", method, resp.Request.URL.Path, resp.StatusCode, out)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("the %s answered %d", method, resp.StatusCode)
	}
	return nil
}

// callAPI sends one request to the local API as a game does: the token,
// the contract version, a JSON body (none when nil) and the extra headers
// (name, value pairs). It returns the answer and its body.
func callAPI(method, url, tok, contract string, payload []byte, headers []string) (*http.Response, []byte, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return nil, nil, usagef("--api: %v", err)
	}
	req.Header.Set("Authorization", tok)
	req.Header.Set("x-xbl-contract-version", contract)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w (is `make run` up?)", method, req.URL, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out, nil
}

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

// runWrite sends a title-managed statistics write as XSAPI does (POST,
// or PATCH with --patch) to the local API, with a development token of
// the player.
func runWrite(args []string) error {
	fs := newFlags("write")
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
	if *xuid == "" || *scid == "" || fs.NArg() == 0 {
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
	tok, err := devkey.Mint(xbl.Caller{XUID: x, UserHash: "xblctl", TitleID: *title, Sandbox: *sandbox, Gamertag: *gamertag}, time.Hour)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(*api, "/")+"/stats/users/"+x.String()+"/scids/"+*scid, bytes.NewReader(payload))
	if err != nil {
		return usagef("--api: %v", err)
	}
	req.Header.Set("Authorization", tok)
	req.Header.Set("x-xbl-contract-version", "4")
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w (is `make run` up?)", method, req.URL, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	fmt.Fprintf(os.Stdout, "%s %s: %d %s\n", method, req.URL.Path, resp.StatusCode, out)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("the write answered %d", resp.StatusCode)
	}
	return nil
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// runStats runs `xblctl stats write` (a title-managed statistics write as
// XSAPI sends it: POST, or PATCH with --patch) or `xblctl stats get` (the
// stored document) against the local API, with a development token of the
// player.
func runStats(args []string) error {
	fs := newFlags("stats")
	api := fs.String("api", "http://127.0.0.1:"+envOr("PORT", "3000"), "the local API's base URL (env PORT sets the port)")
	xuid := fs.String("xuid", "", "the player (required)")
	scid := fs.String("scid", "", "the service configuration (required)")
	title := fs.String("title", "1297287135", "the writing title's id (it must own the SCID)")
	sandbox := fs.String("sandbox", "RETAIL", "the sandbox")
	gamertag := fs.String("gamertag", "", "the player's gamertag, which the reads then answer")
	patch := fs.Bool("patch", false, "PATCH the named stats (NAME=null deletes one) instead of replacing the document")
	revisionFlag := fs.String("revision", "", "the POST's revision, a non-negative integer (default: one more than the stored document's, so that the write replaces it; one not newer than the stored document's changes nothing)")
	timestamp := fs.String("timestamp", "", "the POST's timestamp (default: now), UTC as 2026-06-01T12:34:56.1234567Z")
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		return parse(fs, []string{"--help"}) // the usage, with the flags
	}
	args = verbFirst(fs, args)
	if len(args) == 0 || (args[0] != "write" && args[0] != "get") {
		return usagef("give write or get")
	}
	get := args[0] == "get"
	if err := parse(fs, args[1:]); err != nil {
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
	revision := int64(-1) // the stored document's plus one
	if *revisionFlag != "" {
		if revision, err = strconv.ParseInt(*revisionFlag, 10, 64); err != nil || revision < 0 || *patch || get {
			return usagef("--revision: give a non-negative integer, for a POST (not with --patch or get)")
		}
	}
	stats, err := statValues(fs.Args(), *patch)
	if err != nil {
		return err
	}
	tok, err := devkey.Mint(xbl.Caller{XUID: x, UserHash: "xblctl", TitleID: *title, Sandbox: *sandbox, Gamertag: *gamertag}, time.Hour)
	if err != nil {
		return err
	}
	url := strings.TrimSuffix(*api, "/") + "/stats/users/" + x.String() + "/scids/" + *scid
	call := func(method string, payload []byte) (*http.Response, []byte, error) {
		resp, out, err := callAPI(method, url, tok, "4", payload, nil)
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(os.Stdout, "%s %s: %d %s\n", method, resp.Request.URL.Path, resp.StatusCode, out)
		if resp.StatusCode >= 300 {
			return nil, nil, answered("the "+method, resp.StatusCode)
		}
		return resp, out, nil
	}
	switch {
	case get:
		_, _, err := call(http.MethodGet, nil)
		return err
	case *patch:
		_, _, err := call(http.MethodPatch, writeBody(stats, -1, ""))
		return err
	}
	// A POST: the stored revision says which revision replaces the document.
	resp, out, err := callAPI(http.MethodGet, url, tok, "4", nil, nil)
	if err != nil {
		return err
	}
	var stored struct {
		Revision int64 `json:"revision"`
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if err := json.Unmarshal(out, &stored); err != nil {
			return fmt.Errorf("GET %s: %v", resp.Request.URL.Path, err)
		}
	case http.StatusNotFound: // no document yet
	default:
		fmt.Fprintf(os.Stdout, "GET %s: %d %s\n", resp.Request.URL.Path, resp.StatusCode, out)
		return answered("the GET of the stored document", resp.StatusCode)
	}
	if revision < 0 {
		revision = stored.Revision + 1
		fmt.Fprintf(os.Stdout, "revision %d (the stored document's plus one)\n", revision)
	} else if revision <= stored.Revision && resp.StatusCode == http.StatusOK {
		fmt.Fprintf(os.Stdout, "revision %d is not newer than the stored document's (%d): the service keeps the stored document, and answers 200 as XSAPI expects\n", revision, stored.Revision)
	}
	if *timestamp == "" {
		*timestamp = time.Now().UTC().Format(store.TimeLayout)
	}
	_, _, err = call(http.MethodPost, writeBody(stats, revision, *timestamp))
	return err
}

// statValues reads NAME=VALUE arguments as the stats of a write body. A
// VALUE that is a JSON number is sent as written, so that the service types
// it as it would XSAPI's (an integer an Integer, 1.5 or 3.0 a Double); a
// JSON string ("70", quoted) is that string; null (with patch) deletes the
// stat; anything else is sent as a string.
func statValues(args []string, patch bool) (map[string]any, error) {
	out := map[string]any{}
	seen := map[string]string{} // by xbl.StatKey: names one statistic as the service sees them
	for _, kv := range args {
		name, v, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, usagef("%q is not NAME=VALUE", kv)
		}
		if first, dup := seen[xbl.StatKey(name)]; dup {
			return nil, usagef("%s is given twice (as %s and %s: stat names are one statistic in any letter case)", name, first, name)
		}
		seen[xbl.StatKey(name)] = name
		var s string
		switch {
		case v == "null" && patch:
			out[name] = nil
		case json.Valid([]byte(v)) && strings.ContainsAny(v[:1], "-0123456789"):
			out[name] = map[string]any{"value": json.Number(v)}
		case strings.HasPrefix(v, `"`) && json.Unmarshal([]byte(v), &s) == nil:
			out[name] = map[string]any{"value": s}
		default:
			out[name] = map[string]any{"value": v}
		}
	}
	return out, nil
}

// writeBody is the body XSAPI sends: a PATCH's stats alone (revision < 0),
// or a POST's whole document with its revision and timestamp.
func writeBody(stats map[string]any, revision int64, timestamp string) []byte {
	body := map[string]any{"stats": map[string]any{"title": stats}}
	if revision >= 0 {
		body["$schema"] = "http://stats.xboxlive.com/2017-1/schema#"
		body["previousRevision"] = 0
		body["revision"] = revision
		body["timestamp"] = timestamp
	}
	b, _ := json.Marshal(body)
	return b
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
		if refused(err) {
			return nil, nil, notRunning(fmt.Sprintf("%s %s: the local API at %s://%s", method, req.URL, req.URL.Scheme, req.URL.Host), startAPI, err)
		}
		return nil, nil, fmt.Errorf("%s %s: %w", method, req.URL, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out, nil
}

package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/pkg/xbl"
)

// runLeaderboard reads a leaderboard through the local API as XSAPI
// does (GET /scids/{scid}/leaderboards/stat({name}), contract 4.1).
func runLeaderboard(args []string) error {
	fs := newFlags("leaderboard")
	api := fs.String("api", "http://127.0.0.1:"+envOr("PORT", "3000"), "the local API's base URL (env PORT sets the port)")
	scid := fs.String("scid", "", "the service configuration (required)")
	stat := fs.String("stat", "", "the ranked statistic (required)")
	maxItems := fs.Int("max", 0, "rows per page (maxItems; 0: the service's default, 10)")
	rank := fs.Uint("rank", 0, "start at this rank (skipToRank)")
	user := fs.String("user", "", "the page around this player (skipToUser)")
	token := fs.String("token", "", "the next page after the one that gave this continuation token")
	xuid := fs.String("xuid", "2533274792693551", "the caller")
	title := fs.String("title", "1297287135", "the caller's title id")
	sandbox := fs.String("sandbox", "RETAIL", "the sandbox")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *scid == "" || *stat == "" || fs.NArg() > 0 {
		return usagef("give --scid and --stat, and no other arguments")
	}
	x, err := xbl.ParseXUID(*xuid)
	if err != nil {
		return usagef("--xuid: %v", err)
	}
	q := url.Values{}
	if *maxItems != 0 {
		q.Set("maxItems", strconv.Itoa(*maxItems))
	}
	if *rank != 0 {
		q.Set("skipToRank", strconv.FormatUint(uint64(*rank), 10))
	}
	if *user != "" {
		q.Set("skipToUser", *user)
	}
	if *token != "" {
		q.Set("continuationToken", *token)
	}
	tok, err := devkey.Mint(xbl.Caller{XUID: x, UserHash: "xblctl", TitleID: *title, Sandbox: *sandbox}, time.Hour)
	if err != nil {
		return err
	}
	target := strings.TrimSuffix(*api, "/") + "/scids/" + url.PathEscape(*scid) + "/leaderboards/stat(" + url.PathEscape(*stat) + ")"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	resp, out, err := callAPI(http.MethodGet, target, tok, "4.1", nil, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stdout, "GET %s: %d\n%s\n", resp.Request.URL.RequestURI(), resp.StatusCode, out)
	if resp.StatusCode >= 300 {
		return answered("the GET", resp.StatusCode)
	}
	return nil
}

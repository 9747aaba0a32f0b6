package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/pkg/xbl"
)

func runToken(args []string) error {
	fs := newFlags("token")
	xuid := fs.String("xuid", "", "caller's xuid (required)")
	uhs := fs.String("uhs", "", "caller's userhash, repeated in the header (required)")
	title := fs.String("title", "", "title id (required)")
	sandbox := fs.String("sandbox", "", "sandbox, such as RETAIL or XDKS.1 (required)")
	device := fs.String("device", "", "device id")
	gamertag := fs.String("gamertag", "", "gamertag")
	server := fs.Bool("server", false, "grant server-level access")
	ttl := fs.Duration("ttl", time.Hour, "validity; negative mints an already expired token")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	var missing []string
	for _, f := range []struct{ name, val string }{{"--xuid", *xuid}, {"--uhs", *uhs}, {"--title", *title}, {"--sandbox", *sandbox}} {
		if f.val == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return usagef("missing %s", strings.Join(missing, ", "))
	}
	x, err := xbl.ParseXUID(*xuid)
	if err != nil {
		return usagef("--xuid: %v", err)
	}
	if _, err := strconv.ParseUint(*title, 10, 32); err != nil {
		return usagef("--title %q is not a title id (a decimal number, such as 1297287135)", *title)
	}
	if strings.ContainsAny(*uhs, ";= ") {
		return usagef("--uhs must not contain ';', '=' or spaces")
	}
	header, err := devkey.Mint(xbl.Caller{XUID: x, UserHash: *uhs, TitleID: *title, Sandbox: *sandbox,
		DeviceID: *device, Gamertag: *gamertag, Server: *server}, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stdout, header)
	return nil
}

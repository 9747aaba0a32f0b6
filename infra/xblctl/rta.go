package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/pkg/rta"
	"github.com/xblread/xblread/pkg/xbl"
)

// rtaTimeFormat stamps each line `xblctl rta watch` prints: RFC 3339
// with milliseconds.
const rtaTimeFormat = "2006-01-02T15:04:05.000Z07:00"

// runRTA runs `xblctl rta watch`: a player's real-time activity
// connection, as XSAPI opens it (subprotocol rta.xboxlive.com.V2, the
// player's XBL3.0 token), subscribed to the multiplayer resource; it
// prints the connection id a session write names and every message the
// service sends, until Ctrl-C or --for.
func runRTA(args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		args = []string{"watch", "--help"}
	}
	args = verbByName(args, "watch")
	if len(args) == 0 || args[0] != "watch" {
		return usagef("give watch (xblctl rta watch [flags])")
	}
	fs := newFlags("rta")
	api := fs.String("api", "http://127.0.0.1:"+envOr("PORT", "3000"), "the local API's base URL (env PORT sets the port): the WebSocket is its /connect; a ws:// or wss:// URL is used as it is")
	xuid := fs.String("xuid", "2533274792693551", "the player who connects")
	title := fs.String("title", "1297287135", "the player's title id")
	sandbox := fs.String("sandbox", "RETAIL", "the sandbox")
	subscribe := fs.Bool("subscribe", true, "subscribe to the multiplayer resource ("+rta.ConnectionsResource+"), which names the connection and brings its shoulder taps (false: connect only)")
	watchFor := fs.Duration("for", 0, "stop after this long, such as 30s (0: until Ctrl-C)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *watchFor < 0 {
		return usagef("--for must not be negative")
	}
	x, err := xbl.ParseXUID(*xuid)
	if err != nil {
		return usagef("--xuid: %v", err)
	}
	target, err := rtaURL(*api)
	if err != nil {
		return err
	}
	tok, err := devkey.Mint(xbl.Caller{XUID: x, UserHash: "xblctl", TitleID: *title, Sandbox: *sandbox}, time.Hour)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if *watchFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *watchFor)
		defer cancel()
	}
	return watchRTA(ctx, os.Stdout, target, tok, *subscribe)
}

// rtaURL is the WebSocket URL of the API at base: its /connect.
func rtaURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return "", usagef("--api: %q is not a URL such as http://127.0.0.1:3000", base)
	}
	switch u.Scheme {
	case "ws", "wss":
		return u.String(), nil
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", usagef("--api: %q is not an http, https, ws or wss URL", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/connect"
	u.RawPath = ""
	return u.String(), nil
}

// watchRTA connects to target with tok, subscribes when asked, and
// prints to w what it hears until ctx ends (nil then) or the service
// closes the connection (an error).
func watchRTA(ctx context.Context, w io.Writer, target, tok string, subscribe bool) error {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, resp, err := websocket.Dial(dctx, target, &websocket.DialOptions{
		Subprotocols: []string{rta.Subprotocol},
		HTTPHeader:   http.Header{"Authorization": {tok}},
	})
	cancel()
	if err != nil {
		if resp != nil {
			var body []byte
			if resp.Body != nil {
				body, _ = io.ReadAll(resp.Body)
			}
			fmt.Fprintf(w, "GET %s: %d\n%s\n", target, resp.StatusCode, body)
			return fmt.Errorf("the connect was refused: %d", resp.StatusCode)
		}
		if ctx.Err() != nil {
			return nil // stopped while connecting
		}
		if refused(err) {
			return notRunning("connect "+target+": the local API", startAPI, err)
		}
		return fmt.Errorf("connect %s: %w", target, err)
	}
	defer c.CloseNow()
	if got := c.Subprotocol(); got != rta.Subprotocol {
		c.Close(websocket.StatusProtocolError, "")
		return fmt.Errorf("connect %s: the service chose subprotocol %q, not %s", target, got, rta.Subprotocol)
	}

	// The reader hands on each message; its end is the connection's.
	msgs := make(chan []byte, 64)
	var readErr error
	go func() {
		defer close(msgs)
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				readErr = err
				return
			}
			msgs <- b
		}
	}()
	stamp := func() string { return time.Now().Format(rtaTimeFormat) }
	show := func(b []byte) {
		fmt.Fprintf(w, "%s %s\n", stamp(), b)
		for _, tap := range taps(b) {
			fmt.Fprintf(w, "%s tap %s changeNumber %d\n", stamp(), tap.Resource, tap.ChangeNumber)
		}
	}
	closed := func() error {
		status, reason := websocket.CloseStatus(readErr), ""
		var ce websocket.CloseError
		if errors.As(readErr, &ce) {
			reason = ce.Reason
		}
		if status == -1 {
			return fmt.Errorf("the connection ended: %v", readErr)
		}
		return fmt.Errorf("the service closed the connection: %d %s", status, reason)
	}
	stopped := func() error {
		c.Close(websocket.StatusNormalClosure, "")
		return nil
	}

	if !subscribe {
		fmt.Fprintf(w, "connected to %s, not subscribed: no connection id, no taps\n", target)
	} else {
		const seq = 1
		frame, _ := json.Marshal([]any{rta.Subscribe, seq, rta.ConnectionsResource})
		if err := c.Write(ctx, websocket.MessageText, frame); err != nil {
			if ctx.Err() != nil {
				return stopped()
			}
			return fmt.Errorf("subscribe: %w", err)
		}
		answered := time.After(10 * time.Second)
		for id := ""; id == ""; {
			select {
			case <-ctx.Done():
				return stopped()
			case <-answered:
				return fmt.Errorf("no answer to the subscribe within 10s")
			case b, ok := <-msgs:
				if !ok {
					return closed()
				}
				code, connID, isAnswer := subscribeAnswer(b, seq)
				if !isAnswer {
					show(b)
					continue
				}
				if code != rta.Success || connID == "" {
					show(b)
					return fmt.Errorf("the subscribe answered code %d", code)
				}
				id = connID
				fmt.Fprintf(w, "connection %s: put it in members.me.properties.system.connection\n", id)
				show(b)
			}
		}
	}
	for {
		select {
		case <-ctx.Done():
			return stopped()
		case b, ok := <-msgs:
			if !ok {
				return closed()
			}
			show(b)
		}
	}
}

// subscribeAnswer reads b as the answer [1, seq, code, subId, data] to
// the subscribe seq: its code and, on success, data's ConnectionId.
func subscribeAnswer(b []byte, seq int64) (code int, connID string, ok bool) {
	var a []json.RawMessage
	if json.Unmarshal(b, &a) != nil || len(a) != 5 {
		return 0, "", false
	}
	var typ, s int64
	if json.Unmarshal(a[0], &typ) != nil || typ != rta.Subscribe || json.Unmarshal(a[1], &s) != nil || s != seq ||
		json.Unmarshal(a[2], &code) != nil {
		return 0, "", false
	}
	var data struct{ ConnectionId string }
	json.Unmarshal(a[4], &data)
	return code, data.ConnectionId, true
}

// taps are the shoulder taps of b when it is an event [3, subId, data]
// whose data are taps.
func taps(b []byte) []rta.ShoulderTap {
	var a []json.RawMessage
	var typ int64
	var t rta.Taps
	if json.Unmarshal(b, &a) != nil || len(a) != 3 || json.Unmarshal(a[0], &typ) != nil || typ != rta.Event ||
		json.Unmarshal(a[2], &t) != nil {
		return nil
	}
	return t.ShoulderTaps
}

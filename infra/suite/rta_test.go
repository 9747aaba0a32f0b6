package suite

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/infra/devstack"
	"github.com/xblread/xblread/infra/loader"
	"github.com/xblread/xblread/pkg/rta"
	"github.com/xblread/xblread/pkg/xbl"
)

// rtaStack serves the local API with the WebSocket API beside it, on a
// table with its stream (the notifier reads it), and returns its address.
func rtaStack(t *testing.T) string {
	t.Helper()
	ddbtest.Require(t)
	tb := ddbtest.StreamTable(t)
	ds := &xbl.Dataset{Configs: []xbl.ServiceConfig{{SCID: scidA, TitleIDs: []string{titleA}, Sandboxes: []string{"RETAIL"}}}}
	if _, err := loader.Load(context.Background(), tb, ds, nil); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(devstack.RTAEndpointEnv, "http://"+l.Addr().String())
	os.Setenv("RATE_LIMITS", "off")
	t.Cleanup(func() { os.Unsetenv("RATE_LIMITS") })
	srv, err := devstack.NewServer(context.Background(), "", tb.Name, ddbtest.Endpoint(t), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: devstack.WithWebSocket(srv, io.Discard)}
	go hs.Serve(l)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return l.Addr().String()
}

// rtaClient is one player's RTA connection.
type rtaClient struct {
	t    *testing.T
	c    *websocket.Conn
	msgs chan string
}

func dialRTA(t *testing.T, addr, tok string) (*rtaClient, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws://"+addr+"/connect", &websocket.DialOptions{
		Subprotocols: []string{rta.Subprotocol},
		HTTPHeader:   http.Header{"Authorization": {tok}},
	})
	if err != nil {
		return nil, resp, err
	}
	rc := &rtaClient{t: t, c: c, msgs: make(chan string, 64)}
	go func() {
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				close(rc.msgs)
				return
			}
			rc.msgs <- string(b)
		}
	}()
	t.Cleanup(func() { c.Close(websocket.StatusNormalClosure, "") })
	return rc, resp, nil
}

func (rc *rtaClient) send(msg string) {
	rc.t.Helper()
	if err := rc.c.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
		rc.t.Fatal(err)
	}
}

// next is the next message, "" after wait.
func (rc *rtaClient) next(wait time.Duration) string {
	select {
	case m := <-rc.msgs:
		return m
	case <-time.After(wait):
		return ""
	}
}

// subscribe subscribes to the multiplayer resource and returns the
// connection id.
func (rc *rtaClient) subscribe() string {
	rc.t.Helper()
	rc.send(`[1,1,"` + rta.ConnectionsResource + `"]`)
	var a []json.RawMessage
	if m := rc.next(5 * time.Second); json.Unmarshal([]byte(m), &a) != nil || len(a) != 5 || string(a[2]) != "0" {
		rc.t.Fatalf("subscribe answer %q", m)
	} else {
		var data struct{ ConnectionId string }
		json.Unmarshal(a[4], &data)
		return data.ConnectionId
	}
	return ""
}

// TestRealTimeActivity walks Multiplayer Manager's flow over the local
// WebSocket API and the notifier on DynamoDB Local's stream: connects
// without a token or the subprotocol are refused at the upgrade; the host
// connects, subscribes, creates its lobby with its connection id and
// posts its activity; a friend connects, finds the activity and joins by
// handle; the host is tapped with the lobby's new change number (within
// a second) and reads both members; a stranger's subscribed connection
// hears nothing; when the friend's connection closes it becomes inactive
// (the host hears of it), and active again when it comes back; after
// unsubscribing the host hears nothing more.
func TestRealTimeActivity(t *testing.T) {
	addr := rtaStack(t)
	base := "http://" + addr
	host := token(t, xbl.Caller{XUID: 7401, TitleID: titleA, Sandbox: "RETAIL"})
	friend := token(t, xbl.Caller{XUID: 7402, TitleID: titleA, Sandbox: "RETAIL"})
	stranger := token(t, xbl.Caller{XUID: 7403, TitleID: titleA, Sandbox: "RETAIL"})

	if _, resp, err := dialRTA(t, addr, ""); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Errorf("a connect without a token: %v %v", resp, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_, resp, err := websocket.Dial(ctx, "ws://"+addr+"/connect", &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {host}}})
	cancel()
	if err == nil || resp == nil || resp.StatusCode != 400 {
		t.Errorf("a connect without the subprotocol: %v %v", resp, err)
	}

	hc, _, err := dialRTA(t, addr, host)
	if err != nil {
		t.Fatal(err)
	}
	hostConn := hc.subscribe()
	sc, _, err := dialRTA(t, addr, stranger)
	if err != nil {
		t.Fatal(err)
	}
	strangerConn := sc.subscribe()
	member := func(xuid, conn string) string {
		return `{"constants":{"system":{"xuid":"` + xuid + `","initialize":true}},"properties":{"system":{"active":true,"connection":"` + conn +
			`","subscription":{"id":"5a1f0000-0000-4000-8000-00000000` + xuid[len(xuid)-4:] + `","changeTypes":["everything"]}}}}`
	}
	call := func(what, tok, method, path, body string, want int) string {
		t.Helper()
		code, _, out := sessionCall(t, base, tok, method, path, body)
		if code != want {
			t.Fatalf("%s: %d %.300s, want %d", what, code, out, want)
		}
		return out
	}
	call("host creates", host, "PUT", sessionPath("rta-1"), `{"members":{"me":`+member("7401", hostConn)+`}}`, 201)
	// The create taps the host itself (initialization, members).
	if m := hc.next(3 * time.Second); !strings.Contains(m, `"changeNumber":1`) {
		t.Fatalf("the host's tap of its create: %q", m)
	}
	call("host's activity", host, "POST", "/handles", `{"type":"activity","version":1,"sessionRef":{"scid":"`+scidA+`","templateName":"lobby","name":"rta-1"}}`, 201)
	fc, _, err := dialRTA(t, addr, friend)
	if err != nil {
		t.Fatal(err)
	}
	friendConn := fc.subscribe()
	out := call("friend queries", friend, "POST", "/handles/query?include=relatedInfo,customProperties", `{"type":"activity","scid":"`+scidA+`","owners":{"xuids":["7401"]}}`, 200)
	var q struct{ Results []struct{ ID string } }
	if json.Unmarshal([]byte(out), &q); len(q.Results) != 1 {
		t.Fatalf("query: %s", out)
	}
	joined := time.Now()
	call("friend joins by handle", friend, "PUT", "/handles/"+q.Results[0].ID+"/session", `{"members":{"me":`+member("7402", friendConn)+`}}`, 200)
	m := hc.next(3 * time.Second)
	took := time.Since(joined)
	var ev []json.RawMessage
	var taps rta.Taps
	if json.Unmarshal([]byte(m), &ev) != nil || len(ev) != 3 || string(ev[0]) != "3" || json.Unmarshal(ev[2], &taps) != nil ||
		len(taps.ShoulderTaps) != 1 || taps.ShoulderTaps[0].Resource != scidA+"~lobby~rta-1" || taps.ShoulderTaps[0].ChangeNumber != 2 {
		t.Fatalf("the host's tap of the join: %q", m)
	}
	t.Logf("the host heard of the join %s after the friend's PUT answered", took.Round(time.Millisecond))
	if took > time.Second {
		t.Errorf("the tap took %s (the goal is under 1 s)", took)
	}
	if got := call("host reads", host, "GET", sessionPath("rta-1"), "", 200); strings.Count(got, `"deviceToken"`) != 2 {
		t.Errorf("the host reads %s", got)
	}
	if m := sc.next(500 * time.Millisecond); m != "" {
		t.Errorf("the stranger heard %q", m)
	}
	// Presence: the friend's connection closes; it becomes inactive, and
	// the host hears of it.
	fc.c.Close(websocket.StatusNormalClosure, "bye")
	if m := hc.next(3 * time.Second); !strings.Contains(m, `"changeNumber":3`) {
		t.Fatalf("the host's tap of the friend's disconnect: %q", m)
	}
	var doc struct {
		Members map[string]struct {
			Constants  struct{ System struct{ XUID string } }
			Properties struct{ System struct{ Active bool } }
		}
	}
	json.Unmarshal([]byte(call("host reads", host, "GET", sessionPath("rta-1"), "", 200)), &doc)
	for _, m := range doc.Members {
		if m.Constants.System.XUID == "7402" && m.Properties.System.Active {
			t.Errorf("the friend is still active after its connection closed")
		}
	}
	// Back, with a new connection: active again.
	fc, _, err = dialRTA(t, addr, friend)
	if err != nil {
		t.Fatal(err)
	}
	friendConn = fc.subscribe()
	call("friend is back", friend, "PUT", sessionPath("rta-1"), `{"members":{"me":`+member("7402", friendConn)+`}}`, 200)
	if m := hc.next(3 * time.Second); !strings.Contains(m, `"changeNumber":4`) {
		t.Fatalf("the host's tap of the friend's return: %q", m)
	}
	// Unsubscribed, the host hears no more.
	hc.send(`[2,9,1]`)
	if m := hc.next(3 * time.Second); m != `[2,9,0]` {
		t.Fatalf("unsubscribe answer %q", m)
	}
	call("friend changes a property", friend, "PUT", sessionPath("rta-1"), `{"properties":{"custom":{"ready":true}}}`, 200)
	for m := fc.next(3 * time.Second); ; m = fc.next(3 * time.Second) {
		if m == "" {
			t.Fatalf("the friend heard no tap of its property change (change 5)")
		}
		if strings.Contains(m, `"changeNumber":5`) {
			break
		}
	}
	if m := hc.next(700 * time.Millisecond); m != "" {
		t.Errorf("the unsubscribed host heard %q", m)
	}
	_ = strangerConn
}

package wsapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"
)

// fakeFunction is the WebSocket function: it records every event and
// answers $connect with connect (200 when nil) and $default with an echo
// ("boom" fails the invocation).
type fakeFunction struct {
	connect func(ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error)
	// message, when set, runs first for each $default event.
	message func(ev events.APIGatewayWebsocketProxyRequest)

	mu     sync.Mutex
	events []events.APIGatewayWebsocketProxyRequest
}

func (f *fakeFunction) invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var ev events.APIGatewayWebsocketProxyRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.events = append(f.events, ev)
	f.mu.Unlock()
	var resp events.APIGatewayProxyResponse
	switch ev.RequestContext.RouteKey {
	case "$connect":
		if f.connect != nil {
			var err error
			if resp, err = f.connect(ev); err != nil {
				return nil, err
			}
		} else {
			resp.StatusCode = 200
		}
	case "$default":
		if f.message != nil {
			f.message(ev)
		}
		if ev.Body == "boom" {
			return nil, errors.New("function failed")
		}
		resp = events.APIGatewayProxyResponse{StatusCode: 200, Body: "echo:" + ev.Body}
	case "$disconnect":
		resp.StatusCode = 200
	}
	return json.Marshal(resp)
}

// routed returns the events of routeKey received so far.
func (f *fakeFunction) routed(routeKey string) []events.APIGatewayWebsocketProxyRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []events.APIGatewayWebsocketProxyRequest
	for _, ev := range f.events {
		if ev.RequestContext.RouteKey == routeKey {
			out = append(out, ev)
		}
	}
	return out
}

// waitRouted waits until n events of routeKey have been received.
func (f *fakeFunction) waitRouted(t *testing.T, routeKey string, n int) []events.APIGatewayWebsocketProxyRequest {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs := f.routed(routeKey)
		if len(evs) >= n {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s events, want %d", len(evs), routeKey, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type stack struct {
	fn  *fakeFunction
	srv *Server
	ts  *httptest.Server
	log *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func newStack(t *testing.T, fn *fakeFunction) *stack {
	t.Helper()
	st := &stack{fn: fn, log: &syncBuffer{}}
	st.srv = New(fn.invoke, st.log)
	st.ts = httptest.NewServer(st.srv)
	t.Cleanup(func() {
		st.srv.Close()
		st.ts.Close()
		if t.Failed() {
			st.log.mu.Lock()
			t.Logf("log:\n%s", st.log.b.String())
			st.log.mu.Unlock()
		}
	})
	return st
}

func (st *stack) dial(t *testing.T, query string, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx(t), "ws"+strings.TrimPrefix(st.ts.URL, "http")+"/connect"+query, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// management sends a management API request for connection id.
func (st *stack) management(t *testing.T, method, id, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), method, st.ts.URL+"/@connections/"+url.PathEscape(id), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := st.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

func read(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	typ, b, err := c.Read(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("message type %v", typ)
	}
	return string(b)
}

// readClose reads until the connection closes and returns its close code.
func readClose(t *testing.T, c *websocket.Conn) websocket.StatusCode {
	t.Helper()
	for {
		_, b, err := c.Read(ctx(t))
		if err != nil {
			return websocket.CloseStatus(err)
		}
		t.Logf("message before close: %q", b)
	}
}

func write(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	if err := c.Write(ctx(t), websocket.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

func TestConnectRefused(t *testing.T) {
	fn := &fakeFunction{connect: func(events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{
			StatusCode: 401,
			Headers:    map[string]string{"Content-Type": "application/json"},
			Body:       `{"message":"Unauthorized"}`,
		}, nil
	}}
	st := newStack(t, fn)
	_, resp, err := websocket.Dial(ctx(t), "ws"+strings.TrimPrefix(st.ts.URL, "http")+"/connect", nil)
	if err == nil {
		t.Fatal("connected")
	}
	if resp == nil || resp.StatusCode != 401 {
		t.Fatalf("response %v, error %v", resp, err)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != `{"message":"Unauthorized"}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("body %q, content type %q", b, resp.Header.Get("Content-Type"))
	}
	if n := st.srv.Connections(); n != 0 {
		t.Errorf("%d connections", n)
	}
	st.srv.Close()
	if evs := fn.routed("$disconnect"); len(evs) != 0 {
		t.Errorf("$disconnect for a refused connection: %+v", evs)
	}
}

func TestConnectFunctionError(t *testing.T) {
	fn := &fakeFunction{connect: func(events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{}, errors.New("function failed")
	}}
	st := newStack(t, fn)
	_, resp, err := websocket.Dial(ctx(t), "ws"+strings.TrimPrefix(st.ts.URL, "http")+"/connect", nil)
	if err == nil {
		t.Fatal("connected")
	}
	if resp == nil || resp.StatusCode != 500 {
		t.Fatalf("response %v, error %v", resp, err)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != `{"message":"Internal Server Error"}` {
		t.Errorf("body %q", b)
	}
}

func TestNotAnUpgrade(t *testing.T) {
	st := newStack(t, &fakeFunction{})
	resp, err := st.ts.Client().Get(st.ts.URL + "/connect")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("status %d", resp.StatusCode)
	}
	if evs := st.fn.routed("$connect"); len(evs) != 0 {
		t.Errorf("$connect invoked: %+v", evs)
	}
}

func TestSubprotocolMessagesAndEvents(t *testing.T) {
	const proto = "rta.xboxlive.com.V2"
	fn := &fakeFunction{connect: func(ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{
			StatusCode: 200,
			Headers:    map[string]string{"Sec-WebSocket-Protocol": ev.Headers["Sec-WebSocket-Protocol"]},
		}, nil
	}}
	st := newStack(t, fn)
	c := st.dial(t, "?a=1&b=x%20y&a=2", &websocket.DialOptions{
		Subprotocols: []string{proto},
		HTTPHeader:   http.Header{"Authorization": {"XBL3.0 x=1;token"}, "User-Agent": {"test-client"}},
	})
	if got := c.Subprotocol(); got != proto {
		t.Errorf("subprotocol %q", got)
	}
	if n := st.srv.Connections(); n != 1 {
		t.Errorf("%d connections", n)
	}

	write(t, c, "hello")
	if got := read(t, c); got != "echo:hello" {
		t.Errorf("reply %q", got)
	}
	write(t, c, "second")
	if got := read(t, c); got != "echo:second" {
		t.Errorf("reply %q", got)
	}
	write(t, c, "boom")
	var failure struct{ Message, ConnectionID, RequestID string }
	if err := json.Unmarshal([]byte(read(t, c)), &failure); err != nil || failure.Message != "Internal server error" {
		t.Errorf("failure reply %+v, %v", failure, err)
	}

	connect := fn.routed("$connect")[0]
	rc := connect.RequestContext
	id := rc.ConnectionID
	if rc.EventType != "CONNECT" || rc.Stage != "local" || rc.APIID != "local" || rc.MessageDirection != "IN" {
		t.Errorf("$connect request context %+v", rc)
	}
	if rc.DomainName != strings.TrimPrefix(st.ts.URL, "http://") {
		t.Errorf("domain name %q", rc.DomainName)
	}
	if rc.Identity.SourceIP != "127.0.0.1" || rc.Identity.UserAgent != "test-client" {
		t.Errorf("identity %+v", rc.Identity)
	}
	if rc.RequestID == "" || rc.ConnectedAt == 0 || rc.RequestTimeEpoch < rc.ConnectedAt || rc.RequestTime == "" {
		t.Errorf("request context %+v", rc)
	}
	if b, err := base64.StdEncoding.DecodeString(id); err != nil || len(id) != 16 || len(b) != 11 {
		t.Errorf("connection id %q", id)
	}
	h := connect.Headers
	if h["Authorization"] != "XBL3.0 x=1;token" || h["Sec-WebSocket-Protocol"] != proto || h["Sec-WebSocket-Key"] == "" ||
		h["Host"] != rc.DomainName || h["X-Forwarded-For"] != "127.0.0.1" || h["X-Forwarded-Proto"] != "http" {
		t.Errorf("headers %v", h)
	}
	if _, ok := h["Connection"]; ok {
		t.Errorf("hop-by-hop header passed: %v", h)
	}
	if got := connect.MultiValueHeaders["Authorization"]; len(got) != 1 || got[0] != "XBL3.0 x=1;token" {
		t.Errorf("multi-value headers %v", connect.MultiValueHeaders)
	}
	if q := connect.QueryStringParameters; q["a"] != "2" || q["b"] != "x y" {
		t.Errorf("query %v", q)
	}
	if q := connect.MultiValueQueryStringParameters; len(q["a"]) != 2 || q["a"][0] != "1" {
		t.Errorf("multi-value query %v", q)
	}

	msgs := fn.routed("$default")
	if len(msgs) != 3 || msgs[0].Body != "hello" || msgs[1].Body != "second" {
		t.Fatalf("$default events %+v", msgs)
	}
	if failure.ConnectionID != id || failure.RequestID != msgs[2].RequestContext.RequestID {
		t.Errorf("failure reply %+v", failure)
	}
	for _, m := range msgs {
		mc := m.RequestContext
		if mc.ConnectionID != id || mc.EventType != "MESSAGE" || mc.MessageID == nil || mc.ConnectedAt != rc.ConnectedAt ||
			mc.RequestID == rc.RequestID || mc.Identity != rc.Identity {
			t.Errorf("$default request context %+v", mc)
		}
	}
	if msgs[0].RequestContext.MessageID == msgs[1].RequestContext.MessageID {
		t.Error("message ids repeat")
	}

	if err := c.Close(websocket.StatusGoingAway, "tab closed"); err != nil {
		t.Fatal(err)
	}
	disc := fn.waitRouted(t, "$disconnect", 1)[0].RequestContext
	if disc.ConnectionID != id || disc.EventType != "DISCONNECT" || disc.DisconnectStatusCode != 1001 ||
		disc.DisconnectReason == nil || *disc.DisconnectReason != "tab closed" {
		t.Errorf("$disconnect request context %+v", disc)
	}
	st.srv.Close()
	if n := len(fn.routed("$disconnect")); n != 1 {
		t.Errorf("%d $disconnect events", n)
	}
	if n := st.srv.Connections(); n != 0 {
		t.Errorf("%d connections", n)
	}
}

// A subprotocol the client did not offer reaches the client as the
// function answered it (API Gateway passes it on); the client then hangs
// up, and the function hears of it. (A raw handshake: coder/websocket's
// Dial lingers 3 s over a refused handshake.)
func TestSubprotocolNotOffered(t *testing.T) {
	fn := &fakeFunction{connect: func(events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{"sec-websocket-protocol": "other"}}, nil
	}}
	st := newStack(t, fn)
	nc, err := net.Dial("tcp", st.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(nc, "GET /connect HTTP/1.1\r\nHost: "+st.ts.Listener.Addr().String()+"\r\n"+
		"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: rta.xboxlive.com.V2\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Protocol") != "other" {
		t.Errorf("handshake answer %d %v", resp.StatusCode, resp.Header)
	}
	nc.Close()
	if d := fn.waitRouted(t, "$disconnect", 1)[0]; d.RequestContext.DisconnectStatusCode != 1006 {
		t.Errorf("$disconnect %+v", d.RequestContext)
	}
}

func TestManagementAPI(t *testing.T) {
	fn := &fakeFunction{}
	st := newStack(t, fn)
	c := st.dial(t, "", nil)
	id := fn.waitRouted(t, "$connect", 1)[0].RequestContext.ConnectionID

	status, _, body := st.management(t, http.MethodPost, id, `{"sub":1}`)
	if status != 200 || body != "" {
		t.Fatalf("POST: %d %q", status, body)
	}
	if got := read(t, c); got != `{"sub":1}` {
		t.Errorf("message %q", got)
	}

	status, _, body = st.management(t, http.MethodGet, id, "")
	var info struct {
		ConnectedAt, LastActiveAt string
		Identity                  struct{ SourceIP string }
	}
	if status != 200 || json.Unmarshal([]byte(body), &info) != nil || info.Identity.SourceIP != "127.0.0.1" {
		t.Fatalf("GET: %d %q", status, body)
	}
	for _, s := range []string{info.ConnectedAt, info.LastActiveAt} {
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil || !strings.HasSuffix(s, "Z") {
			t.Errorf("time %q: %v", s, err)
		}
	}

	// The stage-prefixed path and an encoded "@", as an SDK client whose
	// endpoint is http://{domainName}/{stage} may send them.
	req, _ := http.NewRequest(http.MethodPost, st.ts.URL+"/local/%40connections/"+url.PathEscape(id), strings.NewReader("via stage"))
	resp, err := st.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("POST with stage: %d", resp.StatusCode)
	}
	if got := read(t, c); got != "via stage" {
		t.Errorf("message %q", got)
	}

	status, _, body = st.management(t, http.MethodPost, id, strings.Repeat("x", MaxMessageBytes+1))
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("large POST: %d %q", status, body)
	}

	status, _, body = st.management(t, http.MethodDelete, id, "")
	if status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %q", status, body)
	}
	if code := readClose(t, c); code != websocket.StatusNormalClosure {
		t.Errorf("close code %v", code)
	}
	d := fn.waitRouted(t, "$disconnect", 1)[0].RequestContext
	if d.ConnectionID != id || d.DisconnectStatusCode != 1000 {
		t.Errorf("$disconnect %+v", d)
	}

	for _, tc := range []struct{ method, id string }{
		{http.MethodPost, id}, {http.MethodGet, id}, {http.MethodDelete, id},
		{http.MethodPost, "AAAAAAAAAAAAAAA="}, {http.MethodGet, "AAAAAAAAAAAAAAA="}, {http.MethodDelete, "AAAAAAAAAAAAAAA="},
	} {
		status, h, body := st.management(t, tc.method, tc.id, "x")
		if status != http.StatusGone || body != `{"message":"Gone"}` || h.Get("X-Amzn-ErrorType") != "GoneException" {
			t.Errorf("%s %s: %d %q %v", tc.method, tc.id, status, body, h)
		}
	}

	st.srv.Close()
	if n := len(fn.routed("$disconnect")); n != 1 {
		t.Errorf("%d $disconnect events", n)
	}
}

// The function posts to, and deletes, its own connection while its
// $default invocation runs, as a handler does with the management API.
func TestManagementFromInvocation(t *testing.T) {
	fn := &fakeFunction{}
	st := newStack(t, fn)
	fn.message = func(ev events.APIGatewayWebsocketProxyRequest) {
		id := ev.RequestContext.ConnectionID
		switch ev.Body {
		case "push":
			if status, _, body := st.management(t, http.MethodPost, id, "pushed"); status != 200 {
				t.Errorf("POST: %d %q", status, body)
			}
		case "kick":
			if status, _, body := st.management(t, http.MethodDelete, id, ""); status != 204 {
				t.Errorf("DELETE: %d %q", status, body)
			}
		}
	}
	c := st.dial(t, "", nil)
	write(t, c, "push")
	if a, b := read(t, c), read(t, c); a != "pushed" || b != "echo:push" {
		t.Errorf("messages %q, %q", a, b)
	}
	write(t, c, "kick")
	if code := readClose(t, c); code != websocket.StatusNormalClosure {
		t.Errorf("close code %v", code)
	}
	if d := fn.waitRouted(t, "$disconnect", 1)[0]; d.RequestContext.DisconnectStatusCode != 1000 ||
		*d.RequestContext.DisconnectReason != "Connection Closed Normally" {
		t.Errorf("$disconnect %+v", d.RequestContext)
	}
}

func TestConcurrentPosts(t *testing.T) {
	fn := &fakeFunction{}
	st := newStack(t, fn)
	c := st.dial(t, "", nil)
	id := fn.waitRouted(t, "$connect", 1)[0].RequestContext.ConnectionID

	const posts = 20
	var wg sync.WaitGroup
	for i := range posts {
		wg.Go(func() {
			if status, _, body := st.management(t, http.MethodPost, id, strings.Repeat("p", 1000+i)); status != 200 {
				t.Errorf("POST: %d %q", status, body)
			}
		})
	}
	write(t, c, "ping")
	got := map[string]int{}
	for range posts + 1 {
		m := read(t, c)
		got[m[:4]]++
	}
	wg.Wait()
	if got["pppp"] != posts || got["echo"] != 1 {
		t.Errorf("messages %v", got)
	}
}

func TestConnectionIDsAndClose(t *testing.T) {
	fn := &fakeFunction{}
	st := newStack(t, fn)
	var conns []*websocket.Conn
	closed := make(chan websocket.StatusCode, 3)
	for range 3 {
		c := st.dial(t, "", nil)
		conns = append(conns, c)
		go func() {
			for {
				if _, _, err := c.Read(context.Background()); err != nil {
					closed <- websocket.CloseStatus(err)
					return
				}
			}
		}()
	}
	for _, c := range conns[:2] {
		write(t, c, "m")
	}
	fn.waitRouted(t, "$default", 2)
	evs := fn.waitRouted(t, "$connect", 3)
	ids := map[string]bool{}
	for _, ev := range evs {
		ids[ev.RequestContext.ConnectionID] = true
	}
	if len(ids) != 3 {
		t.Errorf("connection ids %v", ids)
	}
	if n := st.srv.Connections(); n != 3 {
		t.Errorf("%d connections", n)
	}

	start := time.Now()
	st.srv.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	for range 3 {
		if code := <-closed; code != websocket.StatusGoingAway {
			t.Errorf("close code %v", code)
		}
	}
	disc := fn.routed("$disconnect")
	if len(disc) != 3 {
		t.Fatalf("%d $disconnect events", len(disc))
	}
	for _, d := range disc {
		if !ids[d.RequestContext.ConnectionID] || d.RequestContext.DisconnectStatusCode != 1001 {
			t.Errorf("$disconnect %+v", d.RequestContext)
		}
		delete(ids, d.RequestContext.ConnectionID)
	}
	for _, m := range fn.routed("$default") {
		if m.RequestContext.ConnectionID == "" {
			t.Errorf("$default %+v", m.RequestContext)
		}
	}
	if n := st.srv.Connections(); n != 0 {
		t.Errorf("%d connections", n)
	}
	// After Close, upgrades are refused.
	_, resp, err := websocket.Dial(ctx(t), "ws"+strings.TrimPrefix(st.ts.URL, "http")+"/connect", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after Close: %v %v", resp, err)
	}
}

func TestBinaryAndTooBig(t *testing.T) {
	fn := &fakeFunction{}
	st := newStack(t, fn)

	c := st.dial(t, "", nil)
	if err := c.Write(ctx(t), websocket.MessageBinary, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	if code := readClose(t, c); code != websocket.StatusUnsupportedData {
		t.Errorf("binary: close code %v", code)
	}
	if d := fn.waitRouted(t, "$disconnect", 1)[0]; d.RequestContext.DisconnectStatusCode != 1003 {
		t.Errorf("$disconnect %+v", d.RequestContext)
	}

	c = st.dial(t, "", nil)
	c.SetReadLimit(-1)
	write(t, c, strings.Repeat("a", MaxMessageBytes))
	if got := read(t, c); len(got) != len("echo:")+MaxMessageBytes {
		t.Errorf("reply of %d bytes", len(got))
	}
	write(t, c, strings.Repeat("a", MaxMessageBytes+1))
	if code := readClose(t, c); code != websocket.StatusMessageTooBig {
		t.Errorf("too big: close code %v", code)
	}
	if d := fn.waitRouted(t, "$disconnect", 2)[1]; d.RequestContext.DisconnectStatusCode != 1009 {
		t.Errorf("$disconnect %+v", d.RequestContext)
	}
	if n := len(fn.routed("$default")); n != 1 {
		t.Errorf("%d $default events", n)
	}
}

func TestConnectionDrops(t *testing.T) {
	fn := &fakeFunction{}
	st := newStack(t, fn)
	c := st.dial(t, "", nil)
	c.CloseNow() // no close frame
	d := fn.waitRouted(t, "$disconnect", 1)[0].RequestContext
	if d.DisconnectStatusCode != 1006 {
		t.Errorf("$disconnect %+v", d)
	}
	st.srv.Close()
	if n := len(fn.routed("$disconnect")); n != 1 {
		t.Errorf("%d $disconnect events", n)
	}
}

func TestConnectionID(t *testing.T) {
	for _, tc := range []struct {
		path, id string
		ok       bool
	}{
		{"/@connections/abc%3D", "abc=", true},
		{"/%40connections/a%2Fb%2Bc%3D", "a/b+c=", true},
		{"/local/@connections/a+b=", "a+b=", true},
		{"/@connections/a/b=", "a/b=", true},
		{"/@connections/", "", false},
		{"/@connections", "", false},
		{"/prod/@connections/x", "", false},
		{"/connections/x", "", false},
	} {
		id, ok := connectionID(tc.path)
		if id != tc.id || ok != tc.ok {
			t.Errorf("connectionID(%q) = %q, %v", tc.path, id, ok)
		}
	}
}

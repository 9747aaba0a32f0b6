package rtaapi

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/rta"
	"github.com/xblread/xblread/pkg/store/memstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// sockets records what the handler posts and closes.
type sockets struct {
	posted map[string][]string
	closed []string
}

func (s *sockets) Post(_ context.Context, id string, msg []byte) error {
	s.posted[id] = append(s.posted[id], string(msg))
	return nil
}

func (s *sockets) Close(_ context.Context, id string) error {
	s.closed = append(s.closed, id)
	return nil
}

func event(route, id, body string, headers map[string]string) events.APIGatewayWebsocketProxyRequest {
	return events.APIGatewayWebsocketProxyRequest{
		RequestContext: events.APIGatewayWebsocketProxyRequestContext{RouteKey: route, ConnectionID: id},
		Headers:        headers, Body: body,
	}
}

// TestWebSocketRoutes: $connect needs the subprotocol (400), a valid
// token (401) of a player (403 for a server) and agrees the subprotocol;
// $default answers each frame as the route's response; a malformed frame
// or a frame on a connection that ended is told why and closed;
// $disconnect forgets the connection.
func TestWebSocketRoutes(t *testing.T) {
	st := memstore.New()
	ws := &sockets{posted: map[string][]string{}}
	h := &Handler{Svc: &rta.Service{Store: st}, Verifier: testkit.Verifier(t), Closer: ws, Poster: ws, Log: testkit.Discard()}
	ctx := context.Background()
	player := testkit.Token(t, xbl.Caller{XUID: 1001, UserHash: "u", TitleID: "1297287135", Sandbox: "RETAIL"})
	server := testkit.Token(t, xbl.Caller{UserHash: "u", TitleID: "1297287135", Sandbox: "RETAIL", Server: true})
	for _, tt := range []struct {
		name    string
		headers map[string]string
		status  int
		msg     string
	}{
		{"no subprotocol", map[string]string{"Authorization": player}, 400, "subprotocol rta.xboxlive.com.V2"},
		{"another subprotocol", map[string]string{"Authorization": player, "Sec-WebSocket-Protocol": "chat"}, 400, "subprotocol"},
		{"no token", map[string]string{"Sec-WebSocket-Protocol": rta.Subprotocol}, 401, "unauthorized"},
		{"a forged token", map[string]string{"Authorization": player + "x", "Sec-WebSocket-Protocol": rta.Subprotocol}, 401, "unauthorized"},
		{"a server", map[string]string{"Authorization": server, "sec-websocket-protocol": rta.Subprotocol}, 403, "a player's"},
	} {
		resp, err := h.Handle(ctx, event("$connect", "c-"+tt.name, "", tt.headers))
		if err != nil || resp.StatusCode != tt.status || !strings.Contains(resp.Body, tt.msg) {
			t.Errorf("%s: %d %q %v, want %d with %q", tt.name, resp.StatusCode, resp.Body, err, tt.status, tt.msg)
		}
	}
	resp, err := h.Handle(ctx, event("$connect", "c1", "", map[string]string{"authorization": player, "Sec-WebSocket-Protocol": "chat, " + rta.Subprotocol}))
	if err != nil || resp.StatusCode != 200 || resp.Headers["Sec-WebSocket-Protocol"] != rta.Subprotocol {
		t.Fatalf("connect: %+v %v", resp, err)
	}
	resp, _ = h.Handle(ctx, event("$default", "c1", `[1,1,"`+rta.ConnectionsResource+`"]`, nil))
	if resp.StatusCode != 200 || resp.Body != `[1,1,0,1,{"ConnectionId":"c1"}]` {
		t.Errorf("subscribe: %+v", resp)
	}
	resp, _ = h.Handle(ctx, event("$default", "c1", `{"not":"rta"}`, nil))
	if resp.Body != "" || len(ws.closed) != 1 || ws.closed[0] != "c1" || !strings.Contains(ws.posted["c1"][0], "closing: a message must be a JSON array") {
		t.Errorf("a malformed frame: %+v, closed %v, told %v", resp, ws.closed, ws.posted)
	}
	// The connection is forgotten: a frame on it is told so and closed.
	resp, _ = h.Handle(ctx, event("$default", "c1", `[1,2,"`+rta.ConnectionsResource+`"]`, nil))
	if resp.Body != "" || len(ws.closed) != 2 || !strings.Contains(ws.posted["c1"][1], "the connection ended") {
		t.Errorf("a frame on a closed connection: %+v, told %v", resp, ws.posted["c1"])
	}
	h.Handle(ctx, event("$connect", "c2", "", map[string]string{"Authorization": player, "Sec-WebSocket-Protocol": rta.Subprotocol}))
	if resp, _ := h.Handle(ctx, event("$disconnect", "c2", "", nil)); resp.StatusCode != 200 {
		t.Errorf("disconnect: %+v", resp)
	}
	if cs, _ := st.Connections(ctx, []string{"c2"}); len(cs) != 0 {
		t.Errorf("a disconnected connection is kept: %+v", cs)
	}
}

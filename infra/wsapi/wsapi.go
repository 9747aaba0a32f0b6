// Package wsapi is the local stand-in for API Gateway's WebSocket API
// with the routes $connect, $disconnect and $default, each integrated
// with one Lambda function (a proxy integration), and for its
// connection management endpoint (@connections).
//
// A client connects with a WebSocket upgrade to /connect. The function
// is invoked with the $connect event before the upgrade is accepted,
// with a $default event for each text message (one at a time for each
// connection, in order), and with the $disconnect event once the
// connection is gone, whichever side closed it. What the function
// answers a $default event with (the body of its response) goes back to
// the client as one text message, as a route response with the route
// response selection expression $default does.
//
// The function (or anything else) reaches a connection through
// /@connections/{connectionId}, what the management endpoint
// https://{domainName}/{stage}/@connections/{connectionId} serves: POST
// sends the request body as one text message, DELETE closes the
// connection, GET describes it. The stand-in checks no signature.
package wsapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"

	"github.com/xblread/xblread/infra/localapi"
)

// MaxMessageBytes is API Gateway's limit on a WebSocket message (128 KB);
// a client that sends a larger one is disconnected with 1009 (message too
// big), and a larger @connections POST is refused 413. API Gateway also
// limits each frame to 32 KB, which the stand-in does not enforce: the
// WebSocket library hands it whole messages only.
const MaxMessageBytes = 128 << 10

// Fixed values of the local API, in every event's request context.
const (
	// apiID is the API's id (its part of the execute-api host name).
	apiID = "local"
	// stage is the stage name. WebSocket APIs have no $default stage
	// (that is the HTTP API's): every stage has a name, and functions
	// build the management endpoint as https://{domainName}/{stage}.
	stage = "local"
	// connectPath is where clients connect.
	connectPath = "/connect"
	// connectionsSegment is the management API's first path segment.
	connectionsSegment = "@connections"
	timeLayout         = "02/Jan/2006:15:04:05 -0700"
	// isoLayout is the management API's timestamp format.
	isoLayout = "2006-01-02T15:04:05.000Z"
)

// writeTimeout bounds one message written to a client: a client that
// reads nothing for that long is disconnected (1006).
const writeTimeout = 10 * time.Second

// Close codes and reasons the stand-in closes connections with, and
// reports in $disconnect events.
const (
	reasonDeleted   = "Connection Closed Normally" // what API Gateway reports for a DeleteConnection
	reasonGoingAway = "Going away"
	reasonBinary    = "Binary frames are not supported"
	reasonTooBig    = "Message too big"
)

// Server is the local WebSocket API: an http.Handler for /connect and
// /@connections/{connectionId}.
type Server struct {
	invoke func(ctx context.Context, payload []byte) ([]byte, error)
	log    *slog.Logger

	mu     sync.Mutex
	conns  map[string]*conn
	closed bool
	// wg counts the connections being served, from their upgrade
	// request to their $disconnect.
	wg sync.WaitGroup
}

// New returns a Server that invokes the WebSocket function through invoke:
// invoke runs the function with an API Gateway WebSocket event
// (events.APIGatewayWebsocketProxyRequest as JSON) and returns its
// response (events.APIGatewayProxyResponse as JSON), or an error when
// the function failed or could not be run. It is called from many
// goroutines at once (one connection's events are invoked one at a
// time). log receives one line per invocation and per management
// request; nil discards them.
func New(invoke func(ctx context.Context, payload []byte) ([]byte, error), log io.Writer) *Server {
	if log == nil {
		log = io.Discard
	}
	return &Server{
		invoke: invoke,
		log:    slog.New(slog.NewTextHandler(log, nil)),
		conns:  map[string]*conn{},
	}
}

// conn is one accepted connection.
type conn struct {
	id string
	// ready is closed once the upgrade is done, ws set (nil when it
	// failed).
	ready       chan struct{}
	ws          *websocket.Conn
	connectedAt time.Time
	domainName  string
	identity    events.APIGatewayRequestIdentity

	// writeMu serializes the messages written to the client: the route
	// responses of the read loop and the management API's posts.
	writeMu sync.Mutex

	mu           sync.Mutex
	lastActiveAt time.Time
	// closeCode and closeReason are set when the stand-in closed the
	// connection (DELETE, Close, a refused message), for $disconnect.
	closeCode   websocket.StatusCode
	closeReason string
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	if path == connectPath {
		s.serveConnect(w, r)
		return
	}
	if id, ok := connectionID(path); ok {
		s.serveManagement(w, r, id)
		return
	}
	localapi.GatewayError(w, http.StatusNotFound, "", "Not Found")
}

// connectionID returns the connection id of a management API path:
// /@connections/{id}, or /{stage}/@connections/{id} as a client whose
// endpoint is https://{domainName}/{stage} sends it. The "@" may come
// percent-encoded, and the id is percent-decoded (the SDKs encode its
// "/", "+" and "=").
func connectionID(escapedPath string) (string, bool) {
	p := strings.TrimPrefix(escapedPath, "/"+stage)
	seg, rest, ok := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if !ok || !strings.HasPrefix(p, "/") {
		return "", false
	}
	if s, err := url.PathUnescape(seg); err != nil || s != connectionsSegment {
		return "", false
	}
	id, err := url.PathUnescape(rest)
	if err != nil || id == "" {
		return "", false
	}
	return id, true
}

// isUpgrade reports whether r asks for a WebSocket upgrade.
func isUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet &&
		headerHasToken(r.Header, "Connection", "upgrade") &&
		headerHasToken(r.Header, "Upgrade", "websocket") &&
		r.Header.Get("Sec-WebSocket-Key") != ""
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// serveConnect runs one connection: $connect, the upgrade, its messages,
// and $disconnect.
func (s *Server) serveConnect(w http.ResponseWriter, r *http.Request) {
	if !isUpgrade(r) {
		localapi.GatewayError(w, http.StatusUpgradeRequired, "", "Upgrade Required")
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		localapi.GatewayError(w, http.StatusServiceUnavailable, "", "Service Unavailable")
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	now := time.Now()
	c := &conn{
		id:           newID(),
		ready:        make(chan struct{}),
		connectedAt:  now,
		lastActiveAt: now,
		domainName:   domainName(r),
		identity: events.APIGatewayRequestIdentity{
			SourceIP:  localapi.ClientIP(r),
			UserAgent: r.UserAgent(),
		},
	}
	ev := c.event("$connect", "CONNECT", now)
	ev.Headers, ev.MultiValueHeaders = connectHeaders(r, c.identity.SourceIP)
	ev.QueryStringParameters, ev.MultiValueQueryStringParameters = queryParams(r.URL.RawQuery)

	// API Gateway goes on with an invocation whose client went away.
	resp, err := s.call(context.WithoutCancel(r.Context()), c, &ev)
	if err != nil {
		localapi.GatewayError(w, http.StatusInternalServerError, "", "Internal Server Error")
		return
	}
	status := resp.StatusCode
	if status == 0 {
		// A function that answers no status code (a bare
		// APIGatewayProxyResponse{}, or null) has succeeded.
		status = http.StatusOK
	}
	if status < 200 || status > 299 {
		if err := refuse(w, status, resp); err != nil {
			s.log.Error("bad $connect response", "connectionId", c.id, "error", err.Error())
			localapi.GatewayError(w, http.StatusInternalServerError, "", "Internal Server Error")
		}
		return
	}

	// The function accepts a subprotocol by answering it in
	// Sec-WebSocket-Protocol, which API Gateway hands the client as it
	// is: a client that did not offer it fails the handshake.
	if proto := responseHeader(resp, "Sec-WebSocket-Protocol"); proto != "" {
		if !offered(r, proto) {
			s.log.Warn("$connect answered a subprotocol the client did not offer",
				"connectionId", c.id, "subprotocol", proto, "offered", r.Header.Values("Sec-WebSocket-Protocol"))
		}
		w.Header().Set("Sec-WebSocket-Protocol", proto)
	}
	// The connection is known before the client sees the handshake's
	// answer, so a client that is connected can be posted to at once;
	// the management API waits for ready.
	s.mu.Lock()
	closing := s.closed
	s.conns[c.id] = c
	s.mu.Unlock()
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// API Gateway checks no Origin.
		InsecureSkipVerify: true,
		// Nor does it negotiate permessage-deflate.
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		close(c.ready) // with no ws
		s.remove(c)
		// $connect succeeded: the function may have recorded the
		// connection, so it hears of its end.
		s.log.Error("upgrade failed", "connectionId", c.id, "error", err.Error())
		s.disconnect(c, websocket.StatusAbnormalClosure, "")
		return
	}
	ws.SetReadLimit(MaxMessageBytes)
	c.ws = ws
	close(c.ready)
	if closing { // Close ran during $connect
		go c.close(websocket.StatusGoingAway, reasonGoingAway)
	}

	code, reason := s.readLoop(c)
	s.remove(c)
	s.disconnect(c, code, reason)
	ws.CloseNow() // waits for a close handshake under way
}

// readLoop invokes $default for each message of c until c ends, and
// returns the close code and reason for $disconnect.
func (s *Server) readLoop(c *conn) (websocket.StatusCode, string) {
	ctx := context.Background()
	for {
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			return c.closeStatus(err)
		}
		if typ != websocket.MessageText {
			// API Gateway takes no binary frames from clients.
			c.close(websocket.StatusUnsupportedData, reasonBinary)
			return c.closeStatus(err)
		}
		now := time.Now()
		c.touch(now)
		ev := c.event("$default", "MESSAGE", now)
		ev.RequestContext.MessageID = newID()
		ev.Body = string(data)
		resp, err := s.call(ctx, c, &ev)
		var reply string
		switch {
		case err != nil:
			// What API Gateway sends a client whose message's
			// integration failed.
			reply = fmt.Sprintf(`{"message": "Internal server error", "connectionId":"%s", "requestId":"%s"}`,
				c.id, ev.RequestContext.RequestID)
		case resp.Body != "":
			reply = resp.Body
		default:
			continue
		}
		if err := c.send([]byte(reply)); err != nil {
			s.log.Warn("route response not sent", "connectionId", c.id, "error", err.Error())
		}
	}
}

// closeStatus is the close code and reason of a connection whose read
// ended with err: the stand-in's own when it closed the connection, else
// the client's close frame's, 1009 for a message over the limit, or 1006
// for a connection that dropped.
func (c *conn) closeStatus(err error) (websocket.StatusCode, string) {
	c.mu.Lock()
	code, reason := c.closeCode, c.closeReason
	c.mu.Unlock()
	if code != 0 {
		return code, reason
	}
	if errors.Is(err, websocket.ErrMessageTooBig) {
		// The library has sent the 1009 close frame; finish the
		// handshake.
		c.close(websocket.StatusMessageTooBig, reasonTooBig)
		return websocket.StatusMessageTooBig, reasonTooBig
	}
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Reason
	}
	return websocket.StatusAbnormalClosure, ""
}

// close closes c with code and reason, unless it is closing already, and
// waits for the close handshake (at most about 10 s for a client that
// does not answer).
func (c *conn) close(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	if c.closeCode != 0 {
		c.mu.Unlock()
		return
	}
	c.closeCode, c.closeReason = code, reason
	c.mu.Unlock()
	if <-c.ready; c.ws != nil {
		c.ws.Close(code, reason)
	}
}

// send writes msg to the client as one text message.
func (c *conn) send(msg []byte) error {
	if <-c.ready; c.ws == nil {
		return net.ErrClosed
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, msg); err != nil {
		return err
	}
	c.touch(time.Now())
	return nil
}

func (c *conn) touch(t time.Time) {
	c.mu.Lock()
	c.lastActiveAt = t
	c.mu.Unlock()
}

// remove forgets c: the management API answers 410 for it from then on.
func (s *Server) remove(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns[c.id] != c {
		return false
	}
	delete(s.conns, c.id)
	return true
}

func (s *Server) lookup(id string) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[id]
}

// disconnect invokes $disconnect for c; API Gateway ignores the answer.
func (s *Server) disconnect(c *conn, code websocket.StatusCode, reason string) {
	now := time.Now()
	ev := c.event("$disconnect", "DISCONNECT", now)
	// What API Gateway passes a $disconnect: these headers, all but Host
	// empty.
	ev.Headers = map[string]string{"Host": c.domainName, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
	ev.MultiValueHeaders = map[string][]string{}
	for k, v := range ev.Headers {
		ev.MultiValueHeaders[k] = []string{v}
	}
	ev.RequestContext.DisconnectStatusCode = int64(code)
	ev.RequestContext.DisconnectReason = &reason
	s.call(context.Background(), c, &ev)
}

// event returns the event of routeKey for c with its request context.
func (c *conn) event(routeKey, eventType string, now time.Time) events.APIGatewayWebsocketProxyRequest {
	requestID := newID()
	return events.APIGatewayWebsocketProxyRequest{
		RequestContext: events.APIGatewayWebsocketProxyRequestContext{
			RouteKey:          routeKey,
			EventType:         eventType,
			ExtendedRequestID: requestID,
			RequestTime:       now.UTC().Format(timeLayout),
			MessageDirection:  "IN",
			Stage:             stage,
			ConnectedAt:       c.connectedAt.UnixMilli(),
			RequestTimeEpoch:  now.UnixMilli(),
			Identity:          c.identity,
			RequestID:         requestID,
			DomainName:        c.domainName,
			ConnectionID:      c.id,
			APIID:             apiID,
		},
	}
}

// call invokes the function with ev and decodes its response. An error is
// the function's failure, or a response that is not a proxy response.
func (s *Server) call(ctx context.Context, c *conn, ev *events.APIGatewayWebsocketProxyRequest) (*events.APIGatewayProxyResponse, error) {
	rc := &ev.RequestContext
	start := time.Now()
	resp, err := s.invokeEvent(ctx, ev)
	attrs := []any{
		"routeKey", rc.RouteKey, "connectionId", c.id, "requestId", rc.RequestID,
		"integrationLatencyMs", time.Since(start).Milliseconds(),
	}
	if rc.RouteKey == "$disconnect" {
		attrs = append(attrs, "disconnectStatusCode", rc.DisconnectStatusCode)
	}
	if err != nil {
		s.log.Error("invoke failed", append(attrs, "error", err.Error())...)
		return nil, err
	}
	s.log.Info("invoke", append(attrs, "status", resp.StatusCode)...)
	return resp, nil
}

func (s *Server) invokeEvent(ctx context.Context, ev *events.APIGatewayWebsocketProxyRequest) (*events.APIGatewayProxyResponse, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("marshal event: %w", err)
	}
	out, err := s.invoke(ctx, payload)
	if err != nil {
		return nil, err
	}
	var resp events.APIGatewayProxyResponse
	if len(out) > 0 {
		if err := json.Unmarshal(out, &resp); err != nil {
			return nil, fmt.Errorf("response is not a proxy response: %w", err)
		}
	}
	return &resp, nil
}

// refuse answers a refused upgrade with the $connect response, as the
// local API writes any function's response.
func refuse(w http.ResponseWriter, status int, resp *events.APIGatewayProxyResponse) error {
	return localapi.WriteResponse(w, &events.APIGatewayV2HTTPResponse{
		StatusCode: status, Body: resp.Body, IsBase64Encoded: resp.IsBase64Encoded,
		Headers: resp.Headers, MultiValueHeaders: resp.MultiValueHeaders,
	})
}

// responseHeader returns header name of resp, whatever its case.
func responseHeader(resp *events.APIGatewayProxyResponse, name string) string {
	for k, vs := range resp.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// offered reports whether the client offered subprotocol proto.
func offered(r *http.Request, proto string) bool {
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(p) == proto {
				return true
			}
		}
	}
	return false
}

// serveManagement serves the management API for connection id.
func (s *Server) serveManagement(w http.ResponseWriter, r *http.Request, id string) {
	status := 0
	defer func() {
		s.log.Info("@connections", "method", r.Method, "connectionId", id, "status", status)
	}()
	if r.Method != http.MethodPost && r.Method != http.MethodGet && r.Method != http.MethodDelete {
		status = http.StatusMethodNotAllowed
		localapi.GatewayError(w, status, "", "Method Not Allowed")
		return
	}
	var body []byte
	if r.Method == http.MethodPost {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, MaxMessageBytes+1))
		if err != nil {
			status = http.StatusBadRequest
			localapi.GatewayError(w, status, "BadRequestException", "Bad Request")
			return
		}
		if len(body) > MaxMessageBytes {
			status = http.StatusRequestEntityTooLarge
			localapi.GatewayError(w, status, "PayloadTooLargeException", "Message too long")
			return
		}
	}
	c := s.lookup(id)
	if c == nil {
		status = http.StatusGone
		localapi.GatewayError(w, status, "GoneException", "Gone")
		return
	}
	switch r.Method {
	case http.MethodPost:
		if err := c.send(body); err != nil {
			status = http.StatusGone
			localapi.GatewayError(w, status, "GoneException", "Gone")
			return
		}
		status = http.StatusOK
		w.WriteHeader(status)
	case http.MethodDelete:
		if !s.remove(c) {
			status = http.StatusGone
			localapi.GatewayError(w, status, "GoneException", "Gone")
			return
		}
		// The close handshake goes on after the answer; $disconnect
		// follows it.
		go c.close(websocket.StatusNormalClosure, reasonDeleted)
		status = http.StatusNoContent
		w.WriteHeader(status)
	case http.MethodGet:
		c.mu.Lock()
		last := c.lastActiveAt
		c.mu.Unlock()
		info := connectionInfo{
			ConnectedAt:  c.connectedAt.UTC().Format(isoLayout),
			LastActiveAt: last.UTC().Format(isoLayout),
		}
		info.Identity.SourceIP = c.identity.SourceIP
		info.Identity.UserAgent = c.identity.UserAgent
		b, _ := json.Marshal(info)
		status = http.StatusOK
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(b)
	}
}

// connectionInfo is the management API's GetConnection answer.
type connectionInfo struct {
	ConnectedAt string `json:"connectedAt"`
	Identity    struct {
		SourceIP  string `json:"sourceIp"`
		UserAgent string `json:"userAgent"`
	} `json:"identity"`
	LastActiveAt string `json:"lastActiveAt"`
}

// Connections returns the number of open connections.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Close closes every connection with 1001 (going away) and waits until
// each one's $disconnect has been invoked, as well as those of the
// connections whose $connect was under way. Upgrades after Close are
// answered 503. Call it when the local stack stops: http.Server's
// Shutdown does not wait for hijacked connections.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		go c.close(websocket.StatusGoingAway, reasonGoingAway)
	}
	s.wg.Wait()
}

// connectHeaders returns the $connect event's headers: the request's, by
// the names as received (net/http hands them canonicalized: the
// Sec-WebSocket-* ones get API Gateway's spelling back), less the
// hop-by-hop ones, with Host and the X-Forwarded-* headers API Gateway
// adds. A repeated header's last value is in headers, all of them in
// multiValueHeaders.
func connectHeaders(r *http.Request, sourceIP string) (map[string]string, map[string][]string) {
	multi := map[string][]string{}
	for name, vals := range r.Header {
		switch name {
		case "Connection", "Upgrade", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Proxy-Connection":
			continue
		}
		if rest, ok := strings.CutPrefix(name, "Sec-Websocket-"); ok {
			name = "Sec-WebSocket-" + rest
		}
		multi[name] = append([]string(nil), vals...)
	}
	if r.Host != "" {
		multi["Host"] = []string{r.Host}
	}
	xff := sourceIP
	if prev := r.Header.Values("X-Forwarded-For"); len(prev) > 0 {
		xff = strings.Join(prev, ", ") + ", " + sourceIP
	}
	multi["X-Forwarded-For"] = []string{xff}
	proto, port := "http", "80"
	if r.TLS != nil {
		proto, port = "https", "443"
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(a.String()); err == nil {
			port = p
		}
	}
	multi["X-Forwarded-Port"] = []string{port}
	multi["X-Forwarded-Proto"] = []string{proto}
	single := make(map[string]string, len(multi))
	for k, vs := range multi {
		single[k] = vs[len(vs)-1]
	}
	return single, multi
}

// queryParams decodes a raw query string as API Gateway does for its
// payload 1.0 events: values %-decoded ('+' stays a plus), a repeated
// name's last value in the first map, all of them in the second.
func queryParams(raw string) (map[string]string, map[string][]string) {
	if raw == "" {
		return nil, nil
	}
	single, multi := map[string]string{}, map[string][]string{}
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if dk, err := url.PathUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.PathUnescape(v); err == nil {
			v = dv
		}
		single[k] = v
		multi[k] = append(multi[k], v)
	}
	return single, multi
}

// domainName is the event's domainName: the Host the client connected to,
// with its port, so that https://{domainName}/{stage} (how functions
// build the management endpoint) names this server but for its scheme.
func domainName(r *http.Request) string {
	if r.Host == "" {
		return "localhost"
	}
	return r.Host
}

// newID returns an id shaped like API Gateway's connection, message and
// request ids: 16 characters of standard base64 ("L0SM9cOFvHcCIhw="),
// which may hold "+" and "/".
func newID() string {
	var b [11]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// Package rtaapi is the WebSocket edge of real-time activity: the Lambda
// handler of API Gateway's WebSocket API routes $connect (the XBL3.0
// token checked, the subprotocol rta.xboxlive.com.V2 agreed),
// $disconnect and $default (one client frame in, its answer back as the
// route's response), over rta.Service.
package rtaapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/ratelimit"
	"github.com/xblread/xblread/pkg/rta"
	"github.com/xblread/xblread/pkg/sessions"
)

// Closer ends a connection (API Gateway's DELETE /@connections/{id}).
type Closer interface {
	Close(ctx context.Context, id string) error
}

// Handler serves the WebSocket API's routes.
type Handler struct {
	Svc      *rta.Service
	Verifier *auth.Verifier
	// Closer ends a connection whose client broke the protocol; Poster
	// tells it why first (nil: closed without a word).
	Closer Closer
	Poster rta.Poster
	Log    *slog.Logger
}

// Routes are the WebSocket API's route keys, all served by Handle.
var Routes = []string{"$connect", "$disconnect", "$default"}

// ConnectionCloser is what ends a connection and tells it why: API
// Gateway's management API (apigw.Poster), or make run's.
type ConnectionCloser interface {
	Closer
	rta.Poster
}

// New returns the handler of the real-time activity function: conns keeps
// the connections, sessions the sessions (a closed connection makes its
// player inactive in them, written through the queue), lim counts each
// player's messages (nil: no limits), and p ends broken connections.
func New(conns rta.Store, st interface {
	sessions.Store
	sessions.Queue
}, lim *ratelimit.Limiter, v *auth.Verifier, p ConnectionCloser, log *slog.Logger) *Handler {
	svc := &rta.Service{Store: conns, Presence: &sessions.Service{Store: st, Queue: st, Now: time.Now}}
	if lim != nil { // not a typed nil in the interface: no limits
		svc.Limiter = lim
	}
	return &Handler{Svc: svc, Verifier: v, Closer: p, Poster: p, Log: log}
}

// Handle serves one WebSocket event.
func (h *Handler) Handle(ctx context.Context, e events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	id := e.RequestContext.ConnectionID
	switch e.RequestContext.RouteKey {
	case "$connect":
		return h.connect(ctx, e), nil
	case "$disconnect":
		if err := h.Svc.Disconnect(ctx, id); err != nil {
			h.Log.WarnContext(ctx, "disconnect", "connectionId", id, "error", err.Error())
		}
		return events.APIGatewayProxyResponse{StatusCode: http.StatusOK}, nil
	}
	answer, err := h.Svc.Receive(ctx, id, []byte(e.Body))
	var fe *rta.FrameError
	switch {
	case errors.As(err, &fe):
		h.close(ctx, id, "closing: "+fe.Reason)
		return events.APIGatewayProxyResponse{StatusCode: http.StatusOK}, nil
	case derrors.KindOf(err) == derrors.NotFound:
		h.close(ctx, id, "closing: the connection ended (reconnect)")
		return events.APIGatewayProxyResponse{StatusCode: http.StatusOK}, nil
	case err != nil:
		// Storage failed: answer is the frame's "unavailable" (Receive's),
		// never a dropped connection.
		h.Log.ErrorContext(ctx, "rta message", "connectionId", id, "error", err.Error())
	}
	return events.APIGatewayProxyResponse{StatusCode: http.StatusOK, Body: string(answer)}, nil
}

// connect checks the token and the subprotocol and records the
// connection: a refusal is the upgrade's answer (401, 403, 400).
func (h *Handler) connect(ctx context.Context, e events.APIGatewayWebsocketProxyRequest) events.APIGatewayProxyResponse {
	refuse := func(err error) events.APIGatewayProxyResponse {
		p := httpapi.Classify(err)
		h.Log.InfoContext(ctx, "connect refused", "connectionId", e.RequestContext.ConnectionID, "status", p.Status, "error", err.Error())
		return events.APIGatewayProxyResponse{StatusCode: p.Status, Body: p.Message}
	}
	if !offers(header(e, "Sec-WebSocket-Protocol"), rta.Subprotocol) {
		return refuse(derrors.New(derrors.Invalid, "the connection must ask for the subprotocol %s", rta.Subprotocol))
	}
	caller, err := h.Verifier.Verify(header(e, "Authorization"))
	if err != nil {
		return refuse(err)
	}
	if err := h.Svc.Connect(ctx, caller, e.RequestContext.ConnectionID); err != nil {
		return refuse(err)
	}
	h.Log.InfoContext(ctx, "connected", "connectionId", e.RequestContext.ConnectionID, "xuid", caller.XUID.String())
	return events.APIGatewayProxyResponse{StatusCode: http.StatusOK, Headers: map[string]string{"Sec-WebSocket-Protocol": rta.Subprotocol}}
}

// close tells connection id why, then ends it.
func (h *Handler) close(ctx context.Context, id, reason string) {
	if h.Poster != nil {
		h.Poster.Post(ctx, id, []byte(reason))
	}
	if h.Closer != nil {
		if err := h.Closer.Close(ctx, id); err != nil {
			h.Log.WarnContext(ctx, "close", "connectionId", id, "error", err.Error())
		}
	}
	h.Svc.Disconnect(ctx, id)
}

// header is e's header name, in any letter case.
func header(e events.APIGatewayWebsocketProxyRequest, name string) string {
	for k, v := range e.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// offers reports whether a Sec-WebSocket-Protocol list names p.
func offers(list, p string) bool {
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == p {
			return true
		}
	}
	return false
}

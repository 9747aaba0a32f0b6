// Package localapi is the local stand-in for API Gateway's HTTP API: it
// turns each HTTP request into the payload 2.0 event API Gateway would
// send, invokes the function with it (its real bootstrap under the
// emulator through an Invoker, or its Lambda handler in this process
// through lambda.Handler.Invoke), and turns the response event back into
// HTTP. The route table comes from template.yaml.
package localapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/xblread/xblread/infra/samtemplate"
)

// MaxBodyBytes is API Gateway's payload limit.
const MaxBodyBytes = 10 << 20

// Invoker runs a function's invocations elsewhere (rie.Pool: its real
// bootstrap under the emulator). Invoke returns the function's response
// to the event payload, or an error when the function failed (timed out,
// reported an error, exited) or could not be run: API Gateway answers
// any of them with its 500. Invoke enforces the function's timeout
// itself.
type Invoker interface {
	Invoke(ctx context.Context, requestID string, payload []byte) ([]byte, error)
}

// MaxEventBytes is Lambda's limit on a synchronous invocation's event
// (6 MiB); a request whose event is larger is answered 413, as Lambda
// refuses it.
const MaxEventBytes = 6 << 20

// Function is a Lambda function the local API can invoke: through
// Invoker when it is set, else in this process with New.
type Function struct {
	// Invoker, when set, runs the function's invocations; New is unused.
	Invoker Invoker
	// New makes the function's handler (as lambda.NewHandler returns it),
	// one for each warm instance, as each Lambda execution environment has
	// its own: aws-lambda-go's handler answers in a pooled buffer that it
	// has already put back for its next invocation, so one handler shared
	// by concurrent instances could overwrite an answer before it is read.
	New func() lambda.Handler
	// Timeout is the function's timeout; the invocation's context ends then.
	Timeout time.Duration
}

// Server serves a set of routes by invoking Lambda handlers.
type Server struct {
	routes  []route
	fns     map[string]Function
	pools   map[string]*pool // the warm instances of each function
	log     *slog.Logger
	closers []func()
}

// InvokeFunction runs function name (a logical id of fns) with payload,
// as the routes invoke it, outside any HTTP request: what an event source
// (a stream) does.
func (s *Server) InvokeFunction(ctx context.Context, name string, payload []byte) ([]byte, error) {
	fn, ok := s.fns[name]
	if !ok {
		return nil, fmt.Errorf("no function %s", name)
	}
	return s.call(ctx, fn, name, newUUID(), payload)
}

// AddCloser has Close call f first: what runs beside the functions (an
// event source's poller) stops before they do.
func (s *Server) AddCloser(f func()) { s.closers = append(s.closers, f) }

type route struct {
	samtemplate.Route
	segs []string
}

// New returns a Server for routes, invoking fns by the routes' function
// logical ids. Every route's function must be in fns. accessLog receives
// one line per request.
func New(routes []samtemplate.Route, fns map[string]Function, accessLog *slog.Logger) (*Server, error) {
	s := &Server{fns: fns, pools: map[string]*pool{}, log: accessLog}
	for name := range fns {
		s.pools[name] = &pool{}
	}
	for _, r := range routes {
		if fn, ok := fns[r.Function]; !ok || fn.New == nil && fn.Invoker == nil {
			return nil, fmt.Errorf("route %s: no handler for function %s", r.Key(), r.Function)
		}
		if !strings.HasPrefix(r.Path, "/") {
			return nil, fmt.Errorf("route %s: path must start with /", r.Key())
		}
		s.routes = append(s.routes, route{Route: r, segs: strings.Split(r.Path[1:], "/")})
	}
	return s, nil
}

// match finds the route for method and escaped path as API Gateway does:
// literal segments beat {param} segments, which beat a greedy {param+}, and
// a route for the method beats ANY. It returns the route and its path
// parameters (decoded).
func (s *Server) match(method, path string) (*route, map[string]string) {
	if !strings.HasPrefix(path, "/") {
		return nil, nil
	}
	segs := strings.Split(path[1:], "/")
	var best *route
	var bestParams map[string]string
	bestScore := -1
	for i := range s.routes {
		r := &s.routes[i]
		if r.Method != method && r.Method != "ANY" {
			continue
		}
		params, score, ok := r.matches(segs)
		if !ok {
			continue
		}
		if r.Method != "ANY" {
			score++
		}
		if score > bestScore {
			best, bestParams, bestScore = r, params, score
		}
	}
	return best, bestParams
}

func (r *route) matches(segs []string) (map[string]string, int, bool) {
	params := map[string]string{}
	score := 0
	for i, pat := range r.segs {
		if name, ok := strings.CutPrefix(pat, "{"); ok && strings.HasSuffix(pat, "+}") {
			if i >= len(segs) {
				return nil, 0, false
			}
			params[strings.TrimSuffix(name, "+}")] = unescape(strings.Join(segs[i:], "/"))
			return params, score, true
		}
		if pat == "" { // a route with a trailing slash matches only that
			if i >= len(segs) || segs[i] != "" {
				return nil, 0, false
			}
			score += 4
			continue
		}
		if i >= len(segs) || segs[i] == "" {
			return nil, 0, false
		}
		if name, ok := strings.CutPrefix(pat, "{"); ok && strings.HasSuffix(pat, "}") {
			params[strings.TrimSuffix(name, "}")] = unescape(segs[i])
			score += 2
			continue
		}
		if pat != segs[i] {
			return nil, 0, false
		}
		score += 4
	}
	if len(segs) != len(r.segs) {
		return nil, 0, false
	}
	if len(params) == 0 {
		params = nil
	}
	return params, score * 2, true
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// GatewayError writes one of API Gateway's own error responses; errType,
// when set, is the X-Amzn-ErrorType the AWS SDKs tell errors apart by
// (GoneException: the WebSocket management API's 410).
func GatewayError(w http.ResponseWriter, status int, errType, message string) {
	w.Header().Set("Content-Type", "application/json")
	if errType != "" {
		w.Header().Set("X-Amzn-ErrorType", errType)
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q}`, message)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	apigwID := newAPIGatewayID()
	w.Header().Set("Apigw-Requestid", apigwID)
	rec := &statusWriter{ResponseWriter: w}
	routeKey := "-"
	var lambdaID string
	var integration time.Duration
	defer func() {
		s.log.Info("access",
			"requestId", apigwID, "lambdaRequestId", lambdaID, "ip", ClientIP(r),
			"requestTime", start.UTC().Format(timeLayout), "httpMethod", r.Method,
			"routeKey", routeKey, "path", r.URL.EscapedPath(), "protocol", r.Proto,
			"status", rec.status, "responseLength", rec.bytes,
			"integrationLatencyMs", integration.Milliseconds(),
			"responseLatencyMs", time.Since(start).Milliseconds())
	}()

	rt, params := s.match(r.Method, r.URL.EscapedPath())
	if rt == nil {
		GatewayError(rec, http.StatusNotFound, "", "Not Found")
		return
	}
	routeKey = rt.Key()
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		GatewayError(rec, http.StatusBadRequest, "", "Bad Request")
		return
	}
	if len(body) > MaxBodyBytes {
		GatewayError(rec, http.StatusRequestEntityTooLarge, "", "Request Entity Too Large")
		return
	}
	event := NewEvent(r, body, routeKey, params, apigwID, start)
	payload, err := json.Marshal(event)
	if err != nil {
		s.log.Error("marshal event", "requestId", apigwID, "error", err.Error())
		GatewayError(rec, http.StatusInternalServerError, "", "Internal Server Error")
		return
	}
	if len(payload) > MaxEventBytes {
		GatewayError(rec, http.StatusRequestEntityTooLarge, "", "Request Entity Too Large")
		return
	}
	fn := s.fns[rt.Function]
	lambdaID = newUUID()
	t0 := time.Now()
	resp, err := s.invoke(r.Context(), fn, rt.Function, lambdaID, payload)
	integration = time.Since(t0)
	if err != nil {
		s.log.Error("invoke failed", "requestId", apigwID, "lambdaRequestId", lambdaID, "function", rt.Function, "error", err.Error())
		GatewayError(rec, http.StatusInternalServerError, "", "Internal Server Error")
		return
	}
	if err := WriteResponse(rec, resp); err != nil {
		s.log.Error("bad function response", "requestId", apigwID, "function", rt.Function, "error", err.Error())
		GatewayError(rec, http.StatusInternalServerError, "", "Internal Server Error")
	}
}

// errTimeout is a function that ran past its timeout.
var errTimeout = errors.New("task timed out")

// invoke runs one invocation as the Lambda runtime would: a context with
// the function's deadline and a Lambda context, the event as JSON, on a
// warm instance of the function (see instance). An invocation that runs
// past the function's timeout is answered errTimeout, and its instance is
// abandoned, as Lambda ends a timed-out invocation's environment.
func (s *Server) invoke(ctx context.Context, fn Function, name, requestID string, payload []byte) (*events.APIGatewayV2HTTPResponse, error) {
	// A client that goes away does not end an invocation (API Gateway's
	// does not).
	out, err := s.call(context.WithoutCancel(ctx), fn, name, requestID, payload)
	if err != nil {
		return nil, err
	}
	return decodeResponse(name, out)
}

// call runs one invocation of fn and returns its raw response: through
// its Invoker, or on a warm instance in this process with the function's
// deadline, abandoning an instance that runs past it.
func (s *Server) call(ctx context.Context, fn Function, name, requestID string, payload []byte) ([]byte, error) {
	if fn.Invoker != nil {
		out, err := fn.Invoker.Invoke(ctx, requestID, payload)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return out, nil
	}
	ctx, cancel := context.WithTimeout(ctx, fn.Timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       requestID,
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:" + accountID + ":function:" + name,
	})
	in := s.instances(name).get(fn)
	done := make(chan invocation, 1)
	in.jobs <- invocation{ctx: ctx, payload: payload, done: done}
	watchdog := time.NewTimer(fn.Timeout + 100*time.Millisecond)
	defer watchdog.Stop()
	var res invocation
	select {
	case res = <-done:
		s.instances(name).put(in)
	case <-watchdog.C:
		close(in.jobs) // the instance ends when (if ever) its handler returns
		return nil, fmt.Errorf("%s: %w after %s", name, errTimeout, fn.Timeout)
	}
	if res.err != nil {
		return nil, fmt.Errorf("%s: %w", name, res.err)
	}
	return res.out, nil
}

// decodeResponse reads a function's payload 2.0 response.
func decodeResponse(name string, out []byte) (*events.APIGatewayV2HTTPResponse, error) {
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, fmt.Errorf("%s: response is not a payload 2.0 response: %w", name, err)
	}
	return &resp, nil
}

// maxIdleInstances bounds the warm instances kept idle per function.
const maxIdleInstances = 16

// idleInstanceTimeout is how long an idle instance stays warm.
const idleInstanceTimeout = 5 * time.Minute

// instance is a warm execution environment of a function: one long-lived
// goroutine that runs the function's invocations one at a time, as the
// Lambda runtime's loop does in a warm environment. Each invocation thus
// starts on a goroutine whose stack has already grown to the handler's
// depth, rather than on a new goroutine that grows its stack anew (a
// cost a warm Lambda does not pay). The watchdog of invoke stays outside
// the instance: a hung handler holds only its own instance.
type instance struct {
	jobs chan invocation
}

// invocation is one event for an instance, and its answer.
type invocation struct {
	ctx     context.Context
	payload []byte
	done    chan<- invocation
	out     []byte
	err     error
}

// pool is the idle warm instances of one function, the most recently
// used last.
type pool struct {
	mu   sync.Mutex
	idle []*instance
}

func (s *Server) instances(name string) *pool { return s.pools[name] }

// get returns an idle instance, or starts a new one (a cold start) when
// every instance is busy.
func (p *pool) get(fn Function) *instance {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		in := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return in
	}
	p.mu.Unlock()
	in := &instance{jobs: make(chan invocation)}
	go in.run(p, fn.New())
	return in
}

// put returns an instance to the idle ones; beyond maxIdleInstances it
// ends.
func (p *pool) put(in *instance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) >= maxIdleInstances {
		close(in.jobs)
		return
	}
	p.idle = append(p.idle, in)
}

// CloseIdle ends every idle warm instance, as Lambda reclaims idle
// execution environments; busy ones stay. The next request starts a new
// one.
func (s *Server) CloseIdle() {
	for _, fn := range s.fns {
		if c, ok := fn.Invoker.(interface{ CloseIdle() }); ok {
			c.CloseIdle()
		}
	}
	for _, p := range s.pools {
		p.mu.Lock()
		for _, in := range p.idle {
			close(in.jobs)
		}
		p.idle = nil
		p.mu.Unlock()
	}
}

// Close stops every function's instances that an Invoker runs (the
// emulators and their bootstraps), busy ones included, and waits until
// they are gone. Stop serving first.
func (s *Server) Close() {
	for _, f := range s.closers {
		f()
	}
	s.closers = nil
	for _, fn := range s.fns {
		if c, ok := fn.Invoker.(interface{ Close() }); ok {
			c.Close()
		}
	}
}

// retire removes an instance that stayed idle too long, unless an
// invocation took it meanwhile; it reports whether it did.
func (p *pool) retire(in *instance) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := slices.Index(p.idle, in)
	if i < 0 {
		return false
	}
	p.idle = slices.Delete(p.idle, i, i+1)
	return true
}

// run is the instance's loop: each invocation in turn, until its jobs
// close or it stays idle for idleInstanceTimeout.
func (in *instance) run(p *pool, h lambda.Handler) {
	idle := time.NewTimer(idleInstanceTimeout)
	defer idle.Stop()
	for {
		select {
		case job, ok := <-in.jobs:
			if !ok {
				return
			}
			job.out, job.err = h.Invoke(job.ctx, job.payload)
			// The answer is in the handler's pooled buffer, which its
			// next invocation reuses: keep a copy.
			job.out = bytes.Clone(job.out)
			job.done <- job
			idle.Reset(idleInstanceTimeout)
		case <-idle.C:
			if p.retire(in) {
				return
			}
			idle.Reset(idleInstanceTimeout)
		}
	}
}

// WriteResponse writes a function's response event as API Gateway
// answers it: its status, its headers (single and multiple values, and
// cookies) and its body, decoded when it is base64. A status outside
// 100–599 is an error, and nothing is written.
func WriteResponse(w http.ResponseWriter, resp *events.APIGatewayV2HTTPResponse) error {
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return fmt.Errorf("status code %d", resp.StatusCode)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return fmt.Errorf("body is not base64: %w", err)
		}
		body = b
	}
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	w.WriteHeader(resp.StatusCode)
	_, err := w.Write(body)
	return err
}

// ClientIP is the caller's address without its port, as API Gateway's
// sourceIp.
func ClientIP(r *http.Request) string {
	if i := strings.LastIndexByte(r.RemoteAddr, ':'); i > 0 {
		return strings.Trim(r.RemoteAddr[:i], "[]")
	}
	return r.RemoteAddr
}

// newAPIGatewayID returns an id shaped like API Gateway's request ids.
func newAPIGatewayID() string {
	var b [10]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// newUUID returns a random (version 4) UUID, as Lambda request ids are.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:16])
	return string(out[:])
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

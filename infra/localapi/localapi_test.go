package localapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/xblread/xblread/infra/samtemplate"
)

var routes = []samtemplate.Route{
	{Method: "POST", Path: "/batch", Function: "Echo"},
	{Method: "GET", Path: "/users/{user}/scids/{scid}/stats/{names}", Function: "Echo"},
	{Method: "GET", Path: "/files/{proxy+}", Function: "Echo"},
	{Method: "ANY", Path: "/any/{x}", Function: "Echo"},
	{Method: "GET", Path: "/any/fixed", Function: "Other"},
	{Method: "GET", Path: "/slow", Function: "Slow"},
	{Method: "GET", Path: "/broken", Function: "Broken"},
}

// echo returns the event it received as the response body, with the
// request id and time left it saw in headers.
func echo(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	b, _ := json.Marshal(e)
	lc, _ := lambdacontext.FromContext(ctx)
	d, _ := ctx.Deadline()
	return events.APIGatewayV2HTTPResponse{
		StatusCode:        200,
		Headers:           map[string]string{"Content-Type": "application/json", "X-Lambda-Id": lc.AwsRequestID, "X-Left": time.Until(d).String()},
		MultiValueHeaders: map[string][]string{"X-Multi": {"a", "b"}},
		Cookies:           []string{"c=1"},
		Body:              string(b),
	}, nil
}

// handler is Function.New for f.
func handler(f any) func() lambda.Handler {
	return func() lambda.Handler { return lambda.NewHandler(f) }
}

func newServer(t *testing.T) (*httptest.Server, *strings.Builder) {
	t.Helper()
	logs := &strings.Builder{}
	fns := map[string]Function{
		"Echo": {New: handler(echo), Timeout: 10 * time.Second},
		"Other": {New: handler(func() (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{StatusCode: 204}, nil
		}), Timeout: time.Second},
		"Slow": {New: handler(func(ctx context.Context) (events.APIGatewayV2HTTPResponse, error) {
			time.Sleep(2 * time.Second) // ignores its deadline
			return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
		}), Timeout: 200 * time.Millisecond},
		"Broken": {New: handler(func() (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{}, io.ErrUnexpectedEOF
		}), Timeout: time.Second},
	}
	s, err := New(routes, fns, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, logs
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestEventAsAPIGatewayBuildsIt(t *testing.T) {
	srv, logs := newServer(t)
	req, _ := http.NewRequest("GET", srv.URL+"/users/xuid(2533274792693551)/scids/7492BACA-c1b4-440d-a391-b7ef364a8d40/stats/A,B%20C?x=1&x=2&kw=a+b%20c", nil)
	req.Header.Add("X-Thing", "one")
	req.Header.Add("X-Thing", "two")
	req.Header.Set("Authorization", "XBL3.0 x=u;t")
	req.Header.Set("Cookie", "a=1; b=2")
	resp, body := do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var e events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"version", e.Version, "2.0"},
		{"routeKey", e.RouteKey, "GET /users/{user}/scids/{scid}/stats/{names}"},
		{"requestContext.routeKey", e.RequestContext.RouteKey, e.RouteKey},
		{"rawPath", e.RawPath, "/users/xuid(2533274792693551)/scids/7492BACA-c1b4-440d-a391-b7ef364a8d40/stats/A,B C"}, // decoded, as the HTTP API sends it
		{"rawQueryString", e.RawQueryString, "x=1&x=2&kw=a+b%20c"},
		{"queryStringParameters", e.QueryStringParameters, map[string]string{"x": "1,2", "kw": "a+b c"}},
		{"pathParameters", e.PathParameters, map[string]string{"user": "xuid(2533274792693551)", "scid": "7492BACA-c1b4-440d-a391-b7ef364a8d40", "names": "A,B C"}},
		{"repeated header", e.Headers["x-thing"], "one,two"},
		{"authorization", e.Headers["authorization"], "XBL3.0 x=u;t"},
		{"cookies", e.Cookies, []string{"a=1", "b=2"}},
		{"no cookie header", e.Headers["cookie"], ""},
		{"http.method", e.RequestContext.HTTP.Method, "GET"},
		{"http.path", e.RequestContext.HTTP.Path, e.RawPath},
		{"http.sourceIp", e.RequestContext.HTTP.SourceIP, "127.0.0.1"},
		{"stage", e.RequestContext.Stage, "$default"},
		{"body", e.Body, ""},
		{"isBase64Encoded", e.IsBase64Encoded, false},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	for name := range e.Headers {
		if name != strings.ToLower(name) {
			t.Errorf("header %q is not lower-case", name)
		}
	}
	if e.RequestContext.RequestID == "" || e.RequestContext.TimeEpoch == 0 {
		t.Error("requestContext lacks requestId or timeEpoch")
	}
	if resp.Header.Get("X-Lambda-Id") == "" {
		t.Error("handler saw no Lambda request id")
	}
	if left, _ := time.ParseDuration(resp.Header.Get("X-Left")); left <= 0 || left > 10*time.Second {
		t.Errorf("handler's deadline was %v away, want within the 10s timeout", left)
	}
	if got := resp.Header.Values("X-Multi"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("multi-value header = %v", got)
	}
	if got := resp.Header.Get("Set-Cookie"); got != "c=1" {
		t.Errorf("Set-Cookie = %q", got)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(logs.String())), &line); err != nil {
		t.Fatalf("access log is not one JSON line: %q", logs.String())
	}
	if line["routeKey"] != e.RouteKey || line["status"] != float64(200) || line["requestId"] != e.RequestContext.RequestID {
		t.Errorf("access log line = %v", line)
	}
}

func TestEventBody(t *testing.T) {
	srv, _ := newServer(t)
	for _, tt := range []struct {
		name, contentType string
		body              []byte
		base64            bool
	}{
		{"json", "application/json", []byte(`{"requestedusers":["1"]}`), false},
		{"no content type", "", []byte(`{"a":1}`), false},
		{"binary", "application/octet-stream", []byte{0, 1, 2, 0xff}, true},
		{"invalid utf-8 labelled json", "application/json", []byte{'"', 0xff, '"'}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", srv.URL+"/batch?operation=read", strings.NewReader(string(tt.body)))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			_, body := do(t, req)
			var e events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatal(err)
			}
			if e.IsBase64Encoded != tt.base64 {
				t.Errorf("isBase64Encoded = %v, want %v", e.IsBase64Encoded, tt.base64)
			}
			got := []byte(e.Body)
			if e.IsBase64Encoded {
				got, _ = base64.StdEncoding.DecodeString(e.Body)
			}
			if string(got) != string(tt.body) {
				t.Errorf("body = %q, want %q", got, tt.body)
			}
			if e.Headers["content-length"] != "" && e.Headers["content-length"] != itoa(len(tt.body)) {
				t.Errorf("content-length = %s", e.Headers["content-length"])
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestRouting(t *testing.T) {
	srv, _ := newServer(t)
	tests := []struct {
		method, path string
		status       int
		routeKey     string
	}{
		{"POST", "/batch", 200, "POST /batch"},
		{"GET", "/batch", 404, ""},
		{"POST", "/batch/", 404, ""},
		{"POST", "/Batch", 404, ""},
		{"GET", "/nothing", 404, ""},
		{"GET", "/users/x/scids/y/stats", 404, ""},
		{"GET", "/users/x/scids/y/stats/z/extra", 404, ""},
		{"GET", "/users//scids/y/stats/z", 404, ""},
		{"GET", "/files/a/b/c", 200, "GET /files/{proxy+}"},
		{"DELETE", "/any/thing", 200, "ANY /any/{x}"},
		{"GET", "/any/fixed", 204, ""},
		{"POST", "/any/fixed", 200, "ANY /any/{x}"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			resp, body := do(t, req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tt.status, body)
			}
			switch {
			case tt.status == 404:
				if string(body) != `{"message":"Not Found"}` || resp.Header.Get("Content-Type") != "application/json" {
					t.Errorf("404 body %s, type %s; want API Gateway's", body, resp.Header.Get("Content-Type"))
				}
			case tt.routeKey != "":
				var e events.APIGatewayV2HTTPRequest
				json.Unmarshal(body, &e)
				if e.RouteKey != tt.routeKey {
					t.Errorf("routeKey = %q, want %q", e.RouteKey, tt.routeKey)
				}
			}
		})
	}
}

func TestFunctionFailures(t *testing.T) {
	srv, logs := newServer(t)
	for _, path := range []string{"/slow", "/broken"} {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		start := time.Now()
		resp, body := do(t, req)
		if resp.StatusCode != 500 || string(body) != `{"message":"Internal Server Error"}` {
			t.Errorf("%s: %d %s, want API Gateway's 500", path, resp.StatusCode, body)
		}
		if path == "/slow" && time.Since(start) > 1500*time.Millisecond {
			t.Errorf("%s: answered after %v, want soon after the 200ms timeout", path, time.Since(start))
		}
	}
	if !strings.Contains(logs.String(), "task timed out") {
		t.Errorf("log does not say the function timed out:\n%s", logs)
	}
}

// TestTooLargeBody: a body over API Gateway's 10 MB, or one whose event
// is over Lambda's 6 MiB, is 413 and never reaches the function; one just
// under Lambda's limit does.
func TestTooLargeBody(t *testing.T) {
	srv, _ := newServer(t)
	for _, tt := range []struct {
		size int
		want int
	}{
		{MaxBodyBytes + 1, http.StatusRequestEntityTooLarge},
		{MaxEventBytes, http.StatusRequestEntityTooLarge}, // the event around it is larger
		{MaxEventBytes - 4096, http.StatusOK},
	} {
		req, _ := http.NewRequest("POST", srv.URL+"/batch", strings.NewReader(strings.Repeat("a", tt.size)))
		resp, body := do(t, req)
		if resp.StatusCode != tt.want {
			t.Errorf("%d bytes: status = %d, want %d", tt.size, resp.StatusCode, tt.want)
		}
		if tt.want == 413 && string(body) != `{"message":"Request Entity Too Large"}` {
			t.Errorf("%d bytes: body %s", tt.size, body)
		}
	}
}

// invokerFunc is an Invoker.
type invokerFunc func(ctx context.Context, requestID string, payload []byte) ([]byte, error)

func (f invokerFunc) Invoke(ctx context.Context, requestID string, payload []byte) ([]byte, error) {
	return f(ctx, requestID, payload)
}

// TestInvoker: a function with an Invoker is invoked through it with the
// event and the request id; its failure is API Gateway's 500.
func TestInvoker(t *testing.T) {
	var gotID string
	var gotEvent events.APIGatewayV2HTTPRequest
	fns := map[string]Function{
		"Echo": {Invoker: invokerFunc(func(_ context.Context, id string, p []byte) ([]byte, error) {
			gotID = id
			json.Unmarshal(p, &gotEvent)
			return []byte(`{"statusCode":201,"body":"made"}`), nil
		})},
		"Other": {Invoker: invokerFunc(func(context.Context, string, []byte) ([]byte, error) {
			return nil, errors.New("task timed out")
		})},
		"Slow":   {New: handler(echo), Timeout: time.Second},
		"Broken": {Invoker: invokerFunc(func(context.Context, string, []byte) ([]byte, error) { return []byte(`not json`), nil })},
	}
	s, err := New(routes, fns, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/batch", strings.NewReader(`{"a":1}`))
	resp, body := do(t, req)
	if resp.StatusCode != 201 || string(body) != "made" || gotID == "" || gotEvent.Body != `{"a":1}` || gotEvent.RouteKey != "POST /batch" {
		t.Errorf("%d %s; invoked with id %q and event %+v", resp.StatusCode, body, gotID, gotEvent)
	}
	for _, path := range []string{"/any/fixed", "/broken"} {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if resp, body := do(t, req); resp.StatusCode != 500 || string(body) != `{"message":"Internal Server Error"}` {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
}

func TestNewRejectsRouteWithoutFunction(t *testing.T) {
	_, err := New([]samtemplate.Route{{Method: "GET", Path: "/x", Function: "Missing"}}, map[string]Function{}, slog.Default())
	if err == nil {
		t.Error("New accepted a route whose function has no handler")
	}
}

// TestWarmInstances: invocations in turn reuse a warm instance, each with
// a request id of its own; a timed-out one does not hold up the next.
func TestWarmInstances(t *testing.T) {
	srv, _ := newServer(t)
	seen := map[string]bool{}
	for range 4 {
		req, _ := http.NewRequest("POST", srv.URL+"/batch", strings.NewReader(`{}`))
		resp, body := do(t, req)
		id := resp.Header.Get("X-Lambda-Id")
		if resp.StatusCode != 200 || len(body) == 0 || id == "" || seen[id] {
			t.Fatalf("status %d, %d-byte body, request id %q (seen before: %v)", resp.StatusCode, len(body), id, seen[id])
		}
		seen[id] = true
	}
	for range 2 { // the second gets a new instance: the first is still asleep
		req, _ := http.NewRequest("GET", srv.URL+"/slow", nil)
		start := time.Now()
		if resp, _ := do(t, req); resp.StatusCode != 500 || time.Since(start) > 1500*time.Millisecond {
			t.Errorf("/slow: %d after %v, want a 500 soon after the 200ms timeout", resp.StatusCode, time.Since(start))
		}
	}
}

// TestConcurrentInvocationsKeepTheirAnswers: many requests at once, each
// answered with its own event. aws-lambda-go's handler answers in a pooled
// buffer it has already put back; with one handler per warm instance
// (Function.New) and a copy of each answer, no answer is overwritten by
// another's (go test -race flags the shared handler).
func TestConcurrentInvocationsKeepTheirAnswers(t *testing.T) {
	srv, _ := newServer(t)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprintf(`{"n":%d}`, i)
			req, _ := http.NewRequest("POST", srv.URL+"/batch", strings.NewReader(want))
			resp, body := do(t, req)
			var e events.APIGatewayV2HTTPRequest
			if resp.StatusCode != 200 || json.Unmarshal(body, &e) != nil || e.Body != want {
				t.Errorf("request %d: %d, answered with the event of %q", i, resp.StatusCode, e.Body)
			}
		}()
	}
	wg.Wait()
}

// TestWarmInstancesAreReused: requests one after another are served by one
// warm instance (one handler made); while one invocation is busy past its
// timeout, the next request gets an instance of its own.
func TestWarmInstancesAreReused(t *testing.T) {
	var made atomic.Int32
	newEcho := func() lambda.Handler { made.Add(1); return lambda.NewHandler(echo) }
	s, err := New(routes, map[string]Function{
		"Echo":  {New: newEcho, Timeout: 10 * time.Second},
		"Other": {New: handler(echo), Timeout: time.Second},
		"Slow": {New: handler(func(ctx context.Context) (events.APIGatewayV2HTTPResponse, error) {
			time.Sleep(time.Second)
			return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
		}), Timeout: 100 * time.Millisecond},
		"Broken": {New: handler(echo), Timeout: time.Second},
	}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	for range 4 {
		req, _ := http.NewRequest("POST", srv.URL+"/batch", strings.NewReader(`{}`))
		if resp, _ := do(t, req); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if n := made.Load(); n != 1 {
		t.Errorf("4 requests in turn made %d handlers, want 1 (one warm instance)", n)
	}
	before := runtime.NumGoroutine()
	s.CloseIdle()
	for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() >= before && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if runtime.NumGoroutine() >= before {
		t.Errorf("CloseIdle left the idle instance's goroutine running")
	}
	req, _ := http.NewRequest("POST", srv.URL+"/batch", strings.NewReader(`{}`))
	if resp, _ := do(t, req); resp.StatusCode != 200 || made.Load() != 2 {
		t.Errorf("after CloseIdle: status %d, %d handlers made, want a new instance", resp.StatusCode, made.Load())
	}
	if _, err := New(routes, map[string]Function{"Echo": {}, "Other": {}, "Slow": {}, "Broken": {}}, slog.Default()); err == nil {
		t.Error("New accepted functions without handlers")
	}
}

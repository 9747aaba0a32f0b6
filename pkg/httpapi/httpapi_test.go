package httpapi

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/metrics"
	"github.com/xblread/xblread/pkg/xbl"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		msg    string
	}{
		{"invalid", derrors.New(derrors.Invalid, "requestedusers is empty"), 400, "requestedusers is empty"},
		{"wrapped not found", fmt.Errorf("ctx: %w", derrors.New(derrors.NotFound, "no such scid")), 404, "no such scid"},
		{"forbidden", derrors.New(derrors.Forbidden, "no"), 403, "no"},
		{"unsupported", derrors.New(derrors.Unsupported, "v2"), 406, "v2"},
		{"canceled", context.Canceled, StatusClientClosed, "request canceled"},
		{"auth error", &auth.Error{Check: "exp", Reason: "token has expired"}, 401, "unauthorized: token has expired"},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), 408, "the request could not be completed in time"},
		{"dynamodb down", derrors.Wrap(derrors.Unavailable, "the service is temporarily unavailable; retry later", errors.New("connection refused")), 503, "the service is temporarily unavailable; retry later"},
		{"unknown", errors.New("secret internal detail"), 500, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Classify(tt.err)
			if p.Status != tt.status || p.Message != tt.msg {
				t.Errorf("Classify = %d %q, want %d %q", p.Status, p.Message, tt.status, tt.msg)
			}
		})
	}
}

type testEnv struct {
	api    API
	signer *auth.Signer
	logs   *bytes.Buffer
}

func newEnv(t *testing.T, f Format) *testEnv {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	ks := auth.NewKeySet()
	if err := ks.AddPEM(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})); err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(ks, "iss", "aud")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := auth.NewSigner(key, "iss", "aud")
	logs := &bytes.Buffer{}
	return &testEnv{
		api:    API{Name: "test", Format: f, Verifier: v, Log: slog.New(WithRequestID(slog.NewJSONHandler(logs, nil)))},
		signer: s,
		logs:   logs,
	}
}

func (e *testEnv) token(t *testing.T) string {
	h, err := e.signer.Mint(xbl.Caller{XUID: 42, UserHash: "u", TitleID: "1", Sandbox: "RETAIL"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestWrap(t *testing.T) {
	for _, format := range []Format{JSON, Text} {
		env := newEnv(t, format)
		var seen *xbl.Caller
		h := env.api.Wrap(muxOf(env.api.Handle(func(w http.ResponseWriter, r *http.Request) error {
			seen, _ = auth.FromContext(r.Context())
			switch r.URL.Path {
			case "/ok":
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{}`))
				return nil
			case "/bad":
				return derrors.New(derrors.Invalid, "requestedusers must not be empty")
			case "/down":
				return fmt.Errorf("read: %w", derrors.Wrap(derrors.Unavailable, "the service is temporarily unavailable; retry later", errors.New("dynamodb unavailable")))
			case "/bug":
				return errors.New("nil map in handler 0xdeadbeef")
			case "/panic":
				panic("boom")
			}
			return nil
		})))
		do := func(path string, authz bool) *httptest.ResponseRecorder {
			r := httptest.NewRequest("GET", path, nil)
			if authz {
				r.Header.Set("Authorization", env.token(t))
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w
		}
		tests := []struct {
			path    string
			authz   bool
			status  int
			message string
		}{
			{"/ok", true, 200, ""},
			{"/ok", false, 401, "unauthorized: missing Authorization header"},
			{"/bad", true, 400, "requestedusers must not be empty"},
			{"/down", true, 503, "the service is temporarily unavailable; retry later"},
			{"/bug", true, 500, "internal error"},
			{"/panic", true, 500, "internal error"},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%d%s", format, tt.path), func(t *testing.T) {
				env.logs.Reset()
				w := do(tt.path, tt.authz)
				if w.Code != tt.status {
					t.Fatalf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
				}
				for _, hd := range []string{"Content-Type", "Cache-Control", RequestIDHeader} {
					if w.Header().Get(hd) == "" {
						t.Errorf("response lacks %s", hd)
					}
				}
				if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
					t.Errorf("X-Content-Type-Options = %q", got)
				}
				id := w.Header().Get(RequestIDHeader)
				if !strings.Contains(env.logs.String(), id) {
					t.Errorf("request id %s is not in the logs:\n%s", id, env.logs)
				}
				if tt.status == 200 {
					if seen == nil || seen.XUID != 42 {
						t.Errorf("handler saw caller %+v, want xuid 42", seen)
					}
					return
				}
				var msg string
				if format == JSON {
					if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
						t.Errorf("Content-Type = %q", ct)
					}
					var body struct {
						Code    int    `json:"errorCode"`
						Message string `json:"errorMessage"`
					}
					if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
						t.Fatalf("body %q: %v", w.Body, err)
					}
					if body.Code != tt.status {
						t.Errorf("errorCode = %d, want %d", body.Code, tt.status)
					}
					msg = body.Message
				} else {
					if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
						t.Errorf("Content-Type = %q", ct)
					}
					msg = w.Body.String()
				}
				if msg != tt.message {
					t.Errorf("message = %q, want %q", msg, tt.message)
				}
				if tt.status == 503 && w.Header().Get("Retry-After") == "" {
					t.Error("503 without Retry-After")
				}
				if tt.status == 401 && w.Header().Get("WWW-Authenticate") != auth.Scheme {
					t.Error("401 without WWW-Authenticate")
				}
				if tt.status == 401 && !strings.Contains(env.logs.String(), `"check":"header"`) {
					t.Errorf("log does not name the failed check:\n%s", env.logs)
				}
				if tt.status == 500 && strings.Contains(w.Body.String(), "deadbeef") {
					t.Error("500 body leaks the internal error")
				}
			})
		}
	}
}

func TestWrapUsesLambdaRequestID(t *testing.T) {
	env := newEnv(t, JSON)
	h := env.api.Wrap(muxOf(env.api.NotFound()))
	r := httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("Authorization", env.token(t))
	r = r.WithContext(lambdacontext.NewContext(r.Context(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-id-1"}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if got := w.Header().Get(RequestIDHeader); got != "lambda-id-1" {
		t.Errorf("%s = %q, want the Lambda request id", RequestIDHeader, got)
	}
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "no route for GET /x") {
		t.Errorf("got %d %s", w.Code, w.Body)
	}
}

func TestWrapAnswersBeforeTheDeadline(t *testing.T) {
	env := newEnv(t, Text)
	h := env.api.Wrap(muxOf(env.api.Handle(func(w http.ResponseWriter, r *http.Request) error {
		<-r.Context().Done() // a dependency that never answers
		return r.Context().Err()
	})))
	deadline := time.Now().Add(deadlineMargin + 200*time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	r := httptest.NewRequest("GET", "/slow", nil).WithContext(ctx)
	r.Header.Set("Authorization", env.token(t))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusRequestTimeout {
		t.Errorf("status = %d, want 408", w.Code)
	}
	if time.Now().After(deadline) {
		t.Error("answered after the function's deadline")
	}
}

func muxOf(h http.Handler) *http.ServeMux {
	m := http.NewServeMux()
	m.Handle("/", h)
	return m
}

func TestWrapWritesOneMetricsRecordPerRequest(t *testing.T) {
	env := newEnv(t, JSON)
	var out bytes.Buffer
	env.api.Metrics = metrics.NewWriter(&out)
	env.api.MetricsNamespace = "Test"
	mux := http.NewServeMux()
	mux.Handle("GET /items/{id}", env.api.Handle(func(w http.ResponseWriter, r *http.Request) error {
		metrics.FromContext(r.Context()).Add("Results", 3, metrics.Count)
		return fmt.Errorf("read: %w", derrors.Wrap(derrors.Unavailable, "the service is temporarily unavailable; retry later", errors.New("dynamodb unavailable")))
	}))
	h := env.api.Wrap(mux)
	for _, authz := range []bool{true, false} {
		r := httptest.NewRequest("GET", "/items/7", nil)
		if authz {
			r.Header.Set("Authorization", env.token(t))
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d records, want 2:\n%s", len(lines), out.String())
	}
	var first, second map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &second)
	for k, want := range map[string]any{"Function": "local", "Route": "GET /items/{id}", "Requests": 1.0, "Results": 3.0,
		"DependencyFailures": 1.0, "Status5xx": 1.0, "status": 503.0} {
		if first[k] != want {
			t.Errorf("first record %s = %v, want %v", k, first[k], want)
		}
	}
	if second["Route"] != "GET /items/{id}" || second["Status4xx"] != 1.0 || second["DependencyFailures"] != 0.0 {
		t.Errorf("401 record = %v", second)
	}
	if _, ok := first["Latency"].(float64); !ok {
		t.Error("no Latency")
	}
}

// TestNoRedirects: paths with dot or empty segments are answered 404 by
// the API, never redirected by the mux to another route.
func TestNoRedirects(t *testing.T) {
	e := newEnv(t, JSON)
	mux := http.NewServeMux()
	mux.Handle("POST /batch", e.api.Handle(func(w http.ResponseWriter, r *http.Request) error { w.WriteHeader(200); return nil }))
	h := e.api.Wrap(mux)
	for _, target := range []string{"/serviceconfigs/../batch", "/x/./../batch", "//batch", "/a//batch", "/batch/.", "/serviceconfigs/%2e%2e/batch"} {
		r := httptest.NewRequest("POST", "http://h"+target, nil)
		r.Header.Set("Authorization", e.token(t))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusNotFound || w.Header().Get("Location") != "" {
			t.Errorf("%s: %d (Location %q), want 404", target, w.Code, w.Header().Get("Location"))
		}
	}
	r := httptest.NewRequest("POST", "/batch", nil)
	r.Header.Set("Authorization", e.token(t))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Errorf("/batch: %d", w.Code)
	}
}

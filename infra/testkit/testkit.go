// Package testkit holds the helpers the tests of every package share:
// tokens from the development key, fixture files loaded into the in-memory
// store, requests through a handler, and golden files.
package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/infra/fixture"
	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/store/memstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// Update is the -update flag of every package that uses Golden.
var Update = flag.Bool("update", false, "rewrite the golden files")

// Discard is a logger that writes nothing.
func Discard() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// Verifier trusts the development key.
func Verifier(t testing.TB) *auth.Verifier {
	t.Helper()
	v, err := devkey.Verifier()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// API is an httpapi.API trusting the development key, logging nowhere.
func API(t testing.TB) httpapi.API {
	t.Helper()
	return httpapi.API{Verifier: Verifier(t), Log: Discard()}
}

// Token returns an Authorization header value for c, valid for an hour.
func Token(t testing.TB, c xbl.Caller) string {
	t.Helper()
	h, err := devkey.Mint(c, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// ReadJSON reads the JSON file at path into v.
func ReadJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// Dataset reads a fixture file.
func Dataset(t testing.TB, path string) *xbl.Dataset {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return DatasetText(t, string(data))
}

// DatasetText reads a fixture document.
func DatasetText(t testing.TB, doc string) *xbl.Dataset {
	t.Helper()
	f, err := fixture.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return &f.Data
}

// MemStore returns an in-memory store holding the fixture file at path.
func MemStore(t testing.TB, path string) *memstore.Store {
	t.Helper()
	s := memstore.New()
	s.Load(Dataset(t, path))
	return s
}

// Do sends one request through h. headers are name, value pairs; an
// "Authorization" of "" sends none, and without one auth is sent.
func Do(h http.Handler, auth, method, target, body string, headers ...string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	authSet := false
	for i := 0; i+1 < len(headers); i += 2 {
		if strings.EqualFold(headers[i], "Authorization") {
			authSet = true
			if headers[i+1] == "" {
				continue
			}
		}
		r.Header.Add(headers[i], headers[i+1])
	}
	if !authSet {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Golden compares body, indented, with the file at path; with -update it
// rewrites the file first.
func Golden(t testing.TB, path string, body []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	pretty.WriteString("\n")
	if *Update {
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("body differs from %s:\n%s", path, pretty.Bytes())
	}
}

// WithDeadline sends one request through h as Lambda would, with a
// deadline d from now and a Lambda request id, and fails the test if the
// answer comes after the deadline.
func WithDeadline(t testing.TB, h http.Handler, d time.Duration, auth, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	deadline := time.Now().Add(d)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "r1"})
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd).WithContext(ctx)
	r.Header.Set("Authorization", auth)
	r.Header.Set("x-xbl-contract-version", "107")
	if strings.HasPrefix(target, "/batch") || strings.HasPrefix(target, "/users/") {
		r.Header.Set("x-xbl-contract-version", "1")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if time.Now().After(deadline) {
		t.Errorf("%s %s answered after the deadline", method, target)
	}
	return w
}

// SyncBuffer is a bytes.Buffer that several goroutines may write at once:
// a log that emulator pools, servers and the test itself share.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

package sessionsapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/configcache"
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/xbl"
)

// The tests that count what a query sends to DynamoDB, and the failures of
// a real DynamoDB client, are in pkg/store/sessionstore.

// TestDynamoDBDownIs503: a store that cannot answer is a 503 with
// Retry-After, and its cause never reaches the caller.
func TestDynamoDBDownIs503(t *testing.T) {
	st := loaded(t)
	st.Err = derrors.Wrap(derrors.Unavailable, "the service is temporarily unavailable; retry later", errors.New("dial tcp 127.0.0.1:1: connection refused"))
	h := newHandler(t, st)
	for _, target := range []string{
		"/serviceconfigs/" + scidA + "/sessions?xuid=9876",
		"/serviceconfigs/" + scidA + "/sessions?keyword=one",
	} {
		w := call(t, h, "GET", target, "")
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
			t.Errorf("%s: %d (Retry-After %q) %s, want 503 with Retry-After", target, w.Code, w.Header().Get("Retry-After"), w.Body)
		}
		if strings.Contains(w.Body.String(), "127.0.0.1") || strings.Contains(w.Body.String(), "connect") {
			t.Errorf("%s: 503 body leaks the cause: %s", target, w.Body)
		}
	}
}

// slowReader answers when the context ends.
type slowReader struct{}

func (slowReader) ReadConfig(ctx context.Context, _ string) (*xbl.ServiceConfig, xbl.Usage, error) {
	<-ctx.Done()
	return nil, xbl.Usage{}, ctx.Err()
}

func (slowReader) UserSessions(ctx context.Context, _ xbl.XUID, _ *sessions.Filter, _ int) ([]sessions.Session, xbl.Usage, error) {
	<-ctx.Done()
	return nil, xbl.Usage{}, ctx.Err()
}

func (slowReader) KeywordSessions(ctx context.Context, _ *sessions.Filter, _ int) ([]sessions.Session, xbl.Usage, error) {
	<-ctx.Done()
	return nil, xbl.Usage{}, ctx.Err()
}

// TestSlowDynamoDBIs408: a store that does not answer ends the request
// with a text/plain 408 before the function's deadline.
func TestSlowDynamoDBIs408(t *testing.T) {
	h := newHandler(t, slowReader{})
	w := testkit.WithDeadline(t, h, time.Second, token(t, who{}), "POST", "/serviceconfigs/"+scidA+"/batch", `{"xuids":["9876","1111"]}`)
	if w.Code != http.StatusRequestTimeout || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Errorf("%d %q %s, want a text/plain 408", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
}

// TestAccessBeforeAnyRead: with the configuration cached (a warm
// instance), a refused query reads nothing, and take=0 reads nothing
// either.
func TestAccessBeforeAnyRead(t *testing.T) {
	st := loaded(t)
	h := New(testkit.API(t), configcache.New(st, time.Minute, 10), st)
	batch := `{"xuids":["9876","1111"]}`
	if w := call(t, h, "POST", "/serviceconfigs/"+scidA+"/batch", batch); w.Code != 200 {
		t.Fatalf("warm-up: %d %s", w.Code, w.Body)
	}
	call(t, h, "POST", "/serviceconfigs/"+scidC+"/batch", batch) // caches the absence
	for _, tt := range []struct {
		name, target, body, tok string
		status                  int
	}{
		{"other sandbox", "/serviceconfigs/" + scidA + "/batch", batch, token(t, who{sandbox: "XDKS.9"}), 403},
		{"unconfigured", "/serviceconfigs/" + scidC + "/batch", batch, token(t, who{}), 404},
		{"private, not self", "/serviceconfigs/" + scidA + "/batch?private=true", batch, token(t, who{}), 403},
		{"take 0", "/serviceconfigs/" + scidA + "/sessions?keyword=one&take=0", "", token(t, who{}), 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			method := "POST"
			if tt.body == "" {
				method = "GET"
			}
			before := st.Reads()
			w := call(t, h, method, tt.target, tt.body, "Authorization", tt.tok)
			if w.Code != tt.status {
				t.Fatalf("%d %s, want %d", w.Code, w.Body, tt.status)
			}
			if reads := st.Reads() - before; reads != 0 {
				t.Errorf("%d reads on a warm instance", reads)
			}
		})
	}
}

// TestEnvelopeSize: the computed size of a body inside the Lambda response
// is what encoding/json writes.
func TestEnvelopeSize(t *testing.T) {
	for _, body := range []string{`{}`, `{"results":[{"keywords":["a\"b","c\\d","\u2028"]}]}`, `{"results":[]}`} {
		enc, _ := json.Marshal(body)
		if got := httpapi.EnvelopeSize([]byte(body)); got != len(enc) {
			t.Errorf("httpapi.EnvelopeSize(%s) = %d, want %d", body, got, len(enc))
		}
	}
}

// TestOversizeAnswerIsRefused: sessions whose keywords would make the
// answer larger than Lambda's response allows are refused with a 400.
func TestOversizeAnswerIsRefused(t *testing.T) {
	st := loaded(t)
	// Sessions of 1,000 keywords each: more than a fixture or a write may
	// give a session now (32), as data stored before those limits may hold.
	kw := make([]string, 1000)
	for i := range kw {
		kw[i] = fmt.Sprintf("%s%04d", strings.Repeat("k", 60), i)
	}
	var ds xbl.Dataset
	for i := range 100 {
		ds.Sessions = append(ds.Sessions, xbl.Session{SCID: scidA, Template: "big", Name: fmt.Sprintf("s%03d", i),
			StartTime: time.Date(2026, 11, 20, 13, 45, 30, 0, time.UTC), Version: 1, Visibility: xbl.OpenVis, Keywords: kw,
			Members: []xbl.Member{{XUID: 9876, Status: xbl.Active}}})
	}
	st.Load(&ds)
	h := newHandler(t, st)
	w := call(t, h, "GET", "/serviceconfigs/"+scidA+"/sessiontemplates/big/sessions?xuid=9876&take=100", "")
	if w.Code != 400 || !strings.Contains(w.Body.String(), "ask for fewer sessions") {
		t.Fatalf("%d %.200s", w.Code, w.Body)
	}
	if w := call(t, h, "GET", "/serviceconfigs/"+scidA+"/sessiontemplates/big/sessions?xuid=9876&take=10", ""); w.Code != 200 {
		t.Errorf("take=10: %d", w.Code)
	}
}

// TestKeysWithinDynamoDBLimits: a keyword or template that would make a
// key longer than DynamoDB allows is a 400 naming the limit, never a 500.
func TestKeysWithinDynamoDBLimits(t *testing.T) {
	h := newHandler(t, loaded(t))
	for target, want := range map[string]string{
		"/serviceconfigs/" + scidA + "/sessions?keyword=" + strings.Repeat("k", 3000):                        "the limit is 256",
		"/serviceconfigs/" + scidA + "/sessiontemplates/" + strings.Repeat("t", 100) + "/sessions?keyword=k": "the limit is 99",
	} {
		w := call(t, h, "GET", target, "")
		if w.Code != 400 || !strings.Contains(w.Body.String(), want) {
			t.Errorf("%.80s…: %d %q, want 400 naming %q", target, w.Code, w.Body, want)
		}
	}
}

package statsapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/store/memstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// Test data: see testdata/fixture.json.
const (
	scidA  = "7492baca-c1b4-440d-a391-b7ef364a8d40" // titles 1297287135; sandboxes XDKS.1, RETAIL
	scidB  = "c402ff50-3e76-11e2-a25f-0800200c1212" // title 1818181818; sandbox RETAIL
	scidC  = "00000000-0000-0000-0000-0000000000cc" // no configuration
	titleA = "1297287135"
	titleB = "1818181818"
)

// loaded returns an in-memory store holding testdata/fixture.json. The
// DynamoDB adapter's tests (pkg/store/statstore) check that it answers the
// same queries the same way.
func loaded(t testing.TB) *memstore.Store {
	t.Helper()
	return testkit.MemStore(t, "testdata/fixture.json")
}

// newHandler serves r; configurations come from r when it has them, else
// from the fixture.
func newHandler(t testing.TB, r stats.Reader) http.Handler {
	t.Helper()
	configs, ok := r.(xbl.ConfigReader)
	if !ok {
		configs = loaded(t)
	}
	return New(testkit.API(t), configs, r)
}

// caller describes a token; the zero value of a field takes a default.
type caller struct {
	xuid    uint64
	title   string
	sandbox string
}

func token(t testing.TB, c caller) string {
	t.Helper()
	if c.xuid == 0 {
		c.xuid = 2533274792693551
	}
	if c.title == "" {
		c.title = titleA
	}
	if c.sandbox == "" {
		c.sandbox = "RETAIL"
	}
	return testkit.Token(t, xbl.Caller{XUID: xbl.XUID(c.xuid), UserHash: "uhs", TitleID: c.title, Sandbox: c.sandbox})
}

// call sends one request through the handler. headers are name, value
// pairs; an "Authorization" of "" sends none, and without one a default
// token is sent. Every 200 body is checked against XSAPI's parse rules.
func call(t testing.TB, h http.Handler, method, target, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	w := testkit.Do(h, token(t, caller{}), method, target, body, headers...)
	if w.Code == http.StatusOK {
		checkXSAPI(t, w.Body.Bytes(), strings.HasPrefix(target, "/users/"))
	} else if w.Code != http.StatusNotModified {
		checkErrorBody(t, w)
	}
	return w
}

// checkXSAPI re-checks a 200 body against the rules XSAPI parses it by: a
// batch root holds a users array, the single GET's root holds xuid and
// scids; every xuid, statname, type and value is a string; every SCID's
// stats is an array, never null.
func checkXSAPI(t testing.TB, body []byte, single bool) {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(body, &root); err != nil {
		t.Fatalf("XSAPI: body is not a JSON object: %v\n%s", err, body)
	}
	var users []any
	if single {
		users = []any{root}
	} else {
		u, ok := root["users"].([]any)
		if !ok {
			t.Fatalf("XSAPI: users is not an array: %s", body)
		}
		users = u
	}
	for _, u := range users {
		user, ok := u.(map[string]any)
		if !ok {
			t.Fatalf("XSAPI: user is not an object: %s", body)
		}
		if x, ok := user["xuid"].(string); !ok || x == "" || strings.Trim(x, "0123456789") != "" {
			t.Errorf("XSAPI: xuid %#v is not a decimal string", user["xuid"])
		}
		if g, ok := user["gamertag"]; ok {
			if _, isStr := g.(string); !isStr {
				t.Errorf("XSAPI: gamertag %#v is not a string", g)
			}
		}
		scids, ok := user["scids"].([]any)
		if !ok {
			t.Fatalf("XSAPI: scids is not an array: %s", body)
		}
		for _, s := range scids {
			sc, ok := s.(map[string]any)
			if !ok {
				t.Fatalf("XSAPI: scid entry is not an object: %s", body)
			}
			if _, ok := sc["scid"].(string); !ok {
				t.Errorf("XSAPI: scid %#v is not a string", sc["scid"])
			}
			stats, ok := sc["stats"].([]any)
			if !ok {
				t.Fatalf("XSAPI: stats is %#v, not an array", sc["stats"])
			}
			for _, st := range stats {
				stat, ok := st.(map[string]any)
				if !ok {
					t.Fatalf("XSAPI: stat is not an object: %s", body)
				}
				for _, k := range []string{"statname", "type", "value"} {
					if _, ok := stat[k].(string); !ok {
						t.Errorf("XSAPI: %s %#v is not a string", k, stat[k])
					}
				}
				switch stat["type"] {
				case "Integer", "Double", "String":
				default:
					t.Errorf("XSAPI: type %#v is not Integer, Double or String", stat["type"])
				}
			}
		}
	}
}

// checkErrorBody checks the JSON error body every error carries.
func checkErrorBody(t testing.TB, w *httptest.ResponseRecorder) {
	t.Helper()
	var e struct {
		Code    *int    `json:"errorCode"`
		Message *string `json:"errorMessage"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code == nil || e.Message == nil {
		t.Errorf("error body %q is not {errorCode, errorMessage}", w.Body)
		return
	}
	if *e.Code != w.Code {
		t.Errorf("errorCode %d, status %d", *e.Code, w.Code)
	}
	for _, h := range []string{"Content-Type", "Cache-Control", "X-Content-Type-Options", httpapi.RequestIDHeader} {
		if w.Header().Get(h) == "" {
			t.Errorf("error response lacks %s", h)
		}
	}
}

// errorMessage returns an error body's errorMessage.
func errorMessage(w *httptest.ResponseRecorder) string {
	var e struct {
		Message string `json:"errorMessage"`
	}
	json.Unmarshal(w.Body.Bytes(), &e)
	return e.Message
}

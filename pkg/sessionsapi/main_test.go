package sessionsapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store/memstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// Test data: see testdata/fixture.json.
const (
	scidA = "7492baca-c1b4-440d-a391-b7ef364a8d40" // sandboxes XDKS.1, RETAIL
	scidB = "c402ff50-3e76-11e2-a25f-0800200c1212" // sandbox RETAIL
	scidC = "00000000-0000-0000-0000-0000000000cc" // no configuration
)

// loaded returns an in-memory store holding testdata/fixture.json. The
// DynamoDB adapter's tests (pkg/store/sessionstore) check that it answers
// the same reads the same way.
func loaded(t testing.TB) *memstore.Store {
	t.Helper()
	return testkit.MemStore(t, "testdata/fixture.json")
}

// newHandler serves r; configurations come from r when it has them, else
// from the fixture.
func newHandler(t testing.TB, r sessions.Reader) http.Handler {
	t.Helper()
	configs, ok := r.(xbl.ConfigReader)
	if !ok {
		configs = loaded(t)
	}
	return New(testkit.API(t), configs, r)
}

// who describes a caller; zero fields take defaults (xuid 9876, RETAIL).
type who struct {
	xuid    xbl.XUID
	sandbox string
	server  bool
}

func token(t testing.TB, c who) string {
	t.Helper()
	if c.xuid == 0 {
		c.xuid = 9876
	}
	if c.sandbox == "" {
		c.sandbox = "RETAIL"
	}
	return testkit.Token(t, xbl.Caller{XUID: c.xuid, UserHash: "uhs", TitleID: "1297287135", Sandbox: c.sandbox, Server: c.server})
}

// call sends a request with the contract version XSAPI sends (107) and the
// default caller's token unless headers say otherwise ("" removes one).
// Every 200 body is checked against XSAPI's parse rules, every error body
// for text/plain.
func call(t testing.TB, h http.Handler, method, target, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	contract := "107"
	var hd []string
	for i := 0; i+1 < len(headers); i += 2 {
		if strings.EqualFold(headers[i], "X-Xbl-Contract-Version") {
			contract = headers[i+1]
			continue
		}
		// An Authorization of "" is passed on: testkit.Do then sends none.
		if headers[i+1] == "" && !strings.EqualFold(headers[i], "Authorization") {
			continue
		}
		hd = append(hd, headers[i], headers[i+1])
	}
	if contract != "" {
		hd = append(hd, "X-Xbl-Contract-Version", contract)
	}
	w := testkit.Do(h, token(t, who{}), method, target, body, hd...)
	if w.Code == http.StatusOK {
		checkXSAPI(t, w.Body.Bytes())
	} else {
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%d with Content-Type %q, want text/plain", w.Code, ct)
		}
		if w.Body.Len() == 0 {
			t.Errorf("%d with an empty body", w.Code)
		}
	}
	return w
}

// checkXSAPI re-checks a body against the rules XSAPI parses it by:
// results an array of objects; xuid a string; accepted a non-negative
// integer; myTurn a bool when present; startTime a string when present; no
// null where the client wants a value.
func checkXSAPI(t testing.TB, body []byte) {
	t.Helper()
	var root map[string]any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&root); err != nil {
		t.Fatalf("XSAPI: body is not a JSON object: %v\n%s", err, body)
	}
	results, ok := root["results"].([]any)
	if !ok {
		t.Fatalf("XSAPI: results is %#v, not an array", root["results"])
	}
	for _, r := range results {
		m, ok := r.(map[string]any)
		if !ok {
			t.Fatalf("XSAPI: result %#v is not an object", r)
		}
		for k, v := range m {
			if v == nil {
				t.Errorf("XSAPI: %s is null", k)
			}
		}
		if x, ok := m["xuid"]; ok {
			if s, isStr := x.(string); !isStr || s == "" || strings.Trim(s, "0123456789") != "" {
				t.Errorf("XSAPI: xuid %#v is not a decimal string", x)
			}
		}
		n, ok := m["accepted"].(json.Number)
		if v, err := n.Int64(); !ok || err != nil || v < 0 {
			t.Errorf("XSAPI: accepted %#v is not a non-negative integer", m["accepted"])
		}
		if v, ok := m["myTurn"]; ok {
			if _, isBool := v.(bool); !isBool {
				t.Errorf("XSAPI: myTurn %#v is not a bool", v)
			}
		}
		if v, ok := m["startTime"]; ok {
			if _, isStr := v.(string); !isStr {
				t.Errorf("XSAPI: startTime %#v is not a string", v)
			}
		}
		ref, ok := m["sessionRef"].(map[string]any)
		if !ok {
			t.Fatalf("XSAPI: sessionRef %#v is not an object", m["sessionRef"])
		}
		for _, k := range []string{"scid", "templateName", "name"} {
			if _, ok := ref[k].(string); !ok {
				t.Errorf("XSAPI: sessionRef.%s %#v is not a string", k, ref[k])
			}
		}
		if kw, ok := m["keywords"]; ok {
			if _, isArr := kw.([]any); !isArr {
				t.Errorf("XSAPI: keywords %#v is not an array", kw)
			}
		}
	}
}

// results decodes a 200 body.
func results(t *testing.T, w *httptest.ResponseRecorder) []map[string]any {
	t.Helper()
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var r struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	return r.Results
}

// rows summarises results as "xuid:template/name" (xuid "-" when absent).
func rows(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var out []string
	for _, r := range results(t, w) {
		x, _ := r["xuid"].(string)
		if x == "" {
			x = "-"
		}
		ref := r["sessionRef"].(map[string]any)
		out = append(out, x+":"+ref["templateName"].(string)+"/"+ref["name"].(string))
	}
	return strings.Join(out, " ")
}

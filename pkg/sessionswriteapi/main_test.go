package sessionswriteapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/sessionsapi"
	"github.com/xblread/xblread/pkg/store/memstore"
	"github.com/xblread/xblread/pkg/xbl"
)

const (
	scidA  = "7492baca-c1b4-440d-a391-b7ef364a8d40" // title 1297287135, sandboxes XDKS.1 and RETAIL
	scidB  = "c402ff50-3e76-11e2-a25f-0800200c1212" // title 1818181818, RETAIL
	scidC  = "00000000-0000-0000-0000-0000000000cc" // no configuration
	titleA = "1297287135"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// setup returns the write and the query handlers over one in-memory store
// holding pkg/sessionsapi's fixture, on one clock.
func setup(t *testing.T) (write, read http.Handler, st *memstore.Store, clk *clock) {
	t.Helper()
	clk = &clock{now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	st = testkit.MemStore(t, filepath.Join("..", "sessionsapi", "testdata", "fixture.json"))
	svc := &sessions.Service{Configs: st, Reader: st, Store: st, Now: clk.Now}
	return newHandler(testkit.API(t), svc), sessionsapi.Handler(testkit.API(t), svc), st, clk
}

func tok(t testing.TB, x xbl.XUID, server bool) string {
	t.Helper()
	return testkit.Token(t, xbl.Caller{XUID: x, UserHash: "uhs", Gamertag: "P" + x.String(), TitleID: titleA, Sandbox: "RETAIL", Server: server})
}

func path(name string) string {
	return "/serviceconfigs/" + scidA + "/sessionTemplates/lobby/sessions/" + name
}

// send is one XSAPI request: contract 107, JSON body.
// A contract version among headers replaces 107; one of "" sends none.
func send(h http.Handler, auth, method, target, body string, headers ...string) *httptest.ResponseRecorder {
	version := "107"
	var rest []string
	for i := 0; i+1 < len(headers); i += 2 {
		if strings.EqualFold(headers[i], "x-xbl-contract-version") {
			version = headers[i+1]
			continue
		}
		rest = append(rest, headers[i], headers[i+1])
	}
	all := []string{"Content-Type", "application/json; charset=utf-8"}
	if version != "" {
		all = append(all, "x-xbl-contract-version", version)
	}
	return testkit.Do(h, auth, method, target, body, append(all, rest...)...)
}

// xsapiStep and xsapiCase are testdata/xsapi.json.
type xsapiStep struct {
	As      string   `json:"as"` // an xuid, or "server"
	Method  string   `json:"method"`
	Session string   `json:"session"`
	Headers []string `json:"headers"` // "$ETAG" is the last ETag received
	Body    string   `json:"body"`
	Wait    int      `json:"wait"` // seconds to move the clock before the step
}

type xsapiCase struct {
	Name  string      `json:"name"`
	About string      `json:"about"`
	Steps []xsapiStep `json:"steps"`
	Query []string    `json:"query"` // xuids whose sessions the query lists after the steps
}

var guid = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// TestXSAPIGolden sends XSAPI's own write bodies and headers in sequence,
// checks every session document it gets back with XSAPI's parse rules, and
// compares, as one JSON object per case, every answer (status, ETag,
// body; GUIDs numbered in order of appearance) and the session directory
// query of the case's xuids afterwards with testdata/golden/NAME.json (go
// test -update rewrites them).
func TestXSAPIGolden(t *testing.T) {
	var cases []xsapiCase
	testkit.ReadJSON(t, filepath.Join("testdata", "xsapi.json"), &cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			write, read, _, clk := setup(t)
			type answer struct {
				Status int             `json:"status"`
				ETag   string          `json:"etag,omitempty"`
				Body   json.RawMessage `json:"body,omitempty"`
			}
			var got struct {
				Answers []answer        `json:"answers"`
				Query   json.RawMessage `json:"query"`
			}
			etag := ""
			for i, s := range c.Steps {
				clk.Add(time.Duration(s.Wait) * time.Second)
				auth := tok(t, 0, true)
				if s.As != "server" {
					x, err := xbl.ParseXUID(s.As)
					if err != nil {
						t.Fatalf("step %d: as %q", i, s.As)
					}
					auth = tok(t, x, false)
				}
				headers := append([]string(nil), s.Headers...)
				for j := range headers {
					headers[j] = strings.ReplaceAll(headers[j], "$ETAG", etag)
				}
				w := send(write, auth, s.Method, path(s.Session), s.Body, headers...)
				a := answer{Status: w.Code, ETag: w.Header().Get("ETag")}
				if a.ETag != "" {
					etag = a.ETag
				}
				if w.Body.Len() > 0 {
					if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
						if _, err := checkXSAPIParse(w.Body.Bytes()); err != nil {
							t.Errorf("step %d: XSAPI would not parse the session: %v\n%s", i, err, w.Body)
						}
						a.Body = w.Body.Bytes()
					} else {
						a.Body, _ = json.Marshal(w.Body.String())
					}
				}
				got.Answers = append(got.Answers, a)
			}
			var xs []string
			for _, x := range c.Query {
				xs = append(xs, strconv.Quote(x))
			}
			got.Query = send(read, tok(t, 0, true), "POST", "/serviceconfigs/"+scidA+"/sessiontemplates/lobby/batch?private=true&reservations=true&inactive=true", `{"xuids":[`+strings.Join(xs, ",")+`]}`).Body.Bytes()
			body, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]string{}
			body = guid.ReplaceAllFunc(body, func(g []byte) []byte {
				if string(g) == scidA {
					return g
				}
				if _, ok := seen[string(g)]; !ok {
					seen[string(g)] = "guid-" + strconv.Itoa(len(seen)+1)
				}
				return []byte(seen[string(g)])
			})
			testkit.Golden(t, filepath.Join("testdata", "golden", c.Name+".json"), body)
		})
	}
}

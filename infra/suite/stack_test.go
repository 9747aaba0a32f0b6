package suite

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/infra/devstack"
	"github.com/xblread/xblread/pkg/xbl"
)

// TestMain runs the suites against DynamoDB Local with the rate limits off:
// they send far more requests from one caller than any limit allows, to
// test other things. TestRateLimitAcrossInstances turns them on.
func TestMain(m *testing.M) {
	os.Setenv("RATE_LIMITS", "off")
	os.Exit(ddbtest.Main(m))
}

const (
	scidA  = "7492baca-c1b4-440d-a391-b7ef364a8d40" // titles 1297287135; sandboxes XDKS.1, RETAIL
	titleA = "1297287135"
	me     = 2533274792693551
)

var (
	stackOnce sync.Once
	stackURL  string
	stackErr  error
)

// stack returns the URL of a local API over a table holding the demo
// fixture, shared by the suites.
func stack(t *testing.T) string {
	ddbtest.Require(t)
	t.Helper()
	stackOnce.Do(func() {
		table := ddbtest.Shared(t, "../fixtures/demo.json").Name
		srv, err := devstack.NewServer(context.Background(), "", table, ddbtest.Endpoint(t), io.Discard)
		if err != nil {
			stackErr = err
			return
		}
		stackURL = httptest.NewServer(srv).URL
	})
	if stackErr != nil {
		t.Fatal(stackErr)
	}
	return stackURL
}

// token mints a development token.
func token(t *testing.T, c xbl.Caller) string {
	t.Helper()
	if c.UserHash == "" {
		c.UserHash = "uhs"
	}
	h, err := devkey.Mint(c, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func defaultToken(t *testing.T) string {
	return token(t, xbl.Caller{XUID: me, TitleID: titleA, Sandbox: "RETAIL"})
}

// send makes one request; headers are name, value pairs added in order.
func send(t *testing.T, method, url string, body []byte, headers [][2]string) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		req.Header.Add(h[0], h[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// tally counts a suite's cases for its summary line.
type tally struct {
	name                string
	cases, passed, five int
	mu                  sync.Mutex
}

func (s *tally) record(t *testing.T, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cases++
	if !t.Failed() {
		s.passed++
	}
	if status >= 500 {
		s.five++
	}
}

func (s *tally) report(t *testing.T) {
	t.Logf("suite %s: %d cases, %d passed, %d 5xx", s.name, s.cases, s.passed, s.five)
	fmt.Fprintf(os.Stderr, "suite %s: %d cases, %d passed, %d 5xx\n", s.name, s.cases, s.passed, s.five)
}

// healthy checks that the stack still answers a valid request.
func healthy(t *testing.T) {
	t.Helper()
	status, _, body := send(t, "GET", stack(t)+"/users/xuid(2533274792693551)/scids/"+scidA+"/stats/OverallReputation", nil,
		[][2]string{{"Authorization", defaultToken(t)}})
	if status != 200 || !strings.Contains(body, `"value":"66"`) {
		t.Fatalf("the stack stopped answering: %d %s", status, body)
	}
}

package sessionsapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/xbl"
)

func is400(t *testing.T, err error) {
	t.Helper()
	if p := httpapi.Classify(err); p.Status != http.StatusBadRequest || p.Message == "" {
		t.Fatalf("refusal %v is not a 400 with a message", err)
	}
}

// FuzzParseQuery: any query string and contract header give a query that
// keeps the rules, or a 400.
func FuzzParseQuery(f *testing.F) {
	f.Add("xuid=9876&keyword=a+b&visibility=open&version=1&private=true&reservations=true&inactive=true&take=100", "107", false)
	f.Add("keyword=%20&take=0", "104", false)
	f.Add("xuid=1&xuid=2", "107", true)
	f.Add("visibility=private", "9999999999999999999", false)
	f.Add("%zz=1&=&&", "-1", true)
	f.Fuzz(func(t *testing.T, raw, contract string, batch bool) {
		method := "GET"
		if batch {
			method = "POST"
		}
		r := httptest.NewRequest(method, "/x", nil)
		r.URL.RawQuery = raw
		r.Header.Set("X-Xbl-Contract-Version", contract)
		r.SetPathValue("scid", scidA)
		q, err := parseQuery(r, batch)
		if err != nil {
			is400(t, err)
			return
		}
		if q.Take < 0 || q.Take > sessions.MaxTake || q.Visibility == "private" && !q.Private ||
			!batch && len(q.XUIDs) == 0 && (q.Keyword == "" || q.Reservations || q.Inactive) ||
			batch && len(q.XUIDs) != 0 || q.HasVersion && q.Version < 0 ||
			q.Keyword != xbl.FoldKeyword(q.Keyword) || xbl.HasControlOrInvalid(q.Keyword) {
			t.Fatalf("accepted %q as %+v", raw, q)
		}
	})
}

// FuzzParseBody: any batch body gives 1 to 100 distinct xuids, or a 400.
func FuzzParseBody(f *testing.F) {
	f.Add(`{"xuids":["9876",1111]}`)
	f.Add(`{"xuids":[]}`)
	f.Add(`{"xuids":[1e3]}`)
	f.Add(`{"xuids":"x"}`)
	f.Add(`nul`)
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/x", strings.NewReader(body))
		xs, err := parseBody(r)
		if err != nil {
			is400(t, err)
			return
		}
		seen := map[uint64]bool{}
		for _, x := range xs {
			if seen[uint64(x)] {
				t.Fatalf("xuid %d twice", x)
			}
			seen[uint64(x)] = true
		}
		if len(xs) == 0 || len(xs) > sessions.MaxXUIDs {
			t.Fatalf("accepted %d xuids", len(xs))
		}
	})
}

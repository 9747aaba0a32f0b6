package statsapi

import (
	"net/http"
	"testing"

	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/stats"
)

// checkParseResult holds what every accepted request keeps to, and that
// every refusal is a 400 with a message.
func checkParseResult(t *testing.T, req *stats.Request, err error) {
	t.Helper()
	if err != nil {
		if p := httpapi.Classify(err); p.Status != http.StatusBadRequest || p.Message == "" {
			t.Fatalf("refusal %v is not a 400 with a message", err)
		}
		return
	}
	if len(req.Users) == 0 || len(req.Users) > stats.MaxUsers || len(req.SCIDs) == 0 || len(req.SCIDs) > stats.MaxSCIDs {
		t.Fatalf("accepted %d users, %d scids", len(req.Users), len(req.SCIDs))
	}
	seen := map[uint64]bool{}
	for _, x := range req.Users {
		if seen[uint64(x)] {
			t.Fatalf("user %d twice", x)
		}
		seen[uint64(x)] = true
	}
	for _, s := range req.SCIDs {
		if len(s.Stats) == 0 || len(s.Stats) > stats.MaxStatsPerSCID || len(s.SCID) != 36 {
			t.Fatalf("accepted scid %+v", s)
		}
		for _, n := range s.Stats {
			if stats.CheckStatName(n) != nil {
				t.Fatalf("accepted stat name %q", n)
			}
		}
	}
}

// FuzzParseBatch: any body gives a request that keeps the limits, or a 400.
func FuzzParseBatch(f *testing.F) {
	f.Add([]byte(`{"requestedusers":["1",2],"requestedscids":[{"scid":"` + scidA + `","requestedstats":["a","b"]}]}`))
	f.Add([]byte(`{"requestedscids":[{"requestedstats":["KD"],"scid":"` + scidA + `"}],"requestedusers":["2533274792693551"]}`))
	f.Add([]byte(`{"requestedusers":[18446744073709551616],"requestedscids":[]}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]`))
	f.Add([]byte(`{"requestedusers":"x"}`))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseBatch(body)
		checkParseResult(t, req, err)
	})
}

// FuzzParseUserPath: the single-user GET's path values.
func FuzzParseUserPath(f *testing.F) {
	f.Add("xuid(2533274792693551)", scidA, "KD,OverallReputation")
	f.Add("xuid()", scidA, "")
	f.Add("gt(x)", "x", ",,")
	f.Fuzz(func(t *testing.T, user, scid, names string) {
		req, err := parseUserPath(user, scid, names)
		checkParseResult(t, req, err)
	})
}

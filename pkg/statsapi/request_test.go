package statsapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/xblread/xblread/pkg/stats"
)

func users(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"%d"`, 1000+i)
	}
	return "[" + b.String() + "]"
}

func names(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"Stat%d"`, i)
	}
	return "[" + b.String() + "]"
}

func scids(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"scid":"%s","requestedstats":["KD"]}`, scidA)
	}
	return "[" + b.String() + "]"
}

func TestBatchRejectsBadRequests(t *testing.T) {
	h := newHandler(t, loaded(t))
	okSCIDs := `[{"scid":"` + scidA + `","requestedstats":["KD"]}]`
	body := func(users, scids string) string {
		return `{"requestedusers":` + users + `,"requestedscids":` + scids + `}`
	}
	tests := []struct {
		name, target, body string
		status             int
		message            string // a part of the errorMessage
	}{
		{"empty body", "/batch", "", 400, "request body is empty"},
		{"not JSON", "/batch", `{"requestedusers":`, 400, "not valid JSON"},
		{"array root", "/batch", `[]`, 400, "the request body must be a JSON object"},
		{"null root", "/batch", `null`, 400, "must be a JSON object, not null"},
		{"trailing data", "/batch", body(`["1"]`, okSCIDs) + `{}`, 400, "has data after its JSON value"},
		{"member twice", "/batch", `{"requestedusers":["1"],"requestedscids":` + okSCIDs + `,"requestedusers":["2"]}`, 400, `$.requestedusers: the member "requestedusers" comes twice`},
		{"member twice, ignored", "/batch", `{"x":{"a":1,"a":2},"requestedusers":["1"],"requestedscids":` + okSCIDs + `}`, 400, `$.x.a: the member "a" comes twice`},
		{"invalid UTF-8", "/batch", body(`["1"]`, `[{"scid":"`+scidA+`","requestedstats":["K`+"\xff"+`"]}]`), 400, "$.requestedscids[0].requestedstats[0]: a string is not valid UTF-8"},
		{"lone surrogate", "/batch", body(`["\ud800"]`, okSCIDs), 400, "$.requestedusers[0]: a string holds a lone surrogate"},
		{"names in another case", "/batch", `{"RequestedUsers":["1"],"requestedusers":["1"],"requestedscids":` + okSCIDs + `}`, 200, ""},
		{"users missing", "/batch", `{"requestedscids":` + okSCIDs + `}`, 400, "$.requestedusers is required (an array of xuids, not null)"},
		{"users not array", "/batch", body(`"1"`, okSCIDs), 400, "$.requestedusers must be an array"},
		{"users null", "/batch", body(`null`, okSCIDs), 400, "$.requestedusers is required (an array of xuids, not null)"},
		{"users empty", "/batch", body(`[]`, okSCIDs), 400, "requestedusers is empty"},
		{"users over limit", "/batch", body(users(101), okSCIDs), 400, "requestedusers has 101 entries; the limit is 100"},
		{"xuid bool", "/batch", body(`[true]`, okSCIDs), 400, "requestedusers[0]: xuid must be a string or a number"},
		{"xuid object", "/batch", body(`["1",{}]`, okSCIDs), 400, "requestedusers[1]"},
		{"xuid negative", "/batch", body(`[-1]`, okSCIDs), 400, "requestedusers[0]"},
		{"xuid negative string", "/batch", body(`["-1"]`, okSCIDs), 400, "requestedusers[0]"},
		{"xuid overflow", "/batch", body(`[18446744073709551616]`, okSCIDs), 400, "out of range"},
		{"xuid overflow string", "/batch", body(`["18446744073709551616"]`, okSCIDs), 400, "out of range"},
		{"xuid fraction", "/batch", body(`[1.5]`, okSCIDs), 400, "requestedusers[0]"},
		{"xuid exponent", "/batch", body(`[1e3]`, okSCIDs), 400, "requestedusers[0]"},
		{"xuid hex", "/batch", body(`["0x1F"]`, okSCIDs), 400, "requestedusers[0]"},
		{"xuid empty", "/batch", body(`[""]`, okSCIDs), 400, "xuid is empty"},
		{"scids missing", "/batch", `{"requestedusers":["1"]}`, 400, "$.requestedscids is required (an array, not null)"},
		{"scids not array", "/batch", body(`["1"]`, `{}`), 400, "requestedscids must be an array"},
		{"scids empty", "/batch", body(`["1"]`, `[]`), 400, "requestedscids is empty"},
		{"scids over limit", "/batch", body(`["1"]`, scids(11)), 400, "requestedscids has 11 entries; the limit is 10"},
		{"scid entry not object", "/batch", body(`["1"]`, `["x"]`), 400, "requestedscids[0] must be a JSON object"},
		{"scid missing", "/batch", body(`["1"]`, `[{"requestedstats":["KD"]}]`), 400, "$.requestedscids[0].scid is required (a string, not null)"},
		{"scid null", "/batch", body(`["1"]`, `[{"scid":null,"requestedstats":["KD"]}]`), 400, "$.requestedscids[0].scid is required (a string, not null)"},
		{"scid entry null", "/batch", body(`["1"]`, `[null]`), 400, "$.requestedscids[0] must be a JSON object, not null"},
		{"stat null", "/batch", body(`["1"]`, `[{"scid":"`+scidA+`","requestedstats":["KD",null]}]`), 400, "$.requestedscids[0].requestedstats[1] must be a string, not null"},
		{"xuid null", "/batch", body(`["1",null]`, okSCIDs), 400, "$.requestedusers[1]: xuid must be a string or a number"},
		{"xuid escaped", "/batch", body(`["\u0031",1]`, okSCIDs), 200, ""},
		{"scid number", "/batch", body(`["1"]`, `[{"scid":5,"requestedstats":["KD"]}]`), 400, "requestedscids[0].scid must be a string"},
		{"scid not GUID", "/batch", body(`["1"]`, `[{"scid":"abc","requestedstats":["KD"]}]`), 400, "requestedscids[0].scid: scid \"abc\" is not a GUID"},
		{"scid braces", "/batch", body(`["1"]`, `[{"scid":"{`+scidA+`}","requestedstats":["KD"]}]`), 400, "is not a GUID"},
		{"stats missing", "/batch", body(`["1"]`, `[{"scid":"`+scidA+`"}]`), 400, "$.requestedscids[0].requestedstats is required (an array of stat names, not null)"},
		{"stats not array", "/batch", body(`["1"]`, `[{"scid":"`+scidA+`","requestedstats":"KD"}]`), 400, "requestedscids[0].requestedstats must be an array"},
		{"stats empty", "/batch", body(`["1"]`, `[{"scid":"`+scidA+`","requestedstats":[]}]`), 400, "requestedscids[0].requestedstats is empty"},
		{"stats over limit", "/batch", body(`["1"]`, `[{"scid":"`+scidA+`","requestedstats":`+names(51)+`}]`), 400, "requestedstats has 51 entries; the limit is 50"},
		{"stat number", "/batch", body(`["1"]`, `[{"scid":"`+scidA+`","requestedstats":["KD",7]}]`), 400, "requestedscids[0].requestedstats[1] must be a string"},
		{"stat empty", "/batch", body(`["1"]`, `[{"scid":"`+scidA+`","requestedstats":[""]}]`), 400, "stat name is empty"},
		{"stat too long", "/batch", body(`["1"]`, `[{"scid":"`+scidA+`","requestedstats":["`+strings.Repeat("x", 257)+`"]}]`), 400, "longer than 256 bytes"},
		{"stat control char", "/batch", body(`["1"]`, `[{"scid":"`+scidA+`","requestedstats":["a\u0000b"]}]`), 400, "control character"},
		{"body over cap", "/batch", body(`["1"]`, okSCIDs) + strings.Repeat(" ", MaxBodyBytes), 400, "exceeds the limit of 262144 bytes"},
		{"operation write", "/batch?operation=write", body(`["1"]`, okSCIDs), 400, `operation "write" is not supported`},
		{"second scid bad", "/batch", body(`["1"]`, `[{"scid":"`+scidA+`","requestedstats":["KD"]},{"scid":"nope","requestedstats":["KD"]}]`), 400, "requestedscids[1].scid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := call(t, h, "POST", tt.target, tt.body)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if msg := errorMessage(w); !strings.Contains(msg, tt.message) {
				t.Errorf("errorMessage %q does not contain %q", msg, tt.message)
			}
		})
	}
}

func TestUserGetRejectsBadPaths(t *testing.T) {
	h := newHandler(t, loaded(t))
	tests := []struct {
		name, target, message string
	}{
		{"not xuid()", "/users/2533274792693551/scids/" + scidA + "/stats/KD", "must be written xuid(<decimal xuid>)"},
		{"gamertag form", "/users/gt(WarriorSaint)/scids/" + scidA + "/stats/KD", "must be written xuid"},
		{"bad xuid", "/users/xuid(abc)/scids/" + scidA + "/stats/KD", "not an unsigned decimal integer"},
		{"xuid overflow", "/users/xuid(18446744073709551616)/scids/" + scidA + "/stats/KD", "out of range"},
		{"bad scid", "/users/xuid(1)/scids/not-a-guid/stats/KD", "is not a GUID"},
		{"too many names", "/users/xuid(1)/scids/" + scidA + "/stats/a,b,c,d,e,f,g,h,i,j,k", "11 stat names requested; the limit is 10"},
		{"empty name", "/users/xuid(1)/scids/" + scidA + "/stats/KD,,OverallReputation", "stat name 2: stat name is empty"},
		{"trailing comma", "/users/xuid(1)/scids/" + scidA + "/stats/KD,", "stat name 2: stat name is empty"},
		{"space", "/users/xuid(1)/scids/" + scidA + "/stats/KD,%20OverallReputation", "contains a space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := call(t, h, "GET", tt.target, "")
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", w.Code, w.Body)
			}
			if msg := errorMessage(w); !strings.Contains(msg, tt.message) {
				t.Errorf("errorMessage %q does not contain %q", msg, tt.message)
			}
		})
	}
}

func TestVersionHeaders(t *testing.T) {
	h := newHandler(t, loaded(t))
	body := `{"requestedusers":["2533274792693551"],"requestedscids":[{"scid":"` + scidA + `","requestedstats":["KD"]}]}`
	get := "/users/xuid(2533274792693551)/scids/" + scidA + "/stats/KD"
	tests := []struct {
		name    string
		headers []string
		status  int
	}{
		{"none", nil, 200},
		{"contract 1", []string{"x-xbl-contract-version", "1"}, 200},
		{"service version 1", []string{"X-RequestedServiceVersion", "1"}, 200},
		{"both 1", []string{"x-xbl-contract-version", "1", "X-RequestedServiceVersion", "1"}, 200},
		{"contract 2", []string{"x-xbl-contract-version", "2"}, 406},
		{"contract empty", []string{"x-xbl-contract-version", ""}, 406},
		{"contract twice", []string{"x-xbl-contract-version", "1", "x-xbl-contract-version", "2"}, 406},
		{"service version 3", []string{"X-RequestedServiceVersion", "3"}, 406},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, req := range []struct{ method, target, body string }{{"POST", "/batch?operation=read", body}, {"GET", get, ""}} {
				w := call(t, h, req.method, req.target, req.body, tt.headers...)
				if w.Code != tt.status {
					t.Errorf("%s: status %d, want %d: %s", req.method, w.Code, tt.status, w.Body)
				}
				if tt.status == 406 && !strings.Contains(errorMessage(w), "is not supported; use 1") {
					t.Errorf("%s: 406 message %q", req.method, errorMessage(w))
				}
			}
		})
	}
}

func TestLimitsAreAccepted(t *testing.T) {
	h := newHandler(t, loaded(t))
	var sc []string
	for range stats.MaxSCIDs {
		sc = append(sc, `{"scid":"`+scidA+`","requestedstats":`+names(stats.MaxStatsPerSCID)+`}`)
	}
	w := call(t, h, "POST", "/batch", `{"requestedusers":`+users(stats.MaxUsers)+`,"requestedscids":[`+strings.Join(sc, ",")+`]}`)
	if w.Code != 200 {
		t.Fatalf("a request at every limit: %d %s", w.Code, w.Body)
	}
	w = call(t, h, "GET", "/users/xuid(1)/scids/"+scidA+"/stats/a,b,c,d,e,f,g,h,i,KD", "")
	if w.Code != 200 {
		t.Fatalf("10 names in the path: %d %s", w.Code, w.Body)
	}
}

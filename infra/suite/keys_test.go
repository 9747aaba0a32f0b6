package suite

import (
	"net/url"
	"strings"
	"testing"
)

// TestKeyCharacters sends characters that mean something in DynamoDB keys
// and expressions ('#', ':', '.', quotes, commas, unicode) where the
// service builds keys and expressions from request values: they are
// refused, or find nothing, and never reach another user's or SCID's items.
func TestKeyCharacters(t *testing.T) {
	base := stack(t)
	tok := defaultToken(t)
	sum := &tally{name: "key characters"}
	// The demo fixture's session-seven carries keywords "one" and "two" in
	// SCID A; user 2533274792693551 has stats there, among them SecretStat.
	tests := []struct {
		name, method, path, body string
		status                   int
		absent                   []string // must not appear in the answer
	}{
		{"keyword with #", "GET", "/serviceconfigs/" + scidA + "/sessions?keyword=" + url.PathEscape("one#"), "", 200, []string{"session-seven"}},
		{"keyword naming another partition", "GET", "/serviceconfigs/" + scidA + "/sessions?keyword=" + url.PathEscape(scidA+"#one"), "", 200, []string{"session-seven"}},
		{"keyword #", "GET", "/serviceconfigs/" + scidA + "/sessions?keyword=%23", "", 200, []string{"sessionRef"}},
		{"keyword quote", "GET", "/serviceconfigs/" + scidA + "/sessions?keyword=%22", "", 200, []string{"sessionRef"}},
		{"keyword unicode", "GET", "/serviceconfigs/" + scidA + "/sessions?keyword=%C3%BCn%C3%AF", "", 200, []string{"sessionRef"}},
		{"keyword prefix", "GET", "/serviceconfigs/" + scidA + "/sessions?keyword=on", "", 200, []string{"sessionRef"}},
		{"template with #", "GET", "/serviceconfigs/" + scidA + "/sessiontemplates/deathmatch%23session-seven/sessions?xuid=9876", "", 400, nil},
		{"template prefix of another", "GET", "/serviceconfigs/" + scidA + "/sessiontemplates/death/sessions?xuid=9876", "", 200, []string{"sessionRef"}},
		{"scid with # and another scid", "GET", "/serviceconfigs/" + url.PathEscape(scidA+"#x") + "/sessions?xuid=9876", "", 400, nil},
		{"xuid with #", "GET", "/serviceconfigs/" + scidA + "/sessions?xuid=" + url.QueryEscape("9876#"+scidA), "", 400, nil},
		{"xuid in path with #", "GET", "/users/xuid(" + url.PathEscape("2533274792693551#"+scidA) + ")/scids/" + scidA + "/stats/KD", "", 400, nil},
		{"stat name with #", "POST", "/batch", `{"requestedusers":["2533274792693551"],"requestedscids":[{"scid":"` + scidA + `","requestedstats":["SecretStat#","#pk","s:SecretStat"]}]}`, 200, []string{`"value"`}},
		{"stat name like an attribute", "POST", "/batch", `{"requestedusers":["2533274792693551"],"requestedscids":[{"scid":"` + scidA + `","requestedstats":["gamertag","titleIds","sk","pk","stats.KD"]}]}`, 200, []string{`"value"`, "1297287135"}},
		{"stat name with expression syntax", "POST", "/batch", `{"requestedusers":["2533274792693551"],"requestedscids":[{"scid":"` + scidA + `","requestedstats":["KD, gamertag","a.b[0]",":v","\"KD\""]}]}`, 200, []string{`"value"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			if tt.body != "" {
				body = []byte(tt.body)
			}
			status, _, got := send(t, tt.method, base+tt.path, body, [][2]string{{"Authorization", tok}, {"x-xbl-contract-version", cv(tt.path)}})
			if status != tt.status {
				t.Errorf("%d, want %d: %s", status, tt.status, got)
			}
			for _, a := range tt.absent {
				if strings.Contains(got, a) {
					t.Errorf("answer holds %q: %s", a, got)
				}
			}
			sum.record(t, status)
		})
	}
	sum.report(t)
}

// cv is the contract version a route's callers send.
func cv(path string) string {
	if strings.HasPrefix(path, "/serviceconfigs/") {
		return "107"
	}
	return "1"
}

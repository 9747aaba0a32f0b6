package leaderboardsapi

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/xbl"
)

// TestLongGamertagFitsTheClient: a gamertag longer than XSAPI's buffers
// is cut at a character's boundary, so that the answer still parses.
func TestLongGamertagFitsTheClient(t *testing.T) {
	long := strings.Repeat("é", 40) // 80 bytes
	p := &leaderboards.Page{
		Board: leaderboards.Board{SCID: scid, Leaderboard: xbl.Leaderboard{Stat: "Score", Type: xbl.Integer}},
		Rows:  []leaderboards.Row{{Entry: leaderboards.Entry{XUID: 1, Value: xbl.StatValue{Type: xbl.Integer, Value: "5"}, Gamertag: long}, Rank: 1, Percentile: 1}},
		Total: 1,
	}
	body, err := httpapi.Marshal(render(p))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := xsapiParse(body); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	for _, tt := range []struct {
		s    string
		n    int
		want string
	}{{long, 47, strings.Repeat("é", 23)}, {"abc", 2, "ab"}, {"abc", 3, "abc"}, {"é", 1, ""}} {
		if got := clip(tt.s, tt.n); got != tt.want || !utf8.ValidString(got) {
			t.Errorf("clip(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

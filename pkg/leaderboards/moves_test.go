package leaderboards

import (
	"testing"

	"github.com/xblread/xblread/pkg/xbl"
)

func TestMoves(t *testing.T) {
	cfg := &xbl.ServiceConfig{SCID: "s", Leaderboards: map[string]xbl.Leaderboard{
		"score": {Stat: "Score"}, "time": {Stat: "Time", Ascending: true},
	}}
	i := func(s string) xbl.StatValue { return xbl.StatValue{Type: xbl.Integer, Value: s} }
	d := func(s string) xbl.StatValue { return xbl.StatValue{Type: xbl.Double, Value: s} }
	str := func(s string) xbl.StatValue { return xbl.StatValue{Type: xbl.String, Value: s} }
	type m struct{ stat, from, to string }
	for _, tt := range []struct {
		name          string
		before, after map[string]xbl.StatValue
		want          []m
	}{
		{"first value", nil, map[string]xbl.StatValue{"score": i("5")}, []m{{"Score", "", "5"}}},
		{"unranked stat", nil, map[string]xbl.StatValue{"kills": i("5")}, nil},
		{"unchanged", map[string]xbl.StatValue{"score": i("5")}, map[string]xbl.StatValue{"score": i("5")}, nil},
		{"changed", map[string]xbl.StatValue{"score": i("5")}, map[string]xbl.StatValue{"score": i("9")}, []m{{"Score", "5", "9"}}},
		{"same number, new text", map[string]xbl.StatValue{"score": i("7")}, map[string]xbl.StatValue{"score": d("7")}, []m{{"Score", "7", "7"}}},
		{"deleted", map[string]xbl.StatValue{"score": i("5"), "time": d("1.5")}, map[string]xbl.StatValue{"time": d("1.5")}, []m{{"Score", "5", ""}}},
		{"became a string", map[string]xbl.StatValue{"score": i("5")}, map[string]xbl.StatValue{"score": str("x")}, []m{{"Score", "5", ""}}},
		{"string to number", map[string]xbl.StatValue{"score": str("x")}, map[string]xbl.StatValue{"score": i("1")}, []m{{"Score", "", "1"}}},
		{"two boards, in key order", nil, map[string]xbl.StatValue{"time": d("2.5"), "score": i("1")}, []m{{"Score", "", "1"}, {"Time", "", "2.5"}}},
	} {
		got := Moves(cfg, 9, tt.before, tt.after)
		if len(got) != len(tt.want) {
			t.Errorf("%s: %d moves, want %d: %+v", tt.name, len(got), len(tt.want), got)
			continue
		}
		for k, g := range got {
			text := func(v *xbl.StatValue) string {
				if v == nil {
					return ""
				}
				return v.Value
			}
			if g.Board.Stat != tt.want[k].stat || text(g.From) != tt.want[k].from || text(g.To) != tt.want[k].to || g.XUID != 9 || g.Board.SCID != "s" {
				t.Errorf("%s: move %d is %+v, want %+v", tt.name, k, g, tt.want[k])
			}
		}
	}
}

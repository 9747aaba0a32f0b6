package leaderboards

import (
	"context"
	"errors"
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

type recorder struct {
	moves []Move
	fail  bool
}

func (r *recorder) Apply(_ context.Context, m Move, gamertag string) (bool, error) {
	if r.fail {
		return false, errors.New("down")
	}
	r.moves = append(r.moves, m)
	return gamertag == "applied", nil
}

type configs map[string]*xbl.ServiceConfig

func (c configs) ReadConfig(_ context.Context, scid string) (*xbl.ServiceConfig, xbl.Usage, error) {
	return c[scid], xbl.Usage{}, nil
}

// TestIndexUpdate: the moves of a write reach the store; a SCID without
// leaderboards, or without a configuration, moves nothing; a store
// failure is the caller's to retry.
func TestIndexUpdate(t *testing.T) {
	cfg := &xbl.ServiceConfig{SCID: "s", Leaderboards: map[string]xbl.Leaderboard{"score": {Stat: "Score"}}}
	r := &recorder{}
	ix := &Index{Configs: configs{"s": cfg, "plain": {SCID: "plain"}}, Store: r}
	after := map[string]xbl.StatValue{"score": {Type: xbl.Integer, Value: "3"}}
	n, err := ix.Update(context.Background(), 5, "s", nil, after, "applied")
	if err != nil || n != 1 || len(r.moves) != 1 || r.moves[0].To.Value != "3" || r.moves[0].XUID != 5 {
		t.Fatalf("%d %v %+v", n, err, r.moves)
	}
	for _, scid := range []string{"plain", "unknown"} {
		if n, err := ix.Update(context.Background(), 5, scid, nil, after, "applied"); n != 0 || err != nil || len(r.moves) != 1 {
			t.Errorf("%s: %d %v %d moves", scid, n, err, len(r.moves))
		}
	}
	r.fail = true
	if _, err := ix.Update(context.Background(), 5, "s", after, nil, "x"); err == nil {
		t.Error("a store failure was not reported")
	}
}

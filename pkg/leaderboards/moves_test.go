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
	moves  []Move
	failAt int // the move Apply fails at; -1 for none
}

func (r *recorder) Apply(_ context.Context, moves []Move) (applied, done int, err error) {
	for i, m := range moves {
		if i == r.failAt {
			return applied, i, errors.New("down")
		}
		r.moves = append(r.moves, m)
		applied++
	}
	return applied, len(moves), nil
}

type configs map[string]*xbl.ServiceConfig

func (c configs) ReadConfig(_ context.Context, scid string) (*xbl.ServiceConfig, xbl.Usage, error) {
	return c[scid], xbl.Usage{}, nil
}

// TestIndexUpdate: the moves of writes reach the store, with their
// players' gamertags; a SCID without leaderboards, or without a
// configuration, moves nothing; a store failure reports the write it
// failed at, for the caller to retry from.
func TestIndexUpdate(t *testing.T) {
	cfg := &xbl.ServiceConfig{SCID: "s", Leaderboards: map[string]xbl.Leaderboard{"score": {Stat: "Score"}, "time": {Stat: "Time"}}}
	r := &recorder{failAt: -1}
	ix := &Index{Configs: configs{"s": cfg, "plain": {SCID: "plain"}}, Store: r}
	after := map[string]xbl.StatValue{"score": {Type: xbl.Integer, Value: "3"}, "time": {Type: xbl.Integer, Value: "9"}}
	writes := []Write{
		{XUID: 5, SCID: "plain", After: after},
		{XUID: 5, SCID: "s", After: after, Gamertag: "Five"},
		{XUID: 6, SCID: "unknown", After: after},
		{XUID: 7, SCID: "s", Before: after, Gamertag: "Seven"},
	}
	moved, done, err := ix.Update(context.Background(), writes)
	if err != nil || moved != 4 || done != 4 || len(r.moves) != 4 {
		t.Fatalf("%d %d %v %+v", moved, done, err, r.moves)
	}
	if m := r.moves[0]; m.XUID != 5 || m.To.Value != "3" || m.Gamertag != "Five" || r.moves[3].XUID != 7 || r.moves[3].To != nil {
		t.Errorf("moves %+v", r.moves)
	}
	// The third move (the first of write 3) fails: writes 0 to 2 are done.
	r.moves, r.failAt = nil, 2
	if _, done, err := ix.Update(context.Background(), writes); err == nil || done != 3 {
		t.Errorf("a store failure: done %d, %v; want 3 and the error", done, err)
	}
	if _, done, err := ix.Update(context.Background(), nil); err != nil || done != 0 {
		t.Errorf("no writes: %d %v", done, err)
	}
}

package leaderboards

import (
	"maps"
	"slices"

	"github.com/xblread/xblread/pkg/xbl"
)

// Move is what one write of a player's statistics does to one board: the
// player leaves the place of From and takes that of To; From is nil for a
// player the board did not rank, To nil for one it no longer ranks (the
// stat deleted, left out of a replaced document, or no longer a number).
type Move struct {
	Board    Board
	XUID     xbl.XUID
	From, To *xbl.StatValue
	// Gamertag is the player's, shown in the rows.
	Gamertag string
}

// Moves returns the moves of a write that changed player x's statistics
// of cfg's SCID from before to after (values by xbl.StatKey), one per
// board whose value changed, in the order of the boards' stat keys. A
// value written again unchanged moves nothing; one that changes only its
// text (7 written as the Double 7.0) moves the player to the same place,
// so that the board shows the value as written.
func Moves(cfg *xbl.ServiceConfig, x xbl.XUID, before, after map[string]xbl.StatValue) []Move {
	var out []Move
	for _, key := range slices.Sorted(maps.Keys(cfg.Leaderboards)) {
		from, to := ranked(before, key), ranked(after, key)
		if from == nil && to == nil || from != nil && to != nil && *from == *to {
			continue
		}
		out = append(out, Move{Board: Board{SCID: cfg.SCID, Leaderboard: cfg.Leaderboards[key]}, XUID: x, From: from, To: to})
	}
	return out
}

func ranked(values map[string]xbl.StatValue, key string) *xbl.StatValue {
	if v, ok := values[key]; ok && Ranked(v) {
		return &v
	}
	return nil
}

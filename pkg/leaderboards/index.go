package leaderboards

import (
	"context"

	"github.com/xblread/xblread/pkg/xbl"
)

// Mover applies moves to the ranking's store: the port the index writes
// through.
type Mover interface {
	// Apply applies m, gamertag being the player's, and reports whether it
	// changed anything: a move applied before (a retried batch) changes
	// nothing and is not an error. Moves of one player must be applied in
	// the order their writes were made.
	Apply(ctx context.Context, m Move, gamertag string) (bool, error)
}

// Index keeps the boards in step with the statistics: it is told of each
// write of a player's statistics, in order, and moves the player on every
// board the write changed.
type Index struct {
	Configs xbl.ConfigReader
	Store   Mover
}

// Update moves player x on the boards of scid that a write changed, from
// the values before it to those after it (by xbl.StatKey; nil for no
// document). A SCID without leaderboards costs one configuration read
// (usually cached) and nothing else. It returns the number of moves that
// changed the ranking.
func (ix *Index) Update(ctx context.Context, x xbl.XUID, scid string, before, after map[string]xbl.StatValue, gamertag string) (int, error) {
	cfg, _, err := ix.Configs.ReadConfig(ctx, scid)
	if err != nil || cfg == nil || len(cfg.Leaderboards) == 0 {
		return 0, err
	}
	n := 0
	for _, m := range Moves(cfg, x, before, after) {
		applied, err := ix.Store.Apply(ctx, m, gamertag)
		if err != nil {
			return n, err
		}
		if applied {
			n++
		}
	}
	return n, nil
}

package leaderboards

import (
	"context"

	"github.com/xblread/xblread/pkg/xbl"
)

// Mover applies moves to the ranking's store: the port the index writes
// through.
type Mover interface {
	// Apply applies moves in order, each player's in the order their
	// writes were made, and returns once the boards' counters count them
	// (a board may show the entries first). It reports how many moves
	// changed the ranking and how many of moves, from the first, are done:
	// applied, or applied before (a retried batch: such a move changes
	// nothing and is not an error). When done < len(moves), err says why
	// moves[done] was not.
	Apply(ctx context.Context, moves []Move) (applied, done int, err error)
}

// Write is one write of a player's statistics as the index is told of it:
// the values before and after it (by xbl.StatKey; nil for no document).
type Write struct {
	XUID          xbl.XUID
	SCID          string
	Before, After map[string]xbl.StatValue
	Gamertag      string
}

// Index keeps the boards in step with the statistics: it is told of the
// writes of players' statistics, each player's in order, and moves each
// player on every board a write changed.
type Index struct {
	Configs xbl.ConfigReader
	Store   Mover
}

// Update moves the players of writes on the boards the writes changed. A
// SCID without leaderboards costs one configuration read (usually cached)
// and nothing else. It returns the number of moves that changed the
// ranking and the number of writes, from the first, that are done; when
// done < len(writes), err says why writes[done] is not.
func (ix *Index) Update(ctx context.Context, writes []Write) (moved, done int, err error) {
	var moves []Move
	var of []int // of[i]: the write of moves[i]
	for i, w := range writes {
		cfg, _, err := ix.Configs.ReadConfig(ctx, w.SCID)
		if err != nil {
			// The writes before it are still applied.
			moved, d, aerr := ix.apply(ctx, moves, of, i)
			if aerr != nil {
				return moved, d, aerr
			}
			return moved, i, err
		}
		if cfg == nil || len(cfg.Leaderboards) == 0 {
			continue
		}
		for _, m := range Moves(cfg, w.XUID, w.Before, w.After) {
			m.Gamertag = w.Gamertag
			moves = append(moves, m)
			of = append(of, i)
		}
	}
	return ix.apply(ctx, moves, of, len(writes))
}

// apply applies moves (moves[i] of write of[i]), all that n writes make.
func (ix *Index) apply(ctx context.Context, moves []Move, of []int, n int) (moved, done int, err error) {
	if len(moves) == 0 {
		return 0, n, nil
	}
	moved, d, err := ix.Store.Apply(ctx, moves)
	if d < len(moves) {
		return moved, of[d], err
	}
	return moved, n, err
}

package memstore

import (
	"context"
	"slices"

	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/xbl"
)

var _ leaderboards.Ranking = (*Store)(nil)

// board returns every ranked entry of b, in b's order: the oracle the
// table's ranking is checked against. It sorts every time.
func (s *Store) board(b *leaderboards.Board) []leaderboards.Entry {
	key := xbl.StatKey(b.Stat)
	var out []leaderboards.Entry
	for us, values := range s.stats {
		if us.scid != b.SCID {
			continue
		}
		if v, ok := values[key]; ok && leaderboards.Ranked(v) {
			out = append(out, leaderboards.Entry{XUID: us.xuid, Value: v, Gamertag: s.gamertags[us]})
		}
	}
	slices.SortFunc(out, func(x, y leaderboards.Entry) int {
		return b.Compare(leaderboards.CursorOf(&x), leaderboards.CursorOf(&y))
	})
	return out
}

// slice is the entries of all from index i (0-based), n at most.
func slice(all []leaderboards.Entry, i, n int) *leaderboards.Slice {
	sl := &leaderboards.Slice{Total: uint32(len(all)), First: uint32(i + 1), Usage: xbl.Usage{Calls: 1}}
	if i < len(all) {
		sl.Entries = slices.Clone(all[i:min(len(all), i+n)])
		sl.Usage.Items = len(sl.Entries)
	}
	return sl
}

// At implements leaderboards.Ranking.
func (s *Store) At(ctx context.Context, b *leaderboards.Board, r uint32, n int) (*leaderboards.Slice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	return slice(s.board(b), int(max(r, 1)-1), n), nil
}

// After implements leaderboards.Ranking.
func (s *Store) After(ctx context.Context, b *leaderboards.Board, c leaderboards.Cursor, n int) (*leaderboards.Slice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	all := s.board(b)
	i, found := slices.BinarySearchFunc(all, c, func(e leaderboards.Entry, c leaderboards.Cursor) int {
		return b.Compare(leaderboards.CursorOf(&e), c)
	})
	if found {
		i++
	}
	return slice(all, i, n), nil
}

// RankOf implements leaderboards.Ranking.
func (s *Store) RankOf(ctx context.Context, b *leaderboards.Board, x xbl.XUID) (uint32, xbl.Usage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return 0, xbl.Usage{}, err
	}
	i := slices.IndexFunc(s.board(b), func(e leaderboards.Entry) bool { return e.XUID == x })
	return uint32(i + 1), xbl.Usage{Calls: 1, Items: 1}, nil
}

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

// slice is the entries of all from index i (0-based), n at most, with
// the rank and tie of the first.
func slice(all []leaderboards.Entry, i, n int) *leaderboards.Slice {
	sl := &leaderboards.Slice{Total: uint32(len(all)), Usage: xbl.Usage{Calls: 1}}
	if i >= len(all) {
		return sl
	}
	end := min(len(all), i+n)
	sl.Entries = slices.Clone(all[i:end])
	sl.More = end < len(all)
	sl.Usage.Items = len(sl.Entries)
	first, last := leaderboards.Tie(all, i)
	sl.Rank, sl.Ties = uint32(first+1), uint32(last-first+1)
	return sl
}

// At implements leaderboards.Ranking.
func (s *Store) At(ctx context.Context, b *leaderboards.Board, r uint32, n int) (*leaderboards.Slice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	all := s.board(b)
	i := int(max(r, 1) - 1)
	if i < len(all) {
		i, _ = leaderboards.Tie(all, i)
	}
	return slice(all, i, n), nil
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

// Around implements leaderboards.Ranking.
func (s *Store) Around(ctx context.Context, b *leaderboards.Board, x xbl.XUID, n int) (*leaderboards.Slice, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return nil, false, err
	}
	all := s.board(b)
	i := slices.IndexFunc(all, func(e leaderboards.Entry) bool { return e.XUID == x })
	if i < 0 {
		return &leaderboards.Slice{Usage: xbl.Usage{Calls: 1}}, false, nil
	}
	better, last := leaderboards.Tie(all, i)
	start, atPlayer, _ := leaderboards.AroundStart(uint32(better), uint32(last-better+1), n, func(p uint32) (uint32, error) {
		first, _ := leaderboards.Tie(all, int(p)-1)
		return uint32(first + 1), nil
	})
	if atPlayer {
		return slice(all, i, n), true, nil
	}
	return slice(all, int(start)-1, n), true, nil
}

// Package leaderboards is XSAPI's leaderboard service over title-managed
// statistics: a statistic a SCID's configuration names a leaderboard for
// (xbl.Leaderboard), ranked across every player who has a numeric value
// for it. It holds the rules (access, order, ranks, pages and their
// continuation tokens) and the port of the ranking's store (Ranking).
//
// Order and ranks: players are ordered by value in the leaderboard's
// order (descending unless it says ascending), compared as numbers
// whether written as Integer or Double; players with equal values are
// ordered by xuid, the smaller first. A player's rank is 1 + the number of
// players whose value is strictly better: equal values share a rank, and
// the next value's rank counts them all (1, 2, 2, 4), so that a rank
// never depends on the order within a tie, and telling it needs no count
// of a tie's members one by one.
package leaderboards

import (
	"cmp"
	"context"
	"encoding/binary"
	"math"
	"strconv"

	"github.com/xblread/xblread/pkg/xbl"
)

// Board is one leaderboard: a SCID's configured leaderboard.
type Board struct {
	SCID string // canonical
	xbl.Leaderboard
}

// Entry is one player's place on a board.
type Entry struct {
	XUID     xbl.XUID
	Value    xbl.StatValue // Integer or Double, as written
	Gamertag string        // as the store last knew it; "" when unknown
}

// Slice is consecutive entries of a board, in its order.
type Slice struct {
	Entries []Entry
	// Rank is the rank of Entries[0] (when there is one), and Ties the
	// number of players on the board with its value, those before it
	// included.
	Rank, Ties uint32
	// More reports whether entries follow the last of Entries.
	More bool
	// Total is the number of players the board ranks.
	Total uint32
	// Usage is what reading the slice cost.
	Usage xbl.Usage
}

// Ranking is the store of the boards' order. Its answers follow the
// package's order (Board.Compare) and ranks; each is one reading of the
// store, so that while nothing is written, its entries, ranks and Total
// agree with each other and with every other answer. What a write made
// during a reading may change is the implementation's to document.
type Ranking interface {
	// At returns up to n entries of b from the first of the players who
	// share the value of the player at position r (from 1) of b's order,
	// so that a slice of At never starts inside a tie: fewer at the end
	// of the board, none past it (with Total all the same).
	At(ctx context.Context, b *Board, r uint32, n int) (*Slice, error)
	// After returns up to n entries of b that come after the place c in
	// b's order (c need not be on the board any more).
	After(ctx context.Context, b *Board, c Cursor, n int) (*Slice, error)
	// Around returns up to n entries of b holding player x, from where
	// AroundStart puts the page's start (about (n-1)/2 places before x's
	// value, never inside another tie); found is false (and the slice nil,
	// but for its Usage) when x has no ranked value on b.
	Around(ctx context.Context, b *Board, x xbl.XUID, n int) (sl *Slice, found bool, err error)
}

// AroundStart returns where a page of n rows around a player starts: the
// player's value has better players strictly better than it and ties
// players (the player among them); first(p) returns the first position
// of the tie that holds position p (from 1). The page starts at the first
// player of the value (n-1)/2 places before the player's value, when the
// page then holds every player of the player's value; else at the first
// player of the player's value, when they fit on a page; else (a tie
// longer than a page) at the player itself (atPlayer). So a page starts
// inside a tie only at the player, and where it starts is known from the
// counts before any entry is read: the player's place inside its tie,
// which no count holds, is never needed.
func AroundStart(better, ties uint32, n int, first func(p uint32) (uint32, error)) (start uint32, atPlayer bool, err error) {
	back := uint32(max(n-1, 0) / 2)
	p := better + 1 - min(back, better)
	s := better + 1
	if p < s {
		if s, err = first(p); err != nil {
			return 0, false, err
		}
	}
	switch {
	case uint64(s)+uint64(n) >= uint64(better)+uint64(ties)+1:
		return s, false, nil
	case ties <= uint32(n):
		return better + 1, false, nil
	}
	return 0, true, nil
}

// Cursor is a place in a board's order: that of a player with a value.
type Cursor struct {
	Value xbl.StatValue
	XUID  xbl.XUID
}

// CursorOf is the place of e.
func CursorOf(e *Entry) Cursor { return Cursor{Value: e.Value, XUID: e.XUID} }

// Ranked reports whether v is a value a board ranks: a finite Integer or
// Double. A String value, or one that does not parse, is not ranked.
func Ranked(v xbl.StatValue) bool {
	_, ok := number(v)
	return ok
}

// number is v as a double; ok is false for a value that is not ranked.
// An Integer beyond 2^53 is ranked as the nearest double: two such values
// that round to the same double tie (and are ordered by xuid).
func number(v xbl.StatValue) (float64, bool) {
	var f float64
	switch v.Type {
	case xbl.Integer:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			return 0, false
		}
		f = float64(n)
	case xbl.Double:
		var err error
		f, err = strconv.ParseFloat(v.Value, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, false
		}
	default:
		return 0, false
	}
	if f == 0 {
		f = 0 // -0 ranks as 0
	}
	return f, true
}

// Tie returns the indexes of the first and the last of the entries es
// (in a board's order) whose value is that of es[i].
func Tie(es []Entry, i int) (first, last int) {
	first, last = i, i
	for first > 0 && CompareValues(es[first-1].Value, es[i].Value) == 0 {
		first--
	}
	for last+1 < len(es) && CompareValues(es[last+1].Value, es[i].Value) == 0 {
		last++
	}
	return first, last
}

// CompareValues compares two ranked values as numbers: -1, 0 or +1. A
// value that is not ranked sorts after every ranked one.
func CompareValues(a, b xbl.StatValue) int {
	x, okA := number(a)
	y, okB := number(b)
	if !okA || !okB {
		return cmp.Compare(boolInt(!okA), boolInt(!okB))
	}
	return cmp.Compare(x, y)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// KeySize is the length of a Key.
const KeySize = 16

// Key is the place c in b's order as bytes that sort as b.Compare sorts
// places (bytes.Compare): the value as a double whose bits are made to
// sort as numbers (and inverted for a descending board), then the xuid,
// big-endian. c.Value must be ranked.
func (b *Board) Key(c Cursor) [KeySize]byte {
	f, _ := number(c.Value)
	bits := math.Float64bits(f)
	if bits>>63 == 1 {
		bits = ^bits // negative: larger magnitude sorts first
	} else {
		bits |= 1 << 63
	}
	if !b.Ascending {
		bits = ^bits
	}
	var k [KeySize]byte
	binary.BigEndian.PutUint64(k[:8], bits)
	binary.BigEndian.PutUint64(k[8:], uint64(c.XUID))
	return k
}

// Compare orders two places on board b: negative when a comes first
// (ranks better), positive when b does, 0 for the same place.
func (b *Board) Compare(a, c Cursor) int {
	v := CompareValues(a.Value, c.Value)
	if !b.Ascending {
		v = -v
	}
	if v != 0 {
		return v
	}
	return cmp.Compare(uint64(a.XUID), uint64(c.XUID))
}

// Percentile is what XSAPI shows beside a rank: rank/total.
func Percentile(rank, total uint32) float64 {
	if total == 0 {
		return 0
	}
	return float64(rank) / float64(total)
}

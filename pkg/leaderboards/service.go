package leaderboards

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"slices"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/jsonpath"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/xbl"
)

// Page sizes: a request without maxItems gets DefaultMaxItems rows; one
// asking for more than MaxItems gets MaxItems (and a continuation token
// for the rest), as a client that asks for a long page still gets one.
const (
	DefaultMaxItems = 10
	MaxItems        = 100
)

// Request is one global leaderboard query, as XSAPI sends it.
type Request struct {
	SCID string // as the caller wrote it
	Stat string
	// MaxItems is the page size asked for; 0 for the default.
	MaxItems int
	// At most one of the three is set: the rank to start at, the player
	// whose page to answer, the continuation token of the previous page.
	SkipToRank   uint32
	SkipToUser   xbl.XUID
	Continuation string
	// ValueMetadata asks for each row's other statistics (XSAPI's
	// include=valuemetadata, for extra columns).
	ValueMetadata bool
}

// Row is one row of a page.
type Row struct {
	Entry
	Rank       uint32
	Percentile float64
	// Metadata, when asked for, are the player's statistics of the SCID
	// that the caller may read, by name as the game wrote them (empty for
	// a player with none).
	Metadata map[string]xbl.StatValue
}

// Page is the answer to a Request.
type Page struct {
	Board Board
	Rows  []Row
	// Total is the number of players the board ranks.
	Total uint32
	// Next is the continuation token of the next page; "" on the last.
	Next string
	// Usage is what answering cost, the configuration's read included.
	Usage xbl.Usage
}

// Service is the leaderboards of one deployment.
type Service struct {
	Configs xbl.ConfigReader
	Ranking Ranking
	// Stats reads the rows' players' other statistics, for
	// Request.ValueMetadata (nil: it is refused as Unsupported).
	Stats stats.Reader
}

// Read answers req for caller. Access is decided first, from the SCID's
// configuration alone: the SCID must be configured (404) and in the
// caller's sandbox (403), the stat must have a leaderboard (404), and a
// stat that is not open is readable only by a title that owns the SCID
// (403). Then one reading of the ranking answers:
//   - a continuation token: the rows after the previous page's last, by
//     place in the order (keyset), so that a row never shows twice and
//     none is missed while nothing is written; a write between pages moves
//     the rows it moves, and the ranks are those of the new reading;
//   - skipToRank r: the rows from the player at position r of the
//     order, or from the first of the players tied with that one, so that
//     a page never starts inside a tie (its first rank may be below r);
//   - skipToUser x: the page holding x, x in its middle (rows before x
//     as far as there are any), or the top page when x has no ranked
//     value;
//   - otherwise the top page.
//
// Every page but the last has a continuation token.
func (s *Service) Read(ctx context.Context, caller *xbl.Caller, req *Request) (*Page, error) {
	scid, err := xbl.ParseSCID(req.SCID)
	if err != nil {
		return nil, derrors.New(derrors.Invalid, "scid %q: %v", jsonpath.Clip(req.SCID), err)
	}
	n := req.MaxItems
	switch {
	case n < 0:
		return nil, derrors.New(derrors.Invalid, "maxItems %d: must be at least 1", n)
	case n == 0:
		n = DefaultMaxItems
	case n > MaxItems:
		n = MaxItems
	}
	set := 0
	for _, b := range []bool{req.SkipToRank != 0, req.SkipToUser != 0, req.Continuation != ""} {
		if b {
			set++
		}
	}
	if set > 1 {
		return nil, derrors.New(derrors.Invalid, "skipToRank, skipToUser and continuationToken: give at most one")
	}
	cfg, usage, err := s.Configs.ReadConfig(ctx, scid)
	page := &Page{Usage: usage}
	if err != nil {
		return page, err
	}
	if err := xbl.CheckSCID(cfg, req.SCID, caller); err != nil {
		return page, err
	}
	lb, ok := cfg.Leaderboard(req.Stat)
	if !ok {
		return page, derrors.New(derrors.NotFound, "stat %q of scid %s has no leaderboard", jsonpath.Clip(req.Stat), req.SCID)
	}
	if cfg.Stats[xbl.StatKey(req.Stat)] != xbl.Open && !cfg.Owns(caller) {
		return page, derrors.New(derrors.Forbidden, "stat %q of scid %s is restricted to the titles that own the scid", jsonpath.Clip(req.Stat), req.SCID)
	}
	b := &Board{SCID: scid, Leaderboard: lb}
	page.Board = *b
	var sl *Slice
	switch {
	case req.Continuation != "":
		c, err := b.decodeToken(req.Continuation)
		if err != nil {
			return page, err
		}
		sl, err = s.Ranking.After(ctx, b, c, n)
		if sl != nil {
			page.Usage.Add(sl.Usage)
		}
		if err != nil {
			return page, err
		}
	case req.SkipToUser != 0:
		var found bool
		sl, found, err = s.Ranking.Around(ctx, b, req.SkipToUser, n)
		if sl != nil {
			page.Usage.Add(sl.Usage)
		}
		if err != nil {
			return page, err
		}
		if !found {
			if sl, err = s.at(ctx, b, 1, n, page); err != nil {
				return page, err
			}
		}
	default:
		start := req.SkipToRank
		if start == 0 {
			start = 1
		}
		if sl, err = s.at(ctx, b, start, n, page); err != nil {
			return page, err
		}
	}
	page.Total = sl.Total
	page.Rows = rows(sl)
	if k := len(page.Rows); k > 0 && sl.More {
		page.Next = b.encodeToken(CursorOf(&page.Rows[k-1].Entry))
	}
	if req.ValueMetadata {
		if err := s.metadata(ctx, caller, cfg, page); err != nil {
			return page, err
		}
	}
	return page, nil
}

// rows ranks sl's entries: the first has sl.Rank; each later value's rank
// is the previous value's plus the number of players with it (sl.Ties for
// the first value, whose tie may begin before the slice).
func rows(sl *Slice) []Row {
	out := make([]Row, len(sl.Entries))
	rank, start := sl.Rank, 0
	for i, e := range sl.Entries {
		if i > 0 && CompareValues(e.Value, sl.Entries[i-1].Value) != 0 {
			if start == 0 {
				rank += sl.Ties
			} else {
				rank += uint32(i - start)
			}
			start = i
		}
		out[i] = Row{Entry: e, Rank: rank, Percentile: Percentile(rank, sl.Total)}
	}
	return out
}

func (s *Service) at(ctx context.Context, b *Board, r uint32, n int, page *Page) (*Slice, error) {
	sl, err := s.Ranking.At(ctx, b, r, n)
	if sl != nil {
		page.Usage.Add(sl.Usage)
	}
	return sl, err
}

// A continuation token is opaque to callers: base64url (no padding) of
// a version byte, a check of the board it belongs to (so that a token of
// another board, or one altered, is refused rather than misread), the
// xuid, the value's type and its text.
const tokenVersion = 1

func (b *Board) check() uint32 {
	order := "d"
	if b.Ascending {
		order = "a"
	}
	return crc32.ChecksumIEEE([]byte(b.SCID + "\x00" + xbl.StatKey(b.Stat) + "\x00" + order))
}

func (b *Board) encodeToken(c Cursor) string {
	buf := []byte{tokenVersion}
	buf = binary.BigEndian.AppendUint32(buf, b.check())
	buf = binary.BigEndian.AppendUint64(buf, uint64(c.XUID))
	buf = append(buf, typeByte(c.Value.Type))
	buf = append(buf, c.Value.Value...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// maxTokenBytes bounds a token: a value's text is at most a few dozen
// bytes.
const maxTokenBytes = 128

func (b *Board) decodeToken(s string) (Cursor, error) {
	bad := derrors.New(derrors.Invalid, "continuationToken %q is not one this leaderboard gave", jsonpath.Clip(s))
	if len(s) > maxTokenBytes {
		return Cursor{}, bad
	}
	buf, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(buf) < 1+4+8+1+1 || buf[0] != tokenVersion || binary.BigEndian.Uint32(buf[1:]) != b.check() {
		return Cursor{}, bad
	}
	t, ok := byteType(buf[13])
	if !ok {
		return Cursor{}, bad
	}
	v, err := xbl.NewStatValue(t, string(buf[14:]))
	if err != nil || v.Value != string(buf[14:]) || !Ranked(v) {
		return Cursor{}, bad
	}
	return Cursor{XUID: xbl.XUID(binary.BigEndian.Uint64(buf[5:])), Value: v}, nil
}

func typeByte(t xbl.StatType) byte {
	if t == xbl.Double {
		return 'd'
	}
	return 'i'
}

func byteType(b byte) (xbl.StatType, bool) {
	switch b {
	case 'd':
		return xbl.Double, true
	case 'i':
		return xbl.Integer, true
	}
	return "", false
}

// metadata reads the other statistics of page's players (XSAPI's
// include=valuemetadata): every statistic of the SCID the caller may read
// (open ones, and restricted ones for an owning title), with one batch
// read of the rows' statistics items.
func (s *Service) metadata(ctx context.Context, caller *xbl.Caller, cfg *xbl.ServiceConfig, page *Page) error {
	if s.Stats == nil {
		return derrors.New(derrors.Unsupported, "include=valuemetadata (extra columns) is not served here")
	}
	owner := cfg.Owns(caller)
	var names []string
	for key, access := range cfg.Stats {
		if access == xbl.Open || owner {
			names = append(names, key)
		}
	}
	slices.Sort(names)
	q := stats.Query{SCIDs: []string{page.Board.SCID}, Names: names}
	for _, r := range page.Rows {
		q.Users = append(q.Users, r.XUID)
	}
	if len(q.Users) == 0 || len(names) == 0 {
		for i := range page.Rows {
			page.Rows[i].Metadata = map[string]xbl.StatValue{}
		}
		return nil
	}
	found, err := s.Stats.ReadStats(ctx, q)
	if err != nil {
		return err
	}
	page.Usage.Add(found.Usage)
	for i := range page.Rows {
		k := stats.UserSCID{XUID: page.Rows[i].XUID, SCID: page.Board.SCID}
		md := map[string]xbl.StatValue{}
		for key, v := range found.Stats[k] {
			md[cmp.Or(found.Names[k][key], key)] = v
		}
		page.Rows[i].Metadata = md
	}
	return nil
}

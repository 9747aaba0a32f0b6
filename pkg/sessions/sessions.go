// Package sessions holds the rules of the session directory query: the
// sessions a list of players (or a keyword) is in, for one SCID, filtered,
// ordered and capped, and who may ask for what. It reads through a Reader
// and knows neither HTTP nor the storage behind it.
package sessions

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// Limits of one query.
const (
	MaxXUIDs = 100 // xuids of one query
	MaxTake  = 100 // the largest take, and the default
)

// queryConcurrency bounds the reads of one query in flight.
const queryConcurrency = 16

// Query asks for the sessions of one SCID that users, or a keyword, are in.
type Query struct {
	SCIDRaw  string     // as the caller wrote it
	SCID     string     // canonical
	Template string     // "" for every template
	XUIDs    []xbl.XUID // distinct, in request order; none for a keyword query
	Keyword  string     // "" for none

	Visibility   xbl.Visibility // "" for any
	Version      int            // the highest session version wanted, when HasVersion
	HasVersion   bool
	Private      bool // include private sessions
	Reservations bool // include sessions where the user only holds a reservation
	Inactive     bool // include sessions where the user is inactive
	Take         int  // the most results
}

// Session is a session as a query sees it: the session's fields, and, when
// read through a member, that member's state.
type Session struct {
	Template        string
	Name            string
	StartTime       time.Time
	Version         int
	Visibility      xbl.Visibility
	JoinRestriction string
	Keywords        []string
	Accepted        int // members who are not merely reserved
	// Status and MyTurn are the member's, when read through a member.
	Status xbl.MemberStatus
	MyTurn bool
}

// Reader reads sessions in answer order (NewestFirst) and stops when the
// answer is certain: each method returns the sessions that keep accepts,
// at least the first limit of them in answer order (or all there are), and
// may return more that start at the same time as the last of those, so
// that ties are ordered by NewestFirst rather than by storage. A limit of 0
// reads nothing. Each method also returns what its reads cost, and fails
// with a derrors.Unavailable error when storage cannot answer, or with the
// context's error when ctx ends first.
type Reader interface {
	// UserSessions reads the sessions of the SCID (of one template when
	// template is not empty) that user x has a place in, with x's state.
	UserSessions(ctx context.Context, x xbl.XUID, scid, template string, keep func(*Session) bool, limit int) ([]Session, xbl.Usage, error)
	// KeywordSessions reads the sessions of the SCID (of one template when
	// template is not empty) that carry keyword.
	KeywordSessions(ctx context.Context, scid, keyword, template string, keep func(*Session) bool, limit int) ([]Session, xbl.Usage, error)
}

// Row is one result: a session, and the xuid it was found through (nil for
// a keyword query).
type Row struct {
	XUID *xbl.XUID
	Session
}

// Result is the answer to a Query.
type Result struct {
	Rows  []Row
	Usage xbl.Usage
}

// Find answers q for caller. It decides access before reading any session:
// private and reservation queries the caller may not make are refused
// before anything is read, then the SCID's configuration (from configs,
// usually a cache) must exist and name the caller's sandbox. Only then are
// the queried sessions read, filtered and ordered: grouped per xuid in
// request order, newest session first, at most q.Take. The Result is not
// nil when reads were made, even with an error, so that their cost is
// known.
func Find(ctx context.Context, configs xbl.ConfigReader, r Reader, caller *xbl.Caller, q *Query) (*Result, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if err := CheckPrivilege(q, caller); err != nil {
		return nil, err
	}
	res := &Result{}
	cfg, u, err := configs.ReadConfig(ctx, q.SCID)
	res.Usage.Add(u)
	if err != nil {
		return res, err
	}
	if err := xbl.CheckSCID(cfg, q.SCIDRaw, caller); err != nil {
		return res, err
	}
	res.Rows = []Row{}
	if q.Take == 0 {
		return res, nil
	}
	var (
		perXUID = make([][]Session, len(q.XUIDs))
		keyword []Session
		mu      sync.Mutex
		spent   = func(u xbl.Usage) { mu.Lock(); res.Usage.Add(u); mu.Unlock() }
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(queryConcurrency)
	if len(q.XUIDs) == 0 {
		g.Go(func() error {
			items, u, err := r.KeywordSessions(gctx, q.SCID, q.Keyword, q.Template, q.wantSession, q.Take)
			spent(u)
			keyword = items
			return err
		})
	}
	for i, x := range q.XUIDs {
		g.Go(func() error {
			items, u, err := r.UserSessions(gctx, x, q.SCID, q.Template, q.wantMember, q.Take)
			spent(u)
			perXUID[i] = items
			return err
		})
	}
	if err := g.Wait(); err != nil {
		res.Rows = nil
		return res, err
	}
	if len(q.XUIDs) == 0 {
		sortNewestFirst(keyword)
		for _, s := range keyword {
			if len(res.Rows) == q.Take {
				break
			}
			if q.wantSession(&s) {
				res.Rows = append(res.Rows, Row{Session: s})
			}
		}
		return res, nil
	}
	for i := range q.XUIDs {
		items := perXUID[i]
		sortNewestFirst(items)
		for _, s := range items {
			if len(res.Rows) == q.Take {
				return res, nil
			}
			if q.wantMember(&s) {
				res.Rows = append(res.Rows, Row{XUID: &q.XUIDs[i], Session: s})
			}
		}
	}
	return res, nil
}

// Validate checks q against the limits of one query. The HTTP edge checks
// them while parsing, naming the parameter; this is the rule for every
// other caller.
func (q *Query) Validate() error {
	switch {
	case len(q.XUIDs) > MaxXUIDs:
		return derrors.New(derrors.Invalid, "%d xuids queried; the limit is %d", len(q.XUIDs), MaxXUIDs)
	case len(q.XUIDs) == 0 && q.Keyword == "":
		return derrors.New(derrors.Invalid, "a session query needs an xuid or a keyword")
	case q.Take < 0 || q.Take > MaxTake:
		return derrors.New(derrors.Invalid, "take %d must be from 0 to %d", q.Take, MaxTake)
	}
	return nil
}

// CheckPrivilege refuses private and reservation queries unless the caller
// has server-level access or is every queried user. It looks at no data,
// so the answer is the same whether or not such sessions exist. A keyword
// query names no user: only a server may ask it for private sessions.
func CheckPrivilege(q *Query, c *xbl.Caller) error {
	if !q.Private && !q.Reservations || c.Server {
		return nil
	}
	self := len(q.XUIDs) > 0
	for _, x := range q.XUIDs {
		if x != c.XUID {
			self = false
		}
	}
	if self {
		return nil
	}
	return derrors.New(derrors.Forbidden, "private and reservations queries are allowed only for the caller's own xuid, or with server access")
}

// wantSession applies the filters every query has.
func (q *Query) wantSession(s *Session) bool {
	switch {
	case s.Visibility == xbl.Private && !q.Private:
		return false
	case q.Visibility != "" && s.Visibility != q.Visibility:
		return false
	case q.HasVersion && s.Version > q.Version:
		return false
	case q.Keyword != "" && !HasKeyword(s.Keywords, q.Keyword):
		return false
	}
	return true
}

// wantMember adds the member filters of a query by xuid: active members
// always, inactive and reserved ones when asked for.
func (q *Query) wantMember(s *Session) bool {
	switch s.Status {
	case xbl.Active:
	case xbl.Inactive:
		if !q.Inactive {
			return false
		}
	case xbl.Reserved:
		if !q.Reservations {
			return false
		}
	default:
		return false
	}
	return q.wantSession(s)
}

// HasKeyword reports whether keywords hold kw, in any letter case
// (keywords are case-insensitive, as XSAPI's are).
func HasKeyword(keywords []string, kw string) bool {
	return slices.ContainsFunc(keywords, func(k string) bool { return strings.EqualFold(k, kw) })
}

// NewestFirst is the order of answers: by start time, newest first, then
// by template and name so that equal times have one order.
func NewestFirst(a, b *Session) int {
	if c := b.StartTime.Compare(a.StartTime); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(a.Template, b.Template), cmp.Compare(a.Name, b.Name))
}

func sortNewestFirst(items []Session) {
	slices.SortFunc(items, func(a, b Session) int { return NewestFirst(&a, &b) })
}

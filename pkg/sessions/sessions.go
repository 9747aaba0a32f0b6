// Package sessions holds the rules of the session directory: the query
// (Service.Find: the sessions a list of players, or a keyword, is in, for
// one SCID, filtered, ordered and capped, and who may ask for what) and
// the session document with the rules of its writes and reads (Doc,
// Change, Put, Get). A Service holds what the rules depend on: SCID
// configurations, a Reader for queries, a Store for documents, and the one
// clock. The package knows neither HTTP nor the storage behind its ports.
package sessions

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// Limits of one query.
const (
	MaxXUIDs = 100 // xuids of one query
	MaxTake  = 100 // the largest take, and the default
)

// QueryConcurrency bounds the reads of one query in flight: Find reads the
// xuids of a batch in request order, at most this many at once.
const QueryConcurrency = 16

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

// Filter is one query's reading of the directory: which index a Reader
// reads (a user's memberships or Keyword's sessions, in SCID, of Template
// when it is not empty) and, through Row, which of the sessions read are
// rows. Find builds it once per query, with the time reservations expire
// by from the Service's clock, and every read of the query shares it.
type Filter struct {
	SCID     string // canonical
	Template string // "" for every template
	// Keyword is the keyword a row's session carries, in any letter case
	// ("" for any): the index a keyword read reads, and a filter of a
	// read through users. Query.Filter sets it in its canonical form,
	// xbl.FoldKeyword.
	Keyword string

	Visibility   xbl.Visibility // "" for any
	Version      int            // the highest session version, when HasVersion
	HasVersion   bool
	Private      bool // private sessions are rows
	Reservations bool // a member who only holds a reservation is a row
	Inactive     bool // an inactive member is a row

	// Now is the time reservations expire by: one expired is neither a
	// member nor counted.
	Now time.Time
}

// Row returns the row head h makes for f, read through member x (nil for a
// keyword read): the session as h.View shows it at f.Now, and whether it
// is one. It is false when x has no place in h (any more), when x's state
// is not asked for (active members always; inactive and reserved ones when
// f asks for them), or when the session fails f's filters: private unless
// asked for, visibility, version and keyword. It is the query's whole
// filter.
func (f *Filter) Row(h *Head, x *xbl.XUID) (Session, bool) {
	s, ok := h.View(x, f.Now)
	if !ok {
		return Session{}, false
	}
	if x != nil && !f.wantStatus(s.Status) || !f.wantSession(&s) {
		return Session{}, false
	}
	return s, true
}

// wantStatus reports whether a member of status st is asked for: active
// members always, inactive and reserved ones when asked for.
func (f *Filter) wantStatus(st xbl.MemberStatus) bool {
	return st == xbl.Active || st == xbl.Inactive && f.Inactive || st == xbl.Reserved && f.Reservations
}

// wantSession applies the filters every query has.
func (f *Filter) wantSession(s *Session) bool {
	switch {
	case s.Visibility == xbl.Private && !f.Private:
		return false
	case f.Visibility != "" && s.Visibility != f.Visibility:
		return false
	case f.HasVersion && s.Version > f.Version:
		return false
	case f.Keyword != "" && !HasKeyword(s.Keywords, f.Keyword):
		return false
	}
	return true
}

// Reader reads the session directory for Find. It is the contract every
// implementation keeps:
//
// Each method reads one index, of f.SCID and of f.Template only when that
// is not empty, in answer order (NewestFirst), and makes rows of what it
// reads with f.Row, exactly once per session read: f.Row is the whole
// filter, and a Reader adds none but its own consistency checks (an index
// entry whose session is gone, or is a later session of that name, is not
// read as that session). It returns at least the first limit rows in
// answer order, or all there are; it may return more rows that start at
// the same time as the last of those (Find orders ties by NewestFirst, not
// by storage, and keeps the first limit), and reads no further. A limit
// of 0 reads nothing. Rows may be returned in any order.
//
// Each method also returns what its reads cost, also with an error, and
// fails with a derrors.Unavailable error when storage cannot answer, or
// with the context's error when ctx ends first. Find calls the methods
// concurrently, with one Filter, which they must not change.
type Reader interface {
	// UserSessions reads the sessions user x has a place in, through x:
	// f.Row(h, &x).
	UserSessions(ctx context.Context, x xbl.XUID, f *Filter, limit int) ([]Session, xbl.Usage, error)
	// KeywordSessions reads the sessions that carry f.Keyword, which is not
	// empty: f.Row(h, nil).
	KeywordSessions(ctx context.Context, f *Filter, limit int) ([]Session, xbl.Usage, error)
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
// before anything is read, then the SCID's configuration (from s.Configs,
// usually a cache) must exist and name the caller's sandbox. Only then are
// the queried sessions read through s.Reader, with one Filter built here:
// grouped per xuid in request order, newest session first, at most q.Take.
//
// The xuids of a batch are read by ReadInOrder: in request order, at most
// QueryConcurrency at once, and reading stops as soon as the xuids read
// hold the answer: no read is started once the rows already read of the
// xuids before it number q.Take, and each read asks for no more rows than
// q.Take less those. So when the answer is certain at most
// QueryConcurrency-1 reads, all of xuids past the answer, are still in
// flight; Find waits for them, counts their cost and ignores their rows
// and errors. An error of a read the answer needs fails the query.
//
// The Result is not nil when reads were made, even with an error, so that
// their cost is known.
func (s *Service) Find(ctx context.Context, caller *xbl.Caller, q *Query) (*Result, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if err := CheckPrivilege(q, caller); err != nil {
		return nil, err
	}
	res := &Result{}
	cfg, u, err := s.Configs.ReadConfig(ctx, q.SCID)
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
	f := q.Filter(s.now())
	if len(q.XUIDs) == 0 {
		items, u, err := s.Reader.KeywordSessions(ctx, f, q.Take)
		res.Usage.Add(u)
		if err != nil {
			res.Rows = nil
			return res, err
		}
		sortNewestFirst(items)
		for _, ss := range items[:min(len(items), q.Take)] {
			res.Rows = append(res.Rows, Row{Session: ss})
		}
		return res, nil
	}
	reads := ReadInOrder(len(q.XUIDs), q.Take, func(i, limit int) (xuidRead, int, error) {
		rows, u, err := s.Reader.UserSessions(ctx, q.XUIDs[i], f, limit)
		return xuidRead{rows, u}, len(rows), err
	})
	for i := range reads {
		res.Usage.Add(reads[i].Value.usage)
	}
	for i := range q.XUIDs {
		if len(res.Rows) == q.Take {
			break
		}
		r := &reads[i]
		if r.Err != nil {
			res.Rows = nil
			return res, r.Err
		}
		rows := r.Value.rows
		sortNewestFirst(rows)
		for _, ss := range rows[:min(len(rows), q.Take-len(res.Rows))] {
			res.Rows = append(res.Rows, Row{XUID: &q.XUIDs[i], Session: ss})
		}
	}
	return res, nil
}

// xuidRead is what the read of one xuid's sessions returned.
type xuidRead struct {
	rows  []Session
	usage xbl.Usage
}

// InOrder is the outcome of one read of ReadInOrder.
type InOrder[T any] struct {
	Value T     // what the read returned, also with an error
	Rows  int   // the rows it read
	Err   error // its error
	Done  bool  // false for an item not read
}

// ReadInOrder reads n items (the xuids of a batch) in order, at most
// QueryConcurrency at once, until the items read hold take rows, as Find
// reads a batch: read(i, limit) reads item i, asking for no more than
// limit rows, take less the rows of the items before i read so far
// (those of a read that failed do not count), and returns what it read,
// its count of rows and an error. No read is started once that limit is
// 0 or less, or after a read has failed. An item not read has a zero
// InOrder; every read started has ended when ReadInOrder returns.
func ReadInOrder[T any](n, take int, read func(i, limit int) (T, int, error)) []InOrder[T] {
	out := make([]InOrder[T], n)
	type ended struct {
		i int
		r InOrder[T]
	}
	ends := make(chan ended, QueryConcurrency)
	// found(i) is the rows of the items before i read so far: item i can
	// add no more than take less them to the answer.
	found := func(i int) int {
		sum := 0
		for j := range out[:i] {
			if out[j].Done && out[j].Err == nil {
				sum += out[j].Rows
			}
		}
		return sum
	}
	next, inFlight, failed := 0, 0, false
	for {
		for !failed && inFlight < QueryConcurrency && next < n {
			limit := take - found(next)
			if limit <= 0 {
				next = n // so for every later item: the answer is read
				break
			}
			i := next
			next++
			inFlight++
			go func() {
				v, rows, err := read(i, limit)
				ends <- ended{i, InOrder[T]{Value: v, Rows: rows, Err: err, Done: true}}
			}()
		}
		if inFlight == 0 {
			return out
		}
		e := <-ends
		inFlight--
		out[e.i] = e.r
		// After a failure no item is started: those after it are needed
		// only if it is, and then the query fails anyway.
		failed = failed || e.r.Err != nil
	}
}

// Filter returns the filter of q's reads, reservations expiring by now.
func (q *Query) Filter(now time.Time) *Filter {
	return &Filter{
		SCID: q.SCID, Template: q.Template, Keyword: xbl.FoldKeyword(q.Keyword),
		Visibility: q.Visibility, Version: q.Version, HasVersion: q.HasVersion,
		Private: q.Private, Reservations: q.Reservations, Inactive: q.Inactive,
		Now: now,
	}
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

// HasKeyword reports whether keywords hold kw, in any letter case
// (keywords are case-insensitive, as XSAPI's are): whether one of them has
// kw's canonical form, xbl.FoldKeyword, the form the keyword index is kept
// under.
func HasKeyword(keywords []string, kw string) bool {
	f := xbl.FoldKeyword(kw)
	return slices.ContainsFunc(keywords, func(k string) bool { return xbl.FoldKeyword(k) == f })
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

package sessions

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"time"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// Store keeps session documents; the session directory query (Reader)
// sees what it writes at once.
//
// Session reads the document of one session, strongly consistent, with
// its ETag and the encoding it was stored as (Doc.Encoded); nil when there
// is none. SaveSession replaces prev (nil: the session must not exist) by
// next (nil: delete the session and its index entries), storing
// next.Encoded as its document, if,
// and only if, the stored document still carries prev's ETag; otherwise it
// changes nothing and returns ErrChanged. A query never sees a mix of prev
// and next. Both fail with a derrors.Unavailable error when storage cannot
// answer.
type Store interface {
	Session(ctx context.Context, scid, template, name string) (*Doc, error)
	SaveSession(ctx context.Context, prev, next *Doc) error
}

// ErrChanged is SaveSession's answer when the stored session is not prev.
var ErrChanged = errors.New("the session changed since it was read")

// ErrContended is SaveSession's answer when another write to the same
// session was in flight (DynamoDB cancels one of two transactions on the
// same items): nothing was written, and prev may still be current.
var ErrContended = errors.New("another write to the session was in flight")

// Condition is a write's precondition, from its If-Match and
// If-None-Match headers (XSAPI's write modes).
type Condition struct {
	IfNoneMatchAny bool     // create only
	IfMatchAny     bool     // update only
	IfMatch        []string // update only these versions (ETags)
}

// Change is a PUT body, parsed: the parts of the session it changes.
type Change struct {
	Constants  *ConstantsChange
	Properties *PropertiesChange
	// Members by key ("me", "reserve_N"); a nil value removes ("me" only).
	Members map[string]*MemberChange
	// Servers are merged by key; a null value deletes one.
	Servers map[string]json.RawMessage
	// Template are the constants of the session's template (none when
	// nil), which a create applies with Constants (see withTemplate). Put
	// sets it from the SCID's configuration; it is not part of a body.
	Template *ConstantsChange `json:",omitempty"`
	// Session, when set, is the start time of the only session the write
	// may change (a handle's): another of the same name, or none, is
	// NotFound. Invited lets the caller join whatever the session's
	// visibility (an invite's invitee). Neither is part of a body.
	Session time.Time `json:",omitzero"`
	Invited bool      `json:",omitempty"`
	// Owner, when set, must still be a member (not merely reserved) of
	// the session for the write to apply (an activity's owner): an
	// activity ends when its owner leaves.
	Owner xbl.XUID `json:",omitempty"`
	// Disconnected, when set, is the only change: the caller's connection
	// of that id closed (see Service.Disconnected).
	Disconnected string `json:",omitempty"`
}

// errHandleGone is the answer to a write by a handle whose session is
// gone.
var errHandleGone = derrors.New(derrors.NotFound, "the handle's session is gone")

// sameSession reports whether prev is the session ch may change (see
// Change.Session).
func (ch *Change) sameSession(prev *Doc) bool {
	if ch.Session.IsZero() {
		return true
	}
	return prev != nil && prev.StartTime.Equal(ch.Session) && (ch.Owner == 0 || joined(prev, ch.Owner))
}

// joined reports whether x is a member of d who joined (not a
// reservation).
func joined(d *Doc, x xbl.XUID) bool {
	m := d.Member(x)
	return m != nil && !m.Reserved
}

// ConstantsChange is constants.system and constants.custom of a PUT.
type ConstantsChange struct {
	Visibility             *xbl.Visibility
	MaxMembers             *int
	Version                *int
	ReservedRemovalTimeout *int64
	System                 map[string]json.RawMessage // the other fields
	Custom                 json.RawMessage            `json:",omitempty"` // nil when absent
}

// PropertiesChange is properties.system and properties.custom of a PUT.
type PropertiesChange struct {
	Keywords        *[]string
	Turn            *[]int
	JoinRestriction *string
	System          map[string]json.RawMessage // the other fields; null deletes
	Custom          map[string]json.RawMessage // by key; null deletes
}

// MemberChange is one member of a PUT.
type MemberChange struct {
	XUID             xbl.XUID // constants.system.xuid; 0 when absent
	Active, Ready    *bool
	ConstantsSystem  map[string]json.RawMessage // other than xuid
	ConstantsCustom  json.RawMessage            `json:",omitempty"` // nil when absent
	PropertiesSystem map[string]json.RawMessage // other than active and ready; null deletes
	PropertiesCustom map[string]json.RawMessage // null deletes
	Extra            map[string]json.RawMessage // member fields beside constants and properties
}

// Outcome is what a write did.
type Outcome int

// Outcomes of Put.
const (
	Updated         Outcome = iota // the session was changed (or already was as asked)
	Created                        // the session was created
	Deleted                        // the write left the session empty: it is gone
	ConditionFailed                // the precondition failed: nothing changed
)

// WriteResult is Put's answer: the outcome, and the session after the
// write (for ConditionFailed the current one; nil when there is none) as
// it stood at the write's one reading of the clock: expired reservations
// are left out, and Doc.NextTimer is the next one to expire.
type WriteResult struct {
	Outcome Outcome
	Doc     *Doc
}

// An unconditional Put that loses a race to another writer, and has no
// queue to wait in (Service.Queue), reads and applies again (a lobby that a crowd joins at once: each round one writer
// wins), after a random wait that grows with the races it lost: decorrelated
// jitter, each wait drawn between retryWait and three times the one before,
// at most maxRetryWait, so that N writers spread over about N commits' time
// instead of colliding again. There is no cap on attempts but the
// deadline: a write without one has maxWriteTime. Each read and commit
// ends retryMargin before the deadline, which leaves the time to answer
// errBusy (503 with Retry-After); a write never answers a timeout.
const (
	retryWait    = 2 * time.Millisecond
	maxRetryWait = 300 * time.Millisecond
	retryMargin  = time.Second
	maxWriteTime = 10 * time.Second
)

// Put applies ch to the session ref for caller, under cond, and stores
// the result with one conditional write: access is decided from the
// SCID's configuration before the session is read, a PUT the rules refuse
// changes nothing, and one that changes nothing writes nothing. Without an
// ETag condition, a concurrent change between the read and the write makes
// the write wait in the session's queue to be combined (s.Queue; see
// Queue), or, without a queue, read and apply again. Put answers errBusy (Unavailable) only for a
// write that was not applied: SaveSession settles a commit whose outcome
// it did not see.
func (s *Service) Put(ctx context.Context, caller *xbl.Caller, ref Ref, cond Condition, ch *Change) (res *WriteResult, errOut error) {
	cfg, err := s.checkAccess(ctx, caller, ref)
	if err != nil {
		return nil, err
	}
	tmpl, err := template(cfg, ref)
	if err != nil {
		return nil, err
	}
	if tmpl != nil {
		withTmpl := *ch
		withTmpl.Template = tmpl
		ch = &withTmpl
	}
	return s.write(ctx, caller, ref, cond, ch)
}

// write is Put once access is decided.
func (s *Service) write(ctx context.Context, caller *xbl.Caller, ref Ref, cond Condition, ch *Change) (res *WriteResult, errOut error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, maxWriteTime)
		defer cancel()
	}
	d, _ := ctx.Deadline()
	sctx, cancel := context.WithDeadline(ctx, d.Add(-retryMargin))
	defer cancel()
	sent := false // a commit was sent: one may have been applied
	var sentETag string
	sentCreate := false // the last commit sent was a create
	busy := func(err error) error {
		if sctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
			return errBusy // out of time: retry later (see asStored)
		}
		return err
	}
	defer func() {
		if sent && errors.Is(errOut, errBusy) {
			res, errOut = s.asStored(ctx, caller, ref, ch)
			if errOut == nil && sentCreate && res.Doc != nil && res.Doc.ETag == sentETag {
				res.Outcome = Created // this write's create was applied
			}
		}
	}()
	var wait time.Duration // before the next try; 0: none
	queue := s.Queue != nil && cond.combinable()
	for {
		if wait > 0 {
			if err := pause(sctx, wait); err != nil {
				return nil, err // errBusy
			}
		}
		stored, err := s.Store.Session(sctx, ref.SCID, ref.Template, ref.Name)
		if err != nil {
			return nil, busy(err)
		}
		now := s.now()
		// A session of expired reservations only is gone: the write sees
		// none (and replaces the stored one).
		prev := live(stored, now)
		if prev != nil && !mayRead(prev, caller, now) && !ch.Invited {
			// A stranger to a private session learns nothing of it, not
			// even whether an ETag it guesses is current: one 403 before
			// the condition or any content is looked at.
			return nil, errPrivate
		}
		if !ch.sameSession(prev) {
			return nil, errHandleGone
		}
		if !cond.holds(prev) {
			return failed(prev, caller, now)
		}
		next, err := apply(prev, ch, caller, ref, now)
		if err != nil {
			return nil, err
		}
		if prev != nil && bytes.Equal(prev.Encoded, next.Encoded) {
			return &WriteResult{Outcome: Updated, Doc: prev}, nil // already as asked: no write
		}
		next.ETag = NewID()
		store := next
		if len(next.Members) == 0 {
			store = nil
		}
		if stored == nil && store == nil {
			return &WriteResult{Outcome: Deleted}, nil // a create with no members
		}
		sent, sentETag, sentCreate = true, next.ETag, prev == nil
		switch err := s.Store.SaveSession(sctx, stored, store); {
		case (errors.Is(err, ErrContended) || errors.Is(err, ErrChanged)) && queue:
			// Lost a race for the session: wait in its queue for a commit
			// that applies this write with others (see Queue).
			res, err := s.queue(ctx, sctx, caller, ref, cond, ch)
			if !errors.Is(err, errNotQueued) {
				return res, err
			}
			queue = false
			wait = backoff(wait)
			continue
		case errors.Is(err, ErrContended):
			wait = backoff(wait)
			continue // read again: the condition is decided on what is stored
		case errors.Is(err, ErrChanged):
			// Read the new version: a version condition then fails at once
			// (412 with it); any other write applies ch to it, after a wait.
			wait = 0
			if len(cond.IfMatch) == 0 && !cond.IfNoneMatchAny {
				wait = backoff(wait)
			}
			continue
		case derrors.KindOf(err) == derrors.Unavailable:
			// The commit's outcome is unknown (storage failed, or the
			// settle of a lost answer gave up): asStored decides by what
			// is stored, so that a write applied is never a 503.
			return nil, errBusy
		case err != nil:
			return nil, busy(err)
		}
		switch {
		case store == nil:
			return &WriteResult{Outcome: Deleted}, nil
		case prev == nil:
			return &WriteResult{Outcome: Created, Doc: next}, nil
		}
		return &WriteResult{Outcome: Updated, Doc: next}, nil
	}
}

// asStored is the answer of a write out of time after it sent a commit:
// one of its commits may have been applied, or another writer's may have
// made the session as asked. It reads the session once more, in the time
// Put kept for its answer: when ch changes nothing there, the write is
// done (Updated, or Deleted for a leave of a session now gone); otherwise
// errBusy, for a write that was not applied.
func (s *Service) asStored(ctx context.Context, caller *xbl.Caller, ref Ref, ch *Change) (*WriteResult, error) {
	stored, err := s.Store.Session(ctx, ref.SCID, ref.Template, ref.Name)
	if err != nil {
		return nil, errBusy
	}
	now := s.now()
	prev := live(stored, now)
	switch {
	case prev == nil && ch.leavesOnly():
		return &WriteResult{Outcome: Deleted}, nil // a leave: the session is gone
	case prev == nil:
		return nil, errBusy
	case ch.leavesOnly():
		if m := prev.Member(caller.XUID); m == nil || m.Expired(now) {
			// The leave is done (the caller may no longer be allowed to
			// write, so apply would refuse it).
			prev.dropExpired(now)
			return &WriteResult{Outcome: Updated, Doc: prev}, nil
		}
	}
	next, err := apply(prev, ch, caller, ref, now)
	if err != nil || !bytes.Equal(prev.Encoded, next.Encoded) || !mayRead(prev, caller, now) {
		return nil, errBusy
	}
	prev.dropExpired(now)
	return &WriteResult{Outcome: Updated, Doc: prev}, nil
}

var errBusy = derrors.New(derrors.Unavailable, "the session kept changing during the write; retry")

// backoff is the wait after one that lasted prev (0 for none): drawn
// between retryWait and 3·prev, at most maxRetryWait.
func backoff(prev time.Duration) time.Duration {
	hi := min(max(3*prev, 2*retryWait), maxRetryWait)
	return retryWait + time.Duration(mrand.Int64N(int64(hi-retryWait)+1))
}

// pause waits for wait, or until ctx ends; it reports errBusy when ctx
// ends before the wait does.
func pause(ctx context.Context, wait time.Duration) error {
	if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
		return errBusy
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return errBusy
	}
}

// failed is a ConditionFailed answer with the current session, which
// the caller sees only if it may read it.
func failed(cur *Doc, caller *xbl.Caller, now time.Time) (*WriteResult, error) {
	if cur != nil && !mayRead(cur, caller, now) {
		cur = nil
	}
	if cur != nil {
		cur.dropExpired(now)
	}
	return &WriteResult{Outcome: ConditionFailed, Doc: cur}, nil
}

// live is d as it stands at now: nil when d is nil or holds nothing but
// expired reservations.
func live(d *Doc, now time.Time) *Doc {
	if d == nil || !slices.ContainsFunc(d.Members, func(m Member) bool { return !m.Expired(now) }) {
		return nil
	}
	return d
}

// Get reads the session ref for caller: nil when there is none. A private
// session is readable only by its members and by servers. Expired
// reservations are left out.
func (s *Service) Get(ctx context.Context, caller *xbl.Caller, ref Ref) (*Doc, error) {
	return s.get(ctx, caller, ref, false)
}

// get is Get; an invited caller (an invite's invitee) may read a private
// session.
func (s *Service) get(ctx context.Context, caller *xbl.Caller, ref Ref, invited bool) (*Doc, error) {
	if _, err := s.checkAccess(ctx, caller, ref); err != nil {
		return nil, err
	}
	d, err := s.Store.Session(ctx, ref.SCID, ref.Template, ref.Name)
	now := s.now()
	if d = live(d, now); err != nil || d == nil {
		return nil, err // none, or only expired reservations (the next write deletes it)
	}
	if !mayRead(d, caller, now) && !invited {
		return nil, derrors.New(derrors.Forbidden, "the session is private: only its members and servers may read it")
	}
	d.dropExpired(now)
	return d, nil
}

// errPrivate is the one answer a private session gives a stranger.
var errPrivate = derrors.New(derrors.Forbidden, "the session is private: only its members and servers may write to it")

// mayRead is who may see d at now: anyone for a session that is not
// private; its members (a live reservation counts) and servers otherwise.
func mayRead(d *Doc, caller *xbl.Caller, now time.Time) bool {
	if d.Visibility != xbl.Private || caller.Server {
		return true
	}
	m := d.Member(caller.XUID)
	return m != nil && !m.Expired(now)
}

// checkAccess is who may read and write sessions of an SCID: a caller
// from one of its sandboxes, with a title that owns it.
func (s *Service) checkAccess(ctx context.Context, caller *xbl.Caller, ref Ref) (*xbl.ServiceConfig, error) {
	cfg, _, err := s.Configs.ReadConfig(ctx, ref.SCID)
	if err != nil {
		return nil, err
	}
	if err := xbl.CheckSCID(cfg, ref.SCIDRaw, caller); err != nil {
		return nil, err
	}
	if !cfg.Owns(caller) {
		return nil, derrors.New(derrors.Forbidden, "title %s does not own scid %s", caller.TitleID, ref.SCIDRaw)
	}
	return cfg, nil
}

func (c Condition) holds(prev *Doc) bool {
	switch {
	case c.IfNoneMatchAny:
		return prev == nil
	case c.IfMatchAny:
		return prev != nil
	case len(c.IfMatch) > 0:
		return prev != nil && slices.Contains(c.IfMatch, prev.ETag)
	}
	return true
}

// NewID returns a random GUID, for ETags and correlation ids.
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

package sessions

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/jsonpath"
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
}

// ConstantsChange is constants.system and constants.custom of a PUT.
type ConstantsChange struct {
	Visibility             *xbl.Visibility
	MaxMembers             *int
	Version                *int
	ReservedRemovalTimeout *int64
	System                 map[string]json.RawMessage // the other fields
	Custom                 json.RawMessage            // nil when absent
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
	ConstantsCustom  json.RawMessage
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

// An unconditional Put that loses a race to another writer reads and
// applies again (a full lobby joining at once: each round one writer
// wins), after a random wait of up to retryWait × 2^attempt (at most
// maxRetryWait), so that the losers spread out; it gives up after
// maxAttempts, or when less than retryMargin is left before its deadline.
const (
	maxAttempts  = 64
	retryWait    = 2 * time.Millisecond
	maxRetryWait = 100 * time.Millisecond
	retryMargin  = 500 * time.Millisecond
)

// Put applies ch to the session ref for caller, under cond, and stores
// the result with one conditional write: access is decided from the
// SCID's configuration before the session is read, a PUT the rules refuse
// changes nothing, and one that changes nothing writes nothing. Without an
// ETag condition, a concurrent change between the read and the write makes
// Put read and apply again.
func (s *Service) Put(ctx context.Context, caller *xbl.Caller, ref Ref, cond Condition, ch *Change) (*WriteResult, error) {
	if err := s.checkAccess(ctx, caller, ref); err != nil {
		return nil, err
	}
	// Each read and commit ends retryMargin before ctx does: one that runs
	// that long (a contended session) leaves the time to answer errBusy,
	// 503 with Retry-After, which the caller may retry (writes are
	// idempotent), rather than a bare timeout.
	sctx := ctx
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		sctx, cancel = context.WithDeadline(ctx, d.Add(-retryMargin))
		defer cancel()
	}
	busy := func(err error) error {
		if sctx.Err() != nil && ctx.Err() == nil {
			return errBusy
		}
		return err
	}
	wait := false // before the next try
	for attempt := range maxAttempts {
		if wait {
			if err := pause(ctx, attempt); err != nil {
				return nil, err
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
		if !cond.holds(prev) {
			return failed(prev, caller, now)
		}
		next, err := apply(prev, ch, caller, ref, now)
		if err != nil {
			return nil, err
		}
		if prev != nil && !mayRead(prev, caller, now) && !mayRead(next, caller, now) {
			// A stranger's leave of a private session: nothing to do, and
			// nothing to show.
			return nil, derrors.New(derrors.Forbidden, "the session is private: only its members and servers may write to it")
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
		switch err := s.Store.SaveSession(sctx, stored, store); {
		case errors.Is(err, ErrContended):
			wait = true
			continue // read again: the condition is decided on what is stored
		case errors.Is(err, ErrChanged):
			// Read the new version: a version condition then fails at once
			// (412 with it); any other write applies ch to it, after a wait.
			wait = len(cond.IfMatch) == 0 && !cond.IfNoneMatchAny
			continue
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
	return nil, errBusy
}

var errBusy = derrors.New(derrors.Unavailable, "the session kept changing during the write; retry")

// pause waits before the attempt-th try, or until ctx ends; it reports
// Unavailable when the deadline is too near for another try.
func pause(ctx context.Context, attempt int) error {
	wait := min(retryWait<<min(attempt, 16), maxRetryWait)
	wait = time.Duration(mrand.Int64N(int64(wait)) + 1)
	if d, ok := ctx.Deadline(); ok && time.Until(d) < wait+retryMargin {
		return errBusy
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
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
	if err := s.checkAccess(ctx, caller, ref); err != nil {
		return nil, err
	}
	d, err := s.Store.Session(ctx, ref.SCID, ref.Template, ref.Name)
	now := s.now()
	if d = live(d, now); err != nil || d == nil {
		return nil, err // none, or only expired reservations (the next write deletes it)
	}
	if !mayRead(d, caller, now) {
		return nil, derrors.New(derrors.Forbidden, "the session is private: only its members and servers may read it")
	}
	d.dropExpired(now)
	return d, nil
}

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
func (s *Service) checkAccess(ctx context.Context, caller *xbl.Caller, ref Ref) error {
	cfg, _, err := s.Configs.ReadConfig(ctx, ref.SCID)
	if err != nil {
		return err
	}
	if err := xbl.CheckSCID(cfg, ref.SCIDRaw, caller); err != nil {
		return err
	}
	if !cfg.Owns(caller) {
		return derrors.New(derrors.Forbidden, "title %s does not own scid %s", caller.TitleID, ref.SCIDRaw)
	}
	return nil
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

func invalid(format string, args ...any) error {
	return derrors.New(derrors.Invalid, format, args...)
}

func conflict(format string, args ...any) error {
	return derrors.New(derrors.Conflict, format, args...)
}

// Apply returns the session that ch makes of prev (nil: a new session) for
// caller now (s.Now), without storing it, encoded (Doc.Encoded): MPSD's
// rules. Expired reservations
// are dropped; constants are set on create and may not change after (409);
// properties are merged (null deletes); "me" joins or updates the caller,
// "me": null leaves; reserve_N reserves a seat for another user (members
// and servers only); a caller other than a server who is not a member is
// added. Joining needs an open session or a reservation; the member count
// never exceeds maxMembersCount (409); the document's encoding is at most
// MaxDocBytes. prev is not modified.
func (s *Service) Apply(prev *Doc, ch *Change, caller *xbl.Caller, ref Ref) (*Doc, error) {
	return apply(prev, ch, caller, ref, s.now())
}

// apply is Apply at now: Put reads the clock once per attempt.
func apply(prev *Doc, ch *Change, caller *xbl.Caller, ref Ref, now time.Time) (*Doc, error) {
	now = now.UTC().Truncate(time.Millisecond)
	var d *Doc
	if prev == nil {
		d = &Doc{
			SCID: ref.SCID, Template: ref.Template, Name: ref.Name, CorrelationID: NewID(),
			StartTime: now, Visibility: xbl.OpenVis, MaxMembers: MaxMembersCount,
			ReservedRemovalTimeout: DefaultReservedRemovalTimeout,
		}
	} else {
		d = prev.Clone()
	}
	d.dropExpired(now)
	if ch.Constants != nil {
		if err := applyConstants(d, ch.Constants, prev == nil); err != nil {
			return nil, err
		}
	}
	if err := applyMembers(d, ch, caller, prev == nil, now); err != nil {
		return nil, err
	}
	if ch.Properties != nil {
		if err := applyProperties(d, ch.Properties); err != nil {
			return nil, err
		}
	}
	// The turn names members: those who left (or whose reservation
	// expired) leave it.
	d.Turn = slices.DeleteFunc(d.Turn, func(i int) bool {
		return !slices.ContainsFunc(d.Members, func(m Member) bool { return m.Index == i })
	})
	if len(d.Turn) == 0 {
		d.Turn = nil
	}
	if len(ch.Servers) > 0 {
		d.Servers = merge(d.Servers, ch.Servers)
	}
	// Keywords cannot be set on a private session (a session loaded with
	// both keeps them until its keywords are written).
	setsKeywords := ch.Properties != nil && ch.Properties.Keywords != nil
	if d.Visibility == xbl.Private && len(d.Keywords) > 0 && (setsKeywords || prev == nil) {
		return nil, invalid("$.properties.system.keywords: a private session cannot have keywords")
	}
	// The one encoding of the write: measured here, compared with the
	// stored one by Put, stored by the Store.
	b, err := d.Encode()
	if err != nil {
		return nil, derrors.Wrap(derrors.Internal, "encode session", err)
	}
	if len(b) > MaxDocBytes {
		return nil, invalid("the session would be %d bytes; the limit is %d", len(b), MaxDocBytes)
	}
	return d, nil
}

// merge applies change to m by key: a JSON null deletes the key.
func merge(m, change map[string]json.RawMessage) map[string]json.RawMessage {
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	for k, v := range change {
		if isNull(v) {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

// sameJSON reports whether a and b are the same JSON value, however each
// is written: members in any order, strings with any escapes, numbers with
// or without a fraction or an exponent (1, 1.0, 1e0), the canonical form
// of RFC 8785 except that integers are compared as written, exactly.
func sameJSON(a, b json.RawMessage) bool {
	ca, cb := jsontext.Value(bytes.Clone(a)), jsontext.Value(bytes.Clone(b))
	if ca.Canonicalize(rawInts) != nil || cb.Canonicalize(rawInts) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca, cb)
}

var rawInts = jsontext.CanonicalizeRawInts(false)

// keepConstants sets constants when create is true; after that a change
// may only repeat them (a different or a new one is a conflict).
func keepConstants(path string, have, change map[string]json.RawMessage, create bool) (map[string]json.RawMessage, error) {
	for _, k := range slices.Sorted(maps.Keys(change)) {
		if old, ok := have[k]; ok && !sameJSON(old, change[k]) || !ok && !create {
			return nil, conflict("%s: constants cannot change once set", jsonpath.Child(path, k))
		}
	}
	if len(change) == 0 {
		return have, nil
	}
	out := maps.Clone(have)
	if out == nil {
		out = map[string]json.RawMessage{}
	}
	for k, v := range change {
		if _, ok := have[k]; !ok { // a repeat keeps the stored spelling
			out[k] = v
		}
	}
	return out, nil
}

func applyConstants(d *Doc, c *ConstantsChange, create bool) error {
	const path = "$.constants.system"
	if create {
		if c.Visibility != nil {
			d.Visibility = *c.Visibility
		}
		if c.MaxMembers != nil {
			d.MaxMembers = *c.MaxMembers
		}
		if c.Version != nil {
			d.Version = *c.Version
		}
		if c.ReservedRemovalTimeout != nil {
			d.ReservedRemovalTimeout = *c.ReservedRemovalTimeout
		}
	} else {
		switch {
		case c.Visibility != nil && *c.Visibility != d.Visibility:
			return conflict("%s.visibility: constants cannot change once the session exists (it is %s)", path, d.Visibility)
		case c.MaxMembers != nil && *c.MaxMembers != d.MaxMembers:
			return conflict("%s.maxMembersCount: constants cannot change once the session exists (it is %d)", path, d.MaxMembers)
		case c.Version != nil && *c.Version != d.Version:
			return conflict("%s.version: constants cannot change once the session exists (it is %d)", path, d.Version)
		case c.ReservedRemovalTimeout != nil && *c.ReservedRemovalTimeout != d.ReservedRemovalTimeout:
			return conflict("%s.reservedRemovalTimeout: constants cannot change once the session exists (it is %d)", path, d.ReservedRemovalTimeout)
		}
	}
	var err error
	if d.ConstantsSystem, err = keepConstants(path, d.ConstantsSystem, c.System, create); err != nil {
		return err
	}
	if c.Custom != nil {
		if !create && (d.ConstantsCustom == nil || !sameJSON(d.ConstantsCustom, c.Custom)) {
			return conflict("$.constants.custom: constants cannot change once set")
		}
		if d.ConstantsCustom == nil { // a repeat keeps the stored spelling
			d.ConstantsCustom = c.Custom
		}
	}
	return nil
}

func applyProperties(d *Doc, p *PropertiesChange) error {
	if p.Keywords != nil {
		var kws []string
		for i, kw := range *p.Keywords {
			if err := xbl.CheckKeyword(kw); err != nil {
				return invalid("$.properties.system.keywords[%d]: %v", i, err)
			}
			if !HasKeyword(kws, kw) {
				kws = append(kws, kw)
			}
		}
		if len(kws) > MaxKeywords {
			return invalid("$.properties.system.keywords has %d keywords; the limit is %d", len(kws), MaxKeywords)
		}
		d.Keywords = kws
	}
	if p.Turn != nil {
		var turn []int
		for i, idx := range *p.Turn {
			if !slices.ContainsFunc(d.Members, func(m Member) bool { return m.Index == idx && !m.Reserved }) {
				return invalid("$.properties.system.turn[%d]: %d is not the index of a member", i, idx)
			}
			if !slices.Contains(turn, idx) {
				turn = append(turn, idx)
			}
		}
		d.Turn = turn
	}
	if p.JoinRestriction != nil {
		d.JoinRestriction = *p.JoinRestriction
	}
	d.PropertiesSystem = merge(d.PropertiesSystem, p.System)
	d.PropertiesCustom = merge(d.PropertiesCustom, p.Custom)
	return nil
}

func applyMembers(d *Doc, ch *Change, caller *xbl.Caller, create bool, now time.Time) error {
	me, hasMe := ch.Members["me"]
	switch {
	case hasMe && me == nil:
		d.Members = slices.DeleteFunc(d.Members, func(m Member) bool { return m.XUID == caller.XUID })
	case hasMe:
		if me.XUID != 0 && me.XUID != caller.XUID {
			return derrors.New(derrors.Forbidden, "$.members.me.constants.system.xuid: %s is not the caller (xuid %s)", me.XUID, caller.XUID)
		}
		// A member's constants are set as it joins: a new member, one
		// taking up its reservation, or one that a PUT of other parts
		// added and that now joins as such.
		prevMe := d.Member(caller.XUID)
		joined := prevMe == nil || prevMe.Reserved || prevMe.Added
		m, err := join(d, caller, create, now)
		if err != nil {
			return err
		}
		if err := updateMember(m, me, "$.members.me", joined); err != nil {
			return err
		}
		m.Added = false
	case !caller.Server && d.Member(caller.XUID) == nil:
		m, err := join(d, caller, create, now)
		if err != nil {
			return err
		}
		m.Added = true
	}
	var reserves []string
	for k := range ch.Members {
		if k != "me" {
			reserves = append(reserves, k)
		}
	}
	slices.SortFunc(reserves, func(a, b string) int {
		na, _ := strconv.Atoi(strings.TrimPrefix(a, "reserve_"))
		nb, _ := strconv.Atoi(strings.TrimPrefix(b, "reserve_"))
		return na - nb
	})
	for _, k := range reserves {
		path := "$.members." + k
		rc := ch.Members[k]
		if rc == nil {
			return invalid("%s is null: only \"me\" can be removed (by itself)", path)
		}
		if !caller.Server {
			if m := d.Member(caller.XUID); m == nil || m.Reserved {
				return derrors.New(derrors.Forbidden, "%s: only a member of the session or a server may reserve seats", path)
			}
		}
		if rc.XUID == 0 {
			return invalid("%s.constants.system.xuid is required", path)
		}
		if d.Member(rc.XUID) != nil {
			continue // already has a place: nothing to reserve
		}
		if len(d.Members) >= d.MaxMembers {
			return conflict("%s: the session is full (%d of %d seats taken)", path, len(d.Members), d.MaxMembers)
		}
		m := Member{Index: d.NextIndex, XUID: rc.XUID, Reserved: true}
		if d.ReservedRemovalTimeout > 0 {
			m.ReservedUntil = now.Add(time.Duration(d.ReservedRemovalTimeout) * time.Millisecond)
		}
		d.NextIndex++
		if err := updateMember(&m, rc, path, true); err != nil {
			return err
		}
		m.Active, m.Ready = false, false
		d.Members = append(d.Members, m)
	}
	return nil
}

// join returns the caller's member, adding it (or taking up its
// reservation) when it has none.
func join(d *Doc, caller *xbl.Caller, create bool, now time.Time) (*Member, error) {
	if m := d.Member(caller.XUID); m != nil {
		if m.Reserved {
			m.Reserved, m.ReservedUntil, m.JoinTime = false, time.Time{}, now
			m.Gamertag, m.TitleID = caller.Gamertag, caller.TitleID
		}
		return m, nil
	}
	if caller.Server && caller.XUID == 0 {
		return nil, invalid("$.members.me: a server caller has no xuid to join with")
	}
	if !create && d.Visibility != xbl.OpenVis && !caller.Server {
		return nil, derrors.New(derrors.Forbidden, "the session is %s: joining it needs a reservation", d.Visibility)
	}
	if len(d.Members) >= d.MaxMembers {
		return nil, conflict("the session is full (%d of %d seats taken)", len(d.Members), d.MaxMembers)
	}
	d.Members = append(d.Members, Member{Index: d.NextIndex, XUID: caller.XUID, Gamertag: caller.Gamertag, TitleID: caller.TitleID, JoinTime: now})
	d.NextIndex++
	return &d.Members[len(d.Members)-1], nil
}

// updateMember applies c to m; a member's constants are set when it joins
// (or its seat is reserved) and may only be repeated after.
func updateMember(m *Member, c *MemberChange, path string, joins bool) error {
	if c.Active != nil && c.Ready != nil && *c.Active && *c.Ready {
		return invalid("%s.properties.system: active and ready cannot both be true", path)
	}
	if c.Active != nil {
		m.Active = *c.Active
		if m.Active {
			m.Ready = false
		}
	}
	if c.Ready != nil {
		m.Ready = *c.Ready
		if m.Ready {
			m.Active = false
		}
	}
	var err error
	if m.ConstantsSystem, err = keepConstants(path+".constants.system", m.ConstantsSystem, c.ConstantsSystem, joins); err != nil {
		return err
	}
	if c.ConstantsCustom != nil {
		if m.ConstantsCustom != nil && !sameJSON(m.ConstantsCustom, c.ConstantsCustom) || m.ConstantsCustom == nil && !joins {
			return conflict("%s.constants.custom: constants cannot change once set", path)
		}
		if m.ConstantsCustom == nil { // a repeat keeps the stored spelling
			m.ConstantsCustom = c.ConstantsCustom
		}
	}
	m.PropertiesSystem = merge(m.PropertiesSystem, c.PropertiesSystem)
	m.PropertiesCustom = merge(m.PropertiesCustom, c.PropertiesCustom)
	m.Extra = merge(m.Extra, c.Extra)
	return nil
}

package sessions

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/jsonpath"
	"github.com/xblread/xblread/pkg/xbl"
)

// Apply returns the session that ch makes of prev (nil: a new session) for
// caller now (s.Now), without storing it, encoded (Doc.Encoded): MPSD's
// rules. Access is decided first, from who the caller is in prev and
// nothing of ch but whether it only leaves (mayWrite), so that a caller
// refused gets one answer whatever the body says. Expired reservations
// are dropped, and a reservation without an expiry gets one; constants are
// set on create and may not change after (409); properties are merged
// (null deletes), and each merged object of kept values stays within
// MaxOpaqueBytes; keywords are kept in their canonical form
// (xbl.FoldKeyword), one of each; "me" joins or updates the caller,
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
	if err := mayWrite(prev, ch, caller, now); err != nil {
		return nil, err
	}
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
	// Every reservation ends: one made without an expiry (a fixture's, or
	// one of a session stored before timeouts were bounded) gets one now.
	for i := range d.Members {
		if m := &d.Members[i]; m.Reserved && m.ReservedUntil.IsZero() {
			m.ReservedUntil = reservationEnd(d, now)
		}
	}
	if ch.Disconnected != "" {
		// The service's own write: the caller's connection closed.
		disconnect(d, caller, ch.Disconnected, now)
		d.Turn = slices.DeleteFunc(d.Turn, func(i int) bool {
			return !slices.ContainsFunc(d.Members, func(m Member) bool { return m.Index == i })
		})
		if err := seal(prev, d); err != nil {
			return nil, err
		}
		return d, nil
	}
	constants := ch.Constants
	if prev == nil {
		var err error
		if constants, err = withTemplate(ch.Template, ch.Constants); err != nil {
			return nil, err
		}
	}
	if constants != nil {
		if err := applyConstants(d, constants, prev == nil); err != nil {
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
		before := ObjectSize(d.Servers)
		d.Servers = merge(d.Servers, ch.Servers)
		if err := checkMerged("$.servers", before, d.Servers); err != nil {
			return nil, err
		}
	}
	// Keywords cannot be set on a private session (a session loaded with
	// both keeps them until its keywords are written).
	setsKeywords := ch.Properties != nil && ch.Properties.Keywords != nil
	if d.Visibility == xbl.Private && len(d.Keywords) > 0 && (setsKeywords || prev == nil) {
		return nil, invalid("$.properties.system.keywords: a private session cannot have keywords")
	}
	if v, ok := d.PropertiesSystem["closed"]; ok && !isBool(v) {
		return nil, invalid("$.properties.system.closed must be true or false")
	}
	if v, ok := d.PropertiesSystem["locked"]; ok && !isBool(v) {
		return nil, invalid("$.properties.system.locked must be true or false")
	}
	if err := seal(prev, d); err != nil {
		return nil, err
	}
	return d, nil
}

// seal encodes d, the document that a write makes of prev (nil: none):
// the one encoding of the write, measured here, compared with the stored
// one by Put, stored by the Store. A document that changed takes the
// next change number (and is encoded again with it).
func seal(prev, d *Doc) error {
	b, err := d.Encode()
	if err != nil {
		return derrors.Wrap(derrors.Internal, "encode session", err)
	}
	if prev == nil || !bytes.Equal(prev.Encoded, b) {
		if prev != nil {
			d.ChangeNumber = prev.ChangeNumber
		}
		d.ChangeNumber++
		if b, err = d.Encode(); err != nil {
			return derrors.Wrap(derrors.Internal, "encode session", err)
		}
	}
	if len(b) > MaxDocBytes {
		return invalid("the session would be %d bytes; the limit is %d", len(b), MaxDocBytes)
	}
	return nil
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

func isBool(v json.RawMessage) bool {
	t := string(bytes.TrimSpace(v))
	return t == "true" || t == "false"
}

// Closed reports whether d's properties.system.closed is true: only
// members, reserved players and servers may then join.
func (d *Doc) Closed() bool {
	v, ok := d.PropertiesSystem["closed"]
	return ok && string(bytes.TrimSpace(v)) == "true"
}

// ObjectSize is the size of an object of kept values as the document
// stores it: compact, each name quoted (encoding/json writes U+2028 and
// U+2029 in names as six-byte escapes), each value as kept. Names are
// valid UTF-8 (the decoder refuses others).
func ObjectSize(m map[string]json.RawMessage) int {
	n := 2 + max(len(m)-1, 0) // {} and the commas
	for k, v := range m {
		q, _ := jsontext.AppendQuote(nil, k)
		n += len(q) + 3*(strings.Count(k, "\u2028")+strings.Count(k, "\u2029")) + 1 + len(v)
	}
	return n
}

// checkMerged checks an object of kept values as a merge left it, from
// before bytes: a merge may not grow it past MaxOpaqueBytes. One that
// shrinks it (deletes) is always allowed, so that an object stored over
// the limit (by an earlier rule) can be cut down a key at a time.
func checkMerged(path string, before int, m map[string]json.RawMessage) error {
	if n := ObjectSize(m); n > MaxOpaqueBytes && n > before {
		return invalid("%s would be %d bytes after this write; the limit is %d", path, n, MaxOpaqueBytes)
	}
	return nil
}

// mayWrite decides who may write to prev (nil: a session to create) at
// now, before anything of ch is compared with it, so that the answer to a
// caller refused is the same, 403, whatever ch holds: nothing about a
// session a caller may not read (its constants, its members, its size)
// shows through a write's answer. A server may write to any session; a
// member (or a live reservation's holder) to its own; anyone to an open
// session (the write adds the caller, as MPSD does). A private session
// refuses everyone else, its leave included. A visible session is as
// readable as an open one: a stranger's leave there changes nothing and
// is answered as such, its other writes need a reservation.
//
// A caller who holds only a reservation may take it up (members.me: the
// write joins it, and then applies as a member's) or leave (decline it,
// with "me": null and nothing else); any other write is refused, so that
// an invited player rewrites no session's properties, turn, keywords,
// servers or reservations before it has joined.
func mayWrite(prev *Doc, ch *Change, caller *xbl.Caller, now time.Time) error {
	if prev == nil || caller.Server {
		return nil
	}
	m := prev.Member(caller.XUID)
	if m != nil && m.Expired(now) {
		m = nil
	}
	me, hasMe := ch.Members["me"]
	leaves := ch.leavesOnly()
	switch {
	case m == nil && ch.Invited:
		return nil // joining by an invite
	case m == nil && prev.Visibility == xbl.Private:
		return errPrivate
	case m == nil && prev.Visibility != xbl.OpenVis && !leaves:
		return derrors.New(derrors.Forbidden, "the session is %s: joining it needs a reservation", prev.Visibility)
	case m != nil && m.Reserved && (!hasMe || me == nil && !leaves):
		return derrors.New(derrors.Forbidden, "the caller holds only a reservation: it may join (members.me) or leave (\"me\": null, alone), nothing else until it has joined")
	}
	return nil
}

// leavesOnly reports whether ch does nothing but take the caller out
// ("me": null, alone).
func (ch *Change) leavesOnly() bool {
	me, ok := ch.Members["me"]
	return ok && me == nil && len(ch.Members) == 1 && ch.Constants == nil && ch.Properties == nil && len(ch.Servers) == 0
}

// reservationEnd is when a reservation made in d at now expires: after
// d's reservedRemovalTimeout, held to its range (a session stored before
// the range was enforced may hold 0, which once meant never).
func reservationEnd(d *Doc, now time.Time) time.Time {
	ms := min(max(d.ReservedRemovalTimeout, MinReservedRemovalTimeout), MaxReservedRemovalTimeout)
	return now.Add(time.Duration(ms) * time.Millisecond)
}

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
			ms := *c.ReservedRemovalTimeout
			if ms < MinReservedRemovalTimeout || ms > MaxReservedRemovalTimeout {
				return invalid("%s.reservedRemovalTimeout must be from %d to %d (ms); it is %d", path, MinReservedRemovalTimeout, MaxReservedRemovalTimeout, ms)
			}
			d.ReservedRemovalTimeout = ms
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
		// Keywords are kept in their canonical form, the one the index and
		// the query use, one of each: "S", "s" and "ſ" are one keyword,
		// "i" and "İ" two.
		var kws []string
		for i, kw := range *p.Keywords {
			if err := xbl.CheckKeyword(kw); err != nil {
				return invalid("$.properties.system.keywords[%d]: %v", i, err)
			}
			kw = xbl.FoldKeyword(kw)
			if err := xbl.CheckKeyword(kw); err != nil { // folding may lengthen it
				return invalid("$.properties.system.keywords[%d] in its canonical form %q: %v", i, kw, err)
			}
			if !slices.Contains(kws, kw) {
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
	if p.System != nil {
		before := ObjectSize(d.PropertiesSystem)
		d.PropertiesSystem = merge(d.PropertiesSystem, p.System)
		if err := checkMerged("$.properties.system", before, d.PropertiesSystem); err != nil {
			return err
		}
	}
	if p.Custom != nil {
		before := ObjectSize(d.PropertiesCustom)
		d.PropertiesCustom = merge(d.PropertiesCustom, p.Custom)
		if err := checkMerged("$.properties.custom", before, d.PropertiesCustom); err != nil {
			return err
		}
	}
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
		m, err := join(d, caller, create, ch.Invited, now)
		if err != nil {
			return err
		}
		if err := updateMember(m, me, "$.members.me", joined); err != nil {
			return err
		}
		m.Added = false
		if !caller.Server {
			m.DeviceToken = DeviceToken(caller)
		}
	case !caller.Server && d.Member(caller.XUID) == nil:
		m, err := join(d, caller, create, ch.Invited, now)
		if err != nil {
			return err
		}
		m.Added = true
		m.DeviceToken = DeviceToken(caller)
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
		m := Member{Index: d.NextIndex, XUID: rc.XUID, Reserved: true, ReservedUntil: reservationEnd(d, now)}
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
// reservation) when it has none; an invited caller may join a session of
// any visibility.
func join(d *Doc, caller *xbl.Caller, create, invited bool, now time.Time) (*Member, error) {
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
	if !create && d.Visibility != xbl.OpenVis && !caller.Server && !invited {
		return nil, derrors.New(derrors.Forbidden, "the session is %s: joining it needs a reservation", d.Visibility)
	}
	if !create && !caller.Server && d.Closed() {
		return nil, derrors.New(derrors.Forbidden, "the session is closed (properties.system.closed): joining it needs a reservation")
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
	if c.Active != nil && *c.Active || c.Ready != nil && *c.Ready {
		m.InactiveUntil = time.Time{} // back: it stays
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
	for _, o := range []struct {
		path   string
		have   *map[string]json.RawMessage
		change map[string]json.RawMessage
	}{
		{path + ".properties.system", &m.PropertiesSystem, c.PropertiesSystem},
		{path + ".properties.custom", &m.PropertiesCustom, c.PropertiesCustom},
		{path + " (its fields other than constants and properties)", &m.Extra, c.Extra},
	} {
		if o.change == nil {
			continue
		}
		before := ObjectSize(*o.have)
		*o.have = merge(*o.have, o.change)
		if err := checkMerged(o.path, before, *o.have); err != nil {
			return err
		}
	}
	return nil
}

// invalid is a refusal of the caller's change, of kind Invalid.
func invalid(format string, args ...any) error {
	return derrors.New(derrors.Invalid, format, args...)
}

// conflict is a refusal of a change the session's state forbids, of kind
// Conflict.
func conflict(format string, args ...any) error {
	return derrors.New(derrors.Conflict, format, args...)
}

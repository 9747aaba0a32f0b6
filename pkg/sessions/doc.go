package sessions

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/xblread/xblread/pkg/xbl"
)

// Session document limits and defaults.
const (
	MaxMembersCount = 100 // the largest maxMembersCount, and the default
	// A reservation expires reservedRemovalTimeout ms after it is made:
	// 30 s unless the session's constants say otherwise, from 1 s to 1 h,
	// so that every reservation ends.
	DefaultReservedRemovalTimeout = 30_000
	MinReservedRemovalTimeout     = 1_000
	MaxReservedRemovalTimeout     = 3_600_000
	MaxKeywords                   = 32       // keywords of one session
	MaxOpaqueBytes                = 16 << 10 // one kept or custom JSON value, encoded
	MaxDocBytes                   = 300 << 10
)

// Ref names one session.
type Ref struct {
	SCIDRaw  string // as the caller wrote it
	SCID     string // canonical
	Template string
	Name     string
}

// Doc is a session's whole state: what a GET returns and a PUT changes.
// Fields this project does not interpret are kept as the caller sent them
// (raw JSON), so that they are returned unchanged. Its JSON encoding
// (Encode) is what a store keeps.
type Doc struct {
	SCID          string    `json:"scid"`
	Template      string    `json:"template"`
	Name          string    `json:"name"`
	ETag          string    `json:"-"` // kept beside the encoding, not in it
	CorrelationID string    `json:"correlationId"`
	StartTime     time.Time `json:"startTime"`

	// constants.system, interpreted.
	Visibility             xbl.Visibility `json:"visibility"` // private, visible or open
	MaxMembers             int            `json:"maxMembersCount"`
	Version                int            `json:"version"`
	ReservedRemovalTimeout int64          `json:"reservedRemovalTimeout"` // ms
	// ConstantsSystem are the other constants.system fields.
	ConstantsSystem map[string]json.RawMessage `json:"constantsSystem,omitempty"`
	ConstantsCustom json.RawMessage            `json:"constantsCustom,omitempty"`

	// properties.system, interpreted.
	Keywords        []string `json:"keywords,omitempty"`
	Turn            []int    `json:"turn,omitempty"`
	JoinRestriction string   `json:"joinRestriction,omitempty"` // "" for none
	// PropertiesSystem are the other properties.system fields.
	PropertiesSystem map[string]json.RawMessage `json:"propertiesSystem,omitempty"`
	PropertiesCustom map[string]json.RawMessage `json:"propertiesCustom,omitempty"`

	Servers map[string]json.RawMessage `json:"servers,omitempty"`

	Members   []Member `json:"members,omitempty"` // by index
	NextIndex int      `json:"nextIndex"`
	// ChangeNumber grows by one on every change of the document (0 for a
	// document stored before it was kept): Multiplayer Manager reads a
	// session again only when a tap's change number is newer.
	ChangeNumber int64 `json:"changeNumber,omitempty"`

	// Copies is the store's note of how the session is indexed (whether
	// its index entries carry copies of its head); the rules leave it be.
	Copies bool `json:"-"`
	// Encoded is the document's encoding: as a store read it, or as
	// Encode last wrote it. A write encodes its document once, and those
	// bytes are measured against MaxDocBytes, compared with the stored
	// ones ("nothing changed") and stored. Nil when unknown.
	Encoded []byte `json:"-"`
}

// Member is one member of a session document, or a seat reserved for one.
type Member struct {
	Index    int      `json:"index"`
	XUID     xbl.XUID `json:"xuid"`
	Gamertag string   `json:"gamertag,omitempty"`
	TitleID  string   `json:"titleId,omitempty"`
	Reserved bool     `json:"reserved,omitempty"`
	// ReservedUntil is when a reservation expires. Zero (never) only for
	// a fixture's reservation: the next write to its session gives it one.
	ReservedUntil time.Time `json:"reservedUntil,omitzero"`
	Active        bool      `json:"active,omitempty"`
	Ready         bool      `json:"ready,omitempty"`
	JoinTime      time.Time `json:"joinTime"`
	// Added marks a member that a PUT of other parts added (MPSD adds the
	// caller): until its first members.me it has not joined as such, and
	// that write may still set its constants.
	Added bool `json:"added,omitempty"`

	ConstantsSystem  map[string]json.RawMessage `json:"constantsSystem,omitempty"` // other than xuid
	ConstantsCustom  json.RawMessage            `json:"constantsCustom,omitempty"`
	PropertiesSystem map[string]json.RawMessage `json:"propertiesSystem,omitempty"` // other than active, ready
	PropertiesCustom map[string]json.RawMessage `json:"propertiesCustom,omitempty"`
	// Extra are member fields beside constants and properties (roles...).
	Extra map[string]json.RawMessage `json:"extra,omitempty"`
	// DeviceToken names the device the member last wrote from (see
	// DeviceToken); "" until it writes as itself.
	DeviceToken string `json:"deviceToken,omitempty"`
	// InactiveUntil is when a member whose real-time activity connection
	// closed (Disconnected) is removed: its session's inactive timeout
	// later. Zero while it is connected, or when the session has no such
	// timeout.
	InactiveUntil time.Time `json:"inactiveUntil,omitzero"`
}

// DeviceToken is the device token of a member who writes as caller: 32 hex
// digits of a hash of its xuid and device id, stable for one player on
// one device, under the 40 bytes the client keeps. Multiplayer Manager
// sets properties.system.host to its own member's token, and knows the
// host as the member whose token it is.
func DeviceToken(caller *xbl.Caller) string {
	h := sha256.Sum256([]byte(caller.XUID.String() + "|" + caller.DeviceID))
	return hex.EncodeToString(h[:16])
}

// Token is m's device token as answered: the one it wrote from, or, for a
// member that has not written as itself (a reservation), its player's on
// no known device.
func (m *Member) Token() string {
	if m.DeviceToken != "" {
		return m.DeviceToken
	}
	return DeviceToken(&xbl.Caller{XUID: m.XUID})
}

// Status is the member's state as XSAPI reads it: active, else ready,
// else reserved, else inactive.
func (m *Member) Status() string {
	switch {
	case m.Active:
		return "active"
	case m.Ready:
		return "ready"
	case m.Reserved:
		return "reserved"
	}
	return "inactive"
}

// Expired reports whether m is a reservation that expired before now,
// or a member whose connection closed and whose inactive time ran out
// (see InactiveUntil): either is no longer in the session.
func (m *Member) Expired(now time.Time) bool {
	return m.Reserved && !m.ReservedUntil.IsZero() && !now.Before(m.ReservedUntil) ||
		!m.InactiveUntil.IsZero() && !now.Before(m.InactiveUntil)
}

// Ends is when m leaves the session by itself: its reservation's expiry,
// or the end of its inactive time; zero for never.
func (m *Member) Ends() time.Time {
	if m.Reserved {
		return m.ReservedUntil
	}
	return m.InactiveUntil
}

// dropExpired removes from d the reservations expired at now.
func (d *Doc) dropExpired(now time.Time) {
	d.Members = slices.DeleteFunc(d.Members, func(m Member) bool { return m.Expired(now) })
}

// NextTimer is d's next timer: the earliest expiry of a reservation or
// end of an inactive member's time in it (zero for none).
func (d *Doc) NextTimer() time.Time {
	var next time.Time
	for i := range d.Members {
		if u := d.Members[i].Ends(); !u.IsZero() && (next.IsZero() || u.Before(next)) {
			next = u
		}
	}
	return next
}

// Encode sets d.Encoded to d as JSON, as it is stored and measured
// (without escaping HTML characters: "<" is one byte, not six), and
// returns it. Maps are written in key order, so that one state has one
// encoding.
func (d *Doc) Encode() ([]byte, error) {
	b, err := marshalKept(d)
	if err != nil {
		return nil, err
	}
	d.Encoded = b
	return d.Encoded, nil
}

// Decode returns the document that b, its encoding, holds, with its ETag.
func Decode(b []byte, etag string) (*Doc, error) {
	d := &Doc{ETag: etag, Encoded: b}
	if err := json.Unmarshal(b, d); err != nil {
		return nil, err
	}
	return d, nil
}

// Clone returns a deep copy of d but its Encoded bytes (a copy is changed
// before it is encoded). Kept values are shared: they are never changed
// in place, only replaced.
func (d *Doc) Clone() *Doc {
	c := *d
	c.Encoded = nil
	c.ConstantsSystem = maps.Clone(d.ConstantsSystem)
	c.Keywords = slices.Clone(d.Keywords)
	c.Turn = slices.Clone(d.Turn)
	c.PropertiesSystem = maps.Clone(d.PropertiesSystem)
	c.PropertiesCustom = maps.Clone(d.PropertiesCustom)
	c.Servers = maps.Clone(d.Servers)
	c.Members = slices.Clone(d.Members)
	for i := range c.Members {
		m := &c.Members[i]
		m.ConstantsSystem = maps.Clone(m.ConstantsSystem)
		m.PropertiesSystem = maps.Clone(m.PropertiesSystem)
		m.PropertiesCustom = maps.Clone(m.PropertiesCustom)
		m.Extra = maps.Clone(m.Extra)
	}
	return &c
}

// Member returns x's place in d, nil when x has none.
func (d *Doc) Member(x xbl.XUID) *Member {
	for i := range d.Members {
		if d.Members[i].XUID == x {
			return &d.Members[i]
		}
	}
	return nil
}

// Head is what the session directory query needs of a session: small, so
// that a query reads it for every row it answers, and taken from one
// version of the document, so that a row never mixes two. Its members
// carry what a head stores of them: XUID, Index, their status (Active,
// Ready, Reserved) and ReservedUntil.
type Head struct {
	Template        string
	Name            string
	StartTime       time.Time
	Version         int
	Visibility      xbl.Visibility
	MaxMembers      int
	JoinRestriction string
	Keywords        []string
	Turn            []int
	Members         []Member
}

// SetStatus sets m's status flags from status, as Status names it, and
// reports whether status is one of those names.
func (m *Member) SetStatus(status string) bool {
	m.Active, m.Ready, m.Reserved = status == "active", status == "ready", status == "reserved"
	return m.Active || m.Ready || m.Reserved || status == "inactive"
}

// Head returns d's head.
func (d *Doc) Head() *Head {
	h := &Head{
		Template: d.Template, Name: d.Name, StartTime: d.StartTime, Version: d.Version,
		Visibility: d.Visibility, MaxMembers: d.MaxMembers, JoinRestriction: d.JoinRestriction,
		Keywords: d.Keywords, Turn: d.Turn, Members: make([]Member, len(d.Members)),
	}
	for i := range d.Members {
		m := &d.Members[i]
		h.Members[i] = Member{XUID: m.XUID, Index: m.Index, Active: m.Active, Ready: m.Ready, Reserved: m.Reserved, ReservedUntil: m.ReservedUntil, InactiveUntil: m.InactiveUntil}
	}
	return h
}

// View is the session as a query sees it at now, through member x (nil
// for a keyword query); false when x has no place in it (any more).
// Expired reservations are neither members nor counted. The visibility is
// full when the seats are all taken (a private session stays private).
func (h *Head) View(x *xbl.XUID, now time.Time) (Session, bool) {
	s := Session{
		Template: h.Template, Name: h.Name, StartTime: h.StartTime, Version: h.Version,
		Visibility: h.Visibility, Keywords: h.Keywords,
	}
	if s.Keywords == nil {
		s.Keywords = []string{}
	}
	count, found := 0, x == nil
	for i := range h.Members {
		m := &h.Members[i]
		if m.Expired(now) {
			continue
		}
		count++
		if !m.Reserved {
			s.Accepted++
		}
		if x != nil && m.XUID == *x {
			found = true
			switch {
			case m.Active:
				s.Status = xbl.Active
			case m.Reserved:
				s.Status = xbl.Reserved
			default:
				s.Status = xbl.Inactive
			}
			s.MyTurn = slices.Contains(h.Turn, m.Index)
		}
	}
	if !found || count == 0 {
		return Session{}, false // not through x, or only expired reservations left
	}
	s.Visibility = ShownVisibility(h.Visibility, h.MaxMembers, count)
	s.JoinRestriction = h.JoinRestriction // shown for open and full sessions only, by the edge
	return s, true
}

// FromFixture returns the document of a fixture session (xbl.Session), as
// the loader stores it: members in order, reservations that never expire,
// the turn from the members' MyTurn. A fixture visibility of full is an
// open session whose seats are all taken.
func FromFixture(ss *xbl.Session, etag string) *Doc {
	d := &Doc{
		SCID: ss.SCID, Template: ss.Template, Name: ss.Name, ETag: etag,
		CorrelationID: etag, StartTime: ss.StartTime.UTC().Truncate(100 * time.Nanosecond),
		Visibility: ss.Visibility, MaxMembers: MaxMembersCount, Version: ss.Version,
		ReservedRemovalTimeout: DefaultReservedRemovalTimeout,
		Keywords:               slices.Clone(ss.Keywords), JoinRestriction: ss.JoinRestriction,
	}
	if d.Visibility == xbl.Full {
		d.Visibility = xbl.OpenVis
		d.MaxMembers = max(1, len(ss.Members))
	}
	for i, m := range ss.Members {
		dm := Member{Index: i, XUID: m.XUID, JoinTime: d.StartTime}
		switch m.Status {
		case xbl.Active:
			dm.Active = true
		case xbl.Reserved:
			dm.Reserved = true
		}
		if m.MyTurn {
			d.Turn = append(d.Turn, i)
		}
		d.Members = append(d.Members, dm)
	}
	d.NextIndex = len(ss.Members)
	d.Encode() // cannot fail: a fixture document holds no raw JSON
	return d
}

// ShownVisibility is a session's visibility as the directory shows it: a
// session that is not private and has no seat left (count members of max)
// is full.
func ShownVisibility(v xbl.Visibility, max, count int) xbl.Visibility {
	if v != xbl.Private && max > 0 && count >= max {
		return xbl.Full
	}
	return v
}

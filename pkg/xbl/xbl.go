// Package xbl holds the values every API of the service serves and the
// rules for reading them from requests and fixtures: XUIDs, SCIDs,
// statistics and their values, service configurations, callers, and
// multiplayer sessions.
package xbl

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/jsonpath"
)

// XUID is an Xbox user id: an unsigned 64-bit integer.
type XUID uint64

// ParseXUID reads a decimal XUID exactly. Signs, fractions, exponents, hex,
// leading or trailing space, empty text and values above 2^64-1 are errors.
func ParseXUID(s string) (XUID, error) {
	if s == "" {
		return 0, errors.New("xuid is empty")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("xuid %q is not an unsigned decimal integer", jsonpath.Clip(s))
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("xuid %q is out of range (0 to 18446744073709551615)", jsonpath.Clip(s))
	}
	return XUID(v), nil
}

// String returns the decimal form of x.
func (x XUID) String() string { return strconv.FormatUint(uint64(x), 10) }

// ParseSCID checks that s is a GUID in the 8-4-4-4-12 hex form and returns
// its canonical (lower-case) form, under which it is stored and matched.
func ParseSCID(s string) (string, error) {
	if len(s) != 36 {
		return "", fmt.Errorf("scid %q is not a GUID (8-4-4-4-12 hex digits)", jsonpath.Clip(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", fmt.Errorf("scid %q is not a GUID (8-4-4-4-12 hex digits)", jsonpath.Clip(s))
			}
		default:
			if !isHex(c) {
				return "", fmt.Errorf("scid %q is not a GUID (8-4-4-4-12 hex digits)", jsonpath.Clip(s))
			}
		}
	}
	return strings.ToLower(s), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// StatType is the type of a statistic's value.
type StatType string

// The statistic types the service stores and returns.
const (
	Integer StatType = "Integer"
	Double  StatType = "Double"
	String  StatType = "String"
)

// StatValue is one typed statistic value. Value holds its canonical text:
// decimal for integers, the shortest round-tripping form for doubles.
type StatValue struct {
	Type  StatType
	Value string
}

// NewStatValue checks that text is a valid value of type t and returns it in
// canonical form.
func NewStatValue(t StatType, text string) (StatValue, error) {
	switch t {
	case Integer:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return StatValue{}, fmt.Errorf("%q is not a 64-bit integer", jsonpath.Clip(text))
		}
		return StatValue{Type: t, Value: strconv.FormatInt(n, 10)}, nil
	case Double:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return StatValue{}, fmt.Errorf("%q is not a finite double", jsonpath.Clip(text))
		}
		return StatValue{Type: t, Value: FormatDouble(f)}, nil
	case String:
		return StatValue{Type: t, Value: text}, nil
	}
	return StatValue{}, fmt.Errorf("type %q is not one of Integer, Double, String", jsonpath.Clip(string(t)))
}

// StatKey is the form a stat name is stored and matched under: stat names
// are case-insensitive (XSAPI's rule for title-managed statistics), so
// "Kills" and "KILLS" are one statistic, answered as each caller spelled it.
// It is FoldKeyword's form: two names are one statistic exactly when
// strings.EqualFold says so ("ſ" and "s" are, "İ" and "i" are not).
func StatKey(name string) string { return FoldKeyword(name) }

// FormatDouble writes f as ECMAScript's Number.prototype.toString does,
// which is how a game shows the string it is given: the shortest digits
// that read back to f, in plain decimal for 1e-6 <= |f| < 1e21 (1234567,
// 0.000001, 123456789.12345679) and in exponent form outside (1e+21,
// 5e-324, 1e-7: ECMA-262's Number::toString switches at 10^-6, so 1e-7 is
// already "1e-7" in every JavaScript engine); negative zero is "0".
func FormatDouble(f float64) string {
	if f == 0 {
		return "0"
	}
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1.5e-07, 1e+21
	mant, exp, _ := strings.Cut(s, "e")
	sign, digits := exp[:1], strings.TrimLeft(exp[1:], "0")
	return mant + "e" + sign + digits
}

// Access says who may read a statistic of a service configuration.
type Access string

// The two access levels of a statistic.
const (
	// Open statistics are readable by any caller authorized to the sandbox.
	Open Access = "open"
	// Restricted statistics are readable only by the owning titles.
	Restricted Access = "restricted"
)

// ServiceConfig is what the service knows of one SCID: the titles that own
// it, the sandboxes it lives in and the access level of its statistics.
type ServiceConfig struct {
	SCID      string // canonical (lower-case)
	TitleIDs  []string
	Sandboxes []string
	Stats     map[string]Access // keyed by StatKey
	// Leaderboards are the SCID's ranked statistics, keyed by StatKey:
	// only these stats are ranked, and a stat has at most one.
	Leaderboards map[string]Leaderboard
	// SessionTemplates are the SCID's session templates by name (matched
	// exactly): a session created under one starts with its constants.
	// Empty when the SCID names none: then any template name is accepted,
	// and a session's constants are only what its create sends.
	SessionTemplates map[string]SessionTemplate
}

// SessionTemplate is one session template of a configuration.
type SessionTemplate struct {
	// Constants are the template's constants, as package sessions encodes
	// them (sessions.EncodeTemplate); opaque here.
	Constants []byte
}

// SessionTemplate returns the configuration's template name; ok is false
// when the SCID names templates and name is not one of them.
func (c *ServiceConfig) SessionTemplate(name string) (t *SessionTemplate, ok bool) {
	if len(c.SessionTemplates) == 0 {
		return nil, true
	}
	tt, ok := c.SessionTemplates[name]
	if !ok {
		return nil, false
	}
	return &tt, true
}

// Leaderboard is the configuration of one leaderboard: a title-managed
// statistic ranked across every player of the SCID.
type Leaderboard struct {
	// Stat is the statistic's name as configured.
	Stat string
	// Ascending ranks the lowest value first (times, say); the default is
	// descending, the highest first.
	Ascending bool
	// Type is the column type the leaderboard reports, Integer or Double:
	// values of either type are ranked by number; a String value is not
	// ranked.
	Type StatType
	// Lanes is the number of partitions the board's entries are spread
	// over, by player (0 for DefaultLanes): a board takes about 250
	// ranked writes a second per lane before a lane reaches a partition's
	// 1,000 write units, and a page that is not the top page reads every
	// lane (half a read unit each at least). Fixed when the board is
	// first written: the entries are where their lane put them.
	Lanes int
}

// Lanes of a board: DefaultLanes unless configured, at most MaxLanes.
const (
	DefaultLanes = 4
	MaxLanes     = 64
)

// Batched reports whether the board counts its moves in batches: one
// configured with more lanes than the default (for more ranked writes
// than a few hundred a second) has its index's counter changes written
// to journals and folded into its counters at a bounded rate, and keeps a
// top item; another has them written with its entries.
func (lb *Leaderboard) Batched() bool { return lb.LaneCount() > DefaultLanes }

// LaneCount returns the board's lanes: Lanes, or DefaultLanes when unset.
func (lb *Leaderboard) LaneCount() int {
	if lb.Lanes <= 0 {
		return DefaultLanes
	}
	return min(lb.Lanes, MaxLanes)
}

// Leaderboard returns the configuration's leaderboard of the named
// statistic (in any letter case, as StatKey folds it).
func (c *ServiceConfig) Leaderboard(stat string) (Leaderboard, bool) {
	lb, ok := c.Leaderboards[StatKey(stat)]
	return lb, ok
}

// UserStats is one user's statistics for one SCID.
type UserStats struct {
	XUID  XUID
	SCID  string // canonical
	Stats map[string]StatValue
}

// Profile is what the service knows of a user beyond statistics.
type Profile struct {
	XUID     XUID
	Gamertag string
}

// Visibility is a session's visibility.
type Visibility string

// Session visibilities.
const (
	Private Visibility = "private"
	Visible Visibility = "visible"
	Full    Visibility = "full"
	OpenVis Visibility = "open"
)

// ParseVisibility checks that s names a visibility.
func ParseVisibility(s string) (Visibility, error) {
	switch v := Visibility(s); v {
	case Private, Visible, Full, OpenVis:
		return v, nil
	}
	return "", fmt.Errorf("visibility %q is not one of private, visible, full, open", jsonpath.Clip(s))
}

// MemberStatus is a user's state in a session.
type MemberStatus string

// Member states.
const (
	Active   MemberStatus = "active"
	Reserved MemberStatus = "reserved"
	Inactive MemberStatus = "inactive"
)

// ParseMemberStatus checks that s names a member status.
func ParseMemberStatus(s string) (MemberStatus, error) {
	switch v := MemberStatus(s); v {
	case Active, Reserved, Inactive:
		return v, nil
	}
	return "", fmt.Errorf("status %q is not one of active, reserved, inactive", jsonpath.Clip(s))
}

// ParseJoinRestriction reads a session's joinRestriction, as a session
// write and a fixture give it: none, local or followed, in any letter case
// (XSAPI writes them in lower case). It returns the restriction in lower
// case, "" for none (or for ""), the form sessions store.
func ParseJoinRestriction(s string) (string, error) {
	switch r := strings.ToLower(s); r {
	case "none", "":
		return "", nil
	case "local", "followed":
		return r, nil
	}
	return "", fmt.Errorf("joinRestriction %q is not one of none, local, followed", jsonpath.Clip(s))
}

// Member is one user's place in a session.
type Member struct {
	XUID   XUID
	Status MemberStatus
	MyTurn bool
}

// Session is a multiplayer session with its members.
type Session struct {
	SCID            string // canonical
	Template        string
	Name            string
	StartTime       time.Time
	Version         int
	Visibility      Visibility
	JoinRestriction string
	Keywords        []string
	Members         []Member
}

// MaxNameBytes bounds session template and session names: XSAPI copies
// them into 100-byte buffers with their terminating NUL.
const MaxNameBytes = 99

// MaxKeywordBytes bounds a session keyword (it is part of a DynamoDB
// partition key, whose limit is 2,048 bytes).
const MaxKeywordBytes = 256

// CheckName checks a session template or session name. Names are stored
// inside DynamoDB keys joined by '#', so '#' and control characters are
// refused; so are empty names, names of 100 bytes or more, and names that
// a path could not carry ("/", "." and "..").
func CheckName(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if s == "." || s == ".." || strings.Contains(s, "/") {
		return fmt.Errorf("%s %q cannot be a path segment ('/', '.' or '..')", what, jsonpath.Clip(s))
	}
	if len(s) > MaxNameBytes {
		return fmt.Errorf("%s is %d bytes; the limit is %d", what, len(s), MaxNameBytes)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q is not valid UTF-8", what, jsonpath.Clip(s))
	}
	for _, r := range s {
		if r == '\uFFFD' { // what invalid UTF-8 becomes on the way in
			return fmt.Errorf("%s %q is not valid UTF-8 (or holds U+FFFD)", what, jsonpath.Clip(s))
		}
		if r == '#' || IsControl(r) {
			return fmt.Errorf("%s %q contains a character that is not allowed ('#' or a control character)", what, jsonpath.Clip(s))
		}
	}
	return nil
}

// IsControl reports whether r is a control character: C0 (U+0000 to
// U+001F), DEL (U+007F) or C1 (U+0080 to U+009F, NEL U+0085 among them).
// No name, keyword or stat name may hold one.
func IsControl(r rune) bool { return r < 0x20 || 0x7f <= r && r <= 0x9f }

// HasControlOrInvalid reports whether s holds a control character
// (IsControl), invalid UTF-8, or U+FFFD (what invalid UTF-8 becomes on the
// way in).
func HasControlOrInvalid(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return IsControl(r) || r == utf8.RuneError })
}

// CheckStartTime checks a session's start time: from 1970 to the end of
// year 9999 in UTC, the times the store can order and write back.
func CheckStartTime(t time.Time) error {
	if u := t.UTC(); u.Year() < 1970 || u.Year() > 9999 {
		return fmt.Errorf("start time %s is outside 1970 to 9999 (UTC)", t.Format(time.RFC3339))
	}
	return nil
}

// CheckKeyword checks a session keyword: not empty, at most
// MaxKeywordBytes, no control characters (IsControl) or invalid UTF-8.
func CheckKeyword(s string) error {
	if s == "" {
		return errors.New("keyword is empty")
	}
	if len(s) > MaxKeywordBytes {
		return fmt.Errorf("keyword is %d bytes; the limit is %d", len(s), MaxKeywordBytes)
	}
	if HasControlOrInvalid(s) {
		return fmt.Errorf("keyword %q contains a control character or invalid UTF-8", jsonpath.Clip(s))
	}
	return nil
}

// Dataset is a set of values to load into the store, as a fixture file
// describes them.
type Dataset struct {
	Configs  []ServiceConfig
	Profiles []Profile
	Stats    []UserStats
	Sessions []Session
}

// Merge appends o's values to d; on load, later values replace earlier ones
// with the same key.
func (d *Dataset) Merge(o *Dataset) {
	d.Configs = append(d.Configs, o.Configs...)
	d.Profiles = append(d.Profiles, o.Profiles...)
	d.Stats = append(d.Stats, o.Stats...)
	d.Sessions = append(d.Sessions, o.Sessions...)
}

// JSONXUID is an xuid as a request writes it: a JSON string or a JSON
// number, read exactly, never through a float64. It is the one reader of
// an xuid in a request body; use it as a field's type and convert.
type JSONXUID XUID

// UnmarshalJSONFrom reads one xuid from d. A value that is not one is a
// derrors.Invalid error, whose message httpapi.Decode puts after the
// value's JSON path.
func (x *JSONXUID) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	var text string
	switch d.PeekKind() {
	case '"':
		tok, err := d.ReadToken()
		if err != nil {
			return err
		}
		text = tok.String()
	case '0':
		v, err := d.ReadValue()
		if err != nil {
			return err
		}
		text = string(v)
	default:
		if err := d.SkipValue(); err != nil {
			return err
		}
		return derrors.New(derrors.Invalid, "xuid must be a string or a number")
	}
	v, err := ParseXUID(text)
	if err != nil {
		return derrors.New(derrors.Invalid, "%v", err)
	}
	*x = JSONXUID(v)
	return nil
}

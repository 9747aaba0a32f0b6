package sessionswriteapi

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/jsonpath"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/xbl"
)

func badRequest(format string, args ...any) error {
	return derrors.New(derrors.Invalid, format, args...)
}

// The wire shape of a session PUT body. Objects whose members are all
// named here refuse any other member (RejectUnknownMembers); the system
// objects keep their other members (embed) as kept values.
type (
	putBody struct {
		Constants  *constantsBody  `json:"constants"`
		Properties *propertiesBody `json:"properties"`
		// Members by key: "me" (null leaves) or "reserve_N".
		Members map[string]*memberBody `json:"members"`
		Servers map[string]kept        `json:"servers"` // null deletes one
	}
	constantsBody struct {
		System *constantsSystem `json:"system"`
		Custom *kept            `json:"custom"`
	}
	constantsSystem struct {
		Visibility             field[string]         `json:"visibility"`
		MaxMembersCount        field[jsontext.Value] `json:"maxMembersCount"`
		Version                field[jsontext.Value] `json:"version"`
		ReservedRemovalTimeout field[jsontext.Value] `json:"reservedRemovalTimeout"`
		// MPSD's other timeouts: kept (they do not act here), but XSAPI
		// reads them as numbers of ms.
		InactiveRemovalTimeout field[jsontext.Value] `json:"inactiveRemovalTimeout"`
		ReadyRemovalTimeout    field[jsontext.Value] `json:"readyRemovalTimeout"`
		SessionEmptyTimeout    field[jsontext.Value] `json:"sessionEmptyTimeout"`
		Other                  map[string]kept       `json:",embed"`
	}
	propertiesBody struct {
		System *propertiesSystem `json:"system"`
		Custom map[string]kept   `json:"custom"`
	}
	propertiesSystem struct {
		Keywords        field[[]string]         `json:"keywords"`
		Turn            field[[]jsontext.Value] `json:"turn"`
		JoinRestriction field[string]           `json:"joinRestriction"`
		Other           map[string]kept         `json:",embed"`
	}
	memberBody struct {
		Constants  *memberConstants  `json:"constants"`
		Properties *memberProperties `json:"properties"`
		// What the service sets: refused.
		Gamertag      serviceSet      `json:"gamertag"`
		Reserved      serviceSet      `json:"reserved"`
		ActiveTitleID serviceSet      `json:"activeTitleId"`
		JoinTime      serviceSet      `json:"joinTime"`
		Next          serviceSet      `json:"next"`
		Turn          serviceSet      `json:"turn"`
		DeviceToken   serviceSet      `json:"deviceToken"`
		Extra         map[string]kept `json:",embed"` // roles and the like
	}
	memberConstants struct {
		System *memberConstantsSystem `json:"system"`
		Custom *kept                  `json:"custom"`
	}
	memberConstantsSystem struct {
		XUID  field[xbl.JSONXUID] `json:"xuid"`
		Index jsontext.Value      `json:"index"` // the service assigns it: dropped
		Other map[string]kept     `json:",embed"`
	}
	memberProperties struct {
		System *memberPropertiesSystem `json:"system"`
		Custom map[string]kept         `json:"custom"`
	}
	memberPropertiesSystem struct {
		Active field[bool] `json:"active"`
		Ready  field[bool] `json:"ready"`
		// XSAPI reads these as arrays of strings; null deletes.
		Encounters field[[]string] `json:"encounters"`
		Groups     field[[]string] `json:"groups"`
		Other      map[string]kept `json:",embed"`
	}
)

// field is a member whose presence matters apart from its value: Set when
// the body carries it, Null when as null.
type field[T any] struct {
	Set, Null bool
	V         T
}

func (f *field[T]) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	f.Set = true
	if dec.PeekKind() == 'n' {
		f.Null = true
		_, err := dec.ReadToken()
		return err
	}
	return jsonv2.UnmarshalDecode(dec, &f.V)
}

// serviceSet is a member field the service sets: a write may not carry it.
type serviceSet struct{}

func (serviceSet) UnmarshalJSONFrom(*jsontext.Decoder) error {
	return badRequest("set by the service, not by a write")
}

// kept is a JSON value the service keeps without reading it: compact,
// its strings written with the fewest escapes (so that its size, and the
// limit, do not depend on how the client escaped it: "\u00e9" is "é"),
// its numbers as sent; each number fits a double (XSAPI's RapidJSON
// refuses 1e999, and would read 1e-400 as 0), and it is at most
// sessions.MaxOpaqueBytes. The decoder has refused invalid UTF-8 and lone
// surrogates.
type kept jsontext.Value

// It reads the value once, token by token, writing each token as it is
// kept and checking each number as it comes; a fault is reported once the
// whole value is read, so that its path is the value's.
func (k *kept) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	var b bytes.Buffer
	enc := jsontext.NewEncoder(&b)
	var fault error
	for depth := dec.StackDepth(); ; {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if tok.Kind() == '0' && fault == nil {
			if n := tok.String(); !fitsDouble(n) {
				fault = badRequest("the number %s does not fit a double", jsonpath.Clip(n))
			}
		}
		if d := dec.StackDepth() - depth; d > MaxKeptDepth && fault == nil {
			fault = badRequest("nests %d levels deep; a kept value nests at most %d", d, MaxKeptDepth)
		}
		if err := enc.WriteToken(tok); err != nil {
			return err
		}
		if dec.StackDepth() == depth {
			break
		}
	}
	v := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	if len(v) > sessions.MaxOpaqueBytes {
		return badRequest("%d bytes, over the limit of %d", len(v), sessions.MaxOpaqueBytes)
	}
	if fault != nil {
		return fault
	}
	*k = kept(v)
	return nil
}

// MaxKeptDepth bounds the nesting of a kept value: every client parses
// the session, and one that recurses (RapidJSON's default reader does)
// must not be given a value that exhausts its stack.
const MaxKeptDepth = 32

func fitsDouble(n string) bool { _, ok := httpapi.Double(n); return ok }

func isNull(v []byte) bool { return string(v) == "null" }

// decodeOptions: a body member not named by the wire shape is refused.
var decodeOptions = jsonv2.RejectUnknownMembers(true)

// ParseChange reads a session PUT body in one pass (httpapi.Decode) and
// checks it against MPSD's rules, naming every field it refuses by its
// JSON path. Fields with meaning here are typed; the others are kept
// values.
func ParseChange(body []byte) (*sessions.Change, error) {
	b, err := httpapi.DecodeObject[putBody](body, decodeOptions)
	if err != nil {
		return nil, err
	}
	ch := &sessions.Change{}
	if b.Constants != nil {
		if ch.Constants, err = b.Constants.change("$.constants"); err != nil {
			return nil, err
		}
	}
	if b.Properties != nil {
		if ch.Properties, err = b.Properties.change("$.properties"); err != nil {
			return nil, err
		}
	}
	if b.Members != nil {
		if ch.Members, err = members("$.members", b.Members); err != nil {
			return nil, err
		}
	}
	if b.Servers != nil {
		if ch.Servers, err = object("$.servers", b.Servers, true); err != nil {
			return nil, err
		}
	}
	return ch, nil
}

// object checks an object of kept values: no null member unless nulls
// (a null deletes on merge), and at most sessions.MaxOpaqueBytes in all.
func object(path string, m map[string]kept, nulls bool) (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !nulls && isNull(m[k]) {
			return nil, badRequest("%s cannot be null", jsonpath.Child(path, k))
		}
		out[k] = json.RawMessage(m[k])
	}
	if total := sessions.ObjectSize(out); total > sessions.MaxOpaqueBytes {
		return nil, badRequest("%s is %d bytes; the limit is %d", path, total, sessions.MaxOpaqueBytes)
	}
	return out, nil
}

// whole reads a JSON integer from lo to hi; 1e3 and 5.0 are whole numbers
// written another way.
func whole(path string, f field[jsontext.Value], lo, hi int64) (int64, error) {
	bad := badRequest("%s must be a whole number from %d to %d", path, lo, hi)
	if f.Null || f.V.Kind() != '0' {
		return 0, bad
	}
	n, err := strconv.ParseInt(string(f.V), 10, 64)
	if err != nil {
		x, err := strconv.ParseFloat(string(f.V), 64)
		if err != nil || x != math.Trunc(x) || x < float64(lo) || x > float64(hi) {
			return 0, bad
		}
		n = int64(x)
	}
	if n < lo || n > hi {
		return 0, bad
	}
	return n, nil
}

func (c *constantsBody) change(path string) (*sessions.ConstantsChange, error) {
	out := &sessions.ConstantsChange{}
	if c.Custom != nil {
		out.Custom = json.RawMessage(*c.Custom)
	}
	s := c.System
	if s == nil {
		return out, nil
	}
	path += ".system"
	var err error
	if out.System, err = object(path, s.Other, false); err != nil {
		return nil, err
	}
	if f := s.Visibility; f.Set {
		vis := xbl.Visibility(strings.ToLower(f.V))
		if f.Null {
			return nil, badRequest("%s.visibility cannot be null", path)
		}
		if vis != xbl.Private && vis != xbl.Visible && vis != xbl.OpenVis {
			return nil, badRequest("%s.visibility %q is not one of private, visible, open", path, jsonpath.Clip(f.V))
		}
		out.Visibility = &vis
	}
	if f := s.MaxMembersCount; f.Set {
		n, err := whole(path+".maxMembersCount", f, 1, sessions.MaxMembersCount)
		if err != nil {
			return nil, err
		}
		out.MaxMembers = ptr(int(n))
	}
	if f := s.Version; f.Set {
		n, err := whole(path+".version", f, 0, math.MaxInt32)
		if err != nil {
			return nil, err
		}
		out.Version = ptr(int(n))
	}
	if f := s.ReservedRemovalTimeout; f.Set {
		// 0 once meant a reservation that never ends: refused.
		n, err := whole(path+".reservedRemovalTimeout", f, sessions.MinReservedRemovalTimeout, sessions.MaxReservedRemovalTimeout)
		if err != nil {
			return nil, err
		}
		out.ReservedRemovalTimeout = &n
	}
	for _, t := range []struct {
		name string
		f    field[jsontext.Value]
	}{{"inactiveRemovalTimeout", s.InactiveRemovalTimeout}, {"readyRemovalTimeout", s.ReadyRemovalTimeout}, {"sessionEmptyTimeout", s.SessionEmptyTimeout}} {
		if !t.f.Set {
			continue
		}
		if _, err := whole(path+"."+t.name, t.f, 0, math.MaxInt32); err != nil {
			return nil, err
		}
		out.System[t.name] = json.RawMessage(bytes.Clone(t.f.V)) // kept as sent
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }

func (p *propertiesBody) change(path string) (*sessions.PropertiesChange, error) {
	out := &sessions.PropertiesChange{}
	var err error
	if p.Custom != nil {
		if out.Custom, err = object(path+".custom", p.Custom, true); err != nil {
			return nil, err
		}
	}
	s := p.System
	if s == nil {
		return out, nil
	}
	path += ".system"
	if out.System, err = object(path, s.Other, true); err != nil {
		return nil, err
	}
	if v, ok := out.System["host"]; ok && !isNull(v) {
		// XSAPI reads host as a string into a 40-byte device token.
		var host string
		if err := jsonv2.Unmarshal(v, &host); err != nil || len(host) >= 40 {
			return nil, badRequest("%s.host must be a device token: a string under 40 bytes, or null", path)
		}
	}
	if f := s.Keywords; f.Set {
		kws := append([]string{}, f.V...) // null: none
		out.Keywords = &kws
	}
	if f := s.Turn; f.Set {
		turn := []int{} // null: nobody's
		for i, v := range f.V {
			n, err := whole(path+".turn["+strconv.Itoa(i)+"]", field[jsontext.Value]{V: v}, 0, math.MaxInt32)
			if err != nil {
				return nil, err
			}
			turn = append(turn, int(n))
		}
		out.Turn = &turn
	}
	if f := s.JoinRestriction; f.Set {
		r, err := xbl.ParseJoinRestriction(f.V)
		if err != nil {
			return nil, badRequest("%s.%v", path, err)
		}
		out.JoinRestriction = &r
	}
	return out, nil
}

func members(path string, in map[string]*memberBody) (map[string]*sessions.MemberChange, error) {
	if len(in) > sessions.MaxMembersCount {
		return nil, badRequest("%s has %d members; a session has at most %d", path, len(in), sessions.MaxMembersCount)
	}
	out := make(map[string]*sessions.MemberChange, len(in))
	for _, k := range slices.Sorted(maps.Keys(in)) {
		kp := jsonpath.Child(path, k)
		if k != "me" {
			n, ok := strings.CutPrefix(k, "reserve_")
			if i, err := strconv.Atoi(n); !ok || err != nil || i < 0 || strconv.Itoa(i) != n {
				return nil, badRequest("%s: members are written as \"me\" or \"reserve_N\"", kp)
			}
		}
		m := in[k]
		if m == nil {
			if k != "me" {
				return nil, badRequest("%s cannot be null: only \"me\" can be removed", kp)
			}
			out[k] = nil
			continue
		}
		mc, err := m.change(kp)
		if err != nil {
			return nil, err
		}
		out[k] = mc
	}
	return out, nil
}

func (m *memberBody) change(path string) (*sessions.MemberChange, error) {
	mc := &sessions.MemberChange{}
	var err error
	if len(m.Extra) > 0 {
		mc.Extra = make(map[string]json.RawMessage, len(m.Extra))
		for k, v := range m.Extra {
			mc.Extra[k] = json.RawMessage(v)
		}
		if n := sessions.ObjectSize(mc.Extra); n > sessions.MaxOpaqueBytes {
			return nil, badRequest("%s: its fields other than constants and properties are %d bytes; the limit is %d", path, n, sessions.MaxOpaqueBytes)
		}
	}
	if c := m.Constants; c != nil {
		if c.Custom != nil {
			mc.ConstantsCustom = json.RawMessage(*c.Custom)
		}
		if s := c.System; s != nil {
			sp := path + ".constants.system"
			if mc.ConstantsSystem, err = object(sp, s.Other, false); err != nil {
				return nil, err
			}
			if f := s.XUID; f.Set {
				if mc.XUID = xbl.XUID(f.V); f.Null || mc.XUID == 0 {
					return nil, badRequest("%s.xuid must be an xuid (a decimal string)", sp)
				}
			}
			if v, ok := mc.ConstantsSystem["initialize"]; ok && string(v) != "true" && string(v) != "false" {
				return nil, badRequest("%s.initialize must be true or false", sp) // XSAPI reads it as a bool
			}
		}
	}
	if p := m.Properties; p != nil {
		if p.Custom != nil {
			if mc.PropertiesCustom, err = object(path+".properties.custom", p.Custom, true); err != nil {
				return nil, err
			}
		}
		if s := p.System; s != nil {
			sp := path + ".properties.system"
			switch {
			case s.Active.Null:
				return nil, badRequest("%s.active must be true or false", sp)
			case s.Ready.Null:
				return nil, badRequest("%s.ready must be true or false", sp)
			}
			if s.Active.Set {
				mc.Active = &s.Active.V
			}
			if s.Ready.Set {
				mc.Ready = &s.Ready.V
			}
			other := s.Other
			for _, l := range []struct {
				name string
				f    field[[]string]
			}{{"encounters", s.Encounters}, {"groups", s.Groups}} {
				name, f := l.name, l.f
				if !f.Set {
					continue
				}
				v := []byte("null")
				if !f.Null {
					if v, err = jsonv2.Marshal(f.V); err != nil {
						return nil, derrors.Wrap(derrors.Internal, "keep "+name, err)
					}
					if len(v) > sessions.MaxOpaqueBytes {
						return nil, badRequest("%s.%s: %d bytes, over the limit of %d", sp, name, len(v), sessions.MaxOpaqueBytes)
					}
				}
				if other == nil {
					other = map[string]kept{}
				}
				other[name] = kept(v)
			}
			if mc.PropertiesSystem, err = object(sp, other, true); err != nil {
				return nil, err
			}
		}
	}
	return mc, nil
}

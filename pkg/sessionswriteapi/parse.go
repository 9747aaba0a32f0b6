package sessionswriteapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

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

// ParseChange reads a session PUT body, naming every field it refuses by
// its JSON path (what httpapi.CheckJSON refuses included). Fields with
// meaning here are checked and typed; the others are kept as JSON values,
// compact and with the fewest escapes, each at most
// sessions.MaxOpaqueBytes.
func ParseChange(body []byte) (*sessions.Change, error) {
	if err := httpapi.CheckJSON(body); err != nil {
		return nil, err
	}
	root, err := httpapi.Object("$", body)
	if err != nil {
		return nil, err
	}
	ch := &sessions.Change{}
	for _, k := range slices.Sorted(maps.Keys(root)) {
		raw := root[k]
		path := jsonpath.Child("$", k)
		switch k {
		case "constants":
			if ch.Constants, err = parseConstants(path, raw); err != nil {
				return nil, err
			}
		case "properties":
			if ch.Properties, err = parseProperties(path, raw); err != nil {
				return nil, err
			}
		case "members":
			if ch.Members, err = parseMembers(path, raw); err != nil {
				return nil, err
			}
		case "servers":
			if ch.Servers, err = opaqueMap(path, raw, true); err != nil {
				return nil, err
			}
		default:
			return nil, badRequest("%s: a session write may carry only constants, properties, members and servers", path)
		}
	}
	return ch, nil
}

// opaque checks a kept value: valid JSON within the size limit; it returns
// the value compacted, its strings written with the fewest escapes (so that
// its size, and the limit, do not depend on how the client escaped it:
// "\u00e9" is "é"). Its numbers stay as sent.
func opaque(path string, raw json.RawMessage) (json.RawMessage, error) {
	if err := portable(raw); err != nil {
		return nil, badRequest("%s: %v", path, err)
	}
	v := jsontext.Value(bytes.Clone(raw))
	if err := v.Format(); err != nil {
		return nil, badRequest("%s is not valid JSON", path)
	}
	if len(v) > sessions.MaxOpaqueBytes {
		return nil, badRequest("%s is %d bytes; the limit is %d", path, len(v), sessions.MaxOpaqueBytes)
	}
	return json.RawMessage(v), nil
}

// portable checks that every client can read a kept JSON value back as it
// was sent: each number fits a double (XSAPI's RapidJSON refuses 1e999,
// and would read 1e-400 as 0). Strings need no check here: ParseChange's
// CheckJSON has refused lone surrogates and invalid UTF-8.
func portable(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return errors.New("not valid JSON")
		}
		if n, ok := tok.(json.Number); ok {
			if _, ok := httpapi.Double(string(n)); !ok {
				return fmt.Errorf("the number %s does not fit a double", jsonpath.Clip(string(n)))
			}
		}
	}
}

// opaqueMap reads an object whose members are kept values; with nulls,
// a null member is kept as null (it deletes on merge).
func opaqueMap(path string, raw json.RawMessage, nulls bool) (map[string]json.RawMessage, error) {
	m, err := httpapi.Object(path, raw)
	if err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		p := jsonpath.Child(path, k)
		if !nulls && isNull(m[k]) {
			return nil, badRequest("%s cannot be null", p)
		}
		if m[k], err = opaque(p, m[k]); err != nil {
			return nil, err
		}
	}
	if total := objectSize(m); total > sessions.MaxOpaqueBytes {
		return nil, badRequest("%s is %d bytes; the limit is %d", path, total, sessions.MaxOpaqueBytes)
	}
	return m, nil
}

// objectSize is the size of an object of kept values as the document
// stores it: compact, each name quoted (encoding/json writes U+2028 and
// U+2029 in names as six-byte escapes), each value as kept.
func objectSize(m map[string]json.RawMessage) int {
	n := 2 + max(len(m)-1, 0) // {} and the commas
	for k, v := range m {
		q, _ := jsontext.AppendQuote(nil, k) // k is valid UTF-8 (CheckJSON)
		n += len(q) + 3*(strings.Count(k, "\u2028")+strings.Count(k, "\u2029")) + 1 + len(v)
	}
	return n
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func parseString(path string, raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", badRequest("%s must be a string", path)
	}
	return s, nil
}

func parseBool(path string, raw json.RawMessage) (bool, error) {
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, badRequest("%s must be true or false", path)
	}
	return b, nil
}

// parseInt reads a JSON integer from lo to hi.
func parseInt(path string, raw json.RawMessage, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	if err != nil {
		// 1e3 or 5.0: a whole number written another way.
		var f float64
		if json.Unmarshal(raw, &f) != nil || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
			return 0, badRequest("%s must be a whole number from %d to %d", path, lo, hi)
		}
		n = int64(f)
	}
	if n < lo || n > hi {
		return 0, badRequest("%s must be a whole number from %d to %d", path, lo, hi)
	}
	return n, nil
}

func parseConstants(path string, raw json.RawMessage) (*sessions.ConstantsChange, error) {
	c := &sessions.ConstantsChange{}
	err := systemAndCustom(path, raw, "constants", func(p string, raw json.RawMessage) error {
		return parseConstantsSystem(p, raw, c)
	}, func(p string, raw json.RawMessage) (err error) {
		c.Custom, err = opaque(p, raw)
		return err
	})
	return c, err
}

// systemAndCustom reads an object of constants or properties (what): its
// members "system" and "custom", each handed to its reader; any other is a
// 400.
func systemAndCustom(path string, raw json.RawMessage, what string, system, custom func(path string, raw json.RawMessage) error) error {
	m, err := httpapi.Object(path, raw)
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		p := jsonpath.Child(path, k)
		switch k {
		case "system":
			err = system(p, m[k])
		case "custom":
			err = custom(p, m[k])
		default:
			err = badRequest("%s: %s have only system and custom", p, what)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func parseConstantsSystem(path string, raw json.RawMessage, c *sessions.ConstantsChange) error {
	m, err := opaqueMap(path, raw, false)
	if err != nil {
		return err
	}
	c.System = map[string]json.RawMessage{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		p, v := path+"."+k, m[k]
		switch k {
		case "visibility":
			s, err := parseString(p, v)
			if err != nil {
				return err
			}
			vis := xbl.Visibility(strings.ToLower(s))
			if vis != xbl.Private && vis != xbl.Visible && vis != xbl.OpenVis {
				return badRequest("%s %q is not one of private, visible, open", p, jsonpath.Clip(s))
			}
			c.Visibility = &vis
		case "maxMembersCount":
			n, err := parseInt(p, v, 1, sessions.MaxMembersCount)
			if err != nil {
				return err
			}
			c.MaxMembers = ptr(int(n))
		case "version":
			n, err := parseInt(p, v, 0, math.MaxInt32)
			if err != nil {
				return err
			}
			c.Version = ptr(int(n))
		case "reservedRemovalTimeout":
			n, err := parseInt(p, v, 0, math.MaxInt32)
			if err != nil {
				return err
			}
			c.ReservedRemovalTimeout = &n
		default:
			c.System[k] = v
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

func parseProperties(path string, raw json.RawMessage) (*sessions.PropertiesChange, error) {
	p := &sessions.PropertiesChange{}
	err := systemAndCustom(path, raw, "properties", func(kp string, raw json.RawMessage) error {
		return parsePropertiesSystem(kp, raw, p)
	}, func(kp string, raw json.RawMessage) (err error) {
		p.Custom, err = opaqueMap(kp, raw, true)
		return err
	})
	return p, err
}

func parsePropertiesSystem(path string, raw json.RawMessage, p *sessions.PropertiesChange) error {
	m, err := opaqueMap(path, raw, true)
	if err != nil {
		return err
	}
	p.System = map[string]json.RawMessage{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		kp, v := path+"."+k, m[k]
		switch k {
		case "keywords":
			kws := []string{}
			if !isNull(v) {
				var list []json.RawMessage
				if err := json.Unmarshal(v, &list); err != nil {
					return badRequest("%s must be an array of strings", kp)
				}
				for i, e := range list {
					s, err := parseString(kp+"["+strconv.Itoa(i)+"]", e)
					if err != nil {
						return err
					}
					kws = append(kws, s)
				}
			}
			p.Keywords = &kws
		case "turn":
			turn := []int{}
			if !isNull(v) {
				var list []json.RawMessage
				if err := json.Unmarshal(v, &list); err != nil {
					return badRequest("%s must be an array of member indices", kp)
				}
				for i, e := range list {
					n, err := parseInt(kp+"["+strconv.Itoa(i)+"]", e, 0, math.MaxInt32)
					if err != nil {
						return err
					}
					turn = append(turn, int(n))
				}
			}
			p.Turn = &turn
		case "joinRestriction":
			s := ""
			if !isNull(v) {
				if s, err = parseString(kp, v); err != nil {
					return err
				}
			}
			switch s = strings.ToLower(s); s {
			case "none", "":
				s = ""
			case "local", "followed":
			default:
				return badRequest("%s %q is not one of none, local, followed", kp, jsonpath.Clip(s))
			}
			p.JoinRestriction = &s
		default:
			p.System[k] = v
		}
	}
	return nil
}

func parseMembers(path string, raw json.RawMessage) (map[string]*sessions.MemberChange, error) {
	m, err := httpapi.Object(path, raw)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*sessions.MemberChange, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		kp := jsonpath.Child(path, k)
		if k != "me" {
			n, ok := strings.CutPrefix(k, "reserve_")
			if i, err := strconv.Atoi(n); !ok || err != nil || i < 0 || strconv.Itoa(i) != n {
				return nil, badRequest("%s: members are written as \"me\" or \"reserve_N\"", kp)
			}
		}
		if isNull(m[k]) {
			if k != "me" {
				return nil, badRequest("%s cannot be null: only \"me\" can be removed", kp)
			}
			out[k] = nil
			continue
		}
		mc, err := parseMember(kp, m[k])
		if err != nil {
			return nil, err
		}
		out[k] = mc
	}
	if len(out) > sessions.MaxMembersCount {
		return nil, badRequest("%s has %d members; a session has at most %d", path, len(out), sessions.MaxMembersCount)
	}
	return out, nil
}

func parseMember(path string, raw json.RawMessage) (*sessions.MemberChange, error) {
	m, err := httpapi.Object(path, raw)
	if err != nil {
		return nil, err
	}
	mc := &sessions.MemberChange{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		kp, v := jsonpath.Child(path, k), m[k]
		switch k {
		case "constants":
			err = systemAndCustom(kp, v, "constants", func(cp string, raw json.RawMessage) error {
				return parseMemberConstants(cp, raw, mc)
			}, func(cp string, raw json.RawMessage) (err error) {
				mc.ConstantsCustom, err = opaque(cp, raw)
				return err
			})
		case "properties":
			err = systemAndCustom(kp, v, "properties", func(pp string, raw json.RawMessage) error {
				return parseMemberProperties(pp, raw, mc)
			}, func(pp string, raw json.RawMessage) (err error) {
				mc.PropertiesCustom, err = opaqueMap(pp, raw, true)
				return err
			})
		case "gamertag", "reserved", "activeTitleId", "joinTime", "next", "turn":
			err = badRequest("%s is set by the service, not by a write", kp)
		default:
			if mc.Extra == nil {
				mc.Extra = map[string]json.RawMessage{}
			}
			mc.Extra[k], err = opaque(kp, v)
		}
		if err != nil {
			return nil, err
		}
	}
	if n := objectSize(mc.Extra); len(mc.Extra) > 0 && n > sessions.MaxOpaqueBytes {
		return nil, badRequest("%s: its fields other than constants and properties are %d bytes; the limit is %d", path, n, sessions.MaxOpaqueBytes)
	}
	return mc, nil
}

// parseMemberConstants reads a member's constants.system: its xuid; the
// other fields are kept (but the index, which the service assigns).
func parseMemberConstants(path string, raw json.RawMessage, mc *sessions.MemberChange) error {
	sys, err := opaqueMap(path, raw, false)
	if err != nil {
		return err
	}
	if x, ok := sys["xuid"]; ok {
		if mc.XUID, err = xbl.ParseXUIDJSON(x); err != nil || mc.XUID == 0 {
			return badRequest("%s.xuid must be an xuid (a decimal string)", path)
		}
		delete(sys, "xuid")
	}
	delete(sys, "index")
	if v, ok := sys["initialize"]; ok { // XSAPI reads it as a bool
		if _, err := parseBool(path+".initialize", v); err != nil {
			return err
		}
	}
	mc.ConstantsSystem = sys
	return nil
}

// parseMemberProperties reads a member's properties.system: active and
// ready (booleans, not null); the other fields are kept.
func parseMemberProperties(path string, raw json.RawMessage, mc *sessions.MemberChange) error {
	sys, err := opaqueMap(path, raw, true)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		flag string
		dst  **bool
	}{{"active", &mc.Active}, {"ready", &mc.Ready}} {
		flag, dst := f.flag, f.dst
		v, ok := sys[flag]
		if !ok {
			continue
		}
		if isNull(v) {
			return badRequest("%s.%s must be true or false", path, flag)
		}
		b, err := parseBool(path+"."+flag, v)
		if err != nil {
			return err
		}
		*dst = &b
		delete(sys, flag)
	}
	for _, f := range []string{"groups", "encounters"} { // XSAPI reads them as arrays of strings
		if v, ok := sys[f]; ok && !isNull(v) && !isStrings(v) {
			return badRequest("%s.%s must be an array of strings", path, f)
		}
	}
	mc.PropertiesSystem = sys
	return nil
}

// isStrings reports whether raw is a JSON array of strings.
func isStrings(raw json.RawMessage) bool {
	var elems []json.RawMessage
	if json.Unmarshal(raw, &elems) != nil || elems == nil {
		return false
	}
	for _, e := range elems {
		if len(e) == 0 || e[0] != '"' {
			return false
		}
	}
	return true
}

package sessionswriteapi

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// checkXSAPIParse reads a session document as XSAPI's
// XblMultiplayerSession::Deserialize does (Source/Services/Multiplayer,
// 2020+ GDK): constants and properties, each with a system object, are
// required; membersInfo.first and .next are required integers; members
// are walked from first through each member's next until membersInfo.next,
// each key the decimal index, each member with constants.system and
// properties.system objects; typed fields must have their types (a null is
// a type error for numbers, booleans and times), times are ISO 8601
// strings, xuids and activeTitleId decimal strings, and enums are read
// case-insensitively. It returns the members in walk order.
func checkXSAPIParse(body []byte) ([]map[string]any, error) {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if err := typed(doc, "contractVersion", "int"); err != nil {
		return nil, err
	}
	// changeNumber: a uint64 number, which Multiplayer Manager compares
	// with a tap's; this service always sends it.
	if _, ok := doc["changeNumber"]; !ok {
		return nil, fmt.Errorf("changeNumber is missing (Multiplayer Manager compares it)")
	}
	if err := typed(doc, "changeNumber", "uint"); err != nil {
		return nil, err
	}
	for _, f := range []string{"correlationId", "searchHandle", "branch"} {
		if err := typed(doc, f, "string?"); err != nil {
			return nil, err
		}
	}
	for _, f := range []string{"startTime", "nextTimer"} {
		if err := typed(doc, f, "time"); err != nil {
			return nil, err
		}
	}
	constants, err := system(doc, "constants")
	if err != nil {
		return nil, err
	}
	if err := typed(constants, "maxMembersCount", "uint"); err != nil {
		return nil, err
	}
	if err := enum(constants, "visibility", "private", "visible", "full", "open"); err != nil {
		return nil, err
	}
	for _, f := range []string{"reservedRemovalTimeout", "inactiveRemovalTimeout", "readyRemovalTimeout", "sessionEmptyTimeout"} {
		if err := typed(constants, f, "number"); err != nil {
			return nil, err
		}
	}
	props, err := system(doc, "properties")
	if err != nil {
		return nil, err
	}
	if err := typed(props, "keywords", "[]string"); err != nil {
		return nil, err
	}
	for _, f := range []string{"closed", "locked"} {
		if err := typed(props, f, "bool"); err != nil {
			return nil, err
		}
	}
	if err := typed(props, "host", "string?"); err != nil {
		return nil, err
	}
	if err := typed(props, "turn", "[]int"); err != nil {
		return nil, err
	}
	for _, f := range []string{"joinRestriction", "readRestriction"} {
		if err := enum(props, f, "none", "local", "followed"); err != nil {
			return nil, err
		}
	}
	info, ok := doc["membersInfo"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("membersInfo is required")
	}
	for _, f := range []string{"first", "next"} {
		if _, ok := info[f]; !ok {
			return nil, fmt.Errorf("membersInfo.%s is required", f)
		}
		if err := typed(info, f, "int"); err != nil {
			return nil, err
		}
	}
	if err := typed(info, "accepted", "int"); err != nil {
		return nil, err
	}
	members, _ := doc["members"].(map[string]any)
	var out []map[string]any
	first, last := int(info["first"].(float64)), int(info["next"].(float64))
	for cur, n := first, 0; cur != last; n++ {
		if n > 1000 {
			return nil, fmt.Errorf("members: the next chain does not reach membersInfo.next %d", last)
		}
		m, ok := members[strconv.Itoa(cur)].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("members: no member %q on the chain", strconv.Itoa(cur))
		}
		if err := typed(m, "reserved", "bool"); err != nil {
			return nil, err
		}
		msys, err := system(m, "constants")
		if err != nil {
			return nil, fmt.Errorf("member %d: %v", cur, err)
		}
		if err := typed(msys, "xuid", "decimal"); err != nil {
			return nil, fmt.Errorf("member %d: %v", cur, err)
		}
		if err := typed(msys, "initialize", "bool"); err != nil {
			return nil, fmt.Errorf("member %d: %v", cur, err)
		}
		psys, err := system(m, "properties")
		if err != nil {
			return nil, fmt.Errorf("member %d: %v", cur, err)
		}
		for _, f := range []string{"active", "ready"} {
			if err := typed(psys, f, "bool"); err != nil {
				return nil, fmt.Errorf("member %d: %v", cur, err)
			}
		}
		for _, f := range []string{"groups", "encounters"} {
			if err := typed(psys, f, "[]string"); err != nil {
				return nil, fmt.Errorf("member %d: %v", cur, err)
			}
		}
		// deviceToken (member root, a string copied into a 40-byte
		// buffer): Multiplayer Manager knows the host as the member whose
		// token equals properties.system.host, and counts a member with
		// an empty one as host when host is empty: always non-empty here.
		if tok, ok := m["deviceToken"].(string); !ok || tok == "" || len(tok) >= 40 {
			return nil, fmt.Errorf("member %d: deviceToken is %v, not a non-empty string under 40 bytes", cur, m["deviceToken"])
		}
		for f, kind := range map[string]string{"gamertag": "string?", "activeTitleId": "decimal", "joinTime": "time", "turn": "bool", "next": "int"} {
			if err := typed(m, f, kind); err != nil {
				return nil, fmt.Errorf("member %d: %v", cur, err)
			}
		}
		out = append(out, m)
		next, ok := m["next"].(float64)
		if !ok {
			break
		}
		cur = int(next)
	}
	return out, nil
}

// system returns obj[name].system, both required objects.
func system(obj map[string]any, name string) (map[string]any, error) {
	o, ok := obj[name].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s is required (an object)", name)
	}
	s, ok := o["system"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s.system is required (an object)", name)
	}
	return s, nil
}

// typed checks an optional field's type as XSAPI's JsonUtils extractors
// do.
func typed(obj map[string]any, name, kind string) error {
	v, ok := obj[name]
	if !ok {
		return nil
	}
	bad := fmt.Errorf("%s is %v, not %s", name, v, kind)
	switch kind {
	case "int", "uint":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) || kind == "uint" && f < 0 {
			return bad
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return bad
		}
	case "bool":
		if _, ok := v.(bool); !ok {
			return bad
		}
	case "string?": // null is accepted and ignored
		if _, ok := v.(string); !ok && v != nil {
			return bad
		}
	case "decimal":
		s, ok := v.(string)
		if _, err := strconv.ParseUint(s, 10, 64); !ok || err != nil {
			return bad
		}
	case "time":
		s, ok := v.(string)
		if _, err := time.Parse(time.RFC3339Nano, s); !ok || err != nil {
			return bad
		}
	case "[]string", "[]int":
		list, ok := v.([]any)
		if !ok {
			return bad
		}
		for _, e := range list {
			if err := typed(map[string]any{name: e}, name, strings.TrimPrefix(kind, "[]")); err != nil {
				return bad
			}
		}
	case "string":
		if _, ok := v.(string); !ok {
			return bad
		}
	}
	return nil
}

// enum checks a string enum as XSAPI reads it: case-insensitively.
func enum(obj map[string]any, name string, values ...string) error {
	v, ok := obj[name]
	if !ok {
		return nil
	}
	s, _ := v.(string)
	for _, want := range values {
		if strings.EqualFold(s, want) {
			return nil
		}
	}
	return fmt.Errorf("%s %v is not one of %v", name, v, values)
}

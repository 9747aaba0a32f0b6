package statsapi

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/jsonpath"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/xbl"
)

// Limits of the HTTP form of a request (the others are stats.Max*);
// larger requests are refused with 400.
const (
	MaxNamesInPath = 10        // stat names of the single-user GET
	MaxBodyBytes   = 256 << 10 // request body
)

func badRequest(format string, args ...any) error {
	return derrors.New(derrors.Invalid, format, args...)
}

// parseBatch reads a POST /batch body: a JSON object whose known keys are
// requestedusers and requestedscids (matched exactly; others are ignored).
func parseBatch(body []byte) (*stats.Request, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("request body is empty; it must be a JSON object with requestedusers and requestedscids")
	}
	root, err := httpapi.Object("request body", body)
	if err != nil {
		return nil, err
	}
	users, ok := root["requestedusers"]
	if !ok {
		return nil, badRequest("requestedusers is required")
	}
	scids, ok := root["requestedscids"]
	if !ok {
		return nil, badRequest("requestedscids is required")
	}
	req := &stats.Request{}
	if req.Users, err = parseUsers(users); err != nil {
		return nil, err
	}
	if req.SCIDs, err = parseSCIDs(scids); err != nil {
		return nil, err
	}
	return req, nil
}

// array decodes raw as a JSON array, naming field in errors.
func array(field string, raw json.RawMessage) ([]json.RawMessage, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		return nil, badRequest("%s must be an array", field)
	}
	return list, nil
}

// parseUsers reads requestedusers: xuids as JSON strings or numbers, read
// exactly. Repeated users are answered once.
func parseUsers(raw json.RawMessage) ([]xbl.XUID, error) {
	list, err := array("requestedusers", raw)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, badRequest("requestedusers is empty")
	}
	if len(list) > stats.MaxUsers {
		return nil, badRequest("requestedusers has %d entries; the limit is %d", len(list), stats.MaxUsers)
	}
	seen := make(map[xbl.XUID]bool, len(list))
	users := make([]xbl.XUID, 0, len(list))
	for i, e := range list {
		x, err := xbl.ParseXUIDJSON(e)
		if err != nil {
			return nil, badRequest("requestedusers[%d]: %v", i, err)
		}
		if !seen[x] {
			seen[x] = true
			users = append(users, x)
		}
	}
	return users, nil
}

func parseSCIDs(raw json.RawMessage) ([]stats.SCIDRequest, error) {
	list, err := array("requestedscids", raw)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, badRequest("requestedscids is empty")
	}
	if len(list) > stats.MaxSCIDs {
		return nil, badRequest("requestedscids has %d entries; the limit is %d", len(list), stats.MaxSCIDs)
	}
	out := make([]stats.SCIDRequest, 0, len(list))
	for i, e := range list {
		field := "requestedscids[" + strconv.Itoa(i) + "]"
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(e, &obj); err != nil || obj == nil {
			return nil, badRequest("%s must be an object", field)
		}
		rawSCID, ok := obj["scid"]
		if !ok {
			return nil, badRequest("%s.scid is required", field)
		}
		s, ok := jsonString(rawSCID)
		if !ok {
			return nil, badRequest("%s.scid must be a string", field)
		}
		canon, err := xbl.ParseSCID(s)
		if err != nil {
			return nil, badRequest("%s.scid: %v", field, err)
		}
		rawStats, ok := obj["requestedstats"]
		if !ok {
			return nil, badRequest("%s.requestedstats is required", field)
		}
		var names []json.RawMessage
		if err := json.Unmarshal(rawStats, &names); err != nil || names == nil {
			return nil, badRequest("%s.requestedstats must be an array", field)
		}
		if len(names) == 0 {
			return nil, badRequest("%s.requestedstats is empty", field)
		}
		if len(names) > stats.MaxStatsPerSCID {
			return nil, badRequest("%s.requestedstats has %d entries; the limit is %d", field, len(names), stats.MaxStatsPerSCID)
		}
		wanted := make([]string, 0, len(names))
		for j, n := range names {
			name, ok := jsonString(n)
			if !ok {
				return nil, badRequest("%s.requestedstats[%d] must be a string", field, j)
			}
			if err := stats.CheckStatName(name); err != nil {
				return nil, badRequest("%s.requestedstats[%d]: %v", field, j, err)
			}
			if !slices.Contains(wanted, name) {
				wanted = append(wanted, name)
			}
		}
		out = append(out, stats.SCIDRequest{Raw: s, SCID: canon, Stats: wanted})
	}
	return out, nil
}

// jsonString decodes raw as a JSON string; null and other types are not.
func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// parseUserPath reads the single-user GET's path values: user is
// "xuid(N)", names a comma-separated list without spaces.
func parseUserPath(user, scid, names string) (*stats.Request, error) {
	inner, ok := strings.CutPrefix(user, "xuid(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return nil, badRequest("user %q must be written xuid(<decimal xuid>)", jsonpath.Clip(user))
	}
	x, err := xbl.ParseXUID(strings.TrimSuffix(inner, ")"))
	if err != nil {
		return nil, badRequest("%v", err)
	}
	canon, err := xbl.ParseSCID(scid)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	parts := strings.Split(names, ",")
	if len(parts) > MaxNamesInPath {
		return nil, badRequest("%d stat names requested; the limit is %d", len(parts), MaxNamesInPath)
	}
	wanted := make([]string, 0, len(parts))
	for i, name := range parts {
		if strings.ContainsAny(name, " \t") {
			return nil, badRequest("stat name %d (%q) contains a space; names are comma separated with no spaces", i+1, jsonpath.Clip(name))
		}
		if err := stats.CheckStatName(name); err != nil {
			return nil, badRequest("stat name %d: %v", i+1, err)
		}
		if !slices.Contains(wanted, name) {
			wanted = append(wanted, name)
		}
	}
	return &stats.Request{Users: []xbl.XUID{x}, SCIDs: []stats.SCIDRequest{{Raw: scid, SCID: canon, Stats: wanted}}}, nil
}

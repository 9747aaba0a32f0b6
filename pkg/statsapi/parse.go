package statsapi

import (
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

// batchBody is a POST /batch body. Members are matched exactly; others
// are ignored.
type batchBody struct {
	Users *[]xbl.JSONXUID `json:"requestedusers"`
	SCIDs *[]*scidBody    `json:"requestedscids"` // an entry sent as null is nil
}

// scidBody is one entry of requestedscids.
type scidBody struct {
	SCID  *string    `json:"scid"`
	Stats *[]*string `json:"requestedstats"` // a name sent as null is nil
}

// parseBatch reads a POST /batch body with httpapi.DecodeObject, then checks it
// against the limits of one request. Repeated users, and names repeated
// within one SCID, are answered once.
func parseBatch(body []byte) (*stats.Request, error) {
	b, err := httpapi.DecodeObject[batchBody](body)
	if err != nil {
		return nil, err
	}
	switch {
	case b.Users == nil:
		return nil, httpapi.Required("$.requestedusers", "an array of xuids")
	case b.SCIDs == nil:
		return nil, httpapi.Required("$.requestedscids", "an array")
	}
	req := &stats.Request{}
	if req.Users, err = checkUsers(*b.Users); err != nil {
		return nil, err
	}
	if req.SCIDs, err = checkSCIDs(*b.SCIDs); err != nil {
		return nil, err
	}
	return req, nil
}

// checkUsers checks requestedusers' length and drops repeated users.
func checkUsers(list []xbl.JSONXUID) ([]xbl.XUID, error) {
	switch {
	case len(list) == 0:
		return nil, badRequest("$.requestedusers is empty")
	case len(list) > stats.MaxUsers:
		return nil, badRequest("$.requestedusers has %d entries; the limit is %d", len(list), stats.MaxUsers)
	}
	seen := make(map[xbl.XUID]bool, len(list))
	users := make([]xbl.XUID, 0, len(list))
	for _, e := range list {
		if x := xbl.XUID(e); !seen[x] {
			seen[x] = true
			users = append(users, x)
		}
	}
	return users, nil
}

// checkSCIDs checks requestedscids: their number, each SCID and its stat
// names.
func checkSCIDs(list []*scidBody) ([]stats.SCIDRequest, error) {
	switch {
	case len(list) == 0:
		return nil, badRequest("$.requestedscids is empty")
	case len(list) > stats.MaxSCIDs:
		return nil, badRequest("$.requestedscids has %d entries; the limit is %d", len(list), stats.MaxSCIDs)
	}
	out := make([]stats.SCIDRequest, len(list))
	for i, e := range list {
		path := "$.requestedscids[" + strconv.Itoa(i) + "]"
		if e == nil {
			return nil, badRequest("%s must be a JSON object, not null", path)
		}
		if e.SCID == nil {
			return nil, httpapi.Required(path+".scid", "a string")
		}
		canon, err := xbl.ParseSCID(*e.SCID)
		if err != nil {
			return nil, badRequest("%s.scid: %v", path, err)
		}
		if e.Stats == nil {
			return nil, httpapi.Required(path+".requestedstats", "an array of stat names")
		}
		names := *e.Stats
		switch {
		case len(names) == 0:
			return nil, badRequest("%s.requestedstats is empty", path)
		case len(names) > stats.MaxStatsPerSCID:
			return nil, badRequest("%s.requestedstats has %d entries; the limit is %d", path, len(names), stats.MaxStatsPerSCID)
		}
		wanted := make([]string, 0, len(names))
		for j, n := range names {
			if n == nil {
				return nil, badRequest("%s.requestedstats[%d] must be a string, not null", path, j)
			}
			name := *n
			if err := stats.CheckStatName(name); err != nil {
				return nil, badRequest("%s.requestedstats[%d]: %v", path, j, err)
			}
			if !slices.Contains(wanted, name) {
				wanted = append(wanted, name)
			}
		}
		out[i] = stats.SCIDRequest{Raw: *e.SCID, SCID: canon, Stats: wanted}
	}
	return out, nil
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

package leaderboardsapi

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/jsonpath"
	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/xbl"
)

func badRequest(format string, args ...any) error {
	return derrors.New(derrors.Invalid, format, args...)
}

// maxQueryBytes bounds the query string: XSAPI's longest is about 200
// bytes.
const maxQueryBytes = 2048

// parseGlobal reads the global query: the path's SCID and stat(name),
// then the query string's keys, each at most once; an unknown key is
// refused, so that a misspelt one is not silently ignored.
func parseGlobal(scid, board, rawQuery string) (*leaderboards.Request, error) {
	inner, ok := strings.CutPrefix(board, "stat(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return nil, derrors.New(derrors.NotFound, "leaderboard %q is not served: only stat(<name>) leaderboards over title-managed statistics are", jsonpath.Clip(board))
	}
	name := strings.TrimSuffix(inner, ")")
	if err := stats.CheckStatName(name); err != nil {
		return nil, badRequest("%v", err)
	}
	if _, err := xbl.ParseSCID(scid); err != nil {
		return nil, badRequest("%v", err)
	}
	if len(rawQuery) > maxQueryBytes {
		return nil, badRequest("the query string is longer than %d bytes", maxQueryBytes)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, badRequest("the query string is malformed")
	}
	req := &leaderboards.Request{SCID: scid, Stat: name}
	// In a fixed order, so that a query with several faults is always
	// told the same one.
	for _, key := range slices.Sorted(maps.Keys(q)) {
		vs := q[key]
		if len(vs) != 1 {
			return nil, badRequest("query key %s is given %d times; give it once", jsonpath.Clip(key), len(vs))
		}
		v := vs[0]
		switch key {
		case "maxItems":
			n, err := strconv.ParseUint(v, 10, 31)
			if err != nil || n == 0 {
				return nil, badRequest("maxItems %q is not a whole number of at least 1", jsonpath.Clip(v))
			}
			req.MaxItems = int(min(n, leaderboards.MaxItems))
		case "skipToRank":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil || n == 0 {
				return nil, badRequest("skipToRank %q is not a rank (a whole number from 1)", jsonpath.Clip(v))
			}
			req.SkipToRank = uint32(n)
		case "skipToUser":
			x, err := xbl.ParseXUID(v)
			if err != nil || x == 0 {
				return nil, badRequest("skipToUser %q is not a xuid", jsonpath.Clip(v))
			}
			req.SkipToUser = x
		case "continuationToken":
			if v == "" {
				return nil, badRequest("continuationToken is empty")
			}
			req.Continuation = v
		case "xuid":
			// The player the query is about: XSAPI sends it with a
			// social view; the global ranking does not depend on it.
			if _, err := xbl.ParseXUID(v); err != nil {
				return nil, badRequest("xuid %q is not a xuid", jsonpath.Clip(v))
			}
		case "include":
			if v != "valuemetadata" {
				return nil, badRequest("include %q is not supported; only valuemetadata is", jsonpath.Clip(v))
			}
			req.ValueMetadata = true
		case "view":
			if strings.EqualFold(v, "People") {
				return nil, errNoPeople
			}
			return nil, badRequest("view %q is not supported", jsonpath.Clip(v))
		case "viewTarget":
			if _, ok := q["view"]; !ok {
				return nil, badRequest("viewTarget needs view")
			}
		default:
			return nil, badRequest("query key %q is not one of maxItems, skipToRank, skipToUser, continuationToken, xuid, include, view, viewTarget", jsonpath.Clip(key))
		}
	}
	return req, nil
}

// parseSocial reads the social form's path: /users/xuid(X)/scids/S/stats/
// NAME/people/{all|favorite|Favorites}.
func parseSocial(user, scid, stat, group string) (xbl.XUID, error) {
	inner, ok := strings.CutPrefix(user, "xuid(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return 0, badRequest("user %q must be written xuid(<decimal xuid>)", jsonpath.Clip(user))
	}
	x, err := xbl.ParseXUID(strings.TrimSuffix(inner, ")"))
	if err != nil {
		return 0, badRequest("%v", err)
	}
	if _, err := xbl.ParseSCID(scid); err != nil {
		return 0, badRequest("%v", err)
	}
	if err := stats.CheckStatName(stat); err != nil {
		return 0, badRequest("%v", err)
	}
	switch strings.ToLower(group) {
	case "all", "favorite", "favorites":
	default:
		return 0, derrors.New(derrors.NotFound, "people group %q is not all or favorite", jsonpath.Clip(group))
	}
	return x, nil
}

package sessionsapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/jsonpath"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/xbl"
)

// Versions and limits of the HTTP form (the others are sessions.Max*).
const (
	MinContractVersion = 104      // x-xbl-contract-version must be at least this
	MaxBodyBytes       = 64 << 10 // batch request body
)

func badRequest(format string, args ...any) error {
	return derrors.New(derrors.Invalid, format, args...)
}

// params decodes a raw query string by %-escapes only, so that '+' stays a
// plus (XSAPI writes a space as %20). A name given twice is an error.
func params(raw string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		name, err := url.PathUnescape(k)
		if err != nil {
			return nil, badRequest("query parameter %q is not valid %%-encoding", jsonpath.Clip(k))
		}
		val, err := url.PathUnescape(v)
		if err != nil {
			return nil, badRequest("query parameter %s: %q is not valid %%-encoding", name, jsonpath.Clip(v))
		}
		if _, dup := out[name]; dup {
			return nil, badRequest("query parameter %s is given more than once", jsonpath.Clip(name))
		}
		out[name] = val
	}
	return out, nil
}

func boolParam(p map[string]string, name string) (bool, error) {
	v, ok := p[name]
	if !ok {
		return false, nil
	}
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, badRequest("%s must be true or false, not %q", name, jsonpath.Clip(v))
}

// parseQuery reads everything but the batch body: path values, query
// parameters and the contract version.
func parseQuery(r *http.Request, batch bool) (*sessions.Query, error) {
	contract, err := httpapi.ContractVersion(r, MinContractVersion)
	if err != nil {
		return nil, err
	}
	q := &sessions.Query{SCIDRaw: r.PathValue("scid"), Template: r.PathValue("template"), Take: sessions.MaxTake}
	if q.SCID, err = xbl.ParseSCID(q.SCIDRaw); err != nil {
		return nil, badRequest("%v", err)
	}
	if q.Template != "" {
		if err := xbl.CheckName("session template name", q.Template); err != nil {
			return nil, badRequest("%v", err)
		}
	}
	p, err := params(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	if kw, ok := p["keyword"]; ok {
		if err := xbl.CheckKeyword(kw); err != nil {
			return nil, badRequest("%v", err)
		}
		q.Keyword = xbl.FoldKeyword(kw) // the one form the index and the filter hold keywords to
	}
	if v, ok := p["visibility"]; ok {
		if q.Visibility, err = xbl.ParseVisibility(v); err != nil {
			return nil, badRequest("%v", err)
		}
	}
	if v, ok := p["version"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, badRequest("version %q is not a non-negative integer", jsonpath.Clip(v))
		}
		if max := contract % 100; n > max {
			return nil, badRequest("version %d is greater than %d, the contract version %d mod 100", n, max, contract)
		}
		q.Version, q.HasVersion = n, true
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"private", &q.Private}, {"reservations", &q.Reservations}, {"inactive", &q.Inactive}} {
		if *b.dst, err = boolParam(p, b.name); err != nil {
			return nil, err
		}
	}
	if v, ok := p["take"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > sessions.MaxTake {
			return nil, badRequest("take %q must be an integer from 0 to %d", jsonpath.Clip(v), sessions.MaxTake)
		}
		q.Take = n
	}
	if q.Visibility == xbl.Private && !q.Private {
		return nil, badRequest("visibility=private requires private=true")
	}
	if v, ok := p["xuid"]; ok {
		if batch {
			return nil, badRequest("xuid is not a query parameter of the batch route: send the xuids in the body")
		}
		x, err := xbl.ParseXUID(v)
		if err != nil {
			return nil, badRequest("%v", err)
		}
		q.XUIDs = []xbl.XUID{x}
	}
	if !batch {
		if len(q.XUIDs) == 0 && q.Keyword == "" {
			return nil, badRequest("a session query needs an xuid or a keyword")
		}
		if len(q.XUIDs) == 0 && (q.Reservations || q.Inactive) {
			return nil, badRequest("reservations and inactive need an xuid")
		}
	}
	return q, nil
}

// batchBody is a batch query's body: {"xuids": [...]}, each xuid a string
// or a number. Other members are ignored, as XSAPI sends none.
type batchBody struct {
	XUIDs *[]xbl.JSONXUID `json:"xuids"`
}

// parseBody reads a batch body, decoded once (httpapi.Decode), then holds
// it to the query's rules: 1 to MaxXUIDs xuids. Repeated xuids are queried
// once, in the order of their first place.
func parseBody(r *http.Request) ([]xbl.XUID, error) {
	body, err := httpapi.ReadBody(r, MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	b, err := httpapi.DecodeObject[batchBody](body)
	if err != nil {
		return nil, err
	}
	if b.XUIDs == nil {
		return nil, httpapi.Required("$.xuids", "an array of xuids")
	}
	switch n := len(*b.XUIDs); {
	case n == 0:
		return nil, badRequest("$.xuids is empty")
	case n > sessions.MaxXUIDs:
		return nil, badRequest("$.xuids has %d entries; the limit is %d", n, sessions.MaxXUIDs)
	}
	seen := make(map[xbl.XUID]bool, len(*b.XUIDs))
	out := make([]xbl.XUID, 0, len(*b.XUIDs))
	for _, e := range *b.XUIDs {
		if x := xbl.XUID(e); !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out, nil
}

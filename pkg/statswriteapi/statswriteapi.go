// Package statswriteapi is the HTTP edge of the title-managed statistics
// write: POST (replace), PATCH (update, null deletes) and GET of
// /stats/users/{xuid}/scids/{scid}, with or without a trailing slash, as
// XSAPI sends them (contract version 4, or none from older clients). It
// decodes each body once into typed values (ParseReplace, ParsePatch),
// asks a stats.Service to apply it, and renders the document a GET reads
// back from typed values.
package statswriteapi

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/jsonpath"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/xbl"
)

// Name names the API in logs.
const Name = "statswrite"

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 512 << 10

// Routes are the ServeMux patterns the API serves; template.yaml routes
// the same methods and paths to this function.
var Routes = []string{
	"POST /stats/users/{xuid}/scids/{scid}",
	"PATCH /stats/users/{xuid}/scids/{scid}",
	"GET /stats/users/{xuid}/scids/{scid}",
	"POST /stats/users/{xuid}/scids/{scid}/",
	"PATCH /stats/users/{xuid}/scids/{scid}/",
	"GET /stats/users/{xuid}/scids/{scid}/",
}

type handler struct {
	api   *httpapi.API
	stats *stats.Service
}

// New returns the API's handler. Errors are JSON bodies
// {"errorCode": <status>, "errorMessage": "<text>"}.
func New(api httpapi.API, configs xbl.ConfigReader, w stats.Writer) http.Handler {
	api.Name = Name
	api.Format = httpapi.JSON
	api.Writes = true // a write refused by the rate limit must change nothing
	h := &handler{api: &api, stats: &stats.Service{Configs: configs, Writer: w}}
	mux := http.NewServeMux()
	for _, route := range Routes {
		if strings.HasSuffix(route, "/") {
			route += "{$}" // the trailing slash form only, not a subtree
		}
		mux.Handle(route, api.Handle(h.serve))
	}
	mux.Handle("/", api.NotFound())
	return api.Wrap(mux)
}

func badRequest(format string, args ...any) error {
	return derrors.New(derrors.Invalid, format, args...)
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request) error {
	if v, ok := r.Header[http.CanonicalHeaderKey("X-Xbl-Contract-Version")]; ok && (len(v) != 1 || strings.TrimSpace(v[0]) != "4") {
		return derrors.New(derrors.Unsupported, "x-xbl-contract-version %q is not supported; use 4", jsonpath.Clip(strings.Join(v, ",")))
	}
	x, err := xbl.ParseXUID(r.PathValue("xuid"))
	if err != nil {
		return badRequest("%v", err)
	}
	raw := r.PathValue("scid")
	scid, err := xbl.ParseSCID(raw)
	if err != nil {
		return badRequest("%v", err)
	}
	t := stats.Target{XUID: x, SCIDRaw: raw, SCID: scid}
	ctx := r.Context()
	caller, _ := auth.FromContext(ctx)
	switch r.Method {
	case http.MethodGet:
		doc, err := h.stats.Document(ctx, caller, t)
		if err != nil {
			return err
		}
		return writeJSON(w, render(doc))
	case http.MethodPost:
		body, err := httpapi.ReadBody(r, MaxBodyBytes)
		if err != nil {
			return err
		}
		doc, err := ParseReplace(body)
		if err != nil {
			return err
		}
		if _, err := h.stats.Replace(ctx, caller, t, doc); err != nil {
			return err
		}
	default: // PATCH
		body, err := httpapi.ReadBody(r, MaxBodyBytes)
		if err != nil {
			return err
		}
		p, err := ParsePatch(body)
		if err != nil {
			return err
		}
		if err := h.stats.Patch(ctx, caller, t, p); err != nil {
			return err
		}
	}
	return writeJSON(w, struct{}{})
}

// replaceBody is a POST body: the whole document. Members are matched
// exactly; others are ignored.
type replaceBody struct {
	Stats            *statsBody `json:"stats"`
	Revision         integer    `json:"revision"`
	PreviousRevision integer    `json:"previousRevision"` // checked, not kept
	Timestamp        timestamp  `json:"timestamp"`
	Schema           *string    `json:"$schema"` // checked, not kept
}

// patchBody is a PATCH body: the stats to set, and those sent as null to
// remove.
type patchBody struct {
	Stats *statsBody `json:"stats"`
}

// statsBody is $.stats: the title's stats by name, null where a PATCH
// removes one.
type statsBody struct {
	Title *map[string]*statBody `json:"title"`
}

// statBody is one stat: {"value": v}.
type statBody struct {
	Value statValue `json:"value"`
}

// statValue is a stat's value as JSON writes it: an integer within int64
// is an Integer, any other number a Double, a string a String. Numbers are
// read from their text, exactly. What is not a value is kept as the fault
// a refusal words.
type statValue struct {
	v     xbl.StatValue
	set   bool
	fault string // "must be a number or a string", ...; "" for a value
}

// UnmarshalJSONFrom reads one value.
func (v *statValue) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	*v = statValue{set: true}
	switch d.PeekKind() {
	case '"':
		tok, err := d.ReadToken()
		if err != nil {
			return err
		}
		s := tok.String()
		if len(s) > stats.MaxStringValueLen {
			v.fault = fmt.Sprintf("is %d bytes; the limit is %d", len(s), stats.MaxStringValueLen)
			return nil
		}
		v.v = xbl.StatValue{Type: xbl.String, Value: s}
	case '0':
		text, err := d.ReadValue()
		if err != nil {
			return err
		}
		v.v, v.fault = numberValue(string(text))
	default:
		v.fault = "must be a number or a string"
		return d.SkipValue()
	}
	return nil
}

// numberValue reads the text of a JSON number: an integer within int64 is
// an Integer, any other number a Double. It is refused, with a fault,
// when no double holds it (1e999, or 1e-400, which is not 0).
func numberValue(text string) (xbl.StatValue, string) {
	if !strings.ContainsAny(text, ".eE") {
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			return xbl.StatValue{Type: xbl.Integer, Value: strconv.FormatInt(i, 10)}, ""
		}
	}
	f, ok := httpapi.Double(text)
	if !ok {
		return xbl.StatValue{}, "is " + jsonpath.Clip(text) + ": no double holds it"
	}
	return xbl.StatValue{Type: xbl.Double, Value: xbl.FormatDouble(f)}, ""
}

// integer is an optional member holding a JSON integer within int64, read
// from its text. Absent, it is unset; null, a fraction, an exponent or any
// other JSON is bad.
type integer struct {
	n        int64
	set, bad bool
}

// UnmarshalJSONFrom reads the integer.
func (i *integer) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	text, err := d.ReadValue()
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(string(text), 10, 64)
	*i = integer{n: n, set: true, bad: err != nil}
	return nil
}

// timestamp is an optional member holding XSAPI's timestamp: UTC, a
// fraction of 1 to 7 digits or none, then Z. Absent, it is unset; null or
// any other JSON is bad.
type timestamp struct {
	s        string
	set, bad bool
}

// timestampForm reports whether s has a timestamp's form,
// YYYY-MM-DDThh:mm:ss, an optional fraction of 1 to 7 digits, then Z. A
// byte loop rather than a package-level regexp: compiling one cost 0.13 ms
// of every start (GODEBUG=inittrace=1).
func timestampForm(s string) bool {
	const head = "dddd-dd-ddTdd:dd:dd"
	if len(s) < len(head)+1 || s[len(s)-1] != 'Z' {
		return false
	}
	for i := range len(head) {
		if c := s[i]; head[i] == 'd' && (c < '0' || c > '9') || head[i] != 'd' && c != head[i] {
			return false
		}
	}
	frac := s[len(head) : len(s)-1]
	if frac == "" {
		return true
	}
	if frac[0] != '.' || len(frac) < 2 || len(frac) > 8 {
		return false
	}
	for _, c := range []byte(frac[1:]) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// UnmarshalJSONFrom reads the timestamp.
func (t *timestamp) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	*t = timestamp{set: true, bad: true}
	if d.PeekKind() != '"' {
		return d.SkipValue()
	}
	tok, err := d.ReadToken()
	if err != nil {
		return err
	}
	t.s = tok.String()
	_, err = time.Parse(time.RFC3339Nano, t.s)
	t.bad = err != nil || !timestampForm(t.s)
	return nil
}

// title checks $.stats.title of a decoded body, in the order of the names
// (so that the refusal of a body with several faults is always the same):
// at most stats.MaxWriteStats stats, each name valid and distinct from
// the others in any letter case, and no null unless allowNull (PATCH:
// null removes the stat).
func title(sb *statsBody, allowNull bool) (*stats.Patch, error) {
	if sb == nil {
		return nil, httpapi.Required("$.stats", "an object")
	}
	if sb.Title == nil {
		return nil, httpapi.Required("$.stats.title", "an object")
	}
	m := *sb.Title
	if len(m) > stats.MaxWriteStats {
		return nil, badRequest("$.stats.title has %d stats; the limit is %d", len(m), stats.MaxWriteStats)
	}
	names := slices.Sorted(maps.Keys(m))
	p := &stats.Patch{Set: make(map[string]xbl.StatValue, len(m))}
	seen := make(map[string]string, len(m))
	for _, name := range names {
		path := func() string { return jsonpath.Child("$.stats.title", name) } // for a refusal
		if err := stats.CheckStatName(name); err != nil {
			return nil, badRequest("%s: %v", path(), err)
		}
		key := xbl.StatKey(name)
		if other, dup := seen[key]; dup {
			return nil, badRequest("%s: the stat %q in another letter case (stat names are case-insensitive)", path(), jsonpath.Clip(other))
		}
		seen[key] = name
		st := m[name]
		switch {
		case st == nil && !allowNull:
			return nil, badRequest("%s is null: a POST replaces the whole document, leave the stat out instead", path())
		case st == nil:
			p.Remove = append(p.Remove, name)
		case !st.Value.set:
			return nil, httpapi.Required(path()+".value", "a number or a string")
		case st.Value.fault != "":
			return nil, badRequest("%s.value %s", path(), st.Value.fault)
		default:
			p.Set[name] = st.Value.v
		}
	}
	return p, nil
}

// ParseReplace reads a POST body, the whole document with its revision
// and timestamp, in one httpapi.Decode, then checks it. Every refusal is
// Invalid, naming the JSON path.
func ParseReplace(body []byte) (*stats.Document, error) {
	b, err := httpapi.DecodeObject[replaceBody](body)
	if err != nil {
		return nil, err
	}
	p, err := title(b.Stats, false)
	if err != nil {
		return nil, err
	}
	switch {
	case b.Revision.bad || b.Revision.n < 0:
		return nil, badRequest("$.revision must be a non-negative 64-bit integer")
	case b.PreviousRevision.bad:
		return nil, badRequest("$.previousRevision must be a 64-bit integer")
	case b.Timestamp.bad:
		return nil, badRequest("$.timestamp must be a UTC time such as 2026-06-01T12:34:56.1234567Z (at most 7 fraction digits, ending in Z)")
	}
	return &stats.Document{Revision: b.Revision.n, Timestamp: b.Timestamp.s, Stats: p.Set}, nil
}

// ParsePatch reads a PATCH body, the stats to set and those sent as null
// to remove, in one httpapi.Decode, then checks it. Every refusal is
// Invalid, naming the JSON path.
func ParsePatch(body []byte) (*stats.Patch, error) {
	b, err := httpapi.DecodeObject[patchBody](body)
	if err != nil {
		return nil, err
	}
	return title(b.Stats, true)
}

// documentJSON is the document as XSAPI reads it back.
type documentJSON struct {
	Revision  int64  `json:"revision"`
	Timestamp string `json:"timestamp,omitempty"`
	Stats     struct {
		Title map[string]valueJSON `json:"title"`
	} `json:"stats"`
}

// valueJSON is one stat of documentJSON.
type valueJSON struct {
	Value statJSON `json:"value"`
}

// statJSON writes a stat's value as JSON: an Integer as its digits, a
// Double as a JSON number, a String as a string.
type statJSON xbl.StatValue

// MarshalJSON writes the value.
func (v statJSON) MarshalJSON() ([]byte, error) {
	switch v.Type {
	case xbl.Integer:
		if n, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
			return strconv.AppendInt(nil, n, 10), nil
		}
	case xbl.Double:
		if f, err := strconv.ParseFloat(v.Value, 64); err == nil {
			return httpapi.Marshal(f)
		}
	}
	return httpapi.Marshal(v.Value) // "<" as is, as XSAPI reads it
}

// render is doc as XSAPI reads it back.
func render(doc *stats.Document) documentJSON {
	out := documentJSON{Revision: doc.Revision, Timestamp: doc.Timestamp}
	out.Stats.Title = make(map[string]valueJSON, len(doc.Stats))
	for name, v := range doc.Stats {
		out.Stats.Title[name] = valueJSON{statJSON(v)}
	}
	return out
}

// writeJSON writes v, rendered with httpapi.Marshal, as a 200 answer.
func writeJSON(w http.ResponseWriter, v any) error {
	body, err := httpapi.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	return nil
}

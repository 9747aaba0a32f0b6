// Package statswriteapi is the HTTP edge of the title-managed statistics
// write: POST (replace), PATCH (update, null deletes) and GET of
// /stats/users/{xuid}/scids/{scid}, with or without a trailing slash, as
// XSAPI sends them (contract version 4, or none from older clients).
package statswriteapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

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
	api     *httpapi.API
	configs xbl.ConfigReader
	writer  stats.Writer
}

// New returns the API's handler. Errors are JSON bodies
// {"errorCode": <status>, "errorMessage": "<text>"}.
func New(api httpapi.API, configs xbl.ConfigReader, w stats.Writer) http.Handler {
	api.Name = Name
	api.Format = httpapi.JSON
	api.Writes = true // a write refused by the rate limit must change nothing
	h := &handler{api: &api, configs: configs, writer: w}
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
		doc, err := stats.Get(ctx, h.configs, h.writer, caller, t)
		if err != nil {
			return err
		}
		return writeJSON(w, render(doc))
	case http.MethodPost:
		body, err := httpapi.ReadBody(r, MaxBodyBytes) // the Parse functions check it as JSON
		if err != nil {
			return err
		}
		doc, err := ParseReplace(body)
		if err != nil {
			return err
		}
		if _, err := stats.Replace(ctx, h.configs, h.writer, caller, t, doc); err != nil {
			return err
		}
	default: // PATCH
		body, err := httpapi.ReadBody(r, MaxBodyBytes) // the Parse functions check it as JSON
		if err != nil {
			return err
		}
		set, remove, err := ParsePatch(body)
		if err != nil {
			return err
		}
		if err := stats.Patch(ctx, h.configs, h.writer, caller, t, set, remove); err != nil {
			return err
		}
	}
	return writeJSON(w, map[string]any{})
}

// statsOf reads stats.title: name → {"value": v}, or null when nulls are
// allowed (PATCH), naming each field by its JSON path.
func statsOf(root map[string]json.RawMessage, allowNull bool) (set map[string]xbl.StatValue, remove []string, err error) {
	rawStats, ok := root["stats"]
	if !ok {
		return nil, nil, badRequest("$.stats is required")
	}
	st, err := httpapi.Object("$.stats", rawStats)
	if err != nil {
		return nil, nil, err
	}
	rawTitle, ok := st["title"]
	if !ok {
		return nil, nil, badRequest("$.stats.title is required")
	}
	title, err := httpapi.Object("$.stats.title", rawTitle)
	if err != nil {
		return nil, nil, err
	}
	if len(title) > stats.MaxWriteStats {
		return nil, nil, badRequest("$.stats.title has %d stats; the limit is %d", len(title), stats.MaxWriteStats)
	}
	set = map[string]xbl.StatValue{}
	seen := map[string]string{}
	for name, raw := range title {
		path := "$.stats.title[" + strconv.Quote(jsonpath.Clip(name)) + "]"
		if err := stats.CheckStatName(name); err != nil {
			return nil, nil, badRequest("%s: %v", path, err)
		}
		if other, dup := seen[xbl.StatKey(name)]; dup {
			return nil, nil, badRequest("%s: the stat %q in another letter case (stat names are case-insensitive)", path, jsonpath.Clip(other))
		}
		seen[xbl.StatKey(name)] = name
		if string(bytes.TrimSpace(raw)) == "null" {
			if !allowNull {
				return nil, nil, badRequest("%s is null: a POST replaces the whole document, leave the stat out instead", path)
			}
			remove = append(remove, name)
			continue
		}
		entry, err := httpapi.Object(path, raw)
		if err != nil {
			return nil, nil, err
		}
		rawValue, ok := entry["value"]
		if !ok {
			return nil, nil, badRequest("%s.value is required", path)
		}
		v, err := value(path+".value", rawValue)
		if err != nil {
			return nil, nil, err
		}
		set[name] = v
	}
	return set, remove, nil
}

// value reads a stat's value: a JSON integer within int64 is an Integer,
// any other number a Double, a string a String.
func value(path string, raw json.RawMessage) (xbl.StatValue, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return xbl.StatValue{}, badRequest("%s is not a valid JSON string", path)
		}
		if len(s) > stats.MaxStringValueLen {
			return xbl.StatValue{}, badRequest("%s is %d bytes; the limit is %d", path, len(s), stats.MaxStringValueLen)
		}
		return xbl.StatValue{Type: xbl.String, Value: s}, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil || n == "" { // "" is null
		return xbl.StatValue{}, badRequest("%s must be a number or a string", path)
	}
	return numberValue(path, n.String())
}

// numberValue reads the text of a JSON number: an integer within int64 is
// an Integer, any other number a Double.
func numberValue(path, text string) (xbl.StatValue, error) {
	if !strings.ContainsAny(text, ".eE") {
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			return xbl.StatValue{Type: xbl.Integer, Value: strconv.FormatInt(i, 10)}, nil
		}
	}
	f, ok := httpapi.Double(text)
	if !ok {
		return xbl.StatValue{}, badRequest("%s is %s: no double holds it", path, jsonpath.Clip(text))
	}
	return xbl.StatValue{Type: xbl.Double, Value: xbl.FormatDouble(f)}, nil
}

// timestampForm is XSAPI's timestamp: UTC, a fraction of 1 to 7 digits or
// none, then Z.
var timestampForm = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z$`)

func validTimestamp(s string) bool {
	if !timestampForm.MatchString(s) {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// ParseReplace reads a POST body: the whole document, with its revision
// and timestamp. Like every refusal here, what httpapi.CheckJSON refuses
// is Invalid, naming the JSON path.
func ParseReplace(body []byte) (*stats.Document, error) {
	if err := httpapi.CheckJSON(body); err != nil {
		return nil, err
	}
	if doc, ok := fastReplace(body); ok {
		return doc, nil // XSAPI's own bodies, in one pass
	}
	return parseReplace(body)
}

// parseReplace is ParseReplace's general reading, which words every
// refusal.
func parseReplace(body []byte) (*stats.Document, error) {
	root, err := httpapi.Object("request body", body)
	if err != nil {
		return nil, err
	}
	set, _, err := statsOf(root, false)
	if err != nil {
		return nil, err
	}
	doc := &stats.Document{Stats: set}
	if raw, ok := root["revision"]; ok {
		if doc.Revision, err = strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64); err != nil || doc.Revision < 0 {
			return nil, badRequest("$.revision must be a non-negative 64-bit integer")
		}
	}
	if raw, ok := root["previousRevision"]; ok {
		if _, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64); err != nil {
			return nil, badRequest("$.previousRevision must be a 64-bit integer")
		}
	}
	if raw, ok := root["timestamp"]; ok {
		if err := json.Unmarshal(raw, &doc.Timestamp); err != nil || !validTimestamp(doc.Timestamp) {
			return nil, badRequest("$.timestamp must be a UTC time such as 2026-06-01T12:34:56.1234567Z (at most 7 fraction digits, ending in Z)")
		}
	}
	if raw, ok := root["$schema"]; ok {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, badRequest("$.$schema must be a string")
		}
	}
	return doc, nil
}

// ParsePatch reads a PATCH body: the stats to set, and those sent as null
// to remove (what httpapi.CheckJSON refuses is Invalid too).
func ParsePatch(body []byte) (map[string]xbl.StatValue, []string, error) {
	if err := httpapi.CheckJSON(body); err != nil {
		return nil, nil, err
	}
	root, err := httpapi.Object("request body", body)
	if err != nil {
		return nil, nil, err
	}
	return statsOf(root, true)
}

// docJSON is the document as XSAPI reads it back.
type docJSON struct {
	Revision  int64                                `json:"revision"`
	Timestamp string                               `json:"timestamp,omitempty"`
	Stats     map[string]map[string]map[string]any `json:"stats"`
}

func render(doc *stats.Document) docJSON {
	title := map[string]map[string]any{}
	for name, v := range doc.Stats {
		var val any = v.Value
		switch v.Type {
		case xbl.Integer:
			val = json.Number(v.Value)
		case xbl.Double:
			if f, err := strconv.ParseFloat(v.Value, 64); err == nil {
				val = f
			}
		}
		title[name] = map[string]any{"value": val}
	}
	return docJSON{Revision: doc.Revision, Timestamp: doc.Timestamp, Stats: map[string]map[string]map[string]any{"title": title}}
}

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

// Package userstats serves the user statistics API: POST /batch (with or
// without ?operation=read) and the single-user
// GET /users/xuid({xuid})/scids/{scid}/stats/{names}, as CONTRACT.md §2
// describes them.
package userstats

import (
	"bytes"
	"context"
	"encoding/json"
	"hash/crc64"
	"net/http"
	"strconv"
	"strings"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/metrics"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// Name names the API in logs.
const Name = "userstats"

// Routes are the ServeMux patterns the API serves; template.yaml routes
// the same method and path to this function.
var Routes = []string{
	"POST /batch",
	"GET /users/{user}/scids/{scid}/stats/{names}",
}

// Reader reads statistics; *store.Store is the production Reader.
type Reader interface {
	ReadStats(ctx context.Context, q store.StatsQuery) (*store.StatsResult, error)
}

type handler struct {
	api    *httpapi.API
	reader Reader
}

// NewHandler returns the API's handler. Errors are JSON bodies
// {"errorCode": <status>, "errorMessage": "<text>"}.
func NewHandler(api httpapi.API, r Reader) http.Handler {
	api.Name = Name
	api.Format = httpapi.JSON
	h := &handler{api: &api, reader: r}
	mux := http.NewServeMux()
	mux.Handle(Routes[0], api.Handle(h.batch))
	mux.Handle(Routes[1], api.Handle(h.user))
	mux.Handle("/", api.NotFound())
	return api.Wrap(mux)
}

// checkVersions refuses contract and service versions other than 1.
func checkVersions(r *http.Request) error {
	for _, name := range []string{"X-Xbl-Contract-Version", "X-RequestedServiceVersion"} {
		if v, ok := r.Header[http.CanonicalHeaderKey(name)]; ok {
			if len(v) != 1 || strings.TrimSpace(v[0]) != "1" {
				return httpapi.Errorf(http.StatusNotAcceptable, "%s %q is not supported; use 1", strings.ToLower(name), strings.Join(v, ","))
			}
		}
	}
	return nil
}

func (h *handler) batch(w http.ResponseWriter, r *http.Request) error {
	if err := checkVersions(r); err != nil {
		return err
	}
	if op := r.URL.Query()["operation"]; op != nil && (len(op) != 1 || op[0] != "read") {
		return badRequest("operation %q is not supported; use read", strings.Join(op, ","))
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	req, err := parseBatch(body)
	if err != nil {
		return err
	}
	res, err := h.read(r.Context(), req)
	if err != nil {
		return err
	}
	out := batchJSON{Users: make([]userJSON, len(req.Users))}
	for i, x := range req.Users {
		out.Users[i] = userResult(req, res, x)
	}
	return writeJSON(w, r, out)
}

func (h *handler) user(w http.ResponseWriter, r *http.Request) error {
	if err := checkVersions(r); err != nil {
		return err
	}
	req, err := parseUserPath(r.PathValue("user"), r.PathValue("scid"), r.PathValue("names"))
	if err != nil {
		return err
	}
	res, err := h.read(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, r, userResult(req, res, req.Users[0]))
}

// read fetches what req needs, in one batch of reads, and checks access to
// every requested SCID, in request order.
func (h *handler) read(ctx context.Context, req *request) (*store.StatsResult, error) {
	q := store.StatsQuery{Users: req.Users}
	seenSCID := map[string]bool{}
	seenName := map[string]bool{}
	for _, sr := range req.SCIDs {
		if !seenSCID[sr.SCID] {
			seenSCID[sr.SCID] = true
			q.SCIDs = append(q.SCIDs, sr.SCID)
		}
		for _, n := range sr.Stats {
			if !seenName[n] {
				seenName[n] = true
				q.Names = append(q.Names, n)
			}
		}
	}
	res, err := h.reader.ReadStats(ctx, q)
	if err != nil {
		return nil, err
	}
	h.api.Log.InfoContext(ctx, "dynamodb", "calls", res.Calls, "retries", res.Retries,
		"consumedRCU", res.ConsumedRCU, "users", len(q.Users), "scids", len(q.SCIDs), "stats", len(q.Names))
	m := metrics.FromContext(ctx)
	m.Add("Users", float64(len(q.Users)), metrics.Count)
	m.Add("SCIDs", float64(len(q.SCIDs)), metrics.Count)
	m.Add("Stats", float64(len(q.Names)), metrics.Count)
	m.Add("DynamoDBCalls", float64(res.Calls), metrics.Count)
	m.Add("UnprocessedKeysRetries", float64(res.Retries), metrics.Count)
	m.Add("ConsumedRCU", res.ConsumedRCU, metrics.Count)
	m.Add("Results", float64(len(res.Stats)), metrics.Count)
	caller, _ := auth.FromContext(ctx)
	for _, sr := range req.SCIDs {
		if err := checkAccess(res.Configs[sr.SCID], sr, caller); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// The response shapes, as XSAPI parses them: xuids and values are strings,
// and every SCID's stats is an array.
type (
	batchJSON struct {
		Users []userJSON `json:"users"`
	}
	userJSON struct {
		XUID     string     `json:"xuid"`
		Gamertag string     `json:"gamertag,omitempty"`
		SCIDs    []scidJSON `json:"scids"`
	}
	scidJSON struct {
		SCID  string     `json:"scid"`
		Stats []statJSON `json:"stats"`
	}
	statJSON struct {
		Name  string `json:"statname"`
		Type  string `json:"type"`
		Value string `json:"value"`
	}
)

// userResult is one user's entry: every requested SCID in request order,
// and within it the requested stats that have a value, in request order.
func userResult(req *request, res *store.StatsResult, x xbl.XUID) userJSON {
	u := userJSON{XUID: x.String(), Gamertag: res.Gamertags[x], SCIDs: make([]scidJSON, len(req.SCIDs))}
	for i, sr := range req.SCIDs {
		values := res.Stats[store.UserSCID{XUID: x, SCID: sr.SCID}]
		stats := make([]statJSON, 0, len(sr.Stats))
		for _, name := range sr.Stats {
			if v, ok := values[name]; ok {
				stats = append(stats, statJSON{Name: name, Type: string(v.Type), Value: v.Value})
			}
		}
		u.SCIDs[i] = scidJSON{SCID: sr.Raw, Stats: stats}
	}
	return u
}

// writeJSON writes v with a strong ETag over the exact body, or 304 when
// the request's If-None-Match names that tag.
func writeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	etag := etagOf(body)
	hd := w.Header()
	hd.Set("ETag", etag)
	hd.Set("Cache-Control", "private, no-cache")
	hd.Set("Content-Type", "application/json; charset=utf-8")
	if matches(r.Header.Values("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	return nil
}

// etagTable is the CRC-64 table of the ETags.
var etagTable = crc64.MakeTable(crc64.ECMA)

// etagOf returns a strong entity tag for body: its CRC-64 and length. A
// cryptographic hash is not needed to tell versions of one resource apart,
// and CRC-64 costs a fraction of SHA-256 on 20 KB bodies.
func etagOf(body []byte) string {
	b := make([]byte, 0, 32)
	b = append(b, '"')
	b = strconv.AppendUint(b, crc64.Checksum(body, etagTable), 36)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(len(body)), 36)
	return string(append(b, '"'))
}

// matches reports whether an If-None-Match header list names etag (or *),
// comparing weakly as RFC 9110 says for If-None-Match.
func matches(headers []string, etag string) bool {
	for _, h := range headers {
		for _, tag := range strings.Split(h, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
				return true
			}
		}
	}
	return false
}

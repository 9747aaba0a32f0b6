// Package statsapi is the HTTP edge of the user statistics read: POST
// /batch (with or without ?operation=read) and the single-user
// GET /users/xuid({xuid})/scids/{scid}/stats/{names}. It checks the
// versions a request asks for, decodes its body once into typed values
// (or reads the path), asks a stats.Service for the answer, and writes it
// as XSAPI reads it, with an ETag.
package statsapi

import (
	"context"
	"hash/crc64"
	"net/http"
	"strconv"
	"strings"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/jsonpath"
	"github.com/xblread/xblread/pkg/metrics"
	"github.com/xblread/xblread/pkg/stats"
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

type handler struct {
	api   *httpapi.API
	stats *stats.Service
}

// New returns the API's handler, reading SCID configurations from configs
// (usually a configcache.Cache) and statistics from r. Errors are JSON
// bodies {"errorCode": <status>, "errorMessage": "<text>"}.
func New(api httpapi.API, configs xbl.ConfigReader, r stats.Reader) http.Handler {
	api.Name = Name
	api.Format = httpapi.JSON
	h := &handler{api: &api, stats: &stats.Service{Configs: configs, Reader: r}}
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
				return derrors.New(derrors.Unsupported, "%s %q is not supported; use 1", strings.ToLower(name), jsonpath.Clip(strings.Join(v, ",")))
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
		return badRequest("operation %q is not supported; use read", jsonpath.Clip(strings.Join(op, ",")))
	}
	in, err := httpapi.ReadBody(r, MaxBodyBytes)
	if err != nil {
		return err
	}
	req, err := parseBatch(in)
	if err != nil {
		return err
	}
	res, err := h.read(r.Context(), req)
	if err != nil {
		return err
	}
	body, err := render(res, true)
	if err != nil {
		return err
	}
	return writeJSON(w, r, body)
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
	body, err := render(res, false)
	if err != nil {
		return err
	}
	return writeJSON(w, r, body)
}

// read answers req and records what it cost in the log and the metrics.
func (h *handler) read(ctx context.Context, req *stats.Request) (*stats.Result, error) {
	caller, _ := auth.FromContext(ctx)
	res, err := h.stats.Read(ctx, caller, req)
	if res != nil {
		q, u := res.Query, res.Usage
		h.api.Log.InfoContext(ctx, "dynamodb", "calls", u.Calls, "retries", u.Retries, "items", u.Items,
			"consumedRCU", u.ConsumedRCU, "users", len(q.Users), "scids", len(q.SCIDs), "stats", len(q.Names))
		m := metrics.FromContext(ctx)
		m.Add("Users", float64(len(q.Users)), metrics.Count)
		m.Add("SCIDs", float64(len(q.SCIDs)), metrics.Count)
		m.Add("Stats", float64(len(q.Names)), metrics.Count)
		m.Add("DynamoDBCalls", float64(u.Calls), metrics.Count)
		m.Add("UnprocessedKeysRetries", float64(u.Retries), metrics.Count)
		m.Add("ItemsRead", float64(u.Items), metrics.Count)
		m.Add("ConsumedRCU", u.ConsumedRCU, metrics.Count)
		m.Add("Results", float64(res.Found), metrics.Count)
	}
	return res, err
}

// writeJSON writes body with a strong ETag over its exact bytes, or 304
// when the request's If-None-Match names that tag.
func writeJSON(w http.ResponseWriter, r *http.Request, body []byte) error {
	etag := etagOf(body)
	hd := w.Header()
	hd.Set("ETag", etag)
	hd.Set("Cache-Control", "private, no-cache")
	hd.Set("Content-Type", "application/json; charset=utf-8")
	if httpapi.ETagMatches(r.Header.Values("If-None-Match"), etag) {
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

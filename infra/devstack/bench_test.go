package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/infra/localapi"
	"github.com/xblread/xblread/infra/samtemplate"
	"github.com/xblread/xblread/pkg/app"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/statsapi"
	"github.com/xblread/xblread/pkg/statswriteapi"
	"github.com/xblread/xblread/pkg/xbl"
)

// prepared answers every read with the same prepared data: the handler's
// own work is measured, not a store's.
type prepared struct {
	found   *stats.Found
	configs map[string]*xbl.ServiceConfig
}

func (p prepared) ReadStats(context.Context, stats.Query) (*stats.Found, error) { return p.found, nil }

func (p prepared) ReadConfig(_ context.Context, scid string) (*xbl.ServiceConfig, xbl.Usage, error) {
	return p.configs[scid], xbl.Usage{}, nil
}

// statsBench is the stats function's handler over prepared data of 100
// users × 2 SCIDs × 2 stats, the batch body that asks for all of it, and a
// token.
func statsBench(b *testing.B) (h http.Handler, body, token string) {
	const scidA, scidB = "7492baca-c1b4-440d-a391-b7ef364a8d40", "c402ff50-3e76-11e2-a25f-0800200c1212"
	st := prepared{
		found: &stats.Found{Gamertags: map[xbl.XUID]string{}, Stats: map[stats.UserSCID]map[string]xbl.StatValue{}},
		configs: map[string]*xbl.ServiceConfig{
			scidA: {SCID: scidA, TitleIDs: []string{"1"}, Sandboxes: []string{"RETAIL"}, Stats: map[string]xbl.Access{"kills": xbl.Open, "kd": xbl.Open}},
			scidB: {SCID: scidB, TitleIDs: []string{"1"}, Sandboxes: []string{"RETAIL"}, Stats: map[string]xbl.Access{"kills": xbl.Open, "kd": xbl.Open}},
		},
	}
	var users []string
	for i := range 100 {
		x := xbl.XUID(2533274792693551 + i)
		users = append(users, `"`+x.String()+`"`)
		st.found.Gamertags[x] = fmt.Sprintf("Player%d", i)
		for _, s := range []string{scidA, scidB} {
			st.found.Stats[stats.UserSCID{XUID: x, SCID: s}] = map[string]xbl.StatValue{
				"Kills": {Type: xbl.Integer, Value: fmt.Sprint(1000 + i)}, "KD": {Type: xbl.Double, Value: "1.25"},
			}
		}
	}
	body = `{"requestedusers":[` + strings.Join(users, ",") + `],"requestedscids":[` +
		`{"scid":"` + scidA + `","requestedstats":["Kills","KD"]},{"scid":"` + scidB + `","requestedstats":["Kills","KD"]}]}`
	v, err := devkey.Verifier()
	if err != nil {
		b.Fatal(err)
	}
	token, err = devkey.Mint(xbl.Caller{XUID: 1, UserHash: "u", TitleID: "1", Sandbox: "RETAIL"}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	return statsapi.New(httpapi.API{Verifier: v, Log: log}, st, st), body, token
}

// BenchmarkStatsEvent measures the stats function's work for one event,
// as Lambda runs it: the payload 2.0 JSON in, the handler (token check,
// parsing, access, prepared reads, response and ETag), the response event
// JSON out; 100 users × 2 SCIDs × 2 stats.
func BenchmarkStatsEvent(b *testing.B) {
	h, body, token := statsBench(b)
	benchInvoke(b, h, events.APIGatewayV2HTTPRequest{
		RouteKey: "POST /batch", RawPath: "/batch", RawQueryString: "operation=read",
		Headers:               map[string]string{"authorization": token, "content-type": "application/json", "x-xbl-contract-version": "1"},
		QueryStringParameters: map[string]string{"operation": "read"},
		Body:                  body,
	})
}

// BenchmarkStatsEventPath measures what the local API adds around the
// stats handler: HTTP on loopback, the payload 2.0 event and the Lambda
// handler's JSON, for 100 users × 2 SCIDs × 2 stats with prepared reads. Compare with BenchmarkStatsEvent (the function's own work) and
// statsapi's BenchmarkBatch (the handler alone).
func BenchmarkStatsEventPath(b *testing.B) {
	h, body, token := statsBench(b)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	tmpl, err := samtemplate.LoadNearest(".")
	if err != nil {
		b.Fatal(err)
	}
	routes, _ := tmpl.Routes()
	fn := localapi.Function{New: func() lambda.Handler { return lambda.NewHandler(app.Lambda(h)) }, Timeout: 10 * time.Second}
	fns := map[string]localapi.Function{}
	for _, f := range Functions {
		fns[f.LogicalID] = fn // every route to the stats handler: only /batch is sent
	}
	srv, err := localapi.New(routes, fns, log)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest("POST", ts.URL+"/batch?operation=read", strings.NewReader(body))
		req.Header.Set("Authorization", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.StatusCode)
		}
	}
}

// nopWriter accepts every write: the write function's own work is
// measured, not a store's.
type nopWriter struct{}

func (nopWriter) Replace(context.Context, stats.Target, *stats.Document, string) (bool, error) {
	return true, nil
}

func (nopWriter) Patch(context.Context, stats.Target, *stats.Patch, string) error {
	return nil
}

func (nopWriter) Document(context.Context, stats.Target) (*stats.Document, error) {
	return nil, nil
}

// BenchmarkWriteEvent measures the statistics write function's work for
// one event as Lambda runs it: XSAPI's POST of 10 stats as payload 2.0
// JSON in, the token check, body parsing, access from a cached
// configuration, the response event out.
func BenchmarkWriteEvent(b *testing.B) {
	const scid = "7492baca-c1b4-440d-a391-b7ef364a8d40"
	st := prepared{configs: map[string]*xbl.ServiceConfig{scid: {SCID: scid, TitleIDs: []string{"1"}, Sandboxes: []string{"RETAIL"}}}}
	v, err := devkey.Verifier()
	if err != nil {
		b.Fatal(err)
	}
	token, err := devkey.Mint(xbl.Caller{XUID: 2533274792693551, UserHash: "u", TitleID: "1", Sandbox: "RETAIL"}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	h := statswriteapi.New(httpapi.API{Verifier: v, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}, st, nopWriter{})
	var sb strings.Builder
	for k := range 10 {
		fmt.Fprintf(&sb, `,"Stat%d":{"value":%d}`, k, 1000+k)
	}
	body := `{"stats":{"title":{` + sb.String()[1:] + `}},"$schema":"http://stats.xboxlive.com/2017-1/schema#","previousRevision":0,"revision":52000000000,"timestamp":"2026-06-01T12:34:56.1234567Z"}`
	path := "/stats/users/2533274792693551/scids/" + scid
	benchInvoke(b, h, events.APIGatewayV2HTTPRequest{
		RouteKey: "POST /stats/users/{xuid}/scids/{scid}", RawPath: path,
		Headers: map[string]string{"authorization": token, "content-type": "application/json; charset=utf-8", "x-xbl-contract-version": "4"},
		Body:    body,
	})
}

// benchInvoke sends ev, completed as API Gateway would (version, request
// context from its route key and path), to h as Lambda runs it, b.N
// times; every answer must be a 200.
func benchInvoke(b *testing.B, h http.Handler, ev events.APIGatewayV2HTTPRequest) {
	method, _, _ := strings.Cut(ev.RouteKey, " ")
	ev.Version = "2.0"
	ev.RequestContext = events.APIGatewayV2HTTPRequestContext{
		RequestID: "r", Stage: "$default", RouteKey: ev.RouteKey,
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: ev.RawPath, Protocol: "HTTP/1.1", SourceIP: "203.0.113.7"},
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	fn := lambda.NewHandler(app.Lambda(h))
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "r"})
	b.ReportAllocs()
	for b.Loop() {
		out, err := fn.Invoke(ctx, payload)
		if err != nil || !strings.HasPrefix(string(out), `{"statusCode":200`) {
			b.Fatalf("%v %.200s", err, out)
		}
	}
}

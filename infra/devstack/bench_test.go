package devstack

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/infra/localapi"
	"github.com/xblread/xblread/infra/samtemplate"
	"github.com/xblread/xblread/pkg/app"
	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/statsapi"
	"github.com/xblread/xblread/pkg/store/memstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// BenchmarkStatsEventPath measures what the local API adds around the
// stats handler: HTTP on loopback, the payload 2.0 event and the Lambda
// handler's JSON, for 100 users × 2 SCIDs × 2 stats with an in-memory
// store. Compare with statsapi's BenchmarkBatch (the handler alone).
func BenchmarkStatsEventPath(b *testing.B) {
	const scidA, scidB = "7492baca-c1b4-440d-a391-b7ef364a8d40", "c402ff50-3e76-11e2-a25f-0800200c1212"
	ds := &xbl.Dataset{Configs: []xbl.ServiceConfig{
		{SCID: scidA, TitleIDs: []string{"1"}, Sandboxes: []string{"RETAIL"}, Stats: map[string]xbl.Access{"Kills": xbl.Open, "KD": xbl.Open}},
		{SCID: scidB, TitleIDs: []string{"1"}, Sandboxes: []string{"RETAIL"}, Stats: map[string]xbl.Access{"Kills": xbl.Open, "KD": xbl.Open}},
	}}
	var users []string
	for i := range 100 {
		x := xbl.XUID(2533274792693551 + i)
		users = append(users, `"`+x.String()+`"`)
		ds.Profiles = append(ds.Profiles, xbl.Profile{XUID: x, Gamertag: fmt.Sprintf("Player%d", i)})
		for _, s := range []string{scidA, scidB} {
			ds.Stats = append(ds.Stats, xbl.UserStats{XUID: x, SCID: s, Stats: map[string]xbl.StatValue{
				"Kills": {Type: xbl.Integer, Value: fmt.Sprint(1000 + i)}, "KD": {Type: xbl.Double, Value: "1.25"},
			}})
		}
	}
	st := memstore.New()
	st.Load(ds)
	body := `{"requestedusers":[` + strings.Join(users, ",") + `],"requestedscids":[` +
		`{"scid":"` + scidA + `","requestedstats":["Kills","KD"]},{"scid":"` + scidB + `","requestedstats":["Kills","KD"]}]}`
	v, _ := devkey.Verifier()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	h := statsapi.New(httpapi.API{Verifier: v, Log: log}, st, st)
	tmpl, err := samtemplate.LoadNearest(".")
	if err != nil {
		b.Fatal(err)
	}
	routes, _ := tmpl.Routes()
	fn := localapi.Function{Handler: lambda.NewHandler(app.Lambda(h)), Timeout: 10 * time.Second}
	srv, err := localapi.New(routes, map[string]localapi.Function{"StatsBatchFunction": fn, "SessionsBatchFunction": fn}, log)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	tok, err := devkey.Mint(xbl.Caller{XUID: 1, UserHash: "u", TitleID: "1", Sandbox: "RETAIL"}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest("POST", ts.URL+"/batch?operation=read", strings.NewReader(body))
		req.Header.Set("Authorization", tok)
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

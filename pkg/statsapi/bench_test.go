package statsapi

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/xbl"
)

// memReader answers every query with one prepared result: for measuring
// the handler alone.
type memReader struct {
	res     *stats.Found
	configs map[string]*xbl.ServiceConfig
}

func (m memReader) ReadStats(context.Context, stats.Query) (*stats.Found, error) {
	return m.res, nil
}

func (m memReader) ReadConfig(_ context.Context, scid string) (*xbl.ServiceConfig, xbl.Usage, error) {
	return m.configs[scid], xbl.Usage{}, nil
}

// BenchmarkBatch measures one POST /batch of 100 users × 2 SCIDs × 2 stats
// through the whole handler (token check, parsing, access, response and
// ETag) with an in-memory store.
func BenchmarkBatch(b *testing.B) {
	configs := map[string]*xbl.ServiceConfig{
		scidA: {SCID: scidA, TitleIDs: []string{titleA}, Sandboxes: []string{"RETAIL"}, Stats: map[string]xbl.Access{"kills": xbl.Open, "kd": xbl.Open}},
		scidB: {SCID: scidB, TitleIDs: []string{titleB}, Sandboxes: []string{"RETAIL"}, Stats: map[string]xbl.Access{"kills": xbl.Open, "kd": xbl.Open}},
	}
	res := &stats.Found{
		Gamertags: map[xbl.XUID]string{},
		Stats:     map[stats.UserSCID]map[string]xbl.StatValue{},
	}
	var users []string
	for i := range 100 {
		x := xbl.XUID(2533274792693551 + i)
		users = append(users, `"`+x.String()+`"`)
		res.Gamertags[x] = fmt.Sprintf("Player%d", i)
		for _, s := range []string{scidA, scidB} {
			res.Stats[stats.UserSCID{XUID: x, SCID: s}] = map[string]xbl.StatValue{
				"Kills": {Type: xbl.Integer, Value: fmt.Sprint(1000 + i)},
				"KD":    {Type: xbl.Double, Value: "1.25"},
			}
		}
	}
	body := `{"requestedusers":[` + strings.Join(users, ",") + `],"requestedscids":[` +
		`{"scid":"` + scidA + `","requestedstats":["Kills","KD"]},{"scid":"` + scidB + `","requestedstats":["Kills","KD"]}]}`
	h := newHandler(b, memReader{res, configs})
	tok := token(b, caller{})
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		r := httptest.NewRequest("POST", "/batch?operation=read", strings.NewReader(body))
		r.Header.Set("Authorization", tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

package sessionsapi

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/xbl"
)

// memReader answers from prepared sessions: for measuring the handler
// alone.
type memReader struct {
	cfg      *xbl.ServiceConfig
	sessions map[xbl.XUID][]sessions.Session
}

func (m memReader) ReadConfig(context.Context, string) (*xbl.ServiceConfig, xbl.Usage, error) {
	return m.cfg, xbl.Usage{Calls: 1}, nil
}

func (m memReader) UserSessions(_ context.Context, x xbl.XUID, _ *sessions.Filter, limit int) ([]sessions.Session, xbl.Usage, error) {
	// A copy, as a store returns a fresh slice that the query sorts.
	s := m.sessions[x]
	return append([]sessions.Session(nil), s[:min(len(s), limit)]...), xbl.Usage{Calls: 1}, nil
}

func (m memReader) KeywordSessions(context.Context, *sessions.Filter, int) ([]sessions.Session, xbl.Usage, error) {
	return nil, xbl.Usage{Calls: 1}, nil
}

// BenchmarkBatchQuery measures one batch query for 100 xuids, each in 6
// sessions, take=100, through the whole handler with an in-memory reader:
// the body's decode, the reads of the first xuids (until 100 rows are
// read) and the answer's rendering.
func BenchmarkBatchQuery(b *testing.B) {
	m := memReader{
		cfg:      &xbl.ServiceConfig{SCID: scidA, Sandboxes: []string{"RETAIL"}},
		sessions: map[xbl.XUID][]sessions.Session{},
	}
	var xuids []string
	for u := range 100 {
		x := xbl.XUID(1000 + u)
		xuids = append(xuids, `"`+x.String()+`"`)
		for s := range 6 {
			m.sessions[x] = append(m.sessions[x], sessions.Session{
				Template: "deathmatch", Name: fmt.Sprintf("session-%d-%d", u, s),
				StartTime: time.Date(2026, 11, 20, 10, s, 0, 123456700, time.UTC), Version: 1,
				Visibility: xbl.OpenVis, JoinRestriction: "local", Keywords: []string{"one", "two"},
				Accepted: 4, Status: xbl.Active, MyTurn: s == 0,
			})
		}
	}
	body := `{"xuids":[` + strings.Join(xuids, ",") + `]}`
	h := newHandler(b, m)
	tok := token(b, who{})
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if w := testkit.Do(h, tok, "POST", "/serviceconfigs/"+scidA+"/batch?take=100", body, "X-Xbl-Contract-Version", "107"); w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

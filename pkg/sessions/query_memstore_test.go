package sessions_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store/memstore"
	"github.com/xblread/xblread/pkg/xbl"
)

const heavySCID = "7492baca-c1b4-440d-a391-b7ef364a8d40"

// heavy is 400 sessions of 4 members over 100 users (xuids 1 to 100):
// session k has users 4k+1 to 4k+4 (mod 100), so each user is in 16.
func heavy() *xbl.Dataset {
	ds := &xbl.Dataset{Configs: []xbl.ServiceConfig{{SCID: heavySCID, TitleIDs: []string{"1297287135"}, Sandboxes: []string{"RETAIL"}}}}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for k := range 400 {
		s := xbl.Session{SCID: heavySCID, Template: "t", Name: fmt.Sprintf("s%03d", k), StartTime: t0.Add(time.Duration(k) * time.Minute),
			Version: 1, Visibility: xbl.OpenVis}
		for m := range 4 {
			s.Members = append(s.Members, xbl.Member{XUID: xbl.XUID((4*k+m)%100 + 1), Status: xbl.Active})
		}
		ds.Sessions = append(ds.Sessions, s)
	}
	return ds
}

// recorder is a Reader that records the xuids it is asked for, in the
// order the reads start.
type recorder struct {
	sessions.Reader
	mu    sync.Mutex
	xuids []xbl.XUID
}

func (r *recorder) UserSessions(ctx context.Context, x xbl.XUID, f *sessions.Filter, limit int) ([]sessions.Session, xbl.Usage, error) {
	r.mu.Lock()
	r.xuids = append(r.xuids, x)
	r.mu.Unlock()
	return r.Reader.UserSessions(ctx, x, f, limit)
}

// TestHeavyBatchOnMemstore: 100 xuids, each in 16 sessions, take=100: the
// xuids read are the first of the request, at most 400 entries are read
// (all 1,600 before), and the answer is the first 100 rows of all the
// xuids' rows in request order.
func TestHeavyBatchOnMemstore(t *testing.T) {
	mem := memstore.New()
	mem.Load(heavy())
	caller := &xbl.Caller{XUID: 1, UserHash: "uhs", TitleID: "1297287135", Sandbox: "RETAIL"}
	q := &sessions.Query{SCIDRaw: heavySCID, SCID: heavySCID, Take: 100}
	for x := range xbl.XUID(100) {
		q.XUIDs = append(q.XUIDs, (x*37)%100+1) // every user once, not in xuid order
	}
	r := &recorder{Reader: mem}
	res, err := (&sessions.Service{Configs: mem, Reader: r}).Find(context.Background(), caller, q)
	if err != nil {
		t.Fatal(err)
	}
	read := slices.Clone(r.xuids)
	slices.SortFunc(read, func(a, b xbl.XUID) int { return slices.Index(q.XUIDs, a) - slices.Index(q.XUIDs, b) })
	// 7 xuids answer (6×16 + 4 rows). The first 16 reads start at once;
	// each later one starts as one ends, until the reads ended hold 100
	// rows, which 7 of them do, whatever their order (a read started
	// when 96 are read asks for 4): at most 16+6.
	needed, most := 7, sessions.QueryConcurrency+6
	if len(read) < needed || len(read) > most || !slices.Equal(read, q.XUIDs[:len(read)]) {
		t.Errorf("read %v: want the first %d to %d xuids of the request", r.xuids, needed, most)
	}
	if res.Usage.Items > 400 {
		t.Errorf("%d entries read, want at most 400", res.Usage.Items)
	}

	// The answer as reading every xuid whole gives it.
	var want []string
	for _, x := range q.XUIDs {
		one, err := (&sessions.Service{Configs: mem, Reader: mem}).Find(context.Background(), caller,
			&sessions.Query{SCIDRaw: heavySCID, SCID: heavySCID, Take: 100, XUIDs: []xbl.XUID{x}})
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range one.Rows {
			want = append(want, fmt.Sprintf("%d:%s", *row.XUID, row.Name))
		}
	}
	var got []string
	for _, row := range res.Rows {
		got = append(got, fmt.Sprintf("%d:%s", *row.XUID, row.Name))
	}
	if !slices.Equal(got, want[:100]) {
		t.Errorf("rows\n got %v\nwant %v", got, want[:100])
	}
	t.Logf("%d xuids read, %d entries, %d rows", len(read), res.Usage.Items, len(res.Rows))
}

package sessions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// orderReader gives each xuid perXUID rows (as a store would: no more than
// the limit asked for) and ends reads in request order: the read of xuid
// x waits for that of x-1 to end. It records the limit each read asked
// for; fail, when set, fails the read of that xuid.
type orderReader struct {
	perXUID int
	fail    xbl.XUID

	mu     sync.Mutex
	limits map[xbl.XUID]int
	ended  map[xbl.XUID]chan struct{}
}

func newOrderReader(perXUID int) *orderReader {
	return &orderReader{perXUID: perXUID, limits: map[xbl.XUID]int{}, ended: map[xbl.XUID]chan struct{}{}}
}

func (r *orderReader) done(x xbl.XUID) chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended[x] == nil {
		r.ended[x] = make(chan struct{})
	}
	return r.ended[x]
}

func (r *orderReader) ReadConfig(context.Context, string) (*xbl.ServiceConfig, xbl.Usage, error) {
	return &xbl.ServiceConfig{SCID: scidA, Sandboxes: []string{"RETAIL"}}, xbl.Usage{}, nil
}

func (r *orderReader) UserSessions(ctx context.Context, x xbl.XUID, f *Filter, limit int) ([]Session, xbl.Usage, error) {
	r.mu.Lock()
	r.limits[x] = limit
	r.mu.Unlock()
	defer close(r.done(x))
	if x > 1 {
		select {
		case <-r.done(x - 1):
		case <-ctx.Done():
			return nil, xbl.Usage{}, ctx.Err()
		}
	}
	if x == r.fail {
		return nil, xbl.Usage{Calls: 1}, derrors.New(derrors.Unavailable, "xuid %d unavailable", x)
	}
	var out []Session
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range r.perXUID {
		h := &Head{Template: "t", Name: fmt.Sprintf("s%d-%02d", x, i), StartTime: t0.Add(-time.Duration(i) * time.Minute),
			Visibility: xbl.OpenVis, Members: []HeadMember{{XUID: x, Status: "active"}}}
		if s, ok := f.Row(h, &x); ok {
			out = append(out, s)
		}
	}
	n := min(len(out), limit)
	return out[:n], xbl.Usage{Calls: 1, Items: n}, nil
}

func (r *orderReader) KeywordSessions(context.Context, *Filter, int) ([]Session, xbl.Usage, error) {
	return nil, xbl.Usage{}, errors.New("not a keyword test")
}

// TestFindReadsInRequestOrder: a batch of 100 xuids, each in 16 sessions,
// with take=100 reads the xuids in request order and stops once the xuids
// read hold 100 rows: the first 16 at once (QueryConcurrency), then one
// more as each ends, asking for the rows still missing, until 7 have
// ended (112 rows): 22 reads, of which 15 (QueryConcurrency-1) past the 7
// the answer needs were in flight when it became certain. The answer is
// the first 100 rows in request order.
func TestFindReadsInRequestOrder(t *testing.T) {
	r := newOrderReader(16)
	q := &Query{SCIDRaw: scidA, SCID: scidA, Take: 100, Inactive: true}
	for x := range xbl.XUID(100) {
		q.XUIDs = append(q.XUIDs, x+1)
	}
	res, err := (&Service{Configs: r, Reader: r}).Find(context.Background(), &self, q)
	if err != nil {
		t.Fatal(err)
	}
	want := map[xbl.XUID]int{}
	for x := xbl.XUID(1); x <= 16; x++ {
		want[x] = 100
	}
	for i, limit := range []int{84, 68, 52, 36, 20, 4} {
		want[xbl.XUID(17+i)] = limit
	}
	if fmt.Sprint(r.limits) != fmt.Sprint(want) {
		t.Errorf("reads (xuid:limit)\n got %v\nwant %v", r.limits, want)
	}
	var got, wantRows []string
	for _, row := range res.Rows {
		got = append(got, row.XUID.String()+":"+row.Name)
	}
	for x := xbl.XUID(1); len(wantRows) < 100; x++ {
		for i := range 16 {
			wantRows = append(wantRows, fmt.Sprintf("%d:s%d-%02d", x, x, i))
		}
	}
	if !slices.Equal(got, wantRows[:100]) {
		t.Errorf("rows\n got %v\nwant %v", got, wantRows[:100])
	}
	if res.Usage.Calls != len(r.limits) {
		t.Errorf("usage %+v: want the %d reads counted", res.Usage, len(r.limits))
	}
}

// TestFindFailures: a read the answer needs fails the query; one past the
// answer (read because it was in flight) does not.
func TestFindFailures(t *testing.T) {
	for _, tt := range []struct {
		fail xbl.XUID
		ok   bool
	}{
		{3, false},  // among the 7 xuids that answer
		{7, false},  // the last of them
		{8, true},   // in flight, past the answer
		{20, true},  // started after the answer's first xuids ended, past it
		{100, true}, // never read
	} {
		t.Run(fmt.Sprint(tt.fail), func(t *testing.T) {
			r := newOrderReader(16)
			r.fail = tt.fail
			q := &Query{SCIDRaw: scidA, SCID: scidA, Take: 100}
			for x := range xbl.XUID(100) {
				q.XUIDs = append(q.XUIDs, x+1)
			}
			res, err := (&Service{Configs: r, Reader: r}).Find(context.Background(), &self, q)
			if tt.ok {
				if err != nil || len(res.Rows) != 100 {
					t.Fatalf("Find = %d rows, %v; want 100 rows", len(res.Rows), err)
				}
				return
			}
			if derrors.KindOf(err) != derrors.Unavailable || !strings.Contains(err.Error(), fmt.Sprint(tt.fail)) || res == nil || res.Rows != nil {
				t.Fatalf("Find = %+v, %v; want xuid %d's error and no rows", res, err, tt.fail)
			}
		})
	}
}

// TestFilterRow: the row a head makes is read through the member at the
// filter's time: a reservation expired by then is neither a member nor
// counted.
func TestFilterRow(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	x := xbl.XUID(2)
	h := &Head{Template: "t", Name: "n", StartTime: now.Add(-time.Hour), Visibility: xbl.OpenVis, MaxMembers: 2, Keywords: []string{"Red"},
		Members: []HeadMember{{XUID: 1, Status: "active"}, {XUID: 2, Index: 1, Status: "reserved", ReservedUntil: now.Add(time.Minute)}}}
	f := &Filter{SCID: scidA, Reservations: true, Keyword: "red", Now: now}
	s, ok := f.Row(h, &x)
	if !ok || s.Status != xbl.Reserved || s.Visibility != xbl.Full || s.Accepted != 1 {
		t.Errorf("before the reservation expires: %+v, %v", s, ok)
	}
	f.Now = now.Add(time.Minute)
	if s, ok := f.Row(h, &x); ok {
		t.Errorf("when the reservation expires: %+v, want no row", s)
	}
	if s, ok := f.Row(h, nil); !ok || s.Visibility != xbl.OpenVis || s.Accepted != 1 {
		t.Errorf("keyword row after the reservation expires: %+v, %v", s, ok)
	}
	f.Keyword = "blue"
	if _, ok := f.Row(h, nil); ok {
		t.Error("a session without the keyword is a row")
	}
	f.Now, f.Keyword, f.Reservations = now, "", false
	if _, ok := f.Row(h, &x); ok {
		t.Error("a reservation not asked for is a row")
	}
}

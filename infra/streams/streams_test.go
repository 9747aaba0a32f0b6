package streams_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/infra/loader"
	"github.com/xblread/xblread/infra/streams"
	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/rankstream"
	"github.com/xblread/xblread/pkg/store/memstore"
	"github.com/xblread/xblread/pkg/store/rankstore"
	"github.com/xblread/xblread/pkg/xbl"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

const scid = "7492baca-c1b4-440d-a391-b7ef364a8d40"

// TestIndexFollowsTheStream: statistics written to DynamoDB Local reach
// the ranking through the table's stream and the index's handler, with
// the handler failing often (errors and reported records): the ranking
// ends exactly as memstore's oracle has it, and a write shows once the
// failures stop; on a board of the default lanes and on a batched one
// (journals and folds).
func TestIndexFollowsTheStream(t *testing.T) {
	for _, lanes := range []int{0, 16} {
		t.Run(fmt.Sprint("lanes=", lanes), func(t *testing.T) { testIndexFollowsTheStream(t, lanes) })
	}
}

func testIndexFollowsTheStream(t *testing.T, lanes int) {
	table := ddbtest.StreamTable(t)
	cfg := xbl.ServiceConfig{SCID: scid, TitleIDs: []string{"1"}, Sandboxes: []string{"RETAIL"},
		Stats:        map[string]xbl.Access{"score": xbl.Open},
		Leaderboards: map[string]xbl.Leaderboard{"score": {Stat: "Score", Type: xbl.Integer, Lanes: lanes}}}
	mem := memstore.New()
	load := func(ds *xbl.Dataset) {
		t.Helper()
		if _, err := loader.Load(context.Background(), table, ds, nil); err != nil {
			t.Fatal(err)
		}
		mem.Load(ds)
	}
	load(&xbl.Dataset{Configs: []xbl.ServiceConfig{cfg}})
	rank := rankstore.New(table)
	h := &rankstream.Handler{Index: &leaderboards.Index{Configs: table, Store: rank}, Log: slog.New(slog.DiscardHandler)}

	var mu sync.Mutex
	failing := true
	r := rand.New(rand.NewPCG(1, 1))
	calls, failures := 0, 0
	p := &streams.Poller{
		Table: table.Client, Streams: streams.ClientFor(table.Client), Name: table.Name, BatchSize: 7, RetryDelay: 5 * time.Millisecond,
		Keep: func(r *events.DynamoDBEventRecord) bool { return r.Change.Keys["sk"].String() == "stats" },
		Logf: func(string, ...any) {},
		Invoke: func(ctx context.Context, payload []byte) ([]byte, error) {
			var e events.DynamoDBEvent
			if err := json.Unmarshal(payload, &e); err != nil {
				return nil, err
			}
			mu.Lock()
			calls++
			fail := failing && r.IntN(3) == 0
			partial := failing && !fail && r.IntN(3) == 0 && len(e.Records) > 1
			if fail {
				failures++
			}
			mu.Unlock()
			if fail {
				return nil, fmt.Errorf("injected")
			}
			if partial {
				// Apply a prefix, then report the rest failed.
				k := r.IntN(len(e.Records))
				resp, err := h.Handle(ctx, events.DynamoDBEvent{Records: e.Records[:k]})
				if err != nil || len(resp.BatchItemFailures) > 0 {
					return json.Marshal(resp)
				}
				return json.Marshal(events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: e.Records[k].Change.SequenceNumber}}})
			}
			resp, err := h.Handle(ctx, e)
			if err != nil {
				return nil, err
			}
			return json.Marshal(resp)
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()

	values := map[xbl.XUID]int{}
	for i := range 150 {
		x := xbl.XUID(1 + r.IntN(40))
		stats := map[string]xbl.StatValue{}
		if i%9 != 8 {
			values[x] = r.IntN(30)
			stats["score"] = xbl.StatValue{Type: xbl.Integer, Value: strconv.Itoa(values[x])}
		} else {
			delete(values, x)
		}
		load(&xbl.Dataset{Stats: []xbl.UserStats{{XUID: x, SCID: scid, Stats: stats}}})
	}
	b := &leaderboards.Board{SCID: scid, Leaderboard: cfg.Leaderboards["score"]}
	settled := func(limit time.Duration) bool {
		for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			want, _ := mem.At(context.Background(), b, 1, 100)
			have, err := rank.At(context.Background(), b, 1, 100)
			if err == nil && sameEntries(have, want) {
				return true
			}
		}
		return false
	}
	if !settled(60 * time.Second) {
		want, _ := mem.At(context.Background(), b, 1, 100)
		have, err := rank.At(context.Background(), b, 1, 100)
		hm, wm := map[xbl.XUID]string{}, map[xbl.XUID]string{}
		for _, e := range have.Entries {
			hm[e.XUID] = e.Value.Value
		}
		for _, e := range want.Entries {
			wm[e.XUID] = e.Value.Value
		}
		var diff []string
		for x := range 100 {
			if hm[xbl.XUID(x)] != wm[xbl.XUID(x)] {
				diff = append(diff, fmt.Sprintf("%d: have %q want %q", x, hm[xbl.XUID(x)], wm[xbl.XUID(x)]))
			}
		}
		t.Fatalf("the ranking never matched the oracle (%d calls, %d failed): %v; total %d want %d\n%s", calls, failures, err, have.Total, want.Total, strings.Join(diff, "\n"))
	}
	if failures == 0 {
		t.Error("no failure was injected")
	}
	mu.Lock()
	failing = false
	mu.Unlock()
	// Freshness: one more write shows, and how soon is logged (a speed
	// goal is a benchmark's, not an assertion: under make test's load
	// the table is slower than alone).
	load(&xbl.Dataset{Stats: []xbl.UserStats{{XUID: 99, SCID: scid, Stats: map[string]xbl.StatValue{"score": {Type: xbl.Integer, Value: "1000"}}}}})
	start := time.Now()
	if !settled(10 * time.Second) {
		t.Fatalf("a write did not show within 10 s")
	}
	t.Logf("%d invocations, %d failed; the last write showed after %s", calls, failures, time.Since(start).Round(time.Millisecond))
}

func sameEntries(a, b *leaderboards.Slice) bool {
	key := func(s *leaderboards.Slice) []string {
		var out []string
		for _, e := range s.Entries {
			out = append(out, e.XUID.String()+"="+e.Value.Value)
		}
		return out
	}
	return slices.Equal(key(a), key(b)) && a.Total == b.Total && a.Rank == b.Rank && a.Ties == b.Ties
}

package main

import (
	"bytes"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/rankstore"
	"github.com/xblread/xblread/pkg/xbl"
)

func sum(p plan) (r, w float64) {
	for _, a := range p {
		r += a.read
		w += a.write
	}
	return r, w
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9*max(1, math.Abs(b)) }

// TestUnits: DynamoDB's rounding, worked by hand.
func TestUnits(t *testing.T) {
	for _, tt := range []struct {
		kb     float64
		strong bool
		want   float64
	}{{0.2, false, 0.5}, {0.2, true, 1}, {4, true, 1}, {4.1, true, 2}, {22, true, 6}, {22, false, 3}} {
		if got := readUnits(tt.kb, tt.strong); got != tt.want {
			t.Errorf("readUnits(%g, %v) = %g, want %g", tt.kb, tt.strong, got, tt.want)
		}
	}
	for _, tt := range []struct {
		kb       float64
		transact bool
		want     float64
	}{{0.1, false, 1}, {0.1, true, 2}, {1, false, 1}, {1.2, false, 2}, {1.2, true, 4}} {
		if got := writeUnits(tt.kb, tt.transact); got != tt.want {
			t.Errorf("writeUnits(%g, %v) = %g, want %g", tt.kb, tt.transact, got, tt.want)
		}
	}
}

func testLobby(n, keywords int) *lobby {
	l := &lobby{scid: "00000000-0000-0000-0000-000000000001", template: "lobby", name: "s1", start: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)}
	for i := range n {
		l.members = append(l.members, xbl.XUID(2533274800000001+i))
	}
	for i := range keywords {
		l.keywords = append(l.keywords, "kw"+string(rune('a'+i)))
	}
	return l
}

// TestPlanUnits: each plan's units, worked by hand from docs/COST.md's
// tables (which the cost tests hold to DynamoDB Local's counts).
func TestPlanUnits(t *testing.T) {
	four, three := testLobby(4, 1), testLobby(3, 1)
	big, bigger := testLobby(40, 1), testLobby(41, 1)
	zero := xbl.StatValue{Type: xbl.Integer, Value: "0"}
	v100, v101 := xbl.StatValue{Type: xbl.Integer, Value: "100"}, xbl.StatValue{Type: xbl.Integer, Value: "101"}
	b := board(0)
	users := []xbl.XUID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	for _, tt := range []struct {
		name  string
		p     plan
		r, w  float64
		calls int
	}{
		{"statistics write", statsWrite(1, b.SCID), 0, 1, 1},
		// 20 users × 1 SCID: half a unit each.
		{"statistics batch of 20", statsBatch(users, []string{b.SCID}), 10, 0, 20},
		// COST.md: a join to a 4-member lobby with one keyword is 13
		// items in the transaction and the claim: 27 write units; the
		// document's strongly consistent read, 1 unit.
		{"join to a 4-member lobby", sessionWrite(three, four), 1, 27, 15},
		// A create: the document, the head, 2 member and 2 keyword entries
		// (12 units); no claim.
		{"create", sessionWrite(nil, testLobby(1, 1)), 1, 12, 7},
		// The last leave deletes the document, the head, the claim and 4
		// entries (2 units each), after the claim.
		{"last leave", sessionWrite(testLobby(1, 1), testLobby(0, 1)), 1, 1 + 14, 9},
		// A join past the copies (41 members and a keyword: 84 entries):
		// the document's read (8.2 KB: 3 units), the document (8.4 KB: 18
		// units), the claim's delete, the head, in
		// the transaction; the new member's 2 entries written apart.
		{"join to a 41-member lobby", sessionWrite(big, bigger), 3, 1 + 18 + 2 + 2 + 2, 7},
		// The leaderboards' index (COST.md), one move folded alone: a
		// player entering the board writes its entry (2 units), a journal
		// (2), deleted by the fold (2), its 3 counters (6), the lease (2)
		// and the top item (7 KB: 7): 7 items, 21 units. A new value in
		// another fine bucket of the same coarse bucket (every integer
		// below 8,192 has its own): 2 entries (4), the journal (2 + 2), 4
		// counters (8) and the old value counter's delete (1), the lease
		// and the top: 9 items, 26 units.
		{"enter a board", moves([]leaderboards.Move{{Board: b, XUID: 1, To: &zero}}, 1), 0, 21, 7},
		{"another fine bucket", moves([]leaderboards.Move{{Board: b, XUID: 1, From: &v100, To: &v101}}, 1), 0, 26, 9},
		// A page: 8 coarse partitions (0.5 each), the fine (1) and value
		// (0.5) counters, 64 lanes (0.5 each): 74 Query calls, 37.5 units.
		{"page", page(&b, leaderboards.Cursor{Value: v100}), 37.5, 0, 74},
		// COST.md, handles: an activity is 1 read and 2 write units.
		{"post activity", postActivity(four, 1, "1000000", "h1"), 1, 2, 3},
		{"connect", append(rtaConnect("c1"), rtaSubscribe("c1")...), 1, 2, 3},
		{"disconnect", rtaDisconnect("c1"), 1, 1, 2},
		{"notify 4, 1 new", notify([]string{"a", "b", "c", "d"}, []string{"d"}), 4, 1, 5},
	} {
		r, w := sum(tt.p)
		if !near(r, tt.r) || !near(w, tt.w) || len(tt.p) != tt.calls {
			t.Errorf("%s: %g read, %g write units in %d accesses; want %g, %g in %d", tt.name, r, w, len(tt.p), tt.r, tt.w, tt.calls)
		}
	}
}

// TestCountAndBill: a second of 10 statistics writes and 4 pages, worked
// by hand: the route totals, the busiest keys, the concurrency and the
// bill.
func TestCountAndBill(t *testing.T) {
	c := defaults()
	c.players, c.seconds, c.limited = 1000, 1, false
	s := newSim(c)
	s.parts, s.items = map[string]*units{}, map[store.Key]*units{}
	b := board(0)
	for i := range 10 {
		s.request(rStatsWrite, 0, xbl.XUID(i+1), statsWrite(xbl.XUID(i+1), scid(0)))
	}
	for range 4 {
		s.request(rPage, 0, 1, page(&b, leaderboards.Cursor{Value: xbl.StatValue{Type: xbl.Integer, Value: "5"}}))
	}
	s.perSec = append(s.perSec, units{r: 150, w: 10})
	s.keepHottest()
	tot := s.totalsPerSecond()
	if got := tot.perRoute[rStatsWrite]; got.requests != 10 || got.w != 10 || got.r != 0 {
		t.Errorf("statistics writes: %+v", got)
	}
	if !near(tot.r, 150) || tot.w != 10 || tot.httpReq != 14 {
		t.Errorf("totals %g read, %g write, %g requests; want 150, 10, 14", tot.r, tot.w, tot.httpReq)
	}
	// A coarse counters' partition: 4 pages × 0.5 unit (the fine and
	// value counters are in their buckets' partitions).
	if u := s.hotParts[rankstore.CoarsePKs(&b)[0]]; !near(u.r, 2) {
		t.Errorf("counters partition: %+v, want 2 read units", u)
	}
	// Concurrency: 10 × 6 ms + 4 × 20 ms.
	if got := tot.concurrency["StatsWriteFunction"] + tot.concurrency["LeaderboardsFunction"]; !near(got, 0.14) {
		t.Errorf("concurrency %g, want 0.14", got)
	}
	month := 730 * 3600.0
	want := map[string]float64{
		"DynamoDB read units":       150 * month * 0.125e-6,
		"DynamoDB write units":      10 * month * 0.625e-6,
		"Lambda requests":           14 * month * 0.2e-6,
		"API Gateway HTTP requests": 14 * month * 1e-6,
		// 14 requests × 2.5 KB a second.
		"CloudWatch Logs ingestion": 14 * month * 2.5 / (1 << 20) * 0.5,
		// 1,000 players all connected: 1000/60 minutes a second.
		"API Gateway WebSocket connection minutes": 1000.0 / 60 * month * 0.25e-6,
		// (10 × 0.006 + 4 × 0.020) s × 0.5 GB.
		"Lambda duration (arm64, 512 MB)": 0.14 * 0.5 * month * 0.0000133334,
	}
	for _, l := range tot.bill() {
		if w, ok := want[l.what]; ok && !near(l.usd, w) {
			t.Errorf("%s: $%g, want $%g", l.what, l.usd, w)
		}
	}
	// The tiers: 400 million HTTP requests a month are 300 at $1.00 and
	// 100 at $0.90.
	tot.httpReq = 400e6 / month
	for _, l := range tot.bill() {
		if l.what == "API Gateway HTTP requests" && !near(l.usd, 390) {
			t.Errorf("400 million requests: $%g, want $390", l.usd)
		}
	}
}

func rankstoreCounts(b *leaderboards.Board) string { return rankstore.CountsPK(b) }

// TestLimits: a partition at twice its write limit with 1,000 players is
// reached at 500 players; one lobby's keys are not extrapolated.
func TestLimits(t *testing.T) {
	c := defaults()
	c.players, c.seconds = 1000, 1
	s := newSim(c)
	b := board(0)
	s.sums = map[string]units{rankstoreCounts(&b): {w: 2000}}
	s.hotParts = map[string]units{rankstoreCounts(&b): {w: 2000}, store.SessionKey("s", "t", "n").PK: {r: 6000}}
	s.hotItems = map[store.Key]units{}
	var got []limit
	for _, l := range s.limits(totals{}, 0) {
		if strings.HasPrefix(l.what, "one partition") {
			got = append(got, l)
		}
	}
	if len(got) != 2 || !near(got[0].at, 500) || got[0].fixed || !got[1].fixed || !near(got[1].use, 2) {
		t.Errorf("limits: %+v", got)
	}
}

// TestTopN: the busiest keys, most first.
func TestTopN(t *testing.T) {
	m := map[string]*units{"a": {w: 1}, "b": {w: 5}, "c": {w: 3}, "d": {w: 0}, "e": {w: 4}}
	got := topN(m, 3, func(u units) float64 { return u.w })
	if strings.Join(got, "") != "bec" {
		t.Errorf("topN = %v, want [b e c]", got)
	}
}

// TestHeatGrowsWithPlayers: the top title's board's entry lanes take ten
// times the writes at ten times the players (the same seed), within
// Poisson noise, and the run is the same for the same seed.
func TestHeatGrowsWithPlayers(t *testing.T) {
	heat := func(players, seconds int) float64 { // write units a second, mean
		c := defaults()
		c.players, c.seconds, c.storm = players, seconds, 0
		s := newSim(c)
		s.run()
		b := board(0)
		w := 0.0
		for _, pk := range rankstore.EntryLanePKs(&b) {
			w += s.sums[pk].w
		}
		return w / float64(seconds)
	}
	a, b, again := heat(20000, 30), heat(200000, 3), heat(20000, 30)
	if a != again {
		t.Errorf("the same seed gave %g and %g", a, again)
	}
	if r := b / a; r < 7 || r > 13 {
		t.Errorf("board heat at 20,000 players %g, at 200,000 %g: ratio %g, want about 10", a, b, r)
	}
}

// TestRunFlags: bad flags are refused with what is wrong; a small run
// writes every section.
func TestRunFlags(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{{"-players", "10"}, {"-title-zipf", "1"}, {"-connected", "2"}, {"-seconds", "0"}, {"extra"}} {
		if err := run(args, &out); err == nil {
			t.Errorf("run(%q) accepted", args)
		}
	}
	out.Reset()
	if err := run([]string{"-players", "5000", "-seconds", "1"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## 5,000 concurrent players", "### Routes", "### Hottest partition keys", "### Hottest items", "### What breaks first", "### A month at this load", "| **total** |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestScaleDoc: docs/SCALE.md's 100,000-player tables are the simulator's
// output with the default flags (the run is the same for the same seed),
// so that the page cannot drift from the code it reads.
func TestScaleDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/SCALE.md")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{"-players", "100000"}, &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, out.Bytes()) {
		t.Errorf("docs/SCALE.md does not hold `go run ./infra/scale -players 100000`'s output; run make scale and paste its tables:\n%s", out.String())
	}
}

// TestLogTiers: Lambda's logs in tiers, worked by hand: 60 TB a month is
// 10 TB at $0.50, 20 at $0.25, 20 at $0.10 and 10 at $0.05 a GB.
func TestLogTiers(t *testing.T) {
	for _, tt := range []struct{ gb, want float64 }{
		{0, 0}, {100, 50}, {10 << 10, 5120}, {60 << 10, 5120 + 5120 + 2048 + 512},
	} {
		if got := lambdaLogTiers(tt.gb); !near(got, tt.want) {
			t.Errorf("lambdaLogTiers(%g) = %g, want %g", tt.gb, got, tt.want)
		}
	}
}

// TestSizeDraws: joins land on lobbies by their joins (n−1 each), leaves
// by their leaves (n each). With lobbies of 1 or 2 members, every join is
// into a lobby of 2, and a leave is from a lobby of 2 with odds
// 2·2^−s : 1.
func TestSizeDraws(t *testing.T) {
	c := defaults()
	c.lobbyMax, c.lobbyZipf = 2, 2
	s := newSim(c)
	twos := 0
	for range 10000 {
		if n := s.draw(s.perJoin); n != 2 {
			t.Fatalf("a join drew a lobby of %d", n)
		}
		if s.draw(s.perLeave) == 2 {
			twos++
		}
	}
	// 2·2^−2 = 0.5 against 1: a third of the leaves.
	if twos < 3000 || twos > 3700 {
		t.Errorf("%d of 10,000 leaves from lobbies of 2, want about 3,333", twos)
	}
}

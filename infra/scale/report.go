package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/rankstore"
)

// DynamoDB's limits per partition (and so per item), a second.
const (
	partitionRead  = 3000
	partitionWrite = 1000
)

// Account quotas (us-east-1 defaults, adjustable by request; docs/SCALE.md).
const (
	quotaLambda     = 1000  // concurrent executions per account and region
	quotaHTTP       = 10000 // API Gateway requests a second per account and region (HTTP and WebSocket)
	quotaWSConnects = 500   // new WebSocket connections a second per account and region
	quotaTableRead  = 40000 // on-demand read units a second per table
	quotaTableWrite = 40000 // on-demand write units a second per table
	secondsPerMonth = 730 * 3600
)

// ms is each route's time in its function per request (per change for the
// notifier, per move for the index), in milliseconds: `make bench`'s
// "in the function" p50 on DynamoDB Local (docs/RESULTS.md) where it
// measures the route, raised to DynamoDB's own single-digit milliseconds a
// call made one after another where DynamoDB Local answers faster
// (loopback); estimates otherwise, marked so in docs/SCALE.md.
var ms = map[*route]float64{
	rStatsWrite: 6, rStatsBatch: 12, rPage: 20, rMove: 15,
	rCreate: 30, rJoin: 30, rChange: 25, rLeave: 25, rGet: 6,
	rKeyword: 8, rSessionBatch: 14, rActivities: 20,
	rConnect: 20, rDisconnect: 10, rNotify: 25, rQueued: 60,
}

// Prices (us-east-1, docs/COST.md).
const (
	priceRRU        = 0.125 / 1e6
	priceWRU        = 0.625 / 1e6
	priceLambdaReq  = 0.20 / 1e6
	priceLambdaGBs  = 0.0000133334
	lambdaGB        = 0.5
	priceHTTP       = 1.00 / 1e6 // the first 300 million a month
	priceHTTPAfter  = 0.90 / 1e6
	priceWSMsg      = 1.00 / 1e6 // the first billion a month
	priceWSMsgAfter = 0.80 / 1e6
	priceConnMin    = 0.25 / 1e6
	priceLogGB      = 0.50
	logKBPerRequest = 2.5 // docs/COST.md: the function's lines, the access log, Lambda's own
)

// totals are the run's figures per second.
type totals struct {
	perRoute    map[*route]routeTotal // per second
	httpReq     float64
	wsMessages  float64
	wsConnects  float64
	connMinutes float64 // per second: connection minutes accrued
	invocations map[string]float64
	concurrency map[string]float64
	units
	peak units // the busiest second of the table
}

func (s *sim) totalsPerSecond() totals {
	n := float64(s.cfg.seconds)
	t := totals{perRoute: map[*route]routeTotal{}, invocations: map[string]float64{}, concurrency: map[string]float64{}}
	for _, r := range routes {
		rt := *s.totals[r]
		rt.requests /= n
		rt.r /= n
		rt.w /= n
		rt.invocations /= n
		rt.messages /= n
		if rt.invocations == 0 {
			rt.invocations = rt.requests
		}
		t.perRoute[r] = rt
		t.r += rt.r
		t.w += rt.w
		if r.http {
			t.httpReq += rt.requests
		}
		t.wsMessages += rt.messages
		t.invocations[r.function] += rt.invocations
		t.concurrency[r.function] += rt.requests * ms[r] / 1000
	}
	t.wsConnects = t.perRoute[rConnect].requests
	t.connMinutes = float64(s.cfg.players) * s.cfg.connected / 60
	for _, u := range s.perSec {
		t.peak.r = max(t.peak.r, u.r)
		t.peak.w = max(t.peak.w, u.w)
	}
	return t
}

// bill is the month's cost by line, at this second's rates all month.
type billLine struct {
	what string
	usd  float64
	note string
}

func (t *totals) bill() []billLine {
	month := float64(secondsPerMonth)
	tiered := func(n, first, p1, p2 float64) float64 {
		if n <= first {
			return n * p1
		}
		return first*p1 + (n-first)*p2
	}
	var inv, gbs float64
	for _, r := range routes {
		rt := t.perRoute[r]
		inv += rt.invocations * month
		gbs += rt.requests * ms[r] / 1000 * lambdaGB * month
	}
	http := t.httpReq * month
	msgs := t.wsMessages * month
	logs := (t.httpReq + t.invocations["RtaFunction"] + t.invocations["RtaNotifyFunction"]) * month * logKBPerRequest / (1 << 20)
	return []billLine{
		{"DynamoDB read units", t.r * month * priceRRU, fmt.Sprintf("%.3g a month", t.r*month)},
		{"DynamoDB write units", t.w * month * priceWRU, fmt.Sprintf("%.3g a month", t.w*month)},
		{"Lambda requests", inv * priceLambdaReq, fmt.Sprintf("%.3g invocations", inv)},
		{"Lambda duration (arm64, 512 MB)", gbs * priceLambdaGBs, fmt.Sprintf("%.3g GB-s", gbs)},
		{"API Gateway HTTP requests", tiered(http, 300e6, priceHTTP, priceHTTPAfter), fmt.Sprintf("%.3g requests", http)},
		{"API Gateway WebSocket messages", tiered(msgs, 1e9, priceWSMsg, priceWSMsgAfter), fmt.Sprintf("%.3g messages", msgs)},
		{"API Gateway WebSocket connection minutes", t.connMinutes * month * priceConnMin, fmt.Sprintf("%.3g minutes", t.connMinutes*month)},
		{"CloudWatch Logs ingestion", logs * priceLogGB, fmt.Sprintf("%.3g GB", logs)},
	}
}

// report writes the run's tables as Markdown.
func report(w io.Writer, s *sim) {
	t := s.totalsPerSecond()
	c := &s.cfg
	fmt.Fprintf(w, "## %s concurrent players\n\n", group(float64(c.players)))
	fmt.Fprintf(w, "%d seconds simulated; %d titles (Zipf %.2f), lobbies of 1 to %d (Zipf %.2f, mean %.2f), a storm of %d joins in second 0.\n\n",
		c.seconds, c.titles, c.titleZipf, c.lobbyMax, c.lobbyZipf, s.meanSize(), c.storm)

	fmt.Fprintln(w, "### Routes, per second (mean)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| route | function | requests/s | read units/s | write units/s | Lambda concurrency |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: |")
	for _, r := range routes {
		rt := t.perRoute[r]
		if rt.requests == 0 {
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %.1f |\n", r.name, r.function, group(rt.requests), group(rt.r), group(rt.w), rt.requests*ms[r]/1000)
	}
	fmt.Fprintf(w, "| **the table** | | | **%s** (busiest second %s; quota %s) | **%s** (busiest second %s; quota %s) | |\n\n",
		group(t.r), group(t.peak.r), group(quotaTableRead), group(t.w), group(t.peak.w), group(quotaTableWrite))

	fmt.Fprintln(w, "### Hottest partition keys (their busiest second)")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Headroom: DynamoDB's %d read and %d write units a second of one partition over the key's units (below 1: throttled unless the key's items can be split for heat).\n\n", partitionRead, partitionWrite)
	fmt.Fprintln(w, "| partition key | what | read units/s | write units/s | headroom |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: |")
	for _, k := range withKinds(hottest(s.hotParts, len(s.hotParts)), 8, func(k string) string { return kindOf(k) }) {
		u := s.hotParts[k]
		fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s |\n", clip(k), kindOf(k), group(u.r), group(u.w), headroom(u))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "### Hottest items (their busiest second; an item cannot be split)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| item (pk, sk) | what | read units/s | write units/s | headroom |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: |")
	for _, k := range withKinds(hottest(s.hotItems, len(s.hotItems)), 6, func(k store.Key) string { return kindOf(k.PK) }) {
		u := s.hotItems[k]
		fmt.Fprintf(w, "| `%s`, `%s` | %s | %s | %s | %s |\n", clip(k.PK), clip(k.SK), kindOf(k.PK), group(u.r), group(u.w), headroom(u))
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "### Lambda, API Gateway and WebSocket, per second")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| what | per second | quota | use |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: |")
	var conc float64
	for _, f := range slices.Sorted(maps.Keys(t.concurrency)) {
		conc += t.concurrency[f]
		fmt.Fprintf(w, "| Lambda concurrency, %s | %.1f | | |\n", f, t.concurrency[f])
	}
	fmt.Fprintf(w, "| **Lambda concurrency, all functions** | **%.1f** | %d | %s |\n", conc, quotaLambda, pct(conc/quotaLambda))
	fmt.Fprintf(w, "| API Gateway requests (HTTP, and WebSocket messages in) | %s | %s | %s |\n", group(t.httpReq+t.wsMessages/2), group(quotaHTTP), pct((t.httpReq+t.wsMessages/2)/quotaHTTP))
	fmt.Fprintf(w, "| WebSocket new connections | %s | %d | %s |\n", group(t.wsConnects), quotaWSConnects, pct(t.wsConnects/quotaWSConnects))
	fmt.Fprintf(w, "| WebSocket messages (frames, answers, taps) | %s | | |\n", group(t.wsMessages))
	fmt.Fprintf(w, "| shoulder taps | %s | | |\n", group(s.taps/float64(c.seconds)))
	fmt.Fprintf(w, "| WebSocket connection minutes | %s | | |\n\n", group(t.connMinutes))

	fmt.Fprintln(w, "### What breaks first")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Each limit's use at this size, and the players at which it is reached if load grows with the players (a session's, a connection's or a player's keys carry one lobby's, connection's or player's load, which does not).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| limit | use | reached at about |")
	fmt.Fprintln(w, "| --- | ---: | ---: |")
	for _, l := range s.limits(t, conc) {
		at := group(l.at) + " players"
		if l.storm {
			at = "(one lobby's, connection's or player's own load)"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", l.what, pct(l.use), at)
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "### A month at this load")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| line | per month | what |")
	fmt.Fprintln(w, "| --- | ---: | --- |")
	var sum float64
	for _, l := range t.bill() {
		sum += l.usd
		fmt.Fprintf(w, "| %s | $%s | %s |\n", l.what, group(l.usd), l.note)
	}
	fmt.Fprintf(w, "| **total** | **$%s** | $%.2f per 1,000 player-hours |\n", group(sum), sum/float64(c.players)/730*1000)
}

// hottest returns up to n keys of m, busiest first by their share of a
// partition's limits.
func hottest[K comparable](m map[K]units, n int) []K {
	keys := slices.Collect(maps.Keys(m))
	load := func(u units) float64 { return max(u.r/partitionRead, u.w/partitionWrite) }
	slices.SortFunc(keys, func(a, b K) int {
		la, lb := load(m[a]), load(m[b])
		switch {
		case la > lb:
			return -1
		case la < lb:
			return 1
		}
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
	})
	return keys[:min(n, len(keys))]
}

// headroom is the partition limit over the key's use (the smaller of
// reads and writes).
func headroom(u units) string {
	h := min(partitionRead/max(u.r, 1e-9), partitionWrite/max(u.w, 1e-9))
	s := fmt.Sprintf("%.2f×", h)
	if h >= 100 {
		s = fmt.Sprintf("%.0f×", h)
	}
	if h < 1 {
		return "**" + s + " (over)**"
	}
	return s
}

// kinds names what a partition key holds, by its prefix: the prefixes
// are taken from pkg/store's own key functions.
var kinds = func() map[string]string {
	b := board(0)
	prefix := prefixOf
	return map[string]string{
		prefix(rankstore.CountsPK(&b)):                     "a leaderboard's counters",
		prefix(rankstore.EntriesPK(&b)):                    "a leaderboard's entries",
		prefix(store.SessionKey("s", "t", "n").PK):         "a session (document, head, claim, queue)",
		prefix(store.KeywordPK("s", "k")):                  "a keyword's index entries",
		prefix(store.RateKey("s", "t", 1, time.Time{}).PK): "a caller's rate counts",
		prefix(store.ConnectionKey("c").PK):                "a connection",
		prefix(store.HandleKey("h").PK):                    "a handle",
	}
}()

// prefixOf is a key's prefix, up to its first '#'.
func prefixOf(pk string) string { return pk[:strings.IndexByte(pk, '#')+1] }

// kindOf names what a partition key holds.
func kindOf(pk string) string {
	if k, ok := kinds[prefixOf(pk)]; ok {
		return k
	}
	if pk != "" && pk[0] >= '0' && pk[0] <= '9' { // store.UserSCID: xuid#scid
		return "a player's items in a SCID"
	}
	return "other"
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// group prints v rounded, with thousands separated by commas.
func group(v float64) string {
	if v != 0 && v < 10 && v > -10 {
		return fmt.Sprintf("%.2f", v)
	}
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func pct(f float64) string { return fmt.Sprintf("%.0f %%", f*100) }

// withKinds returns the first n of keys (busiest first) and, after them,
// the busiest key of each kind not among them.
func withKinds[K comparable](keys []K, n int, kind func(K) string) []K {
	out := keys[:min(n, len(keys))]
	seen := map[string]bool{}
	for _, k := range out {
		seen[kind(k)] = true
	}
	for _, k := range keys[len(out):] {
		if !seen[kind(k)] {
			seen[kind(k)] = true
			out = append(out, k)
		}
	}
	return out
}

// limit is one limit's use at the simulated size.
type limit struct {
	what  string
	use   float64 // of the limit
	at    float64 // players at which use reaches 1, growing linearly
	storm bool    // one lobby's, connection's or player's key: its load does not grow with the players
}

// limits returns each limit's use, the soonest reached first.
func (s *sim) limits(t totals, conc float64) []limit {
	players := float64(s.cfg.players)
	var out []limit
	add := func(what string, use float64, storm bool) {
		out = append(out, limit{what: what, use: use, at: players / max(use, 1e-12), storm: storm})
	}
	load := func(u units) float64 { return max(u.r/partitionRead, u.w/partitionWrite) }
	stormKey := func(pk string) bool { return s.stormPK != "" && pk == s.stormPK }
	// A session's, a handle's, a connection's or a player's keys carry
	// what one lobby, one connection or one player asks: it does not grow
	// with the players.
	own := func(pk string) bool {
		k := kindOf(pk)
		return stormKey(pk) || k == kinds[prefixOf(store.SessionKey("s", "t", "n").PK)] || k == kinds[prefixOf(store.ConnectionKey("c").PK)] || k == kinds[prefixOf(store.HandleKey("h").PK)] || k == "a player's items in a SCID" || k == kinds[prefixOf(store.RateKey("s", "t", 1, time.Time{}).PK)]
	}
	seen := map[string]bool{}
	for _, k := range hottest(s.hotParts, len(s.hotParts)) {
		kind := kindOf(k)
		if seen[kind+fmt.Sprint(stormKey(k))] {
			continue
		}
		seen[kind+fmt.Sprint(stormKey(k))] = true
		what := "one partition: " + kind
		if stormKey(k) {
			what += " (the storm's)"
		}
		add(what+", the busiest", load(s.hotParts[k]), own(k))
	}
	seen = map[string]bool{}
	for _, k := range hottest(s.hotItems, len(s.hotItems)) {
		kind := kindOf(k.PK)
		if seen[kind+fmt.Sprint(stormKey(k.PK))] {
			continue
		}
		seen[kind+fmt.Sprint(stormKey(k.PK))] = true
		what := "one item: " + kind
		if stormKey(k.PK) {
			what += " (the storm's)"
		}
		add(what+", the busiest", load(s.hotItems[k]), own(k.PK))
	}
	add(fmt.Sprintf("the table's on-demand read units (%s/s)", group(quotaTableRead)), t.peak.r/quotaTableRead, false)
	add(fmt.Sprintf("the table's on-demand write units (%s/s)", group(quotaTableWrite)), t.peak.w/quotaTableWrite, false)
	add(fmt.Sprintf("Lambda concurrency (%s)", group(quotaLambda)), conc/quotaLambda, false)
	add(fmt.Sprintf("API Gateway requests (%s/s)", group(quotaHTTP)), (t.httpReq+t.wsMessages/2)/quotaHTTP, false)
	add(fmt.Sprintf("WebSocket new connections (%d/s)", quotaWSConnects), t.wsConnects/quotaWSConnects, false)
	slices.SortStableFunc(out, func(a, b limit) int {
		switch {
		case a.storm != b.storm:
			if a.storm {
				return 1
			}
			return -1
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
	return out
}

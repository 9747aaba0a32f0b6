package main

import (
	"fmt"
	"io"
	"maps"
	"math"
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
	priceLogGB      = 0.50 // API Gateway's access logs (and Lambda's first 10 TB a month)
	// docs/COST.md: 2.5 KB of log a request: the function's lines and
	// Lambda's own (2.1 KB), API Gateway's access log line (0.4 KB); an
	// invocation without an access log (real-time activity, the stream
	// functions) about 0.9 KB.
	lambdaLogKB = 2.1
	accessLogKB = 0.4
	otherLogKB  = 0.9
)

// totals are the run's figures per second.
type totals struct {
	perRoute    map[*route]routeTotal // per second
	httpReq     float64
	apigw       float64 // requests counted by API Gateway's account quota: HTTP, WebSocket messages in, posts to connections
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
	t.apigw = t.httpReq + t.perRoute[rConnect].requests + s.taps/n // each connection's subscribe frame; each tap a PostToConnection
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
	var other float64
	for f, inv := range t.invocations {
		if f == "RtaFunction" || f == "RtaNotifyFunction" || f == "LeaderboardIndexFunction" {
			other += inv
		}
	}
	lambdaLogs := (t.httpReq*lambdaLogKB + other*otherLogKB) * month / (1 << 20)
	accessLogs := t.httpReq * accessLogKB * month / (1 << 20)
	logs := lambdaLogs + accessLogs
	logsUSD := lambdaLogTiers(lambdaLogs) + accessLogs*priceLogGB
	return []billLine{
		{"DynamoDB read units", t.r * month * priceRRU, fmt.Sprintf("%.3g a month", t.r*month)},
		{"DynamoDB write units", t.w * month * priceWRU, fmt.Sprintf("%.3g a month", t.w*month)},
		{"Lambda requests", inv * priceLambdaReq, fmt.Sprintf("%.3g invocations", inv)},
		{"Lambda duration (arm64, 512 MB)", gbs * priceLambdaGBs, fmt.Sprintf("%.3g GB-s", gbs)},
		{"API Gateway HTTP requests", tiered(http, 300e6, priceHTTP, priceHTTPAfter), fmt.Sprintf("%.3g requests", http)},
		{"API Gateway WebSocket messages", tiered(msgs, 1e9, priceWSMsg, priceWSMsgAfter), fmt.Sprintf("%.3g messages", msgs)},
		{"API Gateway WebSocket connection minutes", t.connMinutes * month * priceConnMin, fmt.Sprintf("%.3g minutes", t.connMinutes*month)},
		{"CloudWatch Logs ingestion", logsUSD, fmt.Sprintf("%.3g GB (Lambda's %.3g GB priced in tiers)", logs, lambdaLogs)},
	}
}

// lambdaLogTiers is the month's price of gb of Lambda's logs: since May
// 2025 they are priced in tiers, per GB a month: $0.50 for the first
// 10 TB, $0.25 for the next 20, $0.10 for the next 20, $0.05 after.
func lambdaLogTiers(gb float64) float64 {
	var usd float64
	for _, tier := range []struct{ width, price float64 }{{10 << 10, 0.50}, {20 << 10, 0.25}, {20 << 10, 0.10}, {math.Inf(1), 0.05}} {
		in := min(gb, tier.width)
		usd += in * tier.price
		gb -= in
		if gb <= 0 {
			break
		}
	}
	return usd
}

// report writes the run's tables as Markdown.
func report(w io.Writer, s *sim) {
	t := s.totalsPerSecond()
	c := &s.cfg
	fmt.Fprintf(w, "## %s concurrent players\n\n", group(float64(c.players)))
	fmt.Fprintf(w, "%d seconds simulated; %d titles (Zipf %.2f), lobbies of 1 to %d (Zipf %.2f, mean %.2f), a lobby filled to %d members in second 0 (the storm).\n\n",
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
	if s.storm.requests > 0 {
		fmt.Fprintf(w, "| the storm, in second 0 (in the keys' heat and the busiest second; not in these means nor the bill) | SessionsWriteFunction | %s in all | %s in all | %s in all | |\n",
			group(s.storm.requests), group(s.storm.r), group(s.storm.w))
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
	fmt.Fprintf(w, "| API Gateway requests (HTTP, WebSocket messages in, posts to connections) | %s | %s | %s |\n", group(t.apigw), group(quotaHTTP), pct(t.apigw/quotaHTTP))
	fmt.Fprintf(w, "| WebSocket new connections | %s | %d | %s |\n", group(t.wsConnects), quotaWSConnects, pct(t.wsConnects/quotaWSConnects))
	fmt.Fprintf(w, "| WebSocket messages (frames, answers, taps) | %s | | |\n", group(t.wsMessages))
	fmt.Fprintf(w, "| shoulder taps | %s | | |\n", group(s.taps/float64(c.seconds)))
	fmt.Fprintf(w, "| WebSocket connection minutes | %s | | |\n\n", group(t.connMinutes))

	fmt.Fprintln(w, "### What breaks first")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Each limit's use at this size (mean rates, without the storm), and the players at which it is reached if load grows with the players. A session's, a handle's, a connection's or a player's keys carry one lobby's, connection's or player's load, which does not grow: their busiest second is shown, not extrapolated.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| limit | use | reached at about |")
	fmt.Fprintln(w, "| --- | ---: | ---: |")
	for _, l := range s.limits(t, conc) {
		at := group(l.at) + " players"
		if l.fixed {
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

// What a partition key holds.
const (
	kindCounters = "a leaderboard's counters"
	kindEntries  = "a leaderboard's entries"
	kindJournals = "a leaderboard's journals"
	kindLease    = "a leaderboard's fold lease"
	kindTop      = "a leaderboard's top item"
	kindSession  = "a session (document, head, claim, queue)"
	kindKeyword  = "a keyword's index entries"
	kindRate     = "a caller's rate counts"
	kindConn     = "a connection"
	kindHandle   = "a handle"
	kindPlayer   = "a player's items in a SCID"
)

// kinds names what a partition key holds, by its prefix: the prefixes
// are taken from pkg/store's own key functions.
var kinds = func() map[string]string {
	b := board(0)
	return map[string]string{
		prefixOf(rankstore.CountsPK(&b)):                     kindCounters,
		prefixOf(rankstore.EntriesPK(&b)):                    kindEntries,
		prefixOf(rankstore.JournalPK(&b, 0)):                 kindJournals,
		prefixOf(rankstore.LeaseKey(&b).PK):                  kindLease,
		prefixOf(rankstore.TopKey(&b).PK):                    kindTop,
		prefixOf(store.SessionKey("s", "t", "n").PK):         kindSession,
		prefixOf(store.KeywordPK("s", "k")):                  kindKeyword,
		prefixOf(store.RateKey("s", "t", 1, time.Time{}).PK): kindRate,
		prefixOf(store.ConnectionKey("c").PK):                kindConn,
		prefixOf(store.HandleKey("h").PK):                    kindHandle,
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
		return kindPlayer
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
	fixed bool    // one lobby's, connection's or player's key: its load does not grow with the players
}

// busiest returns, for each group of m's keys (group names it; "" leaves
// the key out), the largest load of a key of the group.
func busiest[K comparable](m map[K]units, group func(K) string, load func(units) float64) map[string]float64 {
	out := map[string]float64{}
	for k, u := range m {
		if g := group(k); g != "" {
			out[g] = max(out[g], load(u))
		}
	}
	return out
}

// limits returns each limit's use, the soonest reached first.
func (s *sim) limits(t totals, conc float64) []limit {
	players := float64(s.cfg.players)
	var out []limit
	add := func(what string, use float64, fixed bool) {
		if use < 0.01 && strings.HasPrefix(what, "one ") { // a key far from its limit says nothing
			return
		}
		out = append(out, limit{what: what, use: use, at: players / max(use, 1e-12), fixed: fixed})
	}
	load := func(u units) float64 { return max(u.r/partitionRead, u.w/partitionWrite) }
	n := float64(s.cfg.seconds)
	meanLoad := func(u units) float64 { return load(units{u.r / n, u.w / n}) }
	addAll := func(prefix, suffix string, best map[string]float64, fixed bool) {
		for _, g := range slices.Sorted(maps.Keys(best)) {
			add(prefix+g+suffix, best[g], fixed)
		}
	}
	pkKind := func(pk string) string { return kindOf(pk) }
	itemKind := func(k store.Key) string { return kindOf(k.PK) }
	// Keys whose load grows with the players (boards, keywords): the
	// busiest key of each kind by its mean over the run, extrapolated.
	addAll("one partition: ", ", the busiest (mean)", busiest(s.sums, pkKind, meanLoad), false)
	addAll("one item: ", ", the busiest (mean)", busiest(s.itemSums, itemKind, meanLoad), false)
	// One lobby's, connection's or player's keys: their busiest second,
	// not extrapolated (the storm's apart).
	own := func(pk string) string {
		switch {
		case grows(pk):
			return ""
		case s.stormPK != "" && pk == s.stormPK:
			return kindOf(pk) + " (the storm's)"
		}
		return kindOf(pk)
	}
	addAll("one partition: ", ", the busiest second", busiest(s.hotParts, own, load), true)
	addAll("one item: ", ", the busiest second", busiest(s.hotItems, func(k store.Key) string { return own(k.PK) }, load), true)
	add(fmt.Sprintf("the table's on-demand read units (%s/s)", group(quotaTableRead)), t.r/quotaTableRead, false)
	add(fmt.Sprintf("the table's on-demand write units (%s/s)", group(quotaTableWrite)), t.w/quotaTableWrite, false)
	add(fmt.Sprintf("Lambda concurrency (%s)", group(quotaLambda)), conc/quotaLambda, false)
	add(fmt.Sprintf("API Gateway requests (%s/s)", group(quotaHTTP)), t.apigw/quotaHTTP, false)
	add(fmt.Sprintf("WebSocket new connections (%d/s)", quotaWSConnects), t.wsConnects/quotaWSConnects, false)
	slices.SortStableFunc(out, func(a, b limit) int {
		switch {
		case a.fixed != b.fixed:
			if a.fixed {
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

package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/ratelimit"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// config is the synthetic population: every rate is a flag (main.go).
type config struct {
	players int // online at once

	titles    int     // titles, one SCID each
	titleZipf float64 // players per title: Zipf of this exponent (> 1)

	statsInterval time.Duration // a player's statistics write (XSAPI flushes at most every 5 minutes)
	newPlayers    float64       // share of ranked writes that enter a board (the rest raise a value)
	batchReads    float64       // statistics batch reads per player and hour
	batchUsers    int           // users per batch read
	pages         float64       // leaderboard pages per player and hour

	lobbies      float64 // lobbies a player joins an hour (its own included)
	lobbyMax     int     // the largest lobby
	lobbyZipf    float64 // lobby sizes 1..lobbyMax: Zipf of this exponent
	lobbyChanges int     // property changes per lobby (host, custom properties), besides joins and leaves
	keywords     int     // keywords of each SCID's vocabulary
	keywordZipf  float64 // a lobby's keyword: Zipf of this exponent over the vocabulary
	queries      float64 // keyword queries (session directory) per player and hour
	sessionBatch float64 // session batch queries per player and hour
	batchXUIDs   int     // xuids per session batch query
	activities   float64 // activity queries (POST /handles/query) per player and hour
	owners       int     // owners per activity query

	batchRecords float64 // stream records per invocation of a stream function (its BatchSize is 100)

	connected float64       // share of players connected to real-time activity
	connLife  time.Duration // a connection's life (XSAPI reconnects after about 90 minutes)
	storm     int           // writers joining one lobby within one second (0: none)

	limited bool // players' requests are counted by the rate limiter

	seconds int    // seconds simulated
	seed    uint64 // the random source's seed
}

// defaults is the configuration make scale runs, with the reasons for
// each figure in docs/SCALE.md.
func defaults() config {
	return config{
		players: 1_000_000, titles: 2000, titleZipf: 1.1,
		statsInterval: 5 * time.Minute, newPlayers: 0.1, batchReads: 6, batchUsers: 20, pages: 4,
		lobbies: 2, lobbyMax: 100, lobbyZipf: 1.6, lobbyChanges: 4,
		keywords: 200, keywordZipf: 1.3, queries: 6, sessionBatch: 2, batchXUIDs: 20, activities: 4, owners: 50,
		batchRecords: 10, connected: 1, connLife: 90 * time.Minute, storm: 100,
		limited: true, seconds: 5, seed: 1,
	}
}

// Routes: what the simulator counts a request as, and the function that
// serves it.
type route struct {
	name     string
	function string
	http     bool // through the HTTP API (one request each; the rate limiter counts players' requests)
	service  string
}

var (
	rStatsWrite   = &route{"POST /users/xuid/scids/S/stats (write)", "StatsWriteFunction", true, ratelimit.StatsWrite}
	rStatsBatch   = &route{"POST /batch (statistics)", "StatsBatchFunction", true, ratelimit.UserStats}
	rPage         = &route{"GET leaderboard page", "LeaderboardsFunction", true, ratelimit.Leaderboards}
	rMove         = &route{"leaderboard index move (stream)", "LeaderboardIndexFunction", false, ""}
	rCreate       = &route{"PUT session (create) + activity", "SessionsWriteFunction", true, ratelimit.SessionDirectory}
	rJoin         = &route{"PUT /handles/{id}/session (join)", "SessionsWriteFunction", true, ratelimit.SessionDirectory}
	rChange       = &route{"PUT session (properties)", "SessionsWriteFunction", true, ratelimit.SessionDirectory}
	rLeave        = &route{"PUT session (leave)", "SessionsWriteFunction", true, ratelimit.SessionDirectory}
	rGet          = &route{"GET session (after a tap)", "SessionsWriteFunction", true, ratelimit.SessionDirectory}
	rKeyword      = &route{"GET sessions by keyword", "SessionsBatchFunction", true, ratelimit.SessionDirectory}
	rSessionBatch = &route{"POST /serviceconfigs/S/batch (sessions)", "SessionsBatchFunction", true, ratelimit.SessionDirectory}
	rActivities   = &route{"POST /handles/query", "SessionsWriteFunction", true, ratelimit.SessionDirectory}
	rConnect      = &route{"RTA $connect + subscribe", "RtaFunction", false, ratelimit.RTA}
	rDisconnect   = &route{"RTA $disconnect", "RtaFunction", false, ""}
	rNotify       = &route{"RTA notifier (per change)", "RtaNotifyFunction", false, ""}
	rQueued       = &route{"queued session write (storm)", "SessionsWriteFunction", true, ratelimit.SessionDirectory}
)

var routes = []*route{rStatsWrite, rStatsBatch, rPage, rMove, rCreate, rJoin, rChange, rLeave, rGet, rKeyword, rSessionBatch, rActivities, rConnect, rDisconnect, rNotify, rQueued}

// units are read and write units.
type units struct{ r, w float64 }

// routeTotal is one route's requests and units over the run.
type routeTotal struct {
	requests float64
	units
	invocations float64 // Lambda invocations (the stream functions batch records)
	messages    float64 // WebSocket messages (taps, frames and their answers)
}

// sim runs the population one second at a time.
type sim struct {
	cfg   config
	rng   *rand.Rand
	title *rand.Zipf
	kw    *rand.Zipf
	now   time.Time

	totals map[*route]*routeTotal
	// This second's units per partition key and per item.
	parts map[string]*units
	items map[store.Key]*units
	// The busiest second of each key that was among a second's busiest.
	hotParts map[string]units
	hotItems map[store.Key]units
	perSec   []units // the table's units each second

	taps    float64 // shoulder taps posted
	stormPK string  // the storm's session partition
	seq     int     // names of sessions, handles and connections

	// The lobby sizes' distributions, as cumulative weights: per lobby,
	// per join (a lobby of n members has n−1 joins) and per leave (n).
	perLobby, perJoin, perLeave []float64

	// Sums over the run of the keys whose load grows with the players
	// (boards, keywords), for the mean a limit is extrapolated from.
	sums     map[string]units
	itemSums map[store.Key]units
	// inStorm is set while the storm runs: its units go to the keys and
	// the second's total, not to the routes' totals (nor the bill).
	inStorm bool
	storm   routeTotal // the storm's requests and units
}

func newSim(cfg config) *sim {
	rng := rand.New(rand.NewPCG(cfg.seed, 0x5ca1e))
	s := &sim{
		cfg:      cfg,
		rng:      rng,
		title:    rand.NewZipf(rng, cfg.titleZipf, 1, uint64(cfg.titles-1)),
		kw:       rand.NewZipf(rng, cfg.keywordZipf, 1, uint64(cfg.keywords-1)),
		now:      time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC),
		totals:   map[*route]*routeTotal{},
		hotParts: map[string]units{},
		hotItems: map[store.Key]units{},
		sums:     map[string]units{},
		itemSums: map[store.Key]units{},
	}
	for n := 1; n <= cfg.lobbyMax; n++ {
		p := math.Pow(float64(n), -cfg.lobbyZipf)
		s.perLobby = appendCum(s.perLobby, p)
		s.perJoin = appendCum(s.perJoin, p*float64(n-1))
		s.perLeave = appendCum(s.perLeave, p*float64(n))
	}
	for _, r := range routes {
		s.totals[r] = &routeTotal{}
	}
	return s
}

// appendCum appends w to the cumulative weights c.
func appendCum(c []float64, w float64) []float64 {
	if len(c) > 0 {
		w += c[len(c)-1]
	}
	return append(c, w)
}

// draw returns a lobby size (1 to lobbyMax) by the cumulative weights c.
func (s *sim) draw(c []float64) int {
	x := s.rng.Float64() * c[len(c)-1]
	i, _ := slices.BinarySearch(c, x)
	return min(i, len(c)-1) + 1
}

// ownPartition reports whether pk is one player's (its statistics and
// memberships, xuid#scid) or one caller's rate counts.
func ownPartition(pk string) bool {
	k := kindOf(pk)
	return k == kindPlayer || k == kindRate
}

// grows reports whether a key's load grows with the players (a board's,
// a keyword's), rather than being one lobby's, connection's or player's.
func grows(pk string) bool {
	switch kindOf(pk) {
	case kindCounters, kindEntries, kindJournals, kindLease, kindTop, kindKeyword:
		return true
	}
	return false
}

// scid is title t's SCID (t from 0, the most played first).
func scid(t int) string { return fmt.Sprintf("00000000-0000-0000-0000-%012d", t+1) }

// titleID is title t's title id.
func titleID(t int) string { return strconv.Itoa(1_000_000 + t) }

// player returns a random online player of title t: xuids are drawn from
// the title's share of the population.
func (s *sim) player(t int) xbl.XUID {
	return xbl.XUID(2533274800000000 + uint64(t)<<32 + s.rng.Uint64N(uint64(s.cfg.players)))
}

// board is title t's leaderboard (every SCID ranks its Score).
func board(t int) leaderboards.Board {
	lanes := 0
	if t < batchedTitles {
		lanes = boardLanes
	}
	return leaderboards.Board{SCID: scid(t), Leaderboard: xbl.Leaderboard{Stat: "Score", Lanes: lanes}}
}

// The boards of the batchedTitles most popular titles have boardLanes
// lanes, and are batched (xbl.Leaderboard.Batched): at 10,000,000 players
// each takes some 150 to 4,400 ranked writes a second, up to ten times
// what a board of the default 4 lanes takes (about 300 to 400, its coarse
// counters); the other titles' boards have the default.
const (
	batchedTitles = 20
	boardLanes    = xbl.MaxLanes
)

// name returns a fresh name (sessions, handles, connections).
func (s *sim) name(prefix string) string {
	s.seq++
	return prefix + strconv.Itoa(s.seq)
}

// count charges p to route r: its units to the route, each key and each
// item; requests is how many requests it is (0 for work that is part of
// another request).
func (s *sim) count(r *route, requests float64, p plan) {
	t := s.totals[r]
	if s.inStorm {
		t = &s.storm
	}
	t.requests += requests
	for _, a := range p {
		t.r += a.read
		t.w += a.write
		pu := s.parts[a.key.PK]
		if pu == nil {
			pu = &units{}
			s.parts[a.key.PK] = pu
		}
		pu.r += a.read
		pu.w += a.write
		// Items of a player's own partitions (memberships, statistics,
		// rate counts) carry one player's load: not tracked, which keeps
		// the second's map small.
		if a.key.SK != "" && !ownPartition(a.key.PK) {
			iu := s.items[a.key]
			if iu == nil {
				iu = &units{}
				s.items[a.key] = iu
			}
			iu.r += a.read
			iu.w += a.write
		}
	}
}

// request charges one HTTP request of player x of title t to r, with the
// rate limiter's count when players are limited.
func (s *sim) request(r *route, t int, x xbl.XUID, p plan) {
	if s.cfg.limited && r.service != "" {
		p = append(p, rateCount(r.service, titleID(t), x, s.now))
	}
	s.count(r, 1, p)
}

// poisson draws the number of events of a second at mean rate λ.
func (s *sim) poisson(lambda float64) int {
	if !(lambda > 0) {
		return 0
	}
	lambda = min(lambda, 1e8) // config.check bounds the rates; this bounds a second's work
	if lambda > 50 {          // normal approximation
		n := math.Round(lambda + math.Sqrt(lambda)*s.rng.NormFloat64())
		return int(max(n, 0))
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= s.rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// perSecond is the mean number of events a second of a per-player-hour
// rate.
func (s *sim) perSecond(perPlayerHour float64) float64 {
	return float64(s.cfg.players) * perPlayerHour / 3600
}

// run simulates cfg.seconds seconds.
func (s *sim) run() {
	for sec := 0; sec < s.cfg.seconds; sec++ {
		s.parts = map[string]*units{}
		s.items = map[store.Key]*units{}
		s.second(sec)
		var all units
		for _, u := range s.parts {
			all.r += u.r
			all.w += u.w
		}
		s.perSec = append(s.perSec, all)
		s.keepHottest()
		for k, u := range s.parts {
			if grows(k) {
				v := s.sums[k]
				s.sums[k] = units{v.r + u.r, v.w + u.w}
			}
		}
		for k, u := range s.items {
			if grows(k.PK) {
				v := s.itemSums[k]
				s.itemSums[k] = units{v.r + u.r, v.w + u.w}
			}
		}
		s.now = s.now.Add(time.Second)
	}
}

// keepHottest keeps the second's busiest partitions and items (by read
// and by write units) with their busiest second so far.
func (s *sim) keepHottest() {
	const n = 12
	for _, by := range []func(units) float64{func(u units) float64 { return u.r }, func(u units) float64 { return u.w }} {
		for _, k := range topN(s.parts, n, by) {
			if u := *s.parts[k]; by(u) > by(s.hotParts[k]) {
				s.hotParts[k] = u
			}
		}
		for _, k := range topN(s.items, n, by) {
			if u := *s.items[k]; by(u) > by(s.hotItems[k]) {
				s.hotItems[k] = u
			}
		}
	}
}

// topN returns the n keys of m with the most by, most first, ties by key
// (so that a run is the same whatever the maps' order).
func topN[K comparable](m map[K]*units, n int, by func(units) float64) []K {
	type kv struct {
		k K
		s string
		v float64
	}
	cmp := func(e kv, o kv) int {
		switch {
		case e.v > o.v:
			return -1
		case e.v < o.v:
			return 1
		}
		return strings.Compare(e.s, o.s)
	}
	var top []kv
	for k, u := range m {
		v := by(*u)
		if v <= 0 || len(top) == n && v < top[n-1].v {
			continue
		}
		e := kv{k, fmt.Sprint(k), v}
		if len(top) == n && cmp(e, top[n-1]) > 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(top, e, cmp)
		top = slices.Insert(top, i, e)
		if len(top) > n {
			top = top[:n]
		}
	}
	out := make([]K, len(top))
	for i, e := range top {
		out[i] = e.k
	}
	return out
}

// second simulates one second of the population.
func (s *sim) second(sec int) {
	c := &s.cfg
	// Statistics writes, and the index's move of each on the title's board.
	var ranked []leaderboards.Move
	for range s.poisson(float64(c.players) / c.statsInterval.Seconds()) {
		t := int(s.title.Uint64())
		x := s.player(t)
		s.request(rStatsWrite, t, x, statsWrite(x, scid(t)))
		ranked = append(ranked, s.rankedMove(t, x))
		s.totals[rMove].invocations += 1 / c.batchRecords
	}
	if len(ranked) > 0 {
		s.count(rMove, float64(len(ranked)), moves(ranked, int(c.batchRecords)))
	}
	// Statistics batch reads of a title's players.
	for range s.poisson(s.perSecond(c.batchReads)) {
		t := int(s.title.Uint64())
		x := s.player(t)
		users := make([]xbl.XUID, c.batchUsers)
		for i := range users {
			users[i] = s.player(t)
		}
		s.request(rStatsBatch, t, x, statsBatch(users, []string{scid(t)}))
	}
	// Leaderboard pages.
	for range s.poisson(s.perSecond(c.pages)) {
		t := int(s.title.Uint64())
		b := board(t)
		s.request(rPage, t, s.player(t), page(&b, leaderboards.Cursor{Value: s.score()}))
	}
	s.lobbyWork()
	// Session directory reads.
	for range s.poisson(s.perSecond(c.queries)) {
		t := int(s.title.Uint64())
		s.request(rKeyword, t, s.player(t), keywordQuery(scid(t), s.keyword()))
	}
	for range s.poisson(s.perSecond(c.sessionBatch)) {
		t := int(s.title.Uint64())
		xs := make([]xbl.XUID, c.batchXUIDs)
		for i := range xs {
			xs[i] = s.player(t)
		}
		s.request(rSessionBatch, t, s.player(t), sessionBatch(scid(t), xs))
	}
	// Activity queries: a player's friends, about one in ten of them with
	// an activity, each of those in its own lobby.
	for range s.poisson(s.perSecond(c.activities)) {
		t := int(s.title.Uint64())
		owners := make([]xbl.XUID, c.owners)
		for i := range owners {
			owners[i] = s.player(t)
		}
		var found []*lobby
		for range c.owners / 10 {
			found = append(found, s.newLobby(t, s.draw(s.perLobby)))
		}
		s.request(rActivities, t, s.player(t), activityQuery(scid(t), titleID(t), owners, found))
	}
	// Real-time activity: connections cycle every connLife.
	for range s.poisson(float64(c.players) * c.connected / c.connLife.Seconds()) {
		t := int(s.title.Uint64())
		x := s.player(t)
		id := s.name("c")
		s.request(rConnect, t, x, append(rtaConnect(id), rtaSubscribe(id)...))
		s.totals[rConnect].messages += 2 // the subscribe frame and its answer
		s.totals[rConnect].invocations += 2
		s.count(rDisconnect, 1, rtaDisconnect(id))
		s.totals[rDisconnect].invocations++
	}
	if sec == 0 && c.storm > 0 {
		s.joinStorm(0, c.storm)
	}
}

// rankedMove is a ranked write's move: a share c.newPlayers enter the
// board at 0, the others raise a skewed score (most players low, a long
// tail) by 1 to 50.
func (s *sim) rankedMove(t int, x xbl.XUID) leaderboards.Move {
	m := leaderboards.Move{Board: board(t), XUID: x}
	if s.rng.Float64() < s.cfg.newPlayers {
		to := xbl.StatValue{Type: xbl.Integer, Value: "0"}
		m.To = &to
		return m
	}
	from := s.score()
	old, _ := strconv.ParseInt(from.Value, 10, 64)
	to := xbl.StatValue{Type: xbl.Integer, Value: strconv.FormatInt(old+1+s.rng.Int64N(50), 10)}
	m.From, m.To = &from, &to
	return m
}

// score draws a player's score: skewed, most players low (exponential,
// mean 2,000), a long tail.
func (s *sim) score() xbl.StatValue {
	return xbl.StatValue{Type: xbl.Integer, Value: strconv.FormatInt(int64(s.rng.ExpFloat64()*2000), 10)}
}

// keyword draws a lobby's keyword from its SCID's vocabulary.
func (s *sim) keyword() string { return "kw" + strconv.Itoa(int(s.kw.Uint64())) }

// newLobby returns a lobby of title t with n members and one keyword.
func (s *sim) newLobby(t, n int) *lobby {
	l := &lobby{scid: scid(t), template: "lobby", name: s.name("s"), start: s.now, keywords: []string{s.keyword()}}
	for range n {
		l.members = append(l.members, s.player(t))
	}
	return l
}

// meanSize is the mean lobby size of the size distribution.
func (s *sim) meanSize() float64 {
	var sum, norm float64
	for k := 1; k <= s.cfg.lobbyMax; k++ {
		w := math.Pow(float64(k), -s.cfg.lobbyZipf)
		sum += w * float64(k)
		norm += w
	}
	return sum / norm
}

// lobbyWork simulates a second of lobbies in steady state: players join
// c.lobbies lobbies an hour, so lobbies are created at players·lobbies /
// (3600·mean size) a second. Each lobby's
// life is a create (with its activity), a join by handle per other
// member, lobbyChanges property changes and a leave per member. A second
// holds lobbies·(1 + 2·(size−1) + changes + 1) writes, each drawn on a
// lobby of its own at the point of its life the write is (a join into a
// lobby of j members, a leave from one of j), so that the keys every
// lobby shares (keywords, players' partitions) get their load and a
// lobby's own keys get one write's. Every write is a change the notifier
// sees: each member connected is read and tapped, and reads the session.
func (s *sim) lobbyWork() {
	c := &s.cfg
	mean := s.meanSize()
	created := s.perSecond(c.lobbies) / mean
	kinds := []struct {
		r    *route
		rate float64
	}{
		{rCreate, created},
		{rJoin, created * (mean - 1)},
		{rChange, created * float64(c.lobbyChanges)},
		{rLeave, created * mean},
	}
	for _, k := range kinds {
		for range s.poisson(k.rate) {
			t := int(s.title.Uint64())
			switch k.r {
			case rCreate:
				l := s.newLobby(t, 1)
				p := append(sessionWrite(nil, l), postActivity(l, l.members[0], titleID(t), s.name("h"))...)
				s.request(rCreate, t, l.members[0], p)
				s.changed(t, l, 0, l.members[0])
			case rJoin: // a lobby of n members has n−1 joins: drawn by that weight
				n := s.draw(s.perJoin)
				j := 1 + s.rng.IntN(n-1) // members before the join
				prev := s.newLobby(t, j)
				next := *prev
				next.members = append(slices.Clone(prev.members), s.player(t))
				s.request(rJoin, t, next.members[j], joinByHandle(s.name("h"), prev, &next))
				s.changed(t, &next, 1, next.members[j])
			case rChange:
				l := s.newLobby(t, s.draw(s.perLobby))
				s.request(rChange, t, l.members[0], sessionWrite(l, l))
				s.changed(t, l, 0, l.members[0])
			case rLeave: // and n leaves
				n := s.draw(s.perLeave)
				j := 1 + s.rng.IntN(n) // members before the leave
				prev := s.newLobby(t, j)
				next := *prev
				next.members = prev.members[:j-1]
				s.request(rLeave, t, prev.members[j-1], sessionWrite(prev, &next))
				s.changed(t, &next, 0, prev.members[j-1])
			}
		}
	}
}

// changed is the notifier's work for a change of l by writer (fresh
// members that start naming a connection), and the taps: each connected
// member is tapped, and each but the writer reads the session
// (Multiplayer Manager GETs it on a newer change number; the writer has
// it from its write's answer).
func (s *sim) changed(t int, l *lobby, fresh int, writer xbl.XUID) {
	var conns, news []string
	var tapped []xbl.XUID
	for i, x := range l.members {
		if s.rng.Float64() >= s.cfg.connected {
			continue
		}
		id := "c" + x.String()
		conns, tapped = append(conns, id), append(tapped, x)
		if i >= len(l.members)-fresh {
			news = append(news, id)
		}
	}
	s.count(rNotify, 1, notify(conns, news))
	if !s.inStorm {
		s.totals[rNotify].invocations += 1 / s.cfg.batchRecords
		s.totals[rNotify].messages += float64(len(conns))
		s.taps += float64(len(conns))
	}
	for _, x := range tapped {
		if x != writer {
			s.request(rGet, t, x, sessionGet(l))
		}
	}
}

// joinStorm fills one lobby of title t to n members in one second (as the
// crowd bench does): its host and n−1 players joining at once. The first
// join goes straight through, the others lose the race, queue, poll about
// 6 times, and are applied by combining commits of up to 40; each commit
// is one change, tapping every member.
func (s *sim) joinStorm(t, n int) {
	s.inStorm = true
	defer func() { s.inStorm = false }()
	l := s.newLobby(t, 1)
	s.stormPK = store.SessionKey(l.scid, l.template, l.name).PK
	next := *l
	next.members = append(slices.Clone(l.members), s.player(t))
	s.request(rJoin, t, next.members[1], joinByHandle(s.name("h"), l, &next))
	s.changed(t, &next, 1, next.members[1])
	cur := &next
	waiting := n - 2 // the host and the first join are in
	for waiting > 0 {
		k := min(waiting, 40)
		var ids []string
		after := *cur
		after.members = slices.Clone(cur.members)
		for range k {
			id := s.name("q")
			ids = append(ids, id)
			x := s.player(t)
			after.members = append(after.members, x)
			p := append(plan{{call: "GetItem", key: store.HandleKey("storm"), read: 1}}, enqueue(cur, id)...)
			for range 6 {
				p = append(p, poll(cur, id)...)
			}
			s.request(rQueued, t, x, p)
		}
		s.count(rQueued, 0, combine(cur, &after, ids))
		s.changed(t, &after, k, 0)
		cur = &after
		waiting -= k
	}
}

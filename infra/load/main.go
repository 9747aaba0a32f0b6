// Command load is a bounded loopback load test of the local stack: a fixed
// rate of mixed statistics and session requests over a fixture of
// thousands of users, for a fixed time. It prints p50/p99 and status counts
// per route, and the goroutines and heap before and after, and exits 1 on
// any 5xx, transport error or leak. `make load` runs it.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/xblread/xblread/infra/ddblocal"
	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/infra/devstack"
	"github.com/xblread/xblread/infra/progress"
	"github.com/xblread/xblread/pkg/xbl"
)

const (
	scidA     = "7492baca-c1b4-440d-a391-b7ef364a8d40"
	scidB     = "c402ff50-3e76-11e2-a25f-0800200c1212"
	title     = "1297287135"
	firstXUID = 2533274792600000
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run() error {
	rate := flag.Int("rate", 40, "requests per second (DynamoDB Local on 2 cores saturates near 60)")
	duration := flag.Duration("duration", time.Minute, "how long to send (at most 5m)")
	users := flag.Int("users", 5000, "users in the fixture")
	sessions := flag.Int("sessions", 5000, "sessions in the fixture")
	maxInFlight := flag.Int("max-in-flight", 200, "requests in flight at most; more are counted as dropped")
	flag.Parse()
	if *duration > 5*time.Minute || *duration <= 0 || *rate <= 0 {
		return fmt.Errorf("-duration must be in (0, 5m] and -rate positive")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	endpoint, stopDB, err := ddblocal.StartOrEnv(ctx)
	if err != nil {
		return err
	}
	defer stopDB()
	t0 := time.Now()
	hook, loaded := progress.Hook(os.Stderr, "loading")
	stk, res, err := devstack.StartWithProgress(ctx, endpoint, dataset(*users, *sessions), io.Discard, hook)
	loaded()
	if err != nil {
		return err
	}
	defer stk.Close()
	fmt.Fprintf(os.Stderr, "loaded %d items (%d users, %d sessions) in %s\n", res.Items(), *users, *sessions, time.Since(t0).Round(time.Millisecond))
	base := stk.URL

	server, err := devkey.Mint(xbl.Caller{XUID: 1, UserHash: "load", TitleID: title, Sandbox: "RETAIL", Server: true}, time.Hour)
	if err != nil {
		return err
	}
	// One player also asks for their own statistics over and over, far past
	// the limits: with the rate limits on, they get 429s while everyone
	// else is served.
	hot, err := devkey.Mint(xbl.Caller{XUID: firstXUID, UserHash: "hot", TitleID: title, Sandbox: "RETAIL"}, time.Hour)
	if err != nil {
		return err
	}
	g := &generator{base: base, token: server, hot: hot, users: *users, rng: rand.New(rand.NewPCG(1, 2))}

	// Warm up, then take the baseline.
	for range 200 {
		g.do(ctx, g.next())
	}
	before := sample(stk)

	stats := map[string]*routeStats{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	inFlight := make(chan struct{}, *maxInFlight)
	dropped := 0
	tick := time.NewTicker(time.Second / time.Duration(*rate))
	defer tick.Stop()
	end := time.After(*duration)
	sent := 0
	// Requests answered, of the rate × duration planned (on a terminal
	// only: nothing in a pipe or CI).
	prog := progress.New(os.Stderr, "load", int64(float64(*rate)*duration.Seconds()))
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-end:
			break loop
		case <-tick.C:
		}
		req := g.next()
		select {
		case inFlight <- struct{}{}:
		default:
			dropped++
			continue
		}
		sent++
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-inFlight }()
			start := time.Now()
			status := g.do(ctx, req)
			d := time.Since(start)
			mu.Lock()
			rs := stats[req.route]
			if rs == nil {
				rs = &routeStats{status: map[int]int{}}
				stats[req.route] = rs
			}
			rs.lat = append(rs.lat, d)
			rs.status[status]++
			mu.Unlock()
			prog.Add(1)
		}()
	}
	wg.Wait()
	prog.Done()
	after := sample(stk)

	fmt.Printf("%d requests at %d/s for %s over %d users and %d sessions (%d dropped at %d in flight)\n\n",
		sent, *rate, *duration, *users, *sessions, dropped, *maxInFlight)
	fmt.Println("| route | requests | p50 ms | p99 ms | statuses |")
	fmt.Println("| --- | ---: | ---: | ---: | --- |")
	routes := make([]string, 0, len(stats))
	for r := range stats {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	bad := 0
	for _, r := range routes {
		rs := stats[r]
		var codes []string
		for code, n := range rs.status {
			codes = append(codes, fmt.Sprintf("%d×%d", code, n))
			if code >= 500 || code == 0 {
				bad += n
			}
		}
		sort.Strings(codes)
		fmt.Printf("| %s | %d | %.2f | %.2f | %s |\n", r, len(rs.lat), ms(pct(rs.lat, 50)), ms(pct(rs.lat, 99)), strings.Join(codes, " "))
	}
	fmt.Printf("\ngoroutines %d → %d; heap in use %.1f MB → %.1f MB\n", before.goroutines, after.goroutines,
		float64(before.heap)/(1<<20), float64(after.heap)/(1<<20))
	switch {
	case bad > 0:
		return fmt.Errorf("%d requests failed with a 5xx or a transport error", bad)
	case after.goroutines > before.goroutines+10:
		return fmt.Errorf("goroutines grew from %d to %d", before.goroutines, after.goroutines)
	case after.heap > before.heap*2+8<<20:
		return fmt.Errorf("heap grew from %d to %d bytes", before.heap, after.heap)
	case dropped > sent/100:
		return fmt.Errorf("%d requests dropped: the stack could not keep up with %d/s", dropped, *rate)
	}
	return nil
}

type routeStats struct {
	lat    []time.Duration
	status map[int]int
}

type snapshot struct {
	goroutines int
	heap       uint64
}

// sample measures goroutines and live heap once idle connections and warm
// instances are gone (pools, not leaks) and the garbage collected.
func sample(stk *devstack.Stack) snapshot {
	http.DefaultClient.CloseIdleConnections()
	stk.CloseIdle()
	time.Sleep(200 * time.Millisecond)
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return snapshot{runtime.NumGoroutine(), m.HeapAlloc}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}

// dataset is users with stats in two SCIDs and sessions of three members.
func dataset(users, sessions int) *xbl.Dataset {
	ds := &xbl.Dataset{Configs: []xbl.ServiceConfig{
		{SCID: scidA, TitleIDs: []string{title}, Sandboxes: []string{"RETAIL"}, Stats: map[string]xbl.Access{"Kills": xbl.Open, "KD": xbl.Open, "Rank": xbl.Open}},
		{SCID: scidB, TitleIDs: []string{title}, Sandboxes: []string{"RETAIL"}, Stats: map[string]xbl.Access{"Wins": xbl.Open}},
	}}
	for u := range users {
		x := xbl.XUID(firstXUID + u)
		ds.Profiles = append(ds.Profiles, xbl.Profile{XUID: x, Gamertag: fmt.Sprintf("Player%d", u)})
		ds.Stats = append(ds.Stats,
			xbl.UserStats{XUID: x, SCID: scidA, Stats: map[string]xbl.StatValue{
				"Kills": {Type: xbl.Integer, Value: fmt.Sprint(u * 3)}, "KD": {Type: xbl.Double, Value: "1.5"}, "Rank": {Type: xbl.String, Value: "Gold"}}},
			xbl.UserStats{XUID: x, SCID: scidB, Stats: map[string]xbl.StatValue{"Wins": {Type: xbl.Integer, Value: fmt.Sprint(u)}}})
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range sessions {
		s := xbl.Session{SCID: scidA, Template: []string{"deathmatch", "coop"}[i%2], Name: fmt.Sprintf("s-%06d", i),
			StartTime: t0.Add(time.Duration(i) * time.Minute), Version: 1, Visibility: xbl.OpenVis, Keywords: []string{fmt.Sprintf("kw%d", i%20)}}
		for m := range 3 {
			s.Members = append(s.Members, xbl.Member{XUID: xbl.XUID(firstXUID + (i*3+m*997)%users), Status: xbl.Active})
		}
		ds.Sessions = append(ds.Sessions, s)
	}
	return ds
}

type request struct {
	route, method, path, contract string
	body                          []byte
	hot                           bool // sent by the hot player
}

type generator struct {
	base, token, hot string
	users            int
	mu               sync.Mutex
	rng              *rand.Rand
}

func (g *generator) xuids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(firstXUID + g.rng.IntN(g.users))
	}
	return out
}

// next returns a request of the mix: 35 % statistics batches, 5 %
// statistics writes (XSAPI's PATCH of a player's stats), 20 % single
// statistics GETs, 30 % session batches, 5 % session writes (a seat
// reserved in one of 10 lobbies, reservations lasting 5 s), 5 % keyword
// GETs, as a server;
// and one request in three, besides, a single GET by the hot player: about
// twice the statistics burst limit.
func (g *generator) next() request {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.rng.IntN(3) == 0 {
		return request{"GET /users/{user}/scids/{scid}/stats/{names} (hot player)", "GET", fmt.Sprintf("/users/xuid(%d)/scids/%s/stats/Kills,KD", firstXUID, scidA), "1", nil, true}
	}
	switch p := g.rng.IntN(20); {
	case p == 0:
		body := fmt.Sprintf(`{"stats":{"title":{"Kills":{"value":%d},"KD":{"value":%g}}}}`, g.rng.IntN(100000), float64(g.rng.IntN(1000))/100)
		return request{"PATCH /stats/users/{xuid}/scids/{scid}", "PATCH", "/stats/users/" + g.xuids(1)[0] + "/scids/" + scidA, "4", []byte(body), false}
	case p < 8:
		us := g.xuids(20 + g.rng.IntN(81))
		body := `{"requestedusers":["` + strings.Join(us, `","`) + `"],"requestedscids":[{"scid":"` + scidA + `","requestedstats":["Kills","KD","Rank"]},{"scid":"` + scidB + `","requestedstats":["Wins"]}]}`
		return request{"POST /batch", "POST", "/batch?operation=read", "1", []byte(body), false}
	case p < 12:
		return request{"GET /users/{user}/scids/{scid}/stats/{names}", "GET", "/users/xuid(" + g.xuids(1)[0] + ")/scids/" + scidA + "/stats/Kills,KD", "1", nil, false}
	case p < 18:
		body := `{"xuids":["` + strings.Join(g.xuids(10+g.rng.IntN(91)), `","`) + `"]}`
		return request{"POST /serviceconfigs/{scid}/batch", "POST", "/serviceconfigs/" + scidA + "/batch?take=100", "107", []byte(body), false}
	case p == 18:
		body := `{"constants":{"system":{"visibility":"open","maxMembersCount":100,"reservedRemovalTimeout":5000,"version":1}},"members":{"reserve_0":{"constants":{"system":{"xuid":"` + g.xuids(1)[0] + `"}}}}}`
		return request{"PUT /serviceconfigs/{scid}/sessionTemplates/{template}/sessions/{name}", "PUT", fmt.Sprintf("/serviceconfigs/%s/sessionTemplates/load/sessions/lobby-%d", scidA, g.rng.IntN(10)), "107", []byte(body), false}
	default:
		return request{"GET /serviceconfigs/{scid}/sessions", "GET", fmt.Sprintf("/serviceconfigs/%s/sessions?keyword=kw%d&take=25", scidA, g.rng.IntN(20)), "107", nil, false}
	}
}

// do sends r and returns its status, 0 for a transport error.
func (g *generator) do(ctx context.Context, r request) int {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, g.base+r.path, body)
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", g.token)
	if r.hot {
		req.Header.Set("Authorization", g.hot)
	}
	req.Header.Set("x-xbl-contract-version", r.contract)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

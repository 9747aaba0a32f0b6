package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/infra/devstack"
	"github.com/xblread/xblread/infra/loader"
	"github.com/xblread/xblread/infra/progress"
	"github.com/xblread/xblread/infra/rie"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// The crowd: players (each a different one, rate limits off) writing to
// one open session of crowdSeats seats at the same instant, through the
// local API, as a lobby fills when a match is announced. Two kinds:
//
//   - joins: N players join (PUT of members.me, active) a lobby that holds
//     its host only, for each N of crowdJoiners;
//   - mixed: crowdMixed writers on a lobby of crowdMixedMembers members:
//     a third join, a third of the members leave (DELETE .../members/me),
//     the rest change properties (their own member's, and the session's
//     custom properties).
//
// Every writer's token is minted before; the writers wait on one gate.
// Each round reports the writers admitted (2xx), every status, p50 and
// p99 of the answers, and the session's members after.
const (
	crowdSeats        = 64
	crowdMixed        = 100
	crowdMixedMembers = 40
)

var crowdJoiners = []int{30, 45, 60}

// crowdRound is one round's answers.
type crowdRound struct {
	what     string
	writers  int
	statuses map[int]int
	took     []time.Duration
	members  int // after the round
	wall     time.Duration
	bare     int     // 503 or 408 answers without Retry-After
	errs     []error // transport errors, kept
}

func (r *crowdRound) ok() int {
	n := 0
	for s, c := range r.statuses {
		if s >= 200 && s < 300 {
			n += c
		}
	}
	return n
}

// runCrowd runs the crowd rounds against a fresh local stack on endpoint
// and prints their table; with emulated, again against a stack as `make
// run` serves it (every function under the emulator, up to its default
// instances each, on a table with its stream, whose records the stream
// pollers read).
func runCrowd(ctx context.Context, endpoint string, emulated bool) error {
	os.Setenv("RATE_LIMITS", "off") // a crowd of different players, each well under its limit
	ds := &xbl.Dataset{Configs: []xbl.ServiceConfig{{SCID: sessionSCID, TitleIDs: []string{title}, Sandboxes: []string{"RETAIL"}}}}
	stk, _, err := devstack.Start(ctx, endpoint, ds, &emfUsage{})
	if err != nil {
		return err
	}
	rounds, err := crowdRounds(ctx, "crowd", stk.URL)
	stk.Close()
	if len(rounds) > 0 {
		fmt.Printf("DynamoDB Local on this machine, through the local API (functions in process); every writer a different player, all released at once; rate limits off; a lobby of %d seats\n\n", crowdSeats)
		printCrowd(rounds)
	}
	if err != nil || !emulated {
		return err
	}
	start := time.Now()
	url, stop, err := makeRunStack(ctx, endpoint, ds)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "crowd: the stack as make run serves it built and started in %s\n", time.Since(start).Round(time.Millisecond))
	rounds, err = crowdRounds(ctx, "crowd under the emulator", url)
	stop()
	if len(rounds) > 0 {
		fmt.Printf("\nThe same, as `make run` serves it: every function its real bootstrap under the Runtime Interface Emulator (up to %d instances each), the table with its stream and the stream pollers reading it\n\n", rie.DefaultMaxInstances)
		printCrowd(rounds)
	}
	return err
}

// makeRunStack serves ds as `make run` does, on a table of its own with
// its stream: every function under the emulator, up to its default
// instances each. It returns the API's URL and what stops it all.
func makeRunStack(ctx context.Context, endpoint string, ds *xbl.Dataset) (string, func(), error) {
	client, err := store.NewClient(ctx, endpoint)
	if err != nil {
		return "", nil, err
	}
	table := fmt.Sprintf("crowd-%d", time.Now().UnixNano())
	if _, err := loader.CreateTable(ctx, client, table); err != nil {
		return "", nil, err
	}
	drop := func() {
		client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	}
	if _, err := loader.Load(ctx, store.Table{Client: client, Name: table}, ds, nil); err != nil {
		drop()
		return "", nil, err
	}
	emu, err := newEmulator()
	if err != nil {
		drop()
		return "", nil, err
	}
	url, _, stop, err := emu.serveWith(ctx, table, endpoint, 0)
	if err != nil {
		emu.close()
		drop()
		return "", nil, err
	}
	return url, func() { stop(); emu.close(); drop() }, nil
}

// crowdRounds runs the rounds against the local API at url: a warm-up
// lobby, then each crowd of joiners, then the mixed writers; the writers
// answered count on a progress line named what. Interrupted (ctx done), it
// returns the rounds complete, and ctx's error.
func crowdRounds(ctx context.Context, what, url string) ([]*crowdRound, error) {
	total := crowdJoiners[len(crowdJoiners)-1] + crowdMixed
	for _, n := range crowdJoiners {
		total += n
	}
	c := &crowd{base: url + "/serviceconfigs/" + sessionSCID + "/sessionTemplates/lobby/sessions/", prog: progress.New(os.Stderr, what, int64(total))}
	defer c.prog.Done()
	// Every player's token, minted before any round.
	c.tokens = make(map[xbl.XUID]string)
	for i := range 1000 {
		x := crowdPlayer(i)
		var err error
		if c.tokens[x], err = devkey.Mint(xbl.Caller{XUID: x, UserHash: "crowd", TitleID: title, Sandbox: "RETAIL", Gamertag: fmt.Sprintf("Crowd%d", i)}, time.Hour); err != nil {
			return nil, err
		}
	}
	var rounds []*crowdRound
	next := 0 // the next unused player
	take := func(n int) []xbl.XUID {
		var out []xbl.XUID
		for range n {
			out = append(out, crowdPlayer(next))
			next++
		}
		return out
	}
	// A warm-up lobby (connections, DynamoDB Local's JIT, warm
	// instances), not reported.
	if _, err := c.joins(ctx, "warmup", take(1)[0], take(crowdJoiners[len(crowdJoiners)-1])); err != nil {
		return nil, err
	}
	for _, n := range crowdJoiners {
		r, err := c.joins(ctx, fmt.Sprintf("joins-%d", n), take(1)[0], take(n))
		if err != nil {
			if ctx.Err() != nil {
				return rounds, ctx.Err()
			}
			return nil, err
		}
		rounds = append(rounds, r)
	}
	r, err := c.mixed(ctx, "mixed", take(1)[0], take(crowdMixedMembers-1), take(crowdMixed/3))
	if err != nil {
		if ctx.Err() != nil {
			return rounds, ctx.Err()
		}
		return nil, err
	}
	c.prog.Done()
	return append(rounds, r), nil
}

func printCrowd(rounds []*crowdRound) {
	fmt.Println("| round | writers at once | admitted (2xx) | statuses | 503/408 without Retry-After | p50 / p99 ms | all answered in ms | members after |")
	fmt.Println("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |")
	for _, r := range rounds {
		fmt.Printf("| %s | %d | %d | %s | %d | %.0f / %.0f | %.0f | %d |\n", r.what, r.writers, r.ok(), statusList(r.statuses), r.bare,
			ms(pct(r.took, 50)), ms(pct(r.took, 99)), ms(r.wall), r.members)
	}
}

func crowdPlayer(i int) xbl.XUID { return xbl.XUID(2_814_000_000_000_000 + i) }

func statusList(m map[int]int) string {
	var keys []int
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d × %d", m[k], k))
	}
	return strings.Join(parts, ", ")
}

type crowd struct {
	base   string
	tokens map[xbl.XUID]string
	prog   *progress.Reporter // counts the writers answered
}

// write is one request of player x; it returns the status.
func (c *crowd) write(ctx context.Context, x xbl.XUID, method, name, suffix, body string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+name+suffix, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", c.tokens[x])
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("x-xbl-contract-version", "107")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if (resp.StatusCode == 503 || resp.StatusCode == 408) && resp.Header.Get("Retry-After") == "" {
		return resp.StatusCode, errBare
	}
	return resp.StatusCode, nil
}

var errBare = errors.New("503 or 408 without Retry-After")

func joinBody(x xbl.XUID) string {
	return `{"members":{"me":{"constants":{"system":{"xuid":"` + x.String() + `","initialize":true}},"properties":{"system":{"active":true}}}}}`
}

// open creates the lobby name with host as its one member, one at a time
// then has members join, one at a time.
func (c *crowd) open(ctx context.Context, name string, host xbl.XUID, members []xbl.XUID) error {
	body := `{"constants":{"system":{"visibility":"open","maxMembersCount":` + fmt.Sprint(crowdSeats) + `}},"properties":{"system":{"keywords":["crowd"],"joinRestriction":"none"}},` +
		strings.TrimPrefix(joinBody(host), "{")
	if st, err := c.write(ctx, host, "PUT", name, "", body); err != nil || st != 201 {
		return fmt.Errorf("create %s: %d %v", name, st, err)
	}
	for _, x := range members {
		if st, err := c.write(ctx, x, "PUT", name, "", joinBody(x)); err != nil || st != 200 {
			return fmt.Errorf("join %s: %d %v", name, st, err)
		}
	}
	return nil
}

// members is the session's member count, as its host reads it.
func (c *crowd) members(ctx context.Context, name string, host xbl.XUID) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+name, nil)
	req.Header.Set("Authorization", c.tokens[host])
	req.Header.Set("x-xbl-contract-version", "107")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("GET %s: %d %.200s", name, resp.StatusCode, b)
	}
	return strings.Count(string(b), `"gamertag"`), nil
}

// at runs each of fns at once (after one gate) and collects the round;
// each writer answered counts on prog.
func at(ctx context.Context, what string, fns []func(context.Context) (int, error), prog *progress.Reporter) (*crowdRound, error) {
	r := &crowdRound{what: what, writers: len(fns), statuses: map[int]int{}, took: make([]time.Duration, len(fns))}
	gate := make(chan struct{})
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for i, f := range fns {
		wg.Go(func() {
			<-gate
			t0 := time.Now()
			st, err := f(ctx)
			r.took[i] = time.Since(t0)
			prog.Add(1)
			mu.Lock()
			defer mu.Unlock()
			r.statuses[st]++
			switch {
			case errors.Is(err, errBare):
				r.bare++
			case err != nil:
				r.errs = append(r.errs, err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // every writer at the gate
	t0 := time.Now()
	close(gate)
	wg.Wait()
	r.wall = time.Since(t0)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	prog.Above(func() {
		for _, err := range r.errs {
			fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
		}
	})
	return r, nil
}

// joins opens a lobby with its host and has joiners join it at once.
func (c *crowd) joins(ctx context.Context, name string, host xbl.XUID, joiners []xbl.XUID) (*crowdRound, error) {
	if err := c.open(ctx, name, host, nil); err != nil {
		return nil, err
	}
	var fns []func(context.Context) (int, error)
	for _, x := range joiners {
		fns = append(fns, func(ctx context.Context) (int, error) { return c.write(ctx, x, "PUT", name, "", joinBody(x)) })
	}
	r, err := at(ctx, fmt.Sprintf("%d joins", len(joiners)), fns, c.prog)
	if err != nil {
		return nil, err
	}
	r.members, err = c.members(ctx, name, host)
	return r, err
}

// mixed opens a lobby of host and members, then sends crowdMixed writes at
// once: the joins of joiners, leaves of as many members, and property
// changes of the rest.
func (c *crowd) mixed(ctx context.Context, name string, host xbl.XUID, members, joiners []xbl.XUID) (*crowdRound, error) {
	if err := c.open(ctx, name, host, members); err != nil {
		return nil, err
	}
	var fns []func(context.Context) (int, error)
	for _, x := range joiners {
		fns = append(fns, func(ctx context.Context) (int, error) { return c.write(ctx, x, "PUT", name, "", joinBody(x)) })
	}
	leavers, changers := members[:len(joiners)], members[len(joiners):]
	for _, x := range leavers {
		fns = append(fns, func(ctx context.Context) (int, error) { return c.write(ctx, x, "DELETE", name, "/members/me", "") })
	}
	for i := 0; len(fns) < crowdMixed; i++ {
		x := append([]xbl.XUID{host}, changers...)[i%(len(changers)+1)]
		body := fmt.Sprintf(`{"members":{"me":{"properties":{"custom":{"ready%d":true}}}}}`, i)
		if i%2 == 1 {
			body = fmt.Sprintf(`{"properties":{"custom":{"round":%d}}}`, i)
		}
		fns = append(fns, func(ctx context.Context) (int, error) { return c.write(ctx, x, "PUT", name, "", body) })
	}
	r, err := at(ctx, fmt.Sprintf("mixed: %d joins, %d leaves, %d property changes", len(joiners), len(leavers), crowdMixed-len(joiners)-len(leavers)), fns, c.prog)
	if err != nil {
		return nil, err
	}
	r.members, err = c.members(ctx, name, host)
	return r, err
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/infra/devstack"
	"github.com/xblread/xblread/infra/loader"
	"github.com/xblread/xblread/infra/progress"
	"github.com/xblread/xblread/pkg/rta"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// Real-time activity (-only rta), against a stack as `make run` serves
// it: every function its real bootstrap under the emulator, the WebSocket
// API beside the HTTP API (ws://…/connect, /@connections), the notifier
// (RtaNotifyFunction) driven from the table's stream by the stream
// pollers. Each player connects, subscribes to the multiplayer resource
// and puts its connection id in its member (changeTypes ["everything"]),
// as Multiplayer Manager does. Three parts:
//
//   - latency: rtaRounds players join, one at a time, a lobby whose host
//     is subscribed; each round is timed from the join's answer to the
//     host's tap of its change number;
//   - fan-out: a session of rtaFanout members, each subscribed; one
//     property change by the host must tap all of them within rtaWithin;
//   - burst: rtaBurstSessions sessions of 2 subscribed members;
//     rtaBurstChanges property changes each, sent by rtaBurstWriters
//     writers at once: every connection must hear every change number of
//     its session (at least once), in order.
//
// The connections stay open until the end (a closed one changes its
// sessions: presence), when they all close at once: each member should
// then be inactive in its session, as its $disconnect makes it.
const (
	rtaRounds        = 20
	rtaFanout        = 100
	rtaWithin        = 5 * time.Second
	rtaBurstSessions = 100
	rtaBurstChanges  = 10
	rtaBurstWriters  = 20
	// rtaDialers connect (and subscribe) this many players at once.
	rtaDialers = 8
	// rtaDrain bounds the wait for the taps of a part's set-up (joins)
	// and for the burst's taps after its last write.
	rtaDrain = 60 * time.Second
)

func rtaPlayer(i int) xbl.XUID { return xbl.XUID(2_815_000_000_000_000 + i) }

// runRTA builds the stack, runs the three parts and the end, and prints
// their tables and a verdict.
func runRTA(ctx context.Context, endpoint string) error {
	os.Setenv("RATE_LIMITS", "off") // many different players, each well under its limit
	ds := &xbl.Dataset{Configs: []xbl.ServiceConfig{{SCID: sessionSCID, TitleIDs: []string{title}, Sandboxes: []string{"RETAIL"}}}}
	start := time.Now()
	url, log, stop, err := rtaRunStack(ctx, endpoint, ds)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(os.Stderr, "rta: the stack as make run serves it (with its WebSocket API) built and started in %s\n", time.Since(start).Round(time.Millisecond))
	b := &rtaBench{base: url, stamp: time.Now().Unix(), tokens: map[xbl.XUID]string{},
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second},
		prog: progress.New(os.Stderr, "rta", rtaRequests)}
	defer b.prog.Done()
	defer b.http.CloseIdleConnections()
	defer b.closeAll()
	fail := func(what string, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("rta %s: %w\nthe functions' log:\n%s", what, err, log.tail())
	}
	if err := b.warmup(ctx); err != nil {
		return fail("warm-up", err)
	}
	lat, err := b.latency(ctx)
	if err != nil {
		return fail("latency", err)
	}
	b.prog.Above(func() {
		fmt.Fprintf(os.Stderr, "rta: latency done (%s)\n", time.Since(start).Round(time.Second))
	})
	b.prog.Above(func() {
		fmt.Printf("Real-time activity, as `make run` serves it: every function its real bootstrap under the Runtime Interface Emulator, the WebSocket API beside the local API, the notifier (RtaNotifyFunction) driven from DynamoDB Local's stream (idle shards read every 100 ms); each player connected and subscribed (changeTypes [\"everything\"], its connection id in its member); rate limits off\n\n")
		fmt.Println("| tap latency: a player joins, the host hears | rounds | tapped | lost | p50 ms | p99 ms | max ms |")
		fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
		fmt.Printf("| one join at a time, from the PUT's answer to the host's tap | %d | %d | %d | %.0f | %.0f | %.0f |\n\n",
			rtaRounds, len(lat.took), lat.lost, ms(pctOr0(lat.took, 50)), ms(pctOr0(lat.took, 99)), ms(slices.Max(append([]time.Duration{0}, lat.took...))))
	})
	fan, err := b.fanout(ctx)
	if err != nil {
		return fail("fan-out", err)
	}
	b.prog.Above(func() {
		fmt.Fprintf(os.Stderr, "rta: fan-out done (%s)\n", time.Since(start).Round(time.Second))
	})
	b.prog.Above(func() {
		fmt.Println("| fan-out: one property change by the host | members subscribed | tapped within 5 s | first / p50 / last ms | the joins' taps drained in s |")
		fmt.Println("| --- | ---: | ---: | ---: | ---: |")
		fmt.Printf("| a %d-member session | %d | %d | %.0f / %.0f / %.0f | %.1f |\n\n", rtaFanout, fan.members, len(fan.took),
			ms(pctOr0(fan.took, 0)), ms(pctOr0(fan.took, 50)), ms(pctOr0(fan.took, 100)), fan.drained.Seconds())
	})
	burst, err := b.burst(ctx)
	if err != nil {
		return fail("burst", err)
	}
	b.prog.Done()
	fmt.Fprintf(os.Stderr, "rta: burst done (%s)\n", time.Since(start).Round(time.Second))
	fmt.Println("| burst | changes (2xx) | writes took s | taps per connection min / median / max | change numbers expected | lost | duplicates | out of order (of which repeats) | all arrived after s | tap after the answer p50 / p99 / max ms |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	arrived := "–"
	if burst.lost == 0 {
		arrived = fmt.Sprintf("%.1f", burst.all.Seconds())
	}
	fmt.Printf("| %d sessions × 2 members, %d changes each, %d writers | %d of %d%s | %.1f | %d / %d / %d | %d | %d | %d | %d (%d) | %s | %.0f / %.0f / %.0f |\n\n",
		rtaBurstSessions, rtaBurstChanges, rtaBurstWriters, burst.ok, rtaBurstSessions*rtaBurstChanges, burst.statusNote(),
		burst.writes.Seconds(), burst.perConn[0], burst.perConn[len(burst.perConn)/2], burst.perConn[len(burst.perConn)-1],
		burst.expected, burst.lost, burst.dups, burst.outOfOrder, burst.outOfOrderRepeats, arrived,
		ms(pctOr0(burst.took, 50)), ms(pctOr0(burst.took, 99)), ms(pctOr0(burst.took, 100)))
	failed, retries := log.failed.Load(), log.retries.Load()
	// The end: every connection closes at once, and each $disconnect
	// makes its member inactive in its session (presence).
	conns := b.closeAll()
	for t := time.Now(); log.disconnects.Load() < int64(conns) && time.Since(t) < rtaDrain && ctx.Err() == nil; {
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "rta: the connections closed (%s)\n", time.Since(start).Round(time.Second))
	fanActive, err := b.active(ctx, fan.host, fan.name)
	if err != nil {
		return fail("the fan-out session after the end", err)
	}
	burstActive := 0
	for s, name := range burst.names {
		n, err := b.active(ctx, burst.hosts[s], name)
		if err != nil {
			return fail("a burst session after the end", err)
		}
		burstActive += n
	}
	log.mu.Lock()
	for _, f := range log.failures {
		fmt.Fprintf(os.Stderr, "rta: the functions' log: %s\n", f)
	}
	log.mu.Unlock()

	fmt.Println("| the end: every connection closes at once | connections | $disconnects answered | of them failed (warned) | members still active after: the fan-out session | the burst's sessions | the notifier's failed batches meanwhile |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	fmt.Printf("| each member should become inactive | %d | %d | %d | %d of %d | %d of %d | %d |\n\n", conns, log.disconnects.Load(), log.disconnectsFailed.Load(),
		fanActive, fan.members, burstActive, 2*rtaBurstSessions, log.failed.Load()-failed)
	notes := []string{fmt.Sprintf("the notifier's failed batches %d, the stream poller's retries %d", failed, retries)}
	if lat.early > 0 {
		notes = append(notes, fmt.Sprintf("%d latency rounds tapped before the join's answer arrived", lat.early))
	}
	if n := b.unexpected.Load(); n > 0 {
		notes = append(notes, fmt.Sprintf("%d unexpected messages on the connections", n))
	}
	var problems []string
	if lat.lost > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d joins never tapped the host", lat.lost, rtaRounds))
	}
	if len(lat.took) > 0 && pct(lat.took, 99) > time.Second {
		problems = append(problems, fmt.Sprintf("tap latency p99 %.0f ms (over 1 s)", ms(pct(lat.took, 99))))
	}
	if len(fan.took) < fan.members {
		problems = append(problems, fmt.Sprintf("%d of %d members not tapped within 5 s", fan.members-len(fan.took), fan.members))
	}
	if burst.ok < rtaBurstSessions*rtaBurstChanges {
		problems = append(problems, fmt.Sprintf("%d burst writes refused", rtaBurstSessions*rtaBurstChanges-burst.ok))
	}
	if burst.lost > 0 {
		problems = append(problems, fmt.Sprintf("%d taps lost in the burst", burst.lost))
	}
	if len(burst.took) > 0 && pct(burst.took, 99) > time.Second {
		problems = append(problems, fmt.Sprintf("in the burst, taps p99 %.0f ms after their change's answer (over 1 s)", ms(pct(burst.took, 99))))
	}
	if burst.outOfOrder > 0 {
		problems = append(problems, fmt.Sprintf("%d taps out of order in the burst", burst.outOfOrder))
	}
	if fanActive+burstActive > 0 || log.disconnectsFailed.Load() > 0 {
		problems = append(problems, fmt.Sprintf("at the end, %d members stayed active after their connection closed (%d of %d in the %d-member session; %d $disconnects failed)",
			fanActive+burstActive, fanActive, fan.members, rtaFanout, log.disconnectsFailed.Load()))
	}
	if len(problems) == 0 {
		fmt.Printf("verdict: ok: no tap lost or out of order, tap latency p99 %.0f ms, all %d members of one session tapped in %.0f ms (%s)\n",
			ms(pct(lat.took, 99)), fan.members, ms(pct(fan.took, 100)), strings.Join(notes, "; "))
	} else {
		fmt.Printf("verdict: PROBLEM: %s (%s)\n", strings.Join(problems, "; "), strings.Join(notes, "; "))
	}
	return nil
}

func pctOr0(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	if p == 0 {
		return slices.Min(d)
	}
	return pct(d, p)
}

// rtaLog is the stack's log (funcLog: a tail kept for failures) that
// also counts the notifier's failed batches, the stream poller's retries
// of its batches, and the $disconnects (and those that failed), keeping
// the first of the failures' lines.
type rtaLog struct {
	*funcLog
	failed, retries atomic.Int64
	// disconnects are the $disconnect invocations; disconnectsFailed
	// those whose function warned (a member not made inactive).
	disconnects, disconnectsFailed atomic.Int64
	mu                             sync.Mutex
	failures                       []string // the first lines of each kind, for stderr
}

func (l *rtaLog) Write(p []byte) (int, error) {
	for line := range bytes.Lines(p) { // an emulator's Write may hold several
		failed := bytes.Contains(line, []byte("taps failed"))
		retry := bytes.Contains(line, []byte("[RtaNotifyFunction stream]"))
		if failed {
			l.failed.Add(1)
		}
		if retry {
			l.retries.Add(1)
		}
		if bytes.Contains(line, []byte("routeKey=$disconnect")) {
			l.disconnects.Add(1)
		}
		disconnectFailed := bytes.Contains(line, []byte(`"message":"disconnect"`)) && bytes.Contains(line, []byte(`"level":"WARN"`))
		if disconnectFailed {
			l.disconnectsFailed.Add(1)
		}
		if failed || retry || disconnectFailed && l.disconnectsFailed.Load() <= 3 ||
			bytes.Contains(line, []byte("[RtaNotifyFunction]")) && bytes.Contains(line, []byte(`"level":"ERROR"`)) {
			l.mu.Lock()
			if len(l.failures) < 20 {
				l.failures = append(l.failures, strings.TrimSpace(string(line)))
			}
			l.mu.Unlock()
		}
	}
	return l.funcLog.Write(p)
}

// rtaRunStack serves ds as `make run` does (see makeRunStack), with the
// WebSocket API beside the local API: the functions post their taps to
// it (devstack.RTAEndpointEnv is set before they are built, as xblctl
// serve does). It returns the API's URL, its log and what stops it all.
func rtaRunStack(ctx context.Context, endpoint string, ds *xbl.Dataset) (string, *rtaLog, func(), error) {
	client, err := store.NewClient(ctx, endpoint)
	if err != nil {
		return "", nil, nil, err
	}
	table := fmt.Sprintf("rta-%d", time.Now().UnixNano())
	if _, err := loader.CreateTable(ctx, client, table); err != nil { // with its stream
		return "", nil, nil, err
	}
	var undo []func()
	cleanup := func() {
		for _, f := range slices.Backward(undo) {
			f()
		}
	}
	undo = append(undo, func() {
		client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	if _, err := loader.Load(ctx, store.Table{Client: client, Name: table}, ds, nil); err != nil {
		cleanup()
		return "", nil, nil, err
	}
	emu, err := newEmulator()
	if err != nil {
		cleanup()
		return "", nil, nil, err
	}
	undo = append(undo, emu.close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cleanup()
		return "", nil, nil, err
	}
	url := "http://" + l.Addr().String()
	prev, had := os.LookupEnv(devstack.RTAEndpointEnv)
	os.Setenv(devstack.RTAEndpointEnv, url) // copied into the functions' environment
	undo = append(undo, func() {
		if had {
			os.Setenv(devstack.RTAEndpointEnv, prev)
		} else {
			os.Unsetenv(devstack.RTAEndpointEnv)
		}
	})
	vars := emu.vars
	log := &rtaLog{funcLog: &funcLog{emf: &emfUsage{}}}
	srv, err := devstack.NewEmulatedServer(ctx, filepath.Join(emu.root, "template.yaml"), table, endpoint, devstack.Emulated{
		Root: emu.root, BinDir: emu.dir, EnvVars: vars,
		Fixed: map[string]string{"RATE_LIMITS": "off"},
		Log:   log,
	})
	if err != nil {
		l.Close()
		cleanup()
		return "", nil, nil, err
	}
	hs := devstack.NewHTTPServer(devstack.WithWebSocket(srv, log))
	go hs.Serve(l)
	undo = append(undo, func() { hs.Close(); srv.Close() })
	return url, log, cleanup, nil
}

// rtaBench is the parts' client: players' tokens, their sessions' writes
// and their connections.
type rtaBench struct {
	base       string
	stamp      int64 // makes the sessions' names unique
	http       *http.Client
	mu         sync.Mutex
	tokens     map[xbl.XUID]string
	next       int                // the next unused player
	all        []*rtaClient       // every connection, closed at the end
	unexpected atomic.Int64       // messages a client did not expect
	prog       *progress.Reporter // counts the writes and the connections
}

// rtaRequests are the session writes and connections of the parts, for
// the progress line: the warm-up's 2 and 2; the latency's 1 and 1 +
// rtaRounds; the fan-out's rtaFanout and rtaFanout + 1; the burst's 2 per
// session and 2 + rtaBurstChanges per session.
const rtaRequests = 4 + 2 + rtaRounds + 2*rtaFanout + 1 + rtaBurstSessions*(4+rtaBurstChanges)

// players returns n players not used before.
func (b *rtaBench) players(n int) ([]xbl.XUID, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []xbl.XUID
	for range n {
		x := rtaPlayer(b.next)
		tok, err := devkey.Mint(xbl.Caller{XUID: x, UserHash: "rta", TitleID: title, Sandbox: "RETAIL", Gamertag: fmt.Sprintf("Rta%d", b.next)}, time.Hour)
		if err != nil {
			return nil, err
		}
		b.tokens[x] = tok
		b.next++
		out = append(out, x)
	}
	return out, nil
}

func (b *rtaBench) token(x xbl.XUID) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tokens[x]
}

func (b *rtaBench) name(what string) string { return fmt.Sprintf("rta-%d-%s", b.stamp, what) }

// rtaResource is session name as its taps name it.
func rtaResource(name string) string { return sessionSCID + "~lobby~" + name }

// put sends one session write of player x and returns its status and the
// session's change number after it.
func (b *rtaBench) put(ctx context.Context, x xbl.XUID, name, body string) (int, int64, error) {
	req, err := http.NewRequestWithContext(ctx, "PUT", b.base+"/serviceconfigs/"+sessionSCID+"/sessionTemplates/lobby/sessions/"+name, strings.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", b.token(x))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("x-xbl-contract-version", "107")
	resp, err := b.http.Do(req)
	b.prog.Add(1)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 && resp.StatusCode != 201 {
		return resp.StatusCode, 0, fmt.Errorf("PUT %s: %d %.300s", name, resp.StatusCode, out)
	}
	var doc struct{ ChangeNumber int64 }
	if err := json.Unmarshal(out, &doc); err != nil || doc.ChangeNumber == 0 {
		return resp.StatusCode, 0, fmt.Errorf("PUT %s: no change number in %.300s", name, out)
	}
	return resp.StatusCode, doc.ChangeNumber, nil
}

// rtaMember is the member "me" of player c as Multiplayer Manager writes
// it: active, its connection id, subscribed to every change.
func rtaMember(c *rtaClient) string {
	return `{"constants":{"system":{"xuid":"` + c.x.String() + `","initialize":true}},"properties":{"system":{"active":true,"connection":"` + c.conn +
		`","subscription":{"id":"` + fmt.Sprintf("5a1f0000-0000-4000-8000-%012x", uint64(c.x)&0xffffffffffff) + `","changeTypes":["everything"]}}}}`
}

// create creates session name with its host (connected) as its one member.
func (b *rtaBench) create(ctx context.Context, name string, host *rtaClient) (int64, error) {
	body := `{"constants":{"system":{"visibility":"open","maxMembersCount":100}},"properties":{"system":{"joinRestriction":"none"}},"members":{"me":` + rtaMember(host) + `}}`
	st, cn, err := b.put(ctx, host.x, name, body)
	if err == nil && st != 201 {
		err = fmt.Errorf("create %s: %d", name, st)
	}
	return cn, err
}

// join has c (connected) join session name.
func (b *rtaBench) join(ctx context.Context, name string, c *rtaClient) (int64, error) {
	_, cn, err := b.put(ctx, c.x, name, `{"members":{"me":`+rtaMember(c)+`}}`)
	return cn, err
}

// active is the number of active members of session name, as player x
// reads it.
func (b *rtaBench) active(ctx context.Context, x xbl.XUID, name string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", b.base+"/serviceconfigs/"+sessionSCID+"/sessionTemplates/lobby/sessions/"+name, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", b.token(x))
	req.Header.Set("x-xbl-contract-version", "107")
	resp, err := b.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 404 {
		return 0, nil // gone: nobody is active
	}
	var doc struct {
		Members map[string]struct {
			Properties struct{ System struct{ Active bool } }
		}
	}
	if resp.StatusCode != 200 || json.Unmarshal(out, &doc) != nil {
		return 0, fmt.Errorf("GET %s: %d %.300s", name, resp.StatusCode, out)
	}
	n := 0
	for _, m := range doc.Members {
		if m.Properties.System.Active {
			n++
		}
	}
	return n, nil
}

// rtaTap is one shoulder tap a connection heard.
type rtaTap struct {
	resource string
	cn       int64
	at       time.Time
}

// rtaClient is one player's connection, subscribed to the multiplayer
// resource; it keeps every tap it hears.
type rtaClient struct {
	x    xbl.XUID
	ws   *websocket.Conn
	conn string // its connection id
	b    *rtaBench

	mu      sync.Mutex
	taps    []rtaTap
	wake    chan struct{} // closed (and replaced) at each tap
	answers chan []json.RawMessage
}

// connect connects and subscribes each of xs, rtaDialers at once.
func (b *rtaBench) connect(ctx context.Context, xs []xbl.XUID) ([]*rtaClient, error) {
	out := make([]*rtaClient, len(xs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(rtaDialers)
	for i, x := range xs {
		g.Go(func() error {
			c, err := b.dial(gctx, x)
			out[i] = c
			b.prog.Add(1)
			return err
		})
	}
	err := g.Wait()
	b.mu.Lock()
	for _, c := range out {
		if c != nil {
			b.all = append(b.all, c)
		}
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (b *rtaBench) dial(ctx context.Context, x xbl.XUID) (*rtaClient, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(b.base, "http")+"/connect", &websocket.DialOptions{
		Subprotocols: []string{rta.Subprotocol},
		HTTPHeader:   http.Header{"Authorization": {b.token(x)}},
	})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("connect %s: %d: %w", x, resp.StatusCode, err)
		}
		return nil, fmt.Errorf("connect %s: %w", x, err)
	}
	c := &rtaClient{x: x, ws: ws, b: b, wake: make(chan struct{}), answers: make(chan []json.RawMessage, 4)}
	go c.read()
	if err := ws.Write(dctx, websocket.MessageText, []byte(`[1,1,"`+rta.ConnectionsResource+`"]`)); err != nil {
		c.close()
		return nil, fmt.Errorf("subscribe %s: %w", x, err)
	}
	select {
	case a := <-c.answers:
		var data struct{ ConnectionId string }
		if len(a) != 5 || string(a[2]) != "0" || json.Unmarshal(a[4], &data) != nil || data.ConnectionId == "" {
			c.close()
			return nil, fmt.Errorf("subscribe %s: answered %s", x, a)
		}
		c.conn = data.ConnectionId
		return c, nil
	case <-dctx.Done():
		c.close()
		return nil, fmt.Errorf("subscribe %s: no answer", x)
	}
}

// read keeps the taps c hears, each with the time it arrived, until the
// connection ends.
func (c *rtaClient) read() {
	for {
		_, msg, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		now := time.Now()
		var a []json.RawMessage
		if json.Unmarshal(msg, &a) != nil || len(a) < 3 {
			c.b.unexpected.Add(1)
			continue
		}
		switch string(a[0]) {
		case "3":
			var t rta.Taps
			if json.Unmarshal(a[2], &t) != nil || len(t.ShoulderTaps) == 0 {
				c.b.unexpected.Add(1)
				continue
			}
			c.mu.Lock()
			for _, st := range t.ShoulderTaps {
				c.taps = append(c.taps, rtaTap{st.Resource, st.ChangeNumber, now})
			}
			close(c.wake)
			c.wake = make(chan struct{})
			c.mu.Unlock()
		case "1", "2":
			select {
			case c.answers <- a:
			default:
				c.b.unexpected.Add(1)
			}
		default:
			c.b.unexpected.Add(1)
		}
	}
}

// heard returns when c first heard of resource at change number cn.
func (c *rtaClient) heard(resource string, cn int64) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.taps {
		if t.resource == resource && t.cn == cn {
			return t.at, true
		}
	}
	return time.Time{}, false
}

// await waits until c heard of resource at change number cn, or until
// deadline or ctx is done; it returns when the tap arrived.
func (c *rtaClient) await(ctx context.Context, resource string, cn int64, deadline time.Time) (time.Time, bool) {
	for {
		c.mu.Lock()
		wake := c.wake
		c.mu.Unlock()
		if at, ok := c.heard(resource, cn); ok {
			return at, true
		}
		d := time.Until(deadline)
		if d <= 0 {
			return time.Time{}, false
		}
		t := time.NewTimer(d)
		select {
		case <-wake:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return time.Time{}, false
		}
		t.Stop()
	}
}

// tapsOf returns the taps c heard of resource, in the order
// they arrived.
func (c *rtaClient) tapsOf(resource string) []rtaTap {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []rtaTap
	for _, t := range c.taps {
		if t.resource == resource {
			out = append(out, t)
		}
	}
	return out
}

func (c *rtaClient) close() { c.ws.Close(websocket.StatusNormalClosure, "") }

// closeAll closes every connection, at once, and returns how many.
func (b *rtaBench) closeAll() int {
	b.mu.Lock()
	cs := b.all
	b.all = nil
	b.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(c.close)
	}
	wg.Wait()
	return len(cs)
}

// warmup starts an instance of each function the parts use (and warms
// DynamoDB Local): a lobby created by a connected host, one join, and
// both taps heard. Not reported.
func (b *rtaBench) warmup(ctx context.Context) error {
	xs, err := b.players(2)
	if err != nil {
		return err
	}
	cs, err := b.connect(ctx, xs)
	if err != nil {
		return err
	}
	name := b.name("warmup")
	if _, err := b.create(ctx, name, cs[0]); err != nil {
		return err
	}
	cn, err := b.join(ctx, name, cs[1])
	if err != nil {
		return err
	}
	for _, c := range cs {
		if _, ok := c.await(ctx, rtaResource(name), cn, time.Now().Add(rtaDrain)); !ok {
			return fmt.Errorf("no tap of change %d of the warm-up lobby within %s", cn, rtaDrain)
		}
	}
	return nil
}

// rtaLatency is the latency part's result.
type rtaLatency struct {
	took  []time.Duration // of each round tapped
	lost  int
	early int // taps that arrived before the PUT's answer (counted as 0)
}

// latency: players join, one at a time, a lobby whose host is
// subscribed; each round is timed from the join's answer to the host's
// tap of its change number.
func (b *rtaBench) latency(ctx context.Context) (*rtaLatency, error) {
	hosts, err := b.players(1)
	if err != nil {
		return nil, err
	}
	cs, err := b.connect(ctx, hosts)
	if err != nil {
		return nil, err
	}
	host := cs[0]
	joiners, err := b.players(rtaRounds)
	if err != nil {
		return nil, err
	}
	name := b.name("latency")
	res := rtaResource(name)
	cn, err := b.create(ctx, name, host)
	if err != nil {
		return nil, err
	}
	if _, ok := host.await(ctx, res, cn, time.Now().Add(rtaDrain)); !ok {
		return nil, fmt.Errorf("the host heard nothing of its create within %s", rtaDrain)
	}
	r := &rtaLatency{}
	for _, x := range joiners {
		_, cn, err := b.put(ctx, x, name, joinBody(x))
		if err != nil {
			return nil, err
		}
		answered := time.Now()
		at, ok := host.await(ctx, res, cn, answered.Add(rtaWithin))
		if !ok {
			r.lost++
			continue
		}
		if at.Before(answered) {
			r.early++
		}
		r.took = append(r.took, max(0, at.Sub(answered)))
	}
	return r, nil
}

// rtaFan is the fan-out part's result.
type rtaFan struct {
	name    string
	host    xbl.XUID
	members int
	took    []time.Duration // of each member tapped within rtaWithin
	drained time.Duration   // the joins' taps, from the last join's answer
}

// fanout: a session of rtaFanout subscribed members; one property change
// by the host must tap them all.
func (b *rtaBench) fanout(ctx context.Context) (*rtaFan, error) {
	xs, err := b.players(rtaFanout)
	if err != nil {
		return nil, err
	}
	cs, err := b.connect(ctx, xs)
	if err != nil {
		return nil, err
	}
	name := b.name("fanout")
	res := rtaResource(name)
	if _, err := b.create(ctx, name, cs[0]); err != nil {
		return nil, err
	}
	var cn int64
	for _, c := range cs[1:] {
		if cn, err = b.join(ctx, name, c); err != nil {
			return nil, err
		}
	}
	// Every member hears the last join (each join taps every member
	// subscribed before it, and itself): wait for them all before the
	// change that is measured.
	joined := time.Now()
	for _, c := range cs {
		if _, ok := c.await(ctx, res, cn, joined.Add(rtaDrain)); !ok {
			return nil, fmt.Errorf("member %s heard nothing of the last join (change %d) within %s", c.x, cn, rtaDrain)
		}
	}
	r := &rtaFan{name: name, host: cs[0].x, members: len(cs), drained: time.Since(joined)}
	_, cn, err = b.put(ctx, cs[0].x, name, `{"properties":{"custom":{"started":true}}}`)
	if err != nil {
		return nil, err
	}
	answered := time.Now()
	for _, c := range cs {
		if at, ok := c.await(ctx, res, cn, answered.Add(rtaWithin)); ok {
			r.took = append(r.took, max(0, at.Sub(answered)))
		}
	}
	return r, nil
}

// rtaBurst is the burst part's result.
type rtaBurst struct {
	names             []string    // the sessions
	hosts             []xbl.XUID  // their creators
	ok                int         // writes answered 200
	statuses          map[int]int // the others' statuses (0: a transport error)
	writes            time.Duration
	all               time.Duration   // from the first write until the last tap expected arrived
	perConn           []int           // taps of the burst heard by each connection, sorted
	expected          int             // change numbers to hear, summed over the connections
	lost              int             // of those, never heard
	dups              int             // taps of a change number heard before
	outOfOrder        int             // taps of a lower change number after a higher one
	outOfOrderRepeats int             // of those, repeats of one heard before
	took              []time.Duration // of each tap expected, from its change's first answer
}

func (r *rtaBurst) statusNote() string {
	if len(r.statuses) == 0 {
		return ""
	}
	return "; others: " + statusList(r.statuses)
}

// burst: rtaBurstSessions sessions of 2 subscribed members, then
// rtaBurstChanges property changes in each (the members in turn), sent
// by rtaBurstWriters writers at once, round by round over the sessions.
func (b *rtaBench) burst(ctx context.Context) (*rtaBurst, error) {
	xs, err := b.players(2 * rtaBurstSessions)
	if err != nil {
		return nil, err
	}
	cs, err := b.connect(ctx, xs)
	if err != nil {
		return nil, err
	}
	names := make([]string, rtaBurstSessions)
	joinCN := make([]int64, rtaBurstSessions)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(rtaBurstWriters)
	for s := range rtaBurstSessions {
		names[s] = b.name(fmt.Sprintf("burst-%d", s))
		g.Go(func() error {
			if _, err := b.create(gctx, names[s], cs[2*s]); err != nil {
				return err
			}
			var err error
			joinCN[s], err = b.join(gctx, names[s], cs[2*s+1])
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	joined := time.Now()
	for i, c := range cs {
		s := i / 2
		if _, ok := c.await(ctx, rtaResource(names[s]), joinCN[s], joined.Add(rtaDrain)); !ok {
			return nil, fmt.Errorf("a member of %s heard nothing of its join (change %d) within %s", names[s], joinCN[s], rtaDrain)
		}
	}

	// The burst: round k changes every session once, by its members in
	// turn.
	type job struct{ s, k int }
	jobs := make(chan job)
	r := &rtaBurst{statuses: map[int]int{}, names: names}
	for s := range names {
		r.hosts = append(r.hosts, cs[2*s].x)
	}
	last := make([]int64, rtaBurstSessions) // the highest change number answered
	type change struct {
		s  int
		cn int64
	}
	answered := map[change]time.Time{} // each change's first answer
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range rtaBurstWriters {
		wg.Go(func() {
			for j := range jobs {
				c := cs[2*j.s+j.k%2]
				st, cn, err := b.put(ctx, c.x, names[j.s], fmt.Sprintf(`{"properties":{"custom":{"round":%d,"by%d":%d}}}`, j.k, j.k%2, j.k))
				now := time.Now()
				mu.Lock()
				if err == nil && st == 200 {
					r.ok++
					last[j.s] = max(last[j.s], cn)
					if _, ok := answered[change{j.s, cn}]; !ok {
						answered[change{j.s, cn}] = now
					}
				} else if ctx.Err() == nil {
					r.statuses[st]++
					b.prog.Above(func() { fmt.Fprintf(os.Stderr, "rta burst: %v\n", err) })
				}
				mu.Unlock()
			}
		})
	}
send:
	for k := range rtaBurstChanges {
		for s := range rtaBurstSessions {
			select {
			case jobs <- job{s, k}:
			case <-ctx.Done():
				break send
			}
		}
	}
	close(jobs)
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	r.writes = time.Since(start)

	// Each connection must hear every change number of its session after
	// its join's, up to the last one answered (each is one commit, so one
	// stream record).
	deadline := time.Now().Add(rtaDrain)
	var lastAt time.Time
	for i, c := range cs {
		s := i / 2
		for cn := joinCN[s] + 1; cn <= last[s]; cn++ {
			r.expected++
			if at, ok := c.await(ctx, rtaResource(names[s]), cn, deadline); ok {
				lastAt = later(lastAt, at)
				if a, ok := answered[change{s, cn}]; ok {
					r.took = append(r.took, max(0, at.Sub(a)))
				}
			} else {
				r.lost++
			}
		}
	}
	r.all = lastAt.Sub(start)
	time.Sleep(500 * time.Millisecond) // late repeats, if any
	for i, c := range cs {
		s := i / 2
		seen := map[int64]bool{}
		var high int64
		n := 0
		for _, t := range c.tapsOf(rtaResource(names[s])) {
			if t.cn <= joinCN[s] {
				continue // the set-up's
			}
			n++
			repeat := seen[t.cn]
			if repeat {
				r.dups++
			}
			if t.cn < high {
				r.outOfOrder++
				if repeat {
					r.outOfOrderRepeats++
				}
			}
			seen[t.cn] = true
			high = max(high, t.cn)
		}
		r.perConn = append(r.perConn, n)
	}
	slices.Sort(r.perConn)
	return r, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

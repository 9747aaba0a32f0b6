// Command bench measures the service against DynamoDB Local: the same
// request through the local API (HTTP, the payload 2.0 event, the Lambda
// handler in this process), for the read cases also through the local API
// of `make run` (each function's real bootstrap under the Runtime
// Interface Emulator), and as the fewest raw DynamoDB calls its answer
// needs (for the statistics write, the one conditional UpdateItem it
// needs), interleaved, with p50 and p99 of each, the overhead, the ratio,
// and the items and read units each reads; then the start-up (init) of
// each function's bootstrap under the emulator against a hello-world
// aws-lambda-go bootstrap. `make bench` runs it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/xblread/xblread/infra/ddblocal"
	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/infra/devstack"
	"github.com/xblread/xblread/infra/loader"
	"github.com/xblread/xblread/infra/progress"
	"github.com/xblread/xblread/infra/rie"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// options are the benchmark's settings.
type options struct {
	n, warmup    int
	population   int // users in the table
	users        int // users per stats request
	scids        int
	statsPerSCID int
	sessions     []int // session counts of the session cases
	lanes        int   // the leaderboards' lanes
}

// caseNames are the cases -only names, in the order a run measures them.
var caseNames = []string{"stats", "write", "sessions", "heavy", "join", "crowd", "rta", "leaderboards", "init"}

// parseOnly returns the cases of -only's comma-separated list (every case
// when it is empty).
func parseOnly(s string) (map[string]bool, error) {
	want := map[string]bool{}
	for _, name := range strings.Split(s, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		if !slices.Contains(caseNames, name) {
			return nil, fmt.Errorf("-only: no case %q; the cases are %s", name, strings.Join(caseNames, ", "))
		}
		want[name] = true
	}
	if len(want) == 0 {
		for _, name := range caseNames {
			want[name] = true
		}
	}
	return want, nil
}

// initAlone reports whether want is the start-ups alone, which run
// without DynamoDB Local.
func initAlone(want map[string]bool) bool { return len(want) == 1 && want["init"] }

// errInterrupted ends a run stopped by Ctrl-C (or SIGTERM), after what was
// measured is printed.
var errInterrupted = errors.New("interrupted: the rows printed are what was measured")

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		if errors.Is(err, errInterrupted) {
			os.Exit(130)
		}
		os.Exit(1)
	}
}

func run() error {
	var o options
	flag.IntVar(&o.n, "n", 400, "measured requests per case")
	flag.IntVar(&o.warmup, "warmup", 200, "unmeasured requests per case first (DynamoDB Local's JIT warms up)")
	flag.IntVar(&o.population, "population", 2000, "users in the table")
	flag.IntVar(&o.users, "users", 100, "users per statistics request")
	flag.IntVar(&o.scids, "scids", 2, "SCIDs per statistics request")
	flag.IntVar(&o.statsPerSCID, "stats", 2, "stats per SCID")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the measured part here")
	sessions := flag.String("sessions", "2000,100000", "comma-separated session counts, one session case each (empty for none)")
	only := flag.String("only", "", "run only these cases, comma-separated: "+strings.Join(caseNames, ", ")+
		" (heavy: the heavy session batch alone, which sessions includes; rta: real-time activity, under the emulator; init: start-ups alone, without DynamoDB Local)")
	boards := flag.String("boards", "10000,100000", "comma-separated leaderboard sizes (players), one leaderboard case each")
	flag.IntVar(&o.lanes, "lanes", xbl.MaxLanes, "the leaderboards' lanes (1 to 64; more than 4 makes a board batched, with a top item)")
	inits := flag.Int("init-runs", 30, "start-ups measured per bootstrap")
	emulated := flag.Bool("emulator", true, "measure the read cases also under the Runtime Interface Emulator (make run's functions)")
	samplesPath := flag.String("samples", "", "write each table case's per-request latencies here, as JSON (infra/plots draws make results' charts from them)")
	flag.Parse()
	want, err := parseOnly(*only)
	if err != nil {
		return err
	}
	for _, s := range strings.Split(*sessions, ",") {
		if s = strings.TrimSpace(s); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 10 {
				return fmt.Errorf("-sessions: %q is not a session count of at least 10", s)
			}
			o.sessions = append(o.sessions, n)
		}
	}
	var boardSizes []int
	for _, s := range strings.Split(*boards, ",") {
		if s = strings.TrimSpace(s); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 100 {
				return fmt.Errorf("-boards: %q is not a board size of at least 100", s)
			}
			boardSizes = append(boardSizes, n)
		}
	}
	// rta runs under the emulator: in a whole run only with -emulator, on
	// its own whenever asked for.
	if *only == "" && !*emulated {
		delete(want, "rta")
	}
	printEstimate(os.Stderr, want, o, boardSizes, *inits, *emulated)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { // the first Ctrl-C stops the run; a second one kills it
		<-ctx.Done()
		stop()
	}()
	err = runCases(ctx, want, o, boardSizes, *inits, *emulated, *cpuProfile, newSamplesFile(*samplesPath, o))
	if ctx.Err() != nil {
		return errInterrupted
	}
	return err
}

// runCases runs the cases of want, each printing its rows as it measures
// them.
func runCases(ctx context.Context, want map[string]bool, o options, boardSizes []int, inits int, emulated bool, cpuProfile string, sf *samplesFile) error {
	if initAlone(want) { // start-ups alone: no DynamoDB Local (no JVM starting beside them)
		return measureInit(ctx, inits)
	}
	endpoint, stopDB, err := ddblocal.StartOrEnv(ctx)
	if err != nil {
		return err
	}
	defer stopDB()
	var cases []namedCase
	if want["stats"] {
		cases = append(cases, namedCase{"stats", &statsCase{o: o}})
	}
	if want["write"] {
		cases = append(cases, namedCase{"write", &writeCase{o: o}}, namedCase{"write floor", &floorCase{writeCase: writeCase{o: o}}})
	}
	if want["sessions"] {
		for _, n := range o.sessions {
			cases = append(cases, namedCase{fmt.Sprintf("sessions %d", n), newSessionsCase(o, n)})
		}
	}
	if want["sessions"] || want["heavy"] {
		cases = append(cases, namedCase{"heavy", newHeavyCase(o)})
	}
	if want["join"] {
		cases = append(cases, namedCase{"join", &joinCase{o: o}})
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if len(cases) > 0 {
		if err := runTable(ctx, endpoint, o, cases, emulated, sf); err != nil {
			return err
		}
	}
	sep := len(cases) > 0 // a blank line between the parts
	part := func(f func() error) error {
		if sep {
			fmt.Println()
		}
		sep = true
		return f()
	}
	if want["crowd"] { // writers at once on one session: its own table
		if err := part(func() error { return runCrowd(ctx, endpoint, emulated) }); err != nil {
			return err
		}
	}
	if want["rta"] { // real-time activity under the emulator: its own table, with its stream
		if err := part(func() error { return runRTA(ctx, endpoint) }); err != nil {
			return err
		}
	}
	if want["leaderboards"] {
		if err := part(func() error { return runLeaderboards(ctx, endpoint, boardSizes, o.lanes, 100) }); err != nil {
			return err
		}
	}
	if want["init"] {
		if err := part(func() error { return measureInit(ctx, inits) }); err != nil {
			return err
		}
	}
	return nil
}

// namedCase is a table case and its short name, for the progress line.
type namedCase struct {
	key string
	benchCase
}

// tableRow is one case's measurements.
type tableRow struct {
	c        benchCase
	note     string // after the name: why the row is partial
	api, raw []time.Duration
	emu      []time.Duration // under the emulator; nil when not measured
	apiUse   usage           // per request
	rawUse   usage
	emuUse   usage
	inside   time.Duration // p50 in the function
	emuIn    time.Duration // p50 in the function, under the emulator
	emuInv   time.Duration // p50 of the invocation as the emulator times it
}

// runTable measures the cases through the local API and raw, printing the
// table's header first and each case's rows as soon as it is measured, and
// the notes on the rows at the end (also when interrupted).
func runTable(ctx context.Context, endpoint string, o options, cases []namedCase, emulated bool, sf *samplesFile) error {
	client, err := store.NewClient(ctx, endpoint)
	if err != nil {
		return err
	}
	var emu *emulator
	if emulated && slices.ContainsFunc(cases, func(c namedCase) bool { _, ok := c.benchCase.(emulatedCase); return ok }) {
		if emu, err = newEmulator(); err != nil {
			return err
		}
		defer emu.close()
	}
	fmt.Printf("DynamoDB Local on this machine; %d measured requests per case after %d warm-up, API, raw (and the API under the emulator) interleaved; raw: the fewest DynamoDB calls the answer needs (configurations cached, as on a warm instance); under the emulator: the local API of make run, each function's real bootstrap under the Runtime Interface Emulator, warm\n\n", o.n, o.warmup)
	fmt.Println("| case | through the local API p50 / p99 ms | of which in the function p50 ms | raw DynamoDB calls p50 / p99 ms | overhead p50 ms | ratio p50 / p99 | items, read units per request: API / raw |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	var rows []tableRow
	defer func() { printNotes(rows) }()
	for _, nc := range cases {
		r, err := measureCase(ctx, endpoint, client, o, nc, emu)
		if r != nil {
			printRow(*r)
			rows = append(rows, *r)
			if err := sf.add(*r); err != nil {
				return err
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// measureCase loads a case's data, measures it and returns its row; when
// interrupted, the row of the rounds measured, if any, with the error.
func measureCase(ctx context.Context, endpoint string, client *dynamodb.Client, o options, nc namedCase, emu *emulator) (*tableRow, error) {
	c := nc.benchCase
	start := time.Now()
	logs := &emfUsage{}
	stk, res, err := startStack(ctx, endpoint, c.dataset(), logs, nc.key)
	if err != nil {
		return nil, err
	}
	defer stk.Close()
	if cl, ok := c.(interface{ close() }); ok {
		defer cl.close()
	}
	fmt.Fprintf(os.Stderr, "%s: loaded %d items in %s\n", c.name(), res.Items(), time.Since(start).Round(time.Millisecond))
	if err := c.prepare(client, stk.Table, stk.URL); err != nil {
		return nil, err
	}
	rawUse := &usage{}
	paths := []func(context.Context, int) error{c.viaAPI, func(ctx context.Context, i int) error {
		u, err := c.raw(ctx, i)
		rawUse.add(u)
		return err
	}}
	var emuLog *funcLog
	if ec, ok := c.(emulatedCase); ok && emu != nil {
		start := time.Now()
		var url string
		var stopEmu func()
		url, emuLog, stopEmu, err = emu.serve(ctx, stk.Table, endpoint)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name(), err)
		}
		defer stopEmu()
		via := ec.at(url)
		// The cold start, and a check that the answers are right,
		// before anything is measured.
		if err := via(ctx, 0); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%s under the emulator: %w\nthe functions' log:\n%s", c.name(), err, emuLog.tail())
		}
		fmt.Fprintf(os.Stderr, "%s: the emulated stack built and started in %s\n", c.name(), time.Since(start).Round(time.Millisecond))
		paths = append(paths, func(ctx context.Context, i int) error {
			if err := via(ctx, i); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("under the emulator: %w\nthe functions' log:\n%s", err, emuLog.tail())
			}
			return nil
		})
	}
	logs.reset()
	if emuLog != nil {
		emuLog.emf.reset()
	}
	prog := progress.New(os.Stderr, nc.key, int64((o.warmup+o.n)*len(paths)))
	times, rounds, err := measureN(ctx, o, prog, paths...)
	prog.Done()
	if err != nil && ctx.Err() == nil {
		return nil, fmt.Errorf("%s: %w", c.name(), err)
	}
	measured := rounds - o.warmup
	if measured <= 0 {
		return nil, err
	}
	r := &tableRow{c: c, api: times[0], raw: times[1], apiUse: logs.per(float64(rounds)), rawUse: rawUse.per(float64(rounds)), inside: logs.inFunction(measured)}
	if measured < o.n {
		r.note = fmt.Sprintf(" (interrupted: %d of %d measured)", measured, o.n)
	}
	if emuLog != nil && len(times) > 2 {
		r.emu, r.emuUse, r.emuIn, r.emuInv = times[2], emuLog.emf.per(float64(rounds)), emuLog.emf.inFunction(measured), emuLog.invocation(measured)
	}
	return r, err
}

// startStack is devstack.Start, left behind when ctx is done: the loader
// builds every item before it writes one (a million for 100,000 sessions,
// half a minute on 2 cores) without looking at ctx, and an interrupted run
// should not wait for it. A stack it starts after all is closed.
func startStack(ctx context.Context, endpoint string, ds *xbl.Dataset, logs io.Writer, what string) (*devstack.Stack, loader.Result, error) {
	type started struct {
		stk *devstack.Stack
		res loader.Result
		err error
	}
	done := make(chan started, 1)
	go func() {
		hook, end := progress.Hook(os.Stderr, what+": loading")
		stk, res, err := devstack.StartWithProgress(ctx, endpoint, ds, logs, hook)
		end()
		done <- started{stk, res, err}
	}()
	select {
	case s := <-done:
		return s.stk, s.res, s.err
	case <-ctx.Done():
		go func() {
			if s := <-done; s.stk != nil {
				s.stk.Close()
			}
		}()
		return nil, loader.Result{}, ctx.Err()
	}
}

// printRow prints a case's rows of the table: through the local API and,
// when measured, under the emulator.
func printRow(r tableRow) {
	line := func(name string, api []time.Duration, inside time.Duration, raw []time.Duration, apiUse, rawUse usage) {
		a50, a99, r50, r99 := pct(api, 50), pct(api, 99), pct(raw, 50), pct(raw, 99)
		in := "–"
		if inside > 0 {
			in = fmt.Sprintf("%.2f", ms(inside))
		}
		fmt.Printf("| %s | %.2f / %.2f | %s | %.2f / %.2f | %.2f | %.3f / %.3f | %.1f, %.1f / %.1f, %.1f |\n", name,
			ms(a50), ms(a99), in, ms(r50), ms(r99), ms(a50-r50), float64(a50)/float64(r50), float64(a99)/float64(r99),
			apiUse.items, apiUse.rcu, rawUse.items, rawUse.rcu)
	}
	line(r.c.name()+"; raw: "+r.c.rawName()+r.note, r.api, r.inside, r.raw, r.apiUse, r.rawUse)
	if r.emu != nil {
		line(r.c.name()+", under the emulator (make run)"+r.note, r.emu, r.emuIn, r.raw, r.emuUse, r.rawUse)
	}
}

// printNotes prints, after the table, each row's log bytes per request and
// its emulator's comparison.
func printNotes(rows []tableRow) {
	for _, r := range rows {
		fmt.Printf("\n%s: %.0f bytes of log per request (the function's request and dynamodb lines, its EMF record, the access log line)", r.c.name(), r.apiUse.logBytes)
	}
	for _, r := range rows {
		if r.emu != nil {
			e50, a50 := pct(r.emu, 50), pct(r.api, 50)
			fmt.Printf("\n%s: under the emulator p50 %.3f× the raw calls, %.3f× in process (%+.2f ms); the invocation as the emulator's REPORT times it p50 %.2f ms", r.c.name(),
				float64(e50)/float64(pct(r.raw, 50)), float64(e50)/float64(a50), ms(e50-a50), ms(r.emuInv))
		}
	}
	fmt.Println()
}

// usage is items and read units, and bytes of log, summed or per request.
type usage struct{ items, rcu, logBytes float64 }

func (u *usage) add(o usage) { u.items += o.items; u.rcu += o.rcu; u.logBytes += o.logBytes }

func (u *usage) per(n float64) usage { return usage{u.items / n, u.rcu / n, u.logBytes / n} }

// emfUsage reads the local API's log: it sums ItemsRead and ConsumedRCU of
// the EMF records, one per request. Write only keeps the bytes (it runs
// inside the measured requests); they are parsed when the sums are asked
// for.
type emfUsage struct {
	mu       sync.Mutex
	buf      []byte
	logBytes float64
	sum      usage
	latency  []time.Duration // of each request, inside the function
}

func (e *emfUsage) Write(p []byte) (int, error) {
	e.mu.Lock()
	e.buf = append(e.buf, p...)
	e.logBytes += float64(len(p))
	e.mu.Unlock()
	return len(p), nil
}

// parse adds the complete lines kept so far to the sums; e.mu is held.
func (e *emfUsage) parse() {
	for {
		i := bytes.IndexByte(e.buf, '\n')
		if i < 0 {
			return
		}
		line := e.buf[:i]
		e.buf = e.buf[i+1:]
		if !bytes.Contains(line, []byte(`"_aws"`)) {
			continue
		}
		var rec struct {
			Items   float64 `json:"ItemsRead"`
			RCU     float64 `json:"ConsumedRCU"`
			Latency float64 `json:"Latency"`
		}
		if json.Unmarshal(line, &rec) == nil {
			e.sum.add(usage{items: rec.Items, rcu: rec.RCU})
			e.latency = append(e.latency, time.Duration(rec.Latency*float64(time.Millisecond)))
		}
	}
}

func (e *emfUsage) reset() {
	e.mu.Lock()
	e.parse()
	e.sum, e.latency, e.logBytes = usage{}, nil, 0
	e.mu.Unlock()
}

// inFunction is the p50 of the time requests spent inside the function, of
// the last n.
func (e *emfUsage) inFunction(n int) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.parse()
	if len(e.latency) == 0 { // a function without EMF records (the floor)
		return 0
	}
	return pct(e.latency[max(0, len(e.latency)-n):], 50)
}

func (e *emfUsage) per(n float64) usage {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.parse()
	u := e.sum
	u.logBytes = e.logBytes
	return u.per(n)
}

// benchCase is one request kind: its data, the request through the local
// API and the raw DynamoDB calls it needs.
type benchCase interface {
	name() string
	rawName() string
	dataset() *xbl.Dataset
	prepare(client *dynamodb.Client, table, base string) error
	viaAPI(ctx context.Context, i int) error
	raw(ctx context.Context, i int) (usage, error)
}

// call sends one request through the local API as the game would (JSON
// body, contract version, token) and checks its answer: status want and,
// when not empty, a body holding has.
func call(ctx context.Context, method, url, token, contract, body string, want int, has string) error {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", token)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("x-xbl-contract-version", contract)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want || !bytes.Contains(out, []byte(has)) {
		return fmt.Errorf("%s %s: %d %.300s", method, url, resp.StatusCode, out)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}

// measureN runs fs in turn, each round i their i-th request (the order
// rotated every round, so that none always runs first, on the warmer
// connection), the first o.warmup rounds unmeasured, and returns each
// one's durations and the rounds run; each request done counts on prog.
// Interrupted (ctx done), it returns what it measured so far, with the
// rounds complete, and ctx's error.
func measureN(ctx context.Context, o options, prog *progress.Reporter, fs ...func(context.Context, int) error) ([][]time.Duration, int, error) {
	out := make([][]time.Duration, len(fs))
	for i := range o.warmup + o.n {
		if err := ctx.Err(); err != nil {
			return out, i, err
		}
		for k := range fs {
			j := (i + k) % len(fs)
			t0 := time.Now()
			if err := fs[j](ctx, i); err != nil {
				if ctx.Err() != nil { // the round is incomplete: drop it
					for j := range out {
						out[j] = out[j][:max(0, min(len(out[j]), i-o.warmup))]
					}
					return out, i, ctx.Err()
				}
				return nil, i, err
			}
			if d := time.Since(t0); i >= o.warmup {
				out[j] = append(out[j], d)
			}
			prog.Add(1)
		}
	}
	return out, o.warmup + o.n, nil
}

// emulatedCase is a case whose request is measured under the emulator too
// (a read: the same request, read twice, answers the same).
type emulatedCase interface {
	// at returns the case's request through the local API at base.
	at(base string) func(context.Context, int) error
}

// emulator makes, for a case's table, the local API of make run: each
// function's real bootstrap under the Runtime Interface Emulator, built
// once into a directory of its own.
type emulator struct {
	root, dir string
	vars      rie.EnvFile
}

// emulatorInstances bounds each function's emulators: the requests come
// one at a time, so one warm instance serves them all.
const emulatorInstances = 2

func newEmulator() (*emulator, error) {
	root, err := ddblocal.RepoRoot(".")
	if err != nil {
		return nil, err
	}
	vars, err := rie.ReadEnvFile(filepath.Join(root, devstack.EnvVarsFile))
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "xblread-bench-rie")
	if err != nil {
		return nil, err
	}
	return &emulator{root: root, dir: dir, vars: vars}, nil
}

func (e *emulator) close() { os.RemoveAll(e.dir) }

// serve starts the emulated local API on table at endpoint, and returns
// its URL, the functions' log (its EMF records parsed, its tail kept for a
// failure) and what stops it.
func (e *emulator) serve(ctx context.Context, table, endpoint string) (string, *funcLog, func(), error) {
	return e.serveWith(ctx, table, endpoint, emulatorInstances)
}

// serveWith is serve with up to instances emulators per function (0:
// make run's default).
func (e *emulator) serveWith(ctx context.Context, table, endpoint string, instances int) (string, *funcLog, func(), error) {
	log := &funcLog{emf: &emfUsage{}}
	srv, err := devstack.NewEmulatedServer(ctx, filepath.Join(e.root, "template.yaml"), table, endpoint, devstack.Emulated{
		Root: e.root, BinDir: e.dir, EnvVars: e.vars,
		Fixed: map[string]string{"RATE_LIMITS": "off"},
		Log:   log, MaxInstances: instances,
	})
	if err != nil {
		return "", nil, nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		return "", nil, nil, err
	}
	hs := devstack.NewHTTPServer(srv)
	go hs.Serve(l)
	return "http://" + l.Addr().String(), log, func() { hs.Close(); srv.Close() }, nil
}

// funcLog is the emulated functions' log: their EMF records go to emf
// (each line's [FunctionName] prefix dropped), the REPORT lines' Duration
// (the invocation as the emulator times it: from the event's delivery to
// the bootstrap's response) to durations, and the last tailBytes are kept
// to explain a failure.
type funcLog struct {
	emf       *emfUsage
	mu        sync.Mutex
	last      []byte
	durations []time.Duration
}

// reportDuration reads a REPORT line's Duration.
var reportDuration = regexp.MustCompile(`^REPORT RequestId: .*?\tDuration: ([0-9.]+) ms`)

// invocation is the p50 of the last n REPORT lines' Duration.
func (f *funcLog) invocation(n int) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.durations) == 0 {
		return 0
	}
	return pct(f.durations[max(0, len(f.durations)-n):], 50)
}

const tailBytes = 16 << 10

func (f *funcLog) Write(p []byte) (int, error) {
	f.mu.Lock()
	f.last = append(f.last, p...)
	if len(f.last) > 2*tailBytes {
		f.last = append(f.last[:0], f.last[len(f.last)-tailBytes:]...)
	}
	f.mu.Unlock()
	for line := range bytes.Lines(p) {
		if line[0] == '[' {
			if i := bytes.Index(line, []byte("] ")); i > 0 {
				line = line[i+2:]
			}
		}
		if m := reportDuration.FindSubmatch(line); m != nil {
			if v, err := strconv.ParseFloat(string(m[1]), 64); err == nil {
				f.mu.Lock()
				f.durations = append(f.durations, time.Duration(v*float64(time.Millisecond)))
				f.mu.Unlock()
			}
		}
		f.emf.Write(line)
	}
	return len(p), nil
}

func (f *funcLog) tail() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return string(f.last[max(0, len(f.last)-tailBytes):])
}

func scidOf(i int) string { return fmt.Sprintf("7492baca-c1b4-440d-a391-%012x", i) }

func statName(i int) string { return fmt.Sprintf("Stat%d", i) }

const title = "1297287135"

func (c *statsCase) dataset() *xbl.Dataset {
	o := c.o
	ds := &xbl.Dataset{}
	for s := range o.scids {
		cfg := xbl.ServiceConfig{SCID: scidOf(s), TitleIDs: []string{title}, Sandboxes: []string{"RETAIL"}, Stats: map[string]xbl.Access{}}
		for k := range o.statsPerSCID + 3 {
			cfg.Stats[statName(k)] = xbl.Open
		}
		ds.Configs = append(ds.Configs, cfg)
	}
	for u := range o.population {
		x := xbl.XUID(2533274792693551 + u)
		ds.Profiles = append(ds.Profiles, xbl.Profile{XUID: x, Gamertag: fmt.Sprintf("Player%d", u)})
		for s := range o.scids {
			us := xbl.UserStats{XUID: x, SCID: scidOf(s), Stats: map[string]xbl.StatValue{}}
			// Each user has more stats than a request asks for.
			for k := range o.statsPerSCID + 3 {
				us.Stats[statName(k)] = xbl.StatValue{Type: xbl.Integer, Value: fmt.Sprint(u*7 + k)}
			}
			ds.Stats = append(ds.Stats, us)
		}
	}
	return ds
}

// statsCase is the statistics batch: the API request and its raw calls.
type statsCase struct {
	o      options
	client *dynamodb.Client
	table  string
	base   string
	token  string
	names  []string
}

func (c *statsCase) name() string {
	return fmt.Sprintf("POST /batch, %d users × %d SCIDs × %d stats", c.o.users, c.o.scids, c.o.statsPerSCID)
}

func (c *statsCase) rawName() string { return fmt.Sprintf("%d BatchGetItem, concurrent", c.calls()) }

func (c *statsCase) prepare(client *dynamodb.Client, table, base string) error {
	c.client, c.table, c.base = client, table, base
	var err error
	c.token, err = benchToken(false)
	for k := range c.o.statsPerSCID {
		c.names = append(c.names, statName(k))
	}
	return err
}

// benchToken mints a development token for the benchmark's caller.
func benchToken(server bool) (string, error) {
	return devkey.Mint(xbl.Caller{XUID: 1, UserHash: "bench", TitleID: title, Sandbox: "RETAIL", Server: server}, time.Hour)
}

// users returns the users of round i: a window that moves through the table.
func (c *statsCase) users(i int) []xbl.XUID {
	out := make([]xbl.XUID, c.o.users)
	for j := range out {
		out[j] = xbl.XUID(2533274792693551 + (i*c.o.users+j)%c.o.population)
	}
	return out
}

func (c *statsCase) calls() int { return (c.o.users*c.o.scids + 99) / 100 }

func (c *statsCase) at(base string) func(context.Context, int) error {
	d := *c
	d.base = base
	return d.viaAPI
}

func (c *statsCase) viaAPI(ctx context.Context, i int) error {
	var us, sc []string
	for _, x := range c.users(i) {
		us = append(us, `"`+x.String()+`"`)
	}
	for s := range c.o.scids {
		sc = append(sc, `{"scid":"`+scidOf(s)+`","requestedstats":["`+strings.Join(c.names, `","`)+`"]}`)
	}
	body := `{"requestedusers":[` + strings.Join(us, ",") + `],"requestedscids":[` + strings.Join(sc, ",") + `]}`
	return call(ctx, "POST", c.base+"/batch?operation=read", c.token, "1", body, 200, `"statname":"Stat0"`)
}

// raw sends the fewest calls the answer needs: BatchGetItem of the U·S
// statistics items only, projected to the requested stats and the
// gamertag, chunks of 100, concurrently.
func (c *statsCase) raw(ctx context.Context, i int) (usage, error) {
	var keys []store.Key
	for _, x := range c.users(i) {
		for s := range c.o.scids {
			keys = append(keys, store.StatsKey(x, scidOf(s)))
		}
	}
	names := map[string]string{"#pk": store.AttrPK, "#s": store.AttrStats}
	proj := []string{"#pk", "gamertag"}
	for k, n := range c.names {
		ph := fmt.Sprintf("#%d", k)
		names[ph] = xbl.StatKey(n) // stored under their StatKey
		proj = append(proj, "#s."+ph)
	}
	g, ctx := errgroup.WithContext(ctx)
	got := make([]usage, (len(keys)+99)/100)
	for start := 0; start < len(keys); start += 100 {
		chunk := keys[start:min(start+100, len(keys))]
		g.Go(func() error {
			ka := types.KeysAndAttributes{ProjectionExpression: aws.String(strings.Join(proj, ",")), ExpressionAttributeNames: names}
			for _, k := range chunk {
				ka.Keys = append(ka.Keys, map[string]types.AttributeValue{
					store.AttrPK: &types.AttributeValueMemberS{Value: k.PK},
					store.AttrSK: &types.AttributeValueMemberS{Value: k.SK},
				})
			}
			out, err := c.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems:           map[string]types.KeysAndAttributes{c.table: ka},
				ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
			})
			if err != nil {
				return err
			}
			if len(out.UnprocessedKeys) > 0 {
				return fmt.Errorf("unprocessed keys in the raw case")
			}
			got[start/100].items = float64(len(out.Responses[c.table]))
			for _, cc := range out.ConsumedCapacity {
				got[start/100].rcu += aws.ToFloat64(cc.CapacityUnits)
			}
			return nil
		})
	}
	err := g.Wait()
	var u usage
	for _, g := range got {
		u.add(g)
	}
	return u, err
}

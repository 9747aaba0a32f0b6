// Command scale simulates the service at internet scale: a synthetic
// population (every rate a flag) drives the service's own key functions
// and write plans (plans.go), one simulated second at a time, and the
// simulator reports, per second, the read and write units of each route,
// the hottest partition keys and items against DynamoDB's per-partition
// limits, Lambda concurrency per function, API Gateway's requests and
// WebSocket traffic, the account quotas each comes near, and the monthly
// bill by line. `make scale` runs it at 100,000, 1,000,000 and
// 10,000,000 concurrent players; docs/SCALE.md reads its tables.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

func main() {
	// The simulation allocates short-lived maps a second at a time: fewer
	// collections, and the items of players' own partitions left
	// untracked (sim.count), took 10,000,000 players from 44 s to 23 s.
	debug.SetGCPercent(400)
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(2)
	}
}

func run(args []string, out io.Writer) error {
	c := defaults()
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	players := fs.String("players", "100000,1000000,10000000", "concurrent players, comma-separated: one simulation each")
	fs.IntVar(&c.titles, "titles", c.titles, "titles (one SCID each)")
	fs.Float64Var(&c.titleZipf, "title-zipf", c.titleZipf, "Zipf exponent of the players per title (> 1)")
	fs.DurationVar(&c.statsInterval, "stats-interval", c.statsInterval, "time between a player's statistics writes (XSAPI flushes at most every 5 minutes)")
	fs.Float64Var(&c.newPlayers, "new-players", c.newPlayers, "share of ranked writes that enter a leaderboard (the rest raise a score by 1 to 50)")
	fs.Float64Var(&c.batchReads, "batch-reads", c.batchReads, "statistics batch reads per player and hour")
	fs.IntVar(&c.batchUsers, "batch-users", c.batchUsers, "users per statistics batch read (one SCID)")
	fs.Float64Var(&c.pages, "pages", c.pages, "leaderboard pages per player and hour")
	fs.Float64Var(&c.lobbies, "lobbies", c.lobbies, "lobbies a player joins an hour (those it creates included)")
	fs.IntVar(&c.lobbyMax, "lobby-max", c.lobbyMax, "the largest lobby (members)")
	fs.Float64Var(&c.lobbyZipf, "lobby-zipf", c.lobbyZipf, "Zipf exponent of lobby sizes 1..lobby-max (> 1)")
	fs.IntVar(&c.lobbyChanges, "lobby-changes", c.lobbyChanges, "property changes per lobby, besides joins and leaves")
	fs.IntVar(&c.keywords, "keywords", c.keywords, "keywords in each SCID's vocabulary")
	fs.Float64Var(&c.keywordZipf, "keyword-zipf", c.keywordZipf, "Zipf exponent of a lobby's keyword over the vocabulary (> 1)")
	fs.Float64Var(&c.queries, "queries", c.queries, "session queries by keyword per player and hour")
	fs.Float64Var(&c.sessionBatch, "session-batch", c.sessionBatch, "session batch queries per player and hour")
	fs.IntVar(&c.batchXUIDs, "batch-xuids", c.batchXUIDs, "xuids per session batch query")
	fs.Float64Var(&c.activities, "activities", c.activities, "activity queries (POST /handles/query) per player and hour")
	fs.IntVar(&c.owners, "owners", c.owners, "owners per activity query")
	fs.Float64Var(&c.batchRecords, "batch-records", c.batchRecords, "stream records per invocation of the index and the notifier (1 to their BatchSize, 100)")
	fs.Float64Var(&c.connected, "connected", c.connected, "share of players connected to real-time activity")
	fs.DurationVar(&c.connLife, "conn-life", c.connLife, "a real-time activity connection's life (XSAPI reconnects after about 90 minutes)")
	fs.IntVar(&c.storm, "storm", c.storm, "fill one lobby of the most played title to this many members within one second (its host and the others joining at once), at most -lobby-max (0: none)")
	fs.BoolVar(&c.limited, "limited", c.limited, "players' requests are counted by the rate limiter (one write each)")
	fs.IntVar(&c.seconds, "seconds", c.seconds, "seconds simulated per size")
	fs.Uint64Var(&c.seed, "seed", c.seed, "seed of the random source")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if err := c.check(); err != nil {
		return err
	}
	var sizes []int
	for _, f := range strings.Split(*players, ",") {
		n, err := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(f), "_", ""))
		if err != nil || n < 1000 || n > 100_000_000 {
			return fmt.Errorf("-players: %q is not a number of players from 1,000 to 100,000,000", f)
		}
		sizes = append(sizes, n)
	}
	for i, n := range sizes {
		c.players = n
		start := time.Now()
		s := newSim(c)
		s.run()
		if i > 0 {
			fmt.Fprintln(out)
		}
		report(out, s)
		fmt.Fprintf(os.Stderr, "scale: %d players, %d seconds simulated in %s\n", n, c.seconds, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// check refuses a configuration the simulator cannot draw from.
func (c *config) check() error {
	var errs []error
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	for _, f := range []struct {
		name string
		v    float64
	}{{"-title-zipf", c.titleZipf}, {"-lobby-zipf", c.lobbyZipf}, {"-keyword-zipf", c.keywordZipf}} {
		if !finite(f.v) || !(f.v > 1) || f.v > 10 {
			errs = append(errs, fmt.Errorf("%s must be above 1 and at most 10 (it is %g)", f.name, f.v))
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"-batch-reads", c.batchReads}, {"-pages", c.pages}, {"-lobbies", c.lobbies}, {"-queries", c.queries},
		{"-session-batch", c.sessionBatch}, {"-activities", c.activities}} {
		if !finite(f.v) || !(f.v >= 0) || f.v > 3600 {
			errs = append(errs, fmt.Errorf("%s must be from 0 to 3600 an hour (it is %g)", f.name, f.v))
		}
	}
	if !finite(c.newPlayers) || !(c.newPlayers >= 0 && c.newPlayers <= 1) {
		errs = append(errs, fmt.Errorf("-new-players must be a share from 0 to 1 (it is %g)", c.newPlayers))
	}
	if !finite(c.connected) || !(c.connected >= 0 && c.connected <= 1) {
		errs = append(errs, fmt.Errorf("-connected must be a share from 0 to 1 (it is %g)", c.connected))
	}
	if !finite(c.batchRecords) || !(c.batchRecords >= 1 && c.batchRecords <= 100) {
		errs = append(errs, fmt.Errorf("-batch-records must be from 1 to 100 (it is %g)", c.batchRecords))
	}
	if c.titles < 2 || c.titles > 1_000_000 || c.keywords < 2 || c.keywords > 100_000 {
		errs = append(errs, errors.New("-titles must be from 2 to 1,000,000 and -keywords from 2 to 100,000"))
	}
	if c.lobbyMax < 2 || c.lobbyMax > 100 || c.storm < 0 || c.storm == 1 || c.storm > c.lobbyMax {
		errs = append(errs, fmt.Errorf("-lobby-max must be from 2 to 100 (MPSD's most members) and -storm 0 (none) or from 2 to -lobby-max (they are %d and %d)", c.lobbyMax, c.storm))
	}
	if c.statsInterval < time.Second || c.connLife < time.Minute {
		errs = append(errs, errors.New("-stats-interval must be at least 1s and -conn-life at least 1m"))
	}
	if c.seconds < 1 || c.seconds > 600 || c.batchUsers < 1 || c.batchUsers > 100 || c.batchXUIDs < 1 || c.batchXUIDs > 100 ||
		c.owners < 1 || c.owners > 100 || c.lobbyChanges < 0 || c.lobbyChanges > 1000 {
		errs = append(errs, errors.New("-seconds must be 1 to 600; -batch-users, -batch-xuids and -owners 1 to 100; -lobby-changes 0 to 1000"))
	}
	return errors.Join(errs...)
}

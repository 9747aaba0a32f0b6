package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xblread/xblread/infra/devstack"
)

// Rough costs of the cases, measured on the development machine (2 cores,
// DynamoDB Local, the Go build cache warm): what printEstimate adds up.
// They are estimates, to say whether a run takes a minute or half an hour;
// a slower machine, a cold build cache or other load stretch them.
const (
	estDynamoDB = 8 * time.Second // DynamoDB Local's start, and its JIT warming in the first load
	// estEmulatorBuild builds each function's bootstrap for the emulator,
	// once per run that measures a case under it (make run's stack).
	estEmulatorBuild = 8 * time.Second
	// estEmulatorStart starts a case's emulated stack (its cold start).
	estEmulatorStart = 2 * time.Second
	// estLoadItem is the time per item written by a case's load
	// (devstack.Start: BatchWriteItem into DynamoDB Local).
	estLoadItem = 200 * time.Microsecond
	// estTableStart is a table's creation and the local stack's start.
	estTableStart = 1 * time.Second
	// estColdStart is one cold start of a bootstrap under a new emulator,
	// estInitTrace one inittrace start, estHop one warm invocation of hello
	// (with the in-process one).
	estColdStart = 25 * time.Millisecond
	estInitTrace = 10 * time.Millisecond
	estHop       = 1 * time.Millisecond
	// estInitBuild builds the emulator and the bootstraps for init.
	estInitBuild = 3 * time.Second
	// estCrowd is the crowd rounds in process; estCrowdEmulated the same
	// as make run serves them (its build and start included).
	estCrowd         = 12 * time.Second
	estCrowdEmulated = 40 * time.Second
	// estRTA is the real-time activity parts (the stack's build included).
	estRTA = 90 * time.Second
	// estBoardPlayer is the time per player of a leaderboard's build
	// (rankstore.Build); estBoardPage a page read (the mean of the four
	// kinds on the bench's 64-lane boards: 4 to 52 ms p50).
	estBoardPlayer = 250 * time.Microsecond
	estBoardPage   = 30 * time.Millisecond
)

// The round (one request of each path) of each table case, through the
// local API + raw + (for the reads) under the emulator: docs/RESULTS.md's
// p50s times 2.3, the ratio of the mean round to them measured here (the
// stats case: 600 rounds in about 46 s, DynamoDB Local's JIT warming).
var estRound = map[string][2]time.Duration{ // [0]: in process and raw; [1]: under the emulator
	"stats":    {48 * time.Millisecond, 29 * time.Millisecond},
	"write":    {5 * time.Millisecond, 0},
	"sessions": {59 * time.Millisecond, 35 * time.Millisecond},
	"heavy":    {73 * time.Millisecond, 43 * time.Millisecond},
	"join":     {34 * time.Millisecond, 0},
}

// estimate returns the rough time of each case of want, in run order.
func estimate(want map[string]bool, o options, boards []int, inits int, emulated bool) ([]string, []time.Duration) {
	var names []string
	var took []time.Duration
	add := func(name string, d time.Duration) {
		names, took = append(names, name), append(took, d)
	}
	rounds := time.Duration(o.warmup + o.n)
	built := false
	emu := func() time.Duration {
		if !emulated {
			return 0
		}
		d := estEmulatorStart
		if !built {
			d += estEmulatorBuild
			built = true
		}
		return d
	}
	round := func(name string) time.Duration {
		r := estRound[name]
		if emulated {
			return rounds * (r[0] + r[1])
		}
		return rounds * r[0]
	}
	if want["stats"] {
		items := time.Duration(o.population * (o.scids + 1))
		add("stats", estTableStart+items*estLoadItem+round("stats")+emu())
	}
	if want["write"] {
		items := time.Duration(2 * o.population)
		add("write (and its floor)", 2*(estTableStart+items*estLoadItem)+2*round("write"))
	}
	if want["sessions"] {
		for _, n := range o.sessions {
			// A session of 3: its document, head and 3 member entries
			// and a keyword entry, each twice (by player and by time).
			add(fmt.Sprintf("sessions %d", n), estTableStart+time.Duration(10*n)*estLoadItem+round("sessions")+emu())
		}
	}
	if want["sessions"] || want["heavy"] {
		add("heavy", estTableStart+time.Duration(2000*12)*estLoadItem+round("heavy")+emu())
	}
	if want["join"] {
		add("join", estTableStart+time.Duration(2*(o.warmup+o.n)*10)*estLoadItem+round("join"))
	}
	if want["crowd"] {
		d := estCrowd
		if emulated {
			d += estCrowdEmulated
		}
		add("crowd", d)
	}
	if want["rta"] {
		add("rta", estRTA)
	}
	if want["leaderboards"] {
		var d time.Duration
		for _, n := range boards {
			d += estTableStart + time.Duration(n)*estBoardPlayer + 400*estBoardPage
		}
		add("leaderboards", d)
	}
	if want["init"] {
		bootstraps := time.Duration(1 + len(devstack.Functions)) // hello and the functions
		runs := time.Duration(inits)
		add("init", estInitBuild+runs*bootstraps*(estColdStart+estInitTrace)+runs*55*estHop)
	}
	return names, took
}

// printEstimate prints to w, before the run, how long each of its cases
// and the whole usually take on this machine: a rough estimate.
func printEstimate(w io.Writer, want map[string]bool, o options, boards []int, inits int, emulated bool) {
	names, took := estimate(want, o, boards, inits, emulated)
	var total time.Duration
	if !initAlone(want) {
		total = estDynamoDB
	}
	var b strings.Builder
	b.WriteString("bench: a rough estimate of this run (measured on a 2-core machine with the build cache warm; yours may differ):\n")
	for i, name := range names {
		fmt.Fprintf(&b, "  %-24s ~%s\n", name, roughly(took[i]))
		total += took[i]
	}
	fmt.Fprintf(&b, "  %-24s ~%s (Ctrl-C stops it, keeping the rows printed)\n", "in all", roughly(total))
	io.WriteString(w, b.String())
}

// roughly rounds d as an estimate deserves: to 5 s under 2 minutes, to the
// minute past.
func roughly(d time.Duration) string {
	if d < 2*time.Minute {
		return max(5*time.Second, d.Round(5*time.Second)).String()
	}
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}

package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xblread/xblread/infra/loader"
	"github.com/xblread/xblread/infra/progress"
	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/rankstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// runLeaderboards measures what a leaderboard page reads at each board
// size: a board of n players with a skewed score (most players low, many
// tied, a long tail: floor(1000·U^4·(1+9·U'))), written whole
// (rankstore.Build), then pages of 10 rows read through the ranking
// store: the top page, pages from random ranks, pages around random
// players, and the next page after each (the continuation token's read).
func runLeaderboards(ctx context.Context, endpoint string, sizes []int, lanes, pages int) error {
	client, err := store.NewClient(ctx, endpoint)
	if err != nil {
		return err
	}
	if lanes < 1 || lanes > xbl.MaxLanes {
		return fmt.Errorf("-lanes %d: must be from 1 to %d", lanes, xbl.MaxLanes)
	}
	fmt.Printf("Leaderboard pages of 10 rows on boards of %d lanes, through rankstore (what the leaderboards function reads), eventually consistent; %d pages of each kind per size\n\n", lanes, pages)
	fmt.Println("| players | distinct values | page | read units p50 / max | items p50 / max | calls | latency p50 / p99 ms |")
	fmt.Println("| ---: | ---: | --- | ---: | ---: | ---: | ---: |")
	var heat []string
	defer func() {
		if ctx.Err() != nil && len(heat) > 0 {
			printHeat(heat)
		}
	}()
	for _, n := range sizes {
		name := fmt.Sprintf("bench-lb-%d-%d", n, time.Now().UnixNano())
		if _, err := loader.CreateTableWithoutStream(ctx, client, name); err != nil {
			return err
		}
		t := store.Table{Client: client, Name: name}
		const scid = "7492baca-c1b4-440d-a391-b7ef364a8d40"
		// By default the board is configured for the 10,000 writes a
		// second the burst below puts on it: 64 lanes.
		b := &leaderboards.Board{SCID: scid, Leaderboard: xbl.Leaderboard{Stat: "Score", Type: xbl.Integer, Lanes: lanes}}
		r := rand.New(rand.NewPCG(uint64(n), 1))
		entries := make([]leaderboards.Entry, n)
		distinct := map[int]bool{}
		for i := range entries {
			u := r.Float64()
			v := int(math.Floor(1000 * u * u * u * u * (1 + 9*r.Float64())))
			distinct[v] = true
			entries[i] = leaderboards.Entry{XUID: xbl.XUID(2533274790000000 + i), Value: xbl.StatValue{Type: xbl.Integer, Value: strconv.Itoa(v)}, Gamertag: "P" + strconv.Itoa(i)}
		}
		start := time.Now()
		if err := rankstore.Build(ctx, t, b, entries); err != nil {
			return err
		}
		// skipToUser reads the player's statistics item: write those of
		// the players it asks for.
		var ds xbl.Dataset
		users := make([]xbl.XUID, pages)
		for i := range users {
			e := entries[r.IntN(n)]
			users[i] = e.XUID
			ds.Stats = append(ds.Stats, xbl.UserStats{XUID: e.XUID, SCID: scid, Stats: map[string]xbl.StatValue{"score": e.Value}})
		}
		if _, err := loader.Load(ctx, t, &ds, nil); err != nil {
			return err
		}
		built := time.Since(start)
		rank := rankstore.New(t)
		type sample struct {
			u xbl.Usage
			d time.Duration
		}
		kinds := []string{"top", "from a random rank", "around a random player", "next (continuation)"}
		samples := map[string][]sample{}
		prog := progress.New(os.Stderr, fmt.Sprintf("leaderboard of %d players", n), int64(4*pages))
		measure := func(kind string, f func() (*leaderboards.Slice, error)) (*leaderboards.Slice, error) {
			t0 := time.Now()
			sl, err := f()
			if err != nil {
				return nil, fmt.Errorf("%d players, %s page: %w", n, kind, err)
			}
			samples[kind] = append(samples[kind], sample{sl.Usage, time.Since(t0)})
			prog.Add(1)
			return sl, nil
		}
		for i := range pages {
			if ctx.Err() != nil {
				prog.Done()
				return ctx.Err()
			}
			var sl *leaderboards.Slice
			var err error
			if _, err = measure(kinds[0], func() (*leaderboards.Slice, error) { return rank.At(ctx, b, 1, 10) }); err != nil {
				prog.Done()
				return err
			}
			if sl, err = measure(kinds[1], func() (*leaderboards.Slice, error) { return rank.At(ctx, b, uint32(1+r.IntN(n)), 10) }); err != nil {
				prog.Done()
				return err
			}
			if _, err = measure(kinds[2], func() (*leaderboards.Slice, error) {
				sl, found, err := rank.Around(ctx, b, users[i], 10)
				if err == nil && !found {
					err = fmt.Errorf("player %d not found", users[i])
				}
				return sl, err
			}); err != nil {
				prog.Done()
				return err
			}
			if len(sl.Entries) > 0 {
				c := leaderboards.CursorOf(&sl.Entries[len(sl.Entries)-1])
				if _, err = measure(kinds[3], func() (*leaderboards.Slice, error) { return rank.After(ctx, b, c, 10) }); err != nil {
					prog.Done()
					return err
				}
			} else {
				prog.Add(1)
			}
		}
		prog.Done()
		for _, kind := range kinds {
			s := samples[kind]
			rcu := make([]float64, len(s))
			items := make([]int, len(s))
			ds := make([]time.Duration, len(s))
			calls := 0
			for i, x := range s {
				rcu[i], items[i], ds[i] = x.u.ConsumedRCU, x.u.Items, x.d
				calls = max(calls, x.u.Calls)
			}
			slices.Sort(rcu)
			slices.Sort(items)
			fmt.Printf("| %d | %d | %s | %.1f / %.1f | %d / %d | %d | %.2f / %.2f |\n", n, len(distinct), kind,
				rcu[len(rcu)/2], rcu[len(rcu)-1], items[len(items)/2], items[len(items)-1], calls, ms(pct(ds, 50)), ms(pct(ds, 99)))
		}
		fmt.Fprintf(os.Stderr, "leaderboard of %d players built in %s\n", n, built.Round(time.Millisecond))
		heat = append(heat, burstHeat(b, entries, r, n))
	}
	printHeat(heat)
	return nil
}

// printHeat prints the write heat table of the sizes measured.
func printHeat(heat []string) {
	fmt.Println()
	fmt.Println("Write heat of a burst of 10,000 ranked-stat writes in one second on one board of the lanes above (as the index writes them, rankstore.Plan: 90 % raise their score by 1 to 50, 10 % are new), in stream batches of 100 and of 10 writes, write units per second")
	fmt.Println()
	fmt.Println("| players | batch | transactions | journals | folds | partitions written | busiest partition key | its units/s | busiest item | its units/s |")
	fmt.Println("| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- | ---: |")
	for _, h := range heat {
		fmt.Println(h)
	}
	fmt.Println()
}

// burstHeat plans 10,000 moves on b (rankstore.Plan) in stream batches of
// 100 and of 10, and returns the table rows.
func burstHeat(b *leaderboards.Board, entries []leaderboards.Entry, r *rand.Rand, n int) string {
	moves := make([]leaderboards.Move, 10000)
	for i := range moves {
		m := leaderboards.Move{Board: *b}
		if i%10 == 0 {
			m.XUID = xbl.XUID(3000000000000000 + i)
			m.To = &xbl.StatValue{Type: xbl.Integer, Value: "0"}
		} else {
			e := entries[r.IntN(n)]
			old, _ := strconv.Atoi(e.Value.Value)
			m.XUID, m.From = e.XUID, &e.Value
			m.To = &xbl.StatValue{Type: xbl.Integer, Value: strconv.Itoa(old + 1 + r.IntN(50))}
		}
		moves[i] = m
	}
	var rows []string
	for _, batch := range []int{100, 10} {
		h := rankstore.Plan(moves, batch)
		byPK := h.PartitionUnits()
		hotPK, hotItem := "", store.Key{}
		for k, v := range byPK {
			if v > byPK[hotPK] || v == byPK[hotPK] && k < hotPK {
				hotPK = k
			}
		}
		for k, v := range h.Units {
			if v > h.Units[hotItem] {
				hotItem = k
			}
		}
		rows = append(rows, fmt.Sprintf("| %d | %d | %d | %d | %d | %d | %s | %.0f | %s %s | %.0f |", n, batch, h.Transactions, h.Journals, h.Folds, len(byPK),
			clip(hotPK), byPK[hotPK], clip(hotItem.PK), hotItem.SK, h.Units[hotItem]))
	}
	return strings.Join(rows, "\n")
}

// clip shortens a partition key for the table: its kind and lane.
func clip(pk string) string {
	if strings.HasPrefix(pk, "lbe#") || strings.HasPrefix(pk, "lbj#") {
		return pk[:4] + "…" + pk[strings.LastIndexByte(pk, '#'):]
	}
	return pk[:min(len(pk), 4)] + "…"
}

package ratelimit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// memCounter counts in memory, as the table does.
type memCounter struct {
	mu    sync.Mutex
	n     map[string]int
	calls int
	err   error
}

func (m *memCounter) Count(_ context.Context, k Key, start time.Time, slot, refused int) (Counts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.err != nil {
		return Counts{}, m.err
	}
	if m.n == nil {
		m.n = map[string]int{}
	}
	base := k.Service + "/" + k.TitleID + "/" + k.XUID.String() + "/" + start.String()
	m.n[base] += 1 + refused
	m.n[base+"/"+string(rune('a'+slot))]++
	return Counts{Sustain: m.n[base], Burst: m.n[base+"/"+string(rune('a'+slot))]}, nil
}

func TestLimiter(t *testing.T) {
	counter := &memCounter{}
	cfg := Config{Services: map[string]Limit{UserStats: {Burst: 3, Sustain: 5}}, Server: Limit{}}
	l := New(counter, cfg.Limits)
	now := time.Date(2026, 12, 1, 10, 0, 1, 0, time.UTC) // 1 s into a sustain window
	l.now = func() time.Time { return now }
	alice := &xbl.Caller{XUID: 1, TitleID: "10"}
	ctx := context.Background()

	for i := range 3 {
		if err := l.Check(ctx, UserStats, alice); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	err := l.Check(ctx, UserStats, alice)
	var ex *Exceeded
	if !errors.As(err, &ex) || ex.Current != 4 || ex.Max != 3 || ex.Period != BurstWindow || ex.RetryAfter != 14*time.Second || derrors.KindOf(err) != derrors.Throttled {
		t.Fatalf("4th request: %v", err)
	}
	// Known over the limit: refused from memory, no count.
	calls := counter.calls
	if err := l.Known(UserStats, alice); !errors.As(err, &ex) || counter.calls != calls {
		t.Errorf("Known = %v (%d calls)", err, counter.calls-calls)
	}
	// A server with alice's xuid and title is not limited, not even from
	// memory.
	if err := l.Known(UserStats, &xbl.Caller{XUID: 1, TitleID: "10", Server: true}); err != nil {
		t.Errorf("Known for a server sharing a blocked player's xuid = %v", err)
	}
	// Another user, another title, another service: unaffected.
	for _, c := range []*xbl.Caller{{XUID: 2, TitleID: "10"}, {XUID: 1, TitleID: "11"}} {
		if err := l.Check(ctx, UserStats, c); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if err := l.Check(ctx, SessionDirectory, alice); err != nil {
		t.Errorf("another service (no limit configured): %v", err)
	}
	// The next burst window: the requests refused so far (the 4th, counted,
	// and the 5th, refused from memory and counted now) count toward the
	// sustain window, as Xbox's do: the 6th trips it, until it ends.
	now = now.Add(15 * time.Second)
	if err := l.Known(UserStats, alice); err != nil {
		t.Errorf("after the burst window, Known = %v", err)
	}
	err = l.Check(ctx, UserStats, alice)
	if !errors.As(err, &ex) || ex.Period != SustainWindow || ex.Max != 5 || ex.Current != 6 || ex.RetryAfter != 300*time.Second-16*time.Second {
		t.Fatalf("6th: %v", err)
	}
	now = now.Add(2 * BurstWindow)
	if err := l.Known(UserStats, alice); err == nil {
		t.Error("the sustain limit let a request through before its window ended")
	}
	now = time.Date(2026, 12, 1, 10, 5, 0, 0, time.UTC) // the next sustain window
	if err := l.Known(UserStats, alice); err != nil {
		t.Errorf("next window, Known = %v", err)
	}
	if err := l.Check(ctx, UserStats, alice); err != nil {
		t.Errorf("next window: %v", err)
	}
	// Servers are not limited by default.
	for range 10 {
		if err := l.Check(ctx, UserStats, &xbl.Caller{XUID: 1, TitleID: "10", Server: true}); err != nil {
			t.Fatalf("server: %v", err)
		}
	}
	// A failing counter is reported as it is (the edge fails open).
	counter.err = errors.New("throttled")
	if err := l.Check(ctx, UserStats, &xbl.Caller{XUID: 3, TitleID: "10"}); err == nil || errors.As(err, &ex) {
		t.Errorf("failing counter: %v", err)
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"RATE_LIMIT_SESSIONDIRECTORY": "60/600",
		"RATE_LIMIT_SERVER":           "1000/10000",
		"RATE_LIMIT_TITLES":           "42:userstats=200/600, 42:statswrite=off",
	}
	c, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		k      Key
		server bool
		want   Limit
	}{
		{Key{UserStats, "1", 5}, false, Limit{100, 300}},
		{Key{SessionDirectory, "1", 5}, false, Limit{60, 600}},
		{Key{StatsWrite, "1", 5}, false, Limit{10, 10}},
		{Key{UserStats, "42", 5}, false, Limit{200, 600}},
		{Key{StatsWrite, "42", 5}, false, Limit{}},
		{Key{UserStats, "1", 5}, true, Limit{1000, 10000}},
	} {
		if got := c.Limits(tt.k, &xbl.Caller{Server: tt.server}); got != tt.want {
			t.Errorf("%+v server=%v: %v, want %v", tt.k, tt.server, got, tt.want)
		}
	}
	off, _ := ConfigFromEnv(func(k string) string { return map[string]string{"RATE_LIMITS": "off"}[k] })
	if !off.Limits(Key{UserStats, "1", 5}, &xbl.Caller{}).Unlimited() {
		t.Error("RATE_LIMITS=off still limits")
	}
	for _, bad := range []map[string]string{
		{"RATE_LIMITS": "maybe"}, {"RATE_LIMIT_USERSTATS": "100"}, {"RATE_LIMIT_USERSTATS": "0/5"},
		{"RATE_LIMIT_TITLES": "42:unknown=1/1"}, {"RATE_LIMIT_TITLES": "42=1/1"},
	} {
		if _, err := ConfigFromEnv(func(k string) string { return bad[k] }); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

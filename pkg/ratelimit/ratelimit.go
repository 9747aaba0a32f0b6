// Package ratelimit limits each caller's requests per service, as Xbox
// Live's fine-grained rate limiting does: per (xuid, title, service), a
// burst window of 15 s and a sustain window of 300 s, both fixed (aligned
// to the clock). Every request counts, the refused ones too; once a window's
// limit trips, nothing gets through until that window ends.
//
// The counts are kept by a Counter shared by every instance of a function
// (DynamoDB in production), one atomic update per request. A caller known
// to be over its limit is refused from memory until its window ends,
// without a call.
package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// The windows, as Xbox Live has them.
const (
	BurstWindow   = 15 * time.Second
	SustainWindow = 300 * time.Second
)

// Services whose requests are counted apart.
const (
	UserStats        = "userstats"
	SessionDirectory = "sessiondirectory"
	StatsWrite       = "statswrite"
	// Leaderboards is the leaderboard queries. Xbox Live documents no
	// limit for them that we know of: they get the user statistics
	// reads' 100/300.
	Leaderboards = "leaderboards"
	// RTA is a player's real-time activity messages (subscribes and
	// unsubscribes on its connections): the session directory's 30/300.
	RTA = "rta"
)

// Limit is a service's limit: requests per burst window and per sustain
// window. A zero Limit does not limit.
type Limit struct {
	Burst, Sustain int
}

// Unlimited reports whether l limits nothing.
func (l Limit) Unlimited() bool { return l.Burst <= 0 && l.Sustain <= 0 }

// String writes l as burst/sustain.
func (l Limit) String() string { return fmt.Sprintf("%d/%d", l.Burst, l.Sustain) }

// ParseLimit reads "burst/sustain" ("" or "off" for no limit).
func ParseLimit(s string) (Limit, error) {
	if s == "" || s == "off" {
		return Limit{}, nil
	}
	var l Limit
	if n, err := fmt.Sscanf(s, "%d/%d", &l.Burst, &l.Sustain); err != nil || n != 2 || l.Burst < 1 || l.Sustain < 1 {
		return Limit{}, fmt.Errorf("limit %q is not burst/sustain, two positive numbers such as 100/300", s)
	}
	return l, nil
}

// Key names one caller's counts for one service.
type Key struct {
	Service string
	TitleID string
	XUID    xbl.XUID
}

// Counts are a caller's requests so far in the current windows, this one
// included.
type Counts struct {
	Burst, Sustain int
}

// Counter keeps the counts, shared by every instance.
type Counter interface {
	// Count adds one request of k to the sustain window that starts at
	// sustainStart and to its burst slot (0 to 19), and refused more to
	// the sustain window alone (requests refused from memory since the last
	// count), atomically, and returns the counts after it.
	Count(ctx context.Context, k Key, sustainStart time.Time, burstSlot, refused int) (Counts, error)
}

// Exceeded is the error of a refused request: of kind derrors.Throttled,
// with what the 429 answer says.
type Exceeded struct {
	Key          Key // whose requests, for logs
	Current, Max int
	Period       time.Duration // the window that tripped
	RetryAfter   time.Duration // until it ends
}

// Error implements error.
func (e *Exceeded) Error() string {
	return fmt.Sprintf("rate limit of %s for xuid %s, title %s: %d requests of %d allowed per %s; retry after %s",
		e.Key.Service, e.Key.XUID, e.Key.TitleID, e.Current, e.Max, e.Period, e.RetryAfter)
}

// Kind is derrors.Throttled.
func (e *Exceeded) Kind() derrors.Kind { return derrors.Throttled }

// Public is the message for logs and callers.
func (e *Exceeded) Public() string {
	return fmt.Sprintf("too many requests: %d of %d allowed per %d seconds", e.Current, e.Max, int(e.Period/time.Second))
}

// Limiter decides whether a caller's request may go on.
type Limiter struct {
	counter Counter
	limits  func(Key, *xbl.Caller) Limit
	now     func() time.Time

	mu      sync.Mutex
	blocked map[Key]*Exceeded // callers known over their limit, until RetryAfter ends
	until   map[Key]time.Time
	// refused counts the requests refused from memory in a sustain window,
	// not yet added to the shared counts: the next count adds them, so that
	// refused requests count toward the sustain window, as Xbox's do,
	// without a write of their own.
	refused map[Key]refusals
}

type refusals struct {
	window time.Time // the sustain window they belong to
	n      int
}

// New returns a Limiter over counter; limits gives each request's limit.
func New(counter Counter, limits func(Key, *xbl.Caller) Limit) *Limiter {
	return &Limiter{counter: counter, limits: limits, now: time.Now, blocked: map[Key]*Exceeded{}, until: map[Key]time.Time{}, refused: map[Key]refusals{}}
}

// Known refuses, from memory alone, a caller this instance already knows
// to be over its limit, until the window that tripped ends: no call, no
// count. It returns nil otherwise.
func (l *Limiter) Known(service string, c *xbl.Caller) error {
	k := Key{Service: service, TitleID: c.TitleID, XUID: c.XUID}
	if l.limits(k, c).Unlimited() {
		return nil // a server (unlimited) sharing a limited player's xuid
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.blocked[k]
	if !ok {
		return nil
	}
	until := l.until[k]
	if !now.Before(until) {
		delete(l.blocked, k)
		delete(l.until, k)
		return nil
	}
	window := now.Truncate(SustainWindow)
	if r := l.refused[k]; r.window.Equal(window) {
		l.refused[k] = refusals{window, r.n + 1}
	} else {
		l.refused[k] = refusals{window, 1}
	}
	refused := *e
	refused.RetryAfter = until.Sub(now)
	return &refused
}

// Check counts one request of caller to service and decides it: nil to go
// on, an *Exceeded to refuse (and to refuse from memory, through Known,
// until the window ends). An error of the counter is returned as it is:
// the caller decides to fail open.
func (l *Limiter) Check(ctx context.Context, service string, c *xbl.Caller) error {
	k := Key{Service: service, TitleID: c.TitleID, XUID: c.XUID}
	lim := l.limits(k, c)
	if lim.Unlimited() {
		return nil
	}
	now := l.now()
	sustainStart := now.Truncate(SustainWindow)
	slot := int(now.Sub(sustainStart) / BurstWindow)
	l.mu.Lock()
	pending := l.refused[k]
	delete(l.refused, k)
	l.mu.Unlock()
	extra := 0
	if pending.window.Equal(sustainStart) {
		extra = pending.n
	}
	n, err := l.counter.Count(ctx, k, sustainStart, slot, extra)
	if err != nil {
		if extra > 0 { // not counted: keep them for the next count
			l.mu.Lock()
			r := l.refused[k]
			l.refused[k] = refusals{sustainStart, r.n + extra}
			l.mu.Unlock()
		}
		return err
	}
	var e *Exceeded
	var until time.Time
	switch {
	case lim.Sustain > 0 && n.Sustain > lim.Sustain:
		until = sustainStart.Add(SustainWindow)
		e = &Exceeded{Key: k, Current: n.Sustain, Max: lim.Sustain, Period: SustainWindow}
	case lim.Burst > 0 && n.Burst > lim.Burst:
		until = sustainStart.Add(time.Duration(slot+1) * BurstWindow)
		e = &Exceeded{Key: k, Current: n.Burst, Max: lim.Burst, Period: BurstWindow}
	default:
		return nil
	}
	e.RetryAfter = until.Sub(now)
	l.mu.Lock()
	if len(l.blocked) >= maxKnown {
		for key, t := range l.until { // forget what has ended; if none has, forget all
			if !now.Before(t) {
				delete(l.blocked, key)
				delete(l.until, key)
			}
		}
		if len(l.blocked) >= maxKnown {
			l.blocked, l.until = map[Key]*Exceeded{}, map[Key]time.Time{}
		}
		if len(l.refused) >= maxKnown {
			l.refused = map[Key]refusals{}
		}
	}
	l.blocked[k], l.until[k] = e, until
	l.mu.Unlock()
	return e
}

// maxKnown bounds the callers an instance remembers as over their limit.
const maxKnown = 10000

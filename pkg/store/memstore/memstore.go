// Package memstore keeps the service's data in memory and implements the
// same ports as the DynamoDB adapters (stats.Reader and stats.Writer,
// sessions.Reader and sessions.Store, xbl.ConfigReader, ratelimit.Counter),
// with the same answers; it keeps no clock (the domain services hold it).
// Session documents are kept as written, with their encoding, and read
// back by decoding it, as the DynamoDB adapter does. Rule and handler
// tests and the handler benchmarks run on it; it serves no deployed
// function.
package memstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/xblread/xblread/pkg/ratelimit"
	"github.com/xblread/xblread/pkg/rta"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/xbl"
)

var (
	_ stats.Reader      = (*Store)(nil)
	_ sessions.Reader   = (*Store)(nil)
	_ xbl.ConfigReader  = (*Store)(nil)
	_ ratelimit.Counter = (*Store)(nil)
	_ stats.Writer      = (*Store)(nil)
	_ sessions.Store    = (*Store)(nil)
)

type userSCID struct {
	xuid xbl.XUID
	scid string
}

type sessionKey struct{ scid, template, name string }

// Store is an in-memory store. The zero value is not usable; call New.
type Store struct {
	mu       sync.RWMutex
	configs  map[string]xbl.ServiceConfig
	profiles map[xbl.XUID]string
	stats    map[userSCID]map[string]xbl.StatValue
	// gamertags are those the statistics items carry: the profile's
	// gamertag in the load that wrote the statistics.
	gamertags map[userSCID]string
	// sessions are the documents as written, each with its encoding
	// (Doc.Encoded); only SaveSession and Load replace them.
	sessions map[sessionKey]*sessions.Doc
	queues   map[sessionKey][]*queued // writes waiting on each session
	// handles by id, and the id of each player's activity by SCID and
	// title.
	handles    map[string]*sessions.Handle
	activities map[activityKey]string
	conns      map[string]*rta.Connection // real-time activity's connections
	etags      int
	counts     map[rateKey]int // the rate limiter's
	docs       map[userSCID]document
	reads      int

	// Err, when set, is returned by every read (to test failures).
	Err error
}

// New returns an empty store.
func New() *Store {
	return &Store{
		configs:    map[string]xbl.ServiceConfig{},
		profiles:   map[xbl.XUID]string{},
		stats:      map[userSCID]map[string]xbl.StatValue{},
		gamertags:  map[userSCID]string{},
		docs:       map[userSCID]document{},
		sessions:   map[sessionKey]*sessions.Doc{},
		queues:     map[sessionKey][]*queued{},
		handles:    map[string]*sessions.Handle{},
		activities: map[activityKey]string{},
		conns:      map[string]*rta.Connection{},
	}
}

// Load adds d's values; later values replace earlier ones with the same key,
// as a load into DynamoDB does.
func (s *Store) Load(d *xbl.Dataset) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range d.Configs {
		access := make(map[string]xbl.Access, len(c.Stats))
		for name, a := range c.Stats {
			access[xbl.StatKey(name)] = a // stored as the table stores them
		}
		c.Stats = access
		s.configs[c.SCID] = c
	}
	gamertags := map[xbl.XUID]string{}
	for _, p := range d.Profiles {
		s.profiles[p.XUID] = p.Gamertag
		gamertags[p.XUID] = p.Gamertag
	}
	for _, u := range d.Stats {
		values, names := make(map[string]xbl.StatValue, len(u.Stats)), make(map[string]string, len(u.Stats))
		for name, v := range u.Stats {
			values[xbl.StatKey(name)], names[xbl.StatKey(name)] = v, name
		}
		s.stats[userSCID{u.XUID, u.SCID}] = values
		s.docs[userSCID{u.XUID, u.SCID}] = document{names: names}
		s.gamertags[userSCID{u.XUID, u.SCID}] = gamertags[u.XUID]
	}
	for i := range d.Sessions {
		ss := &d.Sessions[i]
		s.etags++
		s.sessions[sessionKey{ss.SCID, ss.Template, ss.Name}] = sessions.FromFixture(ss, fmt.Sprintf("load-%d", s.etags))
	}
}

// Reads returns the number of reads served so far (each method call counts
// one).
func (s *Store) Reads() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.reads
}

func (s *Store) begin(ctx context.Context) error {
	s.reads++
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.Err
}

// ReadConfig implements xbl.ConfigReader.
func (s *Store) ReadConfig(ctx context.Context, scid string) (*xbl.ServiceConfig, xbl.Usage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return nil, xbl.Usage{}, err
	}
	u := xbl.Usage{Calls: 1}
	c, ok := s.configs[scid]
	if !ok {
		return nil, u, nil
	}
	u.Items = 1
	return &c, u, nil
}

// Count implements ratelimit.Counter.
func (s *Store) Count(ctx context.Context, k ratelimit.Key, sustainStart time.Time, burstSlot, refused int) (ratelimit.Counts, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return ratelimit.Counts{}, err
	}
	if s.counts == nil {
		s.counts = map[rateKey]int{}
	}
	sustain := rateKey{k, sustainStart.Unix(), -1}
	burst := rateKey{k, sustainStart.Unix(), burstSlot}
	s.counts[sustain] += 1 + refused
	s.counts[burst]++
	return ratelimit.Counts{Sustain: s.counts[sustain], Burst: s.counts[burst]}, nil
}

type rateKey struct {
	ratelimit.Key
	start int64
	slot  int
}

// Package memstore keeps the service's data in memory and implements the
// same ports as the DynamoDB adapters (stats.Reader, sessions.Reader), with
// the same answers. Rule and handler tests and the handler benchmarks run
// on it; it serves no deployed function.
package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/xblread/xblread/pkg/ratelimit"
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
	sessions  map[sessionKey]*sessions.Doc
	etags     int
	// Now is the clock reservations expire by (time.Now when nil).
	Now    func() time.Time
	counts map[rateKey]int // the rate limiter's
	docs   map[userSCID]document
	reads  int

	// Err, when set, is returned by every read (to test failures).
	Err error
}

// New returns an empty store.
func New() *Store {
	return &Store{
		configs:   map[string]xbl.ServiceConfig{},
		profiles:  map[xbl.XUID]string{},
		stats:     map[userSCID]map[string]xbl.StatValue{},
		gamertags: map[userSCID]string{},
		docs:      map[userSCID]document{},
		sessions:  map[sessionKey]*sessions.Doc{},
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

// ReadStats implements stats.Reader: the statistics of each (user, SCID)
// pair, limited to the queried names, and the gamertag of each user with
// statistics in a queried SCID.
func (s *Store) ReadStats(ctx context.Context, q stats.Query) (*stats.Found, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	f := &stats.Found{
		Gamertags: map[xbl.XUID]string{},
		Stats:     map[stats.UserSCID]map[string]xbl.StatValue{},
		Usage:     xbl.Usage{Calls: 1},
	}
	for _, x := range q.Users {
		for _, scid := range q.SCIDs {
			values, ok := s.stats[userSCID{x, scid}]
			if !ok {
				continue
			}
			f.Usage.Items++
			got := map[string]xbl.StatValue{}
			for _, n := range q.Names {
				if v, ok := values[n]; ok {
					got[n] = v
				}
			}
			f.Stats[stats.UserSCID{XUID: x, SCID: scid}] = got
			if g := s.gamertags[userSCID{x, scid}]; g != "" && f.Gamertags[x] == "" {
				f.Gamertags[x] = g // the first requested SCID's, as the table's adapter does
			}
		}
	}
	return f, nil
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

// UserSessions implements sessions.Reader.
func (s *Store) UserSessions(ctx context.Context, x xbl.XUID, scid, template string, keep func(*sessions.Session) bool, limit int) ([]sessions.Session, xbl.Usage, error) {
	return s.find(ctx, scid, template, keep, limit, func(d *sessions.Doc) bool { return d.Member(x) != nil }, &x)
}

// KeywordSessions implements sessions.Reader.
func (s *Store) KeywordSessions(ctx context.Context, scid, keyword, template string, keep func(*sessions.Session) bool, limit int) ([]sessions.Session, xbl.Usage, error) {
	return s.find(ctx, scid, template, func(ss *sessions.Session) bool {
		return sessions.HasKeyword(ss.Keywords, keyword) && keep(ss)
	}, limit, func(d *sessions.Doc) bool { return sessions.HasKeyword(d.Keywords, keyword) }, nil)
}

// find returns, in answer order, the first limit sessions that have an
// index entry (indexed), a view through x, and that keep accepts; Items
// counts the entries it passed over on the way, as a store reading in
// answer order would.
func (s *Store) find(ctx context.Context, scid, template string, keep func(*sessions.Session) bool, limit int, indexed func(*sessions.Doc) bool, x *xbl.XUID) ([]sessions.Session, xbl.Usage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit <= 0 {
		return nil, xbl.Usage{}, ctx.Err()
	}
	if err := s.begin(ctx); err != nil {
		return nil, xbl.Usage{}, err
	}
	now := s.now()
	var all []sessions.Session
	for k, d := range s.sessions {
		if k.scid != scid || template != "" && k.template != template || !indexed(d) {
			continue
		}
		if v, ok := d.Head().View(x, now); ok {
			all = append(all, v)
		}
	}
	slices.SortFunc(all, func(a, b sessions.Session) int { return sessions.NewestFirst(&a, &b) })
	u := xbl.Usage{Calls: 1}
	var out []sessions.Session
	for i := range all {
		if len(out) == limit {
			break
		}
		u.Items++
		if keep(&all[i]) {
			out = append(out, all[i])
		}
	}
	return out, u, nil
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Session implements sessions.Store.
func (s *Store) Session(ctx context.Context, scid, template, name string) (*sessions.Doc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	d := s.sessions[sessionKey{scid, template, name}]
	if d == nil {
		return nil, nil
	}
	return d.Clone(), nil
}

// SaveSession implements sessions.Store.
func (s *Store) SaveSession(ctx context.Context, prev, next *sessions.Doc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return err
	}
	d := cmp.Or(next, prev)
	k := sessionKey{d.SCID, d.Template, d.Name}
	cur := s.sessions[k]
	if prev == nil && cur != nil || prev != nil && (cur == nil || cur.ETag != prev.ETag) {
		return sessions.ErrChanged
	}
	if next == nil {
		delete(s.sessions, k)
	} else {
		s.sessions[k] = next.Clone()
	}
	return nil
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

// document is what the writes keep besides the values: revision, timestamp
// and the names as written.
type document struct {
	revision  int64
	timestamp string
	names     map[string]string // by StatKey
}

// Replace implements stats.Writer.
func (s *Store) Replace(ctx context.Context, x xbl.XUID, scid string, doc *stats.Document, gamertag string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	k := userSCID{x, scid}
	if _, ok := s.stats[k]; ok && s.docs[k].revision >= doc.Revision {
		return false, nil // a document as new or newer (none written: 0)
	}
	values, names := map[string]xbl.StatValue{}, map[string]string{}
	for name, v := range doc.Stats {
		values[xbl.StatKey(name)], names[xbl.StatKey(name)] = v, name
	}
	s.stats[k] = values
	s.docs[k] = document{doc.Revision, doc.Timestamp, names}
	if gamertag != "" {
		s.gamertags[k] = gamertag
	}
	return true, nil
}

// Patch implements stats.Writer.
func (s *Store) Patch(ctx context.Context, x xbl.XUID, scid string, set map[string]xbl.StatValue, remove []string, gamertag string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return err
	}
	k := userSCID{x, scid}
	if s.stats[k] == nil {
		if len(set) == 0 {
			return nil // only deletes, and no document: nothing to change
		}
		s.stats[k] = map[string]xbl.StatValue{}
	}
	d := s.docs[k]
	if d.names == nil {
		d.names = map[string]string{}
	}
	for name, v := range set {
		s.stats[k][xbl.StatKey(name)], d.names[xbl.StatKey(name)] = v, name
	}
	for _, name := range remove {
		delete(s.stats[k], xbl.StatKey(name))
		delete(d.names, xbl.StatKey(name))
	}
	s.docs[k] = d
	if gamertag != "" {
		s.gamertags[k] = gamertag
	}
	return nil
}

// Document implements stats.Writer.
func (s *Store) Document(ctx context.Context, x xbl.XUID, scid string) (*stats.Document, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	k := userSCID{x, scid}
	values, ok := s.stats[k]
	if !ok {
		return nil, nil
	}
	d := s.docs[k]
	doc := &stats.Document{Revision: d.revision, Timestamp: d.timestamp, Stats: map[string]xbl.StatValue{}}
	for key, v := range values {
		doc.Stats[cmp.Or(d.names[key], key)] = v
	}
	return doc, nil
}

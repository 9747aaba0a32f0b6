package memstore

import (
	"cmp"
	"context"

	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/xbl"
)

// document is what the writes keep besides the values: revision, timestamp
// and the names as written.
type document struct {
	revision  int64
	timestamp string
	names     map[string]string // by StatKey
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
		Names:     map[stats.UserSCID]map[string]string{},
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
			names := map[string]string{}
			for _, n := range q.Names {
				if v, ok := values[n]; ok {
					got[n] = v
					names[n] = s.statName(x, scid, n)
				}
			}
			f.Stats[stats.UserSCID{XUID: x, SCID: scid}] = got
			f.Names[stats.UserSCID{XUID: x, SCID: scid}] = names
			if g := s.gamertags[userSCID{x, scid}]; g != "" && f.Gamertags[x] == "" {
				f.Gamertags[x] = g // the first requested SCID's, as the table's adapter does
			}
		}
	}
	return f, nil
}

// Replace implements stats.Writer.
func (s *Store) Replace(ctx context.Context, t stats.Target, doc *stats.Document, gamertag string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	k := userSCID{t.XUID, t.SCID}
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
func (s *Store) Patch(ctx context.Context, t stats.Target, p *stats.Patch, gamertag string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return err
	}
	k := userSCID{t.XUID, t.SCID}
	if s.stats[k] == nil {
		if len(p.Set) == 0 {
			return nil // only deletes, and no document: nothing to change
		}
		s.stats[k] = map[string]xbl.StatValue{}
	}
	d := s.docs[k]
	if d.names == nil {
		d.names = map[string]string{}
	}
	for name, v := range p.Set {
		s.stats[k][xbl.StatKey(name)], d.names[xbl.StatKey(name)] = v, name
	}
	for _, name := range p.Remove {
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
func (s *Store) Document(ctx context.Context, t stats.Target) (*stats.Document, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	k := userSCID{t.XUID, t.SCID}
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

// statName is stat key's name as the game wrote it for (x, scid): the key
// when no document says.
func (s *Store) statName(x xbl.XUID, scid, key string) string {
	if n := s.docs[userSCID{x, scid}].names[key]; n != "" {
		return n
	}
	return key
}

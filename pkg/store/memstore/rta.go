package memstore

import (
	"context"
	"maps"
	"slices"

	"github.com/xblread/xblread/pkg/rta"
)

var _ rta.Store = (*Store)(nil)

// PutConnection implements rta.Store.
func (s *Store) PutConnection(ctx context.Context, c *rta.Connection, prev int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return err
	}
	var cur int64
	if old, ok := s.conns[c.ID]; ok {
		cur = old.Version
	}
	if cur != prev {
		return rta.ErrChanged
	}
	cc := *c
	cc.Subs = maps.Clone(c.Subs)
	cc.Sessions = slices.Clone(c.Sessions)
	s.conns[c.ID] = &cc
	return nil
}

// Connections implements rta.Store.
func (s *Store) Connections(ctx context.Context, ids []string) (map[string]*rta.Connection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	out := map[string]*rta.Connection{}
	for _, id := range ids {
		if c, ok := s.conns[id]; ok {
			cc := *c
			cc.Subs = maps.Clone(c.Subs)
			if cc.Subs == nil {
				cc.Subs = map[int64]string{}
			}
			out[id] = &cc
		}
	}
	return out, nil
}

// DeleteConnection implements rta.Store.
func (s *Store) DeleteConnection(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return err
	}
	delete(s.conns, id)
	return nil
}

// AddSession implements rta.Store.
func (s *Store) AddSession(ctx context.Context, id, resource string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return err
	}
	c, ok := s.conns[id]
	if !ok {
		return nil
	}
	if len(c.Sessions) >= rta.MaxSessions {
		return nil
	}
	if !slices.Contains(c.Sessions, resource) {
		c.Sessions = append(slices.Clone(c.Sessions), resource)
	}
	c.Version++
	return nil
}

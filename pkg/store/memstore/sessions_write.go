package memstore

import (
	"cmp"
	"context"
	"time"

	"github.com/xblread/xblread/pkg/sessions"
)

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

package memstore

import (
	"cmp"
	"context"
	"fmt"

	"github.com/xblread/xblread/pkg/sessions"
)

// Session implements sessions.Store: the document decoded from its stored
// encoding, as the DynamoDB adapter reads it.
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
	return sessions.Decode(d.Encoded, d.ETag)
}

// SaveSession implements sessions.Store: it keeps next as written, with
// its encoding, which the rules never change after.
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
		return nil
	}
	if next.Encoded == nil {
		return fmt.Errorf("memstore: session %s/%s has no encoding to store", next.Template, next.Name)
	}
	s.sessions[k] = next
	return nil
}

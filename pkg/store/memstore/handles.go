package memstore

import (
	"context"

	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/xbl"
)

var _ sessions.HandleStore = (*Store)(nil)

type activityKey struct {
	owner         xbl.XUID
	scid, titleID string
}

// PutHandle implements sessions.HandleStore.
func (s *Store) PutHandle(ctx context.Context, h *sessions.Handle) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return err
	}
	c := *h
	s.handles[h.ID] = &c
	if h.Type == sessions.Activity {
		k := activityKey{h.Owner, h.Ref.SCID, h.TitleID}
		if old := s.activities[k]; old != "" && old != h.ID {
			delete(s.handles, old)
		}
		s.activities[k] = h.ID
	}
	return nil
}

// Handle implements sessions.HandleStore.
func (s *Store) Handle(ctx context.Context, id string) (*sessions.Handle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	h := s.handles[id]
	if h == nil {
		return nil, nil
	}
	c := *h
	return &c, nil
}

// DeleteHandle implements sessions.HandleStore.
func (s *Store) DeleteHandle(ctx context.Context, h *sessions.Handle) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return err
	}
	delete(s.handles, h.ID)
	k := activityKey{h.Owner, h.Ref.SCID, h.TitleID}
	if h.Type == sessions.Activity && s.activities[k] == h.ID {
		delete(s.activities, k)
	}
	return nil
}

// Activities implements sessions.HandleStore.
func (s *Store) Activities(ctx context.Context, scid string, owners []xbl.XUID) ([]*sessions.Handle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	var out []*sessions.Handle
	for k, id := range s.activities {
		for _, x := range owners {
			if k.owner == x && k.scid == scid {
				c := *s.handles[id]
				out = append(out, &c)
			}
		}
	}
	return out, nil
}

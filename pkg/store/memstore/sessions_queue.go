package memstore

import (
	"context"
	"slices"
	"strings"

	"github.com/xblread/xblread/pkg/sessions"
)

var _ sessions.Queue = (*Store)(nil)

// queued is one write waiting on a session, kept in its stored form (as
// the DynamoDB adapter keeps it), with its reply once a commit took it.
type queued struct {
	id      string
	encoded []byte
	reply   *sessions.Reply
}

func queueKey(ref sessions.Ref) sessionKey { return sessionKey{ref.SCID, ref.Template, ref.Name} }

// Enqueue implements sessions.Queue.
func (s *Store) Enqueue(ctx context.Context, ref sessions.Ref, w *sessions.Queued) error {
	b, err := sessions.EncodeQueued(w)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return err
	}
	k := queueKey(ref)
	q := append(s.queues[k], &queued{id: w.ID, encoded: b})
	slices.SortFunc(q, func(a, b *queued) int { return strings.Compare(a.id, b.id) })
	s.queues[k] = q
	return nil
}

// Combine implements sessions.Queue: under the store's lock, so it is
// never contended.
func (s *Store) Combine(ctx context.Context, ref sessions.Ref, limit int, apply func(*sessions.Doc, []*sessions.Queued) (*sessions.Doc, []sessions.Reply)) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	k := queueKey(ref)
	var waiting []*sessions.Queued
	for _, q := range s.queues[k] {
		if q.reply != nil {
			continue
		}
		w, err := sessions.DecodeQueued(q.id, q.encoded)
		if err != nil {
			return 0, err
		}
		if waiting = append(waiting, w); len(waiting) == limit {
			break
		}
	}
	if len(waiting) == 0 {
		return 0, nil
	}
	var stored *sessions.Doc
	if d := s.sessions[k]; d != nil {
		var err error
		if stored, err = sessions.Decode(d.Encoded, d.ETag); err != nil {
			return 0, err
		}
	}
	next, replies := apply(stored, waiting)
	if next != stored {
		switch {
		case next == nil:
			delete(s.sessions, k)
		default:
			s.sessions[k] = next
		}
	}
	for _, r := range replies {
		for _, q := range s.queues[k] {
			if q.id == r.ID {
				q.reply = &r
			}
		}
	}
	return len(replies), nil
}

// Reply implements sessions.Queue.
func (s *Store) Reply(ctx context.Context, ref sessions.Ref, id string) (*sessions.Reply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	for _, q := range s.queues[queueKey(ref)] {
		if q.id == id {
			return q.reply, nil
		}
	}
	return nil, nil
}

// Withdraw implements sessions.Queue.
func (s *Store) Withdraw(ctx context.Context, ref sessions.Ref, id string) (*sessions.Reply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	k := queueKey(ref)
	for i, q := range s.queues[k] {
		if q.id == id {
			s.queues[k] = slices.Delete(s.queues[k], i, i+1)
			return q.reply, nil
		}
	}
	return nil, nil
}

package memstore

import (
	"cmp"
	"context"
	"slices"

	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/xbl"
)

// UserSessions implements sessions.Reader.
func (s *Store) UserSessions(ctx context.Context, x xbl.XUID, f *sessions.Filter, limit int) ([]sessions.Session, xbl.Usage, error) {
	return s.find(ctx, f, limit, func(d *sessions.Doc) bool { return d.Member(x) != nil }, &x)
}

// KeywordSessions implements sessions.Reader.
func (s *Store) KeywordSessions(ctx context.Context, f *sessions.Filter, limit int) ([]sessions.Session, xbl.Usage, error) {
	return s.find(ctx, f, limit, func(d *sessions.Doc) bool { return sessions.HasKeyword(d.Keywords, f.Keyword) }, nil)
}

// find reads, in answer order, the sessions of f's SCID and template that
// have an index entry (indexed), and returns the rows f.Row makes of them
// through x, the first limit. Items counts the entries it passed over on
// the way, as a store reading in answer order would. It keeps no clock:
// reservations expire by f.Now.
func (s *Store) find(ctx context.Context, f *sessions.Filter, limit int, indexed func(*sessions.Doc) bool, x *xbl.XUID) ([]sessions.Session, xbl.Usage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit <= 0 {
		return nil, xbl.Usage{}, ctx.Err()
	}
	if err := s.begin(ctx); err != nil {
		return nil, xbl.Usage{}, err
	}
	var heads []*sessions.Head
	for k, d := range s.sessions {
		if k.scid == f.SCID && (f.Template == "" || k.template == f.Template) && indexed(d) {
			heads = append(heads, d.Head())
		}
	}
	slices.SortFunc(heads, func(a, b *sessions.Head) int {
		return cmp.Or(b.StartTime.Compare(a.StartTime), cmp.Compare(a.Template, b.Template), cmp.Compare(a.Name, b.Name))
	})
	u := xbl.Usage{Calls: 1}
	var out []sessions.Session
	for _, h := range heads {
		if len(out) == limit {
			break
		}
		u.Items++
		if row, ok := f.Row(h, x); ok {
			out = append(out, row)
		}
	}
	return out, u, nil
}

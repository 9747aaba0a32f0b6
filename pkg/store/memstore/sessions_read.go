package memstore

import (
	"context"
	"slices"

	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/xbl"
)

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

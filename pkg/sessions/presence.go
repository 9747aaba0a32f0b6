package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/xblread/xblread/pkg/xbl"
)

// Connection-based presence: a member whose real-time activity
// connection closes becomes inactive, and leaves the session once the
// session's inactive timeout has passed (constants.system
// inactiveRemovalTimeout, or memberInactiveTimeout, in ms; without one it
// stays inactive until it leaves). A session left with no member is gone.

// inactiveTimeout is d's inactive timeout; 0 for none.
func inactiveTimeout(d *Doc) time.Duration {
	for _, name := range []string{"inactiveRemovalTimeout", "memberInactiveTimeout"} {
		if v, ok := d.ConstantsSystem[name]; ok {
			if ms, err := strconv.ParseInt(string(v), 10, 64); err == nil && ms > 0 {
				return time.Duration(ms) * time.Millisecond
			}
		}
	}
	return 0
}

// ConnectionOf is member m's real-time activity connection
// (properties.system.connection); "" for none.
func ConnectionOf(m *Member) string {
	var id string
	if json.Unmarshal(m.PropertiesSystem["connection"], &id) != nil {
		return ""
	}
	return id
}

// Disconnected records that player x's connection conn closed: x becomes
// inactive in the session ref (not active, not ready), and is removed
// once the session's inactive timeout has passed. Nothing changes when x
// is not a member, or its member names another connection (it
// reconnected). It is the service's own write, not a caller's: no access
// rule applies. It retries a write that lost a race, a few times.
func (s *Service) Disconnected(ctx context.Context, ref Ref, x xbl.XUID, conn string) error {
	for range 8 {
		stored, err := s.Store.Session(ctx, ref.SCID, ref.Template, ref.Name)
		if err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		prev := live(stored, now)
		if prev == nil {
			return nil
		}
		m := prev.Member(x)
		if m == nil || m.Reserved || ConnectionOf(m) != conn || !m.Active && !m.Ready && !m.InactiveUntil.IsZero() {
			return nil
		}
		next := prev.Clone()
		next.dropExpired(now)
		nm := next.Member(x)
		nm.Active, nm.Ready = false, false
		if t := inactiveTimeout(next); t > 0 {
			nm.InactiveUntil = now.Add(t)
		}
		if err := seal(prev, next); err != nil {
			return err
		}
		next.ETag = NewID()
		switch err := s.Store.SaveSession(ctx, stored, next); {
		case errors.Is(err, ErrChanged), errors.Is(err, ErrContended):
			pause(ctx, backoff(retryWait))
			continue
		case err != nil:
			return err
		}
		return nil
	}
	return errBusy
}

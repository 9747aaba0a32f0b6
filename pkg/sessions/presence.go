package sessions

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/xblread/xblread/pkg/derrors"
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
				// The parser bounds it to 32 bits of ms (about 24 days);
				// a stored value past that is held to it.
				return time.Duration(min(ms, math.MaxInt32)) * time.Millisecond
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
// rule applies. It is written as any write is: a crowd of disconnects on
// one session waits in its queue and is combined (a session write), so
// none is lost to the others.
func (s *Service) Disconnected(ctx context.Context, ref Ref, x xbl.XUID, conn string) error {
	_, err := s.write(ctx, &xbl.Caller{XUID: x}, ref, Condition{IfMatchAny: true}, &Change{Disconnected: conn})
	if derrors.KindOf(err) == derrors.Forbidden {
		return nil // x left a private session since: nothing to change
	}
	return err
}

// disconnect applies ch.Disconnected for caller to d, at now.
func disconnect(d *Doc, caller *xbl.Caller, conn string, now time.Time) {
	m := d.Member(caller.XUID)
	if m == nil || m.Reserved || ConnectionOf(m) != conn || !m.Active && !m.Ready && !m.InactiveUntil.IsZero() {
		return
	}
	m.Active, m.Ready = false, false
	if t := inactiveTimeout(d); t > 0 {
		m.InactiveUntil = now.Add(t)
	}
}

package sessions

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// Handle types: what a handle points at a session for.
const (
	Activity = "activity" // a player's current session, for friends to find and join
	Invite   = "invite"   // an invitation of one player to a session
	Transfer = "transfer" // a lobby's move to a game session
)

// Handle limits.
const (
	// InviteLifetime is how long an invite can be read and used.
	InviteLifetime = time.Hour
	// HandleLifetime bounds an activity or transfer handle that nothing
	// replaced or deleted: its session must still be the one it named.
	HandleLifetime = 24 * time.Hour
	// MaxActivityOwners is the most players one activities query names.
	MaxActivityOwners = 100
)

// Handle is a handle: a short id that names a session for one purpose
// (Activity, Invite, Transfer). A handle never outlives its session: it
// records the session's start time, and a session of that name that
// started at another time is another session, which the handle does not
// name.
type Handle struct {
	ID           string
	Type         string
	Ref          Ref  // the session (a transfer's target)
	Origin       *Ref // a transfer's origin session
	Owner        xbl.XUID
	TitleID      string
	Invited      xbl.XUID        // an invite's invitee
	Attributes   json.RawMessage // an invite's inviteAttributes, as sent (an object); nil when none
	Created      time.Time
	Expires      time.Time // when it can no longer be used
	SessionStart time.Time // the start time of the session it names
}

// HandleStore keeps handles.
//
// PutHandle stores h; an Activity also becomes its owner's activity for
// h's SCID and title, replacing (and deleting) the one before. Handle
// returns the handle id, nil when there is none. DeleteHandle deletes h,
// and the owner's activity when it is still h. Activities returns the
// activities of owners in scid (at most one per owner and title), in no
// particular order. Each fails with a derrors.Unavailable error when
// storage cannot answer.
type HandleStore interface {
	PutHandle(ctx context.Context, h *Handle) error
	Handle(ctx context.Context, id string) (*Handle, error)
	DeleteHandle(ctx context.Context, h *Handle) error
	Activities(ctx context.Context, scid string, owners []xbl.XUID) ([]*Handle, error)
}

// HandleRequest is a POST /handles body, parsed.
type HandleRequest struct {
	Type       string
	Ref        Ref
	Origin     *Ref            // Transfer
	Invited    xbl.XUID        // Invite
	Attributes json.RawMessage // Invite; nil when none
}

// ActivityRow is one activity a query answers, with the session it names
// as the caller may see it.
type ActivityRow struct {
	Handle *Handle
	Doc    *Doc
}

var errNoHandle = derrors.New(derrors.NotFound, "no such handle")

// PostHandle makes the handle req asks for. Access to the session's SCID
// is decided first, as for a session write; then only a member of the
// session (one who joined, not a reservation) may post its activity or
// invite to it (servers may invite), and a transfer needs its target to
// exist (403 otherwise, as MPSD answers) and its caller to be a member of
// its origin (or a server).
func (s *Service) PostHandle(ctx context.Context, caller *xbl.Caller, req *HandleRequest) (*Handle, error) {
	cfg, err := s.checkAccess(ctx, caller, req.Ref)
	if err != nil {
		return nil, err
	}
	if _, err := template(cfg, req.Ref); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	doc, err := s.Store.Session(ctx, req.Ref.SCID, req.Ref.Template, req.Ref.Name)
	if err != nil {
		return nil, err
	}
	doc = live(doc, now)
	h := &Handle{ID: NewID(), Type: req.Type, Ref: req.Ref, Owner: caller.XUID, TitleID: caller.TitleID, Created: now, Expires: now.Add(HandleLifetime)}
	switch req.Type {
	case Activity:
		switch {
		case doc == nil:
			return nil, derrors.New(derrors.NotFound, "no such session")
		case caller.Server || !joined(doc, caller.XUID):
			return nil, derrors.New(derrors.Forbidden, "only a member of the session may post its activity")
		}
	case Invite:
		switch {
		case doc == nil:
			return nil, derrors.New(derrors.NotFound, "no such session")
		case !caller.Server && !joined(doc, caller.XUID):
			return nil, derrors.New(derrors.Forbidden, "only a member of the session (or a server) may invite to it")
		case req.Invited == 0:
			return nil, derrors.New(derrors.Invalid, "$.invitedXuid is required")
		}
		h.Invited, h.Attributes, h.Expires = req.Invited, req.Attributes, now.Add(InviteLifetime)
	case Transfer:
		if doc == nil {
			return nil, derrors.New(derrors.Forbidden, "the transfer's target session does not exist")
		}
		if req.Origin == nil {
			return nil, derrors.New(derrors.Invalid, "$.originSessionRef is required for a transfer")
		}
		if !caller.Server {
			if _, err := s.checkAccess(ctx, caller, *req.Origin); err != nil {
				return nil, err
			}
			origin, err := s.Store.Session(ctx, req.Origin.SCID, req.Origin.Template, req.Origin.Name)
			if err != nil {
				return nil, err
			}
			if origin = live(origin, now); origin == nil || !joined(origin, caller.XUID) {
				return nil, derrors.New(derrors.Forbidden, "only a member of the origin session (or a server) may transfer it")
			}
		}
		h.Origin = req.Origin
	default:
		return nil, derrors.New(derrors.Invalid, "$.type must be \"activity\", \"invite\" or \"transfer\"")
	}
	h.SessionStart = doc.StartTime
	if err := s.Handles.PutHandle(ctx, h); err != nil {
		return nil, err
	}
	return h, nil
}

// handle reads handle id for caller: NotFound when there is none, or it
// expired; the caller must have access to its session's SCID (as for a
// session call), and an invite is its invitee's, its sender's and
// servers' only.
func (s *Service) handle(ctx context.Context, caller *xbl.Caller, id string) (*Handle, error) {
	h, err := s.Handles.Handle(ctx, id)
	if err != nil {
		return nil, err
	}
	if h == nil || !s.now().Before(h.Expires) {
		return nil, errNoHandle
	}
	if _, err := s.checkAccess(ctx, caller, h.Ref); err != nil {
		return nil, err
	}
	if h.Type == Invite && !caller.Server && caller.XUID != h.Invited && caller.XUID != h.Owner {
		return nil, derrors.New(derrors.Forbidden, "the invite is for another player")
	}
	return h, nil
}

// SessionByHandle reads the session handle id names, with the session's
// own rules (Get; an invite's invitee may read a private session): nil
// when it is gone, or is another session of the same name. An activity
// whose owner left the session is gone (NotFound), and deleted.
func (s *Service) SessionByHandle(ctx context.Context, caller *xbl.Caller, id string) (Ref, *Doc, error) {
	h, err := s.handle(ctx, caller, id)
	if err != nil {
		return Ref{}, nil, err
	}
	d, err := s.get(ctx, caller, h.Ref, h.Type == Invite && caller.XUID == h.Invited)
	if err != nil || d == nil || !d.StartTime.Equal(h.SessionStart) {
		return h.Ref, nil, err
	}
	if h.Type == Activity && !joined(d, h.Owner) {
		// The owner left: its activity ended with it.
		s.Handles.DeleteHandle(context.WithoutCancel(ctx), h)
		return Ref{}, nil, errNoHandle
	}
	return h.Ref, d, nil
}

// PutByHandle writes ch to the session handle id names, with the
// session's own rules (Put); the invitee of an invite may join it
// whatever its visibility (not when it is closed or full). A session that
// is gone, or is another of the same name, or (for an activity) that its
// owner left, is NotFound: Multiplayer Manager then makes a new one.
func (s *Service) PutByHandle(ctx context.Context, caller *xbl.Caller, id string, cond Condition, ch *Change) (Ref, *WriteResult, error) {
	h, err := s.handle(ctx, caller, id)
	if err != nil {
		return Ref{}, nil, err
	}
	c := *ch
	c.Session = h.SessionStart
	c.Invited = h.Type == Invite && caller.XUID == h.Invited
	if h.Type == Activity {
		c.Owner = h.Owner
	}
	res, err := s.Put(ctx, caller, h.Ref, cond, &c)
	if errors.Is(err, errHandleGone) && h.Type == Activity {
		s.Handles.DeleteHandle(context.WithoutCancel(ctx), h) // best effort
	}
	return h.Ref, res, err
}

// DeleteHandle deletes handle id: its owner's to delete (an invite's
// invitee's too), or a server's.
func (s *Service) DeleteHandle(ctx context.Context, caller *xbl.Caller, id string) error {
	h, err := s.handle(ctx, caller, id)
	if err != nil {
		return err
	}
	if !caller.Server && caller.XUID != h.Owner && !(h.Type == Invite && caller.XUID == h.Invited) {
		return derrors.New(derrors.Forbidden, "only the handle's owner may delete it")
	}
	return s.Handles.DeleteHandle(ctx, h)
}

// QueryActivities returns the activities of owners in the SCID scid, as
// caller may see them: each with the session it names, read once per
// session, and only while its owner is still a member of that same
// session (a stale activity is deleted, best effort, and not answered).
// A private session's activity is its members' and servers' only.
func (s *Service) QueryActivities(ctx context.Context, caller *xbl.Caller, scidRaw, scid string, owners []xbl.XUID) ([]ActivityRow, error) {
	if len(owners) > MaxActivityOwners {
		return nil, derrors.New(derrors.Invalid, "$.owners.xuids names %d players; a query names at most %d", len(owners), MaxActivityOwners)
	}
	ref := Ref{SCIDRaw: scidRaw, SCID: scid}
	if _, err := s.checkAccess(ctx, caller, ref); err != nil {
		return nil, err
	}
	owners = slices.Clone(owners) // each owner once, as the session query reads a repeated xuid once
	slices.Sort(owners)
	owners = slices.Compact(owners)
	hs, err := s.Handles.Activities(ctx, scid, owners)
	if err != nil {
		return nil, err
	}
	// Each session once, 16 reads at a time.
	docs := map[Ref]*Doc{}
	for _, h := range hs {
		docs[h.Ref.key()] = nil
	}
	refs := slices.Collect(maps.Keys(docs))
	read := make([]*Doc, len(refs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(QueryConcurrency)
	for i, r := range refs {
		g.Go(func() (err error) {
			read[i], err = s.Store.Session(gctx, r.SCID, r.Template, r.Name)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, r := range refs {
		docs[r] = read[i]
	}
	now := s.now()
	var out []ActivityRow
	for _, h := range hs {
		d := live(docs[h.Ref.key()], now)
		if d == nil || !d.StartTime.Equal(h.SessionStart) || !joined(d, h.Owner) || !now.Before(h.Expires) {
			s.Handles.DeleteHandle(context.WithoutCancel(ctx), h) // stale: best effort
			continue
		}
		if !mayRead(d, caller, now) {
			continue
		}
		d = d.Clone()
		d.dropExpired(now)
		out = append(out, ActivityRow{Handle: h, Doc: d})
	}
	slices.SortFunc(out, func(a, b ActivityRow) int { return cmp.Compare(a.Handle.Owner, b.Handle.Owner) })
	return out, nil
}

// key is r as a map key: its canonical parts only.
func (r Ref) key() Ref { return Ref{SCID: r.SCID, Template: r.Template, Name: r.Name} }

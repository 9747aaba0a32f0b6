package rta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/xbl"
)

// MaxLife is how long a connection lives: the service drops it after 2
// hours (the client reconnects after about 90 minutes on its own).
const MaxLife = 2 * time.Hour

// Connection is one player's WebSocket connection and its subscriptions.
type Connection struct {
	ID      string
	XUID    xbl.XUID
	TitleID string
	Opened  time.Time
	Subs    map[int64]string // subscription id → resource
	NextSub int64            // the id the next subscription takes (from 1)
	Version int64            // grows on each change (the store's condition)
	// Sessions are the sessions whose members named this connection
	// (SessionOf): when it closes, its player becomes inactive in each
	// (Presence). At most MaxSessions are noted.
	Sessions []string
}

// Expires is when c ends.
func (c *Connection) Expires() time.Time { return c.Opened.Add(MaxLife) }

// Multiplayer returns the id of c's subscription to ConnectionsResource.
func (c *Connection) Multiplayer() (int64, bool) {
	for _, id := range slices.Sorted(maps.Keys(c.Subs)) {
		if c.Subs[id] == ConnectionsResource {
			return id, true
		}
	}
	return 0, false
}

// Store keeps connections.
//
// PutConnection stores c if the stored connection of its id is at version
// prev (0: there is none), then at c.Version; otherwise ErrChanged.
// Connections returns the live connections among ids, by id (a missing
// one is left out). DeleteConnection deletes one (none is not an error).
// Each fails with a derrors.Unavailable error when storage cannot answer.
//
// AddSession adds resource to connection id's Sessions and moves its
// version on (a connection that is gone, or that notes MaxSessions
// already, is not an error: it changes nothing).
type Store interface {
	PutConnection(ctx context.Context, c *Connection, prev int64) error
	Connections(ctx context.Context, ids []string) (map[string]*Connection, error)
	DeleteConnection(ctx context.Context, id string) error
	AddSession(ctx context.Context, id, resource string) error
}

// Presence is told when a connection closes: its player becomes inactive
// in a session whose member names it (sessions.Service.Disconnected).
type Presence interface {
	Disconnected(ctx context.Context, ref sessions.Ref, x xbl.XUID, conn string) error
}

// Limiter counts a caller's requests of a service: an error of kind
// derrors.Throttled when it is over its limit (ratelimit.Limiter).
type Limiter interface {
	Check(ctx context.Context, service string, c *xbl.Caller) error
}

// LimitService is the service a player's messages are counted as.
const LimitService = "rta"

// ErrChanged is PutConnection's answer when the connection changed since
// it was read.
var ErrChanged = errors.New("rta: the connection changed since it was read")

// Poster sends a message on a connection: ErrGone when the connection is
// gone (API Gateway's 410).
type Poster interface {
	Post(ctx context.Context, id string, msg []byte) error
}

// ErrGone is Poster's answer for a connection that is gone.
var ErrGone = errors.New("rta: the connection is gone")

// Service is real-time activity over the connections it keeps.
type Service struct {
	Store    Store
	Poster   Poster   // nil where the service sends no taps
	Presence Presence // nil where a closed connection changes no session
	// Limiter counts a player's messages (ratelimit.RTA): one over its
	// limit is answered code 1001 (throttled), which XSAPI retries. Nil
	// limits nothing.
	Limiter Limiter
	Now     func() time.Time // time.Now when nil
	NewID   func() string    // ids of taps (ncid); sessions.NewID when nil
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Service) newID() string {
	if s.NewID == nil {
		return sessions.NewID()
	}
	return s.NewID()
}

// Connect records connection id of caller, a player (a server has no
// sessions to hear of: Forbidden).
func (s *Service) Connect(ctx context.Context, caller *xbl.Caller, id string) error {
	if caller.Server || caller.XUID == 0 {
		return derrors.New(derrors.Forbidden, "real-time activity is a player's: a server token has no sessions to hear of")
	}
	c := &Connection{ID: id, XUID: caller.XUID, TitleID: caller.TitleID, Opened: s.now().UTC(), Subs: map[int64]string{}, NextSub: 1, Version: 1}
	return s.Store.PutConnection(ctx, c, 0)
}

// Disconnect forgets connection id, and first makes its player inactive
// in every session whose member still names it (Presence). Sessions the
// connection learns of meanwhile (a join just before the close) are
// handled too: the connection is read again until it names none left.
func (s *Service) Disconnect(ctx context.Context, id string) error {
	done := map[string]bool{}
	var first error
	for range 4 {
		cs, err := s.Store.Connections(ctx, []string{id})
		if err != nil {
			return err
		}
		c := cs[id]
		if c == nil || s.Presence == nil {
			break
		}
		var todo []string
		for _, ses := range c.Sessions {
			if !done[ses] {
				todo = append(todo, ses)
			}
		}
		if len(todo) == 0 {
			break
		}
		for _, ses := range todo {
			done[ses] = true
			parts := strings.SplitN(ses, "/", 3)
			if len(parts) != 3 {
				continue
			}
			ref := sessions.Ref{SCIDRaw: parts[0], SCID: parts[0], Template: parts[1], Name: parts[2]}
			if err := s.Presence.Disconnected(ctx, ref, c.XUID, id); err != nil && first == nil {
				first = err
			}
		}
	}
	if err := s.Store.DeleteConnection(ctx, id); err != nil {
		return err
	}
	return first
}

// SessionOf names session d in a connection's Sessions:
// "<scid>/<template>/<name>" ('/' is in no name).
func SessionOf(d *sessions.Doc) string { return d.SCID + "/" + d.Template + "/" + d.Name }

// Resource is the tap resource of a session: "<scid>~<template>~<name>".
func Resource(d *sessions.Doc) string { return d.SCID + "~" + d.Template + "~" + d.Name }

// Receive handles one client frame on connection id and returns the
// answer to send back. A frame that cannot be read is a *FrameError: the
// connection closes with its reason. A connection that is gone or past
// its life is NotFound. When storage fails, the error comes with the
// frame's answer "unavailable" (code 1002, which XSAPI retries): the
// connection stays.
func (s *Service) Receive(ctx context.Context, id string, frame []byte) ([]byte, error) {
	f, err := ParseFrame(frame)
	if err != nil {
		return nil, err
	}
	unavailable := func(err error) ([]byte, error) {
		answer, _ := subscribeOrUnsubscribe(f, Unavailable)
		return answer, err
	}
	counted := false
	for range 8 { // a few tries against concurrent frames of one connection
		cs, err := s.Store.Connections(ctx, []string{id})
		if err != nil {
			return unavailable(err)
		}
		c := cs[id]
		if c == nil || !s.now().Before(c.Expires()) {
			return nil, derrors.New(derrors.NotFound, "the connection is gone")
		}
		if s.Limiter != nil && !counted {
			counted = true
			err := s.Limiter.Check(ctx, LimitService, &xbl.Caller{XUID: c.XUID, TitleID: c.TitleID})
			if derrors.KindOf(err) == derrors.Throttled {
				return subscribeOrUnsubscribe(f, Throttled)
			}
			// A count that failed (storage) lets the message through, as
			// the HTTP APIs do.
		}
		prev := c.Version
		answer, changed, err := apply(c, f)
		switch {
		case err != nil:
			return unavailable(err)
		case !changed:
			return answer, nil
		}
		c.Version++
		switch err := s.Store.PutConnection(ctx, c, prev); {
		case errors.Is(err, ErrChanged):
			continue
		case err != nil:
			return unavailable(err)
		}
		return answer, nil
	}
	return subscribeOrUnsubscribe(f, Unavailable)
}

// subscribeOrUnsubscribe is the answer to f with code (and no
// subscription).
func subscribeOrUnsubscribe(f *Frame, code int) ([]byte, error) {
	if f.Type == Unsubscribe {
		return UnsubscribeAnswer(f.Seq, code)
	}
	return SubscribeAnswer(f.Seq, code, 0, nil)
}

// apply applies f to c: its answer, and whether c changed.
func apply(c *Connection, f *Frame) ([]byte, bool, error) {
	switch f.Type {
	case Subscribe:
		if f.URI != ConnectionsResource {
			b, err := SubscribeAnswer(f.Seq, UnknownResource, 0, nil)
			return b, false, err
		}
		if id, ok := c.Multiplayer(); ok {
			// Subscribed already: the same subscription again.
			b, err := SubscribeAnswer(f.Seq, Success, id, map[string]string{"ConnectionId": c.ID})
			return b, false, err
		}
		if len(c.Subs) >= MaxSubscriptions {
			b, err := SubscribeAnswer(f.Seq, SubscriptionsMax, 0, nil)
			return b, false, err
		}
		id := c.NextSub
		c.NextSub++
		c.Subs[id] = f.URI
		b, err := SubscribeAnswer(f.Seq, Success, id, map[string]string{"ConnectionId": c.ID})
		return b, true, err
	default: // Unsubscribe
		if _, ok := c.Subs[f.SubID]; !ok {
			b, err := UnsubscribeAnswer(f.Seq, UnknownResource)
			return b, false, err
		}
		delete(c.Subs, f.SubID)
		b, err := UnsubscribeAnswer(f.Seq, Success)
		return b, true, err
	}
}

// Change kinds: what a member's subscription may ask to hear of
// (subscription.changeTypes).
const (
	Everything            = "everything"
	Host                  = "host"
	Initialization        = "initialization"
	MatchmakingStatus     = "matchmakingStatus"
	MembersList           = "membersList"
	MembersStatus         = "membersStatus"
	Joinability           = "joinability"
	CustomProperty        = "customProperty"
	MembersCustomProperty = "membersCustomProperty"
)

// Kinds returns the kinds of the change from before to after (nil before:
// the session was created), in a fixed order.
func Kinds(before, after *sessions.Doc) []string {
	if after == nil {
		return nil
	}
	if before == nil {
		before = &sessions.Doc{}
	}
	var out []string
	add := func(k string, changed bool) {
		if changed {
			out = append(out, k)
		}
	}
	sys := func(d *sessions.Doc, name string) json.RawMessage { return d.PropertiesSystem[name] }
	add(Host, !bytes.Equal(sys(before, "host"), sys(after, "host")))
	add(Initialization, before.CorrelationID == "")
	add(MatchmakingStatus, !bytes.Equal(sys(before, "matchmaking"), sys(after, "matchmaking")))
	add(MembersList, !slices.Equal(xuids(before), xuids(after)))
	add(MembersStatus, !slices.Equal(statuses(before), statuses(after)))
	add(Joinability, before.JoinRestriction != after.JoinRestriction || before.Visibility != after.Visibility ||
		before.MaxMembers != after.MaxMembers || before.Closed() != after.Closed() || !bytes.Equal(sys(before, "locked"), sys(after, "locked")))
	add(CustomProperty, !maps.EqualFunc(before.PropertiesCustom, after.PropertiesCustom, rawEqual))
	add(MembersCustomProperty, !slices.EqualFunc(before.Members, after.Members, func(a, b sessions.Member) bool {
		return a.XUID == b.XUID && maps.EqualFunc(a.PropertiesCustom, b.PropertiesCustom, rawEqual)
	}))
	return out
}

func rawEqual(a, b json.RawMessage) bool { return bytes.Equal(a, b) }

// memberOf is x's member of d; nil when d is nil or x is not in it.
func memberOf(d *sessions.Doc, x xbl.XUID) *sessions.Member {
	if d == nil {
		return nil
	}
	return d.Member(x)
}

func xuids(d *sessions.Doc) []xbl.XUID {
	var out []xbl.XUID
	for _, m := range d.Members {
		out = append(out, m.XUID)
	}
	slices.Sort(out)
	return out
}

func statuses(d *sessions.Doc) []string {
	var out []string
	for _, m := range d.Members {
		out = append(out, m.XUID.String()+"="+m.Status())
	}
	slices.Sort(out)
	return out
}

// subscription is a member's properties.system.subscription.
type subscription struct {
	ID          string   `json:"id"`
	ChangeTypes []string `json:"changeTypes"`
}

// wants reports whether a member subscribed to hear of kinds.
func (sub *subscription) wants(kinds []string) bool {
	for _, t := range sub.ChangeTypes {
		if t == Everything && len(kinds) > 0 || slices.Contains(kinds, t) {
			return true
		}
	}
	return false
}

// Tap sends the shoulder tap of the change of a session from before (nil:
// created) to after (nil: deleted, which taps nobody) to each member of
// after whose properties.system.connection is a live connection of that
// same player, subscribed to the multiplayer resource, and whose
// subscription's changeTypes match the change. Nobody else hears of it. A
// connection found gone is passed over (its $disconnect forgets it). It
// returns how many taps were sent.
func (s *Service) Tap(ctx context.Context, before, after *sessions.Doc) (int, error) {
	if after == nil {
		return 0, nil
	}
	kinds := Kinds(before, after)
	// The members that name a connection, and whether each names it since
	// this change (a join, a reconnect: the connection learns of the
	// session even when nothing a tap is for changed).
	named := map[string][]*sessions.Member{} // connection id → the members naming it
	fresh := map[*sessions.Member]bool{}
	for i := range after.Members {
		m := &after.Members[i]
		conn := sessions.ConnectionOf(m)
		if m.Reserved || conn == "" {
			continue
		}
		named[conn] = append(named[conn], m)
		if b := memberOf(before, m.XUID); b == nil || sessions.ConnectionOf(b) != conn {
			fresh[m] = true
		}
	}
	if len(named) == 0 || len(kinds) == 0 && len(fresh) == 0 {
		return 0, nil
	}
	conns, err := s.Store.Connections(ctx, slices.Sorted(maps.Keys(named)))
	if err != nil {
		return 0, err
	}
	now := s.now()
	// A connection counts for the member of its own player only: another
	// member that copies its id neither hears through it nor changes what
	// its owner hears.
	want := map[string]bool{}
	for id, ms := range named {
		c := conns[id]
		if c == nil || !now.Before(c.Expires()) {
			continue
		}
		for _, m := range ms {
			if m.XUID != c.XUID {
				continue
			}
			if fresh[m] {
				// So that closing it makes its player inactive here.
				if err := s.Store.AddSession(ctx, id, SessionOf(after)); err != nil {
					return 0, err
				}
			}
			var sub subscription
			if json.Unmarshal(m.PropertiesSystem["subscription"], &sub) == nil && sub.wants(kinds) {
				want[id] = true
			}
		}
	}
	tap := Taps{NCID: s.newID(), ShoulderTaps: []ShoulderTap{{
		Resource: Resource(after), ChangeNumber: after.ChangeNumber, Branch: after.CorrelationID,
	}}}
	// Each connection's tap is posted at once (16 at a time): a change of
	// a 100-member session must not take 100 round trips.
	var mu sync.Mutex
	sent := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(postConcurrency)
	for _, id := range slices.Sorted(maps.Keys(want)) {
		c := conns[id]
		subID, ok := c.Multiplayer()
		if !ok {
			continue
		}
		msg, err := EventMessage(subID, tap)
		if err != nil {
			return sent, err
		}
		g.Go(func() error {
			switch err := s.Poster.Post(gctx, id, msg); {
			case errors.Is(err, ErrGone):
				// Closed: its $disconnect forgets it (and makes its player
				// inactive); deleting it here would leave $disconnect
				// nothing to go by.
				return nil
			case err != nil:
				return err
			}
			mu.Lock()
			sent++
			mu.Unlock()
			return nil
		})
	}
	err = g.Wait()
	return sent, err
}

// postConcurrency bounds the taps of one change in flight.
const postConcurrency = 16

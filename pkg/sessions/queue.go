package sessions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// Queue holds the writes that lost a race for a session until one writer
// applies them together (combining): a crowd joining one lobby then costs
// a few commits of many joins each, instead of one commit per join, each
// bought by every other writer's retries (docs/ARCHITECTURE.md, "What a
// session write contends on").
//
// Enqueue stores w as waiting on the session ref. Combine claims the
// session for one commit (ErrContended, at once, while another write holds
// it), reads its stored document (nil when none) and the writes waiting
// on it, at most limit of them in the order they were queued, and calls
// apply with them; when there are none it changes nothing and returns 0.
// It then commits, in one transaction, what apply returns: next replaces
// the stored document (next == stored: the document is unchanged; nil:
// the session is deleted) and each reply is stored on its write; the
// commit holds only while the document is still the one read and each
// replied write is still waiting (ErrChanged, ErrContended otherwise: the
// store keeps nothing of it). It returns the number of writes replied to.
// Reply returns the reply stored on write id, nil while it waits.
// Withdraw deletes write id: once it returns, no commit applies it. It
// returns the write's reply, nil when it had none (it was never applied).
// Each fails with a derrors.Unavailable error when storage cannot answer.
type Queue interface {
	Enqueue(ctx context.Context, ref Ref, w *Queued) error
	Combine(ctx context.Context, ref Ref, limit int, apply func(stored *Doc, waiting []*Queued) (next *Doc, replies []Reply)) (int, error)
	Reply(ctx context.Context, ref Ref, id string) (*Reply, error)
	Withdraw(ctx context.Context, ref Ref, id string) (*Reply, error)
}

// Queued is a write waiting on a session: a PUT without an ETag
// condition that lost a race for it.
type Queued struct {
	ID     string // QueueID: in the order writes were queued
	Caller xbl.Caller
	Cond   Condition // IfMatchAny or none (combinable)
	Change *Change
	// Until is when the writer stops waiting: a commit at or after it
	// refuses the write, so that one whose writer answered 503 (and could
	// not withdraw it) is never applied.
	Until time.Time
}

// Reply is what the commit that took a queued write did with it.
type Reply struct {
	ID      string
	Outcome Outcome // of the write, when not Refused
	Refused bool    // the rules refused the write: Kind and Message say why
	Kind    derrors.Kind
	Message string
	// Start is the start time of the session the write changed (zero
	// when it changed none): its answer is that session, not a later
	// one of the same name.
	Start time.Time
}

// CombineLimit is the most queued writes one commit applies: their
// replies, with the document, the head and the claim, and the deletes of
// removed keywords' entries while there is room, stay within DynamoDB's
// 100 actions (the index entries of joiners go beside the transaction
// once a session holds more than a lobby's, or in it when they fit).
const CombineLimit = 40

// QueueID returns a new id for a write queued at now: ids sort in the
// order of their times.
func QueueID(now time.Time) string {
	return fmt.Sprintf("%016x-%s", now.UnixNano(), NewID()[:8])
}

// combinable reports whether a write under cond may wait in the queue: one
// without an ETag condition (a create-only or version-bound write must see
// the version it names, so it retries as before).
func (c Condition) combinable() bool { return !c.IfNoneMatchAny && len(c.IfMatch) == 0 }

// queuedWire is the stored form of a queued write.
type queuedWire struct {
	Caller xbl.Caller `json:"caller"`
	Cond   Condition  `json:"cond"`
	Change *Change    `json:"change"`
	Until  time.Time  `json:"until"`
}

// EncodeQueued returns w's stored form (its ID is the store's key).
func EncodeQueued(w *Queued) ([]byte, error) {
	return marshalKept(queuedWire{Caller: w.Caller, Cond: w.Cond, Change: w.Change, Until: w.Until})
}

// marshalKept encodes v with its kept values as they are: HTML characters
// not escaped (encoding/json would write "&" as "\u0026", and a kept
// value is stored with the fewest escapes).
func marshalKept(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// DecodeQueued reads a write stored by EncodeQueued under id.
func DecodeQueued(id string, b []byte) (*Queued, error) {
	var q queuedWire
	if err := json.Unmarshal(b, &q); err != nil {
		return nil, fmt.Errorf("queued write %s: %w", id, err)
	}
	if q.Change == nil {
		return nil, fmt.Errorf("queued write %s: no change", id)
	}
	return &Queued{ID: id, Caller: q.Caller, Cond: q.Cond, Change: q.Change, Until: q.Until}, nil
}

// How a queued write waits: it looks for its reply after pollWait, a wait
// that grows by half each time up to maxPollWait, and, finding none,
// tries to combine the waiting writes itself (the writer that holds the
// session may be busy with an earlier batch, or gone).
const (
	pollWait    = 15 * time.Millisecond
	maxPollWait = 100 * time.Millisecond
)

// queue makes ch wait on the session ref until a commit takes it (this
// write's own, or another's), and answers what that commit did. A write out
// of time withdraws itself: it is then either answered from its reply, or
// never applied (errBusy). It returns errNotQueued, having changed nothing,
// when the queue does not take the write (too large to store).
func (s *Service) queue(ctx, sctx context.Context, caller *xbl.Caller, ref Ref, cond Condition, ch *Change) (*WriteResult, error) {
	until, _ := sctx.Deadline()
	w := &Queued{ID: QueueID(s.now()), Caller: *caller, Cond: cond, Change: ch, Until: until}
	withdraw := func() (*WriteResult, error) {
		// The write's time is up: it leaves the queue, unless a commit
		// took it first. Storage that fails is asked again in the time
		// kept for the answer; past w.Until no commit applies it anyway.
		var r *Reply
		err := errBusy
		for err != nil && ctx.Err() == nil {
			if r, err = s.Queue.Withdraw(ctx, ref, w.ID); err != nil {
				pause(ctx, 20*time.Millisecond)
			}
		}
		if err != nil || r == nil {
			return nil, errBusy
		}
		return s.replied(ctx, caller, ref, r)
	}
	if err := s.Queue.Enqueue(sctx, ref, w); err != nil {
		if derrors.KindOf(err) == derrors.Invalid {
			return nil, errNotQueued
		}
		// Its answer may have been lost with the item stored: withdraw
		// it, so that nothing applies it after a 503.
		return withdraw()
	}
	wait := pollWait
	for {
		if pause(sctx, wait) != nil {
			return withdraw()
		}
		wait = min(wait+wait/2, maxPollWait)
		// A read or a combine that fails (storage throttled under the
		// crowd, say) is tried again while there is time: only the
		// deadline withdraws the write.
		r, err := s.Queue.Reply(sctx, ref, w.ID)
		if err != nil {
			continue
		}
		if r == nil {
			// Another writer holding the session (ErrContended) or
			// winning it (ErrChanged), a failure, or nothing combined:
			// poll again.
			if n, err := s.Queue.Combine(sctx, ref, CombineLimit, s.combine(ref)); err != nil || n == 0 {
				continue
			}
			wait = 0 // this write's batch may have been later than the one taken
			if r, err = s.Queue.Reply(sctx, ref, w.ID); err != nil || r == nil {
				wait = pollWait
				continue
			}
		}
		// Answered: the queue's item is no longer needed; it is deleted
		// while the session is read for the answer.
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Queue.Withdraw(context.WithoutCancel(ctx), ref, w.ID)
		}()
		res, err := s.replied(ctx, caller, ref, r)
		<-done
		return res, err
	}
}

var errNotQueued = errors.New("sessions: the write was not queued")

// combine returns the function that applies waiting writes, in order, to
// the stored session ref at one reading of the clock, as Put would apply
// each of them alone: access (a private session's stranger is refused),
// condition, rules. A write the rules refuse changes nothing and is
// replied to with why; a write that empties the session ends the batch
// (the session is deleted by that commit; the writes after it wait for
// the next).
func (s *Service) combine(ref Ref) func(*Doc, []*Queued) (*Doc, []Reply) {
	return func(stored *Doc, waiting []*Queued) (*Doc, []Reply) {
		now := s.now()
		cur := live(stored, now)
		changed := false
		var replies []Reply
		for _, w := range waiting {
			r := Reply{ID: w.ID}
			switch {
			case !w.Until.IsZero() && !now.Before(w.Until):
				// Its writer stopped waiting (and answered 503).
				r.Refused, r.Kind, r.Message = true, derrors.Unavailable, publicOf(errBusy)
			case cur != nil && !mayRead(cur, &w.Caller, now) && !w.Change.Invited:
				r.Refused, r.Kind, r.Message = true, derrors.Forbidden, publicOf(errPrivate)
			case !w.Change.sameSession(cur):
				r.Refused, r.Kind, r.Message = true, derrors.NotFound, publicOf(errHandleGone)
			case !w.Cond.holds(cur):
				r.Outcome = ConditionFailed
			default:
				next, err := apply(cur, w.Change, &w.Caller, ref, now)
				switch {
				case err != nil:
					r.Refused = true
					r.Kind, r.Message = derrors.Of(err)
				case cur != nil && bytes.Equal(cur.Encoded, next.Encoded):
					r.Outcome = Updated // already as asked
				case len(next.Members) == 0 && cur == nil:
					r.Outcome = Deleted // a create with no members
				case len(next.Members) == 0:
					r.Outcome = Deleted
					cur, changed = nil, true
				case cur == nil:
					r.Outcome = Created
					cur, changed = next, true
				default:
					r.Outcome = Updated
					cur, changed = next, true
				}
			}
			replies = append(replies, r)
			if changed && cur == nil {
				break // the session is gone with this commit
			}
		}
		switch {
		case !changed:
			return stored, replies
		case cur != nil:
			cur.ETag = NewID()
			for i := range replies {
				if !replies[i].Refused && replies[i].Outcome != ConditionFailed && replies[i].Outcome != Deleted {
					replies[i].Start = cur.StartTime
				}
			}
		}
		return cur, replies
	}
}

// publicOf is the caller-safe message of err.
func publicOf(err error) string { _, msg := derrors.Of(err); return msg }

// replied is the answer to caller's queued write, from its reply: the
// session as stored now (read once), as the write's caller may see it.
func (s *Service) replied(ctx context.Context, caller *xbl.Caller, ref Ref, r *Reply) (*WriteResult, error) {
	if r.Refused {
		if r.Kind == derrors.Internal {
			return nil, errBusy
		}
		return nil, &derrors.Error{Kind: r.Kind, Message: r.Message}
	}
	if r.Outcome == Deleted {
		return &WriteResult{Outcome: Deleted}, nil
	}
	stored, err := s.Store.Session(context.WithoutCancel(ctx), ref.SCID, ref.Template, ref.Name)
	if err != nil {
		return nil, derrors.Wrap(derrors.Unavailable, "the session write was applied, but the session could not be read; read it", err)
	}
	now := s.now()
	cur := live(stored, now)
	if r.Outcome == ConditionFailed {
		return failed(cur, caller, now)
	}
	if cur == nil || !r.Start.IsZero() && !cur.StartTime.Equal(r.Start) || !mayRead(cur, caller, now) {
		// Applied, then ended by later writes (or replaced by another
		// session of the name, or one the caller may not read) before it
		// could be read: no session to answer with.
		return &WriteResult{Outcome: Deleted}, nil
	}
	cur.dropExpired(now)
	return &WriteResult{Outcome: r.Outcome, Doc: cur}, nil
}

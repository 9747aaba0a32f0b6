// Package derrors gives errors a kind: what went wrong in the caller's
// terms (bad input, no access, nothing there, a dependency down), so that
// the code that finds a problem does not choose how it is answered. The HTTP
// edge maps kinds to statuses in one place (httpapi.Status).
//
// An *Error carries a message that is safe to show the caller; the error it
// wraps, if any, is for logs only.
package derrors

import (
	"context"
	"errors"
	"fmt"
)

// Kind classifies an error.
type Kind int

// The kinds. The zero Kind is Internal: an error of no known kind is a
// fault of this service, and its text is never shown.
const (
	Internal        Kind = iota
	Invalid              // the request is malformed or breaks a limit
	Unauthenticated      // no valid credentials
	Forbidden            // the caller may not do this
	NotFound             // the addressed thing does not exist
	Unsupported          // a version or representation the service does not serve
	Unavailable          // a dependency failed; retrying later may succeed
	Timeout              // the request ran out of time
	Canceled             // the caller went away
	Throttled            // the caller sent more requests than its limit
	Conflict             // the request contradicts the current state of what it addresses
)

var kindNames = [...]string{"internal", "invalid", "unauthenticated", "forbidden", "not found", "unsupported", "unavailable", "timeout", "canceled", "throttled", "conflict"}

// String returns the kind's name, for logs.
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is an error of a known kind.
type Error struct {
	Kind Kind
	// Message is shown to the caller.
	Message string
	// Err is the cause, logged but never shown.
	Err error
}

// Error implements error; it includes the logged cause.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.Message, e.Err)
	}
	return e.Kind.String() + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error of kind k whose caller-facing message is formatted
// from format and args.
func New(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of kind k with the caller-facing message msg and
// the logged cause err.
func Wrap(k Kind, msg string, err error) error {
	return &Error{Kind: k, Message: msg, Err: err}
}

// Kinder is implemented by errors of other packages that know their kind
// and a caller-safe message (auth.Error does).
type Kinder interface {
	error
	Kind() Kind
	Public() string
}

// Of returns err's kind and the message the caller may see. The nearest
// *Error or Kinder in err's chain decides; a context's deadline or
// cancellation is Timeout or Canceled; anything else is Internal, with a
// generic message.
func Of(err error) (Kind, string) {
	var e *Error
	var k Kinder
	switch {
	case errors.As(err, &e) && e.Kind != Internal:
		return e.Kind, e.Message
	case errors.As(err, &k) && k.Kind() != Internal:
		return k.Kind(), k.Public()
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout, "the request could not be completed in time"
	case errors.Is(err, context.Canceled):
		return Canceled, "request canceled"
	}
	return Internal, "internal error"
}

// KindOf returns err's kind, as Of does.
func KindOf(err error) Kind {
	k, _ := Of(err)
	return k
}

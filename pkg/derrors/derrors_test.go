package derrors

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

type authErr struct{}

func (authErr) Error() string  { return "auth exp: token has expired" }
func (authErr) Kind() Kind     { return Unauthenticated }
func (authErr) Public() string { return "unauthorized: token has expired" }

func TestOf(t *testing.T) {
	cause := errors.New("dial tcp 10.0.0.1:443: secret detail")
	tests := []struct {
		name string
		err  error
		kind Kind
		msg  string
	}{
		{"new", New(Invalid, "xuids has %d entries", 101), Invalid, "xuids has 101 entries"},
		{"wrapped by fmt", fmt.Errorf("read: %w", New(NotFound, "scid x")), NotFound, "scid x"},
		{"wrap keeps the cause out of the message", Wrap(Unavailable, "retry later", cause), Unavailable, "retry later"},
		{"kinder", fmt.Errorf("verify: %w", authErr{}), Unauthenticated, "unauthorized: token has expired"},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), Timeout, "the request could not be completed in time"},
		{"canceled", context.Canceled, Canceled, "request canceled"},
		{"unknown", cause, Internal, "internal error"},
		{"nearest kind wins", &Error{Kind: Forbidden, Message: "outer", Err: New(NotFound, "inner")}, Forbidden, "outer"},
		{"internal never shows its message", New(Internal, "table xblread-prod: secret"), Internal, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, msg := Of(tt.err)
			if k != tt.kind || msg != tt.msg {
				t.Errorf("Of = %v %q, want %v %q", k, msg, tt.kind, tt.msg)
			}
			if strings.Contains(msg, "secret") {
				t.Errorf("message %q leaks the cause", msg)
			}
		})
	}
	w := Wrap(Unavailable, "retry later", cause)
	if !errors.Is(w, cause) || !strings.Contains(w.Error(), "secret detail") {
		t.Errorf("the cause is lost for logs: %v", w)
	}
	if Internal.String() != "internal" || Kind(99).String() != "kind(99)" {
		t.Error("kind names")
	}
}

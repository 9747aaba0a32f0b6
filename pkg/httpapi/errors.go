// Package httpapi is the HTTP plumbing both functions share: the one place
// that maps errors to status codes and writes error bodies, request ids,
// response headers, request logs, panic recovery, deadlines and
// authentication.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/store"
)

// Error is an error with an HTTP status and a message safe to show the
// caller. Err, if set, is logged but never shown.
type Error struct {
	Status  int
	Message string
	Err     error
}

// Error implements error; it includes the logged cause.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Message)
}

// Unwrap returns the logged cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with status and a formatted message for the caller.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// RetryAfter is the Retry-After value, in seconds, sent with a 503.
const RetryAfter = 1

// Problem is what an error becomes on the wire.
type Problem struct {
	Status  int
	Message string
	// Check names the failed authentication check, for logs.
	Check string
}

// Classify maps an error to the status and message a caller sees. Anything
// it does not recognise is a 500 whose text is never shown.
func Classify(err error) Problem {
	var he *Error
	var ae *auth.Error
	switch {
	case errors.As(err, &he):
		return Problem{Status: he.Status, Message: he.Message}
	case errors.As(err, &ae):
		return Problem{Status: http.StatusUnauthorized, Message: "unauthorized: " + ae.Reason, Check: ae.Check}
	case errors.Is(err, context.DeadlineExceeded):
		return Problem{Status: http.StatusRequestTimeout, Message: "the request could not be completed in time"}
	case errors.Is(err, store.ErrUnavailable):
		return Problem{Status: http.StatusServiceUnavailable, Message: "the service is temporarily unavailable; retry later"}
	case errors.Is(err, context.Canceled):
		// The caller went away; the status is for the log.
		return Problem{Status: 499, Message: "request canceled"}
	}
	return Problem{Status: http.StatusInternalServerError, Message: "internal error"}
}

// Format is how an API writes error bodies.
type Format int

const (
	// JSON bodies are {"errorCode": <status>, "errorMessage": "<text>"} (user statistics).
	JSON Format = iota
	// Text bodies are the plain message (session directory).
	Text
)

// writeProblem writes p as an error response in format f.
func writeProblem(w http.ResponseWriter, f Format, p Problem) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	switch p.Status {
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", strconv.Itoa(RetryAfter))
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", auth.Scheme)
	}
	var body []byte
	if f == JSON {
		h.Set("Content-Type", "application/json; charset=utf-8")
		body, _ = json.Marshal(struct {
			Code    int    `json:"errorCode"`
			Message string `json:"errorMessage"`
		}{p.Status, p.Message})
	} else {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		body = []byte(p.Message)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(p.Status)
	w.Write(body)
}

// deadlineMargin is the time kept back from the function's deadline to
// answer 408 before Lambda kills the invocation.
const deadlineMargin = 300 * time.Millisecond

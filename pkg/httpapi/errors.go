// Package httpapi is the HTTP edge every API of the service shares:
//
//   - the one place that maps error kinds to statuses (Status, Classify)
//     and writes error bodies, in each API's format, and the 429 answer of
//     the rate limit;
//   - the middleware every request passes through (API.Wrap: request id,
//     route, metrics, access log, panic recovery, deadline, authentication,
//     rate limit, no redirects), one file each, chained by Chain
//     (middleware.go);
//   - the one reading of a request body: ReadBody (bounded), Decode and
//     DecodeObject (go-json-experiment, every fault named by its JSON
//     path), Required; and the answer's encoding, Marshal;
//   - what several APIs read of a request or write to an answer: the
//     contract version, ETags and If-Match lists, numbers as doubles.
package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/ratelimit"
)

// RetryAfter is the Retry-After value, in seconds, sent with a 503.
const RetryAfter = 1

// StatusClientClosed is the status logged when the caller went away (as
// nginx logs it); nothing is written.
const StatusClientClosed = 499

// Status is the HTTP status of an error kind: the only place statuses are
// chosen for errors.
func Status(k derrors.Kind) int {
	switch k {
	case derrors.Invalid:
		return http.StatusBadRequest
	case derrors.Unauthenticated:
		return http.StatusUnauthorized
	case derrors.Forbidden:
		return http.StatusForbidden
	case derrors.NotFound:
		return http.StatusNotFound
	case derrors.Unsupported:
		return http.StatusNotAcceptable
	case derrors.Unavailable:
		return http.StatusServiceUnavailable
	case derrors.Timeout:
		return http.StatusRequestTimeout
	case derrors.Canceled:
		return StatusClientClosed
	case derrors.Throttled:
		return http.StatusTooManyRequests
	case derrors.Conflict:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// Problem is what an error becomes on the wire.
type Problem struct {
	Status  int
	Message string
}

// Classify returns the status and the message a caller sees for err. An
// error of no known kind is a 500 whose text is never shown.
func Classify(err error) Problem {
	k, msg := derrors.Of(err)
	return Problem{Status: Status(k), Message: msg}
}

// Format is how an API writes error bodies.
type Format int

const (
	// JSON bodies are {"errorCode": <status>, "errorMessage": "<text>"} (user statistics).
	JSON Format = iota
	// Text bodies are the plain message (the session directory's APIs).
	Text
)

// writeThrottled writes the 429 answer XSAPI reads, on every API: a
// Retry-After in whole seconds until the tripped window ends, and a JSON
// body with the window's counts.
func writeThrottled(w http.ResponseWriter, status int, e *ratelimit.Exceeded) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Retry-After", strconv.Itoa(max(1, int((e.RetryAfter+time.Second-1)/time.Second))))
	h.Set("Content-Type", "application/json; charset=utf-8")
	body, _ := json.Marshal(struct {
		Version         int    `json:"version"`
		CurrentRequests int    `json:"currentRequests"`
		MaxRequests     int    `json:"maxRequests"`
		PeriodInSeconds int    `json:"periodInSeconds"`
		LimitType       string `json:"limitType"`
	}{1, e.Current, e.Max, int(e.Period / time.Second), "Rate"})
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

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

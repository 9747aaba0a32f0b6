// Package rta is real-time activity: the WebSocket protocol XSAPI speaks
// to rta.xboxlive.com (subprotocol rta.xboxlive.com.V2), the connections
// and their subscriptions, and the shoulder taps a session's change sends
// its subscribed members. It is domain code: the WebSocket itself is API
// Gateway's (or the local stand-in's), connections are kept behind a
// port, and taps leave through one.
//
// Messages are JSON arrays whose first element is the message type:
//
//	client → service   [1, seq, "<resource uri>"]           subscribe
//	service → client   [1, seq, code, subId, data]           its answer
//	client → service   [2, seq, subId]                      unsubscribe
//	service → client   [2, seq, code]                       its answer
//	service → client   [3, subId, data]                     an event
//
// Codes: 0 success, 1 unknown resource, 2 subscription limit reached, 3
// no resource data (access denied), 1001 throttled, 1002 service
// unavailable.
package rta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Subprotocol is the WebSocket subprotocol XSAPI asks for.
const Subprotocol = "rta.xboxlive.com.V2"

// Message types.
const (
	Subscribe   = 1
	Unsubscribe = 2
	Event       = 3
	Resync      = 4
)

// Codes of subscribe and unsubscribe answers.
const (
	Success          = 0
	UnknownResource  = 1
	SubscriptionsMax = 2
	NoResourceData   = 3
	Throttled        = 1001
	Unavailable      = 1002
)

// ConnectionsResource is the multiplayer subscription's resource: its
// subscribe answer's data is {"ConnectionId": "<id>"}, which a member
// puts in its session writes (members.me.properties.system.connection).
const ConnectionsResource = "https://sessiondirectory.xboxlive.com/connections/"

// Limits of one connection.
const (
	MaxSubscriptions = 32      // subscriptions at once (code 2 past it)
	MaxFrameBytes    = 4 << 10 // a client frame (the connection closes past it)
	MaxURIBytes      = 1 << 10 // a resource uri
	MaxSessions      = 100     // sessions noted on a connection for presence
)

// Frame is a client message, parsed.
type Frame struct {
	Type  int    // Subscribe or Unsubscribe
	Seq   int64  // the client's sequence number, echoed in the answer
	URI   string // Subscribe
	SubID int64  // Unsubscribe
}

// FrameError is why a client frame cannot be read: the connection closes
// with it as the reason.
type FrameError struct{ Reason string }

func (e *FrameError) Error() string { return "rta: " + e.Reason }

func badFrame(format string, args ...any) error {
	return &FrameError{Reason: fmt.Sprintf(format, args...)}
}

// ParseFrame reads one client frame: [1, seq, uri] or [2, seq, subId],
// seq and subId non-negative integers, the uri valid UTF-8. Anything else
// is a *FrameError.
func ParseFrame(b []byte) (*Frame, error) {
	if len(b) > MaxFrameBytes {
		return nil, badFrame("message of %d bytes; the limit is %d", len(b), MaxFrameBytes)
	}
	dec := jsontext.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '[' {
		return nil, badFrame("a message must be a JSON array")
	}
	var parts []jsontext.Value
	for dec.PeekKind() != ']' {
		v, err := dec.ReadValue()
		if err != nil {
			return nil, badFrame("a message must be a JSON array of valid JSON (UTF-8)")
		}
		if parts = append(parts, v.Clone()); len(parts) > 3 {
			return nil, badFrame("a message has 3 elements; this one has more")
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, badFrame("a message must be a JSON array")
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, badFrame("data after the message")
	}
	if len(parts) != 3 {
		return nil, badFrame("a message has 3 elements; this one has %d", len(parts))
	}
	typ, err := integer(parts[0])
	if err != nil {
		return nil, badFrame("message type: %v", err)
	}
	f := &Frame{Type: int(typ)}
	if f.Seq, err = integer(parts[1]); err != nil {
		return nil, badFrame("sequence number: %v", err)
	}
	switch f.Type {
	case Subscribe:
		if parts[2].Kind() != '"' || jsonv2.Unmarshal(parts[2], &f.URI) != nil {
			return nil, badFrame("a subscribe's resource must be a string")
		}
		if len(f.URI) > MaxURIBytes {
			return nil, badFrame("resource of %d bytes; the limit is %d", len(f.URI), MaxURIBytes)
		}
	case Unsubscribe:
		if f.SubID, err = integer(parts[2]); err != nil {
			return nil, badFrame("subscription id: %v", err)
		}
	default:
		return nil, badFrame("message type %d is not one a client sends (1 subscribe, 2 unsubscribe)", f.Type)
	}
	return f, nil
}

// integer reads a non-negative JSON integer that fits an int64.
func integer(v jsontext.Value) (int64, error) {
	n, err := strconv.ParseInt(string(v), 10, 64)
	if v.Kind() != '0' || err != nil || n < 0 {
		return 0, fmt.Errorf("%.20s is not a non-negative integer", v)
	}
	return n, nil
}

// SubscribeAnswer is [1, seq, code, subId, data]; data nil is written as
// null.
func SubscribeAnswer(seq int64, code int, subID int64, data any) ([]byte, error) {
	return json.Marshal([]any{Subscribe, seq, code, subID, data})
}

// UnsubscribeAnswer is [2, seq, code].
func UnsubscribeAnswer(seq int64, code int) ([]byte, error) {
	return json.Marshal([]any{Unsubscribe, seq, code})
}

// EventMessage is [3, subId, data].
func EventMessage(subID int64, data any) ([]byte, error) {
	return json.Marshal([]any{Event, subID, data})
}

// ShoulderTap is one tap of an event's data.
type ShoulderTap struct {
	Resource     string `json:"resource"` // "<scid>~<template>~<name>"
	ChangeNumber int64  `json:"changeNumber"`
	Branch       string `json:"branch"`
}

// Taps is a multiplayer event's data.
type Taps struct {
	NCID         string        `json:"ncid"`
	ShoulderTaps []ShoulderTap `json:"shoulderTaps"`
}

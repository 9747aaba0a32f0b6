package statswriteapi

import (
	"strconv"
	"unicode/utf8"

	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/xbl"
)

// The fast path reads the body as XSAPI sends it in one pass, without
// encoding/json: an object of "stats" (an object of "title": stat name →
// {"value": number or string}), "$schema",
// "previousRevision", "revision" and "timestamp", with no escapes in its
// strings, no null and no key twice (PATCH bodies take the general
// reading). It gives up (ok false) on anything else,
// valid or not, and on anything the checks would refuse: the general
// reading (ParseReplace's, ParsePatch's) then decides, and words the
// refusal. What the fast path accepts, the general reading accepts with
// the same result; FuzzFastPath checks that.

// scanner reads JSON from b at i.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, 0 at the end.
func (s *scanner) peek() byte {
	s.space()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// consume takes c, the next byte after white space.
func (s *scanner) consume(c byte) bool {
	if s.peek() != c {
		return false
	}
	s.i++
	return true
}

// str reads a string with no escapes or control characters, and returns
// its contents (the body is valid UTF-8: checked first).
func (s *scanner) str() (string, bool) {
	if !s.consume('"') {
		return "", false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return string(s.b[start : s.i-1]), true
		case c == '\\' || c < 0x20:
			return "", false
		}
		s.i++
	}
	return "", false
}

// number reads a JSON number and returns its text.
func (s *scanner) number() (string, bool) {
	s.space()
	b, start := s.b, s.i
	i := s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return "", false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return "", false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return "", false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	s.i = i
	return string(b[start:i]), true
}

// object reads an object's members, calling member after each key with
// the scanner at its value; a key seen twice gives up.
func (s *scanner) object(member func(key string) bool) bool {
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return true
	}
	var seen [8]string // few keys but the title's, checked apart
	n := 0
	for {
		key, ok := s.str()
		if !ok || !s.consume(':') {
			return false
		}
		for _, k := range seen[:n] {
			if k == key {
				return false
			}
		}
		if n < len(seen) {
			seen[n] = key
			n++
		}
		if !member(key) {
			return false
		}
		if s.consume('}') {
			return true
		}
		if !s.consume(',') {
			return false
		}
	}
}

// fastBody is what the fast path read.
type fastBody struct {
	set                  map[string]xbl.StatValue
	revision, previous   string // number texts, "" when absent
	timestamp            string
	hasTimestamp, titled bool
}

// fastParse reads body as the fast path does.
func fastParse(body []byte) (*fastBody, bool) {
	if !utf8.Valid(body) {
		return nil, false
	}
	s := &scanner{b: body}
	fb := &fastBody{}
	ok := s.object(func(key string) bool {
		var ok bool
		switch key {
		case "stats":
			return s.object(func(key string) bool {
				if key != "title" {
					return false
				}
				fb.titled = true
				return fb.title(s)
			})
		case "$schema":
			_, ok = s.str()
		case "previousRevision":
			fb.previous, ok = s.number()
		case "revision":
			fb.revision, ok = s.number()
		case "timestamp":
			fb.timestamp, ok = s.str()
			fb.hasTimestamp = true
		}
		return ok
	})
	if s.space(); !ok || s.i != len(body) || !fb.titled {
		return nil, false
	}
	return fb, true
}

// title reads stats.title, keeping the checks of statsOf.
func (fb *fastBody) title(s *scanner) bool {
	fb.set = map[string]xbl.StatValue{}
	keys := make(map[string]bool, 16)
	n := 0
	return s.object(func(name string) bool {
		n++
		if n > stats.MaxWriteStats || stats.CheckStatName(name) != nil {
			return false
		}
		key := xbl.StatKey(name)
		if keys[key] {
			return false // twice, or in another letter case
		}
		keys[key] = true
		var v xbl.StatValue
		ok := s.object(func(key string) bool {
			if key != "value" {
				return false
			}
			var err error
			if s.peek() == '"' {
				str, ok := s.str()
				if !ok || len(str) > stats.MaxStringValueLen {
					return false
				}
				v = xbl.StatValue{Type: xbl.String, Value: str}
				return true
			}
			text, ok := s.number()
			if !ok {
				return false
			}
			v, err = numberValue("", text)
			return err == nil
		})
		if !ok || v.Type == "" {
			return false
		}
		fb.set[name] = v
		return true
	})
}

// fastReplace is ParseReplace's fast path.
func fastReplace(body []byte) (*stats.Document, bool) {
	fb, ok := fastParse(body)
	if !ok {
		return nil, false
	}
	doc := &stats.Document{Stats: fb.set}
	if fb.revision != "" {
		r, err := strconv.ParseInt(fb.revision, 10, 64)
		if err != nil || r < 0 {
			return nil, false
		}
		doc.Revision = r
	}
	if fb.previous != "" {
		if _, err := strconv.ParseInt(fb.previous, 10, 64); err != nil {
			return nil, false
		}
	}
	if fb.hasTimestamp {
		if !validTimestamp(fb.timestamp) {
			return nil, false
		}
		doc.Timestamp = fb.timestamp
	}
	return doc, true
}

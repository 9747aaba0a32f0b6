// Package jsonpath writes the JSON paths by which error messages name a
// place in a caller's JSON ($.stats.title.Wins, $.members["a b"], $.a[1]),
// and clips what they repeat of the caller's input, so that an answer never
// grows with the request.
package jsonpath

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// MaxEcho is the most of one piece of a caller's input that a message
// repeats; MaxPath the longest path it writes.
const (
	MaxEcho = 64
	MaxPath = 3 * MaxEcho
)

// isIdentifier reports whether name matches [A-Za-z_$][A-Za-z0-9_$]{0,63}.
func isIdentifier(name string) bool {
	if name == "" || len(name) > 64 || '0' <= name[0] && name[0] <= '9' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '$') {
			return false
		}
	}
	return true
}

// Child returns the path of member name of the object at path:
// path.name, or path["name"] when name is not an identifier, clipped.
func Child(path, name string) string {
	var b strings.Builder
	b.WriteString(path)
	appendName(&b, name)
	return b.String()
}

func appendName(b *strings.Builder, name string) {
	if isIdentifier(name) {
		b.WriteString(".")
		b.WriteString(name)
		return
	}
	b.WriteString("[")
	b.WriteString(strconv.Quote(Clip(name)))
	b.WriteString("]")
}

// FromPointer returns a JSON pointer (RFC 6901) as a path: a token of
// digits alone reads as an array index, except the last when last is a
// member name (as it is for a duplicate name). A path longer than MaxPath
// is cut in the middle.
func FromPointer(p jsontext.Pointer, lastIsName bool) string {
	var toks []string
	for tok := range p.Tokens() {
		toks = append(toks, tok)
	}
	var b strings.Builder
	b.WriteString("$")
	for i, tok := range toks {
		if tok != "" && strings.Trim(tok, "0123456789") == "" && !(lastIsName && i == len(toks)-1) {
			b.WriteString("[" + tok + "]")
		} else {
			appendName(&b, tok)
		}
	}
	return Cut(b.String())
}

// FromPointerIn returns pointer p, found in the JSON text body, as a path,
// telling array indexes from member names by what body holds where p
// points: a member named "42" is $.stats["42"], the third element of an
// array $.a[2]. Where body cannot be followed (it stops being JSON before
// p's end), the rest of p reads as FromPointer reads it. It reads body
// once, up to where p points, and only to word a fault.
func FromPointerIn(body []byte, p jsontext.Pointer) string {
	var toks []string
	for tok := range p.Tokens() {
		toks = append(toks, tok)
	}
	var b strings.Builder
	b.WriteString("$")
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	i := 0
	for ; i < len(toks); i++ {
		isIndex, ok := step(dec, toks[i])
		if !ok {
			break
		}
		if isIndex {
			b.WriteString("[" + toks[i] + "]")
		} else {
			appendName(&b, toks[i])
		}
	}
	for ; i < len(toks); i++ { // past what body shows
		if toks[i] != "" && strings.Trim(toks[i], "0123456789") == "" {
			b.WriteString("[" + toks[i] + "]")
		} else {
			appendName(&b, toks[i])
		}
	}
	return Cut(b.String())
}

// step moves dec from the start of a value to the start of its member or
// element tok, and reports whether tok indexes an array; ok is false when
// the value holds no such member or element, or is not JSON that far.
func step(dec *jsontext.Decoder, tok string) (isIndex, ok bool) {
	switch dec.PeekKind() {
	case '[':
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 {
			return false, false
		}
		if _, err := dec.ReadToken(); err != nil {
			return false, false
		}
		for range n {
			if dec.PeekKind() == ']' || dec.SkipValue() != nil {
				return false, false
			}
		}
		return true, dec.PeekKind() != ']' && dec.PeekKind() != 0
	case '{':
		if _, err := dec.ReadToken(); err != nil {
			return false, false
		}
		for dec.PeekKind() == '"' {
			name, err := dec.ReadToken()
			if err != nil {
				return false, false
			}
			if name.String() == tok {
				return false, true
			}
			if dec.SkipValue() != nil {
				return false, false
			}
		}
	}
	return false, false
}

// Cut cuts a path longer than MaxPath bytes in the middle.
func Cut(path string) string {
	if len(path) <= MaxPath {
		return path
	}
	head, tail := MaxPath/2, len(path)-MaxPath/2
	for head > 0 && !utf8.RuneStart(path[head]) {
		head--
	}
	for tail < len(path) && !utf8.RuneStart(path[tail]) {
		tail++
	}
	return path[:head] + "…" + path[tail:]
}

// Clip shortens s, a piece of the caller's input repeated in a message, to
// MaxEcho bytes (at a rune boundary) and an ellipsis.
func Clip(s string) string {
	if len(s) <= MaxEcho {
		return s
	}
	n := MaxEcho
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

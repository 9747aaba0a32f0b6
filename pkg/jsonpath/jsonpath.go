// Package jsonpath writes the JSON paths by which error messages name a
// place in a caller's JSON ($.stats.title.Wins, $.members["a b"], $.a[1]),
// and clips what they repeat of the caller's input, so that an answer never
// grows with the request.
package jsonpath

import (
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

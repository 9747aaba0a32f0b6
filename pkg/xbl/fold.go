package xbl

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// FoldKeyword returns the canonical form of a session keyword, under which
// keywords are compared, deduplicated, stored in index keys and queried.
//
// Two strings have the same canonical form exactly when strings.EqualFold
// says they are equal: Unicode simple case folding, rune by rune. Each rune
// becomes one representative of its unicode.SimpleFold orbit: the smallest
// rune of the orbit that is lower case (unicode.IsLower), or the smallest
// rune of the orbit when none is. So ASCII letters become lower case,
// "S", "s" and "ſ" (long s) are all "s", "K" and the Kelvin sign are "k",
// "Σ", "σ" and "ς" are all "ς" (the smaller of the two lower-case sigmas),
// and "İ" (capital I with dot above) and "ı" (dotless i), each an orbit of
// its own under simple folding, stay distinct from "i" and from each other.
//
// There is no Unicode normalization: canonically equivalent strings encoded
// differently ("é" as U+00E9 or as "e" and U+0301) are different keywords.
// Invalid UTF-8 becomes U+FFFD, as strings.EqualFold reads it.
func FoldKeyword(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || foldRune(r) != r {
			break
		}
		i += n
	}
	if i == len(s) {
		return s // already canonical: no copy
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] { // invalid UTF-8 reads as U+FFFD
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// foldRune returns the representative of r's simple case folding orbit:
// its smallest lower-case rune, or its smallest rune when none is lower case.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	minAny, minLower := r, rune(-1)
	if unicode.IsLower(r) {
		minLower = r
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		minAny = min(minAny, f)
		if unicode.IsLower(f) && (minLower < 0 || f < minLower) {
			minLower = f
		}
	}
	if minLower >= 0 {
		return minLower
	}
	return minAny
}

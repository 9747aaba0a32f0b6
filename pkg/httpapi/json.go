package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/jsonpath"
)

// Object decodes raw, found at the JSON path path of a request body, as one
// JSON object whose members stay raw (keys matched exactly). What is not
// exactly one object is Invalid, naming path: empty, not valid JSON, not an
// object, or followed by more data.
func Object(path string, raw json.RawMessage) (map[string]json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, derrors.New(derrors.Invalid, "%s is empty", path)
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) == nil && m != nil {
		return m, nil // the common case; a failure is explained below
	}
	// Why not, from the first fault as jsontext finds it (0-based offsets),
	// reading as encoding/json does (duplicates and invalid UTF-8 pass).
	se := firstFault(raw, jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))
	switch {
	case se == nil && bytes.TrimSpace(raw)[0] != '{':
		return nil, derrors.New(derrors.Invalid, "%s must be a JSON object", path)
	case se == nil: // one whole object, then more
		return nil, derrors.New(derrors.Invalid, "%s has data after the JSON object", path)
	case errors.Is(se.Err, io.ErrUnexpectedEOF):
		return nil, derrors.New(derrors.Invalid, "%s is not valid JSON (it ends early)", path)
	case nesting(raw[:se.ByteOffset+1]) > maxNesting: // the fault is the depth
		return nil, derrors.New(derrors.Invalid, "%s nests deeper than %d levels", path, maxNesting)
	}
	return nil, derrors.New(derrors.Invalid, "%s is not valid JSON (at byte %d)", path, se.ByteOffset)
}

// maxNesting is the nesting encoding/json and jsontext read at most.
const maxNesting = 10000

// nesting is the deepest nesting of arrays and objects in raw, which need
// not be valid JSON.
func nesting(raw []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// Marshal encodes v as a response body: JSON without HTML escaping (XSAPI
// reads "<" as is) and without a trailing newline.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// CheckJSON refuses, naming where, what encoding/json reads without a word
// but changes: a member name that comes twice in one object (the last would
// silently win) and a string holding invalid UTF-8 or a lone UTF-16
// surrogate (read as U+FFFD, so the value stored is not the one sent).
// Other faults, syntax errors included, are left to the reading that
// follows, which words them.
func CheckJSON(body []byte) error {
	if jsontext.Value(body).IsValid() {
		return nil // the common case: one pass, no allocation
	}
	strict := firstFault(body)
	lax := firstFault(body, jsontext.AllowInvalidUTF8(true))
	// The first fault in the body: strict stops at the first of the three,
	// lax (which reads invalid strings as U+FFFD) at the first duplicate.
	switch {
	case strict != nil && strict.Err != jsontext.ErrDuplicateName && (lax == nil || lax.ByteOffset > strict.ByteOffset):
		what := "is not valid UTF-8"
		if off := strict.ByteOffset; off >= 0 && off < int64(len(body)) && body[off] == '\\' {
			what = "holds a lone surrogate" // an escape: \uD800 without its pair
		}
		return derrors.New(derrors.Invalid, "%s: a string %s (at byte %d)", jsonpath.FromPointer(strict.JSONPointer, false), what, strict.ByteOffset)
	case lax != nil && lax.Err == jsontext.ErrDuplicateName:
		name := lax.JSONPointer.LastToken()
		return derrors.New(derrors.Invalid, "%s: the member %s comes twice in one object", jsonpath.FromPointer(lax.JSONPointer, true), strconv.Quote(jsonpath.Clip(name)))
	}
	return nil
}

// firstFault is the first syntactic fault of body's first JSON value.
func firstFault(body []byte, opts ...jsontext.Options) *jsontext.SyntacticError {
	_, err := jsontext.NewDecoder(bytes.NewReader(body), opts...).ReadValue()
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		return se
	}
	return nil
}

// Double reads the text of a JSON number as a double, and reports whether
// the double is the number sent, as far as a double can be: false past a
// double's range (1e999) and for a number other than 0 so small that it
// reads as 0 (1e-400), which every client would read back as another
// number.
func Double(text string) (float64, bool) {
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	if f == 0 {
		mantissa, _, _ := strings.Cut(strings.ToLower(text), "e")
		if strings.ContainsAny(mantissa, "123456789") {
			return 0, false
		}
	}
	return f, true
}

package httpapi

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

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

// MaxResponseBytes bounds what an answer may take inside Lambda's
// response, whose limit is 6 MB: the body as the payload 2.0 response
// carries it, a JSON string (EnvelopeSize), with room left for the
// headers.
const MaxResponseBytes = 6_000_000

// EnvelopeSize is the size of body, a JSON text as Marshal writes it,
// inside the Lambda response, which aws-lambda-go writes as a JSON string
// (HTML escaping off): its quotes, and a backslash before each quote and
// backslash of body. Body holds no control character, invalid UTF-8,
// U+2028 or U+2029 unescaped, the only other runes a JSON string escapes.
func EnvelopeSize(body []byte) int {
	return len(body) + 2 + bytes.Count(body, []byte{'"'}) + bytes.Count(body, []byte{'\\'})
}

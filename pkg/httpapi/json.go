package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/xblread/xblread/pkg/derrors"
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
	m = nil
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, derrors.New(derrors.Invalid, "%s is not valid JSON", path)
		}
		return nil, derrors.New(derrors.Invalid, "%s must be a JSON object", path)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, derrors.New(derrors.Invalid, "%s has data after the JSON object", path)
	}
	return m, nil
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

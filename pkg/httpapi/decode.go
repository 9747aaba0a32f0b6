package httpapi

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/jsonpath"
)

// Decode reads body, a whole request body, into v in one pass, with
// go-json-experiment's defaults: a member name twice in one object, invalid
// UTF-8 and lone surrogates are refused, names match exactly, and unknown
// members are ignored unless opts holds json.RejectUnknownMembers(true).
// Every failure is a derrors.Invalid error whose message names the JSON
// path of the fault ($.stats.title["a b"]) and repeats at most
// jsonpath.MaxEcho bytes of the input. A type's own UnmarshalJSONFrom may
// fail with a derrors error: its message follows the path ("$.a: ...").
func Decode(body []byte, v any, opts ...jsonv2.Options) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return derrors.New(derrors.Invalid, "the request body is empty; it must be a JSON object")
	}
	err := jsonv2.Unmarshal(body, v, opts...)
	if err == nil {
		return nil
	}
	return decodeError(body, err)
}

// DecodeObject reads body, which must be a JSON object, into a new T
// with Decode; null is refused as well.
func DecodeObject[T any](body []byte, opts ...jsonv2.Options) (*T, error) {
	var v *T
	if err := Decode(body, &v, opts...); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, derrors.New(derrors.Invalid, "the request body must be a JSON object, not null")
	}
	return v, nil
}

// Required is the refusal of the member at path that is missing or null,
// what being the JSON it must be: "$.stats is required (an object, not
// null)".
func Required(path, what string) error {
	return derrors.New(derrors.Invalid, "%s is required (%s, not null)", path, what)
}

// decodeError words err, a failure of jsonv2.Unmarshal of body (or of a
// decoder over it), as Decode does.
func decodeError(body []byte, err error) error {
	var se *jsontext.SyntacticError
	var me *jsonv2.SemanticError
	switch {
	case errors.As(err, &se):
		return syntaxError(body, se)
	case errors.As(err, &me):
		return semanticError(body, me)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return derrors.New(derrors.Invalid, "the request body is not valid JSON (it ends early)")
	}
	if derrors.KindOf(err) != derrors.Internal {
		return err
	}
	return derrors.New(derrors.Invalid, "the request body is not valid JSON")
}

// maxNesting is the nesting jsontext reads at most.
const maxNesting = 10000

func syntaxError(body []byte, se *jsontext.SyntacticError) error {
	path := jsonpath.FromPointerIn(body, se.JSONPointer)
	off := se.ByteOffset
	msg := ""
	if se.Err != nil {
		msg = se.Err.Error()
	}
	switch {
	case se.Err == jsontext.ErrDuplicateName:
		name := se.JSONPointer.LastToken()
		return derrors.New(derrors.Invalid, "%s: the member %s comes twice in one object",
			path, strconv.Quote(jsonpath.Clip(name)))
	case errors.Is(se.Err, io.ErrUnexpectedEOF):
		return derrors.New(derrors.Invalid, "the request body is not valid JSON (it ends early)")
	case strings.Contains(msg, "UTF-8") || strings.Contains(msg, "surrogate"):
		what := "is not valid UTF-8"
		if off >= 0 && off < int64(len(body)) && body[off] == '\\' {
			what = "holds a lone surrogate" // an escape: \uD800 without its pair
		}
		return derrors.New(derrors.Invalid, "%s: a string %s (at byte %d)", path, what, off)
	case strings.Contains(msg, "exceeded max depth"):
		return derrors.New(derrors.Invalid, "the request body nests deeper than %d levels", maxNesting)
	case strings.Contains(msg, "after top-level value"):
		return derrors.New(derrors.Invalid, "the request body has data after its JSON value (at byte %d)", off)
	}
	return derrors.New(derrors.Invalid, "the request body is not valid JSON (at byte %d)", off)
}

func semanticError(body []byte, me *jsonv2.SemanticError) error {
	switch {
	case me.Err == jsonv2.ErrUnknownName:
		return derrors.New(derrors.Invalid, "%s is not a known member", jsonpath.FromPointerIn(body, me.JSONPointer))
	case me.Err != nil && derrors.KindOf(me.Err) != derrors.Internal:
		k, msg := derrors.Of(me.Err)
		return derrors.New(k, "%s: %s", jsonpath.FromPointerIn(body, me.JSONPointer), msg)
	}
	path := jsonpath.FromPointerIn(body, me.JSONPointer)
	if path == "$" {
		path = "the request body"
	}
	if want := kindName(me.GoType); want != "" && me.JSONKind != 0 && !fits(me.GoType, me.JSONKind) {
		return derrors.New(derrors.Invalid, "%s must be %s", path, want)
	}
	if me.JSONKind == '0' && kindName(me.GoType) == "a whole number" && bytes.ContainsAny(me.JSONValue, ".eE") {
		return derrors.New(derrors.Invalid, "%s must be a whole number", path)
	}
	if me.JSONKind == '0' {
		return derrors.New(derrors.Invalid, "%s: the number %s is out of range", path, jsonpath.Clip(string(me.JSONValue)))
	}
	if want := kindName(me.GoType); want != "" {
		return derrors.New(derrors.Invalid, "%s must be %s", path, want)
	}
	return derrors.New(derrors.Invalid, "%s is not valid here", path)
}

// kindName names the JSON a Go type reads, for messages ("" for a type
// that reads any).
func kindName(t reflect.Type) string {
	name, _ := jsonOf(t)
	return name
}

// fits reports whether JSON of kind k can be read into t at all (a wrong
// kind is a type fault; a right kind that fails is a value fault).
func fits(t reflect.Type, k jsontext.Kind) bool {
	_, kinds := jsonOf(t)
	return kinds == "" || strings.IndexByte(kinds, byte(k)) >= 0
}

// jsonOf is what JSON a Go type reads: its name for messages, and the
// jsontext kinds it takes ("" for any).
func jsonOf(t reflect.Type) (name, kinds string) {
	if t == nil {
		return "", ""
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string", `"`
	case reflect.Bool:
		return "true or false", "tf"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number", "0"
	case reflect.Float32, reflect.Float64:
		return "a number", "0"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.String {
			return "an array of strings", "["
		}
		return "an array", "["
	case reflect.Map, reflect.Struct:
		return "a JSON object", "{"
	}
	return "", ""
}

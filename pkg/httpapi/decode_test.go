package httpapi

import (
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/xblread/xblread/pkg/derrors"
)

// forbidden is a type whose own reading fails with a kind of its own.
type forbidden struct{}

func (*forbidden) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	if err := d.SkipValue(); err != nil {
		return err
	}
	return derrors.New(derrors.Forbidden, "not yours")
}

// odd reads only the JSON number 1, and refuses the rest as Invalid.
type odd int

func (o *odd) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	v, err := d.ReadValue()
	if err != nil {
		return err
	}
	if string(v) != "1" {
		return derrors.New(derrors.Invalid, "an odd value must be 1")
	}
	*o = 1
	return nil
}

// decodeTarget is what the cases decode into.
type decodeTarget struct {
	N    int            `json:"n"`
	U8   uint8          `json:"u8"`
	F    float64        `json:"f"`
	S    string         `json:"s"`
	B    bool           `json:"b"`
	L    []string       `json:"l"`
	M    map[string]int `json:"m"`
	O    *struct{}      `json:"o"`
	Odd  []odd          `json:"odd"`
	Mine forbidden      `json:"mine"`
	Raw  jsontext.Value `json:"raw"`
}

// TestDecodeMessages: every failure of Decode is worded for the caller,
// naming the JSON path of the fault, with its kind (Invalid, but for a
// type's own error of another kind).
func TestDecodeMessages(t *testing.T) {
	long := strings.Repeat("k", 300)
	for _, tt := range []struct {
		name, body string
		opts       []jsonv2.Options
		kind       derrors.Kind
		want       string // the whole message
	}{
		{name: "empty", body: ``, want: "the request body is empty; it must be a JSON object"},
		{name: "blank", body: " \n\t", want: "the request body is empty; it must be a JSON object"},
		{name: "ends early", body: `{"n":`, want: "the request body is not valid JSON (it ends early)"},
		{name: "ends in a string", body: `{"s":"ab`, want: "the request body is not valid JSON (it ends early)"},
		{name: "bad literal", body: `{"b":tru}`, want: "the request body is not valid JSON (at byte 8)"},
		{name: "trailing data", body: `{"n":1} {}`, want: "the request body has data after its JSON value (at byte 8)"},
		{name: "member twice", body: `{"n":1,"n":2}`, want: `$.n: the member "n" comes twice in one object`},
		{name: "member twice, nested", body: `{"m":{"a b":1,"a b":2}}`, want: `$.m["a b"]: the member "a b" comes twice in one object`},
		{name: "member twice, digits", body: `{"m":{"7":1,"7":2}}`, want: `$.m["7"]: the member "7" comes twice in one object`},
		{name: "member twice, unknown", body: `{"x":{"y":1,"y":1}}`, want: `$.x.y: the member "y" comes twice in one object`},
		{name: "invalid UTF-8", body: "{\"s\":\"a\xffb\"}", want: "$.s: a string is not valid UTF-8 (at byte 7)"},
		{name: "invalid UTF-8 in a name", body: "{\"m\":{\"\xff\":1}}", want: "$.m: a string is not valid UTF-8 (at byte 7)"},
		{name: "lone surrogate", body: `{"l":["ok","\ud800"]}`, want: "$.l[1]: a string holds a lone surrogate (at byte 12)"},
		{name: "too deep", body: `{"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`, want: "the request body nests deeper than 10000 levels"},
		{name: "root not an object", body: `[]`, want: "the request body must be a JSON object"},
		{name: "member named by digits", body: `{"m":{"42":"x"}}`, want: `$.m["42"] must be a whole number`},
		{name: "element of an array", body: `{"l":["a",1]}`, want: `$.l[1] must be a string`},
		{name: "string for int", body: `{"n":"1"}`, want: "$.n must be a whole number"},
		{name: "fraction for int", body: `{"n":1.5}`, want: "$.n must be a whole number"},
		{name: "exponent for int", body: `{"n":1e3}`, want: "$.n must be a whole number"},
		{name: "out of range", body: `{"u8":256}`, want: "$.u8: the number 256 is out of range"},
		{name: "negative unsigned", body: `{"u8":-1}`, want: "$.u8: the number -1 is out of range"},
		{name: "past a double", body: `{"f":1e999}`, want: "$.f: the number 1e999 is out of range"},
		{name: "long number clipped", body: `{"u8":1` + strings.Repeat("0", 100) + `}`, want: "$.u8: the number 1" + strings.Repeat("0", 63) + "… is out of range"},
		{name: "number for string", body: `{"s":5}`, want: "$.s must be a string"},
		{name: "string for bool", body: `{"b":"true"}`, want: "$.b must be true or false"},
		{name: "object for array", body: `{"l":{}}`, want: "$.l must be an array of strings"},
		{name: "number in an array", body: `{"l":["a",2]}`, want: "$.l[1] must be a string"},
		{name: "array for map", body: `{"m":[]}`, want: "$.m must be a JSON object"},
		{name: "map value", body: `{"m":{"a b":true}}`, want: `$.m["a b"] must be a whole number`},
		{name: "long name clipped", body: `{"m":{"` + long + `":true}}`, want: `$.m["` + strings.Repeat("k", 64) + `…"] must be a whole number`},
		{name: "string for pointer", body: `{"o":"x"}`, want: "$.o must be a JSON object"},
		{name: "type's own error", body: `{"odd":[1,2]}`, want: "$.odd[1]: an odd value must be 1"},
		{name: "type's own kind", body: `{"mine":{}}`, kind: derrors.Forbidden, want: "$.mine: not yours"},
		{name: "unknown member", body: `{"n":1,"extra b":2}`, opts: []jsonv2.Options{jsonv2.RejectUnknownMembers(true)}, want: `$["extra b"] is not a known member`},
		{name: "name in another case", body: `{"N":1}`, opts: []jsonv2.Options{jsonv2.RejectUnknownMembers(true)}, want: `$.N is not a known member`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var v decodeTarget
			err := Decode([]byte(tt.body), &v, tt.opts...)
			if err == nil {
				t.Fatalf("Decode(%.60q) succeeded, want %q", tt.body, tt.want)
			}
			kind, msg := derrors.Of(err)
			if want := tt.kind; want == 0 && kind != derrors.Invalid || want != 0 && kind != want {
				t.Errorf("kind %v, want %v", kind, tt.kind)
			}
			if msg != tt.want {
				t.Errorf("message\n%q\nwant\n%q", msg, tt.want)
			}
		})
	}
}

// TestDecodeAccepts: what the defaults allow passes: unknown members (with
// any content), names matched exactly, null leaving a value as it is, and
// escapes read as the characters they stand for.
func TestDecodeAccepts(t *testing.T) {
	var v decodeTarget
	body := `{"n":-3,"N":9,"s":"\u00e9\ud83d\ude00","l":null,"o":{},"other":[{"a":1},"x"],"raw":[1, 2],"odd":[1]}`
	if err := Decode([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	if v.N != -3 || v.S != "é😀" || v.L != nil || v.O == nil || string(v.Raw) != "[1, 2]" || len(v.Odd) != 1 {
		t.Errorf("decoded %+v", v)
	}
}

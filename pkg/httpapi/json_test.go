package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xblread/xblread/pkg/derrors"
)

func TestCheckJSON(t *testing.T) {
	long := strings.Repeat("é", 100)
	for _, tt := range []struct{ name, body, want string }{
		{"valid", `{"a":[1,{"b":"\ud83d\ude00"}],"c":"é"}`, ""},
		{"a syntax error is the parser's", `{"a":`, ""},
		{"data after the value is the parser's", `{} x`, ""},
		{"empty is the parser's", ``, ""},
		{"a duplicate member", `{"a":1,"a":2}`, `$.a: the member "a" comes twice in one object`},
		{"a duplicate in an array", `{"a":[1,{"b":1,"b":2}]}`, `$.a[1].b: the member "b" comes twice`},
		{"a duplicate odd name", `{"x":{"a b":1,"a b":2}}`, `$.x["a b"]: the member "a b" comes twice`},
		{"a long duplicate is clipped", `{"` + long + `":1,"` + long + `":2}`, `…`},
		{"a lone high surrogate", `{"a":"\ud800"}`, `$.a: a string holds a lone surrogate (at byte 6)`},
		{"a lone low surrogate in a key", `{"\udc00":1}`, `$: a string holds a lone surrogate`},
		{"a reversed pair", `{"a":["x","\udc00\ud800"]}`, `$.a[1]: a string holds a lone surrogate`},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", `$.a: a string is not valid UTF-8 (at byte 6)`},
		{"invalid UTF-8 before a duplicate", "{\"a\":\"\xff\",\"a\":1}", `$.a: a string is not valid UTF-8 (at byte 6)`},
		{"two lone surrogates as names", `{"\ud800":1,"\udbff":2}`, `$: a string holds a lone surrogate (at byte 2)`},
		{"a duplicate name of digits", `{"0":1,"0":2}`, `$["0"]: the member "0" comes twice`},
		{"a deep path is cut", strings.Repeat(`{"`+strings.Repeat("k", 60)+`":`, 100) + `"\ud800"` + strings.Repeat("}", 100), `…`},
		{"a duplicate before invalid UTF-8", "{\"a\":1,\"a\":\"\xff\"}", `$.a: the member "a" comes twice`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckJSON([]byte(tt.body))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || derrors.KindOf(err) != derrors.Invalid {
				t.Fatalf("error %v, want Invalid containing %q", err, tt.want)
			}
			if len(err.Error()) > 300 {
				t.Errorf("the message grows with the input: %d bytes", len(err.Error()))
			}
		})
	}
}

func TestDouble(t *testing.T) {
	for text, want := range map[string]bool{
		"0": true, "-0.0": true, "0e-400": true, "0.000e99": true, "1.5": true, "5e-324": true,
		"1.7976931348623157e308": true, "3e-324": true, "1e400": false, "-1e999": false, "1e-400": false,
		"2e-324": false, "0.0000001e-330": false, "x": false,
	} {
		if _, ok := Double(text); ok != want {
			t.Errorf("Double(%q) ok = %v, want %v", text, ok, want)
		}
	}
}

func TestObjectSaysWhere(t *testing.T) {
	for body, want := range map[string]string{
		`{"a":1,}`: "request body is not valid JSON (at byte 7)",
		`{"a":`:    "request body is not valid JSON (it ends early)",
		strings.Repeat(`{"a":`, 10001) + `1` + strings.Repeat(`}`, 10001): "request body nests deeper than 10000 levels",
		`[1]`:                                   "request body must be a JSON object",
		`null`:                                  "request body must be a JSON object",
		`{"a":1} x`:                             "request body has data after the JSON object",
		`{} {`:                                  "request body has data after the JSON object",
		`{"a":1,,` + strings.Repeat("[", 10001): "request body is not valid JSON (at byte 7)",
	} {
		if _, err := Object("request body", []byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.30s: %v, want %q", body, err, want)
		}
	}
}

// TestContractVersion: the header is required, a number, at least min; a
// refusal repeats at most 64 bytes of it.
func TestContractVersion(t *testing.T) {
	for _, tt := range []struct {
		vals []string
		want int
		err  string
	}{
		{[]string{"107"}, 107, ""},
		{[]string{" 104 "}, 104, ""},
		{nil, 0, "x-xbl-contract-version header is required (104 or later)"},
		{[]string{"103"}, 0, "x-xbl-contract-version 103 is not supported; use 104 or later"},
		{[]string{"107", "107"}, 0, "is not a version number"},
		{[]string{strings.Repeat("7", 5000) + "x"}, 0, `"` + strings.Repeat("7", 64) + `…" is not a version number`},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		for _, v := range tt.vals {
			r.Header.Add("X-Xbl-Contract-Version", v)
		}
		got, err := ContractVersion(r, 104)
		if tt.err == "" && (err != nil || got != tt.want) || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || len(err.Error()) > 200) {
			t.Errorf("%.20q: %d, %v; want %d, %q", tt.vals, got, err, tt.want, tt.err)
		}
	}
}

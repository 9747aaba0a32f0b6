package httpapi

import (
	"testing"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/jsonpath"
)

// fuzzBody has a member of every kind Decode words a fault for.
type fuzzBody struct {
	S string            `json:"s"`
	N int64             `json:"n"`
	F float64           `json:"f"`
	B *bool             `json:"b"`
	L []string          `json:"l"`
	M map[string]uint8  `json:"m"`
	O *struct{ X bool } `json:"o"`
	A []fuzzBody        `json:"a"`
}

// FuzzDecode: any body is read, or refused as Invalid (never another kind,
// so never a 5xx) with a message in valid UTF-8 that repeats at most a
// clipped path of the input, whatever the body's size.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"s":"x","n":1,"f":1.5,"b":true,"l":["a"],"m":{"k":1},"o":{"X":true},"a":[{"s":"y"}]}`,
		`{"a":[{"a":[{"n":1.5}]}]}`, `{"m":{"k":300}}`, `{"s":"\ud800"}`, `{"s":1,"s":2}`, "{\"\xff\":1}", `{} {}`, `[`, ``, `{"zz":1}`} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, strict bool) {
		var v fuzzBody
		err := Decode(body, &v, jsonv2.RejectUnknownMembers(strict))
		if err == nil {
			return
		}
		k, msg := derrors.Of(err)
		if k != derrors.Invalid {
			t.Fatalf("Decode(%q) = %v (kind %v), want Invalid", body, err, k)
		}
		if msg == "" || !utf8.ValidString(msg) || len(msg) > 2*jsonpath.MaxPath+200 {
			t.Fatalf("Decode(%q): message %q", body, msg)
		}
	})
}

package jsonpath

import (
	"runtime"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

func TestClip(t *testing.T) {
	for in, want := range map[string]string{
		"short":                       "short",
		strings.Repeat("a", 64):       strings.Repeat("a", 64),
		strings.Repeat("a", 65):       strings.Repeat("a", 64) + "…",
		strings.Repeat("é", 40):       strings.Repeat("é", 32) + "…",
		"a" + strings.Repeat("é", 40): "a" + strings.Repeat("é", 31) + "…",
	} {
		if got := Clip(in); got != want {
			t.Errorf("Clip(%.20q…) = %q, want %q", in, got, want)
		}
	}
}

func TestPaths(t *testing.T) {
	long := strings.Repeat("k", 100)
	for _, tt := range []struct{ got, want string }{
		{Child("$", "wins"), "$.wins"},
		{Child("$.a", "a b"), `$.a["a b"]`},
		{Child("$", ""), `$[""]`},
		{Child("$", "$ok_1"), "$.$ok_1"},
		{Child("$", long), `$["` + strings.Repeat("k", 64) + `…"]`},
		{FromPointer("/stats/title/Wins/value", false), "$.stats.title.Wins.value"},
		{FromPointer("/a/1/b", false), "$.a[1].b"},
		{FromPointer("/a/0", true), `$.a["0"]`},
		{FromPointer("/a~1b/~0", false), `$["a/b"]["~"]`},
		{FromPointer("", false), "$"},
		{FromPointerIn([]byte(`{"a":{"0":[1,{"b":2}]}}`), "/a/0/1/b"), `$.a["0"][1].b`},
		{FromPointerIn([]byte(`{"a":[[1]]}`), "/a/0/0"), "$.a[0][0]"},
		{FromPointerIn([]byte(`{"a":{"7":1,"7":2}}`), "/a/7"), `$.a["7"]`},
		{FromPointerIn([]byte(`{"a":{"x":`), "/a/x/3"), "$.a.x[3]"}, // body ends: the rest as FromPointer
		{FromPointerIn([]byte(`{"a":[1]}`), "/a/5"), "$.a[5]"},      // no such element
		{FromPointerIn([]byte(`{"a~1b":{"~":1}}`), "/a~1b/~0"), `$["a/b"]["~"]`},
		{FromPointerIn(nil, "/9"), "$[9]"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// TestLongPaths: a path is cut in the middle at a rune boundary, and
// writing one is linear in the pointer's length (a body nested 10,000
// deep once made the error path quadratic).
func TestLongPaths(t *testing.T) {
	var p strings.Builder
	for range 10000 {
		p.WriteString("/" + strings.Repeat("é", 30))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got := FromPointer(jsontext.Pointer(p.String()), false)
	runtime.ReadMemStats(&after)
	if len(got) > MaxPath+len("…")+4 || !strings.Contains(got, "…") || !strings.HasPrefix(got, "$[\"é") {
		t.Errorf("path of %d bytes: %.80q", len(got), got)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("FromPointer allocated %d MB for a 600 KB pointer", alloc>>20)
	}
	for n := MaxPath - 5; n < MaxPath+10; n++ {
		s := strings.Repeat("😀", n/4+1)[:n-n%4]
		if c := Cut(s); !strings.HasSuffix(c, "😀") || !strings.HasPrefix(c, "😀") {
			t.Errorf("Cut splits a rune: %q", c)
		}
	}
}

package xbl

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestFoldKeywordExamples(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Ranked", "ranked"},
		{"ranked", "ranked"},
		{"i", "i"},
		{"I", "i"},
		{"İ", "İ"}, // U+0130: its own orbit under simple folding
		{"ı", "ı"}, // U+0131 dotless i: its own orbit too
		{"ſ", "s"}, // long s
		{"S", "s"},
		{"Σ", "ς"},
		{"σ", "ς"},
		{"ς", "ς"},
		{"\u212A", "k"}, // Kelvin sign
		{"\u212B", "å"}, // Angstrom sign
		{"ǅ", "ǆ"},      // title case
		{"Ⓐ", "Ⓐ"},      // neither of its orbit is unicode.IsLower
		{"ⓐ", "Ⓐ"},
		{"ПРИВЕТ", "привет"},
		{"ԱՐԱՄ", "արամ"},
		{"Ⴀ", "ⴀ"},                   // Georgian
		{"Ꭰ", "\uab70"},              // Cherokee: the lower case letter is the larger rune
		{"\U00010400", "\U00010428"}, // Deseret
		{"é", "é"},
		{"e\u0301", "e\u0301"}, // no normalization
		{"a\xffB", "a\uFFFDb"},
	}
	for _, tt := range tests {
		if got := FoldKeyword(tt.in); got != tt.want {
			t.Errorf("FoldKeyword(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestFoldKeywordEveryRune checks FoldKeyword, and StatKey which is the same
// form for stat names, against strings.EqualFold for every rune: the
// representative is in the rune's orbit, is canonical, and is the same for
// every rune of the orbit; no two runes that EqualFold tells apart share
// one. As EqualFold compares rune by rune, this makes FoldKeyword(a) ==
// FoldKeyword(b) exactly when EqualFold(a, b).
func TestFoldKeywordEveryRune(t *testing.T) {
	for _, fn := range []struct {
		name string
		fold func(string) string
	}{{"FoldKeyword", FoldKeyword}, {"StatKey", StatKey}} {
		first := map[string]rune{} // the first rune of each canonical form
		for r := rune(0); r <= unicode.MaxRune; r++ {
			if !utf8.ValidRune(r) {
				continue
			}
			s := string(r)
			f := fn.fold(s)
			if utf8.RuneCountInString(f) != 1 || !strings.EqualFold(f, s) {
				t.Fatalf("%s(%U) = %q, not one rune equal under folding", fn.name, r, f)
			}
			if fn.fold(f) != f {
				t.Fatalf("%s(%U) = %q is not canonical", fn.name, r, f)
			}
			if g := fn.fold(string(unicode.SimpleFold(r))); g != f {
				t.Fatalf("%s(%U) = %q but %s(%U) = %q", fn.name, r, f, fn.name, unicode.SimpleFold(r), g)
			}
			if o, ok := first[f]; ok && !strings.EqualFold(string(o), s) {
				t.Fatalf("%s(%U) = %s(%U) = %q, but EqualFold tells them apart", fn.name, r, fn.name, o, f)
			} else if !ok {
				first[f] = r
			}
		}
	}
}

// TestControlCharacters: names, keywords and stat names refuse C0, DEL and
// C1 control characters alike (NEL U+0085 and U+009F among them), and
// accept the no-break space U+00A0 after them.
func TestControlCharacters(t *testing.T) {
	for _, c := range []string{"\x00", "\x1f", "\x7f", "\u0080", "\u0085", "\u009f"} {
		if !HasControlOrInvalid("a"+c+"b") || CheckKeyword("a"+c+"b") == nil || CheckName("name", "a"+c+"b") == nil {
			t.Errorf("%+q is accepted", c)
		}
	}
	for _, ok := range []string{"a\u00a0b", "é", "İ", "ſ"} {
		if HasControlOrInvalid(ok) || CheckKeyword(ok) != nil || CheckName("name", ok) != nil {
			t.Errorf("%+q is refused", ok)
		}
	}
}

// scripts are runes whose case folding is interesting: ASCII, Latin-1 and
// Latin Extended, Turkish i's, long s, Greek with final sigma, Cyrillic,
// Armenian, Georgian, Cherokee, Deseret, letterlike symbols (Kelvin,
// Angstrom), circled letters, title-case digraphs and marks, and some
// caseless text.
var scripts = [][2]rune{
	{'A', 'Z'}, {'a', 'z'}, {'0', '9'}, {0xC0, 0xFF}, {0x100, 0x24F},
	{0x130, 0x131}, {0x17F, 0x17F}, {0x1C4, 0x1CC}, {0x345, 0x345},
	{0x370, 0x3FF}, {0x1F00, 0x1FFF}, {0x400, 0x52F}, {0x531, 0x587},
	{0x10A0, 0x10FF}, {0x1C90, 0x1CBF}, {0x13A0, 0x13FD}, {0xAB70, 0xABBF},
	{0x10400, 0x1044F}, {0x2126, 0x212B}, {0x24B6, 0x24E9}, {0x1E9E, 0x1E9E},
	{0xFF21, 0xFF5A}, {0x4E00, 0x4E10}, {0x600, 0x610}, {' ', '/'},
}

func randomRune(rng *rand.Rand) rune {
	s := scripts[rng.IntN(len(scripts))]
	return s[0] + rune(rng.IntN(int(s[1]-s[0]+1)))
}

// recase walks each rune of s a random number of steps along its SimpleFold
// orbit: a random change of case that strings.EqualFold does not see.
func recase(rng *rand.Rand, s string) string {
	var b strings.Builder
	for _, r := range s {
		for n := rng.IntN(4); n > 0; n-- {
			r = unicode.SimpleFold(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestFoldKeywordProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 1))
	for i := 0; i < 200000; i++ {
		rs := make([]rune, 1+rng.IntN(8))
		for j := range rs {
			rs[j] = randomRune(rng)
		}
		a := string(rs)
		b := recase(rng, a)
		if rng.IntN(2) == 0 { // change one rune: usually another keyword, sometimes not
			j := rng.IntN(len(rs))
			rs[j] = randomRune(rng)
			b = recase(rng, string(rs))
		}
		fa, fb := FoldKeyword(a), FoldKeyword(b)
		if (fa == fb) != strings.EqualFold(a, b) {
			t.Fatalf("FoldKeyword(%q) = %q, FoldKeyword(%q) = %q, but EqualFold = %v", a, fa, b, fb, strings.EqualFold(a, b))
		}
		if FoldKeyword(fa) != fa {
			t.Fatalf("FoldKeyword is not idempotent on %q: %q then %q", a, fa, FoldKeyword(fa))
		}
		if !strings.EqualFold(fa, a) {
			t.Fatalf("FoldKeyword(%q) = %q, not EqualFold to it", a, fa)
		}
	}
}

func FuzzFoldKeyword(f *testing.F) {
	for _, s := range []string{"i", "İ", "ſ", "σς", "\u212A", "a\xff", "Ꭰ"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		fa, fb := FoldKeyword(a), FoldKeyword(b)
		if (fa == fb) != strings.EqualFold(a, b) {
			t.Fatalf("FoldKeyword(%q) = %q, FoldKeyword(%q) = %q, but EqualFold = %v", a, fa, b, fb, strings.EqualFold(a, b))
		}
		if FoldKeyword(fa) != fa || !strings.EqualFold(fa, a) {
			t.Fatalf("FoldKeyword(%q) = %q: not idempotent or not EqualFold", a, fa)
		}
	})
}

package xbl

import (
	"strconv"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
)

// FuzzParseXUID: whatever the text, no panic, and an accepted xuid prints
// back as the same text, leading zeros aside.
func FuzzParseXUID(f *testing.F) {
	for _, s := range []string{"0", "2533274792693551", "18446744073709551615", "18446744073709551616", "-1", "+1", "1e3", "0x1", " 1", "", "٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		x, err := ParseXUID(s)
		if err != nil {
			return
		}
		if want := strings.TrimLeft(s, "0"); x.String() != want && !(x == 0 && want == "") {
			t.Fatalf("ParseXUID(%q) = %s", s, x)
		}
	})
}

// FuzzParseXUIDJSON: an xuid read from JSON (JSONXUID, as a request body
// is decoded) is the number the JSON says, never rounded through float64.
func FuzzParseXUIDJSON(f *testing.F) {
	for _, s := range []string{`"1"`, `1`, `18446744073709551615`, `"18446744073709551615"`, `"\u0031"`, `1.0`, `-0`, `"`, `""`, `[1]`, `"1"2"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var jx JSONXUID
		if err := jsonv2.Unmarshal(raw, &jx); err != nil {
			return
		}
		x := XUID(jx)
		s := strings.Trim(string(raw), `"`)
		if n, perr := strconv.ParseUint(s, 10, 64); perr == nil && XUID(n) != x {
			t.Fatalf("JSONXUID of %s = %d, want %d", raw, x, n)
		}
	})
}

// FuzzParseSCID: an accepted SCID is 36 characters, lower-case, and
// equal to the input but for case.
func FuzzParseSCID(f *testing.F) {
	for _, s := range []string{"7492baca-c1b4-440d-a391-b7ef364a8d40", "7492BACA-C1B4-440D-A391-B7EF364A8D40", "{7492baca-c1b4-440d-a391-b7ef364a8d40}", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseSCID(s)
		if err != nil {
			return
		}
		if len(c) != 36 || c != strings.ToLower(c) || !strings.EqualFold(c, s) || strings.ContainsAny(c, "#\"") {
			t.Fatalf("ParseSCID(%q) = %q", s, c)
		}
	})
}

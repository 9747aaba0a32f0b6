package xbl

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
)

func TestParseXUID(t *testing.T) {
	tests := []struct {
		in   string
		want XUID
		ok   bool
	}{
		{"2533274792693551", 2533274792693551, true},
		{"18446744073709551615", 18446744073709551615, true},
		{"0", 0, true},
		{"18446744073709551616", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"1.5", 0, false},
		{"1e3", 0, false},
		{"0x10", 0, false},
		{"", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"١٢", 0, false}, // Arabic-Indic digits
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseXUID(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseXUID(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if got != tt.want {
				t.Errorf("ParseXUID(%q) = %d, want %d", tt.in, got, tt.want)
			}
			if tt.ok && got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestParseSCID(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"7492baca-c1b4-440d-a391-b7ef364a8d40", "7492baca-c1b4-440d-a391-b7ef364a8d40", true},
		{"7492BACA-C1B4-440D-A391-B7EF364A8D40", "7492baca-c1b4-440d-a391-b7ef364a8d40", true},
		{"{7492baca-c1b4-440d-a391-b7ef364a8d40}", "", false},
		{"7492bacac1b4440da391b7ef364a8d40", "", false},
		{"7492baca-c1b4-440d-a391-b7ef364a8d4g", "", false},
		{"7492baca-c1b4-440d-a391_b7ef364a8d40", "", false},
		{"7492baca-c1b4-440d-a391-b7ef364a8d40#", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSCID(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ParseSCID(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestNewStatValue(t *testing.T) {
	tests := []struct {
		typ      StatType
		in, want string
		ok       bool
	}{
		{Integer, "66", "66", true},
		{Integer, "-9223372036854775808", "-9223372036854775808", true},
		{Integer, "007", "7", true},
		{Integer, "9223372036854775808", "", false},
		{Integer, "1.0", "", false},
		{Double, "1.25", "1.25", true},
		{Double, "0.1", "0.1", true},
		{Double, "1e21", "1e+21", true},
		{Double, "3", "3", true},
		{Double, "NaN", "", false},
		{Double, "Inf", "", false},
		{Double, "1e999", "", false},
		{Double, "x", "", false},
		{String, "Gold", "Gold", true},
		{String, "", "", true},
		{"Float", "1", "", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ)+"/"+tt.in, func(t *testing.T) {
			got, err := NewStatValue(tt.typ, tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("error = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && (got.Value != tt.want || got.Type != tt.typ) {
				t.Errorf("got %+v, want %s %q", got, tt.typ, tt.want)
			}
		})
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"deathmatch", "session-seven", "a.b_c", "élan"} {
		if err := CheckName("name", ok); err != nil {
			t.Errorf("CheckName(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "a#b", "a\nb", "a\x00", string(make([]byte, 129)), "a\u0080b", "a\x7fb", "a\xc3(b"} {
		if err := CheckName("name", bad); err == nil {
			t.Errorf("CheckName(%q) = nil, want an error", bad)
		}
	}
}

func TestJSONXUID(t *testing.T) {
	tests := []struct {
		in   string
		want XUID
		ok   bool
	}{
		{`"2533274792693551"`, 2533274792693551, true},
		{`18446744073709551615`, 18446744073709551615, true},
		{`"18446744073709551615"`, 18446744073709551615, true},
		{`"\u0031\u0032"`, 12, true},
		{`18446744073709551616`, 0, false},
		{`-1`, 0, false},
		{`1.0`, 0, false},
		{`1e3`, 0, false},
		{`""`, 0, false},
		{`"1"2"`, 0, false},
		{`true`, 0, false},
		{`null`, 0, false},
		{`{}`, 0, false},
		{``, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got JSONXUID
			err := jsonv2.Unmarshal([]byte(tt.in), &got)
			if (err == nil) != tt.ok || tt.ok && XUID(got) != tt.want {
				t.Errorf("JSONXUID of %s = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

// TestFormatDouble: Doubles print as ECMAScript's Number.prototype.toString.
func TestFormatDouble(t *testing.T) {
	for f, want := range map[float64]string{
		1234567: "1234567", 0.00001: "0.00001", 123456789.12345679: "123456789.12345679", 1e21: "1e+21",
		1e20: "100000000000000000000", 1e-7: "1e-7", 1.5e-7: "1.5e-7", 0.000001: "0.000001", 5e-324: "5e-324",
		1.7976931348623157e308: "1.7976931348623157e+308", -1e21: "-1e+21", -0.5: "-0.5", 0.1: "0.1", 1.25: "1.25",
		math.Copysign(0, -1): "0", 100: "100", -1234.5: "-1234.5", 1e300: "1e+300",
	} {
		if got := FormatDouble(f); got != want {
			t.Errorf("FormatDouble(%v) = %q, want %q", f, got, want)
		}
		v, err := NewStatValue(Double, strconv.FormatFloat(f, 'g', -1, 64))
		if err != nil || v.Value != want {
			t.Errorf("NewStatValue(Double, %v) = %+v, %v", f, v, err)
		}
	}
}

func TestNameAndKeywordLimits(t *testing.T) {
	if CheckName("name", strings.Repeat("n", 99)) != nil || CheckName("name", strings.Repeat("n", 100)) == nil {
		t.Error("names must be under 100 bytes")
	}
	if CheckKeyword(strings.Repeat("k", MaxKeywordBytes)) != nil || CheckKeyword(strings.Repeat("k", MaxKeywordBytes+1)) == nil ||
		CheckKeyword("") == nil || CheckKeyword("a\x00b") == nil {
		t.Error("keyword limits")
	}
}

func TestPathAndTimeRules(t *testing.T) {
	for _, bad := range []string{".", "..", "a/b", "/"} {
		if CheckName("name", bad) == nil {
			t.Errorf("CheckName(%q) passed", bad)
		}
	}
	if CheckName("name", "a.b..c") != nil {
		t.Error("dots inside a name are fine")
	}
	for _, tt := range []struct {
		s  string
		ok bool
	}{
		{"1970-01-01T00:00:00Z", true}, {"9999-12-31T23:59:59Z", true}, {"2026-11-20T13:45:30.09+01:00", true},
		{"1969-12-31T23:59:59Z", false}, {"9999-12-31T23:59:59-01:00", false}, {"0000-01-01T00:30:00+01:00", false},
	} {
		ts, _ := time.Parse(time.RFC3339Nano, tt.s)
		if err := CheckStartTime(ts); (err == nil) != tt.ok {
			t.Errorf("CheckStartTime(%s) = %v", tt.s, err)
		}
	}
}

func TestParseJoinRestriction(t *testing.T) {
	for in, want := range map[string]string{"": "", "none": "", "None": "", "local": "local", "LOCAL": "local", "followed": "followed", "Followed": "followed", "friends": "!", "local ": "!"} {
		got, err := ParseJoinRestriction(in)
		if want == "!" {
			if err == nil {
				t.Errorf("ParseJoinRestriction(%q) = %q, want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("ParseJoinRestriction(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

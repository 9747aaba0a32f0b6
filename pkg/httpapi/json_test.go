package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"
)

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

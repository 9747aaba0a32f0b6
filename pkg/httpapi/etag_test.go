package httpapi

import (
	"slices"
	"strings"
	"testing"
)

func TestETags(t *testing.T) {
	tests := []struct {
		values []string
		any    bool
		tags   []string
		match  bool   // against "e1"
		err    string // a malformed header: refused
	}{
		{nil, false, nil, false, ""},
		{[]string{"*"}, true, nil, true, ""},
		{[]string{`"e1"`}, false, []string{"e1"}, true, ""},
		{[]string{`W/"e1"`}, false, []string{"e1"}, true, ""},
		{[]string{"e1"}, false, []string{"e1"}, true, ""},
		{[]string{`"x", "e1"`}, false, []string{"x", "e1"}, true, ""},
		{[]string{`"x"`, `"e1"`}, false, []string{"x", "e1"}, true, ""},
		{[]string{`"x", `}, false, []string{"x"}, false, ""},
		// Sent with no element: not the absence of a condition.
		{[]string{""}, false, nil, false, "is empty"},
		{[]string{" "}, false, nil, false, "is empty"},
		{[]string{","}, false, nil, false, "is empty"},
		{[]string{"", ""}, false, nil, false, "is empty"}, // "If-Match: ," through the payload 2.0 adapter
		// * stands alone.
		{[]string{`"stale", *`}, false, nil, false, "mixes *"},
		{[]string{`"stale"`, "*"}, false, nil, false, "mixes *"},
		{[]string{"*, *"}, false, nil, false, "mixes *"},
	}
	for _, tt := range tests {
		any, tags, err := ETags("If-Match", tt.values)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "If-Match") {
				t.Errorf("%q: %v, want an error naming If-Match that %s", tt.values, err, tt.err)
			}
			if ETagMatches(tt.values, `"e1"`) {
				t.Errorf("%q: a malformed list matches", tt.values)
			}
			continue
		}
		if err != nil || any != tt.any || !slices.Equal(tags, tt.tags) || ETagMatches(tt.values, `"e1"`) != tt.match {
			t.Errorf("%q: %v %q %v, match %v; want %v %q %v", tt.values, any, tags, err, ETagMatches(tt.values, `"e1"`), tt.any, tt.tags, tt.match)
		}
	}
}

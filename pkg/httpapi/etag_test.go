package httpapi

import (
	"slices"
	"testing"
)

func TestETags(t *testing.T) {
	tests := []struct {
		values []string
		any    bool
		tags   []string
		match  bool // against "e1"
	}{
		{nil, false, nil, false},
		{[]string{"*"}, true, nil, true},
		{[]string{`"e1"`}, false, []string{"e1"}, true},
		{[]string{`W/"e1"`}, false, []string{"e1"}, true},
		{[]string{"e1"}, false, []string{"e1"}, true},
		{[]string{`"x", "e1"`}, false, []string{"x", "e1"}, true},
		{[]string{`"x"`, `"e1"`}, false, []string{"x", "e1"}, true},
		{[]string{`"x", `}, false, []string{"x"}, false},
	}
	for _, tt := range tests {
		any, tags := ETags(tt.values)
		if any != tt.any || !slices.Equal(tags, tt.tags) || ETagMatches(tt.values, `"e1"`) != tt.match {
			t.Errorf("%q: %v %q, match %v; want %v %q %v", tt.values, any, tags, ETagMatches(tt.values, `"e1"`), tt.any, tt.tags, tt.match)
		}
	}
}

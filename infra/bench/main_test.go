package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestParseOnly: -only takes a comma-separated list of the cases, every
// case when empty, and names the cases when one is unknown.
func TestParseOnly(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
		err  string
	}{
		{"", caseNames, ""},
		{" , ", caseNames, ""},
		{"write", []string{"write"}, ""},
		{"stats, join", []string{"join", "stats"}, ""},
		{"bogus", nil, `no case "bogus"; the cases are stats, write`},
	} {
		got, err := parseOnly(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseOnly(%q): %v, want an error with %q", tt.in, err, tt.err)
			}
			continue
		}
		var names []string
		for n := range got {
			names = append(names, n)
		}
		slices.Sort(names)
		want := slices.Sorted(slices.Values(tt.want))
		if err != nil || !slices.Equal(names, want) {
			t.Errorf("parseOnly(%q) = %v, %v; want %v", tt.in, names, err, want)
		}
	}
	if !initAlone(map[string]bool{"init": true}) || initAlone(map[string]bool{"init": true, "write": true}) {
		t.Error("initAlone: init alone runs without DynamoDB Local, and only then")
	}
}

// TestEstimate: the whole run's estimate adds up its cases, and DynamoDB
// Local's start only when a case needs it.
func TestEstimate(t *testing.T) {
	o := options{n: 10, warmup: 5, sessions: []int{2000}}
	for _, tt := range []struct {
		want   map[string]bool
		dbTime time.Duration
	}{
		{map[string]bool{"init": true}, 0},
		{map[string]bool{"init": true, "write": true}, estDynamoDB},
		{map[string]bool{"stats": true, "join": true}, estDynamoDB},
	} {
		names, took := estimate(tt.want, o, nil, 30, false)
		if len(names) != len(tt.want) {
			t.Errorf("%v: cases %v", tt.want, names)
		}
		total := tt.dbTime
		for _, d := range took {
			total += d
		}
		var b strings.Builder
		printEstimate(&b, tt.want, o, nil, 30, false)
		if line := "~" + roughly(total) + " (Ctrl-C"; !strings.Contains(b.String(), line) {
			t.Errorf("%v: the estimate does not say %q:\n%s", tt.want, line, b.String())
		}
	}
}

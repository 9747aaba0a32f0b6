package sessionstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/xbl"
)

// TestKeywordsFoldAsEqualFold: keywords are one keyword exactly when
// strings.EqualFold says so, in the session, in its index entries and in a
// query. "i" and "İ" (U+0130) are two keywords with two partitions, so a
// session holding both is written and left (it once wrote one index item
// twice in a transaction: a 500 to every leave); "s", "S" and "ſ" are one
// keyword, and so are "σ", "Σ" and "ς", so each spelling finds the session.
func TestKeywordsFoldAsEqualFold(t *testing.T) {
	_, st, _ := writeTable(t)
	mem := configs()
	put := func(name string, c *xbl.Caller, ch *sessions.Change) {
		t.Helper()
		ref := sessions.Ref{SCIDRaw: scidA, SCID: scidA, Template: "lobby", Name: name}
		if _, err := service(mem, st, wt0).Put(context.Background(), c, ref, sessions.Condition{}, ch); err != nil {
			t.Fatalf("%s: Put as %d: %v", name, c.XUID, err)
		}
	}
	with := func(kw ...string) *sessions.Change {
		return &sessions.Change{Members: map[string]*sessions.MemberChange{"me": {Active: ptr(true)}}, Properties: &sessions.PropertiesChange{Keywords: &kw}}
	}
	leave := &sessions.Change{Members: map[string]*sessions.MemberChange{"me": nil}}
	find := func(kw string) []string {
		t.Helper()
		got, _, err := st.KeywordSessions(context.Background(), every(wt0, kw), 10)
		if err != nil {
			t.Fatalf("keyword %q: %v", kw, err)
		}
		var names []string
		for _, s := range got {
			names = append(names, fmt.Sprintf("%s:%d", s.Name, len(s.Keywords))) // the spelling kept is the write rules' to choose
		}
		slices.Sort(names) // the sessions started at once: no order to keep
		return names
	}

	put("dotted", player(1), with("i", "İ"))
	put("sigma", player(2), with("s", "σ", "ſ", "ς", "S"))
	many := []string{"i"}
	for i := range sessions.MaxKeywords - 2 {
		many = append(many, fmt.Sprint("k", i))
	}
	many = append(many, "İ")
	put("many", player(3), with(many...))

	for kw, want := range map[string]string{
		"I": "[dotted:2 many:32]", "İ": "[dotted:2 many:32]", "ı": "[]",
		"ſ": "[sigma:2]", "S": "[sigma:2]", "ς": "[sigma:2]", "Σ": "[sigma:2]", "σ": "[sigma:2]",
	} {
		if got := fmt.Sprint(find(kw)); got != want {
			t.Errorf("keyword %q finds %s, want %s", kw, got, want)
		}
	}

	put("dotted", player(1), leave)
	put("sigma", player(2), leave)
	put("many", player(3), leave)
	for _, kw := range []string{"i", "İ", "s", "σ"} {
		if got := find(kw); len(got) != 0 {
			t.Errorf("keyword %q after every member left: %v", kw, got)
		}
	}
	for _, name := range []string{"dotted", "sigma", "many"} {
		if d, err := st.Session(context.Background(), scidA, "lobby", name); err == nil && d != nil {
			t.Errorf("%s still stored after its last member left: %+v", name, d)
		}
	}
}

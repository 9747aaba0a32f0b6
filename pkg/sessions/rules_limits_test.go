package sessions

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// TestObjectSize: an object of kept values is counted as the document
// stores it (Doc.Encode: encoding/json, no HTML escaping), names quoted,
// U+2028 in a name as a six-byte escape.
func TestObjectSize(t *testing.T) {
	for _, m := range []map[string]json.RawMessage{
		{},
		{"a": raw(`1`), "é": raw(`"<"`)},
		{"a\u2028\"": raw(`[]`), "b\u2029<": raw(`{"x":null}`)},
	} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m); err != nil {
			t.Fatal(err)
		}
		if want := len(bytes.TrimSpace(b.Bytes())); ObjectSize(m) != want {
			t.Errorf("ObjectSize(%v) = %d, want %d (%s)", m, ObjectSize(m), want, b.Bytes())
		}
	}
}

// TestMergedObjectsLimit: the 16 KiB limit of an object of kept values
// holds for the object as merged, not for each write that adds to it; a
// write that deletes as it adds may stay within it; a write that does not
// touch an object over the limit (one stored before) is not refused, nor
// one that shrinks it.
func TestMergedObjectsLimit(t *testing.T) {
	half := raw(`"` + strings.Repeat("x", MaxOpaqueBytes/2) + `"`)
	st := newDocStore()
	put(t, st, host, Condition{}, joinChange(true), t0)
	steps := []struct {
		name string
		ch   *Change
		path string // "": accepted
	}{
		{"custom a", &Change{Properties: &PropertiesChange{Custom: map[string]json.RawMessage{"a": half}}}, ""},
		{"custom b", &Change{Properties: &PropertiesChange{Custom: map[string]json.RawMessage{"b": half}}}, "$.properties.custom would be"},
		{"custom b for a", &Change{Properties: &PropertiesChange{Custom: map[string]json.RawMessage{"a": raw(`null`), "b": half}}}, ""},
		{"system a", &Change{Properties: &PropertiesChange{System: map[string]json.RawMessage{"a": half}}}, ""},
		{"system b", &Change{Properties: &PropertiesChange{System: map[string]json.RawMessage{"b": half}}}, "$.properties.system would be"},
		{"servers a", &Change{Servers: map[string]json.RawMessage{"a": half}}, ""},
		{"servers b", &Change{Servers: map[string]json.RawMessage{"b": half}}, "$.servers would be"},
		{"member custom a", &Change{Members: map[string]*MemberChange{"me": {PropertiesCustom: map[string]json.RawMessage{"a": half}}}}, ""},
		{"member custom b", &Change{Members: map[string]*MemberChange{"me": {PropertiesCustom: map[string]json.RawMessage{"b": half}}}}, "$.members.me.properties.custom would be"},
		{"member system b", &Change{Members: map[string]*MemberChange{"me": {PropertiesSystem: map[string]json.RawMessage{"a": half, "b": half}}}}, "$.members.me.properties.system would be"},
		{"member roles", &Change{Members: map[string]*MemberChange{"me": {Extra: map[string]json.RawMessage{"a": half}}}}, ""},
		{"member roles b", &Change{Members: map[string]*MemberChange{"me": {Extra: map[string]json.RawMessage{"b": half}}}}, "$.members.me (its fields other than constants and properties) would be"},
		{"a reservation's custom", &Change{Members: map[string]*MemberChange{"reserve_0": {XUID: 5, PropertiesCustom: map[string]json.RawMessage{"a": half, "b": half}}}}, "$.members.reserve_0.properties.custom would be"},
	}
	for _, s := range steps {
		_, err := svc(st, t0).Put(context.Background(), host, ref, Condition{}, s.ch)
		if s.path == "" {
			if err != nil {
				t.Errorf("%s: %v", s.name, err)
			}
			continue
		}
		if k, msg := derrors.Of(err); k != derrors.Invalid || !strings.Contains(msg, s.path) || !strings.Contains(msg, "the limit is 16384") {
			t.Errorf("%s: %v, want invalid naming %s", s.name, err, s.path)
		}
	}

	// A session stored with an object over the limit still takes every
	// write that leaves that object alone: a leave above all.
	d := st.docs[scidA+"/lobby/game-1"].Clone()
	d.PropertiesCustom = map[string]json.RawMessage{"a": half, "b": half, "c": half}
	if _, err := d.Encode(); err != nil {
		t.Fatal(err)
	}
	st.docs[scidA+"/lobby/game-1"] = d
	if res := put(t, st, host, Condition{}, &Change{Members: map[string]*MemberChange{"me": {Ready: ptr(true)}}}, t0); res.Outcome != Updated {
		t.Errorf("a member's write beside an oversized object: %+v", res)
	}
	// It may be cut down a key at a time, and not grow.
	grow := &Change{Properties: &PropertiesChange{Custom: map[string]json.RawMessage{"d": raw(`1`)}}}
	if _, err := svc(st, t0).Put(context.Background(), host, ref, Condition{}, grow); derrors.KindOf(err) != derrors.Invalid {
		t.Errorf("a write growing an oversized object: %v, want invalid", err)
	}
	for _, k := range []string{"c", "b"} {
		cut := &Change{Properties: &PropertiesChange{Custom: map[string]json.RawMessage{k: raw(`null`)}}}
		if res := put(t, st, host, Condition{}, cut, t0); res.Outcome != Updated {
			t.Errorf("a write deleting %s from an oversized object: %+v", k, res)
		}
	}
	if res := put(t, st, host, Condition{}, &Change{Members: map[string]*MemberChange{"me": nil}}, t0); res.Outcome != Deleted {
		t.Errorf("the last leave: %+v", res)
	}
}

// TestReservationsEnd: reservedRemovalTimeout is from 1 s to 1 h (0 once
// meant never); a creator who reserves 99 seats and leaves leaves a
// session that is gone once they expire; a reservation stored without an
// expiry gets one at the next write.
func TestReservationsEnd(t *testing.T) {
	for _, ms := range []int64{0, -1, MinReservedRemovalTimeout - 1, MaxReservedRemovalTimeout + 1} {
		ch := joinChange(true)
		ch.Constants = &ConstantsChange{ReservedRemovalTimeout: &ms}
		_, err := applier(t0).Apply(nil, ch, host, ref)
		if k, msg := derrors.Of(err); k != derrors.Invalid || !strings.Contains(msg, "$.constants.system.reservedRemovalTimeout must be from 1000 to 3600000") {
			t.Errorf("timeout %d: %v", ms, err)
		}
	}

	st := newDocStore()
	ms := int64(MaxReservedRemovalTimeout)
	create := joinChange(true)
	create.Constants = &ConstantsChange{ReservedRemovalTimeout: &ms}
	for i := range 99 {
		create.Members["reserve_"+strconv.Itoa(i)] = &MemberChange{XUID: xbl.XUID(5000 + i)}
	}
	put(t, st, host, Condition{}, create, t0)
	if res := put(t, st, host, Condition{}, &Change{Members: map[string]*MemberChange{"me": nil}}, t0); res.Outcome != Updated || len(res.Doc.Members) != 99 {
		t.Fatalf("the creator leaves: %+v", res)
	}
	end := t0.Add(time.Duration(ms) * time.Millisecond)
	if d, err := svc(st, end.Add(-time.Millisecond)).Get(context.Background(), srv, ref); err != nil || d == nil {
		t.Errorf("before the reservations expire: %v %v", d, err)
	}
	if d, err := svc(st, end).Get(context.Background(), srv, ref); err != nil || d != nil {
		t.Errorf("once they have expired the session is gone: %+v %v", d, err)
	}
	if res := put(t, st, srv, Condition{IfMatchAny: true}, &Change{}, end); res.Outcome != ConditionFailed {
		t.Errorf("an update of the session once gone: %+v", res)
	}

	// A reservation without an expiry (a fixture's; a session stored with
	// a timeout of 0) gets one at the next write, of its session's
	// timeout held to the range.
	fix := FromFixture(&xbl.Session{SCID: scidA, Template: "lobby", Name: "game-1", Visibility: xbl.OpenVis, StartTime: t0,
		Members: []xbl.Member{{XUID: host.XUID, Status: xbl.Active}, {XUID: third.XUID, Status: xbl.Reserved}}}, "e0")
	fix.ReservedRemovalTimeout = 0
	if _, err := fix.Encode(); err != nil {
		t.Fatal(err)
	}
	st = newDocStore()
	st.docs[scidA+"/lobby/game-1"] = fix
	res := put(t, st, host, Condition{}, &Change{Members: map[string]*MemberChange{"me": nil}}, t0)
	if m := res.Doc.Member(third.XUID); res.Outcome != Updated || m == nil || !m.ReservedUntil.Equal(t0.Add(MinReservedRemovalTimeout*time.Millisecond)) {
		t.Fatalf("the fixture's reservation after the host left: %+v", res.Doc)
	}
	if d, err := svc(st, t0.Add(MinReservedRemovalTimeout*time.Millisecond)).Get(context.Background(), srv, ref); err != nil || d != nil {
		t.Errorf("once it has expired the session is gone: %+v %v", d, err)
	}
}

// TestKeywordsCanonical: keywords are stored in their canonical form
// (xbl.FoldKeyword), one of each, so that no two keywords of a session are
// one index item: "s", "S" and "ſ" are one keyword, "σ", "Σ" and "ς" one,
// "i" and "İ" two; a leave of a session holding 32 keywords, "i" first and
// "İ" last, succeeds.
func TestKeywordsCanonical(t *testing.T) {
	kws := []string{"i"}
	for i := range 30 {
		kws = append(kws, "k"+strconv.Itoa(i))
	}
	kws = append(kws, "İ")
	st := newDocStore()
	create := joinChange(true)
	create.Properties = &PropertiesChange{Keywords: &kws}
	res := put(t, st, host, Condition{}, create, t0)
	if len(res.Doc.Keywords) != 32 || res.Doc.Keywords[0] != "i" || res.Doc.Keywords[31] != "İ" {
		t.Fatalf("keywords %q", res.Doc.Keywords)
	}
	if res := put(t, st, host, Condition{}, &Change{Members: map[string]*MemberChange{"me": nil}}, t0); res.Outcome != Deleted {
		t.Errorf("the last leave: %+v", res)
	}
	for _, tt := range []struct {
		in   []string
		want []string
	}{
		{[]string{"s", "S", "ſ"}, []string{"s"}},
		{[]string{"ſ"}, []string{"s"}},
		{[]string{"Σ", "σ", "ς"}, []string{"ς"}},
		{[]string{"i", "I", "İ", "ı"}, []string{"i", "İ", "ı"}},
		{[]string{"Ranked", "RANKED", "ranked"}, []string{"ranked"}},
		{[]string{"\u212A", "k"}, []string{"k"}},
	} {
		d, err := applier(t0).Apply(nil, &Change{Properties: &PropertiesChange{Keywords: &tt.in}}, host, ref)
		if err != nil || !slices.Equal(d.Keywords, tt.want) {
			t.Errorf("%q: %q %v, want %q", tt.in, d.Keywords, err, tt.want)
		}
	}
	// A keyword within the limit that folding lengthens past it (U+023A,
	// two bytes, folds to U+2C65, three) is refused, naming both forms.
	long := []string{strings.Repeat("\u023a", xbl.MaxKeywordBytes/2)}
	_, err := applier(t0).Apply(nil, &Change{Properties: &PropertiesChange{Keywords: &long}}, host, ref)
	if k, msg := derrors.Of(err); k != derrors.Invalid || !strings.Contains(msg, "$.properties.system.keywords[0] in its canonical form") {
		t.Errorf("a keyword that folding lengthens: %v", err)
	}
}

// TestKeywordsCanonicalProperty: over random keyword lists from many
// scripts, with the case variants of each keyword, the keywords stored are
// canonical, pairwise distinct (so pairwise distinct index items), in the
// order first sent, and a keyword query for any spelling sent finds its
// keyword; a leave always succeeds.
func TestKeywordsCanonicalProperty(t *testing.T) {
	alphabet := []rune("aAiIİıkKsSſσΣςµΜμßẞǅǄǆДдЖжԱաႠⴀᎠꭰ\u212A\u212BÅå𐐀𐐨ΐΰ")
	r := rand.New(rand.NewPCG(20, 20))
	for range 2000 {
		var in []string
		for range 1 + r.IntN(40) {
			var b strings.Builder
			for range 1 + r.IntN(3) {
				b.WriteRune(alphabet[r.IntN(len(alphabet))])
			}
			in = append(in, b.String())
		}
		d, err := applier(t0).Apply(nil, &Change{Properties: &PropertiesChange{Keywords: &in}}, host, ref)
		if err != nil {
			if k, msg := derrors.Of(err); k == derrors.Invalid && strings.Contains(msg, "the limit is 32") {
				continue
			}
			t.Fatalf("%q: %v", in, err)
		}
		var want []string
		for _, kw := range in {
			if f := xbl.FoldKeyword(kw); !slices.Contains(want, f) {
				want = append(want, f)
			}
		}
		if !slices.Equal(d.Keywords, want) {
			t.Fatalf("%q: stored %q, want %q", in, d.Keywords, want)
		}
		for _, kw := range in {
			if !HasKeyword(d.Keywords, kw) {
				t.Fatalf("%q: a query for %q finds none of %q", in, kw, d.Keywords)
			}
		}
		if _, err := applier(t0).Apply(d, &Change{Members: map[string]*MemberChange{"me": nil}}, host, ref); err != nil {
			t.Fatalf("%q: leave: %v", in, err)
		}
	}
}

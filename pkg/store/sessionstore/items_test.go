package sessionstore

import (
	"reflect"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// TestItemsRoundTrip encodes every session item kind with attributevalue
// and decodes it back: what a reader gets is what a write stored.
func TestItemsRoundTrip(t *testing.T) {
	const scid = "7492baca-c1b4-440d-a391-b7ef364a8d40"
	ptr := func(it Item) *Item { return &it }
	start := time.Date(2026, 11, 20, 13, 45, 30, 90_000_000, time.UTC)
	head := Item{Key: store.HeadKey(scid, "t", "n"), HeadFields: HeadFields{Template: "t", Name: "n", StartTime: start.Format(store.TimeLayout), Version: 1,
		Visibility: "open", MaxMembers: 10, JoinRestriction: "local", Keywords: []string{"kw"}, Turn: []int{0},
		Members: []HeadMember{{XUID: "9", Index: 0, Status: "active"}, {XUID: "18446744073709551615", Index: 3, Status: "reserved", Until: 1796000000000}}}}
	withCopy := MemberEntries(9, 0, scid, "t", "n", start)[0]
	withCopy.HeadFields, withCopy.Copy = head.HeadFields, true
	tests := []struct {
		name string
		in   any
		out  any
	}{
		{"session document", &DocItem{Key: store.SessionKey(scid, "t", "n"), ETag: "e", Doc: `{"a":1}`, Copies: true}, &DocItem{}},
		{"membership with a copy of the head", &withCopy, &Item{}},
		{"head", &head, &Item{}},
		{"membership", ptr(MemberEntries(9, 3, scid, "t", "n", start)[0]), &Item{}},
		{"membership in its template", ptr(MemberEntries(9, 0, scid, "t", "n", start)[1]), &Item{}},
		{"keyword", ptr(KeywordEntries("kw", scid, "t", "n", start)[0]), &Item{}},
		{"keyword in its template", ptr(KeywordEntries("kw", scid, "t", "n", start)[1]), &Item{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			av, err := store.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if av[store.AttrPK] == nil || av[store.AttrSK] == nil {
				t.Fatalf("no key attributes: %v", av)
			}
			if err := store.Unmarshal(av, tt.out); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tt.in, tt.out) {
				t.Errorf("round trip:\n%+v\n%+v", tt.in, tt.out)
			}
		})
	}
	m := MemberEntries(8, 1, scid, "t", "n", start)[0]
	if m.StartTime != "2026-11-20T13:45:30.0900000Z" || *m.Index != 1 || m.Head(scid) != store.HeadKey(scid, "t", "n") {
		t.Errorf("membership = %+v", m)
	}
}

// TestItemAV: the attributes a write sends for the head and each index
// entry, the head encoded once, are what attributevalue encodes for each.
func TestItemAV(t *testing.T) {
	start := time.Date(2026, 11, 20, 13, 45, 30, 90_000_000, time.UTC)
	d := &sessions.Doc{SCID: "7492baca-c1b4-440d-a391-b7ef364a8d40", Template: "t", Name: "n", StartTime: start, Visibility: xbl.OpenVis,
		MaxMembers: 4, Keywords: []string{"kw"}, Turn: []int{1}, JoinRestriction: "local",
		Members: []sessions.Member{{Index: 0, XUID: 9, Active: true}, {Index: 1, XUID: 8, Reserved: true, ReservedUntil: start.Add(time.Minute)}}}
	if _, err := ItemsOf(d, true); err == nil {
		t.Error("ItemsOf stored a document without its encoding")
	}
	if _, err := d.Encode(); err != nil {
		t.Fatal(err)
	}
	for _, copies := range []bool{true, false} {
		it, err := ItemsOf(d, copies)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range append([]Item{it.Head}, it.Pointers...) {
			got, err := it.itemAV(&p)
			if err != nil {
				t.Fatal(err)
			}
			want, err := store.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("copies %v, %s: %v, want %v", copies, p.SK, got, want)
			}
		}
	}
}

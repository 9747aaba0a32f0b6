package store

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/xbl"
)

const scid = "7492baca-c1b4-440d-a391-b7ef364a8d40"

// TestItemsRoundTrip encodes the item kinds of this package with
// attributevalue and decodes them back: what a reader gets is what the
// loader wrote. (The statistics and session items are statstore's and
// sessionstore's, tested there.)
func TestItemsRoundTrip(t *testing.T) {
	cfg := NewConfigItem(xbl.ServiceConfig{SCID: scid, TitleIDs: []string{"1"}, Sandboxes: []string{"RETAIL"}, Stats: map[string]xbl.Access{"KD": xbl.Open}})
	ranked := NewConfigItem(xbl.ServiceConfig{SCID: scid, TitleIDs: []string{"1"}, Sandboxes: []string{"RETAIL"}, Stats: map[string]xbl.Access{"KD": xbl.Open, "Time": xbl.Open},
		Leaderboards: map[string]xbl.Leaderboard{"kd": {Stat: "KD", Type: xbl.Double}, "time": {Stat: "Time", Ascending: true, Type: xbl.Integer}}})
	tests := []struct {
		name string
		in   any
		out  any
	}{
		{"config", &cfg, &ConfigItem{}},
		{"config with leaderboards", &ranked, &ConfigItem{}},
		{"profile", ptr(NewProfileItem(xbl.Profile{XUID: 1, Gamertag: "G"})), &ProfileItem{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			av, err := Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if av[AttrPK] == nil || av[AttrSK] == nil {
				t.Fatalf("no key attributes: %v", av)
			}
			if err := Unmarshal(av, tt.out); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tt.in, tt.out) {
				t.Errorf("round trip:\n%+v\n%+v", tt.in, tt.out)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestConfigItemRoundTrip: a configuration, with leaderboards or without,
// reads back from its encoded item as the loader wrote it (stat names in
// their StatKey form, a leaderboard's stat as configured), through the
// projection ReadConfig reads it with.
func TestConfigItemRoundTrip(t *testing.T) {
	base := func() xbl.ServiceConfig {
		return xbl.ServiceConfig{SCID: scid, TitleIDs: []string{"1297287135"}, Sandboxes: []string{"XDKS.1", "RETAIL"},
			Stats: map[string]xbl.Access{"Score": xbl.Open, "Time": xbl.Restricted, "KD": xbl.Open}}
	}
	withBoards := base()
	withBoards.Leaderboards = map[string]xbl.Leaderboard{
		"score": {Stat: "Score", Type: xbl.Integer, Lanes: 64},
		"time":  {Stat: "TIME", Ascending: true, Type: xbl.Integer},
		"kd":    {Stat: "KD", Type: xbl.Double},
	}
	defaulted := base()
	defaulted.Leaderboards = map[string]xbl.Leaderboard{"score": {Stat: "Score"}} // no type: Integer
	emptyBoards := base()
	emptyBoards.Leaderboards = map[string]xbl.Leaderboard{}
	tests := []struct {
		name string
		in   xbl.ServiceConfig
		want map[string]xbl.Leaderboard
	}{
		{"without leaderboards", base(), nil},
		{"with an empty map of leaderboards", emptyBoards, nil},
		{"with leaderboards", withBoards, withBoards.Leaderboards},
		{"type defaults to Integer", defaulted, map[string]xbl.Leaderboard{"score": {Stat: "Score", Type: xbl.Integer}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			av, err := Marshal(ptr(NewConfigItem(tt.in)))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := av["leaderboards"]; ok != (len(tt.want) > 0) {
				t.Errorf("leaderboards attribute present = %v, want %v: %v", ok, len(tt.want) > 0, av)
			}
			// What ReadConfig gets: the projected attributes only.
			read := map[string]types.AttributeValue{}
			for _, name := range configProjection.Names {
				if v, ok := av[name]; ok {
					read[name] = v
				}
			}
			if len(read) != len(av)-2 {
				t.Errorf("the projection %q reads %d of the item's %d attributes besides its key", configProjection.Expression, len(read), len(av)-2)
			}
			var it ConfigItem
			if err := Unmarshal(read, &it); err != nil {
				t.Fatal(err)
			}
			got := it.Config(scid)
			want := &xbl.ServiceConfig{SCID: scid, TitleIDs: tt.in.TitleIDs, Sandboxes: tt.in.Sandboxes,
				Stats: map[string]xbl.Access{"score": xbl.Open, "time": xbl.Restricted, "kd": xbl.Open}, Leaderboards: tt.want}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Config =\n%+v\nwant\n%+v", got, want)
			}
			for _, lb := range tt.want {
				if l, ok := got.Leaderboard(strings.ToLower(lb.Stat)); !ok || l != lb {
					t.Errorf("Leaderboard(%q) = %+v, %v", strings.ToLower(lb.Stat), l, ok)
				}
			}
		})
	}
}

// TestConfigItemWithoutLeaderboardsUnchanged: a configuration without
// leaderboards encodes exactly as it did before leaderboards existed, so
// that stored items, their sizes and their reads do not change; one with
// them adds only the leaderboards list, in StatKey order.
func TestConfigItemWithoutLeaderboardsUnchanged(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	l := func(vs ...types.AttributeValue) types.AttributeValue { return &types.AttributeValueMemberL{Value: vs} }
	m := func(kv map[string]types.AttributeValue) types.AttributeValue {
		return &types.AttributeValueMemberM{Value: kv}
	}
	cfg := xbl.ServiceConfig{SCID: scid, TitleIDs: []string{"1297287135"}, Sandboxes: []string{"RETAIL"}, Stats: map[string]xbl.Access{"Score": xbl.Open}}
	before := map[string]types.AttributeValue{
		"pk": s("scid#" + scid), "sk": s("config"), "scid": s(scid),
		"titleIds": l(s("1297287135")), "sandboxes": l(s("RETAIL")),
		"s": m(map[string]types.AttributeValue{"score": s("open")}),
	}
	av, err := Marshal(ptr(NewConfigItem(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(av, before) {
		t.Errorf("a configuration without leaderboards encodes as\n%#v\nwant\n%#v", av, before)
	}
	if got, want := ItemSize(av), ItemSize(before); got != want || got != 146 {
		t.Errorf("ItemSize = %d, want %d (146)", got, want)
	}

	cfg.Stats["Time"] = xbl.Restricted
	cfg.Leaderboards = map[string]xbl.Leaderboard{
		"time":  {Stat: "Time", Ascending: true, Type: xbl.Integer},
		"score": {Stat: "Score", Type: xbl.Double},
	}
	av, err = Marshal(ptr(NewConfigItem(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	want := l(
		m(map[string]types.AttributeValue{"stat": s("Score"), "sort": s("descending"), "type": s("Double")}),
		m(map[string]types.AttributeValue{"stat": s("Time"), "sort": s("ascending"), "type": s("Integer")}),
	)
	if !reflect.DeepEqual(av["leaderboards"], want) {
		t.Errorf("leaderboards = %#v, want %#v", av["leaderboards"], want)
	}
}

func TestKeys(t *testing.T) {
	start := time.Date(2026, 11, 20, 13, 45, 30, 90_000_000, time.UTC)
	order := Order(start)
	tests := []struct {
		got  Key
		want Key
		kind string
	}{
		{StatsKey(5, scid), Key{"5#" + scid, "stats"}, "stats"},
		{ProfileKey(5), Key{"profile#5", "profile"}, "profile"},
		{ConfigKey(scid), Key{"scid#" + scid, "config"}, "config"},
		{MembershipKeys(5, scid, "t", "n", start)[0], Key{"5#" + scid, "m#" + order + "#t#n"}, "membership"},
		{MembershipKeys(5, scid, "t", "n", start)[1], Key{"5#" + scid, "mt#t#" + order + "#n"}, "membership"},
		{KeywordKeys(scid, "k", "t", "n", start)[0], Key{"keyword#" + scid + "#k", "k#" + order + "#t#n"}, "keyword"},
		{KeywordKeys(scid, "k", "t", "n", start)[1], Key{"keyword#" + scid + "#k", "kt#t#" + order + "#n"}, "keyword"},
		{SessionKey(scid, "t", "n"), Key{"session#" + scid + "#t#n", "doc"}, "session"},
		{HeadKey(scid, "t", "n"), Key{"session#" + scid + "#t#n", "head"}, "head"},
	}
	for _, tt := range tests {
		if tt.got != tt.want || ItemKind(tt.got) != tt.kind {
			t.Errorf("%v (%s), want %v (%s)", tt.got, ItemKind(tt.got), tt.want, tt.kind)
		}
	}
	if x, s, ok := ParseUserSCID("5#" + scid); !ok || x != 5 || s != scid {
		t.Errorf("ParseUserSCID = %v %v %v", x, s, ok)
	}
	if _, _, ok := ParseUserSCID("x#" + scid); ok {
		t.Error("ParseUserSCID accepted a bad xuid")
	}
	if MembershipPrefix("") != "m#" || MembershipPrefix("t") != "mt#t#" || KeywordPrefix("") != "k#" || KeywordPrefix("t") != "kt#t#" {
		t.Error("prefixes")
	}
}

// TestOrderSortsNewestFirst: the order part of a key sorts as the start
// times do, newest first, to 100 ns; times before 1970 sort as 1970.
func TestOrderSortsNewestFirst(t *testing.T) {
	times := []time.Time{
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2026, 11, 20, 13, 45, 30, 100, time.UTC),
		time.Date(2026, 11, 20, 13, 45, 30, 0, time.UTC),
		time.Date(2026, 11, 20, 13, 45, 29, 999_999_900, time.UTC),
		time.Unix(0, 0),
	}
	for i := 1; i < len(times); i++ {
		a, b := Order(times[i-1]), Order(times[i])
		if len(a) != 19 || len(b) != 19 || a >= b {
			t.Errorf("Order(%v) = %s, Order(%v) = %s: not newest first", times[i-1], a, times[i], b)
		}
	}
	if Order(time.Unix(-5, 0)) != Order(time.Unix(0, 0)) {
		t.Error("a time before 1970 does not sort as 1970")
	}
	if Order(time.Date(2026, 1, 1, 0, 0, 0, 50, time.UTC)) != Order(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("Order is finer than the 100 ns that start times are stored with")
	}
}

// TestProjectionOf derives projections from dynamodbav tags: embedded
// structs flattened, "-" and omitted names left out, reserved words behind
// placeholders.
func TestProjectionOf(t *testing.T) {
	type inner struct {
		Name string `dynamodbav:"name"`
		Max  int    `dynamodbav:"max,omitempty"`
	}
	type item struct {
		Key
		inner
		Skip  string `dynamodbav:"-"`
		Plain string
		Odd   string `dynamodbav:"a.b"`
	}
	p := ProjectionOf[item](AttrSK)
	want := Projection{Expression: "#pk, #name, #max, #Plain, #a5", Names: map[string]string{"#pk": "pk", "#name": "name", "#max": "max", "#Plain": "Plain", "#a5": "a.b"}}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("ProjectionOf = %+v, want %+v", p, want)
	}
}

// TestKeywordPKIsEqualFold: two keywords share an index partition exactly
// when strings.EqualFold says they are one keyword, so that a session's
// distinct keywords never write one item twice ("i" and "İ") and a query
// in any letter case finds a keyword ("ſ" finds "s", "ς" finds "σ").
func TestKeywordPKIsEqualFold(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		same bool
	}{
		{"i", "İ", false}, {"i", "ı", false}, {"İ", "ı", false}, {"I", "i", true},
		{"s", "ſ", true}, {"S", "ſ", true}, {"σ", "ς", true}, {"Σ", "ς", true},
		{"k", "\u212A", true}, {"Ranked", "rANKED", true}, {"e\u0301", "é", false},
	} {
		if same := KeywordPK(scid, tt.a) == KeywordPK(scid, tt.b); same != tt.same || same != strings.EqualFold(tt.a, tt.b) {
			t.Errorf("KeywordPK(%q) == KeywordPK(%q) is %v, want %v", tt.a, tt.b, same, tt.same)
		}
	}
	byPK := map[string]rune{}
	for r := rune(0x20); r < 0x20000; r++ {
		if !utf8.ValidRune(r) || xbl.CheckKeyword(string(r)) != nil {
			continue
		}
		pk := KeywordPK(scid, string(r))
		if pk != KeywordPK(scid, string(unicode.SimpleFold(r))) {
			t.Fatalf("%U and %U, one keyword, have partitions %q and %q", r, unicode.SimpleFold(r), pk, KeywordPK(scid, string(unicode.SimpleFold(r))))
		}
		if o, ok := byPK[pk]; ok && !strings.EqualFold(string(o), string(r)) {
			t.Fatalf("%U and %U, two keywords, share the partition %q", o, r, pk)
		} else if !ok {
			byPK[pk] = r
		}
	}
	if pk := KeywordPK(scid, "Ranked"); pk != "keyword#"+scid+"#ranked" {
		t.Errorf("an ASCII keyword's partition moved: %q", pk)
	}
}

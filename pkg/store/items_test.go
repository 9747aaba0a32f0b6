package store

import (
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/xblread/xblread/pkg/xbl"
)

const scid = "7492baca-c1b4-440d-a391-b7ef364a8d40"

// TestItemsRoundTrip encodes every item kind with attributevalue and
// decodes it back: what a reader gets is what the loader wrote, numbers
// exactly. (The session items are sessionstore's, tested there.)
func TestItemsRoundTrip(t *testing.T) {
	cfg := NewConfigItem(xbl.ServiceConfig{SCID: scid, TitleIDs: []string{"1"}, Sandboxes: []string{"RETAIL"}, Stats: map[string]xbl.Access{"KD": xbl.Open}})
	stats := NewStatsItem(xbl.UserStats{XUID: 18446744073709551615, SCID: scid, Stats: map[string]xbl.StatValue{
		"big":  {Type: xbl.Integer, Value: "-9223372036854775808"},
		"d":    {Type: xbl.Double, Value: "1.2345678901234568e-300"},
		"s":    {Type: xbl.String, Value: "007"},
		"a.b#": {Type: xbl.Integer, Value: "1"},
	}}, "Gamer Tag")
	tests := []struct {
		name string
		in   any
		out  any
	}{
		{"config", &cfg, &ConfigItem{}},
		{"profile", ptr(NewProfileItem(xbl.Profile{XUID: 1, Gamertag: "G"})), &ProfileItem{}},
		{"stats", &stats, &StatsItem{}},
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
	if got := stats.Values(); got["big"].Value != "-9223372036854775808" || got["d"].Value != "1.2345678901234568e-300" || got["s"].Value != "007" {
		t.Errorf("values = %v", got)
	}
}

func ptr[T any](v T) *T { return &v }

// TestStatsItemDecoding: the hand-written decoder of statistics items reads
// what a projection leaves (no statistics at all) and refuses shapes it
// cannot read.
func TestStatsItemDecoding(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	m := func(kv map[string]types.AttributeValue) types.AttributeValue {
		return &types.AttributeValueMemberM{Value: kv}
	}
	var it StatsItem
	if err := Unmarshal(map[string]types.AttributeValue{AttrPK: s("1#" + scid), "gamertag": s("G")}, &it); err != nil || it.Stats != nil || it.Gamertag != "G" || it.PK != "1#"+scid {
		t.Errorf("projected item without statistics: %+v, %v", it, err)
	}
	for name, stats := range map[string]types.AttributeValue{
		"stats not a map":     s("x"),
		"statistic not a map": m(map[string]types.AttributeValue{"a": s("1")}),
		"no type":             m(map[string]types.AttributeValue{"a": m(map[string]types.AttributeValue{"v": s("1")})}),
		"value a list":        m(map[string]types.AttributeValue{"a": m(map[string]types.AttributeValue{"t": s("String"), "v": &types.AttributeValueMemberL{}})}),
	} {
		if err := Unmarshal(map[string]types.AttributeValue{AttrPK: s("1#" + scid), AttrStats: stats}, &it); err == nil {
			t.Errorf("%s: decoded %+v", name, it)
		}
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

// TestEveryDoubleIsStoredExactly: doubles DynamoDB's numbers cannot hold
// are stored as strings, and every one reads back as written.
func TestEveryDoubleIsStoredExactly(t *testing.T) {
	for _, f := range []float64{0, 1.25, 1e125, 9.99e125, 1e126, 1e300, math.MaxFloat64, 1e-130, 9e-131, 5e-324, -1e300, -5e-324, math.SmallestNonzeroFloat64 * 3} {
		v, err := xbl.NewStatValue(xbl.Double, strconv.FormatFloat(f, 'g', -1, 64))
		if err != nil {
			t.Fatal(err)
		}
		it := NewStatsItem(xbl.UserStats{XUID: 1, SCID: scid, Stats: map[string]xbl.StatValue{"d": v}}, "")
		_, isNumber := it.Stats["d"].Value.(attributevalue.Number)
		if a := math.Abs(f); isNumber != (a == 0 || a >= 1e-130 && a < 1e126) {
			t.Errorf("%g stored as a number: %v", f, isNumber)
		}
		av, _ := Marshal(&it)
		var back StatsItem
		if err := Unmarshal(av, &back); err != nil {
			t.Fatal(err)
		}
		got := back.Values()["d"]
		g, _ := strconv.ParseFloat(got.Value, 64)
		if got.Type != xbl.Double || g != f {
			t.Errorf("%g read back as %+v", f, got)
		}
	}
	if NumberFits("1.2345678901234567890123456789012345678901") {
		t.Error("41 significant digits fit a DynamoDB number")
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

package statstore

import (
	"math"
	"reflect"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

const scid = "7492baca-c1b4-440d-a391-b7ef364a8d40"

// TestItemsRoundTrip encodes a statistics item with attributevalue and
// decodes it back with its own decoder: what a reader gets is what the
// loader wrote, numbers exactly.
func TestItemsRoundTrip(t *testing.T) {
	stats := NewStatsItem(xbl.UserStats{XUID: 18446744073709551615, SCID: scid, Stats: map[string]xbl.StatValue{
		"big":  {Type: xbl.Integer, Value: "-9223372036854775808"},
		"d":    {Type: xbl.Double, Value: "1.2345678901234568e-300"},
		"s":    {Type: xbl.String, Value: "007"},
		"a.b#": {Type: xbl.Integer, Value: "1"},
	}}, "Gamer Tag")
	av, err := store.Marshal(&stats)
	if err != nil {
		t.Fatal(err)
	}
	if av[store.AttrPK] == nil || av[store.AttrSK] == nil {
		t.Fatalf("no key attributes: %v", av)
	}
	var back StatsItem
	if err := store.Unmarshal(av, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stats, back) {
		t.Errorf("round trip:\n%+v\n%+v", stats, back)
	}
	if got := stats.Values(); got["big"].Value != "-9223372036854775808" || got["d"].Value != "1.2345678901234568e-300" || got["s"].Value != "007" {
		t.Errorf("values = %v", got)
	}
}

// TestStatsItemDecoding: the hand-written decoder of statistics items reads
// what a projection leaves (no statistics at all) and refuses shapes it
// cannot read.
func TestStatsItemDecoding(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	m := func(kv map[string]types.AttributeValue) types.AttributeValue {
		return &types.AttributeValueMemberM{Value: kv}
	}
	var it StatsItem
	if err := store.Unmarshal(map[string]types.AttributeValue{store.AttrPK: s("1#" + scid), "gamertag": s("G")}, &it); err != nil || it.Stats != nil || it.Gamertag != "G" || it.PK != "1#"+scid {
		t.Errorf("projected item without statistics: %+v, %v", it, err)
	}
	for name, stats := range map[string]types.AttributeValue{
		"stats not a map":     s("x"),
		"statistic not a map": m(map[string]types.AttributeValue{"a": s("1")}),
		"no type":             m(map[string]types.AttributeValue{"a": m(map[string]types.AttributeValue{"v": s("1")})}),
		"value a list":        m(map[string]types.AttributeValue{"a": m(map[string]types.AttributeValue{"t": s("String"), "v": &types.AttributeValueMemberL{}})}),
	} {
		if err := store.Unmarshal(map[string]types.AttributeValue{store.AttrPK: s("1#" + scid), store.AttrStats: stats}, &it); err == nil {
			t.Errorf("%s: decoded %+v", name, it)
		}
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
		av, _ := store.Marshal(&it)
		var back StatsItem
		if err := store.Unmarshal(av, &back); err != nil {
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

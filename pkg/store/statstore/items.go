package statstore

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// StatsItem is a user's statistics for one SCID, with the user's gamertag
// so that a read of statistics needs no profile item.
type StatsItem struct {
	store.Key
	XUID     string              `dynamodbav:"xuid"`
	SCID     string              `dynamodbav:"scid"`
	Gamertag string              `dynamodbav:"gamertag,omitempty"`
	Stats    map[string]StatAttr `dynamodbav:"s"`
	// Revision and Timestamp are a game's, when a game wrote the document.
	Revision  int64  `dynamodbav:"rev,omitempty"`
	Timestamp string `dynamodbav:"ts,omitempty"`
}

// StatAttr is one stored statistic: its type, and its value as a DynamoDB
// number (attributevalue.Number) for Integer and Double, a string for
// String. A Double that DynamoDB's numbers cannot hold (they range over
// 1e-130 to 1e126 in magnitude; a float64 goes from 5e-324 to 1.8e308) is
// stored as its string, and read back the same.
type StatAttr struct {
	Type  string `dynamodbav:"t"`
	Value any    `dynamodbav:"v"`
	// Name is the stat's name as last written when it differs from the
	// map's key, its xbl.StatKey ("" when they are the same).
	Name string `dynamodbav:"n,omitempty"`
}

// NewStatAttr returns the stored form of the statistic name = v.
func NewStatAttr(name string, v xbl.StatValue) StatAttr {
	a := StatAttr{Type: string(v.Type), Value: v.Value}
	if name != xbl.StatKey(name) {
		a.Name = name
	}
	if v.Type == xbl.Integer || v.Type == xbl.Double && NumberFits(v.Value) {
		a.Value = attributevalue.Number(v.Value)
	}
	return a
}

// UnmarshalDynamoDBAttributeValue decodes a statistics item without
// reflection: every read decodes up to a thousand of them, and this is
// about ten times faster than attributevalue's generic decoder. Encoding
// stays attributevalue's; TestItemsRoundTrip holds the two together.
func (it *StatsItem) UnmarshalDynamoDBAttributeValue(av types.AttributeValue) error {
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return fmt.Errorf("statistics item: %T, not a map", av)
	}
	str := func(name string) string {
		if s, ok := m.Value[name].(*types.AttributeValueMemberS); ok {
			return s.Value
		}
		return ""
	}
	*it = StatsItem{Key: store.Key{PK: str(store.AttrPK), SK: str(store.AttrSK)}, XUID: str("xuid"), SCID: str("scid"), Gamertag: str("gamertag"), Timestamp: str("ts")}
	if n, ok := m.Value["rev"].(*types.AttributeValueMemberN); ok {
		it.Revision, _ = strconv.ParseInt(n.Value, 10, 64)
	}
	switch s := m.Value[store.AttrStats].(type) {
	case nil, *types.AttributeValueMemberNULL:
		return nil // no statistics (attributevalue writes an empty map as NULL)
	case *types.AttributeValueMemberM:
		it.Stats = make(map[string]StatAttr, len(s.Value))
		for name, v := range s.Value {
			a, err := statAttr(v)
			if err != nil {
				return fmt.Errorf("statistics item: %q: %w", name, err)
			}
			it.Stats[name] = a
		}
		return nil
	default:
		return fmt.Errorf("statistics item: %s is %T, not a map", store.AttrStats, s)
	}
}

// statAttr decodes one stored statistic {t, v}.
func statAttr(av types.AttributeValue) (StatAttr, error) {
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return StatAttr{}, fmt.Errorf("%T, not a map", av)
	}
	t, ok := m.Value["t"].(*types.AttributeValueMemberS)
	if !ok {
		return StatAttr{}, errors.New("no type")
	}
	var name string
	if n, ok := m.Value["n"].(*types.AttributeValueMemberS); ok {
		name = n.Value
	}
	switch v := m.Value["v"].(type) {
	case *types.AttributeValueMemberN:
		return StatAttr{Type: t.Value, Value: attributevalue.Number(v.Value), Name: name}, nil
	case *types.AttributeValueMemberS:
		return StatAttr{Type: t.Value, Value: v.Value, Name: name}, nil
	}
	return StatAttr{}, fmt.Errorf("value is %T", m.Value["v"])
}

// NewStatsItem returns u's item, carrying gamertag ("" for none).
func NewStatsItem(u xbl.UserStats, gamertag string) StatsItem {
	it := StatsItem{Key: store.StatsKey(u.XUID, u.SCID), XUID: u.XUID.String(), SCID: u.SCID, Gamertag: gamertag, Stats: make(map[string]StatAttr, len(u.Stats))}
	for name, v := range u.Stats {
		it.Stats[xbl.StatKey(name)] = NewStatAttr(name, v)
	}
	return it
}

// Names returns the stats' names as written, by StatKey.
func (it *StatsItem) Names() map[string]string {
	out := make(map[string]string, len(it.Stats))
	for key, a := range it.Stats {
		out[key] = cmp.Or(a.Name, key)
	}
	return out
}

// Values returns the item's statistics in canonical form; a stored value
// that is not valid for its type is left out.
func (it *StatsItem) Values() map[string]xbl.StatValue {
	out := make(map[string]xbl.StatValue, len(it.Stats))
	for name, a := range it.Stats {
		var text string
		switch v := a.Value.(type) {
		case attributevalue.Number:
			text = string(v)
		case string:
			text = v
		default:
			continue
		}
		// DynamoDB writes numbers its own way: print them ours.
		if sv, err := xbl.NewStatValue(xbl.StatType(a.Type), text); err == nil {
			out[name] = sv
		}
	}
	return out
}

// NumberFits reports whether the decimal text fits a DynamoDB number:
// zero, or a magnitude from 1e-130 up to (not including) 1e126, with at
// most 38 significant digits.
func NumberFits(text string) bool {
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return false
	}
	if a := math.Abs(f); a != 0 && (a < 1e-130 || a >= 1e126) {
		return false
	}
	digits := 0
	for _, c := range strings.SplitN(strings.ToLower(text), "e", 2)[0] {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	return digits <= 38
}

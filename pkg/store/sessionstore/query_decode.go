package sessionstore

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/store"
)

// decodeItem decodes an index entry or a head item into it as
// store.Unmarshal does (attributes it does not know are ignored; a number
// where a string belongs is refused), without reflection: a query decodes
// every entry it reads, and this takes a fraction of attributevalue's time
// (BenchmarkDecodeEntry). TestDecodeItem holds the two together on every
// attribute of Item.
func decodeItem(av map[string]types.AttributeValue, it *Item) error {
	*it = Item{}
	for name, v := range av {
		if _, null := v.(*types.AttributeValueMemberNULL); null {
			continue
		}
		var err error
		switch name {
		case store.AttrPK:
			it.PK, err = avString(v)
		case store.AttrSK:
			it.SK, err = avString(v)
		case "template":
			it.Template, err = avString(v)
		case "name":
			it.Name, err = avString(v)
		case "startTime":
			it.StartTime, err = avString(v)
		case "version":
			it.Version, err = avInt(v)
		case "visibility":
			it.Visibility, err = avString(v)
		case "max":
			it.MaxMembers, err = avInt(v)
		case "joinRestriction":
			it.JoinRestriction, err = avString(v)
		case "keywords":
			it.Keywords, err = avStrings(v)
		case "turn":
			it.Turn, err = avInts(v)
		case "m":
			it.Members, err = avMembers(v)
		case "i":
			var n int
			n, err = avInt(v)
			it.Index = &n
		case "c":
			b, ok := v.(*types.AttributeValueMemberBOOL)
			if !ok {
				err = fmt.Errorf("%T, not a boolean", v)
			} else {
				it.Copy = b.Value
			}
		}
		if err != nil {
			return fmt.Errorf("attribute %s: %w", name, err)
		}
	}
	return nil
}

func avString(v types.AttributeValue) (string, error) {
	s, ok := v.(*types.AttributeValueMemberS)
	if !ok {
		return "", fmt.Errorf("%T, not a string", v)
	}
	return s.Value, nil
}

func avInt(v types.AttributeValue) (int, error) {
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("%T, not a number", v)
	}
	return strconv.Atoi(n.Value)
}

func avStrings(v types.AttributeValue) ([]string, error) {
	switch l := v.(type) {
	case *types.AttributeValueMemberSS:
		return l.Value, nil
	case *types.AttributeValueMemberL:
		out := make([]string, len(l.Value))
		for i, e := range l.Value {
			s, err := avString(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("%T, not a list", v)
}

func avInts(v types.AttributeValue) ([]int, error) {
	l, ok := v.(*types.AttributeValueMemberL)
	if !ok {
		return nil, fmt.Errorf("%T, not a list", v)
	}
	out := make([]int, len(l.Value))
	for i, e := range l.Value {
		n, err := avInt(e)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out[i] = n
	}
	return out, nil
}

func avMembers(v types.AttributeValue) ([]HeadMember, error) {
	l, ok := v.(*types.AttributeValueMemberL)
	if !ok {
		return nil, fmt.Errorf("%T, not a list", v)
	}
	out := make([]HeadMember, len(l.Value))
	for i, e := range l.Value {
		m, ok := e.(*types.AttributeValueMemberM)
		if !ok {
			return nil, fmt.Errorf("[%d]: %T, not a map", i, e)
		}
		hm := &out[i]
		for name, f := range m.Value {
			if _, null := f.(*types.AttributeValueMemberNULL); null {
				continue
			}
			var err error
			switch name {
			case "x":
				hm.XUID, err = avString(f)
			case "i":
				hm.Index, err = avInt(f)
			case "s":
				hm.Status, err = avString(f)
			case "u":
				n, ok := f.(*types.AttributeValueMemberN)
				if !ok {
					err = fmt.Errorf("%T, not a number", f)
				} else {
					hm.Until, err = strconv.ParseInt(n.Value, 10, 64)
				}
			}
			if err != nil {
				return nil, fmt.Errorf("[%d].%s: %w", i, name, err)
			}
		}
	}
	return out, nil
}

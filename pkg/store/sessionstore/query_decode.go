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
	if ss, ok := v.(*types.AttributeValueMemberSS); ok {
		return ss.Value, nil
	}
	return avList(v, avString)
}

func avInts(v types.AttributeValue) ([]int, error) {
	return avList(v, avInt)
}

func avMembers(v types.AttributeValue) ([]HeadMember, error) {
	return avList(v, avMember)
}

// avList decodes list attribute v element by element with elem. The error
// of an element follows its index: "[1]: ...", or "[1].x: ..." for a
// field of it (a fieldError).
func avList[T any](v types.AttributeValue, elem func(types.AttributeValue) (T, error)) ([]T, error) {
	l, ok := v.(*types.AttributeValueMemberL)
	if !ok {
		return nil, fmt.Errorf("%T, not a list", v)
	}
	out := make([]T, len(l.Value))
	for i, e := range l.Value {
		var err error
		if out[i], err = elem(e); err != nil {
			if _, field := err.(*fieldError); field {
				return nil, fmt.Errorf("[%d].%w", i, err)
			}
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
	}
	return out, nil
}

// fieldError is the error of the field name of a list's element.
type fieldError struct {
	name string
	err  error
}

func (e *fieldError) Error() string { return e.name + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// avMember decodes one member of a head's member list.
func avMember(e types.AttributeValue) (HeadMember, error) {
	var hm HeadMember
	m, ok := e.(*types.AttributeValueMemberM)
	if !ok {
		return hm, fmt.Errorf("%T, not a map", e)
	}
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
			return hm, &fieldError{name, err}
		}
	}
	return hm, nil
}

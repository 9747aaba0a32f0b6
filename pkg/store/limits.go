package store

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDB's limits that DynamoDB Local does not enforce, checked before a
// write reaches DynamoDB.
const (
	MaxPartitionKeyBytes = 2048
	MaxSortKeyBytes      = 1024
	MaxItemBytes         = 400 * 1024
)

// CheckItem checks an item against DynamoDB's key and item size limits.
func CheckItem(av map[string]types.AttributeValue) error {
	if s, ok := av[AttrPK].(*types.AttributeValueMemberS); ok && len(s.Value) > MaxPartitionKeyBytes {
		return fmt.Errorf("partition key is %d bytes; DynamoDB's limit is %d", len(s.Value), MaxPartitionKeyBytes)
	}
	if s, ok := av[AttrSK].(*types.AttributeValueMemberS); ok && len(s.Value) > MaxSortKeyBytes {
		return fmt.Errorf("sort key is %d bytes; DynamoDB's limit is %d", len(s.Value), MaxSortKeyBytes)
	}
	if n := ItemSize(av); n > MaxItemBytes {
		return fmt.Errorf("item is %d bytes; DynamoDB's limit is 400 KB (%d bytes)", n, MaxItemBytes)
	}
	return nil
}

// ItemSize is an item's size as DynamoDB counts it: each attribute's name
// and value, strings and binaries by their bytes, a number by about one
// byte per two significant digits plus one, a map or list 3 bytes plus its
// elements (and one byte per element), booleans and nulls one byte.
func ItemSize(av map[string]types.AttributeValue) int {
	n := 0
	for name, v := range av {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += valueSize(e) + 1
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += len(k) + valueSize(e) + 1
		}
		return n
	}
	return 0
}

// numberSize is at most 21 bytes: one per two significant digits, plus one.
func numberSize(text string) int {
	mant := strings.SplitN(strings.ToLower(text), "e", 2)[0]
	digits := strings.Trim(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, mant), "0")
	return min((len(digits)+1)/2+1, 21)
}

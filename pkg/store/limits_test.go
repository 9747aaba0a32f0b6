package store

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/xbl"
)

func TestCheckItem(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	if err := CheckItem(map[string]types.AttributeValue{AttrPK: s(strings.Repeat("p", 2048)), AttrSK: s(strings.Repeat("s", 1024))}); err != nil {
		t.Errorf("keys at the limits: %v", err)
	}
	if err := CheckItem(map[string]types.AttributeValue{AttrPK: s(strings.Repeat("p", 2049)), AttrSK: s("x")}); err == nil {
		t.Error("a 2,049-byte partition key passed")
	}
	if err := CheckItem(map[string]types.AttributeValue{AttrPK: s("p"), AttrSK: s(strings.Repeat("s", 1025))}); err == nil {
		t.Error("a 1,025-byte sort key passed")
	}
	stats := map[string]xbl.Access{}
	for i := range 3000 {
		stats[fmt.Sprintf("%0120d", i)] = xbl.Access(strings.Repeat("v", 20))
	}
	big := NewConfigItem(xbl.ServiceConfig{SCID: scid, Stats: stats})
	av, err := Marshal(&big)
	if err != nil {
		t.Fatal(err)
	}
	if n := ItemSize(av); n < 3000*(120+20) || n > 3000*(120+20+40)+200 {
		t.Errorf("ItemSize = %d, not near the %d bytes of names and values", n, 3000*140)
	}
	if err := CheckItem(av); err == nil {
		t.Error("an item over 400 KB passed")
	}
	if numberSize("123456789012345678901234567890123456789") != 21 || numberSize("100") != 2 || numberSize("-1.5e-7") != 2 {
		t.Error("numberSize")
	}
}

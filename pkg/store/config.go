package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/xbl"
)

var _ xbl.ConfigReader = Table{}

// configProjection reads what ReadConfig uses of a configuration item:
// every attribute of ConfigItem but its key.
var configProjection = ProjectionOf[ConfigItem](AttrPK, AttrSK)

// ReadConfig reads a SCID's whole configuration (titles, sandboxes and the
// access level of every statistic) with one eventually consistent GetItem.
func (t Table) ReadConfig(ctx context.Context, scid string) (*xbl.ServiceConfig, xbl.Usage, error) {
	k := ConfigKey(scid)
	out, err := t.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(t.Name),
		Key:                      k.AV(),
		ProjectionExpression:     aws.String(configProjection.Expression),
		ExpressionAttributeNames: configProjection.Names,
		ReturnConsumedCapacity:   types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return nil, xbl.Usage{}, CallError(ctx, "get "+t.Name+" "+k.PK, err)
	}
	u := xbl.Usage{Calls: 1}
	if out.ConsumedCapacity != nil {
		u.ConsumedRCU = aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
	}
	if out.Item == nil {
		return nil, u, nil
	}
	u.Items = 1
	var it ConfigItem
	if err := Unmarshal(out.Item, &it); err != nil {
		return nil, u, fmt.Errorf("get %s %s: %w", t.Name, k.PK, err)
	}
	return it.Config(scid), u, nil
}

// Package ratestore keeps the rate limiter's counts in DynamoDB: it
// implements ratelimit.Counter over the table of package store, one
// UpdateItem per request.
package ratestore

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/ratelimit"
	"github.com/xblread/xblread/pkg/store"
)

var _ ratelimit.Counter = (*Store)(nil)

// Store counts requests in one table.
type Store struct {
	table store.Table
}

// New returns a Store counting in t.
func New(t store.Table) *Store { return &Store{table: t} }

// Count adds one to the sustain window's item (partition
// rate#{service}#{title}#{xuid}, sort key the window's start in Unix
// seconds): its total and its burst slot, atomically, and returns both
// after the update. A new window is a new item, so an ended window needs no
// reset; the items carry a TTL an hour after their window for DynamoDB to
// clean up.
func (s *Store) Count(ctx context.Context, k ratelimit.Key, sustainStart time.Time, burstSlot, refused int) (ratelimit.Counts, error) {
	key := store.RateKey(k.Service, k.TitleID, k.XUID, sustainStart)
	slot := "b" + strconv.Itoa(burstSlot)
	out, err := s.table.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.table.Name),
		Key:              key.AV(),
		UpdateExpression: aws.String("ADD #t :total, #b :one SET #ttl = if_not_exists(#ttl, :exp)"),
		ExpressionAttributeNames: map[string]string{
			"#t": "t", "#b": slot, "#ttl": store.AttrTTL,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one":   &types.AttributeValueMemberN{Value: "1"},
			":total": &types.AttributeValueMemberN{Value: strconv.Itoa(1 + refused)},
			":exp":   &types.AttributeValueMemberN{Value: strconv.FormatInt(sustainStart.Add(ratelimit.SustainWindow+time.Hour).Unix(), 10)},
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return ratelimit.Counts{}, store.CallError(ctx, "update "+s.table.Name+" "+key.PK, err)
	}
	return ratelimit.Counts{Sustain: num(out.Attributes["t"]), Burst: num(out.Attributes[slot])}, nil
}

func num(v types.AttributeValue) int {
	if n, ok := v.(*types.AttributeValueMemberN); ok {
		i, _ := strconv.Atoi(n.Value)
		return i
	}
	return 0
}

package sessionstore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store"
)

// A write to a stored session first claims the version it read: one
// conditional UpdateItem of the session's small claim item
// (store.ClaimKey), which fails at once while another write holds a live
// claim on that version, and only the claimant sends the transaction,
// which deletes the claim item on condition that it still holds it.
// Writers that lost the race for a version learn it from a refused
// UpdateItem instead of queueing a transaction bound to fail behind the
// winner's: under a crowd those doomed transactions were what held every
// commit back (docs/ARCHITECTURE.md, "What a session write contends on").
// The claim is its own item, not an attribute of the document, because an
// update is billed by the size of the item it changes: 1 write unit here,
// plus 2 for its delete in the commit, whatever the document's size. A
// claim whose write died ends after claimTime; one on a version no longer
// stored is simply replaced (the commit's condition on the document's
// ETag fails anyway).
const (
	attrClaim      = "claim"
	attrClaimETag  = "etag"
	attrClaimUntil = "claimUntil"
	claimTime      = 2 * time.Second
)

// claim claims version etag of the session whose claim item is at key,
// for the write whose id is id: nil when it holds it, sessions.ErrContended
// when another write holds a live claim on that version.
func (s *Store) claim(ctx context.Context, key store.Key, etag, id string) error {
	now := time.Now()
	_, err := s.table.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table.Name),
		Key:                 key.AV(),
		UpdateExpression:    aws.String("SET #c = :id, #e = :etag, #u = :until"),
		ConditionExpression: aws.String("attribute_not_exists(#c) OR #u < :now OR #e <> :etag"),
		ExpressionAttributeNames: map[string]string{
			"#c": attrClaim, "#e": attrClaimETag, "#u": attrClaimUntil,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":id":    &types.AttributeValueMemberS{Value: id},
			":etag":  &types.AttributeValueMemberS{Value: etag},
			":until": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(claimTime).UnixMilli(), 10)},
			":now":   &types.AttributeValueMemberN{Value: strconv.FormatInt(now.UnixMilli(), 10)},
		},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ccf):
		return sessions.ErrContended // the version is claimed by another write
	}
	return store.CallError(ctx, "claim session in "+s.table.Name, err)
}

// release gives up claim id at key after a write that did not commit, so
// that the next writer need not wait for it to end. It is best effort: a
// claim not released ends after claimTime.
func (s *Store) release(ctx context.Context, key store.Key, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 200*time.Millisecond)
	defer cancel()
	s.table.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table.Name),
		Key:                       key.AV(),
		ConditionExpression:       aws.String("#c = :id"),
		ExpressionAttributeNames:  map[string]string{"#c": attrClaim},
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: id}},
	})
}

// unclaim is the commit's delete of claim id at key, on condition that the
// write still holds it.
func (s *Store) unclaim(key store.Key, id string) types.TransactWriteItem {
	d := s.deleteItem(key)
	d.Delete.ConditionExpression = aws.String("#c = :id")
	d.Delete.ExpressionAttributeNames = map[string]string{"#c": attrClaim}
	d.Delete.ExpressionAttributeValues = map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: id}}
	return d
}

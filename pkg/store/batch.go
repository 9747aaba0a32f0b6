package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/xblread/xblread/pkg/xbl"
)

// Batch limits of DynamoDB.
const (
	MaxBatchGet   = 100 // keys of one BatchGetItem
	MaxBatchWrite = 25  // items of one BatchWriteItem
)

// readConcurrency bounds the BatchGetItem calls of one request in flight.
const readConcurrency = 8

// Projection is a projection expression with its attribute names.
type Projection struct {
	Expression string
	Names      map[string]string
}

// BatchGet reads keys (distinct) in BatchGetItem calls of at most
// MaxBatchGet keys, readConcurrency at a time, eventually consistent,
// handing each response's items and what it cost to found (which may be
// called concurrently). Unprocessed keys are retried with jittered
// exponential backoff while the context's deadline allows.
func (t Table) BatchGet(ctx context.Context, keys []Key, p Projection, found func([]map[string]types.AttributeValue, xbl.Usage)) error {
	return t.batchGet(ctx, keys, p, false, found)
}

// BatchGetConsistent is BatchGet with strongly consistent reads (twice
// the read units), for a caller that writes back what it read on
// condition of its version.
func (t Table) BatchGetConsistent(ctx context.Context, keys []Key, p Projection, found func([]map[string]types.AttributeValue, xbl.Usage)) error {
	return t.batchGet(ctx, keys, p, true, found)
}

func (t Table) batchGet(ctx context.Context, keys []Key, p Projection, consistent bool, found func([]map[string]types.AttributeValue, xbl.Usage)) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(readConcurrency)
	for start := 0; start < len(keys); start += MaxBatchGet {
		chunk := keys[start:min(start+MaxBatchGet, len(keys))]
		g.Go(func() error { return t.getChunk(ctx, chunk, p, consistent, found) })
	}
	return g.Wait()
}

func (t Table) getChunk(ctx context.Context, chunk []Key, p Projection, consistent bool, found func([]map[string]types.AttributeValue, xbl.Usage)) error {
	ka := types.KeysAndAttributes{Keys: make([]map[string]types.AttributeValue, len(chunk))}
	if consistent {
		ka.ConsistentRead = aws.Bool(true)
	}
	for i, k := range chunk {
		ka.Keys[i] = k.AV()
	}
	if p.Expression != "" {
		ka.ProjectionExpression = aws.String(p.Expression)
		ka.ExpressionAttributeNames = p.Names
	}
	pending := map[string]types.KeysAndAttributes{t.Name: ka}
	for attempt := 0; ; attempt++ {
		out, err := t.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
			RequestItems:           pending,
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		})
		if err != nil {
			return CallError(ctx, "batch get from "+t.Name, err)
		}
		u := xbl.Usage{Calls: 1, Items: len(out.Responses[t.Name])}
		if attempt > 0 {
			u.Retries = 1
		}
		for _, c := range out.ConsumedCapacity {
			u.ConsumedRCU += aws.ToFloat64(c.CapacityUnits)
		}
		found(out.Responses[t.Name], u)
		left, ok := out.UnprocessedKeys[t.Name]
		if !ok || len(left.Keys) == 0 {
			return nil
		}
		wait := Backoff(attempt)
		if d, ok := ctx.Deadline(); attempt+1 >= MaxAttempts || ok && time.Now().Add(wait).After(d) {
			return incomplete("batch get from "+t.Name+": keys", len(left.Keys))
		}
		// The keys left are asked again as these were (projection,
		// consistency), whatever else the response says of them.
		ka.Keys = left.Keys
		pending = map[string]types.KeysAndAttributes{t.Name: ka}
		if err := Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// WriteBatch sends reqs (at most MaxBatchWrite) in BatchWriteItem calls,
// retrying unprocessed items with jittered exponential backoff, up to
// MaxAttempts calls. It returns the number of calls made.
func (t Table) WriteBatch(ctx context.Context, reqs []types.WriteRequest) (calls int, err error) {
	pending := map[string][]types.WriteRequest{t.Name: reqs}
	for attempt := 0; ; attempt++ {
		out, err := t.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		calls++
		if err != nil {
			return calls, CallError(ctx, "batch write to "+t.Name, err)
		}
		left := len(out.UnprocessedItems[t.Name])
		if left == 0 {
			return calls, nil
		}
		if attempt+1 >= MaxAttempts {
			return calls, incomplete("batch write to "+t.Name+": items", left)
		}
		pending = out.UnprocessedItems
		if err := Sleep(ctx, Backoff(attempt)); err != nil {
			return calls, err
		}
	}
}

// Package streams drives a function from a table's DynamoDB stream, as
// Lambda's event source mapping does, for the local stack: it reads every
// shard of the stream (DynamoDB Local's) from its start, in order, hands
// each batch of records to the function as the DynamoDB event Lambda
// sends, and retries a batch, from the first record the function reports
// failed (ReportBatchItemFailures), until it succeeds, so that nothing is
// lost and nothing is applied out of order. Lambda's bisection and
// retry limits are not emulated: a batch that always fails is retried,
// and logged, forever.
package streams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Poller reads one table's stream into one function.
type Poller struct {
	Table   *dynamodb.Client
	Streams *dynamodbstreams.Client
	Name    string // the table
	// Invoke runs the function with the event (JSON) and returns its
	// response (JSON).
	Invoke func(ctx context.Context, payload []byte) ([]byte, error)
	// BatchSize is the most records per invocation (100 when 0).
	BatchSize int32
	// Interval is how long an idle shard waits before it is read again
	// (100 ms when 0): the most a write waits before the function sees it.
	Interval time.Duration
	// Keep, when set, filters records as an event source mapping's filter
	// criteria do: a record it does not keep is passed over, and a batch
	// with no record kept invokes nothing.
	Keep func(*events.DynamoDBEventRecord) bool
	// RetryDelay is how long a shard waits after a failed batch before it
	// is read again (200 ms when 0).
	RetryDelay time.Duration
	// Logf reports failures and retries.
	Logf func(format string, args ...any)
}

// shard is where the poller is in one shard.
type shard struct {
	id, parent string
	iter       string
	last       string // the sequence number of the last record handled
	done       bool
}

// Run reads the stream until ctx ends.
func (p *Poller) Run(ctx context.Context) error {
	if p.BatchSize == 0 {
		p.BatchSize = 100
	}
	if p.Interval == 0 {
		p.Interval = 100 * time.Millisecond
	}
	if p.RetryDelay == 0 {
		p.RetryDelay = 200 * time.Millisecond
	}
	out, err := p.Table.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(p.Name)})
	if err != nil {
		return fmt.Errorf("describe table %s: %w", p.Name, err)
	}
	arn := aws.ToString(out.Table.LatestStreamArn)
	if arn == "" {
		return fmt.Errorf("table %s has no stream", p.Name)
	}
	shards := map[string]*shard{}
	var order []string
	lastDescribe := time.Time{}
	for ctx.Err() == nil {
		if time.Since(lastDescribe) > time.Second {
			if order, err = p.describe(ctx, arn, shards, order); err != nil && ctx.Err() == nil {
				p.Logf("describe stream: %v", err)
			}
			lastDescribe = time.Now()
		}
		busy := false
		for _, id := range order {
			s := shards[id]
			if s.done || s.parent != "" && shards[s.parent] != nil && !shards[s.parent].done {
				continue // a child waits for its parent, as Lambda keeps a key's order
			}
			n, err := p.poll(ctx, arn, s)
			if err != nil && ctx.Err() == nil {
				p.Logf("shard %s: %v; retrying", s.id, err)
				sleep(ctx, p.RetryDelay)
			}
			busy = busy || n > 0
		}
		if !busy {
			sleep(ctx, p.Interval)
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// describe adds the stream's new shards, in the order it lists them.
func (p *Poller) describe(ctx context.Context, arn string, shards map[string]*shard, order []string) ([]string, error) {
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)}
	for {
		out, err := p.Streams.DescribeStream(ctx, in)
		if err != nil {
			return order, err
		}
		for _, sh := range out.StreamDescription.Shards {
			id := aws.ToString(sh.ShardId)
			if shards[id] == nil {
				shards[id] = &shard{id: id, parent: aws.ToString(sh.ParentShardId)}
				order = append(order, id)
			}
		}
		if out.StreamDescription.LastEvaluatedShardId == nil {
			return order, nil
		}
		in.ExclusiveStartShardId = out.StreamDescription.LastEvaluatedShardId
	}
}

// iterator returns an iterator of s: from its start, or after the last
// record handled, or at seq when set (a retry).
func (p *Poller) iterator(ctx context.Context, arn string, s *shard, seq string) error {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: aws.String(s.id), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
	switch {
	case seq != "":
		in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAtSequenceNumber, aws.String(seq)
	case s.last != "":
		in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(s.last)
	}
	out, err := p.Streams.GetShardIterator(ctx, in)
	if err != nil {
		return err
	}
	s.iter = aws.ToString(out.ShardIterator)
	return nil
}

// poll reads one batch of s and hands it to the function; it returns the
// number of records handled.
func (p *Poller) poll(ctx context.Context, arn string, s *shard) (int, error) {
	if s.iter == "" {
		if err := p.iterator(ctx, arn, s, ""); err != nil {
			return 0, err
		}
	}
	out, err := p.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(s.iter), Limit: aws.Int32(p.BatchSize)})
	var expired *types.ExpiredIteratorException
	if errors.As(err, &expired) {
		s.iter = ""
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(out.Records) > 0 {
		failed, err := p.deliver(ctx, arn, out.Records)
		if err != nil || failed != "" {
			// Read again from the failed record (or the batch's first)
			// on the next round.
			seq := failed
			if seq == "" {
				seq = aws.ToString(out.Records[0].Dynamodb.SequenceNumber)
			}
			if ierr := p.iterator(ctx, arn, s, seq); ierr != nil {
				s.iter = ""
			}
			if err == nil {
				err = fmt.Errorf("the function reported record %s failed", failed)
			}
			return 0, err
		}
		s.last = aws.ToString(out.Records[len(out.Records)-1].Dynamodb.SequenceNumber)
	}
	if out.NextShardIterator == nil {
		s.done = true
	} else {
		s.iter = aws.ToString(out.NextShardIterator)
	}
	return len(out.Records), nil
}

// deliver invokes the function with records; failed is the sequence
// number of the first record it reported failed.
func (p *Poller) deliver(ctx context.Context, arn string, records []types.Record) (failed string, err error) {
	var e events.DynamoDBEvent
	for _, r := range records {
		rec := Record(arn, r)
		if p.Keep == nil || p.Keep(&rec) {
			e.Records = append(e.Records, rec)
		}
	}
	if len(e.Records) == 0 {
		return "", nil
	}
	payload, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	res, err := p.Invoke(ctx, payload)
	if err != nil {
		return "", err
	}
	var resp events.DynamoDBEventResponse
	if err := json.Unmarshal(res, &resp); err != nil {
		return "", fmt.Errorf("the function's response: %w", err)
	}
	if len(resp.BatchItemFailures) == 0 {
		return "", nil
	}
	// Retry from the earliest failed record, as Lambda does.
	first := resp.BatchItemFailures[0].ItemIdentifier
	for _, f := range resp.BatchItemFailures[1:] {
		if seqLess(f.ItemIdentifier, first) {
			first = f.ItemIdentifier
		}
	}
	return first, nil
}

// seqLess compares two sequence numbers (decimal strings).
func seqLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// Record is a stream record as Lambda's DynamoDB event carries it.
func Record(arn string, r types.Record) events.DynamoDBEventRecord {
	d := r.Dynamodb
	rec := events.DynamoDBEventRecord{
		AWSRegion: aws.ToString(r.AwsRegion), EventID: aws.ToString(r.EventID), EventName: string(r.EventName),
		EventSource: "aws:dynamodb", EventVersion: aws.ToString(r.EventVersion), EventSourceArn: arn,
	}
	if d != nil {
		rec.Change = events.DynamoDBStreamRecord{
			Keys: attrs(d.Keys), NewImage: attrs(d.NewImage), OldImage: attrs(d.OldImage),
			SequenceNumber: aws.ToString(d.SequenceNumber), SizeBytes: aws.ToInt64(d.SizeBytes),
			StreamViewType: string(d.StreamViewType),
		}
		if d.ApproximateCreationDateTime != nil {
			rec.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
		}
	}
	return rec
}

func attrs(m map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = attr(v)
	}
	return out
}

func attr(v types.AttributeValue) events.DynamoDBAttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value)
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value)
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value)
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value)
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value)
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value)
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value)
	case *types.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = attr(e)
		}
		return events.NewListAttribute(l)
	case *types.AttributeValueMemberM:
		return events.NewMapAttribute(attrs(v.Value))
	}
	return events.NewNullAttribute()
}

// ClientFor returns a streams client that reaches the same endpoint, in
// the same region, with the same credentials as db.
func ClientFor(db *dynamodb.Client) *dynamodbstreams.Client {
	o := db.Options()
	return dynamodbstreams.New(dynamodbstreams.Options{
		Region: o.Region, Credentials: o.Credentials, BaseEndpoint: o.BaseEndpoint,
		HTTPClient: o.HTTPClient, Retryer: o.Retryer,
	})
}

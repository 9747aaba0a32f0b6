package sessionstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store"
)

var _ sessions.Queue = (*Store)(nil)

// QueuedItem is a write waiting on a session (store.QueuedKey), in the
// session's own partition, and then its reply. It is deleted by its writer
// once answered, or by DynamoDB's time to live (queuedTTL after the writer
// stopped waiting) when the writer is gone.
type QueuedItem struct {
	store.Key
	Write   string `dynamodbav:"w"` // sessions.EncodeQueued
	TTL     int64  `dynamodbav:"ttl"`
	Replied bool   `dynamodbav:"replied,omitempty"`
	Outcome int    `dynamodbav:"outcome,omitempty"`
	Refused bool   `dynamodbav:"refused,omitempty"`
	Kind    int    `dynamodbav:"kind,omitempty"`
	Message string `dynamodbav:"message,omitempty"`
	Start   string `dynamodbav:"start,omitempty"` // store.TimeLayout; "" for none
}

// replyNames are the names of a reply's attributes (and of the write), as
// QueuedItem's tags spell them.
var (
	replyNames  = map[string]string{"#rp": "replied", "#o": "outcome", "#rf": "refused", "#k": "kind", "#m": "message", "#st": "start"}
	updateNames = map[string]string{"#rp": "replied", "#o": "outcome", "#rf": "refused", "#k": "kind", "#m": "message", "#st": "start", "#w": "w"}
)

// queuedTTL is how long a queued write's item outlives its writer's wait.
const queuedTTL = 10 * time.Minute

// reply is the reply an item carries, nil when it has none.
func (it *QueuedItem) reply(id string) *sessions.Reply {
	if !it.Replied {
		return nil
	}
	r := &sessions.Reply{ID: id, Outcome: sessions.Outcome(it.Outcome), Refused: it.Refused, Kind: derrors.Kind(it.Kind), Message: it.Message}
	if t, err := time.Parse(time.RFC3339Nano, it.Start); err == nil {
		r.Start = t
	}
	return r
}

func queuedKey(ref sessions.Ref, id string) store.Key {
	return store.QueuedKey(ref.SCID, ref.Template, ref.Name, id)
}

// Enqueue implements sessions.Queue: one PutItem. A write whose item
// would break DynamoDB's item limit is refused (Invalid) before the call.
func (s *Store) Enqueue(ctx context.Context, ref sessions.Ref, w *sessions.Queued) error {
	b, err := sessions.EncodeQueued(w)
	if err != nil {
		return err
	}
	av, err := store.Marshal(QueuedItem{Key: queuedKey(ref, w.ID), Write: string(b), TTL: w.Until.Add(queuedTTL).Unix()})
	if err != nil {
		return err
	}
	if err := store.CheckItem(av); err != nil {
		return derrors.Wrap(derrors.Invalid, "the write is too large to queue", err)
	}
	if _, err := s.table.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table.Name), Item: av}); err != nil {
		return store.CallError(ctx, "queue session write in "+s.table.Name, err)
	}
	return nil
}

// Reply implements sessions.Queue: one strongly consistent GetItem.
func (s *Store) Reply(ctx context.Context, ref sessions.Ref, id string) (*sessions.Reply, error) {
	out, err := s.table.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table.Name), Key: queuedKey(ref, id).AV(), ConsistentRead: aws.Bool(true),
		ProjectionExpression:     aws.String("#rp, #o, #rf, #k, #m, #st"),
		ExpressionAttributeNames: replyNames,
	})
	if err != nil {
		return nil, store.CallError(ctx, "read session write's reply from "+s.table.Name, err)
	}
	var it QueuedItem
	if err := store.Unmarshal(out.Item, &it); err != nil {
		return nil, err
	}
	return it.reply(id), nil
}

// Withdraw implements sessions.Queue: one DeleteItem, which returns the
// item it deleted.
func (s *Store) Withdraw(ctx context.Context, ref sessions.Ref, id string) (*sessions.Reply, error) {
	out, err := s.table.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table.Name), Key: queuedKey(ref, id).AV(), ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return nil, store.CallError(ctx, "withdraw session write from "+s.table.Name, err)
	}
	var it QueuedItem
	if err := store.Unmarshal(out.Attributes, &it); err != nil {
		return nil, err
	}
	return it.reply(id), nil
}

// Combine implements sessions.Queue. It claims the session whatever its
// version (one UpdateItem of its claim item; see claim), then reads its
// document and the waiting writes at once (a GetItem and a Query of the
// session's partition, both strongly consistent), and commits as
// SaveSession does, with each reply an update of its write's item
// conditional on the write still waiting, in the commit's transaction.
func (s *Store) Combine(ctx context.Context, ref sessions.Ref, limit int, apply func(*sessions.Doc, []*sessions.Queued) (*sessions.Doc, []sessions.Reply)) (n int, err error) {
	key := store.ClaimKey(ref.SCID, ref.Template, ref.Name)
	claim := sessions.NewID()
	if err := s.claim(ctx, key, claimAny, claim); err != nil {
		return 0, err
	}
	defer func() {
		if err != nil || n == 0 {
			s.release(ctx, key, claim)
		}
	}()
	var stored *sessions.Doc
	var waiting []*sessions.Queued
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		stored, err = s.Session(gctx, ref.SCID, ref.Template, ref.Name)
		return err
	})
	g.Go(func() (err error) {
		waiting, err = s.waiting(gctx, ref, limit)
		return err
	})
	if err := g.Wait(); err != nil {
		return 0, err
	}
	if len(waiting) == 0 {
		return 0, nil
	}
	next, replies := apply(stored, waiting)
	actions := make([]types.TransactWriteItem, len(replies))
	for i, r := range replies {
		actions[i] = s.replyAction(ref, &r)
	}
	switch {
	case next == stored:
		// The document stays as it is: the replies only.
		actions = append(actions, s.unclaim(key, claim))
		err = s.transact(ctx, actions, "")
		if errors.Is(err, sessions.ErrChanged) {
			err = sessions.ErrContended // the first action is a reply here
		}
	default:
		if next != nil && next.ETag == "" {
			return 0, fmt.Errorf("sessionstore: a combined write of %s/%s has no ETag", ref.Template, ref.Name)
		}
		err = s.commit(ctx, stored, next, claim, actions)
	}
	if err != nil {
		return 0, err
	}
	return len(replies), nil
}

// waiting reads up to limit writes waiting on the session ref, in the order
// they were queued: those without a reply (answered ones not yet deleted
// by their writers are read, and paid for, but skipped).
func (s *Store) waiting(ctx context.Context, ref sessions.Ref, limit int) ([]*sessions.Queued, error) {
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table.Name),
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :w)"),
		FilterExpression:         aws.String("attribute_not_exists(#rp)"),
		ProjectionExpression:     aws.String("#sk, #w"),
		ExpressionAttributeNames: map[string]string{"#pk": store.AttrPK, "#sk": store.AttrSK, "#rp": "replied", "#w": "w"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: store.SessionKey(ref.SCID, ref.Template, ref.Name).PK},
			":w":  &types.AttributeValueMemberS{Value: store.PrefixQueued},
		},
		ConsistentRead: aws.Bool(true),
	}
	var out []*sessions.Queued
	p := dynamodb.NewQueryPaginator(s.table.Client, in)
	for p.HasMorePages() && len(out) < limit {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, store.CallError(ctx, "read session writes waiting in "+s.table.Name, err)
		}
		for _, av := range page.Items {
			var it QueuedItem
			if err := store.Unmarshal(av, &it); err != nil {
				return nil, err
			}
			w, err := sessions.DecodeQueued(it.SK[len(store.PrefixQueued):], []byte(it.Write))
			if err != nil {
				return nil, err
			}
			if out = append(out, w); len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

// replyAction is the commit's update of r's write with r, on condition
// that the write still waits (it was not withdrawn, nor replied to by
// another commit).
func (s *Store) replyAction(ref sessions.Ref, r *sessions.Reply) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                aws.String(s.table.Name),
		Key:                      queuedKey(ref, r.ID).AV(),
		UpdateExpression:         aws.String("SET #rp = :t, #o = :o, #rf = :r, #k = :k, #m = :m, #st = :st"),
		ConditionExpression:      aws.String("attribute_exists(#w) AND attribute_not_exists(#rp)"),
		ExpressionAttributeNames: updateNames,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t":  &types.AttributeValueMemberBOOL{Value: true},
			":o":  &types.AttributeValueMemberN{Value: fmt.Sprint(int(r.Outcome))},
			":r":  &types.AttributeValueMemberBOOL{Value: r.Refused},
			":k":  &types.AttributeValueMemberN{Value: fmt.Sprint(int(r.Kind))},
			":m":  &types.AttributeValueMemberS{Value: r.Message},
			":st": &types.AttributeValueMemberS{Value: startOf(r.Start)},
		},
	}}
}

// startOf is a reply's session start as stored: "" for none.
func startOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(store.TimeLayout)
}

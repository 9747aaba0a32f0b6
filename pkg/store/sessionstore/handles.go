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

	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

var _ sessions.HandleStore = (*Store)(nil)

// HandleItem is a handle (store.HandleKey), or a player's activity
// (store.ActivityKey: a copy of its activity handle, so that the
// activities query reads one item per player and title). DynamoDB's time
// to live deletes it a day after it can no longer be used.
type HandleItem struct {
	store.Key
	ID           string `dynamodbav:"id"`
	Type         string `dynamodbav:"type"`
	SCID         string `dynamodbav:"scid"`
	SCIDRaw      string `dynamodbav:"scidRaw"`
	Template     string `dynamodbav:"template"`
	Name         string `dynamodbav:"name"`
	OriginSCID   string `dynamodbav:"originScid,omitempty"`
	OriginRaw    string `dynamodbav:"originScidRaw,omitempty"`
	OriginTmpl   string `dynamodbav:"originTemplate,omitempty"`
	OriginName   string `dynamodbav:"originName,omitempty"`
	Owner        string `dynamodbav:"owner"`
	TitleID      string `dynamodbav:"titleId"`
	Invited      string `dynamodbav:"invited,omitempty"`
	Attributes   string `dynamodbav:"attrs,omitempty"`
	Created      string `dynamodbav:"created"`      // store.TimeLayout
	Expires      string `dynamodbav:"expires"`      // store.TimeLayout
	SessionStart string `dynamodbav:"sessionStart"` // store.TimeLayout
	TTL          int64  `dynamodbav:"ttl"`
}

func handleItem(k store.Key, h *sessions.Handle) HandleItem {
	it := HandleItem{
		Key: k, ID: h.ID, Type: h.Type,
		SCID: h.Ref.SCID, SCIDRaw: h.Ref.SCIDRaw, Template: h.Ref.Template, Name: h.Ref.Name,
		Owner: h.Owner.String(), TitleID: h.TitleID, Attributes: string(h.Attributes),
		Created:      h.Created.UTC().Format(store.TimeLayout),
		Expires:      h.Expires.UTC().Format(store.TimeLayout),
		SessionStart: h.SessionStart.UTC().Format(store.TimeLayout),
		TTL:          h.Expires.Add(24 * time.Hour).Unix(),
	}
	if h.Invited != 0 {
		it.Invited = h.Invited.String()
	}
	if o := h.Origin; o != nil {
		it.OriginSCID, it.OriginRaw, it.OriginTmpl, it.OriginName = o.SCID, o.SCIDRaw, o.Template, o.Name
	}
	return it
}

func (it *HandleItem) handle() (*sessions.Handle, error) {
	h := &sessions.Handle{
		ID: it.ID, Type: it.Type, TitleID: it.TitleID,
		Ref: sessions.Ref{SCID: it.SCID, SCIDRaw: it.SCIDRaw, Template: it.Template, Name: it.Name},
	}
	if it.Attributes != "" {
		h.Attributes = []byte(it.Attributes)
	}
	var err error
	if h.Owner, err = xbl.ParseXUID(it.Owner); err != nil && it.Owner != "0" {
		return nil, fmt.Errorf("handle %s: owner: %w", it.ID, err)
	}
	if it.Invited != "" {
		if h.Invited, err = xbl.ParseXUID(it.Invited); err != nil {
			return nil, fmt.Errorf("handle %s: invited: %w", it.ID, err)
		}
	}
	if it.OriginName != "" {
		h.Origin = &sessions.Ref{SCID: it.OriginSCID, SCIDRaw: it.OriginRaw, Template: it.OriginTmpl, Name: it.OriginName}
	}
	for _, t := range []struct {
		dst *time.Time
		src string
	}{{&h.Created, it.Created}, {&h.Expires, it.Expires}, {&h.SessionStart, it.SessionStart}} {
		if *t.dst, err = time.Parse(time.RFC3339Nano, t.src); err != nil {
			return nil, fmt.Errorf("handle %s: %w", it.ID, err)
		}
	}
	return h, nil
}

// PutHandle implements sessions.HandleStore: one PutItem of the handle;
// for an activity, then one PutItem of the owner's activity (which returns
// the one it replaced) and one DeleteItem of the replaced handle.
func (s *Store) PutHandle(ctx context.Context, h *sessions.Handle) error {
	if err := s.putItem(ctx, handleItem(store.HandleKey(h.ID), h)); err != nil {
		return err
	}
	if h.Type != sessions.Activity {
		return nil
	}
	av, err := store.Marshal(handleItem(store.ActivityKey(h.Owner, h.Ref.SCID, h.TitleID), h))
	if err != nil {
		return err
	}
	out, err := s.table.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table.Name), Item: av, ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		return store.CallError(ctx, "put activity in "+s.table.Name, err)
	}
	if old, ok := out.Attributes["id"].(*types.AttributeValueMemberS); ok && old.Value != h.ID {
		_, err := s.table.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table.Name), Key: store.HandleKey(old.Value).AV()})
		if err != nil {
			return store.CallError(ctx, "delete replaced activity from "+s.table.Name, err)
		}
	}
	return nil
}

func (s *Store) putItem(ctx context.Context, item any) error {
	av, err := store.Marshal(item)
	if err != nil {
		return err
	}
	if err := store.CheckItem(av); err != nil {
		return err
	}
	if _, err := s.table.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table.Name), Item: av}); err != nil {
		return store.CallError(ctx, "put handle in "+s.table.Name, err)
	}
	return nil
}

// Handle implements sessions.HandleStore: one strongly consistent
// GetItem (a handle is used right after it is posted).
func (s *Store) Handle(ctx context.Context, id string) (*sessions.Handle, error) {
	out, err := s.table.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table.Name), Key: store.HandleKey(id).AV(), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, store.CallError(ctx, "get handle from "+s.table.Name, err)
	}
	if out.Item == nil {
		return nil, nil
	}
	var it HandleItem
	if err := store.Unmarshal(out.Item, &it); err != nil {
		return nil, err
	}
	return it.handle()
}

// DeleteHandle implements sessions.HandleStore: one DeleteItem of the
// handle and, for an activity, one of the owner's activity on condition
// that it is still this one.
func (s *Store) DeleteHandle(ctx context.Context, h *sessions.Handle) error {
	if _, err := s.table.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table.Name), Key: store.HandleKey(h.ID).AV()}); err != nil {
		return store.CallError(ctx, "delete handle from "+s.table.Name, err)
	}
	if h.Type != sessions.Activity {
		return nil
	}
	_, err := s.table.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table.Name), Key: store.ActivityKey(h.Owner, h.Ref.SCID, h.TitleID).AV(),
		ConditionExpression:       aws.String("id = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: h.ID}},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return store.CallError(ctx, "delete activity from "+s.table.Name, err)
	}
	return nil
}

// Activities implements sessions.HandleStore: one Query of each owner's
// {xuid}#{scid} partition for its activities (sort keys activity#...),
// 16 at a time: one item read per owner and title with an activity.
func (s *Store) Activities(ctx context.Context, scid string, owners []xbl.XUID) ([]*sessions.Handle, error) {
	found := make([][]*sessions.Handle, len(owners))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(sessions.QueryConcurrency)
	for i, x := range owners {
		g.Go(func() error {
			p := dynamodb.NewQueryPaginator(s.table.Client, &dynamodb.QueryInput{
				TableName:              aws.String(s.table.Name),
				KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :a)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":pk": &types.AttributeValueMemberS{Value: store.UserSCID(x, scid)},
					":a":  &types.AttributeValueMemberS{Value: store.PrefixActivity},
				},
			})
			for p.HasMorePages() {
				page, err := p.NextPage(gctx)
				if err != nil {
					return store.CallError(gctx, "query activities in "+s.table.Name, err)
				}
				for _, av := range page.Items {
					var it HandleItem
					if err := store.Unmarshal(av, &it); err != nil {
						return err
					}
					h, err := it.handle()
					if err != nil {
						return err
					}
					found[i] = append(found[i], h)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []*sessions.Handle
	for _, hs := range found {
		out = append(out, hs...)
	}
	return out, nil
}

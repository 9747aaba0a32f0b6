// Package rtastore is the DynamoDB adapter of package rta over the table
// of package store: rta.Store, each real-time activity connection one item
// (ConnectionItem, under store.ConnectionKey) written whole by a PutItem
// conditional on the version it was read at, read by strongly consistent
// BatchGetItem calls, and deleted by DynamoDB's time to live an hour after
// the connection's life (rta.MaxLife) ended, when nothing deleted it
// before.
package rtastore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/rta"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

var _ rta.Store = (*Store)(nil)

// Store keeps real-time activity connections in one table.
type Store struct {
	table store.Table
}

// New returns a Store over t.
func New(t store.Table) *Store { return &Store{table: t} }

// ConnectionItem is a real-time activity connection (store.ConnectionKey).
type ConnectionItem struct {
	store.Key
	ID      string `dynamodbav:"id"`
	XUID    string `dynamodbav:"xuid"`
	TitleID string `dynamodbav:"titleId"`
	Opened  string `dynamodbav:"opened"` // store.TimeLayout
	// Subs are the subscriptions, by id in decimal; left out when there
	// are none.
	Subs    map[string]string `dynamodbav:"subs,omitempty"`
	NextSub int64             `dynamodbav:"next"`
	Version int64             `dynamodbav:"version"`
	// Sessions are the sessions whose members named the connection (a
	// string set: AddSession adds one without reading the item).
	Sessions []string `dynamodbav:"sessions,stringset,omitempty"`
	TTL      int64    `dynamodbav:"ttl"` // Unix seconds: TTLAfter past the connection's end
}

// TTLAfter is how long past its end (rta.Connection.Expires) a
// connection's item is kept before DynamoDB's time to live may delete it.
const TTLAfter = time.Hour

// attrVersion is the attribute PutConnection's condition reads, as
// ConnectionItem's tag spells it.
const attrVersion = "version"

// NewConnectionItem returns c's item.
func NewConnectionItem(c *rta.Connection) ConnectionItem {
	it := ConnectionItem{
		Key: store.ConnectionKey(c.ID), ID: c.ID, XUID: c.XUID.String(), TitleID: c.TitleID,
		Opened:  c.Opened.UTC().Format(store.TimeLayout),
		NextSub: c.NextSub, Version: c.Version, Sessions: c.Sessions,
		TTL: c.Expires().Add(TTLAfter).Unix(),
	}
	if len(c.Subs) > 0 {
		it.Subs = make(map[string]string, len(c.Subs))
		for id, res := range c.Subs {
			it.Subs[strconv.FormatInt(id, 10)] = res
		}
	}
	return it
}

// Connection returns the connection the item holds (Subs never nil).
func (it *ConnectionItem) Connection() (*rta.Connection, error) {
	c := &rta.Connection{ID: it.ID, TitleID: it.TitleID, Subs: make(map[int64]string, len(it.Subs)), NextSub: it.NextSub, Version: it.Version, Sessions: it.Sessions}
	var err error
	if c.XUID, err = xbl.ParseXUID(it.XUID); err != nil {
		return nil, fmt.Errorf("connection %s: %w", it.ID, err)
	}
	if c.Opened, err = time.Parse(time.RFC3339Nano, it.Opened); err != nil {
		return nil, fmt.Errorf("connection %s: opened: %w", it.ID, err)
	}
	for k, res := range it.Subs {
		id, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("connection %s: subscription id %q: %w", it.ID, k, err)
		}
		c.Subs[id] = res
	}
	return c, nil
}

// PutConnection implements rta.Store: one PutItem of the whole item, on
// condition that there is none (prev 0) or that the stored one is at
// version prev. An item past DynamoDB's size limit is refused before the
// call.
func (s *Store) PutConnection(ctx context.Context, c *rta.Connection, prev int64) error {
	av, err := store.Marshal(NewConnectionItem(c))
	if err != nil {
		return err
	}
	if err := store.CheckItem(av); err != nil {
		return fmt.Errorf("rtastore: connection %s: %w", c.ID, err)
	}
	in := &dynamodb.PutItemInput{TableName: aws.String(s.table.Name), Item: av}
	if prev == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(#pk)")
		in.ExpressionAttributeNames = map[string]string{"#pk": store.AttrPK}
	} else {
		in.ConditionExpression = aws.String("#v = :prev")
		in.ExpressionAttributeNames = map[string]string{"#v": attrVersion}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": &types.AttributeValueMemberN{Value: strconv.FormatInt(prev, 10)}}
	}
	_, err = s.table.Client.PutItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return rta.ErrChanged
	case err != nil:
		return store.CallError(ctx, "put connection in "+s.table.Name, err)
	}
	return nil
}

// Connections implements rta.Store: strongly consistent BatchGetItem
// calls (store.Table.BatchGetConsistent; each distinct id asked once),
// since a caller puts what it read back on condition of its version.
func (s *Store) Connections(ctx context.Context, ids []string) (map[string]*rta.Connection, error) {
	seen := make(map[string]bool, len(ids))
	keys := make([]store.Key, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, store.ConnectionKey(id))
		}
	}
	out := make(map[string]*rta.Connection, len(keys))
	var mu sync.Mutex
	var decodeErr error
	err := s.table.BatchGetConsistent(ctx, keys, store.Projection{}, func(items []map[string]types.AttributeValue, _ xbl.Usage) {
		for _, av := range items {
			var it ConnectionItem
			err := store.Unmarshal(av, &it)
			var c *rta.Connection
			if err == nil {
				c, err = it.Connection()
			}
			mu.Lock()
			if err != nil {
				decodeErr = cmp.Or(decodeErr, err)
			} else {
				out[c.ID] = c
			}
			mu.Unlock()
		}
	})
	if err = cmp.Or(err, decodeErr); err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteConnection implements rta.Store: one DeleteItem (of nothing, when
// the connection is gone already).
func (s *Store) DeleteConnection(ctx context.Context, id string) error {
	if _, err := s.table.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table.Name), Key: store.ConnectionKey(id).AV()}); err != nil {
		return store.CallError(ctx, "delete connection from "+s.table.Name, err)
	}
	return nil
}

// AddSession implements rta.Store: one UpdateItem that adds resource to
// the connection's sessions (a string set) and moves its version on, on
// condition that the connection is there and notes fewer than
// rta.MaxSessions (so that its item stays small).
func (s *Store) AddSession(ctx context.Context, id, resource string) error {
	_, err := s.table.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table.Name),
		Key:                      store.ConnectionKey(id).AV(),
		UpdateExpression:         aws.String("ADD #s :s, #v :one"),
		ConditionExpression:      aws.String("attribute_exists(#pk) AND (attribute_not_exists(#s) OR size(#s) < :max)"),
		ExpressionAttributeNames: map[string]string{"#s": "sessions", "#v": attrVersion, "#pk": store.AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":s":   &types.AttributeValueMemberSS{Value: []string{resource}},
			":one": &types.AttributeValueMemberN{Value: "1"},
			":max": &types.AttributeValueMemberN{Value: strconv.Itoa(rta.MaxSessions)},
		},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return nil // the connection is gone, or notes rta.MaxSessions already
	case err != nil:
		return store.CallError(ctx, "add a session to connection in "+s.table.Name, err)
	}
	return nil
}

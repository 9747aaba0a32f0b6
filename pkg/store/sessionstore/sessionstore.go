// Package sessionstore reads sessions and SCID configurations from
// DynamoDB: it implements sessions.Reader over the table of package store.
package sessionstore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

var _ sessions.Reader = (*Store)(nil)

// Store reads sessions from one table.
type Store struct {
	table store.Table
}

// New returns a Store reading t.
func New(t store.Table) *Store { return &Store{table: t} }

// sessionProjection is what a session query reads of an item.
const sessionProjection = "#sk, template, #name, startTime, version, visibility, joinRestriction, keywords, accepted, #status, myTurn"

// UserSessions queries the user's partition for the SCID in answer order
// (sort-key prefix m#, or mt#{template}# for one template), in pages sized
// from limit, and stops as soon as limit kept sessions, and any ties of
// the last, are read.
func (s *Store) UserSessions(ctx context.Context, x xbl.XUID, scid, template string, keep func(*sessions.Session) bool, limit int) ([]sessions.Session, xbl.Usage, error) {
	return s.query(ctx, store.UserSCID(x, scid), store.MembershipPrefix(template), keep, limit)
}

// KeywordSessions queries the keyword's index entries in answer order
// (k#, or kt#{template}#), as UserSessions does.
func (s *Store) KeywordSessions(ctx context.Context, scid, keyword, template string, keep func(*sessions.Session) bool, limit int) ([]sessions.Session, xbl.Usage, error) {
	return s.query(ctx, store.KeywordPK(scid, keyword), store.KeywordPrefix(template), keep, limit)
}

// Page sizes of a session query: the first page asks for one item more
// than the answer can use, so that a query whose rows all pass its filters
// ends in one call; later pages ask for what is still missing, at least
// minPage (filters skipped rows), at most maxPage, or for tiePage items
// when only ties of the last row are still wanted.
const (
	minPage = 10
	maxPage = 500
	tiePage = 2
)

func (s *Store) query(ctx context.Context, pk, prefix string, keep func(*sessions.Session) bool, limit int) ([]sessions.Session, xbl.Usage, error) {
	var out []sessions.Session
	var u xbl.Usage
	if limit <= 0 {
		return out, u, nil
	}
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table.Name),
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ProjectionExpression:     aws.String(sessionProjection),
		ExpressionAttributeNames: map[string]string{"#pk": store.AttrPK, "#sk": store.AttrSK, "#name": "name", "#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: pk},
			":prefix": &types.AttributeValueMemberS{Value: prefix},
		},
		Limit:                  aws.Int32(int32(min(limit+1, maxPage))),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	// kept counts sessions kept; once it reaches limit, last is the start
	// time of the limit-th, and only ties of it are still wanted.
	kept := 0
	var last time.Time
	for {
		page, err := s.table.Client.Query(ctx, in)
		if err != nil {
			return nil, u, store.CallError(ctx, "query "+s.table.Name, err)
		}
		u.Calls++
		u.Items += len(page.Items)
		if page.ConsumedCapacity != nil {
			u.ConsumedRCU += aws.ToFloat64(page.ConsumedCapacity.CapacityUnits)
		}
		for _, av := range page.Items {
			var it store.MembershipItem
			if err := store.Unmarshal(av, &it); err != nil {
				return nil, u, fmt.Errorf("query %s: item %s: %w", s.table.Name, pk, err)
			}
			ss, err := session(&it)
			if err != nil {
				return nil, u, fmt.Errorf("query %s: item %s/%s: %w", s.table.Name, pk, it.SK, err)
			}
			if kept >= limit && !ss.StartTime.Equal(last) {
				return out, u, nil // newer rows are all read: the answer is certain
			}
			if !keep(&ss) {
				continue
			}
			out = append(out, ss)
			kept++
			if kept == limit {
				last = ss.StartTime
			}
		}
		if page.LastEvaluatedKey == nil {
			return out, u, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
		next := min(max(limit-kept, minPage), maxPage)
		if kept >= limit {
			next = tiePage // only ties of the last kept row are still wanted
		}
		in.Limit = aws.Int32(int32(next))
	}
}

// session is what a membership or keyword item holds of its session.
func session(it *store.MembershipItem) (sessions.Session, error) {
	st, err := it.ParseStartTime()
	if err != nil {
		return sessions.Session{}, fmt.Errorf("startTime: %w", err)
	}
	ss := sessions.Session{
		Template: it.Template, Name: it.Name, StartTime: st, Version: it.Version,
		Visibility: xbl.Visibility(it.Visibility), JoinRestriction: it.JoinRestriction,
		Keywords: it.Keywords, Accepted: it.Accepted,
		Status: xbl.MemberStatus(it.Status), MyTurn: it.MyTurn,
	}
	if ss.Keywords == nil {
		ss.Keywords = []string{}
	}
	return ss, nil
}

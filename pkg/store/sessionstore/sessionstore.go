// Package sessionstore reads sessions and SCID configurations from
// DynamoDB: it implements sessions.Reader over the table of package store.
package sessionstore

import (
	"context"
	"fmt"

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

// UserSessions queries the user's partition for the SCID, narrowed to a
// template by sort-key prefix, following every page.
func (s *Store) UserSessions(ctx context.Context, x xbl.XUID, scid, template string) ([]sessions.Session, xbl.Usage, error) {
	return s.query(ctx, store.UserSCID(x, scid), store.MembershipPrefix(template))
}

// KeywordSessions queries the keyword index, narrowed to a template by
// sort-key prefix, following every page.
func (s *Store) KeywordSessions(ctx context.Context, scid, keyword, template string) ([]sessions.Session, xbl.Usage, error) {
	prefix := ""
	if template != "" {
		prefix = template + "#"
	}
	return s.query(ctx, store.KeywordPK(scid, keyword), prefix)
}

func (s *Store) query(ctx context.Context, pk, prefix string) ([]sessions.Session, xbl.Usage, error) {
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table.Name),
		KeyConditionExpression:   aws.String("#pk = :pk"),
		ProjectionExpression:     aws.String(sessionProjection),
		ExpressionAttributeNames: map[string]string{"#pk": store.AttrPK, "#sk": store.AttrSK, "#name": "name", "#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk},
		},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	if prefix != "" {
		in.KeyConditionExpression = aws.String("#pk = :pk AND begins_with(#sk, :prefix)")
		in.ExpressionAttributeValues[":prefix"] = &types.AttributeValueMemberS{Value: prefix}
	}
	var out []sessions.Session
	var u xbl.Usage
	p := dynamodb.NewQueryPaginator(s.table.Client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
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
			out = append(out, ss)
		}
	}
	return out, u, nil
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

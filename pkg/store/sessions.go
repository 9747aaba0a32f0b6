package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/xbl"
)

// SessionItem is a session as a membership or keyword item holds it.
type SessionItem struct {
	Template        string
	Name            string
	StartTime       time.Time
	Version         int
	Visibility      xbl.Visibility
	JoinRestriction string
	Keywords        []string
	Accepted        int
	// Status and MyTurn are the member's, on membership items only.
	Status xbl.MemberStatus
	MyTurn bool
}

// sessionProjection is what a session query reads of an item.
const sessionProjection = "#sk, template, #name, startTime, version, visibility, joinRestriction, keywords, accepted, #status, myTurn"

var sessionNames = map[string]string{"#sk": AttrSK, "#name": "name", "#status": "status"}

// UserSessions returns the sessions of one SCID that user x is a member of
// (of one template when template is not empty): one Query on the user's
// partition, narrowed by sort-key prefix, following every page.
func (s *Store) UserSessions(ctx context.Context, x xbl.XUID, scid, template string) ([]SessionItem, Usage, error) {
	prefix := prefixMemberSK
	if template != "" {
		prefix += template + "#"
	}
	return s.querySessions(ctx, userSCID(x, scid), prefix)
}

// KeywordSessions returns the sessions of one SCID that carry keyword (of
// one template when template is not empty), from the keyword index.
func (s *Store) KeywordSessions(ctx context.Context, scid, keyword, template string) ([]SessionItem, Usage, error) {
	prefix := ""
	if template != "" {
		prefix = template + "#"
	}
	return s.querySessions(ctx, prefixKeyword+scid+"#"+keyword, prefix)
}

func (st *Store) querySessions(ctx context.Context, pk, prefix string) ([]SessionItem, Usage, error) {
	in := &dynamodb.QueryInput{
		TableName:                aws.String(st.table),
		KeyConditionExpression:   aws.String("#pk = :pk"),
		ProjectionExpression:     aws.String(sessionProjection),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(pk),
		},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	for k, v := range sessionNames {
		in.ExpressionAttributeNames[k] = v
	}
	if prefix != "" {
		in.KeyConditionExpression = aws.String("#pk = :pk AND begins_with(#sk, :prefix)")
		in.ExpressionAttributeValues[":prefix"] = s(prefix)
	}
	var out []SessionItem
	var u Usage
	p := dynamodb.NewQueryPaginator(st.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, u, unavailable(ctx, "query "+st.table, err)
		}
		u.Calls++
		if page.ConsumedCapacity != nil {
			u.ConsumedRCU += aws.ToFloat64(page.ConsumedCapacity.CapacityUnits)
		}
		for _, it := range page.Items {
			si, err := sessionItemOf(it)
			if err != nil {
				return nil, u, fmt.Errorf("query %s: item %s/%s: %w", st.table, pk, str(it[AttrSK]), err)
			}
			out = append(out, si)
		}
	}
	return out, u, nil
}

func sessionItemOf(it map[string]types.AttributeValue) (SessionItem, error) {
	st, err := time.Parse(time.RFC3339Nano, str(it["startTime"]))
	if err != nil {
		return SessionItem{}, fmt.Errorf("startTime: %w", err)
	}
	si := SessionItem{
		Template:        str(it["template"]),
		Name:            str(it["name"]),
		StartTime:       st,
		Version:         num(it["version"]),
		Visibility:      xbl.Visibility(str(it["visibility"])),
		JoinRestriction: str(it["joinRestriction"]),
		Keywords:        strs(it["keywords"]),
		Accepted:        num(it["accepted"]),
		Status:          xbl.MemberStatus(str(it["status"])),
	}
	if b, ok := it["myTurn"].(*types.AttributeValueMemberBOOL); ok {
		si.MyTurn = b.Value
	}
	if si.Keywords == nil {
		si.Keywords = []string{}
	}
	return si, nil
}

func num(v types.AttributeValue) int {
	if n, ok := v.(*types.AttributeValueMemberN); ok {
		i, _ := strconv.Atoi(n.Value)
		return i
	}
	return 0
}

// ReadConfig returns a SCID's configuration, or nil when it has none.
func (s *Store) ReadConfig(ctx context.Context, scid string) (*xbl.ServiceConfig, Usage, error) {
	k := ConfigKey(scid)
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:              aws.String(s.table),
		Key:                    k.av(),
		ProjectionExpression:   aws.String("titleIds, sandboxes"),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return nil, Usage{}, unavailable(ctx, "get "+s.table+" "+k.PK, err)
	}
	u := Usage{Calls: 1}
	if out.ConsumedCapacity != nil {
		u.ConsumedRCU = aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
	}
	if out.Item == nil {
		return nil, u, nil
	}
	return &xbl.ServiceConfig{
		SCID:      strings.ToLower(scid),
		TitleIDs:  strs(out.Item["titleIds"]),
		Sandboxes: strs(out.Item["sandboxes"]),
	}, u, nil
}

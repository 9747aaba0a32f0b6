package statstore

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

var _ stats.Writer = (*Store)(nil)

// Replace sets the whole statistics map, revision and timestamp of the
// item with one conditional UpdateItem: only when the item has no
// statistics map yet, or an older revision (none is 0). The gamertag and
// the other attributes stay.
func (s *Store) Replace(ctx context.Context, t stats.Target, doc *stats.Document, gamertag string) (bool, error) {
	m := map[string]StatAttr{}
	for name, v := range doc.Stats {
		m[xbl.StatKey(name)] = NewStatAttr(name, v)
	}
	statsAV, err := attributevalue.Marshal(m)
	if err != nil {
		return false, err
	}
	u := update{names: map[string]string{"#s": store.AttrStats, "#rev": "rev", "#ts": "ts"}, values: map[string]types.AttributeValue{
		":s":   statsAV,
		":rev": &types.AttributeValueMemberN{Value: strconv.FormatInt(doc.Revision, 10)},
	}}
	u.set("#s = :s", "#rev = :rev")
	if doc.Timestamp != "" {
		u.values[":ts"] = &types.AttributeValueMemberS{Value: doc.Timestamp}
		u.set("#ts = :ts")
	} else {
		u.remove("#ts")
	}
	u.identity(t, gamertag)
	// No document yet, or an older one; a document without a revision
	// (written by PATCH or loaded) is at revision 0.
	cond := "attribute_not_exists(#s) OR #rev < :rev"
	if doc.Revision > 0 {
		cond += " OR attribute_not_exists(#rev)"
	}
	err = s.update(ctx, t, u, cond)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil // the stored document is as new or newer: last writer wins
	}
	return err == nil, err
}

// Patch sets and removes single stats of the map with one UpdateItem
// conditional on the map existing; the first write of a user's document
// creates the map instead (a second, conditional write, only then).
func (s *Store) Patch(ctx context.Context, t stats.Target, p *stats.Patch, gamertag string) error {
	for attempt := 0; attempt < 3; attempt++ {
		u := update{names: map[string]string{"#s": store.AttrStats}, values: map[string]types.AttributeValue{}}
		i := 0
		for name, v := range p.Set {
			a, err := attributevalue.Marshal(NewStatAttr(name, v))
			if err != nil {
				return err
			}
			// Placeholders are as short as they can be (#0 = :0): DynamoDB
			// limits the expression to 4 KB, and a patch has up to 256 stats.
			n := strconv.Itoa(i)
			u.names["#"+n] = xbl.StatKey(name)
			u.values[":"+n] = a
			u.set("#s.#" + n + "=:" + n)
			i++
		}
		for _, name := range p.Remove {
			n := strconv.Itoa(i)
			u.names["#"+n] = xbl.StatKey(name)
			u.remove("#s.#" + n)
			i++
		}
		u.identity(t, gamertag)
		err := s.update(ctx, t, u, "attribute_exists(#s)")
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return err
		}
		if len(p.Set) == 0 {
			return nil // only deletes, and no document: nothing to change
		}
		// No map yet: create it with the stats set, unless someone just did.
		m := map[string]StatAttr{}
		for name, v := range p.Set {
			m[xbl.StatKey(name)] = NewStatAttr(name, v)
		}
		statsAV, err := attributevalue.Marshal(m)
		if err != nil {
			return err
		}
		c := update{names: map[string]string{"#s": store.AttrStats}, values: map[string]types.AttributeValue{":s": statsAV}}
		c.set("#s = :s")
		c.identity(t, gamertag)
		err = s.update(ctx, t, c, "attribute_not_exists(#s)")
		if !errors.As(err, &ccf) {
			return err
		}
	}
	return derrors.Wrap(derrors.Unavailable, "the service is temporarily unavailable; retry later", errors.New("patch: the document kept changing"))
}

// Document reads the whole statistics item, strongly consistent (a game
// reads back what it wrote).
func (s *Store) Document(ctx context.Context, t stats.Target) (*stats.Document, error) {
	k := store.StatsKey(t.XUID, t.SCID)
	out, err := s.table.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table.Name), Key: k.AV(), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, store.CallError(ctx, "get "+s.table.Name+" "+k.PK, err)
	}
	if out.Item == nil {
		return nil, nil
	}
	var it StatsItem
	if err := it.UnmarshalDynamoDBAttributeValue(&types.AttributeValueMemberM{Value: out.Item}); err != nil {
		return nil, err
	}
	doc := &stats.Document{Revision: it.Revision, Timestamp: it.Timestamp, Stats: map[string]xbl.StatValue{}}
	names := it.Names()
	for key, v := range it.Values() {
		doc.Stats[names[key]] = v
	}
	return doc, nil
}

// maxExpressionBytes is DynamoDB's limit on an expression string.
const maxExpressionBytes = 4096

// update is an UpdateItem expression being built.
type update struct {
	sets, removes []string
	names         map[string]string
	values        map[string]types.AttributeValue
}

func (u *update) set(parts ...string)    { u.sets = append(u.sets, parts...) }
func (u *update) remove(paths ...string) { u.removes = append(u.removes, paths...) }

// identity sets the attributes every statistics item carries, and the
// gamertag when the writer's token has one.
func (u *update) identity(t stats.Target, gamertag string) {
	u.names["#xuid"], u.names["#scid"] = "xuid", "scid"
	u.values[":xuid"] = &types.AttributeValueMemberS{Value: t.XUID.String()}
	u.values[":scid"] = &types.AttributeValueMemberS{Value: t.SCID}
	u.set("#xuid=:xuid", "#scid=:scid")
	if gamertag != "" {
		u.names["#gt"] = "gamertag"
		u.values[":gt"] = &types.AttributeValueMemberS{Value: gamertag}
		u.set("#gt=:gt")
	}
}

func (u *update) expression() string {
	var b strings.Builder
	if len(u.sets) > 0 {
		b.WriteString("SET " + strings.Join(u.sets, ","))
	}
	if len(u.removes) > 0 {
		b.WriteString(" REMOVE " + strings.Join(u.removes, ","))
	}
	return b.String()
}

// update sends u as one conditional UpdateItem of the statistics item. An
// item DynamoDB finds too large is the caller's to shrink (Invalid).
func (s *Store) update(ctx context.Context, t stats.Target, u update, condition string) error {
	k := store.StatsKey(t.XUID, t.SCID)
	expr := u.expression()
	if len(expr) > maxExpressionBytes {
		return derrors.New(derrors.Invalid, "$.stats.title: too many stats for one request (the update would be %d bytes; DynamoDB allows %d)", len(expr), maxExpressionBytes)
	}
	in := &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table.Name), Key: k.AV(),
		UpdateExpression:         aws.String(expr),
		ConditionExpression:      aws.String(condition),
		ExpressionAttributeNames: u.names,
	}
	if len(u.values) > 0 {
		in.ExpressionAttributeValues = u.values
	}
	_, err := s.table.Client.UpdateItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ccf):
		return err
	case strings.Contains(err.Error(), "Item size has exceeded") || strings.Contains(err.Error(), "Item size to update has exceeded"):
		return derrors.Wrap(derrors.Invalid, "$.stats.title: the statistics document would exceed DynamoDB's 400 KB item size: send fewer or shorter stats", err)
	}
	return store.CallError(ctx, "update "+s.table.Name+" "+k.PK, err)
}

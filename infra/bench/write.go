package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/statstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// writeStats is the number of stats in each benchmarked write.
const writeStats = 10

// writeCase is the title-managed statistics write as XSAPI sends it (a
// POST replacing one player's document for one SCID) against the one
// conditional UpdateItem it needs. The API and the raw calls write
// different players (halves of the table), each once, with a revision
// newer than the stored one, so that no condition fails.
type writeCase struct {
	o      options
	client *dynamodb.Client
	table  string
	base   string
	token  string
}

func (c *writeCase) name() string {
	return fmt.Sprintf("POST /stats/users/{xuid}/scids/{scid}, %d stats", writeStats)
}

func (c *writeCase) rawName() string { return "1 conditional UpdateItem" }

func (c *writeCase) dataset() *xbl.Dataset {
	o := c.o
	o.scids = 1
	return (&statsCase{o: o}).dataset()
}

func (c *writeCase) prepare(client *dynamodb.Client, table, base string) error {
	c.client, c.table, c.base = client, table, base
	var err error
	c.token, err = benchToken(true) // a server: it may write any player
	return err
}

// player is the player of round i: the API writes the first half of the
// table, the raw calls the second.
func (c *writeCase) player(i int, raw bool) xbl.XUID {
	half := c.o.population / 2
	off := i % half
	if raw {
		off += half
	}
	return xbl.XUID(2533274792693551 + off)
}

func (c *writeCase) value(i, k int) int { return i*31 + k }

func (c *writeCase) viaAPI(ctx context.Context, i int) error {
	var b strings.Builder
	b.WriteString(`{"stats":{"title":{`)
	for k := range writeStats {
		if k > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%s":{"value":%d}`, statName(k), c.value(i, k))
	}
	fmt.Fprintf(&b, `}},"$schema":"http://stats.xboxlive.com/2017-1/schema#","previousRevision":0,"revision":%d,"timestamp":"2026-06-01T12:34:56.1234567Z"}`, 1_000_000+i)
	url := c.base + "/stats/users/" + c.player(i, false).String() + "/scids/" + scidOf(0)
	return call(ctx, "POST", url, c.token, "4", b.String(), 200, "{}")
}

// raw sends the one call the write needs, as the function sends it:
// UpdateItem of the stats map, revision and timestamp, and of the
// identity attributes every statistics item carries (xuid, scid: the
// write may create the item), on the condition that the stored revision
// is older (or absent, or the item has no statistics map yet).
func (c *writeCase) raw(ctx context.Context, i int) (usage, error) {
	return c.update(ctx, i, c.player(i, true))
}

// update is the raw side's UpdateItem of player x's item, as round i.
func (c *writeCase) update(ctx context.Context, i int, x xbl.XUID) (usage, error) {
	m := map[string]statstore.StatAttr{}
	for k := range writeStats {
		m[xbl.StatKey(statName(k))] = statstore.NewStatAttr(statName(k), xbl.StatValue{Type: xbl.Integer, Value: strconv.Itoa(c.value(i, k))})
	}
	av, err := attributevalue.Marshal(m)
	if err != nil {
		return usage{}, err
	}
	_, err = c.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(c.table),
		Key:                      store.StatsKey(x, scidOf(0)).AV(),
		UpdateExpression:         aws.String("SET #s = :s, #rev = :rev, #ts = :ts, #xuid = :xuid, #scid = :scid"),
		ConditionExpression:      aws.String("attribute_not_exists(#s) OR #rev < :rev OR attribute_not_exists(#rev)"),
		ExpressionAttributeNames: map[string]string{"#s": store.AttrStats, "#rev": "rev", "#ts": "ts", "#xuid": "xuid", "#scid": "scid"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":s":    av,
			":rev":  &types.AttributeValueMemberN{Value: strconv.Itoa(1_000_000 + i)},
			":ts":   &types.AttributeValueMemberS{Value: "2026-06-01T12:34:56.1234567Z"},
			":xuid": &types.AttributeValueMemberS{Value: x.String()},
			":scid": &types.AttributeValueMemberS{Value: scidOf(0)},
		},
	})
	return usage{}, err
}

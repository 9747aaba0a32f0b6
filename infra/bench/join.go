package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/sessionstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// joinCase is a player joining an open session of 3 members, as XSAPI
// sends it (PUT of members.me, active), against the raw calls the join
// needs: the strongly consistent GetItem of the session's document and one
// TransactWriteItems of the new document (conditional on the ETag read),
// its head, and its index entries (4 members and a keyword, two each),
// each with a copy of the new head. The API and the raw calls
// join different sessions, each once.
type joinCase struct {
	o      options
	client *dynamodb.Client
	table  string
	base   string
	tokens []string // by round
}

func (c *joinCase) name() string {
	return "PUT .../sessions/{name}: a player joins a 3-member session"
}

func (c *joinCase) rawName() string {
	return "1 GetItem + 1 TransactWriteItems (document, head, 10 entries with copies of the head)"
}

func (c *joinCase) sessionName(i int, raw bool) string {
	if raw {
		return fmt.Sprintf("raw-%05d", i)
	}
	return fmt.Sprintf("api-%05d", i)
}

func (c *joinCase) dataset() *xbl.Dataset {
	ds := &xbl.Dataset{Configs: []xbl.ServiceConfig{{SCID: sessionSCID, TitleIDs: []string{title}, Sandboxes: []string{"RETAIL"}}}}
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range c.o.warmup + c.o.n {
		for _, raw := range []bool{false, true} {
			s := xbl.Session{SCID: sessionSCID, Template: "lobby", Name: c.sessionName(i, raw), StartTime: t0.Add(time.Duration(i) * time.Second),
				Version: 1, Visibility: xbl.OpenVis, Keywords: []string{"bench"}}
			for m := range 3 {
				s.Members = append(s.Members, xbl.Member{XUID: xbl.XUID(3_000_000 + i*10 + m), Status: xbl.Active})
			}
			ds.Sessions = append(ds.Sessions, s)
		}
	}
	return ds
}

// prepare mints each round's joiner its token (out of the measured time).
// With server-level access, as the statistics write case: a player's join
// adds the rate limiter's count (one UpdateItem, see docs/COST.md).
func (c *joinCase) prepare(client *dynamodb.Client, table, base string) error {
	c.client, c.table, c.base = client, table, base
	c.tokens = make([]string, c.o.warmup+c.o.n)
	for i := range c.tokens {
		var err error
		if c.tokens[i], err = devkey.Mint(xbl.Caller{XUID: c.joiner(i), UserHash: "bench", TitleID: title, Sandbox: "RETAIL", Gamertag: "Joiner", Server: true}, time.Hour); err != nil {
			return err
		}
	}
	return nil
}

func (c *joinCase) joiner(i int) xbl.XUID { return xbl.XUID(4_000_000 + i) }

func (c *joinCase) viaAPI(ctx context.Context, i int) error {
	body := `{"members":{"me":{"constants":{"system":{"xuid":"` + c.joiner(i).String() + `","initialize":true}},"properties":{"system":{"active":true}}}}}`
	return call(ctx, "PUT", c.base+"/serviceconfigs/"+sessionSCID+"/sessionTemplates/lobby/sessions/"+c.sessionName(i, false), c.tokens[i], "107", body, 200, "")
}

// raw reads the document, adds the member, and writes the four items.
func (c *joinCase) raw(ctx context.Context, i int) (usage, error) {
	var u usage
	key := store.SessionKey(sessionSCID, "lobby", c.sessionName(i, true))
	got, err := c.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(c.table), Key: key.AV(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return u, err
	}
	u.items, u.rcu = 1, 1
	var it sessionstore.DocItem
	if err := store.Unmarshal(got.Item, &it); err != nil {
		return u, err
	}
	var d sessions.Doc
	if err := json.Unmarshal([]byte(it.Doc), &d); err != nil {
		return u, err
	}
	now := time.Now().UTC()
	d.Members = append(d.Members, sessions.Member{Index: d.NextIndex, XUID: c.joiner(i), Gamertag: "Joiner", TitleID: title, Active: true, JoinTime: now})
	d.NextIndex++
	prev := it.ETag
	d.ETag = sessions.NewID()
	if _, err := d.Encode(); err != nil { // the one encoding a write stores
		return u, err
	}
	items, err := sessionstore.ItemsOf(&d, true)
	if err != nil {
		return u, err
	}
	put := func(v any) (types.TransactWriteItem, error) {
		av, err := store.Marshal(v)
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(c.table), Item: av}}, err
	}
	docPut, err := put(items.Doc)
	if err != nil {
		return u, err
	}
	docPut.Put.ConditionExpression = aws.String("etag = :etag")
	docPut.Put.ExpressionAttributeValues = map[string]types.AttributeValue{":etag": &types.AttributeValueMemberS{Value: prev}}
	tx := []types.TransactWriteItem{docPut}
	headPut, err := put(items.Head)
	if err != nil {
		return u, err
	}
	tx = append(tx, headPut)
	for _, p := range items.Pointers {
		pp, err := put(p)
		if err != nil {
			return u, err
		}
		tx = append(tx, pp)
	}
	_, err = c.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	return u, err
}

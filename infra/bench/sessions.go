package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/sessionstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// Shape of the session data: every session has membersPerSession members
// drawn from a pool sized so that each user is in about sessionsPerUser
// sessions, whatever the number of sessions.
const (
	membersPerSession = 3
	sessionsPerUser   = 6
	batchXUIDs        = 100
	sessionSCID       = "c402ff50-3e76-11e2-a25f-0800200c1212"
	// queryConcurrency is the service's bound on Query calls in flight.
	queryConcurrency = 16
	// take is the most results the batch asks for.
	take = 100
)

// sessionsCase is the session directory batch query for 100 xuids.
type sessionsCase struct {
	o        options
	sessions int
	client   *dynamodb.Client
	table    string
	base     string
	token    string
}

func (c *sessionsCase) pool() int {
	return max(batchXUIDs, c.sessions*membersPerSession/sessionsPerUser)
}

func (c *sessionsCase) name() string {
	return fmt.Sprintf("POST /serviceconfigs/{scid}/batch, %d xuids, %d sessions", batchXUIDs, c.sessions)
}

func (c *sessionsCase) rawName() string {
	return fmt.Sprintf("%d Query, %d at a time", batchXUIDs, queryConcurrency)
}

func (c *sessionsCase) dataset() *xbl.Dataset {
	ds := &xbl.Dataset{Configs: []xbl.ServiceConfig{{SCID: sessionSCID, TitleIDs: []string{title}, Sandboxes: []string{"RETAIL"}}}}
	pool := c.pool()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	statuses := []xbl.MemberStatus{xbl.Active, xbl.Active, xbl.Inactive, xbl.Reserved}
	vis := []xbl.Visibility{xbl.OpenVis, xbl.OpenVis, xbl.Full, xbl.Visible, xbl.Private}
	for i := range c.sessions {
		s := xbl.Session{
			SCID: sessionSCID, Template: []string{"deathmatch", "coop"}[i%2], Name: fmt.Sprintf("session-%07d", i),
			StartTime: t0.Add(time.Duration(i) * 17 * time.Second), Version: 1 + i%3, Visibility: vis[i%len(vis)],
			JoinRestriction: "local", Keywords: []string{fmt.Sprintf("kw%d", i%10)},
		}
		for m := range membersPerSession {
			x := xbl.XUID(1_000_000 + (i*membersPerSession+m*7919)%pool)
			dup := false
			for _, o := range s.Members {
				dup = dup || o.XUID == x
			}
			if !dup {
				s.Members = append(s.Members, xbl.Member{XUID: x, Status: statuses[(i+m)%len(statuses)], MyTurn: m == 0})
			}
		}
		ds.Sessions = append(ds.Sessions, s)
	}
	return ds
}

func (c *sessionsCase) prepare(client *dynamodb.Client, table, base string) error {
	c.client, c.table, c.base = client, table, base
	var err error
	c.token, err = benchToken(true)
	return err
}

// xuids returns the xuids of round i: a window that moves through the pool.
func (c *sessionsCase) xuids(i int) []xbl.XUID {
	out := make([]xbl.XUID, batchXUIDs)
	for j := range out {
		out[j] = xbl.XUID(1_000_000 + (i*batchXUIDs+j)%c.pool())
	}
	return out
}

func (c *sessionsCase) viaAPI(ctx context.Context, i int) error {
	var xs []string
	for _, x := range c.xuids(i) {
		xs = append(xs, `"`+x.String()+`"`)
	}
	return call(ctx, "POST", c.base+"/serviceconfigs/"+sessionSCID+"/batch?private=true&reservations=true&inactive=true&take="+fmt.Sprint(take),
		c.token, "107", `{"xuids":[`+strings.Join(xs, ",")+`]}`, 200, `"sessionRef"`)
}

// raw sends the fewest calls a consistent answer needs, the configuration
// being cached: one Query per xuid of its membership entries newest first,
// as many as the answer can use (take), one page; then the heads of the
// sessions whose entries carry no copy of it (large sessions), in one
// BatchGetItem per 100.
func (c *sessionsCase) raw(ctx context.Context, i int) (usage, error) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(queryConcurrency)
	xuids := c.xuids(i)
	got := make([]usage, len(xuids))
	heads := make([][]store.Key, len(xuids))
	for j, x := range xuids {
		g.Go(func() error {
			out, err := c.client.Query(gctx, &dynamodb.QueryInput{
				TableName:                aws.String(c.table),
				KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
				ProjectionExpression:     aws.String("template, #name, startTime, version, visibility, #max, joinRestriction, keywords, turn, m, c"),
				ExpressionAttributeNames: map[string]string{"#pk": store.AttrPK, "#sk": store.AttrSK, "#name": "name", "#max": "max"},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":pk":     &types.AttributeValueMemberS{Value: x.String() + "#" + sessionSCID},
					":prefix": &types.AttributeValueMemberS{Value: store.MembershipPrefix("")},
				},
				Limit:                  aws.Int32(take),
				ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
			})
			if err != nil {
				return err
			}
			got[j].items = float64(len(out.Items))
			if out.ConsumedCapacity != nil {
				got[j].rcu = aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
			}
			for _, it := range out.Items {
				var p sessionstore.Item
				if err := store.Unmarshal(it, &p); err != nil {
					return err
				}
				if !p.Copy {
					heads[j] = append(heads[j], p.Head(sessionSCID))
				}
			}
			return nil
		})
	}
	err := g.Wait()
	var u usage
	for _, g := range got {
		u.add(g)
	}
	if err != nil {
		return u, err
	}
	// Each xuid's heads in BatchGetItem calls of up to 100, concurrently
	// as the service reads them (each Query page's heads on their own).
	var mu sync.Mutex
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(queryConcurrency)
	for _, keys := range heads {
		if len(keys) == 0 {
			continue
		}
		g.Go(func() error {
			return store.Table{Client: c.client, Name: c.table}.BatchGet(gctx, keys, store.Projection{
				Expression: "template, #name, startTime, version, visibility, #max, joinRestriction, keywords, turn, m",
				Names:      map[string]string{"#name": "name", "#max": "max"},
			}, func(items []map[string]types.AttributeValue, cu xbl.Usage) {
				mu.Lock()
				u.items += float64(len(items))
				u.rcu += cu.ConsumedRCU
				mu.Unlock()
			})
		})
	}
	return u, g.Wait()
}

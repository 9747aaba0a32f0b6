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

	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/sessionstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// The session batch: 100 xuids, at most 16 of their Query calls in flight
// (the service's sessions.QueryConcurrency), take=100.
const (
	batchXUIDs  = 100
	sessionSCID = "c402ff50-3e76-11e2-a25f-0800200c1212"
	take        = 100
)

// sessionsCase is the session directory batch query for 100 xuids. Every
// session has members members drawn from a pool sized so that each user is
// in about perUser sessions, whatever the number of sessions.
type sessionsCase struct {
	o        options
	sessions int
	members  int
	perUser  int
	heavy    bool // named as the heavy batch
	client   *dynamodb.Client
	table    string
	base     string
	token    string
}

// newSessionsCase is the batch over n sessions of 3 members, each user in
// about 6.
func newSessionsCase(o options, n int) *sessionsCase {
	return &sessionsCase{o: o, sessions: n, members: 3, perUser: 6}
}

// newHeavyCase is the heavy batch: each of the 100 xuids in 16 sessions of
// 4 members (2,000 sessions over 500 users), take=100, every row kept. The
// first 7 xuids hold the answer.
func newHeavyCase(o options) *sessionsCase {
	return &sessionsCase{o: o, sessions: 2000, members: 4, perUser: 16, heavy: true}
}

func (c *sessionsCase) pool() int {
	return max(batchXUIDs, c.sessions*c.members/c.perUser)
}

func (c *sessionsCase) name() string {
	if c.heavy {
		return fmt.Sprintf("heavy POST /serviceconfigs/{scid}/batch, %d xuids each in %d sessions of %d, take=%d", batchXUIDs, c.perUser, c.members, take)
	}
	return fmt.Sprintf("POST /serviceconfigs/{scid}/batch, %d xuids, %d sessions", batchXUIDs, c.sessions)
}

func (c *sessionsCase) rawName() string {
	return fmt.Sprintf("a Query per xuid in request order, %d at a time, until the rows suffice", sessions.QueryConcurrency)
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
		for m := range c.members {
			x := xbl.XUID(1_000_000 + (i*c.members+m*7919)%pool)
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

func (c *sessionsCase) at(base string) func(context.Context, int) error {
	d := *c
	d.base = base
	return d.viaAPI
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
// in request order, at most sessions.QueryConcurrency in flight, each asking for the
// rows still missing (take less those of the xuids before it already
// read), none started once the xuids read hold take rows (every row is
// kept: the request asks for private, reserved and inactive ones); then
// the heads of the sessions whose entries carry no copy of it (large
// sessions), in one BatchGetItem per 100.
func (c *sessionsCase) raw(ctx context.Context, i int) (usage, error) {
	xuids := c.xuids(i)
	// The order and the bound are the service's (sessions.ReadInOrder
	// schedules calls and nothing else): what differs is each read, one
	// Query call as plain as it can be.
	type read struct {
		use   usage
		heads []store.Key
	}
	reads := sessions.ReadInOrder(len(xuids), take, func(j, limit int) (read, int, error) {
		var r read
		out, err := c.client.Query(ctx, &dynamodb.QueryInput{
			TableName:                aws.String(c.table),
			KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
			ProjectionExpression:     aws.String(sessionstore.EntryProjection.Expression),
			ExpressionAttributeNames: sessionstore.QueryNames,
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk":     &types.AttributeValueMemberS{Value: xuids[j].String() + "#" + sessionSCID},
				":prefix": &types.AttributeValueMemberS{Value: store.MembershipPrefix("")},
			},
			Limit:                  aws.Int32(int32(limit)),
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		})
		if err != nil {
			return r, 0, err
		}
		r.use.items = float64(len(out.Items))
		if out.ConsumedCapacity != nil {
			r.use.rcu = aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
		}
		for _, it := range out.Items {
			if c, ok := it["c"].(*types.AttributeValueMemberBOOL); !ok || !c.Value {
				var p sessionstore.Item
				if err := store.Unmarshal(it, &p); err != nil {
					return r, len(out.Items), err
				}
				r.heads = append(r.heads, p.Head(sessionSCID))
			}
		}
		return r, len(out.Items), nil
	})
	var u usage
	var err error
	for _, r := range reads {
		u.add(r.Value.use)
		if r.Err != nil && err == nil {
			err = r.Err
		}
	}
	if err != nil {
		return u, err
	}
	// Each xuid's heads in BatchGetItem calls of up to 100, concurrently
	// as the service reads them (each Query page's heads on their own).
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(sessions.QueryConcurrency)
	for _, r := range reads {
		if len(r.Value.heads) == 0 {
			continue
		}
		g.Go(func() error {
			return store.Table{Client: c.client, Name: c.table}.BatchGet(gctx, r.Value.heads, sessionstore.HeadProjection, func(items []map[string]types.AttributeValue, cu xbl.Usage) {
				mu.Lock()
				u.items += float64(len(items))
				u.rcu += cu.ConsumedRCU
				mu.Unlock()
			})
		})
	}
	return u, g.Wait()
}

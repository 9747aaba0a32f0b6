package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/xblread/xblread/pkg/xbl"
)

// readConcurrency bounds the BatchGetItem calls of one request in flight.
const readConcurrency = 8

// StatsQuery asks for statistics of users across SCIDs.
type StatsQuery struct {
	Users []xbl.XUID // distinct
	SCIDs []string   // canonical, distinct
	Names []string   // the distinct stat names requested across all SCIDs
}

// UserSCID names one user's statistics for one SCID.
type UserSCID struct {
	XUID xbl.XUID
	SCID string
}

// StatsResult is what ReadStats found. Missing entries mean no data.
type StatsResult struct {
	// Configs by canonical SCID; each Stats map holds the access level of
	// the queried names only.
	Configs   map[string]*xbl.ServiceConfig
	Gamertags map[xbl.XUID]string
	// Stats holds the queried statistics that have a value.
	Stats map[UserSCID]map[string]xbl.StatValue
	Usage
}

// Usage is what a request cost in DynamoDB.
type Usage struct {
	Calls       int     // requests sent, retries included
	Retries     int     // retries of unprocessed keys
	ConsumedRCU float64 // read capacity units consumed
}

// ReadStats reads, in the fewest round trips, the statistics items of every
// (user, SCID) pair, the users' profiles and the SCIDs' configurations:
// one key list, BatchGetItem calls of at most 100 keys sent concurrently
// (bounded), projecting only the queried statistics, eventually
// consistent. Unprocessed keys are retried with jittered exponential
// backoff while the request's deadline allows.
func (s *Store) ReadStats(ctx context.Context, q StatsQuery) (*StatsResult, error) {
	keys := make([]Key, 0, len(q.Users)*len(q.SCIDs)+len(q.Users)+len(q.SCIDs))
	for _, scid := range q.SCIDs {
		keys = append(keys, ConfigKey(scid))
	}
	for _, x := range q.Users {
		keys = append(keys, ProfileKey(x))
		for _, scid := range q.SCIDs {
			keys = append(keys, StatsKey(x, scid))
		}
	}
	names := map[string]string{"#pk": AttrPK, "#sk": AttrSK}
	proj := make([]string, 0, len(q.Names)+5)
	proj = append(proj, "#pk", "#sk", "gamertag", "titleIds", "sandboxes")
	for i, name := range q.Names {
		ph := "#" + strconv.FormatInt(int64(i), 36)
		names[ph] = StatAttr(name)
		proj = append(proj, ph)
	}
	res := &StatsResult{
		Configs:   map[string]*xbl.ServiceConfig{},
		Gamertags: map[xbl.XUID]string{},
		Stats:     map[UserSCID]map[string]xbl.StatValue{},
	}
	var mu sync.Mutex
	err := s.batchGet(ctx, keys, strings.Join(proj, ","), names, func(items []map[string]types.AttributeValue, u Usage) {
		mu.Lock()
		defer mu.Unlock()
		res.Usage.add(u)
		for _, it := range items {
			res.add(it)
		}
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (u *Usage) add(o Usage) {
	u.Calls += o.Calls
	u.Retries += o.Retries
	u.ConsumedRCU += o.ConsumedRCU
}

// add files one projected item under its kind.
func (r *StatsResult) add(it map[string]types.AttributeValue) {
	pk, sk := str(it[AttrPK]), str(it[AttrSK])
	switch sk {
	case skConfig:
		scid := strings.TrimPrefix(pk, prefixConfig)
		c := &xbl.ServiceConfig{SCID: scid, TitleIDs: strs(it["titleIds"]), Sandboxes: strs(it["sandboxes"]), Stats: map[string]xbl.Access{}}
		for attr, v := range it {
			if name, ok := strings.CutPrefix(attr, statPrefix); ok {
				c.Stats[name] = xbl.Access(str(v))
			}
		}
		r.Configs[scid] = c
	case skProfile:
		if x, err := xbl.ParseXUID(strings.TrimPrefix(pk, prefixProfile)); err == nil {
			r.Gamertags[x] = str(it["gamertag"])
		}
	case skStats:
		xs, scid, _ := strings.Cut(pk, "#")
		x, err := xbl.ParseXUID(xs)
		if err != nil {
			return
		}
		stats := map[string]xbl.StatValue{}
		for attr, v := range it {
			name, ok := strings.CutPrefix(attr, statPrefix)
			if !ok {
				continue
			}
			m, ok := v.(*types.AttributeValueMemberM)
			if !ok {
				continue
			}
			var text string
			switch val := m.Value["v"].(type) {
			case *types.AttributeValueMemberN:
				text = val.Value
			case *types.AttributeValueMemberS:
				text = val.Value
			default:
				continue
			}
			// DynamoDB writes numbers its own way: print them ours.
			sv, err := xbl.NewStatValue(xbl.StatType(str(m.Value["t"])), text)
			if err != nil {
				continue
			}
			stats[name] = sv
		}
		r.Stats[UserSCID{x, scid}] = stats
	}
}

func strs(v types.AttributeValue) []string {
	l, ok := v.(*types.AttributeValueMemberL)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(l.Value))
	for _, e := range l.Value {
		out = append(out, str(e))
	}
	return out
}

// batchGet reads keys (distinct) in BatchGetItem calls of at most 100 keys,
// a bounded number at a time, handing each response's items to found.
func (s *Store) batchGet(ctx context.Context, keys []Key, projection string, names map[string]string,
	found func([]map[string]types.AttributeValue, Usage)) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(readConcurrency)
	for start := 0; start < len(keys); start += maxBatchGet {
		chunk := keys[start:min(start+maxBatchGet, len(keys))]
		g.Go(func() error { return s.getChunk(ctx, chunk, projection, names, found) })
	}
	return g.Wait()
}

func (s *Store) getChunk(ctx context.Context, chunk []Key, projection string, names map[string]string,
	found func([]map[string]types.AttributeValue, Usage)) error {
	ka := types.KeysAndAttributes{Keys: make([]map[string]types.AttributeValue, len(chunk))}
	for i, k := range chunk {
		ka.Keys[i] = k.av()
	}
	if projection != "" {
		ka.ProjectionExpression = aws.String(projection)
		ka.ExpressionAttributeNames = names
	}
	pending := map[string]types.KeysAndAttributes{s.table: ka}
	for attempt := 0; ; attempt++ {
		out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
			RequestItems:           pending,
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		})
		if err != nil {
			return unavailable(ctx, "batch get from "+s.table, err)
		}
		u := Usage{Calls: 1}
		if attempt > 0 {
			u.Retries = 1
		}
		for _, c := range out.ConsumedCapacity {
			u.ConsumedRCU += aws.ToFloat64(c.CapacityUnits)
		}
		found(out.Responses[s.table], u)
		left, ok := out.UnprocessedKeys[s.table]
		if !ok || len(left.Keys) == 0 {
			return nil
		}
		wait := backoff(attempt)
		if d, ok := ctx.Deadline(); attempt+1 >= maxAttempts || ok && time.Now().Add(wait).After(d) {
			return fmt.Errorf("batch get from %s: %d keys: %w", s.table, len(left.Keys), ErrIncomplete)
		}
		pending = out.UnprocessedKeys
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

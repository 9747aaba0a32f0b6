// Package statstore keeps user statistics in DynamoDB, in the statistics
// items of package store's table: Store implements stats.Reader (the batch
// read: BatchGetItem of only the queried stats) and stats.Writer (a
// statistics document's conditional replace and patch, and its strongly
// consistent read back).
package statstore

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

var _ stats.Reader = (*Store)(nil)

// Store reads statistics from one table.
type Store struct {
	table store.Table
}

// New returns a Store reading t.
func New(t store.Table) *Store { return &Store{table: t} }

// ReadStats reads the statistics item of every (user, SCID) pair and
// nothing else: U·S keys in BatchGetItem calls of at most 100 keys sent
// concurrently (bounded), projecting only the queried statistics and the
// gamertag, eventually consistent: ceil(U·S / 100) calls without retries.
func (s *Store) ReadStats(ctx context.Context, q stats.Query) (*stats.Found, error) {
	keys := make([]store.Key, 0, len(q.Users)*len(q.SCIDs))
	for _, x := range q.Users {
		for _, scid := range q.SCIDs {
			keys = append(keys, store.StatsKey(x, scid))
		}
	}
	res := &stats.Found{
		Gamertags: map[xbl.XUID]string{},
		Stats:     map[stats.UserSCID]map[string]xbl.StatValue{},
		Names:     map[stats.UserSCID]map[string]string{},
	}
	var mu sync.Mutex
	tags := map[stats.UserSCID]string{}
	err := s.table.BatchGet(ctx, keys, projection(q.Names), func(items []map[string]types.AttributeValue, u xbl.Usage) {
		mu.Lock()
		defer mu.Unlock()
		res.Usage.Add(u)
		for _, av := range items {
			var it StatsItem
			x, scid, ok := store.ParseUserSCID(pkOf(av))
			if !ok || it.UnmarshalDynamoDBAttributeValue(&types.AttributeValueMemberM{Value: av}) != nil {
				continue // an item that does not decode reads as no data
			}
			res.Stats[stats.UserSCID{XUID: x, SCID: scid}] = it.Values()
			res.Names[stats.UserSCID{XUID: x, SCID: scid}] = it.Names()
			if it.Gamertag != "" {
				tags[stats.UserSCID{XUID: x, SCID: scid}] = it.Gamertag
			}
		}
	})
	if err != nil {
		return nil, err
	}
	// The gamertag of the first requested SCID that has one, whatever order
	// the batches came back in.
	for _, x := range q.Users {
		for _, scid := range q.SCIDs {
			if g := tags[stats.UserSCID{XUID: x, SCID: scid}]; g != "" {
				res.Gamertags[x] = g
				break
			}
		}
	}
	return res, nil
}

// readItem is what ReadStats reads of a StatsItem besides the queried
// statistics: its partition key, to tell whose they are, and the gamertag
// (TestReadItemIsStatsItem holds the two structs together).
type readItem struct {
	store.Key
	Gamertag string `dynamodbav:"gamertag"`
}

// readProjection is readItem's part of every projection, derived once.
var readProjection = store.ProjectionOf[readItem](store.AttrSK)

// projection reads readItem's attributes and, of the statistics map, only
// the queried names.
func projection(names []string) store.Projection {
	p := store.Projection{Expression: readProjection.Expression, Names: maps.Clone(readProjection.Names)}
	p.Names["#"+store.AttrStats] = store.AttrStats
	parts := make([]string, 0, len(names)+1)
	parts = append(parts, p.Expression)
	for i, name := range names {
		ph := "#n" + strconv.FormatInt(int64(i), 36) // never one of readItem's
		p.Names[ph] = name
		parts = append(parts, "#"+store.AttrStats+"."+ph)
	}
	p.Expression = strings.Join(parts, ",")
	return p
}

func pkOf(av map[string]types.AttributeValue) string {
	if s, ok := av[store.AttrPK].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

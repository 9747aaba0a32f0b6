// Package statstore reads user statistics from DynamoDB: it implements
// stats.Reader over the table of package store.
package statstore

import (
	"context"
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

// ReadStats reads, in the fewest round trips, the statistics items of every
// (user, SCID) pair, the users' profiles and the SCIDs' configurations:
// one key list in BatchGetItem calls of at most 100 keys sent concurrently
// (bounded), projecting only the queried statistics, eventually
// consistent, at most ceil((U·S + U + S) / 100) calls without retries.
func (s *Store) ReadStats(ctx context.Context, q stats.Query) (*stats.Found, error) {
	keys := make([]store.Key, 0, len(q.Users)*len(q.SCIDs)+len(q.Users)+len(q.SCIDs))
	for _, scid := range q.SCIDs {
		keys = append(keys, store.ConfigKey(scid))
	}
	for _, x := range q.Users {
		keys = append(keys, store.ProfileKey(x))
		for _, scid := range q.SCIDs {
			keys = append(keys, store.StatsKey(x, scid))
		}
	}
	res := &stats.Found{
		Configs:   map[string]*xbl.ServiceConfig{},
		Gamertags: map[xbl.XUID]string{},
		Stats:     map[stats.UserSCID]map[string]xbl.StatValue{},
	}
	var mu sync.Mutex
	err := s.table.BatchGet(ctx, keys, projection(q.Names), func(items []map[string]types.AttributeValue, u xbl.Usage) {
		mu.Lock()
		defer mu.Unlock()
		res.Usage.Add(u)
		for _, it := range items {
			file(res, it)
		}
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// projection reads the keys, the gamertag of profiles, the titles and
// sandboxes of configurations, and of the statistics map of configuration
// and statistics items only the queried names.
func projection(names []string) store.Projection {
	p := store.Projection{Names: map[string]string{"#pk": store.AttrPK, "#sk": store.AttrSK, "#s": store.AttrStats}}
	parts := make([]string, 0, len(names)+5)
	parts = append(parts, "#pk", "#sk", "gamertag", "titleIds", "sandboxes")
	for i, name := range names {
		ph := "#" + strconv.FormatInt(int64(i), 36)
		p.Names[ph] = name
		parts = append(parts, "#s."+ph)
	}
	p.Expression = strings.Join(parts, ",")
	return p
}

// file decodes one projected item and files it under its kind. An item
// that does not decode is left out, as if it did not exist.
func file(res *stats.Found, av map[string]types.AttributeValue) {
	var k store.Key
	if store.Unmarshal(av, &k) != nil {
		return
	}
	switch k.SK {
	case store.SKConfig:
		var it store.ConfigItem
		scid, ok := store.ParseConfigPK(k.PK)
		if ok && store.Unmarshal(av, &it) == nil {
			res.Configs[scid] = it.Config(scid)
		}
	case store.SKProfile:
		var it store.ProfileItem
		x, ok := store.ParseProfilePK(k.PK)
		if ok && store.Unmarshal(av, &it) == nil {
			res.Gamertags[x] = it.Gamertag
		}
	case store.SKStats:
		var it store.StatsItem
		x, scid, ok := store.ParseUserSCID(k.PK)
		if ok && store.Unmarshal(av, &it) == nil {
			res.Stats[stats.UserSCID{XUID: x, SCID: scid}] = it.Values()
		}
	}
}

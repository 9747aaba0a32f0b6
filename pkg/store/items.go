package store

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/xbl"
)

// Sort keys and key prefixes of the item kinds (see the package comment).
const (
	SKStats       = "stats"   // sort key of a statistics item
	SKProfile     = "profile" // sort key of a profile item
	SKConfig      = "config"  // sort key of a configuration item
	SKDoc         = "doc"     // sort key of a session's document item
	SKHead        = "head"    // sort key of a session's head item
	SKClaim       = "claim"   // sort key of a session's claim item
	PrefixQueued  = "wait#"   // sort key prefix of a write waiting on a session
	prefixProfile = "profile#"
	prefixConfig  = "scid#"
	prefixKeyword = "keyword#"
	prefixSession = "session#"
	prefixRate    = "rate#"
	prefixHandle  = "handle#"
	prefixConn    = "rta#"
	// SKHandle is the sort key of a handle item; PrefixActivity that of a
	// player's activity (one per title) in its {xuid}#{scid} partition.
	SKHandle       = "handle"
	PrefixActivity = "activity#"
	// SKConn is the sort key of a real-time activity connection's item.
	SKConn = "conn"
	// Membership and keyword entries are written twice: under every
	// template, newest first ("m#", "k#"), and per template, newest first
	// ("mt#", "kt#"), so that a query of either kind reads its rows in
	// answer order and can stop once the answer is certain.
	prefixMember         = "m#"
	prefixMemberTemplate = "mt#"
	prefixKeywordAll     = "k#"
	prefixKeywordTmpl    = "kt#"
	// TimeLayout is how start times are stored: UTC, 7 fractional digits,
	// so that the strings sort as the times do.
	TimeLayout = "2006-01-02T15:04:05.0000000Z"
)

// Key is an item's primary key.
type Key struct {
	PK string `dynamodbav:"pk"`
	SK string `dynamodbav:"sk"`
}

// AV returns the key as DynamoDB attribute values.
func (k Key) AV() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: &types.AttributeValueMemberS{Value: k.PK}, AttrSK: &types.AttributeValueMemberS{Value: k.SK}}
}

// StatsKey is the key of a user's statistics for one SCID.
func StatsKey(x xbl.XUID, scid string) Key { return Key{UserSCID(x, scid), SKStats} }

// ProfileKey is the key of a user's profile.
func ProfileKey(x xbl.XUID) Key { return Key{prefixProfile + x.String(), SKProfile} }

// ConfigKey is the key of a SCID's configuration.
func ConfigKey(scid string) Key { return Key{prefixConfig + scid, SKConfig} }

// Order is a start time as a sort-key part: fixed-width decimal that sorts
// newest first (2^62 minus 100-ns ticks since 1970). Times before 1970
// sort as 1970.
func Order(t time.Time) string {
	ticks := t.Unix()*1e7 + int64(t.Nanosecond()/100)
	ticks = min(max(ticks, 0), 1<<62-1)
	return fmt.Sprintf("%019d", int64(1<<62)-ticks)
}

// MembershipKeys are the keys of a user's membership in a session that
// started at start: under every template, then under its template.
func MembershipKeys(x xbl.XUID, scid, template, name string, start time.Time) [2]Key {
	pk, o := UserSCID(x, scid), Order(start)
	return [2]Key{
		{pk, prefixMember + o + "#" + template + "#" + name},
		{pk, prefixMemberTemplate + template + "#" + o + "#" + name},
	}
}

// MembershipPrefix is the sort-key prefix of a user's memberships, newest
// first: in every template, or in one when template is not empty.
func MembershipPrefix(template string) string {
	if template == "" {
		return prefixMember
	}
	return prefixMemberTemplate + template + "#"
}

// KeywordKeys are the keys of a keyword's index entries for a session that
// started at start: under every template, then under its template.
func KeywordKeys(scid, keyword, template, name string, start time.Time) [2]Key {
	pk, o := KeywordPK(scid, keyword), Order(start)
	return [2]Key{
		{pk, prefixKeywordAll + o + "#" + template + "#" + name},
		{pk, prefixKeywordTmpl + template + "#" + o + "#" + name},
	}
}

// KeywordPrefix is the sort-key prefix of a keyword's index entries, newest
// first: in every template, or in one when template is not empty.
func KeywordPrefix(template string) string {
	if template == "" {
		return prefixKeywordAll
	}
	return prefixKeywordTmpl + template + "#"
}

// KeywordPK is the partition of the keyword index entries of one keyword:
// keywords are case-insensitive, so it holds the keyword's canonical form
// (xbl.FoldKeyword), the one form writes, queries and dedupe hold them to:
// two keywords share a partition exactly when strings.EqualFold says they
// are one keyword.
func KeywordPK(scid, keyword string) string {
	return prefixKeyword + scid + "#" + xbl.FoldKeyword(keyword)
}

// SessionKey is the key of a session's document item. Each session has
// its own partition (document and head), so that the heads a query reads
// spread over the table rather than one partition per SCID.
func SessionKey(scid, template, name string) Key {
	return Key{prefixSession + scid + "#" + template + "#" + name, SKDoc}
}

// ClaimKey is the key of a session's claim item: which write holds the
// version of the document it read (sessionstore's claim).
func ClaimKey(scid, template, name string) Key {
	return Key{prefixSession + scid + "#" + template + "#" + name, SKClaim}
}

// QueuedKey is the key of write id waiting on a session
// (sessions.Queue).
func QueuedKey(scid, template, name, id string) Key {
	return Key{prefixSession + scid + "#" + template + "#" + name, PrefixQueued + id}
}

// HandleKey is the key of handle id (sessions.Handle).
func HandleKey(id string) Key { return Key{prefixHandle + id, SKHandle} }

// ConnectionKey is the key of real-time activity connection id
// (rta.Connection).
func ConnectionKey(id string) Key { return Key{prefixConn + id, SKConn} }

// ActivityKey is the key of player x's activity in scid for one title:
// the copy of its activity handle that the activities query reads.
func ActivityKey(x xbl.XUID, scid, titleID string) Key {
	return Key{UserSCID(x, scid), PrefixActivity + titleID}
}

// HeadKey is the key of a session's head item.
func HeadKey(scid, template, name string) Key {
	return Key{prefixSession + scid + "#" + template + "#" + name, SKHead}
}

// RateKey is the key of a caller's request counts for one service in the
// sustain window that starts at start.
func RateKey(service, titleID string, x xbl.XUID, start time.Time) Key {
	return Key{prefixRate + service + "#" + titleID + "#" + x.String(), strconv.FormatInt(start.Unix(), 10)}
}

// AttrTTL is the attribute DynamoDB's time to live reads (Unix seconds):
// only the rate limiter's counts carry it.
const AttrTTL = "ttl"

// UserSCID is the partition of one user's items for one SCID.
func UserSCID(x xbl.XUID, scid string) string { return x.String() + "#" + scid }

// AttrStats is the map attribute that holds statistics: stat name to access
// level on a configuration item, stat name to value on a statistics item.
// Both kinds use one name so that one projection (s.#name...) reads
// exactly the requested statistics of every item of a batch.
const AttrStats = "s"

// ConfigItem is a SCID's configuration.
type ConfigItem struct {
	Key
	SCID      string            `dynamodbav:"scid"`
	TitleIDs  []string          `dynamodbav:"titleIds"`
	Sandboxes []string          `dynamodbav:"sandboxes"`
	Stats     map[string]string `dynamodbav:"s,omitempty"` // name → access level
	// Leaderboards are left out of an item that has none, so that such an
	// item is as it was before leaderboards were configured.
	Leaderboards []LeaderboardItem `dynamodbav:"leaderboards,omitempty"` // in StatKey order
	// SessionTemplates are the SCID's session templates (name → constants,
	// as sessions.EncodeTemplate wrote them), left out when it names none.
	SessionTemplates map[string]string `dynamodbav:"sessionTemplates,omitempty"`
}

// LeaderboardItem is one leaderboard of a configuration item.
type LeaderboardItem struct {
	Stat string `dynamodbav:"stat"` // as configured
	Sort string `dynamodbav:"sort"` // SortAscending or SortDescending
	Type string `dynamodbav:"type"` // Integer or Double
	// Lanes is xbl.Leaderboard.Lanes; left out when the default.
	Lanes int `dynamodbav:"lanes,omitempty"`
}

// The sort orders a LeaderboardItem holds.
const (
	SortAscending  = "ascending"
	SortDescending = "descending"
)

// NewConfigItem returns c's item.
func NewConfigItem(c xbl.ServiceConfig) ConfigItem {
	it := ConfigItem{Key: ConfigKey(c.SCID), SCID: c.SCID, TitleIDs: nonNil(c.TitleIDs), Sandboxes: nonNil(c.Sandboxes), Stats: map[string]string{}}
	for name, acc := range c.Stats {
		it.Stats[xbl.StatKey(name)] = string(acc)
	}
	for _, key := range slices.Sorted(maps.Keys(c.Leaderboards)) {
		lb := c.Leaderboards[key]
		order := SortDescending
		if lb.Ascending {
			order = SortAscending
		}
		it.Leaderboards = append(it.Leaderboards, LeaderboardItem{Stat: lb.Stat, Sort: order, Type: string(cmp.Or(lb.Type, xbl.Integer)), Lanes: lb.Lanes})
	}
	if len(c.SessionTemplates) > 0 {
		it.SessionTemplates = make(map[string]string, len(c.SessionTemplates))
		for name, t := range c.SessionTemplates {
			it.SessionTemplates[name] = string(t.Constants)
		}
	}
	return it
}

// Config returns the configuration the item holds; scid is its canonical
// SCID (a projection may leave the scid attribute out). Leaderboards is
// nil when the item has none.
func (it *ConfigItem) Config(scid string) *xbl.ServiceConfig {
	c := &xbl.ServiceConfig{SCID: scid, TitleIDs: it.TitleIDs, Sandboxes: it.Sandboxes, Stats: make(map[string]xbl.Access, len(it.Stats))}
	for name, acc := range it.Stats {
		c.Stats[name] = xbl.Access(acc)
	}
	if len(it.Leaderboards) > 0 {
		c.Leaderboards = make(map[string]xbl.Leaderboard, len(it.Leaderboards))
	}
	for _, lb := range it.Leaderboards {
		c.Leaderboards[xbl.StatKey(lb.Stat)] = xbl.Leaderboard{
			Stat:      lb.Stat,
			Ascending: lb.Sort == SortAscending,
			Type:      cmp.Or(xbl.StatType(lb.Type), xbl.Integer),
			Lanes:     lb.Lanes,
		}
	}
	if len(it.SessionTemplates) > 0 {
		c.SessionTemplates = make(map[string]xbl.SessionTemplate, len(it.SessionTemplates))
		for name, constants := range it.SessionTemplates {
			c.SessionTemplates[name] = xbl.SessionTemplate{Constants: []byte(constants)}
		}
	}
	return c
}

// ProfileItem is a user's profile.
type ProfileItem struct {
	Key
	XUID     string `dynamodbav:"xuid"`
	Gamertag string `dynamodbav:"gamertag"`
}

// NewProfileItem returns p's item.
func NewProfileItem(p xbl.Profile) ProfileItem {
	return ProfileItem{Key: ProfileKey(p.XUID), XUID: p.XUID.String(), Gamertag: p.Gamertag}
}

// Marshal encodes an item struct.
func Marshal(item any) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(item)
}

// Unmarshal decodes an item into an item struct, numbers inside any-typed
// fields as attributevalue.Number (never through float64).
func Unmarshal(av map[string]types.AttributeValue, item any) error {
	return attributevalue.UnmarshalMapWithOptions(av, item, func(o *attributevalue.DecoderOptions) { o.UseNumber = true })
}

// ParseUserSCID splits a {xuid}#{scid} partition key.
func ParseUserSCID(pk string) (xbl.XUID, string, bool) {
	for i := 0; i < len(pk); i++ {
		if pk[i] == '#' {
			x, err := xbl.ParseXUID(pk[:i])
			return x, pk[i+1:], err == nil
		}
	}
	return 0, "", false
}

// ItemKind names an item's kind from its key, for logs and counts: config,
// profile, stats, session (document), head, keyword or membership.
func ItemKind(k Key) string {
	switch {
	case k.SK == SKConfig:
		return "config"
	case k.SK == SKProfile:
		return "profile"
	case k.SK == SKStats:
		return "stats"
	case k.SK == SKHead:
		return "head"
	case len(k.PK) > len(prefixSession) && k.PK[:len(prefixSession)] == prefixSession:
		return "session"
	case len(k.PK) > len(prefixKeyword) && k.PK[:len(prefixKeyword)] == prefixKeyword:
		return "keyword"
	}
	return "membership"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

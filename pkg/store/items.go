package store

import (
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/pkg/xbl"
)

// Sort keys and key prefixes of the item kinds (see the package comment).
const (
	skStats         = "stats"
	skProfile       = "profile"
	skConfig        = "config"
	prefixProfile   = "profile#"
	prefixConfig    = "scid#"
	prefixKeyword   = "keyword#"
	prefixSession   = "session#"
	prefixMemberSK  = "session#"
	timeLayoutStore = "2006-01-02T15:04:05.0000000Z"
)

// Key is an item's primary key.
type Key struct{ PK, SK string }

func (k Key) av() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: s(k.PK), AttrSK: s(k.SK)}
}

// StatsKey is the key of a user's statistics for one SCID.
func StatsKey(x xbl.XUID, scid string) Key { return Key{userSCID(x, scid), skStats} }

// ProfileKey is the key of a user's profile.
func ProfileKey(x xbl.XUID) Key { return Key{prefixProfile + x.String(), skProfile} }

// ConfigKey is the key of a SCID's configuration.
func ConfigKey(scid string) Key { return Key{prefixConfig + scid, skConfig} }

// MembershipKey is the key of a user's membership in a session.
func MembershipKey(x xbl.XUID, scid, template, name string) Key {
	return Key{userSCID(x, scid), prefixMemberSK + template + "#" + name}
}

// KeywordKey is the key of a keyword index entry for a session.
func KeywordKey(scid, keyword, template, name string) Key {
	return Key{prefixKeyword + scid + "#" + keyword, template + "#" + name}
}

// SessionKey is the key of a session item.
func SessionKey(scid, template, name string) Key {
	return Key{prefixSession + scid, template + "#" + name}
}

func userSCID(x xbl.XUID, scid string) string { return x.String() + "#" + scid }

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

func strList(vs []string) types.AttributeValue {
	l := make([]types.AttributeValue, len(vs))
	for i, v := range vs {
		l[i] = s(v)
	}
	return &types.AttributeValueMemberL{Value: l}
}

func item(k Key, attrs map[string]types.AttributeValue) map[string]types.AttributeValue {
	attrs[AttrPK] = s(k.PK)
	attrs[AttrSK] = s(k.SK)
	return attrs
}

// statPrefix starts the attribute of a statistic: the stat's access level on
// a configuration item, its value on a statistics item. Statistics are
// top-level attributes, not entries of one map, so that a read can project
// exactly the requested names of every item kind in one short expression.
const statPrefix = "s:"

// StatAttr is the attribute name of the named statistic.
func StatAttr(name string) string { return statPrefix + name }

func configItem(c xbl.ServiceConfig) map[string]types.AttributeValue {
	a := map[string]types.AttributeValue{
		"scid":      s(c.SCID),
		"titleIds":  strList(c.TitleIDs),
		"sandboxes": strList(c.Sandboxes),
	}
	for name, acc := range c.Stats {
		a[StatAttr(name)] = s(string(acc))
	}
	return item(ConfigKey(c.SCID), a)
}

func profileItem(p xbl.Profile) map[string]types.AttributeValue {
	return item(ProfileKey(p.XUID), map[string]types.AttributeValue{
		"xuid":     s(p.XUID.String()),
		"gamertag": s(p.Gamertag),
	})
}

// statsItem stores each statistic as s:{name} = {t: type, v: value}, the
// value a number for Integer and Double, a string for String.
func statsItem(u xbl.UserStats) map[string]types.AttributeValue {
	a := map[string]types.AttributeValue{
		"xuid": s(u.XUID.String()),
		"scid": s(u.SCID),
	}
	for name, v := range u.Stats {
		var val types.AttributeValue
		if v.Type == xbl.String {
			val = s(v.Value)
		} else {
			val = n(v.Value)
		}
		a[StatAttr(name)] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"t": s(string(v.Type)), "v": val}}
	}
	return item(StatsKey(u.XUID, u.SCID), a)
}

// sessionAttrs are the session fields a query returns, denormalized onto
// membership and keyword items.
func sessionAttrs(ss *xbl.Session) map[string]types.AttributeValue {
	a := map[string]types.AttributeValue{
		"scid":       s(ss.SCID),
		"template":   s(ss.Template),
		"name":       s(ss.Name),
		"startTime":  s(ss.StartTime.UTC().Format(timeLayoutStore)),
		"version":    n(strconv.Itoa(ss.Version)),
		"visibility": s(string(ss.Visibility)),
		"keywords":   strList(ss.Keywords),
		"accepted":   n(strconv.Itoa(ss.Accepted())),
	}
	if ss.JoinRestriction != "" {
		a["joinRestriction"] = s(ss.JoinRestriction)
	}
	return a
}

func sessionItem(ss *xbl.Session) map[string]types.AttributeValue {
	a := sessionAttrs(ss)
	members := make([]types.AttributeValue, len(ss.Members))
	for i, m := range ss.Members {
		members[i] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"xuid":   s(m.XUID.String()),
			"status": s(string(m.Status)),
			"myTurn": &types.AttributeValueMemberBOOL{Value: m.MyTurn},
		}}
	}
	a["members"] = &types.AttributeValueMemberL{Value: members}
	return item(SessionKey(ss.SCID, ss.Template, ss.Name), a)
}

func membershipItem(ss *xbl.Session, m xbl.Member) map[string]types.AttributeValue {
	a := sessionAttrs(ss)
	a["xuid"] = s(m.XUID.String())
	a["status"] = s(string(m.Status))
	a["myTurn"] = &types.AttributeValueMemberBOOL{Value: m.MyTurn}
	return item(MembershipKey(m.XUID, ss.SCID, ss.Template, ss.Name), a)
}

func keywordItem(ss *xbl.Session, keyword string) map[string]types.AttributeValue {
	return item(KeywordKey(ss.SCID, keyword, ss.Template, ss.Name), sessionAttrs(ss))
}

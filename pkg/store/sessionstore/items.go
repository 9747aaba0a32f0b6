package sessionstore

import (
	"time"

	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// DocItem is a session's whole document (sessions.Doc.Encoded, as
// stored), with its ETag beside it for conditional writes. Only a GET or
// PUT of the session reads it. Copies records whether the session's index
// entries carry a copy of its head.
//
// TTL is set while the session holds reservations only (its last member
// left, or a server reserved seats for players who never came): the
// latest expiry of them, when the session ends (reads treat it as gone
// from then), so that DynamoDB's time to live deletes its document, head
// and copies of the head after it, whoever made it. 0 otherwise.
type DocItem struct {
	store.Key
	ETag   string `dynamodbav:"etag"`
	Doc    string `dynamodbav:"doc"`
	Copies bool   `dynamodbav:"copies,omitempty"`
	TTL    int64  `dynamodbav:"ttl,omitempty"`
}

// HeadFields are what the session directory query needs of a session: its
// head, as a head item and an index entry's copy store it.
type HeadFields struct {
	Template        string       `dynamodbav:"template"`
	Name            string       `dynamodbav:"name"`
	StartTime       string       `dynamodbav:"startTime"` // store.TimeLayout
	Version         int          `dynamodbav:"version,omitempty"`
	Visibility      string       `dynamodbav:"visibility,omitempty"`
	MaxMembers      int          `dynamodbav:"max,omitempty"`
	JoinRestriction string       `dynamodbav:"joinRestriction,omitempty"`
	Keywords        []string     `dynamodbav:"keywords,omitempty"`
	Turn            []int        `dynamodbav:"turn,omitempty"`
	Members         []HeadMember `dynamodbav:"m,omitempty"`
}

// HeadMember is one member in a head.
type HeadMember struct {
	XUID   string `dynamodbav:"x"`
	Index  int    `dynamodbav:"i"`
	Status string `dynamodbav:"s"`           // active, ready, inactive or reserved
	Until  int64  `dynamodbav:"u,omitempty"` // when the member ends by itself (sessions.Member.Ends), Unix ms; 0 for never
}

// Item is a session's head item (store.HeadKey), or one of its membership
// and keyword index entries, found in answer order.
//
// A head item is what the session directory query reads of a session
// whose entries carry no copy of it: one per session, written with its
// document in one transaction, so that a query row is always one version
// of the session. An index entry with Copy set carries a copy of the head,
// written in the same transaction as the document (so a query needs
// nothing else); otherwise it holds only where the head is. A membership
// entry carries the member's Index, so that removing an entry late never
// removes a newer one of the same user.
type Item struct {
	store.Key
	HeadFields
	Index *int `dynamodbav:"i,omitempty"`
	Copy  bool `dynamodbav:"c,omitempty"`
}

// Head is the key of the head item an index entry points at.
func (p *Item) Head(scid string) store.Key { return store.HeadKey(scid, p.Template, p.Name) }

// MemberEntries returns the two membership entries of user x, member
// index of the session (scid, template, name) that started at start.
func MemberEntries(x xbl.XUID, index int, scid, template, name string, start time.Time) [2]Item {
	var out [2]Item
	for i, k := range store.MembershipKeys(x, scid, template, name, start) {
		out[i] = Item{Key: k, HeadFields: HeadFields{Template: template, Name: name, StartTime: start.UTC().Format(store.TimeLayout)}, Index: &index}
	}
	return out
}

// KeywordEntries returns the two index entries of keyword for the session
// (scid, template, name) that started at start.
func KeywordEntries(keyword, scid, template, name string, start time.Time) [2]Item {
	var out [2]Item
	for i, k := range store.KeywordKeys(scid, keyword, template, name, start) {
		out[i] = Item{Key: k, HeadFields: HeadFields{Template: template, Name: name, StartTime: start.UTC().Format(store.TimeLayout)}}
	}
	return out
}

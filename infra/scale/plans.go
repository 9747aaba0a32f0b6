package main

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/ratelimit"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/rankstore"
	"github.com/xblread/xblread/pkg/store/sessionstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// A plan is what one request asks of DynamoDB: one access per item (or,
// for a Query, per partition range read), with the units DynamoDB bills
// for it. Plans are built from the service's own key functions
// (pkg/store's StatsKey, SessionKey, KeywordPK, RateKey...) and write
// plans (rankstore.Plan, sessionstore.ItemsOf), so that a change of
// the keys or of what a write touches changes the simulation; plans_test
// holds each plan to the calls the real store makes for the same request
// on DynamoDB Local.
type plan []access

// access is one item's (or one Query's) share of a request.
type access struct {
	call  string    // the DynamoDB operation: GetItem, Query, BatchGetItem, PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems
	key   store.Key // the item; SK is "" for a Query (a range of the partition)
	read  float64   // read units
	write float64   // write units
}

// Sizes the plans assume, from the item encoders and docs/COST.md (where
// `make bench` or the cost tests measured them).
const (
	statsItemKB = 1 // a document of 10 stats is well under 1 KB: 1 write unit an update
	handleKB    = 1 // a handle or activity item, about 0.4 KB
	connKB      = 1 // a connection item, about 200 bytes
	// A session document is about 0.2 KB and 0.2 KB a member (docs/COST.md:
	// a 4-member lobby's under 1 KB, one of 15 members under 4 KB, one of
	// 100 about 22 KB).
	docBaseKB   = 0.2
	docMemberKB = 0.2
	// A leaderboard page of 10 rows at 1,000,000 players: a Query of
	// each of the board's coarse counter partitions (a few dozen counters
	// each: 0.5 unit), of the fine counters of one coarse bucket (1) and
	// of the value counters of one fine bucket (0.5), then one of each of
	// its entry lanes, 0.5 unit each (a few entries each: under 4 KB);
	// docs/RESULTS.md, `go run ./infra/bench -only leaderboards`.
	pageCoarseUnits = 0.5
	pageFineUnits   = 1
	pageValueUnits  = 0.5
	pageEntryUnits  = 0.5
	pageTopUnits    = 1 // a full top item, about 7 KB
	// A keyword query's rows (entries carrying copies of their session's
	// head, about 0.35 KB) of a page of 25: 9 KB, 1.5 units.
	keywordQueryUnits = 1.5
)

// readUnits is the read units of an item of kb kilobytes read strongly
// consistent (1 per 4 KB) or not (half that).
func readUnits(kb float64, strong bool) float64 {
	u := math.Ceil(kb / 4)
	if u < 1 {
		u = 1
	}
	if !strong {
		u /= 2
	}
	return u
}

// writeUnits is the write units of a write of an item of kb kilobytes
// (1 per KB, twice that in a transaction).
func writeUnits(kb float64, transact bool) float64 {
	u := math.Ceil(kb)
	if u < 1 {
		u = 1
	}
	if transact {
		u *= 2
	}
	return u
}

// docKB is the size of a session document of n members.
func docKB(n int) float64 { return docBaseKB + docMemberKB*float64(n) }

// rateCount is the limiter's count of a player's request: one UpdateItem
// of its counts item for the service's sustain window (ratestore).
func rateCount(service, titleID string, x xbl.XUID, now time.Time) access {
	return access{call: "UpdateItem", key: store.RateKey(service, titleID, x, now.Truncate(ratelimit.SustainWindow)), write: 1}
}

// statsWrite is a title-managed statistics write (POST or PATCH of an
// existing document): one conditional UpdateItem of the player's item.
func statsWrite(x xbl.XUID, scid string) plan {
	return plan{{call: "UpdateItem", key: store.StatsKey(x, scid), write: writeUnits(statsItemKB, false)}}
}

// statsBatch is a batch read of users × SCIDs: one BatchGetItem item each,
// eventually consistent.
func statsBatch(users []xbl.XUID, scids []string) plan {
	var p plan
	for _, s := range scids {
		for _, u := range users {
			p = append(p, access{call: "BatchGetItem", key: store.StatsKey(u, s), read: readUnits(statsItemKB, false)})
		}
	}
	return p
}

// moves is what the index writes for a second's ranked writes
// (rankstore.Plan, the code rankstore.Apply and its folds run): the
// moves in stream batches of batch records, each batch's transactions
// (entries and a journal per board), then the folds of the journals
// into the counters. One access per item, with its units.
func moves(ms []leaderboards.Move, batch int) plan {
	h := rankstore.Plan(ms, batch)
	p := make(plan, 0, len(h.Units))
	for _, k := range slices.SortedFunc(maps.Keys(h.Units), func(a, b store.Key) int {
		return cmp.Or(strings.Compare(a.PK, b.PK), strings.Compare(a.SK, b.SK))
	}) {
		p = append(p, access{call: "TransactWriteItems", key: k, write: h.Units[k]})
	}
	return p
}

// page is a leaderboard page of 10 rows (from a rank, or after a token)
// located at c: a Query of each of the board's coarse counter partitions
// and of the fine and value counters of c's buckets
// (rankstore.LevelPKs), and one of each lane of its entries
// (rankstore.EntryLanePKs), each at least half a unit. (The top page is
// read from the board's top item and its coarse counters: cheaper; every
// page is counted as this one.)
func page(b *leaderboards.Board, c leaderboards.Cursor) plan {
	var p plan
	pks := rankstore.LevelPKs(b, c)
	for i, pk := range pks {
		u := pageCoarseUnits
		switch i {
		case len(pks) - 2:
			u = pageFineUnits
		case len(pks) - 1:
			u = pageValueUnits
		}
		p = append(p, access{call: "Query", key: store.Key{PK: pk}, read: u})
	}
	for _, pk := range rankstore.EntryLanePKs(b) {
		p = append(p, access{call: "Query", key: store.Key{PK: pk}, read: pageEntryUnits})
	}
	return p
}

// topPage is a leaderboard page of 10 rows within the board's top item
// (rankstore.TopRows rows: a page from rank 1 to 91): the top item's
// GetItem (about 7 KB: 1 unit) and a Query of each coarse counter
// partition, for the total.
func topPage(b *leaderboards.Board) plan {
	p := plan{{call: "GetItem", key: rankstore.TopKey(b), read: pageTopUnits}}
	for _, pk := range rankstore.CoarsePKs(b) {
		p = append(p, access{call: "Query", key: store.Key{PK: pk}, read: pageCoarseUnits})
	}
	return p
}

// lobby is a simulated session: what its keys and write plans are made of.
type lobby struct {
	scid, template, name string
	start                time.Time
	members              []xbl.XUID
	keywords             []string
}

// doc is l as the rules would hand it to the store.
func (l *lobby) doc() *sessions.Doc {
	d := &sessions.Doc{SCID: l.scid, Template: l.template, Name: l.name, StartTime: l.start, Keywords: l.keywords, Encoded: []byte("{}")}
	for i, x := range l.members {
		d.Members = append(d.Members, sessions.Member{Index: i, XUID: x})
	}
	return d
}

// pointers are l's index entries (sessionstore.ItemsOf): two per member,
// two per keyword.
func (l *lobby) pointers() []store.Key {
	if l == nil || len(l.members) == 0 {
		return nil
	}
	it, err := sessionstore.ItemsOf(l.doc(), true)
	if err != nil {
		panic(err) // the doc always has its encoding
	}
	out := make([]store.Key, len(it.Pointers))
	for i := range it.Pointers {
		out[i] = it.Pointers[i].Key
	}
	return out
}

// sessionWrite is a session PUT that changes prev into next (a create
// when prev has no member, the last leave when next has none), as
// sessionstore's SaveSession makes it: a strongly consistent GetItem of
// the document, the claim's UpdateItem, and one transaction of the
// document, the claim's delete, the head and the index entries (every
// entry of next when they carry copies of the head, at most
// sessionstore.MaxCopyEntries; otherwise the changed ones, outside the
// transaction).
func sessionWrite(prev, next *lobby) plan {
	ref := next
	if ref == nil || len(ref.members) == 0 {
		ref = prev
	}
	sk := store.SessionKey(ref.scid, ref.template, ref.name)
	ck := store.ClaimKey(ref.scid, ref.template, ref.name)
	hk := store.HeadKey(ref.scid, ref.template, ref.name)
	var before, after []store.Key
	nBefore, nAfter := 0, 0
	if prev != nil {
		before, nBefore = prev.pointers(), len(prev.members)
	}
	if next != nil {
		after, nAfter = next.pointers(), len(next.members)
	}
	p := plan{{call: "GetItem", key: sk, read: readUnits(docKB(max(nBefore, 1)), true)}}
	if nBefore > 0 {
		p = append(p, access{call: "UpdateItem", key: ck, write: 1})
	}
	tw := func(k store.Key, kb float64) access {
		return access{call: "TransactWriteItems", key: k, write: writeUnits(kb, true)}
	}
	if nAfter == 0 { // the last member left: everything goes
		p = append(p, tw(sk, docKB(nBefore)), tw(hk, 0.3), tw(ck, 0.1))
		for _, k := range before {
			p = append(p, tw(k, 0.3))
		}
		return p
	}
	p = append(p, tw(sk, docKB(nAfter)), tw(hk, 0.3))
	if nBefore > 0 {
		p = append(p, tw(ck, 0.1))
	}
	added, removed := diffKeys(before, after)
	if len(after) <= sessionstore.MaxCopyEntries {
		for _, k := range after {
			p = append(p, tw(k, 0.5))
		}
		for _, k := range removed {
			p = append(p, tw(k, 0.3))
		}
		return p
	}
	// Entries without copies: the new ones first, or, when the stored
	// entries carried copies, every entry that stays or goes, rewritten
	// without its copy (BatchWriteItem, outside the transaction).
	first := added
	if nBefore > 0 && len(before) <= sessionstore.MaxCopyEntries {
		first = append(slices.Clone(after), removed...)
	}
	for _, k := range first {
		p = append(p, access{call: "BatchWriteItem", key: k, write: 1})
	}
	for _, k := range removed {
		p = append(p, access{call: "DeleteItem", key: k, write: 1})
	}
	return p
}

// diffKeys returns the keys of after not in before, and of before not in
// after.
func diffKeys(before, after []store.Key) (added, removed []store.Key) {
	in := make(map[store.Key]bool, len(before))
	for _, k := range before {
		in[k] = true
	}
	out := make(map[store.Key]bool, len(after))
	for _, k := range after {
		out[k] = true
		if !in[k] {
			added = append(added, k)
		}
	}
	for _, k := range before {
		if !out[k] {
			removed = append(removed, k)
		}
	}
	return added, removed
}

// sessionGet is a GET of a session's document (strongly consistent), as
// Multiplayer Manager reads it after a tap.
func sessionGet(l *lobby) plan {
	return plan{{call: "GetItem", key: store.SessionKey(l.scid, l.template, l.name), read: readUnits(docKB(len(l.members)), true)}}
}

// keywordQuery is a session directory query by keyword: one Query of the
// keyword's index partition.
func keywordQuery(scid, keyword string) plan {
	return plan{{call: "Query", key: store.Key{PK: store.KeywordPK(scid, keyword)}, read: keywordQueryUnits}}
}

// sessionBatch is the sessions of xuids (the batch query): one Query of
// each xuid's memberships, 0.5 unit each.
func sessionBatch(scid string, xuids []xbl.XUID) plan {
	var p plan
	for _, x := range xuids {
		p = append(p, access{call: "Query", key: store.Key{PK: store.UserSCID(x, scid)}, read: 0.5})
	}
	return p
}

// postActivity is a member posting its session's activity handle: the
// session's GetItem, the handle's and the owner's activity's PutItem.
func postActivity(l *lobby, owner xbl.XUID, titleID, handleID string) plan {
	return plan{
		{call: "GetItem", key: store.SessionKey(l.scid, l.template, l.name), read: readUnits(docKB(len(l.members)), true)},
		{call: "PutItem", key: store.HandleKey(handleID), write: writeUnits(handleKB, false)},
		{call: "PutItem", key: store.ActivityKey(owner, l.scid, titleID), write: writeUnits(handleKB, false)},
	}
}

// activityQuery is the activities of owners (POST /handles/query): one
// Query of each owner's activity, and a GetItem of each distinct session
// found.
func activityQuery(scid, titleID string, owners []xbl.XUID, found []*lobby) plan {
	var p plan
	for _, x := range owners {
		p = append(p, access{call: "Query", key: store.Key{PK: store.ActivityKey(x, scid, titleID).PK}, read: 0.5})
	}
	for _, l := range found {
		p = append(p, sessionGet(l)...)
	}
	return p
}

// joinByHandle is a PUT /handles/{id}/session: the handle's GetItem, then
// the session write.
func joinByHandle(handleID string, prev, next *lobby) plan {
	return append(plan{{call: "GetItem", key: store.HandleKey(handleID), read: readUnits(handleKB, true)}}, sessionWrite(prev, next)...)
}

// Real-time activity: a connection's item is read strongly consistent
// (BatchGetItem) and written whole.
func rtaConnect(id string) plan {
	return plan{{call: "PutItem", key: store.ConnectionKey(id), write: writeUnits(connKB, false)}}
}

func rtaSubscribe(id string) plan {
	return plan{
		{call: "BatchGetItem", key: store.ConnectionKey(id), read: readUnits(connKB, true)},
		{call: "PutItem", key: store.ConnectionKey(id), write: writeUnits(connKB, false)},
	}
}

func rtaDisconnect(id string) plan {
	return plan{
		{call: "BatchGetItem", key: store.ConnectionKey(id), read: readUnits(connKB, true)},
		{call: "DeleteItem", key: store.ConnectionKey(id), write: writeUnits(connKB, false)},
	}
}

// notify is the notifier's work for one change of a session whose
// members name the connections conns: a strongly consistent read of each
// (one BatchGetItem per 100), and, for each member that starts naming
// one, the presence note on its connection (UpdateItem).
func notify(conns []string, newConns []string) plan {
	var p plan
	for _, id := range conns {
		p = append(p, access{call: "BatchGetItem", key: store.ConnectionKey(id), read: readUnits(connKB, true)})
	}
	for _, id := range newConns {
		p = append(p, access{call: "UpdateItem", key: store.ConnectionKey(id), write: 1})
	}
	return p
}

// The session write queue (sessions.Queue, sessionstore's queue.go): a
// write that loses a race stores itself in the session's partition, polls
// for its reply (and tries the claim), and a combining commit applies up
// to 40 waiting writes at once.

// enqueue is a losing write storing itself: one PutItem.
func enqueue(l *lobby, id string) plan {
	return plan{{call: "PutItem", key: store.QueuedKey(l.scid, l.template, l.name, id), write: 1}}
}

// poll is one look for a reply: its strongly consistent GetItem, and a
// try of the claim (charged when its condition fails).
func poll(l *lobby, id string) plan {
	return plan{
		{call: "GetItem", key: store.QueuedKey(l.scid, l.template, l.name, id), read: 1},
		{call: "UpdateItem", key: store.ClaimKey(l.scid, l.template, l.name), write: 1},
	}
}

// combine is a combining commit of the writes ids turning prev into next:
// the claim, the document's and the waiting writes' reads (a GetItem and a
// strongly consistent Query of the session's partition), the commit, one
// reply per write in its transaction; then each writer deletes its item
// and reads the session for its answer.
func combine(prev, next *lobby, ids []string) plan {
	ck := store.ClaimKey(prev.scid, prev.template, prev.name)
	p := plan{{call: "UpdateItem", key: ck, write: 1}}
	w := sessionWrite(prev, next) // its GetItem of the document, its claim, its commit
	for _, a := range w {
		if a.call == "UpdateItem" && a.key == ck {
			continue // the claim above is the commit's
		}
		p = append(p, a)
	}
	p = append(p, access{call: "Query", key: store.Key{PK: ck.PK}, read: readUnits(0.5*float64(len(ids)), true)})
	for _, id := range ids {
		p = append(p, access{call: "TransactWriteItems", key: store.QueuedKey(prev.scid, prev.template, prev.name, id), write: 2})
	}
	for _, id := range ids {
		p = append(p, access{call: "DeleteItem", key: store.QueuedKey(prev.scid, prev.template, prev.name, id), write: 1})
		p = append(p, sessionGet(next)...)
	}
	return p
}

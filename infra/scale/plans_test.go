package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/ratelimit"
	"github.com/xblread/xblread/pkg/rta"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/rankstore"
	"github.com/xblread/xblread/pkg/store/ratestore"
	"github.com/xblread/xblread/pkg/store/rtastore"
	"github.com/xblread/xblread/pkg/store/sessionstore"
	"github.com/xblread/xblread/pkg/store/statstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// The plan tests hold each plan of plans.go to the DynamoDB calls the
// service's own code makes for the same request on DynamoDB Local: the
// store adapters, driven through the domain services (stats, sessions,
// rta) where those add calls of their own, on a client whose requests
// ddbtest counts. Each request's calls, parsed from the request bodies,
// are a multiset of (operation, partition key, sort key): every item of a
// GetItem, PutItem, UpdateItem, DeleteItem, BatchGetItem, BatchWriteItem
// and TransactWriteItems, and the partition of a Query (sort key "", as a
// plan writes it). It must equal the plan's (call, key) multiset, first
// by partition (what the simulator's heat is counted by), then by item.
//
// Left out of the comparison, as the plans leave them out:
//   - the reads of SCID configurations (scid#... items): the functions
//     cache them (configcache);
//   - the rate limiter's count, which the simulator adds to every request
//     as an access of its own (rateCount, checked on its own here).
//
// Requests whose calls depend on what the store holds are run in the case
// the plan describes, and what else they may do is named where it is left
// out: a PATCH creating a document, a leaderboard page around a player, a
// disconnect of a connection noted in sessions.
//
// Units are logged beside each request (go test -v), not compared:
// DynamoDB Local reports them as AWS bills only for single-item calls
// that succeed. It under-reports transactions (2 write units for a move
// of 4 small items, which AWS bills 8) and batch reads (1.5 read units
// for 10 eventually consistent items, which AWS bills 5), and reports
// nothing for a write whose condition failed (billed by AWS).
//
// With -short (make test-unit) ddbtest starts no DynamoDB Local and these
// tests skip.

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

// The tests' SCIDs, title and clock.
const (
	ptSCID  = "7492baca-c1b4-440d-a391-b7ef364a8d40"
	ptSCID2 = "c402ff50-3e76-11e2-a25f-0800200c1212"
	ptTitle = "1297287135"
)

var ptNow = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// ptConfigs are the tests' SCID configurations, as a fixture.
const ptConfigs = `{"serviceConfigs": [
	{"scid": "` + ptSCID + `", "titleIds": ["` + ptTitle + `"], "sandboxes": ["RETAIL"], "stats": {"score": "open", "kills": "open"}},
	{"scid": "` + ptSCID2 + `", "titleIds": ["` + ptTitle + `"], "sandboxes": ["RETAIL"], "stats": {"score": "open", "kills": "open"}}
]}`

func ptPlayer(x xbl.XUID) *xbl.Caller {
	return &xbl.Caller{XUID: x, Gamertag: fmt.Sprint("P", x), TitleID: ptTitle, Sandbox: "RETAIL"}
}

// ptCall is one item (or, for a Query, one partition) a request touches.
type ptCall struct{ op, pk, sk string }

func (c ptCall) String() string {
	if c.sk == "" {
		return c.op + " " + c.pk
	}
	return c.op + " " + c.pk + " | " + c.sk
}

// ptEnv is a table of the test's own on DynamoDB Local, holding the
// tests' configurations, and a client on it whose calls are counted.
type ptEnv struct {
	t       *testing.T
	table   store.Table // counted
	plain   store.Table // the same table, not counted (setup)
	counter *ddbtest.Counter
	units   *ptUnits
}

func newPTEnv(t *testing.T) *ptEnv {
	t.Helper()
	plain := ddbtest.EmptyTable(t)
	ddbtest.LoadText(t, plain, ptConfigs)
	client, counter := ddbtest.CountingClient(t)
	units := &ptUnits{}
	return &ptEnv{t: t, table: store.Table{Client: ptWithUnits(client, units), Name: plain.Name}, plain: plain, counter: counter, units: units}
}

// check runs one request (do) and compares its calls with want.
func (e *ptEnv) check(name string, want plan, do func() error) {
	e.t.Helper()
	e.counter.Reset()
	e.units.reset()
	if err := do(); err != nil {
		e.t.Fatalf("%s: %v", name, err)
	}
	got := ptCallsOf(e.t, e.counter)
	if msg := ptCompare(got, ptPlanCalls(want)); msg != "" {
		e.t.Errorf("%s: the plan is not the real calls%s", name, msg)
	}
	var wr, ww float64
	for _, a := range want {
		wr += a.read
		ww += a.write
	}
	r, w := e.units.get()
	e.t.Logf("%-40s units: plan %5.2f read %5.2f write; DynamoDB Local %5.2f read %5.2f write (configuration reads left out)", name, wr, ww, r, w)
}

// checkWrites is check for the index's moves: the items the real calls
// write (a failed condition included), as a set, are those p writes.
// Journals and parts are named by their partition: their sort keys are
// fresh ids.
func (e *ptEnv) checkWrites(name string, want plan, do func() error) {
	e.t.Helper()
	e.counter.Reset()
	if err := do(); err != nil {
		e.t.Fatalf("%s: %v", name, err)
	}
	norm := func(c ptCall) ptCall {
		if strings.HasPrefix(c.pk, "lbj#") {
			c.sk = "*"
		}
		c.op = ""
		return c
	}
	got, wanted := map[ptCall]bool{}, map[ptCall]bool{}
	for _, c := range ptCallsOf(e.t, e.counter) {
		switch c.op {
		case "TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem":
			got[norm(c)] = true
		}
	}
	for _, c := range ptPlanCalls(want) {
		wanted[norm(c)] = true
	}
	if d := ptDiff(slices.Collect(maps.Keys(got)), slices.Collect(maps.Keys(wanted))); d != "" {
		e.t.Errorf("%s: the plan's writes are not the real ones:%s", name, d)
	}
}

// ptPlanCalls is p as ptCalls.
func ptPlanCalls(p plan) []ptCall {
	out := make([]ptCall, len(p))
	for i, a := range p {
		out[i] = ptCall{a.call, a.key.PK, a.key.SK}
	}
	return out
}

// ptCompare compares got and want as multisets, first by (operation,
// partition), then by item; "" when they are equal.
func ptCompare(got, want []ptCall) string {
	byPK := func(cs []ptCall) []ptCall {
		out := make([]ptCall, len(cs))
		for i, c := range cs {
			out[i] = ptCall{op: c.op, pk: c.pk}
		}
		return out
	}
	if d := ptDiff(byPK(got), byPK(want)); d != "" {
		return " (by partition):" + d + ptList("real calls", got) + ptList("plan", want)
	}
	if d := ptDiff(got, want); d != "" {
		return " (by item; the partitions agree):" + d + ptList("real calls", got) + ptList("plan", want)
	}
	return ""
}

// ptDiff lists what got has more of than want, and less.
func ptDiff(got, want []ptCall) string {
	n := map[ptCall]int{}
	for _, c := range got {
		n[c]++
	}
	for _, c := range want {
		n[c]--
	}
	var b strings.Builder
	for _, c := range slices.SortedFunc(maps.Keys(n), ptCmp) {
		switch d := n[c]; {
		case d > 0:
			fmt.Fprintf(&b, "\n\treal calls have %d more: %v", d, c)
		case d < 0:
			fmt.Fprintf(&b, "\n\tthe plan has %d more:   %v", -d, c)
		}
	}
	return b.String()
}

func ptList(title string, cs []ptCall) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n\t%s (%d):", title, len(cs))
	for _, c := range slices.SortedFunc(slices.Values(cs), ptCmp) {
		fmt.Fprintf(&b, "\n\t\t%v", c)
	}
	return b.String()
}

func ptCmp(a, b ptCall) int { return strings.Compare(a.String(), b.String()) }

// ptCallsOf parses the request bodies the counter holds into calls,
// leaving out the reads of configuration items.
func ptCallsOf(t *testing.T, c *ddbtest.Counter) []ptCall {
	t.Helper()
	var out []ptCall
	for _, op := range c.Ops() {
		for _, body := range c.Bodies(op) {
			calls, err := ptParse(op, body)
			if err != nil {
				t.Fatalf("%s %s: %v", op, body, err)
			}
			for _, call := range calls {
				if op == "GetItem" && strings.HasPrefix(call.pk, store.ConfigKey("").PK) {
					continue // a configuration read: cached by the functions
				}
				out = append(out, call)
			}
		}
	}
	return out
}

// ptAV is an item or key in DynamoDB's JSON.
type ptAV map[string]json.RawMessage

// key returns the item's pk and sk.
func (m ptAV) key() (pk, sk string, err error) {
	var p, s struct{ S *string }
	if err := json.Unmarshal(m[store.AttrPK], &p); err != nil || p.S == nil {
		return "", "", fmt.Errorf("no string pk in %v", m)
	}
	if err := json.Unmarshal(m[store.AttrSK], &s); err != nil || s.S == nil {
		return "", "", fmt.Errorf("no string sk in %v", m)
	}
	return *p.S, *s.S, nil
}

// ptKeyName is "name = :value" in a key condition.
var ptKeyName = regexp.MustCompile(`(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)`)

// ptParse returns the calls of one request body of operation op.
func ptParse(op, body string) ([]ptCall, error) {
	var in struct {
		Key, Item     ptAV
		RequestItems  map[string]json.RawMessage
		TransactItems []struct {
			Put                            *struct{ Item ptAV }
			Delete, Update, ConditionCheck *struct{ Key ptAV }
		}
		KeyConditionExpression    string
		ExpressionAttributeNames  map[string]string
		ExpressionAttributeValues map[string]json.RawMessage
	}
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		return nil, err
	}
	var out []ptCall
	add := func(m ptAV) error {
		pk, sk, err := m.key()
		if err == nil {
			out = append(out, ptCall{op, pk, sk})
		}
		return err
	}
	var err error
	switch op {
	case "GetItem", "UpdateItem", "DeleteItem":
		err = add(in.Key)
	case "PutItem":
		err = add(in.Item)
	case "BatchGetItem":
		for _, raw := range in.RequestItems {
			var ka struct{ Keys []ptAV }
			if err := json.Unmarshal(raw, &ka); err != nil {
				return nil, err
			}
			for _, k := range ka.Keys {
				if err := add(k); err != nil {
					return nil, err
				}
			}
		}
	case "BatchWriteItem":
		for _, raw := range in.RequestItems {
			var reqs []struct {
				PutRequest    *struct{ Item ptAV }
				DeleteRequest *struct{ Key ptAV }
			}
			if err := json.Unmarshal(raw, &reqs); err != nil {
				return nil, err
			}
			for _, r := range reqs {
				switch {
				case r.PutRequest != nil:
					err = add(r.PutRequest.Item)
				case r.DeleteRequest != nil:
					err = add(r.DeleteRequest.Key)
				}
				if err != nil {
					return nil, err
				}
			}
		}
	case "TransactWriteItems":
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				err = add(it.Put.Item)
			case it.Delete != nil:
				err = add(it.Delete.Key)
			case it.Update != nil:
				err = add(it.Update.Key)
			case it.ConditionCheck != nil:
				err = add(it.ConditionCheck.Key)
			}
			if err != nil {
				return nil, err
			}
		}
	case "Query":
		// The partition is the value the key condition holds pk to.
		for _, m := range ptKeyName.FindAllStringSubmatch(in.KeyConditionExpression, -1) {
			name := m[1]
			if strings.HasPrefix(name, "#") {
				name = in.ExpressionAttributeNames[name]
			}
			if name != store.AttrPK {
				continue
			}
			var v struct{ S *string }
			if err := json.Unmarshal(in.ExpressionAttributeValues[m[2]], &v); err != nil || v.S == nil {
				return nil, fmt.Errorf("key condition %q: no string value %s", in.KeyConditionExpression, m[2])
			}
			return []ptCall{{op: op, pk: *v.S}}, nil
		}
		return nil, fmt.Errorf("key condition %q names no partition", in.KeyConditionExpression)
	default:
		return nil, fmt.Errorf("an operation no plan knows")
	}
	return out, err
}

// ptUnits adds up the capacity DynamoDB Local reports for the calls of a
// client made by ptWithUnits, which asks for it on every call.
type ptUnits struct {
	mu          sync.Mutex
	read, write float64
}

func (u *ptUnits) reset() { u.mu.Lock(); u.read, u.write = 0, 0; u.mu.Unlock() }

func (u *ptUnits) get() (read, write float64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.read, u.write
}

func (u *ptUnits) add(write bool, cs ...types.ConsumedCapacity) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, c := range cs {
		r, w := aws.ToFloat64(c.ReadCapacityUnits), aws.ToFloat64(c.WriteCapacityUnits)
		if r == 0 && w == 0 {
			if write {
				w = aws.ToFloat64(c.CapacityUnits)
			} else {
				r = aws.ToFloat64(c.CapacityUnits)
			}
		}
		u.read += r
		u.write += w
	}
}

// ptWithUnits returns a client like c (the same HTTP client, so the same
// counter) that asks DynamoDB for the capacity of every call and adds it
// to u, leaving out the reads of configuration items.
func ptWithUnits(c *dynamodb.Client, u *ptUnits) *dynamodb.Client {
	total := types.ReturnConsumedCapacityTotal
	return dynamodb.New(c.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("planTestUnits", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				config := false
				switch v := in.Parameters.(type) {
				case *dynamodb.GetItemInput:
					v.ReturnConsumedCapacity = total
					pk, _ := v.Key[store.AttrPK].(*types.AttributeValueMemberS)
					config = pk != nil && strings.HasPrefix(pk.Value, store.ConfigKey("").PK)
				case *dynamodb.PutItemInput:
					v.ReturnConsumedCapacity = total
				case *dynamodb.UpdateItemInput:
					v.ReturnConsumedCapacity = total
				case *dynamodb.DeleteItemInput:
					v.ReturnConsumedCapacity = total
				case *dynamodb.QueryInput:
					v.ReturnConsumedCapacity = total
				case *dynamodb.BatchGetItemInput:
					v.ReturnConsumedCapacity = total
				case *dynamodb.BatchWriteItemInput:
					v.ReturnConsumedCapacity = total
				case *dynamodb.TransactWriteItemsInput:
					v.ReturnConsumedCapacity = total
				}
				out, md, err := next.HandleInitialize(ctx, in)
				switch v := out.Result.(type) {
				case *dynamodb.GetItemOutput:
					if v.ConsumedCapacity != nil && !config {
						u.add(false, *v.ConsumedCapacity)
					}
				case *dynamodb.QueryOutput:
					if v.ConsumedCapacity != nil {
						u.add(false, *v.ConsumedCapacity)
					}
				case *dynamodb.BatchGetItemOutput:
					u.add(false, v.ConsumedCapacity...)
				case *dynamodb.PutItemOutput:
					if v.ConsumedCapacity != nil {
						u.add(true, *v.ConsumedCapacity)
					}
				case *dynamodb.UpdateItemOutput:
					if v.ConsumedCapacity != nil {
						u.add(true, *v.ConsumedCapacity)
					}
				case *dynamodb.DeleteItemOutput:
					if v.ConsumedCapacity != nil {
						u.add(true, *v.ConsumedCapacity)
					}
				case *dynamodb.BatchWriteItemOutput:
					u.add(true, v.ConsumedCapacity...)
				case *dynamodb.TransactWriteItemsOutput:
					u.add(true, v.ConsumedCapacity...)
				}
				return out, md, err
			}), middleware.After)
		})
	})
}

// TestPlanStats: a statistics write (POST of a new document, POST of a
// newer revision, PATCH of an existing document) is statsWrite; a batch
// read of users × SCIDs is statsBatch. (A PATCH of a player with no
// document yet makes a second, conditional UpdateItem of the same item:
// statsWrite does not model it.)
func TestPlanStats(t *testing.T) {
	e := newPTEnv(t)
	ctx := context.Background()
	w := statstore.New(e.table)
	svc := &stats.Service{Configs: e.table, Reader: w, Writer: w}
	target := func(x xbl.XUID, scid string) stats.Target { return stats.Target{XUID: x, SCIDRaw: scid, SCID: scid} }
	doc := func(rev int64, score string) *stats.Document {
		return &stats.Document{Revision: rev, Stats: map[string]xbl.StatValue{"score": {Type: xbl.Integer, Value: score}}}
	}
	writes := []struct {
		name string
		x    xbl.XUID
		scid string
		do   func(x xbl.XUID, scid string) error
	}{
		{"POST, a new document", 11, ptSCID, func(x xbl.XUID, scid string) error {
			_, err := svc.Replace(ctx, ptPlayer(x), target(x, scid), doc(1, "5"))
			return err
		}},
		{"POST, a new document (2nd SCID)", 11, ptSCID2, func(x xbl.XUID, scid string) error {
			_, err := svc.Replace(ctx, ptPlayer(x), target(x, scid), doc(1, "6"))
			return err
		}},
		{"POST, a newer revision", 11, ptSCID, func(x xbl.XUID, scid string) error {
			ok, err := svc.Replace(ctx, ptPlayer(x), target(x, scid), doc(2, "9"))
			if err == nil && !ok {
				err = fmt.Errorf("not stored")
			}
			return err
		}},
		{"PATCH of an existing document", 11, ptSCID, func(x xbl.XUID, scid string) error {
			return svc.Patch(ctx, ptPlayer(x), target(x, scid), &stats.Patch{Set: map[string]xbl.StatValue{"kills": {Type: xbl.Integer, Value: "3"}}})
		}},
		{"POST, another player", 12, ptSCID, func(x xbl.XUID, scid string) error {
			_, err := svc.Replace(ctx, ptPlayer(x), target(x, scid), doc(1, "1"))
			return err
		}},
	}
	for _, tt := range writes {
		e.check("stats write: "+tt.name, statsWrite(tt.x, tt.scid), func() error { return tt.do(tt.x, tt.scid) })
	}

	for _, users := range [][]xbl.XUID{{11}, {11, 12, 13}, {11, 12, 13, 14, 15}} {
		scids := []string{ptSCID, ptSCID2}
		req := &stats.Request{Users: users}
		for _, s := range scids {
			req.SCIDs = append(req.SCIDs, stats.SCIDRequest{Raw: s, SCID: s, Stats: []string{"score", "kills"}})
		}
		e.check(fmt.Sprintf("stats batch: %d users × 2 SCIDs", len(users)), statsBatch(users, scids), func() error {
			_, err := svc.Read(ctx, ptPlayer(11), req)
			return err
		})
	}
}

// TestPlanLeaderboards: the items a move (rankstore.Apply, with its
// fold) of a player entering a board, raising a value (within its
// value's buckets and across them) and leaving it writes are those moves
// plans (rankstore.Plan); a page of 10 rows (from a rank, after a token)
// is page. (A page around a player also reads the player's statistics
// item: page does not model it; the top page reads the top item.)
func TestPlanLeaderboards(t *testing.T) {
	e := newPTEnv(t)
	ctx := context.Background()
	rank := rankstore.New(e.table)
	b := leaderboards.Board{SCID: ptSCID, Leaderboard: xbl.Leaderboard{Stat: "score", Type: xbl.Integer, Lanes: boardLanes}}
	v := func(s string) *xbl.StatValue { return &xbl.StatValue{Type: xbl.Integer, Value: s} }
	for _, tt := range []struct {
		name     string
		x        xbl.XUID
		from, to *xbl.StatValue
	}{
		{"enters at 0", 101, nil, v("0")},
		{"enters at 1500", 102, nil, v("1500")},
		{"raises 0 to 40", 101, v("0"), v("40")},
		{"raises 1500 to 1523", 102, v("1500"), v("1523")},
		{"raises 1523 to 100000", 102, v("1523"), v("100000")},
		{"leaves from 100000", 102, v("100000"), nil},
	} {
		m := []leaderboards.Move{{Board: b, XUID: tt.x, From: tt.from, To: tt.to}}
		e.checkWrites("move: "+tt.name, moves(m, 1), func() error {
			applied, _, err := rank.Apply(ctx, m)
			if err == nil && applied != 1 {
				err = fmt.Errorf("not applied")
			}
			return err
		})
	}

	// A board of 40 players over a few buckets.
	for i := range 40 {
		m := leaderboards.Move{Board: b, XUID: xbl.XUID(200 + i), To: v(fmt.Sprint((i * 7919) % 3000))}
		if _, _, err := rank.Apply(ctx, []leaderboards.Move{m}); err != nil {
			t.Fatal(err)
		}
	}
	// A page of 10 rows is the plan want.
	checkPage := func(name string, want plan, read func() (*leaderboards.Slice, error)) {
		t.Helper()
		e.check("page: "+name, want, func() error {
			sl, err := read()
			if err == nil && len(sl.Entries) != 10 {
				err = fmt.Errorf("%d rows, want 10", len(sl.Entries))
			}
			return err
		})
	}
	for _, tt := range []struct {
		name string
		r    uint32
	}{{"the top", 1}, {"from rank 17 (within the top item)", 17}} {
		checkPage(tt.name, topPage(&b), func() (*leaderboards.Slice, error) { return rank.At(ctx, &b, tt.r, 10) })
	}
	// After a token, the ranks are counted from the page's first row: a
	// page reads the counters of the buckets of the value it locates.
	all, err := rank.At(ctx, &b, 1, 40)
	if err != nil || len(all.Entries) < 27 {
		t.Fatalf("the board: %v", err)
	}
	checkPage("after a token", page(&b, leaderboards.CursorOf(&all.Entries[10])), func() (*leaderboards.Slice, error) {
		return rank.After(ctx, &b, leaderboards.CursorOf(&all.Entries[9]), 10)
	})
	// Past the top item (a board of 140 players), a page from a rank reads
	// the counters and every lane.
	for i := range 100 {
		m := leaderboards.Move{Board: b, XUID: xbl.XUID(300 + i), To: v(fmt.Sprint((i * 104729) % 3000))}
		if _, _, err := rank.Apply(ctx, []leaderboards.Move{m}); err != nil {
			t.Fatal(err)
		}
	}
	first, err := rank.At(ctx, &b, 1, 100)
	if err != nil || len(first.Entries) < 100 {
		t.Fatalf("the board: %v", err)
	}
	more, err := rank.After(ctx, &b, leaderboards.CursorOf(&first.Entries[99]), 20)
	if err != nil || len(more.Entries) < 20 {
		t.Fatalf("the board: %v", err)
	}
	checkPage("from rank 110", page(&b, leaderboards.CursorOf(&more.Entries[9])), func() (*leaderboards.Slice, error) {
		return rank.At(ctx, &b, 110, 10)
	})
}

// ptLobby is the simulator's lobby of the session the tests write.
func ptLobby(name string, keywords []string, members ...xbl.XUID) *lobby {
	return &lobby{scid: ptSCID, template: "lobby", name: name, start: ptNow, keywords: keywords, members: members}
}

// TestPlanSessions follows one lobby through its life, through the
// sessions service over sessionstore: a create with a keyword, joins up
// to 4 members, a property change, a GET, a keyword query, a batch query,
// the host's activity, the activities query, a join by the activity
// handle, a leave, and the leaves to the last (sessionWrite,
// sessionGet, keywordQuery, sessionBatch, postActivity, activityQuery,
// joinByHandle). (A second activity post of the same owner also deletes
// the handle it replaces: postActivity does not model it.)
func TestPlanSessions(t *testing.T) {
	e := newPTEnv(t)
	ctx := context.Background()
	st := sessionstore.New(e.table)
	svc := &sessions.Service{Configs: e.table, Reader: st, Store: st, Handles: st, Now: func() time.Time { return ptNow }}
	const name, kw = "plan-lobby", "plankw"
	ref := sessions.Ref{SCIDRaw: ptSCID, SCID: ptSCID, Template: "lobby", Name: name}
	kws := []string{kw}
	active := true
	join := &sessions.Change{Members: map[string]*sessions.MemberChange{"me": {Active: &active}}}
	leave := &sessions.Change{Members: map[string]*sessions.MemberChange{"me": nil}}
	put := func(x xbl.XUID, ch *sessions.Change, want sessions.Outcome) func() error {
		return func() error {
			res, err := svc.Put(ctx, ptPlayer(x), ref, sessions.Condition{}, ch)
			if err == nil && res.Outcome != want {
				err = fmt.Errorf("outcome %v, want %v", res.Outcome, want)
			}
			return err
		}
	}

	create := &sessions.Change{Members: join.Members, Properties: &sessions.PropertiesChange{Keywords: &kws}}
	e.check("create, one keyword", sessionWrite(nil, ptLobby(name, kws, 1)), put(1, create, sessions.Created))
	for n := 2; n <= 4; n++ {
		var members []xbl.XUID
		for i := 1; i <= n; i++ {
			members = append(members, xbl.XUID(i))
		}
		e.check(fmt.Sprintf("join, %d members", n), sessionWrite(ptLobby(name, kws, members[:n-1]...), ptLobby(name, kws, members...)), put(xbl.XUID(n), join, sessions.Updated))
	}
	four := ptLobby(name, kws, 1, 2, 3, 4)
	change := &sessions.Change{Properties: &sessions.PropertiesChange{Custom: map[string]json.RawMessage{"map": json.RawMessage(`"dust"`)}}}
	e.check("property change", sessionWrite(four, four), put(1, change, sessions.Updated))

	e.check("GET", sessionGet(four), func() error {
		d, err := svc.Get(ctx, ptPlayer(9), ref)
		if err == nil && d == nil {
			err = fmt.Errorf("no session")
		}
		return err
	})
	e.check("keyword query", keywordQuery(ptSCID, kw), func() error {
		res, err := svc.Find(ctx, ptPlayer(9), &sessions.Query{SCIDRaw: ptSCID, SCID: ptSCID, Keyword: kw, Take: 25})
		if err == nil && len(res.Rows) != 1 {
			err = fmt.Errorf("%d rows, want 1", len(res.Rows))
		}
		return err
	})
	batch := []xbl.XUID{1, 2, 9}
	e.check("session batch query", sessionBatch(ptSCID, batch), func() error {
		res, err := svc.Find(ctx, ptPlayer(9), &sessions.Query{SCIDRaw: ptSCID, SCID: ptSCID, XUIDs: batch, Take: 25})
		if err == nil && len(res.Rows) != 2 {
			err = fmt.Errorf("%d rows, want 2", len(res.Rows))
		}
		return err
	})

	// The host posts its activity: the plan needs the handle's id, which
	// the post makes, so the calls are compared after it.
	e.counter.Reset()
	h, err := svc.PostHandle(ctx, ptPlayer(1), &sessions.HandleRequest{Type: sessions.Activity, Ref: ref})
	if err != nil {
		t.Fatal(err)
	}
	if msg := ptCompare(ptCallsOf(t, e.counter), ptPlanCalls(postActivity(four, 1, ptTitle, h.ID))); msg != "" {
		t.Errorf("post activity: the plan is not the real calls%s", msg)
	}

	owners := []xbl.XUID{1, 2}
	e.check("activities query", activityQuery(ptSCID, ptTitle, owners, []*lobby{four}), func() error {
		rows, err := svc.QueryActivities(ctx, ptPlayer(2), ptSCID, ptSCID, owners)
		if err == nil && len(rows) != 1 {
			err = fmt.Errorf("%d activities, want 1", len(rows))
		}
		return err
	})
	five := ptLobby(name, kws, 1, 2, 3, 4, 5)
	e.check("join by handle, 5 members", joinByHandle(h.ID, four, five), func() error {
		_, res, err := svc.PutByHandle(ctx, ptPlayer(5), h.ID, sessions.Condition{}, join)
		if err == nil && len(res.Doc.Members) != 5 {
			err = fmt.Errorf("%d members, want 5", len(res.Doc.Members))
		}
		return err
	})

	members := []xbl.XUID{1, 2, 3, 4, 5}
	for _, x := range []xbl.XUID{3, 5, 2, 4} {
		prev := ptLobby(name, kws, members...)
		members = slices.DeleteFunc(slices.Clone(members), func(m xbl.XUID) bool { return m == x })
		e.check(fmt.Sprintf("leave, %d members left", len(members)), sessionWrite(prev, ptLobby(name, kws, members...)), put(x, leave, sessions.Updated))
	}
	e.check("the last leave", sessionWrite(ptLobby(name, kws, 1), ptLobby(name, kws)), put(1, leave, sessions.Deleted))
}

// TestPlanLargeLobby: the writes of a lobby around
// sessionstore.MaxCopyEntries index entries (a keyword and 15 members
// make 32): a join to 15 members (entries with copies of the head, in the
// transaction), the join to 16 (the entries lose their copies: every
// entry is written again, without one, before the commit), a join to 17
// and a property change (entries without copies: the new ones written
// before the commit), a leave to 16 (the leaver's entries deleted after
// it) and the leave to 15 (copies again) are sessionWrite. TestPlanQueue
// holds combine to the same rule for a crowd of 40 joining a lobby of 3.
func TestPlanLargeLobby(t *testing.T) {
	e := newPTEnv(t)
	ctx := context.Background()
	st := sessionstore.New(e.table)
	svc := &sessions.Service{Configs: e.table, Reader: st, Store: st, Now: func() time.Time { return ptNow }}
	const name = "plan-large"
	ref := sessions.Ref{SCIDRaw: ptSCID, SCID: ptSCID, Template: "lobby", Name: name}
	kws := []string{"largekw"}
	active := true
	join := &sessions.Change{Members: map[string]*sessions.MemberChange{"me": {Active: &active}}}
	leave := &sessions.Change{Members: map[string]*sessions.MemberChange{"me": nil}}
	create := &sessions.Change{Members: join.Members, Properties: &sessions.PropertiesChange{Keywords: &kws}}
	put := func(x xbl.XUID, ch *sessions.Change) func() error {
		return func() error {
			_, err := svc.Put(ctx, ptPlayer(x), ref, sessions.Condition{}, ch)
			return err
		}
	}
	if err := put(1, create)(); err != nil {
		t.Fatal(err)
	}
	members := []xbl.XUID{1}
	for x := xbl.XUID(2); x <= 14; x++ {
		if err := put(x, join)(); err != nil {
			t.Fatal(err)
		}
		members = append(members, x)
	}
	for x := xbl.XUID(15); x <= 17; x++ {
		prev := ptLobby(name, kws, members...)
		members = append(slices.Clone(members), x)
		e.check(fmt.Sprintf("join, %d members (%d entries)", len(members), 2*len(members)+2), sessionWrite(prev, ptLobby(name, kws, members...)), put(x, join))
	}
	l := ptLobby(name, kws, members...)
	change := &sessions.Change{Properties: &sessions.PropertiesChange{Custom: map[string]json.RawMessage{"map": json.RawMessage(`"dust"`)}}}
	e.check("property change, 17 members", sessionWrite(l, l), put(1, change))
	for _, x := range []xbl.XUID{9, 4} {
		prev := ptLobby(name, kws, members...)
		members = slices.DeleteFunc(slices.Clone(members), func(m xbl.XUID) bool { return m == x })
		e.check(fmt.Sprintf("leave, %d members left (%d entries)", len(members), 2*len(members)+2), sessionWrite(prev, ptLobby(name, kws, members...)), put(x, leave))
	}
}

// TestPlanQueue: a write that lost a race waiting in the session's queue
// (sessionstore's Queue) is enqueue; a look for its reply while another
// write holds the session is poll; a combining commit of two waiting
// joins, each writer then withdrawing its item and reading the session,
// is combine.
func TestPlanQueue(t *testing.T) {
	e := newPTEnv(t)
	ctx := context.Background()
	st := sessionstore.New(e.table)
	svc := &sessions.Service{Configs: e.table, Reader: st, Store: st, Handles: st, Now: func() time.Time { return ptNow }}
	const name = "plan-crowd"
	ref := sessions.Ref{SCIDRaw: ptSCID, SCID: ptSCID, Template: "lobby", Name: name}
	kws := []string{"crowdkw"}
	active := true
	join := &sessions.Change{Members: map[string]*sessions.MemberChange{"me": {Active: &active}}}
	create := &sessions.Change{Members: join.Members, Properties: &sessions.PropertiesChange{Keywords: &kws}}
	if _, err := svc.Put(ctx, ptPlayer(1), ref, sessions.Condition{}, create); err != nil {
		t.Fatal(err)
	}
	one := ptLobby(name, kws, 1)
	var waiting []*sessions.Queued
	for _, x := range []xbl.XUID{2, 3} {
		w := &sessions.Queued{ID: sessions.QueueID(ptNow.Add(time.Duration(x))), Caller: *ptPlayer(x), Change: join, Until: ptNow.Add(time.Minute)}
		waiting = append(waiting, w)
		e.check(fmt.Sprintf("enqueue %d", x), enqueue(one, w.ID), func() error { return st.Enqueue(ctx, ref, w) })
	}

	// Another write holds the session (a combine of the uncounted store,
	// held in its apply) while the first waiting write looks for its
	// reply and tries to combine.
	held, release := make(chan struct{}), make(chan struct{})
	var holder sync.WaitGroup
	holder.Go(func() {
		sessionstore.New(e.plain).Combine(ctx, ref, sessions.CombineLimit, func(stored *sessions.Doc, _ []*sessions.Queued) (*sessions.Doc, []sessions.Reply) {
			close(held)
			<-release
			return stored, nil // changes nothing
		})
	})
	<-held
	e.check("poll", poll(one, waiting[0].ID), func() error {
		r, err := st.Reply(ctx, ref, waiting[0].ID)
		if err != nil || r != nil {
			return fmt.Errorf("reply %v, %v: want none yet", r, err)
		}
		n, err := st.Combine(ctx, ref, sessions.CombineLimit, func(*sessions.Doc, []*sessions.Queued) (*sessions.Doc, []sessions.Reply) {
			panic("combined while the session is held")
		})
		if err == nil || n != 0 {
			return fmt.Errorf("combine while held: %d, %v; want ErrContended", n, err)
		}
		return nil
	})
	close(release)
	holder.Wait()

	// The writes waiting are combined: one commit applies them all, then
	// each writer withdraws its item and reads the session.
	combined := func(want int) func() error {
		return func() error {
			var ids []string
			n, err := st.Combine(ctx, ref, sessions.CombineLimit, func(stored *sessions.Doc, ws []*sessions.Queued) (*sessions.Doc, []sessions.Reply) {
				cur := stored
				var replies []sessions.Reply
				for _, w := range ws {
					next, err := svc.Apply(cur, w.Change, &w.Caller, ref)
					if err != nil {
						t.Errorf("apply %s: %v", w.ID, err)
						return stored, nil
					}
					cur = next
					ids = append(ids, w.ID)
					replies = append(replies, sessions.Reply{ID: w.ID, Outcome: sessions.Updated, Start: next.StartTime})
				}
				cur.ETag = sessions.NewID()
				return cur, replies
			})
			if err != nil || n != want {
				return fmt.Errorf("combined %d, %v; want %d", n, err, want)
			}
			for _, id := range ids {
				if r, err := st.Withdraw(ctx, ref, id); err != nil || r == nil {
					return fmt.Errorf("withdraw %s: %v, %v; want its reply", id, r, err)
				}
				if _, err := st.Session(ctx, ptSCID, "lobby", name); err != nil {
					return err
				}
			}
			return nil
		}
	}
	three := ptLobby(name, kws, 1, 2, 3)
	e.check("combine 2 joins", combine(one, three, []string{waiting[0].ID, waiting[1].ID}), combined(2))

	// A crowd: 40 joins waiting on the lobby of 3 (8 index entries, with
	// copies of the head) make it one of 43 (88 entries, without).
	var ids []string
	members := []xbl.XUID{1, 2, 3}
	for i := range sessions.CombineLimit {
		x := xbl.XUID(100 + i)
		w := &sessions.Queued{ID: sessions.QueueID(ptNow.Add(time.Duration(x))), Caller: *ptPlayer(x), Change: join, Until: ptNow.Add(time.Minute)}
		if err := st.Enqueue(ctx, ref, w); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, w.ID)
		members = append(members, x)
	}
	e.check("combine 40 joins into a lobby of 3", combine(three, ptLobby(name, kws, members...), ids), combined(sessions.CombineLimit))
}

// ptPoster takes every tap.
type ptPoster struct{}

func (ptPoster) Post(context.Context, string, []byte) error { return nil }

// TestPlanRTA: a connection's open, subscribe and close are rtaConnect,
// rtaSubscribe and rtaDisconnect; the notifier's tap of a join into a
// session of connected members is notify. (The close of a connection
// that sessions noted also writes each of those sessions, its player
// made inactive: rtaDisconnect does not model it.)
func TestPlanRTA(t *testing.T) {
	e := newPTEnv(t)
	ctx := context.Background()
	st := sessionstore.New(e.table)
	presence := &sessions.Service{Configs: e.table, Store: st, Now: func() time.Time { return ptNow }}
	svc := &rta.Service{Store: rtastore.New(e.table), Poster: ptPoster{}, Presence: presence, Now: func() time.Time { return ptNow }}
	conns := []string{"conn-1", "conn-2", "conn-3"}
	for i, id := range conns {
		x := xbl.XUID(i + 1)
		e.check("connect "+id, rtaConnect(id), func() error { return svc.Connect(ctx, ptPlayer(x), id) })
		e.check("subscribe "+id, rtaSubscribe(id), func() error {
			b, err := svc.Receive(ctx, id, []byte(`[1, 1, "`+rta.ConnectionsResource+`"]`))
			if err == nil && !strings.HasPrefix(string(b), "[1,1,0,") {
				err = fmt.Errorf("answer %s", b)
			}
			return err
		})
	}

	// Members 1 and 2 name their connections; 3 joins naming its own.
	member := func(x xbl.XUID, conn string) sessions.Member {
		return sessions.Member{Index: int(x) - 1, XUID: x, Active: true, JoinTime: ptNow, PropertiesSystem: map[string]json.RawMessage{
			"connection":   json.RawMessage(`"` + conn + `"`),
			"subscription": json.RawMessage(`{"id":"s","changeTypes":["everything"]}`),
		}}
	}
	doc := func(ms ...sessions.Member) *sessions.Doc {
		return &sessions.Doc{SCID: ptSCID, Template: "lobby", Name: "plan-tapped", StartTime: ptNow, Visibility: xbl.OpenVis, MaxMembers: 8, Members: ms, NextIndex: len(ms), ChangeNumber: int64(len(ms))}
	}
	before := doc(member(1, conns[0]), member(2, conns[1]))
	after := doc(member(1, conns[0]), member(2, conns[1]), member(3, conns[2]))
	e.check("notify a join", notify(conns, conns[2:]), func() error {
		n, err := svc.Tap(ctx, before, after)
		if err == nil && n != 3 {
			err = fmt.Errorf("%d taps, want 3", n)
		}
		return err
	})

	e.check("disconnect "+conns[0], rtaDisconnect(conns[0]), func() error { return svc.Disconnect(ctx, conns[0]) })
}

// TestPlanRate: the limiter's count of one request is rateCount.
func TestPlanRate(t *testing.T) {
	e := newPTEnv(t)
	ctx := context.Background()
	counts := ratestore.New(e.table)
	for _, service := range []string{ratelimit.UserStats, ratelimit.SessionDirectory, ratelimit.RTA} {
		k := ratelimit.Key{Service: service, TitleID: ptTitle, XUID: 7}
		e.check("rate count "+service, plan{rateCount(service, ptTitle, 7, ptNow.Add(90*time.Second))}, func() error {
			_, err := counts.Count(ctx, k, ptNow.Add(90*time.Second).Truncate(ratelimit.SustainWindow), 3, 0)
			return err
		})
	}
}

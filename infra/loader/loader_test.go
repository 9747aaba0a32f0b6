package loader_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/infra/fixture"
	"github.com/xblread/xblread/infra/loader"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/sessionstore"
	"github.com/xblread/xblread/pkg/xbl"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

const scid = "7492baca-c1b4-440d-a391-b7ef364a8d40"

func TestCreateTableIsIdempotent(t *testing.T) {
	c := ddbtest.Client(t)
	name := ddbtest.NewTable(t) // created once already
	created, err := loader.CreateTable(context.Background(), c, name)
	if err != nil || created {
		t.Fatalf("second CreateTable = %v, %v; want false, nil", created, err)
	}
	out, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	def := store.Definition()
	if !reflect.DeepEqual(out.Table.KeySchema, def.KeySchema) {
		t.Errorf("key schema = %+v, want %+v", out.Table.KeySchema, def.KeySchema)
	}
}

func TestCreateTableRefusesAnotherKeySchema(t *testing.T) {
	c := ddbtest.Client(t)
	name := fmt.Sprintf("other-%d", time.Now().UnixNano())
	_, err := c.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)}) })
	if _, err := loader.CreateTable(context.Background(), c, name); err == nil {
		t.Error("CreateTable accepted a table with another key schema")
	}
}

func parse(t *testing.T, doc string) *xbl.Dataset {
	t.Helper()
	f, err := fixture.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return &f.Data
}

// partition returns every item under pk, by sort key.
func partition(t *testing.T, st store.Table, pk string) map[string]map[string]types.AttributeValue {
	t.Helper()
	out := map[string]map[string]types.AttributeValue{}
	p := dynamodb.NewQueryPaginator(st.Client, &dynamodb.QueryInput{
		TableName:                 aws.String(st.Name),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			out[it["sk"].(*types.AttributeValueMemberS).Value] = it
		}
	}
	return out
}

func sortKeys(m map[string]map[string]types.AttributeValue) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

const contract = `{
  "serviceConfigs": [{"scid": "` + scid + `", "titleIds": ["1297287135"], "sandboxes": ["XDKS.1", "RETAIL"],
     "stats": {"OverallReputation": "open", "SecretStat": "restricted"}}],
  "users": [{"xuid": "2533274792693551", "gamertag": "WarriorSaint",
     "stats": {"` + scid + `": {"OverallReputation": {"type": "Integer", "value": 66},
                                "KD": {"type": "Double", "value": "1.25"},
                                "Rank": {"type": "String", "value": "Gold"}}}}],
  "sessions": [{"scid": "` + scid + `", "templateName": "deathmatch", "name": "session-seven",
     "startTime": "2026-11-20T13:45:30.09Z", "version": 1, "visibility": "open", "joinRestriction": "local",
     "keywords": ["one", "two"],
     "members": [{"xuid": "9876", "status": "active", "myTurn": true}, {"xuid": "5432", "status": "reserved"}]}]
}`

// pks are the partitions the contract fixture writes to.
var pks = []string{
	"scid#" + scid, "profile#2533274792693551", "2533274792693551#" + scid,
	"9876#" + scid, "5432#" + scid, "keyword#" + scid + "#one", "keyword#" + scid + "#two", "session#" + scid + "#deathmatch#session-seven",
}

func TestLoadWritesEveryItem(t *testing.T) {
	st := ddbtest.EmptyTable(t)
	res, err := loader.Load(context.Background(), st, parse(t, contract), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Each membership and keyword entry is written twice: across templates
	// and within its template, both newest first.
	want := loader.Result{Configs: 1, Profiles: 1, StatItems: 1, Sessions: 1, Heads: 1, Memberships: 4, Keywords: 4, Writes: 2} // the session's document and head in a call of their own, last
	if res != want {
		t.Errorf("Load = %+v, want %+v", res, want)
	}

	stats := partition(t, st, "2533274792693551#"+scid)["stats"]
	if stats == nil {
		t.Fatal("no stats item")
	}
	for name, want := range map[string][2]string{"OverallReputation": {"Integer", "N:66"}, "KD": {"Double", "N:1.25"}, "Rank": {"String", "S:Gold"}} {
		v := stats[store.AttrStats].(*types.AttributeValueMemberM).Value[xbl.StatKey(name)].(*types.AttributeValueMemberM).Value
		var got string
		switch x := v["v"].(type) {
		case *types.AttributeValueMemberN:
			got = "N:" + x.Value
		case *types.AttributeValueMemberS:
			got = "S:" + x.Value
		}
		if v["t"].(*types.AttributeValueMemberS).Value != want[0] || got != want[1] {
			t.Errorf("stat %s = %v %s, want %v", name, v["t"], got, want)
		}
	}

	start := time.Date(2026, 11, 20, 13, 45, 30, 90_000_000, time.UTC)
	members := partition(t, st, "9876#"+scid)
	keys := store.MembershipKeys(9876, scid, "deathmatch", "session-seven", start)
	if members[keys[1].SK] == nil || len(members) != 2 {
		t.Errorf("membership items of 9876: %v, want %v", sortKeys(members), keys)
	}
	member := members[keys[0].SK]
	if member == nil {
		t.Fatal("no membership item for 9876")
	}
	for attr, want := range map[string]string{"startTime": "2026-11-20T13:45:30.0900000Z", "template": "deathmatch", "name": "session-seven"} {
		if got := member[attr].(*types.AttributeValueMemberS).Value; got != want {
			t.Errorf("membership %s = %q, want %q", attr, got, want)
		}
	}
	// What a query shows of the session lives in its head only.
	head := partition(t, st, store.HeadKey(scid, "deathmatch", "session-seven").PK)["head"]
	if head == nil {
		t.Fatal("no head item")
	}
	for attr, want := range map[string]string{"visibility": "open", "joinRestriction": "local", "startTime": "2026-11-20T13:45:30.0900000Z"} {
		if got := head[attr].(*types.AttributeValueMemberS).Value; got != want {
			t.Errorf("head %s = %q, want %q", attr, got, want)
		}
	}
	var hi sessionstore.Item
	if err := store.Unmarshal(head, &hi); err != nil {
		t.Fatal(err)
	}
	wantMembers := []sessionstore.HeadMember{{XUID: "9876", Index: 0, Status: "active"}, {XUID: "5432", Index: 1, Status: "reserved"}}
	if !reflect.DeepEqual(hi.Members, wantMembers) || !reflect.DeepEqual(hi.Turn, []int{0}) || !reflect.DeepEqual(hi.Keywords, []string{"one", "two"}) {
		t.Errorf("head = %+v", hi)
	}
	kwKeys := store.KeywordKeys(scid, "two", "deathmatch", "session-seven", start)
	if kw := partition(t, st, "keyword#"+scid+"#two"); kw[kwKeys[0].SK] == nil || kw[kwKeys[1].SK] == nil || len(kw) != 2 {
		t.Errorf("keyword items %v, want %v", sortKeys(kw), kwKeys)
	}
	if p := partition(t, st, "profile#2533274792693551")["profile"]; p["gamertag"].(*types.AttributeValueMemberS).Value != "WarriorSaint" {
		t.Errorf("profile = %v", p)
	}
}

func TestLoadTwiceLeavesTheSameData(t *testing.T) {
	st := ddbtest.EmptyTable(t)
	ds := parse(t, contract)
	if _, err := loader.Load(context.Background(), st, ds, nil); err != nil {
		t.Fatal(err)
	}
	before := map[string]map[string]map[string]types.AttributeValue{}
	for _, pk := range pks {
		before[pk] = partition(t, st, pk)
		if len(before[pk]) == 0 {
			t.Fatalf("partition %s is empty after the first load", pk)
		}
	}
	res, err := loader.Load(context.Background(), st, ds, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 0 {
		t.Errorf("second load deleted %d items", res.Deleted)
	}
	for _, pk := range pks {
		if after := partition(t, st, pk); !reflect.DeepEqual(after, before[pk]) {
			t.Errorf("partition %s changed:\nbefore %v\nafter  %v", pk, before[pk], after)
		}
	}
}

func TestReloadRemovesStaleMembersAndKeywords(t *testing.T) {
	st := ddbtest.EmptyTable(t)
	session := func(members, keywords string) string {
		return `{"sessions":[{"scid":"` + scid + `","templateName":"t","name":"s","startTime":"2026-11-20T13:45:30Z",
			"version":1,"visibility":"open","keywords":` + keywords + `,"members":` + members + `}]}`
	}
	ctx := context.Background()
	if _, err := loader.Load(ctx, st, parse(t, session(`[{"xuid":"1","status":"active"},{"xuid":"2","status":"active"}]`, `["one","two"]`)), nil); err != nil {
		t.Fatal(err)
	}
	res, err := loader.Load(ctx, st, parse(t, session(`[{"xuid":"1","status":"inactive"},{"xuid":"3","status":"active"}]`, `["two","three"]`)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 4 {
		t.Errorf("Deleted = %d, want 4 (member 2 and keyword one, two items each)", res.Deleted)
	}
	present := map[string]bool{
		"1#" + scid: true, "2#" + scid: false, "3#" + scid: true,
		"keyword#" + scid + "#one": false, "keyword#" + scid + "#two": true, "keyword#" + scid + "#three": true,
	}
	for pk, want := range present {
		if got := len(partition(t, st, pk)) > 0; got != want {
			t.Errorf("partition %s present = %v, want %v", pk, got, want)
		}
	}
	var hi sessionstore.Item
	if err := store.Unmarshal(partition(t, st, store.HeadKey(scid, "t", "s").PK)["head"], &hi); err != nil {
		t.Fatal(err)
	}
	if len(hi.Members) != 2 || hi.Members[0].Status != "inactive" {
		t.Errorf("head members = %+v, want member 1 inactive as reloaded", hi.Members)
	}
}

// TestReloadWithANewStartTime moves a session in time: its entries under
// the old start time are removed, so no query finds it twice.
func TestReloadWithANewStartTime(t *testing.T) {
	st := ddbtest.EmptyTable(t)
	session := func(start string) string {
		return `{"sessions":[{"scid":"` + scid + `","templateName":"t","name":"s","startTime":"` + start + `",
			"version":1,"visibility":"open","keywords":["k"],"members":[{"xuid":"1","status":"active"}]}]}`
	}
	ctx := context.Background()
	for _, start := range []string{"2026-11-20T13:45:30Z", "2026-11-21T08:00:00Z"} {
		if _, err := loader.Load(ctx, st, parse(t, session(start)), nil); err != nil {
			t.Fatal(err)
		}
	}
	newStart := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	for pk, want := range map[string][2]store.Key{
		"1#" + scid:              store.MembershipKeys(1, scid, "t", "s", newStart),
		"keyword#" + scid + "#k": store.KeywordKeys(scid, "k", "t", "s", newStart),
	} {
		got := partition(t, st, pk)
		if len(got) != 2 || got[want[0].SK] == nil || got[want[1].SK] == nil {
			t.Errorf("partition %s: %v, want only %v", pk, sortKeys(got), want)
		}
	}
}

func TestLoadWritesInChunksOf25(t *testing.T) {
	st := ddbtest.EmptyTable(t)
	var ds xbl.Dataset
	for i := 1; i <= 60; i++ {
		ds.Profiles = append(ds.Profiles, xbl.Profile{XUID: xbl.XUID(i), Gamertag: fmt.Sprintf("player%d", i)})
	}
	var calls [][2]int // (done, total) of each progress call
	res, err := loader.Load(context.Background(), st, &ds, func(done, total int) { calls = append(calls, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Profiles != 60 || res.Writes != 3 {
		t.Errorf("Load = %+v, want 60 profiles in 3 writes", res)
	}
	// The first call, before any write, gives the total; then one per
	// BatchWriteItem call, in any order of the chunks, up to all of them.
	if len(calls) != 4 || calls[0] != [2]int{0, 60} || calls[3] != [2]int{60, 60} {
		t.Errorf("progress calls %v; want (0, 60), then 3 more reaching (60, 60)", calls)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] <= calls[i-1][0] || calls[i][1] != 60 {
			t.Errorf("progress calls %v: not rising, or another total", calls)
		}
	}
	for _, i := range []int{1, 25, 26, 60} {
		if len(partition(t, st, fmt.Sprintf("profile#%d", i))) != 1 {
			t.Errorf("profile %d missing", i)
		}
	}
}

func TestLoadIntoMissingTableFails(t *testing.T) {
	st := store.Table{Client: ddbtest.Client(t), Name: "no-such-table"}
	_, err := loader.Load(context.Background(), st, parse(t, contract), nil)
	if err == nil {
		t.Fatal("Load into a missing table succeeded")
	}
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("error %v is not ResourceNotFoundException", err)
	}
}

// TestLoadRefusesWhatDynamoDBWouldRefuse: an item over DynamoDB's 400 KB
// (which DynamoDB Local would take) fails the whole load before anything
// is written.
func TestLoadRefusesWhatDynamoDBWouldRefuse(t *testing.T) {
	st := ddbtest.EmptyTable(t)
	stats := map[string]xbl.StatValue{}
	for i := range 3000 {
		stats[fmt.Sprintf("%0150d", i)] = xbl.StatValue{Type: xbl.String, Value: "v"}
	}
	ds := parse(t, contract)
	ds.Stats = append(ds.Stats, xbl.UserStats{XUID: 77, SCID: scid, Stats: stats})
	_, err := loader.Load(context.Background(), st, ds, nil)
	if err == nil || !strings.Contains(err.Error(), "nothing was written") || !strings.Contains(err.Error(), "400") {
		t.Fatalf("Load = %v, want a refusal naming the limit", err)
	}
	for _, pk := range pks {
		if got := partition(t, st, pk); len(got) > 0 {
			t.Errorf("partition %s was written: %v", pk, sortKeys(got))
		}
	}
}

// TestKeywordsLoadUnderTheirCanonicalForm: a fixture session's keywords
// are indexed as session writes index them (store.KeywordPK, under
// xbl.FoldKeyword): "İ" and "i" in two partitions, "ſ" with "s", so a
// query in any spelling strings.EqualFold accepts finds the session.
func TestKeywordsLoadUnderTheirCanonicalForm(t *testing.T) {
	st := ddbtest.EmptyTable(t)
	doc := `{"sessions":[{"scid":"` + scid + `","templateName":"t","name":"s","startTime":"2026-11-20T13:45:30Z",
		"version":1,"visibility":"open","keywords":["İ","I","ſ"],"members":[{"xuid":"1","status":"active"}]}]}`
	res, err := loader.Load(context.Background(), st, parse(t, doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Keywords != 6 {
		t.Errorf("Keywords = %d, want 6 (three keywords, two entries each)", res.Keywords)
	}
	for kw, want := range map[string]bool{"İ": true, "i": true, "I": true, "s": true, "S": true, "ſ": true, "ı": false} {
		if got := len(partition(t, st, store.KeywordPK(scid, kw))) == 2; got != want {
			t.Errorf("keyword %q: two entries = %v, want %v", kw, got, want)
		}
	}
}

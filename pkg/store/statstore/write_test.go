package statstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/store/memstore"
	"github.com/xblread/xblread/pkg/store/statstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// target is user x's document in scidA.
func target(x xbl.XUID) stats.Target { return stats.Target{XUID: x, SCIDRaw: scidA, SCID: scidA} }

func doc(rev int64, kv ...any) *stats.Document {
	d := &stats.Document{Revision: rev, Stats: map[string]xbl.StatValue{}}
	for i := 0; i < len(kv); i += 2 {
		d.Stats[kv[i].(string)] = xbl.StatValue{Type: xbl.Integer, Value: fmt.Sprint(kv[i+1])}
	}
	return d
}

// TestWrites: a replace applies only when newer, a patch creates the
// document when there is none and then changes single stats, names keep
// their spelling, and the read path sees it all.
func TestWrites(t *testing.T) {
	table := ddbtest.EmptyTable(t)
	st := statstore.New(table)
	ctx := context.Background()
	if err := st.Patch(ctx, target(5), &stats.Patch{Set: map[string]xbl.StatValue{"Wins": {Type: xbl.Integer, Value: "1"}}}, "Five"); err != nil {
		t.Fatal(err)
	}
	if ok, err := st.Replace(ctx, target(5), doc(10, "Wins", 7, "Kills", 3), ""); !ok || err != nil {
		t.Fatalf("first replace: %v %v", ok, err)
	}
	if ok, err := st.Replace(ctx, target(5), doc(10, "Wins", 99), ""); ok || err != nil {
		t.Errorf("same revision: applied=%v %v, want not applied", ok, err)
	}
	if err := st.Patch(ctx, target(5), &stats.Patch{Set: map[string]xbl.StatValue{"WINS": {Type: xbl.Integer, Value: "8"}}, Remove: []string{"kills"}}, ""); err != nil {
		t.Fatal(err)
	}
	d, err := st.Document(ctx, target(5))
	if err != nil || d.Revision != 10 || len(d.Stats) != 1 || d.Stats["WINS"].Value != "8" {
		t.Errorf("document %+v, %v", d, err)
	}
	found, err := st.ReadStats(ctx, stats.Query{Users: []xbl.XUID{5}, SCIDs: []string{scidA}, Names: []string{"wins", "kills"}})
	if err != nil || found.Stats[stats.UserSCID{XUID: 5, SCID: scidA}]["wins"].Value != "8" || found.Gamertags[5] != "Five" {
		t.Errorf("read back: %+v %v", found, err)
	}
}

// TestRevisionZero: a document written without a revision (by PATCH) is
// at revision 0, as GET answers, so a POST of revision 0 does not replace
// it, and one of revision 1 does; a POST of revision 0 creates a document
// where there is none. The DynamoDB store and the memory store agree.
func TestRevisionZero(t *testing.T) {
	ctx := context.Background()
	for name, st := range map[string]stats.Writer{"dynamodb": statstore.New(ddbtest.EmptyTable(t)), "memory": memstore.New()} {
		t.Run(name, func(t *testing.T) {
			if err := st.Patch(ctx, target(7), &stats.Patch{Set: map[string]xbl.StatValue{"Kills": {Type: xbl.Integer, Value: "48"}}}, ""); err != nil {
				t.Fatal(err)
			}
			if ok, err := st.Replace(ctx, target(7), doc(0, "Motto", 5), ""); ok || err != nil {
				t.Errorf("revision 0 over a patched document: applied=%v %v, want not applied", ok, err)
			}
			if d, err := st.Document(ctx, target(7)); err != nil || d.Revision != 0 || d.Stats["Kills"].Value != "48" || len(d.Stats) != 1 {
				t.Errorf("document %+v %v, want Kills alone at revision 0", d, err)
			}
			if ok, err := st.Replace(ctx, target(7), doc(1, "Motto", 5), ""); !ok || err != nil {
				t.Errorf("revision 1: applied=%v %v", ok, err)
			}
			if ok, err := st.Replace(ctx, target(8), doc(0, "Motto", 1), ""); !ok || err != nil {
				t.Errorf("revision 0, no document: applied=%v %v", ok, err)
			}
			if ok, err := st.Replace(ctx, target(8), doc(0, "Motto", 2), ""); ok || err != nil {
				t.Errorf("revision 0 again: applied=%v %v", ok, err)
			}
		})
	}
}

// TestConcurrentWriters: two instances writing one document at once never
// interleave into a document neither sent: concurrent replaces leave the
// newest whole; concurrent patches of different stats all apply.
func TestConcurrentWriters(t *testing.T) {
	table := ddbtest.EmptyTable(t)
	instances := []*statstore.Store{statstore.New(table), statstore.New(table)}
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each replace writes its revision into every stat.
			if _, err := instances[i%2].Replace(ctx, target(6), doc(int64(100+i), "a", 100+i, "b", 100+i, "c", 100+i), ""); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	d, err := instances[0].Document(ctx, target(6))
	if err != nil || d.Revision != 119 || d.Stats["a"].Value != "119" || d.Stats["b"].Value != "119" || d.Stats["c"].Value != "119" {
		t.Errorf("after concurrent replaces: %+v %v, want revision 119 whole", d, err)
	}
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("p%d", i)
			if err := instances[i%2].Patch(ctx, target(7), &stats.Patch{Set: map[string]xbl.StatValue{name: {Type: xbl.Integer, Value: "1"}}}, ""); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	d, err = instances[1].Document(ctx, target(7))
	if err != nil || len(d.Stats) != 20 {
		t.Errorf("after concurrent patches: %d stats, %v, want 20", len(d.Stats), err)
	}
}

// TestLargestWrites: a patch of the most stats a request may carry (256,
// with the longest names, sets and deletes), on a user with no document
// and on one with, fits DynamoDB's 4 KB expression limit; a patch that
// only deletes creates no document; a document over 400 KB is Invalid,
// not a failure of the service.
func TestLargestWrites(t *testing.T) {
	table := ddbtest.EmptyTable(t)
	st := statstore.New(table)
	ctx := context.Background()
	set := map[string]xbl.StatValue{}
	var remove []string
	for i := range stats.MaxWriteStats {
		name := fmt.Sprintf("%03d%s", i, strings.Repeat("n", stats.MaxStatNameBytes-3))
		if i%2 == 0 {
			set[name] = xbl.StatValue{Type: xbl.String, Value: strings.Repeat("v", 1000)}
		} else {
			remove = append(remove, name)
		}
	}
	all := map[string]xbl.StatValue{}
	for i := range stats.MaxWriteStats {
		all[fmt.Sprintf("s%d", i)] = xbl.StatValue{Type: xbl.Integer, Value: fmt.Sprint(i)}
	}
	for _, x := range []xbl.XUID{8, 9} {
		if x == 9 {
			if err := st.Patch(ctx, target(x), &stats.Patch{Set: all}, ""); err != nil {
				t.Fatalf("patch of %d stats: %v", len(all), err)
			}
		}
		if err := st.Patch(ctx, target(x), &stats.Patch{Set: set, Remove: remove}, ""); err != nil {
			t.Fatalf("xuid %d: patch of %d sets and %d deletes: %v", x, len(set), len(remove), err)
		}
		d, err := st.Document(ctx, target(x))
		if err != nil || len(d.Stats) != len(set)+len(all)*int(x-8) {
			t.Errorf("xuid %d: %d stats, %v", x, len(d.Stats), err)
		}
	}
	if err := st.Patch(ctx, target(10), &stats.Patch{Remove: []string{"Ghost"}}, ""); err != nil {
		t.Fatal(err)
	}
	if d, err := st.Document(ctx, target(10)); d != nil || err != nil {
		t.Errorf("a patch of deletes alone made a document: %+v %v", d, err)
	}
	// More stats than a request may carry (the edge refuses them first)
	// would pass DynamoDB's expression limit: the store says so itself.
	many := map[string]xbl.StatValue{}
	for i := range 400 {
		many[fmt.Sprintf("m%d", i)] = xbl.StatValue{Type: xbl.Integer, Value: "1"}
	}
	if k, msg := derrors.Of(st.Patch(ctx, target(9), &stats.Patch{Set: many}, "")); k != derrors.Invalid || !strings.Contains(msg, "too many stats") {
		t.Errorf("a patch of %d stats: %v %q", len(many), k, msg)
	}
	// Grow one document past 400 KB, patch by patch.
	var err error
	for i := 0; i < 5 && err == nil; i++ {
		big := map[string]xbl.StatValue{}
		for j := range 100 {
			big[fmt.Sprintf("b%d-%d", i, j)] = xbl.StatValue{Type: xbl.String, Value: strings.Repeat("x", 1000)}
		}
		err = st.Patch(ctx, target(11), &stats.Patch{Set: big}, "")
	}
	if k, msg := derrors.Of(err); k != derrors.Invalid || !strings.Contains(msg, "400 KB") {
		t.Errorf("a document over 400 KB: %v", err)
	}
}

// TestNamesFoldAsEqualFold: stat names are one statistic exactly when
// strings.EqualFold says so (xbl.StatKey), in DynamoDB and in memory alike:
// "i" and "İ" are two statistics written by one patch, "ſ", "s" and "S" one,
// "Σ" and "ς" one, each answered in the spelling last written.
func TestNamesFoldAsEqualFold(t *testing.T) {
	ctx := context.Background()
	set := func(kv ...any) *stats.Patch { return &stats.Patch{Set: doc(0, kv...).Stats} }
	for name, st := range map[string]interface {
		stats.Writer
		stats.Reader
	}{"dynamodb": statstore.New(ddbtest.EmptyTable(t)), "memory": memstore.New()} {
		t.Run(name, func(t *testing.T) {
			for _, p := range []*stats.Patch{set("i", 1, "İ", 2, "ſ", 3, "Σ", 4), set("S", 5), {Remove: []string{"ς"}}} {
				if err := st.Patch(ctx, target(9), p, ""); err != nil {
					t.Fatalf("patch %+v: %v", p, err)
				}
			}
			d, err := st.Document(ctx, target(9))
			if err != nil || len(d.Stats) != 3 || d.Stats["i"].Value != "1" || d.Stats["İ"].Value != "2" || d.Stats["S"].Value != "5" {
				t.Errorf("document %+v %v, want i 1, İ 2, S 5", d, err)
			}
			names := []string{xbl.StatKey("I"), xbl.StatKey("İ"), xbl.StatKey("ſ"), xbl.StatKey("σ"), xbl.StatKey("ı")}
			found, err := st.ReadStats(ctx, stats.Query{Users: []xbl.XUID{9}, SCIDs: []string{scidA}, Names: names})
			got := found.Stats[stats.UserSCID{XUID: 9, SCID: scidA}]
			if err != nil || len(got) != 3 || got[names[0]].Value != "1" || got[names[1]].Value != "2" || got[names[2]].Value != "5" {
				t.Errorf("read back %+v %v", got, err)
			}
		})
	}
}

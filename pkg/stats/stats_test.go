package stats

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

const scidA = "7492baca-c1b4-440d-a391-b7ef364a8d40"

// kindStatus names kinds by the status the edge gives them, to keep the
// tables short.
var kindStatus = map[derrors.Kind]int{derrors.NotFound: 404, derrors.Forbidden: 403, derrors.Invalid: 400}

func TestCheckAccess(t *testing.T) {
	cfg := &xbl.ServiceConfig{SCID: scidA, TitleIDs: []string{"1", "2"}, Sandboxes: []string{"S"},
		Stats: map[string]xbl.Access{"o": xbl.Open, "r": xbl.Restricted}}
	tests := []struct {
		name   string
		cfg    *xbl.ServiceConfig
		stats  []string
		caller xbl.Caller
		status int // 0: allowed
	}{
		{"no config", nil, []string{"o"}, xbl.Caller{TitleID: "1", Sandbox: "S"}, 404},
		{"other sandbox", cfg, []string{"o"}, xbl.Caller{TitleID: "1", Sandbox: "T"}, 403},
		{"open, other title", cfg, []string{"o"}, xbl.Caller{TitleID: "9", Sandbox: "S"}, 0},
		{"restricted, second owner", cfg, []string{"o", "r"}, xbl.Caller{TitleID: "2", Sandbox: "S"}, 0},
		{"restricted, other title", cfg, []string{"o", "r"}, xbl.Caller{TitleID: "9", Sandbox: "S"}, 403},
		{"unnamed, other title", cfg, []string{"x"}, xbl.Caller{TitleID: "9", Sandbox: "S"}, 403},
		{"unnamed, owner", cfg, []string{"x"}, xbl.Caller{TitleID: "1", Sandbox: "S"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckAccess(tt.cfg, SCIDRequest{Raw: scidA, SCID: scidA, Stats: tt.stats}, &tt.caller)
			got := 0
			if err != nil {
				got = kindStatus[derrors.KindOf(err)]
			}
			if got != tt.status {
				t.Errorf("CheckAccess = %v, want status %d", err, tt.status)
			}
		})
	}
}

// fakeReader answers every query with found, and records the query; its
// configurations are configs.
type fakeReader struct {
	configs map[string]*xbl.ServiceConfig
	found   *Found
	err     error
	got     Query
	reads   int
}

func (f *fakeReader) ReadStats(_ context.Context, q Query) (*Found, error) {
	f.got = q
	f.reads++
	return f.found, f.err
}

func (f *fakeReader) ReadConfig(_ context.Context, scid string) (*xbl.ServiceConfig, xbl.Usage, error) {
	return f.configs[scid], xbl.Usage{Calls: 1, Items: 1, ConsumedRCU: 0.5}, nil
}

// TestRead checks the read of a request: configurations first, then one
// query with every SCID and name once, the answer in request order with
// only the stats that have a value, a SCID asked twice answered once, and
// a refusal before any statistics are read.
func TestRead(t *testing.T) {
	scidB := "c402ff50-3e76-11e2-a25f-0800200c1212"
	cfg := func(scid, title string) *xbl.ServiceConfig {
		return &xbl.ServiceConfig{SCID: scid, TitleIDs: []string{title}, Sandboxes: []string{"RETAIL"}, Stats: map[string]xbl.Access{"a": xbl.Open, "b": xbl.Open}}
	}
	found := &Found{
		Gamertags: map[xbl.XUID]string{7: "Seven"},
		Stats: map[UserSCID]map[string]xbl.StatValue{
			{7, scidA}: {"b": {Type: xbl.Integer, Value: "2"}, "a": {Type: xbl.String, Value: "x"}},
		},
		Usage: xbl.Usage{Calls: 1, ConsumedRCU: 1.5},
	}
	r := &fakeReader{found: found, configs: map[string]*xbl.ServiceConfig{scidA: cfg(scidA, "1"), scidB: cfg(scidB, "2")}}
	req := &Request{Users: []xbl.XUID{7, 8}, SCIDs: []SCIDRequest{
		{Raw: "7492BACA-c1b4-440d-a391-b7ef364a8d40", SCID: scidA, Stats: []string{"b", "a"}},
		{Raw: scidB, SCID: scidB, Stats: []string{"a"}},
		{Raw: scidA, SCID: scidA, Stats: []string{"a", "z"}},
	}}
	caller := &xbl.Caller{TitleID: "1", Sandbox: "RETAIL"}
	res, err := (&Service{Configs: r, Reader: r}).Read(context.Background(), caller, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.got.SCIDs) != 2 || len(r.got.Names) != 3 || len(r.got.Users) != 2 {
		t.Errorf("query %+v: want 2 SCIDs, 3 names, 2 users, each once", r.got)
	}
	want := xbl.Usage{Calls: 3, Items: 2, ConsumedRCU: 2.5} // two configurations, then the statistics
	if res.Usage != want || res.Found != 1 {
		t.Errorf("usage %+v found %d, want %+v", res.Usage, res.Found, want)
	}
	u := res.Users[0]
	if u.XUID != 7 || u.Gamertag != "Seven" || len(u.SCIDs) != 2 || u.SCIDs[0].SCID != req.SCIDs[0].Raw {
		t.Fatalf("user 7: %+v, want A (as first written) and B, once each", u)
	}
	if got := u.SCIDs[0].Stats; len(got) != 2 || got[0].Name != "b" || got[1].Name != "a" {
		t.Errorf("stats of A: %+v, want b then a (z has no value)", got)
	}
	if got := u.SCIDs[1].Stats; len(got) != 0 {
		t.Errorf("stats of B: %+v, want none", got)
	}
	if res.Users[1].XUID != 8 || res.Users[1].Gamertag != "" || len(res.Users[1].SCIDs[0].Stats) != 0 {
		t.Errorf("user 8: %+v", res.Users[1])
	}

	// B's stat "a" is open, but "z" of A is not configured: refused for a
	// title that does not own A, before any statistics are read, with the
	// configurations' usage kept.
	reads := r.reads
	res, err = (&Service{Configs: r, Reader: r}).Read(context.Background(), &xbl.Caller{TitleID: "2", Sandbox: "RETAIL"}, req)
	if derrors.KindOf(err) != derrors.Forbidden || res == nil || res.Usage.Calls != 2 || res.Users != nil || r.reads != reads {
		t.Errorf("refused read: %v, %+v, %d statistics reads", err, res, r.reads-reads)
	}

	down := errors.New("down")
	failing := &fakeReader{err: down, configs: r.configs}
	if _, err := (&Service{Configs: failing, Reader: failing}).Read(context.Background(), caller, req); !errors.Is(err, down) {
		t.Errorf("reader failure: %v", err)
	}
}

func TestMergeSCIDs(t *testing.T) {
	lower, upper := scidA, "7492BACA-C1B4-440D-A391-B7EF364A8D40"
	got := MergeSCIDs([]SCIDRequest{
		{Raw: upper, SCID: lower, Stats: []string{"a", "b"}},
		{Raw: "x", SCID: "x", Stats: []string{"k"}},
		{Raw: lower, SCID: lower, Stats: []string{"c", "a"}},
		{Raw: "X", SCID: "x", Stats: []string{"k"}},
	})
	if len(got) != 2 || got[0].Raw != upper || !slices.Equal(got[0].Stats, []string{"a", "b", "c"}) ||
		got[1].Raw != "x" || !slices.Equal(got[1].Stats, []string{"k"}) {
		t.Errorf("MergeSCIDs = %+v", got)
	}
}

func TestCheckStatName(t *testing.T) {
	for name, ok := range map[string]bool{"KD": true, "": false, "a\x00b": false, "a\x7fb": false, string(make([]byte, MaxStatNameBytes)): false, "é": true, "\xff": false,
		"a\u0085b": false, "a\u009fb": false, "a\u0080b": false, "a\u00a0b": true, "ſ": true} {
		if err := CheckStatName(name); (err == nil) != ok {
			t.Errorf("CheckStatName(%q) = %v", name, err)
		}
	}
}

func TestValidate(t *testing.T) {
	one := SCIDRequest{Raw: scidA, SCID: scidA, Stats: []string{"a"}}
	many := func(n int) []xbl.XUID { return make([]xbl.XUID, n) }
	tests := []struct {
		name string
		req  Request
		ok   bool
	}{
		{"smallest", Request{Users: many(1), SCIDs: []SCIDRequest{one}}, true},
		{"no users", Request{SCIDs: []SCIDRequest{one}}, false},
		{"too many users", Request{Users: many(MaxUsers + 1), SCIDs: []SCIDRequest{one}}, false},
		{"no scids", Request{Users: many(1)}, false},
		{"too many scids", Request{Users: many(1), SCIDs: make([]SCIDRequest, MaxSCIDs+1)}, false},
		{"no stats", Request{Users: many(1), SCIDs: []SCIDRequest{{Raw: scidA, SCID: scidA}}}, false},
		{"bad stat name", Request{Users: many(1), SCIDs: []SCIDRequest{{Raw: scidA, SCID: scidA, Stats: []string{""}}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.req.Validate()
			if (err == nil) != tt.ok || err != nil && derrors.KindOf(err) != derrors.Invalid {
				t.Errorf("Validate = %v", err)
			}
			if !tt.ok {
				r := &fakeReader{}
				if _, err := (&Service{Configs: r, Reader: r}).Read(context.Background(), &xbl.Caller{}, &tt.req); err == nil || r.got.Users != nil {
					t.Errorf("Read of an invalid request: %v, read %+v", err, r.got)
				}
			}
		})
	}
}

package sessions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// The data of pkg/sessionsapi/testdata/fixture.json, as a Reader sees it.
const (
	scidA = "7492baca-c1b4-440d-a391-b7ef364a8d40" // sandboxes XDKS.1, RETAIL
	scidB = "c402ff50-3e76-11e2-a25f-0800200c1212" // sandbox RETAIL
	scidC = "00000000-0000-0000-0000-0000000000cc" // no configuration
)

type member struct {
	xuid   xbl.XUID
	status xbl.MemberStatus
	myTurn bool
}

type fakeSession struct {
	scid    string
	session Session // without member state
	members []member
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func fixtureSessions() []fakeSession {
	return []fakeSession{
		{scidA, Session{Template: "deathmatch", Name: "session-seven", StartTime: at("2026-11-20T13:45:30.09Z"), Version: 1,
			Visibility: xbl.OpenVis, JoinRestriction: "local", Keywords: []string{"one", "two"}, Accepted: 2},
			[]member{{9876, xbl.Active, true}, {5432, xbl.Reserved, false}, {1111, xbl.Active, false}}},
		{scidA, Session{Template: "deathmatch", Name: "late-night", StartTime: at("2026-11-21T23:59:59.123456789Z"), Version: 3,
			Visibility: xbl.Visible, JoinRestriction: "followed", Keywords: []string{"one", "a+b"}, Accepted: 2},
			[]member{{9876, xbl.Inactive, false}, {1111, xbl.Active, false}}},
		{scidA, Session{Template: "coop", Name: "evening-raid", StartTime: at("2026-11-21T19:00:00Z"), Version: 2,
			Visibility: xbl.Private, Keywords: []string{"raid", "a b"}, Accepted: 1},
			[]member{{9876, xbl.Active, false}, {1111, xbl.Reserved, false}}},
		{scidA, Session{Template: "coop", Name: "full-house", StartTime: at("2026-11-19T08:00:00.5Z"), Version: 1,
			Visibility: xbl.Full, JoinRestriction: "local", Keywords: []string{}, Accepted: 3},
			[]member{{1111, xbl.Active, false}, {2222, xbl.Active, false}, {3333, xbl.Inactive, false}, {4444, xbl.Reserved, false}}},
		{scidB, Session{Template: "deathmatch", Name: "other-scid", StartTime: at("2026-11-22T00:00:00Z"), Version: 1,
			Visibility: xbl.OpenVis, Keywords: []string{"one"}, Accepted: 1},
			[]member{{9876, xbl.Active, false}}},
	}
}

// readUsage is what every read of fakeReader costs.
var readUsage = xbl.Usage{Calls: 1, ConsumedRCU: 0.5}

// fakeReader answers from fixed data, as a store does: the heads of the
// sessions of one SCID (exactly as given), of one template or all, made
// rows by the query's Filter, in no particular order. It counts its reads;
// err, when set, fails every read.
type fakeReader struct {
	configs  map[string]*xbl.ServiceConfig
	sessions []fakeSession
	err      error

	mu    sync.Mutex
	reads int
}

func newFakeReader() *fakeReader {
	return &fakeReader{
		configs: map[string]*xbl.ServiceConfig{
			scidA: {SCID: scidA, TitleIDs: []string{"1297287135"}, Sandboxes: []string{"XDKS.1", "RETAIL"}},
			scidB: {SCID: scidB, TitleIDs: []string{"1818181818"}, Sandboxes: []string{"RETAIL"}},
		},
		sessions: fixtureSessions(),
	}
}

func (f *fakeReader) read() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.err
}

func (f *fakeReader) Reads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

func (f *fakeReader) ReadConfig(_ context.Context, scid string) (*xbl.ServiceConfig, xbl.Usage, error) {
	if err := f.read(); err != nil {
		return nil, readUsage, err
	}
	return f.configs[scid], readUsage, nil
}

// head is fs as a store keeps it: a full session is an open one whose
// seats are all taken; reservations never expire.
func (fs *fakeSession) head() *Head {
	h := &Head{
		Template: fs.session.Template, Name: fs.session.Name, StartTime: fs.session.StartTime,
		Version: fs.session.Version, Visibility: fs.session.Visibility, MaxMembers: MaxMembersCount,
		JoinRestriction: fs.session.JoinRestriction, Keywords: slices.Clone(fs.session.Keywords),
	}
	if h.Visibility == xbl.Full {
		h.Visibility, h.MaxMembers = xbl.OpenVis, len(fs.members)
	}
	for i, m := range fs.members {
		hm := Member{XUID: m.xuid, Index: i}
		hm.SetStatus(string(m.status))
		h.Members = append(h.Members, hm)
		if m.myTurn {
			h.Turn = append(h.Turn, i)
		}
	}
	return h
}

// find returns the rows filter makes of every session of its SCID and
// template, whatever the limit, backwards, so that the order and the cut
// Find gives are its own work.
func (f *fakeReader) find(filter *Filter, x *xbl.XUID) ([]Session, xbl.Usage, error) {
	if err := f.read(); err != nil {
		return nil, readUsage, err
	}
	var out []Session
	for i := len(f.sessions) - 1; i >= 0; i-- {
		fs := &f.sessions[i]
		if fs.scid != filter.SCID || filter.Template != "" && fs.session.Template != filter.Template {
			continue
		}
		if s, ok := filter.Row(fs.head(), x); ok {
			out = append(out, s)
		}
	}
	return out, readUsage, nil
}

func (f *fakeReader) UserSessions(_ context.Context, x xbl.XUID, filter *Filter, _ int) ([]Session, xbl.Usage, error) {
	return f.find(filter, &x)
}

func (f *fakeReader) KeywordSessions(_ context.Context, filter *Filter, _ int) ([]Session, xbl.Usage, error) {
	return f.find(filter, nil)
}

// find asks a Service over r, with no clock of its own.
func find(r *fakeReader, caller *xbl.Caller, q *Query) (*Result, error) {
	s := &Service{Configs: r, Reader: r}
	return s.Find(context.Background(), caller, q)
}

// The callers of the tests.
var (
	self   = xbl.Caller{XUID: 9876, UserHash: "uhs", TitleID: "1297287135", Sandbox: "RETAIL"}
	server = xbl.Caller{XUID: 1, UserHash: "uhs", TitleID: "1297287135", Sandbox: "RETAIL", Server: true}
)

// rowsOf summarises rows as "xuid:template/name" (xuid "-" when absent).
func rowsOf(rows []Row) string {
	var out []string
	for _, r := range rows {
		x := "-"
		if r.XUID != nil {
			x = r.XUID.String()
		}
		out = append(out, x+":"+r.Template+"/"+r.Name)
	}
	return strings.Join(out, " ")
}

// TestCheckPrivilege: private and reservation queries need server access
// or the caller's own xuid for every queried xuid, whether or not such
// sessions exist; Find refuses them before reading anything.
func TestCheckPrivilege(t *testing.T) {
	tests := []struct {
		name    string
		scid    string
		q       Query
		caller  xbl.Caller
		allowed bool
	}{
		{"private, other user with data", scidA, Query{XUIDs: []xbl.XUID{1111}, Private: true}, self, false},
		{"private, other user without data", scidA, Query{XUIDs: []xbl.XUID{5555}, Private: true}, self, false},
		{"reservations, other user with data", scidA, Query{XUIDs: []xbl.XUID{1111}, Reservations: true}, self, false},
		{"reservations, other user without data", scidA, Query{XUIDs: []xbl.XUID{5555}, Reservations: true}, self, false},
		{"private, other scid without sessions", scidB, Query{XUIDs: []xbl.XUID{1111}, Private: true}, self, false},
		{"private, own xuid", scidA, Query{XUIDs: []xbl.XUID{9876}, Private: true}, self, true},
		{"reservations, own xuid", scidA, Query{XUIDs: []xbl.XUID{9876}, Reservations: true}, self, true},
		{"private, server", scidA, Query{XUIDs: []xbl.XUID{1111}, Private: true}, server, true},
		{"batch, private, one other xuid", scidA, Query{XUIDs: []xbl.XUID{9876, 1111}, Private: true}, self, false},
		{"batch, reservations, only others", scidA, Query{XUIDs: []xbl.XUID{5555}, Reservations: true}, self, false},
		{"batch, private, own xuid twice", scidA, Query{XUIDs: []xbl.XUID{9876, 9876}, Private: true}, self, true},
		{"batch, server", scidA, Query{XUIDs: []xbl.XUID{9876, 1111}, Private: true, Reservations: true}, server, true},
		{"keyword, private", scidA, Query{Keyword: "raid", Private: true}, self, false},
		{"keyword, private, server", scidA, Query{Keyword: "raid", Private: true}, server, true},
		{"no privilege needed", scidA, Query{XUIDs: []xbl.XUID{1111}, Inactive: true}, self, true},
		{"keyword, no privilege needed", scidA, Query{Keyword: "raid"}, self, true},
		{"keyword, reservations", scidA, Query{Keyword: "raid", Reservations: true}, self, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.SCIDRaw, q.SCID, q.Take = tt.scid, tt.scid, MaxTake
			err := CheckPrivilege(&q, &tt.caller)
			if tt.allowed && err != nil {
				t.Fatalf("CheckPrivilege = %v, want allowed", err)
			}
			if !tt.allowed {
				if derrors.KindOf(err) != derrors.Forbidden {
					t.Fatalf("CheckPrivilege = %v (kind %v), want Forbidden", err, derrors.KindOf(err))
				}
				if _, msg := derrors.Of(err); !strings.Contains(msg, "server access") {
					t.Errorf("message %q does not say what is needed", msg)
				}
			}

			r := newFakeReader()
			res, err := find(r, &tt.caller, &q)
			if tt.allowed {
				if err != nil {
					t.Errorf("Find = %v, want an answer", err)
				}
				return
			}
			if derrors.KindOf(err) != derrors.Forbidden || res != nil {
				t.Errorf("Find = %+v, %v: want nil and Forbidden", res, err)
			}
			if n := r.Reads(); n != 0 {
				t.Errorf("%d reads before the refusal, want none", n)
			}
		})
	}
}

// TestFind: the filters, the order (grouped per xuid in request order,
// newest first) and the cap of a query.
func TestFind(t *testing.T) {
	xuids := func(xs ...xbl.XUID) []xbl.XUID { return xs }
	tests := []struct {
		name   string
		q      Query // SCID scidA, SCIDRaw as SCID and Take MaxTake when not set (but in "take 0")
		caller xbl.Caller
		want   string
	}{
		{"active only by default", Query{XUIDs: xuids(9876)}, self, "9876:deathmatch/session-seven"},
		{"inactive", Query{XUIDs: xuids(9876), Inactive: true}, self, "9876:deathmatch/late-night 9876:deathmatch/session-seven"},
		{"private, own xuid", Query{XUIDs: xuids(9876), Private: true}, self, "9876:coop/evening-raid 9876:deathmatch/session-seven"},
		{"private and inactive", Query{XUIDs: xuids(9876), Private: true, Inactive: true}, self, "9876:deathmatch/late-night 9876:coop/evening-raid 9876:deathmatch/session-seven"},
		{"another user, newest first", Query{XUIDs: xuids(1111)}, self, "1111:deathmatch/late-night 1111:deathmatch/session-seven 1111:coop/full-house"},
		{"visibility", Query{XUIDs: xuids(1111), Visibility: xbl.Full}, self, "1111:coop/full-house"},
		{"visibility private", Query{XUIDs: xuids(9876), Visibility: xbl.Private, Private: true}, self, "9876:coop/evening-raid"},
		{"version", Query{XUIDs: xuids(1111), Version: 1, HasVersion: true}, self, "1111:deathmatch/session-seven 1111:coop/full-house"},
		{"version 0", Query{XUIDs: xuids(1111), Version: 0, HasVersion: true}, self, ""},
		{"keyword", Query{XUIDs: xuids(1111), Keyword: "one"}, self, "1111:deathmatch/late-night 1111:deathmatch/session-seven"},
		{"plus is literal", Query{XUIDs: xuids(1111), Keyword: "a+b"}, self, "1111:deathmatch/late-night"},
		{"keyword with a space", Query{XUIDs: xuids(9876), Keyword: "a b", Private: true}, self, "9876:coop/evening-raid"},
		{"take", Query{XUIDs: xuids(1111), Take: 2}, self, "1111:deathmatch/late-night 1111:deathmatch/session-seven"},
		{"take 0", Query{XUIDs: xuids(1111), Take: 0}, self, ""},
		{"no sessions", Query{XUIDs: xuids(5555)}, self, ""},
		{"reservations, server", Query{XUIDs: xuids(4444), Reservations: true}, server, "4444:coop/full-house"},
		{"reserved hidden by default", Query{XUIDs: xuids(4444)}, self, ""},
		{"template", Query{Template: "coop", XUIDs: xuids(1111)}, self, "1111:coop/full-house"},
		{"template and inactive", Query{Template: "deathmatch", XUIDs: xuids(9876), Inactive: true}, self, "9876:deathmatch/late-night 9876:deathmatch/session-seven"},
		{"template prefix is exact", Query{Template: "death", XUIDs: xuids(9876)}, self, ""},
		{"keyword only", Query{Keyword: "one"}, self, "-:deathmatch/late-night -:deathmatch/session-seven"},
		{"keyword only, template", Query{Template: "coop", Keyword: "one"}, self, ""},
		{"keyword only, private hidden", Query{Keyword: "raid"}, self, ""},
		{"keyword only, private, server", Query{Keyword: "raid", Private: true}, server, "-:coop/evening-raid"},
		{"keyword only, take", Query{Keyword: "one", Take: 1}, self, "-:deathmatch/late-night"},
		{"keyword only, version", Query{Keyword: "one", Version: 2, HasVersion: true}, self, "-:deathmatch/session-seven"},
		{"keyword only, visibility", Query{Keyword: "one", Visibility: xbl.OpenVis}, self, "-:deathmatch/session-seven"},
		{"scid in upper case", Query{SCIDRaw: strings.ToUpper(scidA), XUIDs: xuids(9876)}, self, "9876:deathmatch/session-seven"},
		{"batch, grouped per xuid in order", Query{XUIDs: xuids(1111, 9876)}, self,
			"1111:deathmatch/late-night 1111:deathmatch/session-seven 1111:coop/full-house 9876:deathmatch/session-seven"},
		{"batch, take caps the total", Query{XUIDs: xuids(9876, 1111), Take: 4}, self,
			"9876:deathmatch/session-seven 1111:deathmatch/late-night 1111:deathmatch/session-seven 1111:coop/full-house"},
		{"batch, take cuts inside a user", Query{XUIDs: xuids(9876, 1111), Take: 2}, self,
			"9876:deathmatch/session-seven 1111:deathmatch/late-night"},
		// The edge removes repeated xuids (parseBody); the query has each once.
		{"batch, repeated xuid once", Query{XUIDs: xuids(9876)}, self, "9876:deathmatch/session-seven"},
		{"batch, unknown users", Query{XUIDs: xuids(5555, 6666)}, self, ""},
		{"batch, reservations and private, server", Query{XUIDs: xuids(5432, 1111), Reservations: true, Private: true}, server,
			"5432:deathmatch/session-seven 1111:deathmatch/late-night 1111:coop/evening-raid 1111:deathmatch/session-seven 1111:coop/full-house"},
		{"batch, template", Query{Template: "deathmatch", XUIDs: xuids(9876, 1111), Inactive: true}, self,
			"9876:deathmatch/late-night 9876:deathmatch/session-seven 1111:deathmatch/late-night 1111:deathmatch/session-seven"},
		{"batch, keyword filter", Query{XUIDs: xuids(9876, 1111), Keyword: "two"}, self,
			"9876:deathmatch/session-seven 1111:deathmatch/session-seven"},
		{"other scid", Query{SCID: scidB, XUIDs: xuids(9876)}, self, "9876:deathmatch/other-scid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			if q.SCID == "" {
				q.SCID = scidA
			}
			if q.SCIDRaw == "" {
				q.SCIDRaw = q.SCID
			}
			if q.Take == 0 && tt.name != "take 0" {
				q.Take = MaxTake
			}
			r := newFakeReader()
			res, err := find(r, &tt.caller, &q)
			if err != nil {
				t.Fatal(err)
			}
			if got := rowsOf(res.Rows); got != tt.want {
				t.Errorf("rows\n got %q\nwant %q", got, tt.want)
			}
			if res.Rows == nil {
				t.Error("Rows is nil, want empty")
			}
			reads := 1 + max(len(q.XUIDs), 1) // the configuration, and each xuid or the keyword
			if q.Take == 0 {
				reads = 1 // nothing can be answered: the configuration alone, for access
			}
			if r.Reads() != reads || res.Usage.Calls != reads || res.Usage.ConsumedRCU != float64(reads)*readUsage.ConsumedRCU {
				t.Errorf("%d reads, usage %+v; want %d reads, all counted", r.Reads(), res.Usage, reads)
			}
		})
	}
}

// TestFindRows: a row carries the session, the xuid it was found through
// and that member's state; a keyword row has no xuid and no member state.
func TestFindRows(t *testing.T) {
	fake := newFakeReader()
	q := &Query{SCIDRaw: scidA, SCID: scidA, XUIDs: []xbl.XUID{9876, 1111}, Take: MaxTake}
	res, err := find(fake, &self, q)
	if err != nil {
		t.Fatal(err)
	}
	first := res.Rows[0]
	if first.XUID == nil || *first.XUID != 9876 || first.Status != xbl.Active || !first.MyTurn || first.Accepted != 2 ||
		first.JoinRestriction != "local" || first.Version != 1 || !slices.Equal(first.Keywords, []string{"one", "two"}) ||
		!first.StartTime.Equal(at("2026-11-20T13:45:30.09Z")) {
		t.Errorf("first row %+v", first)
	}
	if last := res.Rows[len(res.Rows)-1]; last.XUID == nil || *last.XUID != 1111 || last.MyTurn || last.Name != "full-house" {
		t.Errorf("last row %+v", last)
	}
	res, err = find(fake, &self, &Query{SCIDRaw: scidA, SCID: scidA, Keyword: "two", Take: MaxTake})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || res.Rows[0].XUID != nil || res.Rows[0].Status != "" || res.Rows[0].MyTurn {
		t.Errorf("keyword rows %+v", res.Rows)
	}
}

// TestFindRefusals: the SCID must have a configuration that names the
// caller's sandbox; a failed read is returned as it is. The Result, with
// the cost of the reads made, comes back with the error.
func TestFindRefusals(t *testing.T) {
	down := derrors.Wrap(derrors.Unavailable, "the service is temporarily unavailable; retry later", errors.New("connection refused"))
	tests := []struct {
		name    string
		scid    string
		q       Query
		sandbox string
		readErr error
		kind    derrors.Kind // Internal: no error
		message string
	}{
		{"sandbox of the scid", scidA, Query{XUIDs: []xbl.XUID{9876}}, "XDKS.1", nil, derrors.Internal, ""},
		{"sandbox not of the scid", scidA, Query{XUIDs: []xbl.XUID{9876}}, "XDKS.2", nil, derrors.Forbidden, `sandbox "XDKS.2" is not authorized for scid ` + scidA},
		{"sandbox of another scid", scidB, Query{XUIDs: []xbl.XUID{9876}}, "XDKS.1", nil, derrors.Forbidden, scidB},
		{"no configuration", scidC, Query{XUIDs: []xbl.XUID{9876}}, "RETAIL", nil, derrors.NotFound, "scid " + scidC + " has no service configuration"},
		{"no configuration, keyword", scidC, Query{Keyword: "one"}, "RETAIL", nil, derrors.NotFound, scidC},
		{"store down", scidA, Query{XUIDs: []xbl.XUID{9876, 1111}}, "RETAIL", down, derrors.Unavailable, "retry later"},
		{"store down, keyword", scidA, Query{Keyword: "one"}, "RETAIL", down, derrors.Unavailable, "retry later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.SCIDRaw, q.SCID, q.Take = tt.scid, tt.scid, MaxTake
			r := newFakeReader()
			r.err = tt.readErr
			caller := self
			caller.Sandbox = tt.sandbox
			res, err := find(r, &caller, &q)
			if tt.kind == derrors.Internal {
				if err != nil {
					t.Fatalf("Find = %v, want an answer", err)
				}
				return
			}
			if k, msg := derrors.Of(err); k != tt.kind || !strings.Contains(msg, tt.message) {
				t.Errorf("Find = %v (kind %v), want %v containing %q", err, k, tt.kind, tt.message)
			}
			if tt.readErr != nil && !errors.Is(err, tt.readErr) {
				t.Errorf("Find = %v, want the reader's error", err)
			}
			if res == nil || res.Rows != nil || res.Usage.Calls == 0 {
				t.Errorf("result %+v: want no rows and the cost of the reads", res)
			}
		})
	}
}

// TestWantSession: the filters of every query.
func TestWantSession(t *testing.T) {
	s := Session{Visibility: xbl.OpenVis, Version: 2, Keywords: []string{"one", "a+b"}}
	private := Session{Visibility: xbl.Private, Version: 1}
	tests := []struct {
		name string
		q    Query
		s    Session
		want bool
	}{
		{"no filter", Query{}, s, true},
		{"private hidden", Query{}, private, false},
		{"private asked for", Query{Private: true}, private, true},
		{"visibility matches", Query{Visibility: xbl.OpenVis}, s, true},
		{"visibility differs", Query{Visibility: xbl.Full}, s, false},
		{"visibility private", Query{Visibility: xbl.Private, Private: true}, private, true},
		{"version above", Query{Version: 1, HasVersion: true}, s, false},
		{"version equal", Query{Version: 2, HasVersion: true}, s, true},
		{"version 0 given", Query{Version: 0, HasVersion: true}, s, false},
		{"version not given", Query{Version: 0}, s, true},
		{"keyword present", Query{Keyword: "a+b"}, s, true},
		{"keyword absent", Query{Keyword: "a b"}, s, false},
		{"keyword is exact", Query{Keyword: "on"}, s, false},
		{"no keywords", Query{Keyword: "one"}, private, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.q.Filter(time.Time{}).wantSession(&tt.s); got != tt.want {
				t.Errorf("wantSession = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestWantMember: active members always, inactive and reserved ones when
// asked for, anything else never; the session filters still apply.
func TestWantMember(t *testing.T) {
	with := func(st xbl.MemberStatus, v xbl.Visibility) Session {
		return Session{Visibility: v, Version: 1, Status: st}
	}
	tests := []struct {
		name string
		q    Query
		s    Session
		want bool
	}{
		{"active", Query{}, with(xbl.Active, xbl.OpenVis), true},
		{"inactive hidden", Query{}, with(xbl.Inactive, xbl.OpenVis), false},
		{"inactive asked for", Query{Inactive: true}, with(xbl.Inactive, xbl.OpenVis), true},
		{"reserved hidden", Query{}, with(xbl.Reserved, xbl.OpenVis), false},
		{"reserved, inactive asked for", Query{Inactive: true}, with(xbl.Reserved, xbl.OpenVis), false},
		{"reserved asked for", Query{Reservations: true}, with(xbl.Reserved, xbl.OpenVis), true},
		{"inactive, reservations asked for", Query{Reservations: true}, with(xbl.Inactive, xbl.OpenVis), false},
		{"no status", Query{Inactive: true, Reservations: true}, with("", xbl.OpenVis), false},
		{"unknown status", Query{Inactive: true, Reservations: true}, with("left", xbl.OpenVis), false},
		{"active, private hidden", Query{}, with(xbl.Active, xbl.Private), false},
		{"active, private asked for", Query{Private: true}, with(xbl.Active, xbl.Private), true},
		{"reserved, visibility differs", Query{Reservations: true, Visibility: xbl.Full}, with(xbl.Reserved, xbl.OpenVis), false},
		{"active, version above", Query{Version: 0, HasVersion: true}, with(xbl.Active, xbl.OpenVis), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.q.Filter(time.Time{})
			if got := f.wantStatus(tt.s.Status) && f.wantSession(&tt.s); got != tt.want {
				t.Errorf("member wanted = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSortNewestFirst: newest start time first; equal times by template,
// then name, so that the order is one whatever order the store gives.
func TestSortNewestFirst(t *testing.T) {
	t0 := at("2026-11-20T13:45:30Z")
	s := func(template, name string, d time.Duration) Session {
		return Session{Template: template, Name: name, StartTime: t0.Add(d)}
	}
	want := []Session{
		s("b", "x", time.Hour),
		s("a", "y", 100*time.Nanosecond),
		s("a", "a", 0),
		s("a", "b", 0),
		s("b", "a", 0),
		s("a", "z", -time.Second),
	}
	for _, perm := range [][]int{{0, 1, 2, 3, 4, 5}, {5, 4, 3, 2, 1, 0}, {3, 0, 5, 1, 4, 2}} {
		got := make([]Session, len(want))
		for i, p := range perm {
			got[i] = want[p]
		}
		sortNewestFirst(got)
		if !slices.EqualFunc(got, want, func(a, b Session) bool {
			return a.Template == b.Template && a.Name == b.Name && a.StartTime.Equal(b.StartTime)
		}) {
			var names []string
			for _, g := range got {
				names = append(names, g.Template+"/"+g.Name)
			}
			t.Errorf("from %v: order %v", perm, names)
		}
	}
}

func TestValidate(t *testing.T) {
	for name, tt := range map[string]struct {
		q  Query
		ok bool
	}{
		"one xuid":       {Query{XUIDs: []xbl.XUID{1}, Take: MaxTake}, true},
		"keyword":        {Query{Keyword: "k"}, true},
		"neither":        {Query{Take: 1}, false},
		"too many xuids": {Query{XUIDs: make([]xbl.XUID, MaxXUIDs+1)}, false},
		"take too large": {Query{Keyword: "k", Take: MaxTake + 1}, false},
		"negative take":  {Query{Keyword: "k", Take: -1}, false},
	} {
		t.Run(name, func(t *testing.T) {
			if err := tt.q.Validate(); (err == nil) != tt.ok || err != nil && derrors.KindOf(err) != derrors.Invalid {
				t.Errorf("Validate = %v", err)
			}
		})
	}
}

// orderReader gives each xuid perXUID rows (as a store would: no more than
// the limit asked for) and ends reads in request order: the read of xuid
// x waits for that of x-1 to end. It records the limit each read asked
// for; fail, when set, fails the read of that xuid.
type orderReader struct {
	perXUID int
	fail    xbl.XUID

	mu     sync.Mutex
	limits map[xbl.XUID]int
	ended  map[xbl.XUID]chan struct{}
}

func newOrderReader(perXUID int) *orderReader {
	return &orderReader{perXUID: perXUID, limits: map[xbl.XUID]int{}, ended: map[xbl.XUID]chan struct{}{}}
}

func (r *orderReader) done(x xbl.XUID) chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended[x] == nil {
		r.ended[x] = make(chan struct{})
	}
	return r.ended[x]
}

func (r *orderReader) ReadConfig(context.Context, string) (*xbl.ServiceConfig, xbl.Usage, error) {
	return &xbl.ServiceConfig{SCID: scidA, Sandboxes: []string{"RETAIL"}}, xbl.Usage{}, nil
}

func (r *orderReader) UserSessions(ctx context.Context, x xbl.XUID, f *Filter, limit int) ([]Session, xbl.Usage, error) {
	r.mu.Lock()
	r.limits[x] = limit
	r.mu.Unlock()
	defer close(r.done(x))
	if x > 1 {
		select {
		case <-r.done(x - 1):
		case <-ctx.Done():
			return nil, xbl.Usage{}, ctx.Err()
		}
	}
	if x == r.fail {
		return nil, xbl.Usage{Calls: 1}, derrors.New(derrors.Unavailable, "xuid %d unavailable", x)
	}
	var out []Session
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range r.perXUID {
		h := &Head{Template: "t", Name: fmt.Sprintf("s%d-%02d", x, i), StartTime: t0.Add(-time.Duration(i) * time.Minute),
			Visibility: xbl.OpenVis, Members: []Member{{XUID: x, Active: true}}}
		if s, ok := f.Row(h, &x); ok {
			out = append(out, s)
		}
	}
	n := min(len(out), limit)
	return out[:n], xbl.Usage{Calls: 1, Items: n}, nil
}

func (r *orderReader) KeywordSessions(context.Context, *Filter, int) ([]Session, xbl.Usage, error) {
	return nil, xbl.Usage{}, errors.New("not a keyword test")
}

// TestFindReadsInRequestOrder: a batch of 100 xuids, each in 16 sessions,
// with take=100 reads the xuids in request order and stops once the xuids
// read hold 100 rows: the first 16 at once (QueryConcurrency), then one
// more as each ends, asking for the rows still missing, until 7 have
// ended (112 rows): 22 reads, of which 15 (QueryConcurrency-1) past the 7
// the answer needs were in flight when it became certain. The answer is
// the first 100 rows in request order.
func TestFindReadsInRequestOrder(t *testing.T) {
	r := newOrderReader(16)
	q := &Query{SCIDRaw: scidA, SCID: scidA, Take: 100, Inactive: true}
	for x := range xbl.XUID(100) {
		q.XUIDs = append(q.XUIDs, x+1)
	}
	res, err := (&Service{Configs: r, Reader: r}).Find(context.Background(), &self, q)
	if err != nil {
		t.Fatal(err)
	}
	want := map[xbl.XUID]int{}
	for x := xbl.XUID(1); x <= 16; x++ {
		want[x] = 100
	}
	for i, limit := range []int{84, 68, 52, 36, 20, 4} {
		want[xbl.XUID(17+i)] = limit
	}
	if fmt.Sprint(r.limits) != fmt.Sprint(want) {
		t.Errorf("reads (xuid:limit)\n got %v\nwant %v", r.limits, want)
	}
	var got, wantRows []string
	for _, row := range res.Rows {
		got = append(got, row.XUID.String()+":"+row.Name)
	}
	for x := xbl.XUID(1); len(wantRows) < 100; x++ {
		for i := range 16 {
			wantRows = append(wantRows, fmt.Sprintf("%d:s%d-%02d", x, x, i))
		}
	}
	if !slices.Equal(got, wantRows[:100]) {
		t.Errorf("rows\n got %v\nwant %v", got, wantRows[:100])
	}
	if res.Usage.Calls != len(r.limits) {
		t.Errorf("usage %+v: want the %d reads counted", res.Usage, len(r.limits))
	}
}

// TestFindFailures: a read the answer needs fails the query; one past the
// answer (read because it was in flight) does not.
func TestFindFailures(t *testing.T) {
	for _, tt := range []struct {
		fail xbl.XUID
		ok   bool
	}{
		{3, false},  // among the 7 xuids that answer
		{7, false},  // the last of them
		{8, true},   // in flight, past the answer
		{20, true},  // started after the answer's first xuids ended, past it
		{100, true}, // never read
	} {
		t.Run(fmt.Sprint(tt.fail), func(t *testing.T) {
			r := newOrderReader(16)
			r.fail = tt.fail
			q := &Query{SCIDRaw: scidA, SCID: scidA, Take: 100}
			for x := range xbl.XUID(100) {
				q.XUIDs = append(q.XUIDs, x+1)
			}
			res, err := (&Service{Configs: r, Reader: r}).Find(context.Background(), &self, q)
			if tt.ok {
				if err != nil || len(res.Rows) != 100 {
					t.Fatalf("Find = %d rows, %v; want 100 rows", len(res.Rows), err)
				}
				return
			}
			if derrors.KindOf(err) != derrors.Unavailable || !strings.Contains(err.Error(), fmt.Sprint(tt.fail)) || res == nil || res.Rows != nil {
				t.Fatalf("Find = %+v, %v; want xuid %d's error and no rows", res, err, tt.fail)
			}
		})
	}
}

// TestFilterRow: the row a head makes is read through the member at the
// filter's time: a reservation expired by then is neither a member nor
// counted.
func TestFilterRow(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	x := xbl.XUID(2)
	h := &Head{Template: "t", Name: "n", StartTime: now.Add(-time.Hour), Visibility: xbl.OpenVis, MaxMembers: 2, Keywords: []string{"Red"},
		Members: []Member{{XUID: 1, Active: true}, {XUID: 2, Index: 1, Reserved: true, ReservedUntil: now.Add(time.Minute)}}}
	f := &Filter{SCID: scidA, Reservations: true, Keyword: "red", Now: now}
	s, ok := f.Row(h, &x)
	if !ok || s.Status != xbl.Reserved || s.Visibility != xbl.Full || s.Accepted != 1 {
		t.Errorf("before the reservation expires: %+v, %v", s, ok)
	}
	f.Now = now.Add(time.Minute)
	if s, ok := f.Row(h, &x); ok {
		t.Errorf("when the reservation expires: %+v, want no row", s)
	}
	if s, ok := f.Row(h, nil); !ok || s.Visibility != xbl.OpenVis || s.Accepted != 1 {
		t.Errorf("keyword row after the reservation expires: %+v, %v", s, ok)
	}
	f.Keyword = "blue"
	if _, ok := f.Row(h, nil); ok {
		t.Error("a session without the keyword is a row")
	}
	f.Now, f.Keyword, f.Reservations = now, "", false
	if _, ok := f.Row(h, &x); ok {
		t.Error("a reservation not asked for is a row")
	}
}

// TestKeywordsOneFormEverywhere: a query's filter reads the keyword index
// under the keyword's canonical form (xbl.FoldKeyword), and HasKeyword
// matches exactly the keywords strings.EqualFold does: "ſ" finds "s", "İ"
// does not find "i".
func TestKeywordsOneFormEverywhere(t *testing.T) {
	if f := (&Query{Keyword: "ſ"}).Filter(time.Time{}); f.Keyword != "s" {
		t.Errorf("filter keyword %q, want s", f.Keyword)
	}
	for _, tt := range []struct {
		kws  []string
		kw   string
		want bool
	}{
		{[]string{"s"}, "ſ", true}, {[]string{"S"}, "s", true}, {[]string{"σ"}, "ς", true}, {[]string{"Σ"}, "ς", true},
		{[]string{"i"}, "İ", false}, {[]string{"İ"}, "i", false}, {[]string{"i"}, "ı", false}, {[]string{"x", "I"}, "i", true},
	} {
		if got := HasKeyword(tt.kws, tt.kw); got != tt.want || got != slices.ContainsFunc(tt.kws, func(k string) bool { return strings.EqualFold(k, tt.kw) }) {
			t.Errorf("HasKeyword(%q, %q) = %v, want %v", tt.kws, tt.kw, got, tt.want)
		}
	}
}

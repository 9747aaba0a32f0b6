package sessionstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/infra/loader"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store/sessionstore"
	"github.com/xblread/xblread/pkg/xbl"
)

const pagingSCID = "7492baca-c1b4-440d-a391-b7ef364a8d40"

// TestUserSessionsFollowsPages gives one user more membership data than a
// Query page holds (1 MB): every session still comes back.
func TestUserSessionsFollowsPages(t *testing.T) {
	st := ddbtest.EmptyTable(t)
	big := strings.Repeat("k", 500) // a long keyword makes each item ~700 bytes
	var ds xbl.Dataset
	const n = 2000
	for i := range n {
		ds.Sessions = append(ds.Sessions, xbl.Session{
			SCID: pagingSCID, Template: "t", Name: fmt.Sprintf("s%04d", i), StartTime: time.Unix(int64(i), 0).UTC(),
			Version: 1, Visibility: xbl.OpenVis, Keywords: []string{big},
			Members: []xbl.Member{{XUID: 7, Status: xbl.Active}},
		})
	}
	if _, err := loader.Load(context.Background(), st, &ds, nil); err != nil {
		t.Fatal(err)
	}
	items, u, err := sessionstore.New(st).UserSessions(context.Background(), 7, keepAll(pagingSCID, "", ""), n)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != n {
		t.Errorf("%d sessions, want %d", len(items), n)
	}
	if u.Calls < 2 {
		t.Errorf("%d Query pages; the test meant to need more than one", u.Calls)
	}
	kw, u, err := sessionstore.New(st).KeywordSessions(context.Background(), keepAll(pagingSCID, "t", big), n)
	if err != nil || len(kw) != n || u.Calls < 2 {
		t.Errorf("keyword index: %d sessions in %d pages, %v", len(kw), u.Calls, err)
	}
}

// TestReadsStopWhenTheAnswerIsCertain: a user in 2,000 sessions, queried
// for a few, costs a few items, not 2,000; filtered rows are read past;
// sessions that start at the same time as the last one kept all come back,
// so that the domain orders ties, not storage.
func TestReadsStopWhenTheAnswerIsCertain(t *testing.T) {
	st := ddbtest.EmptyTable(t)
	var ds xbl.Dataset
	const n = 2000
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		status := xbl.Active
		if i%2 == 1 {
			status = xbl.Inactive // every other session, newest first from 1999 down
		}
		ds.Sessions = append(ds.Sessions, xbl.Session{
			SCID: pagingSCID, Template: fmt.Sprintf("t%d", i%3), Name: fmt.Sprintf("s%04d", i), StartTime: base.Add(time.Duration(i) * time.Second),
			Version: 1, Visibility: xbl.OpenVis, Keywords: []string{"pop"},
			Members: []xbl.Member{{XUID: 7, Status: status}},
		})
	}
	// Three sessions that start together, newest of all.
	for _, name := range []string{"tie-c", "tie-a", "tie-b"} {
		ds.Sessions = append(ds.Sessions, xbl.Session{SCID: pagingSCID, Template: "t0", Name: name, StartTime: base.Add(time.Hour),
			Version: 1, Visibility: xbl.OpenVis, Keywords: []string{"pop"}, Members: []xbl.Member{{XUID: 7, Status: xbl.Active}}})
	}
	if _, err := loader.Load(context.Background(), st, &ds, nil); err != nil {
		t.Fatal(err)
	}
	r := sessionstore.New(st)
	active := keepAll(pagingSCID, "", "")
	active.Inactive, active.Reservations = false, false
	names := func(list []sessions.Session) []string {
		var out []string
		for _, s := range list {
			out = append(out, s.Name)
		}
		return out
	}
	ctx := context.Background()

	got, u, err := r.UserSessions(ctx, 7, keepAll(pagingSCID, "", ""), 1)
	// Items count entries and heads: each entry read costs its head too.
	if err != nil || len(got) != 3 || u.Items > 8 || u.Calls > 4 {
		t.Errorf("take 1 over 2,003 sessions: %v, %+v, %v: want the 3 tied sessions from at most 4 entries and their heads", names(got), u, err)
	}
	got, u, err = r.UserSessions(ctx, 7, active, 10)
	if err != nil || len(got) != 10 || got[3].Name != "s1998" || u.Items > 60 {
		t.Errorf("10 active: %v, %+v, %v: want 10 read past the inactive ones, a few dozen items at most", names(got), u, err)
	}
	got, u, err = r.UserSessions(ctx, 7, keepAll(pagingSCID, "t1", ""), 5)
	if err != nil || len(got) != 5 || got[0].Template != "t1" || u.Items > 12 {
		t.Errorf("one template: %v, %+v, %v", names(got), u, err)
	}
	got, u, err = r.KeywordSessions(ctx, keepAll(pagingSCID, "", "pop"), 1)
	if err != nil || len(got) != 3 || u.Items > 8 {
		t.Errorf("keyword, take 1: %v, %+v, %v", names(got), u, err)
	}
	got, u, err = r.KeywordSessions(ctx, keepAll(pagingSCID, "t2", "pop"), 2)
	if err != nil || len(got) != 2 || got[0].Template != "t2" || u.Items > 6 {
		t.Errorf("keyword in one template, take 2: %v, %+v, %v", names(got), u, err)
	}
	if got, u, err := r.UserSessions(ctx, 7, keepAll(pagingSCID, "", ""), 0); err != nil || len(got) != 0 || u.Calls != 0 {
		t.Errorf("take 0: %v, %+v, %v: want no read", names(got), u, err)
	}
}

package sessionstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/infra/loader"
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
	items, u, err := sessionstore.New(st).UserSessions(context.Background(), 7, pagingSCID, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != n {
		t.Errorf("%d sessions, want %d", len(items), n)
	}
	if u.Calls < 2 {
		t.Errorf("%d Query pages; the test meant to need more than one", u.Calls)
	}
	kw, u, err := sessionstore.New(st).KeywordSessions(context.Background(), pagingSCID, big, "t")
	if err != nil || len(kw) != n || u.Calls < 2 {
		t.Errorf("keyword index: %d sessions in %d pages, %v", len(kw), u.Calls, err)
	}
}

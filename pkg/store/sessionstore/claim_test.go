package sessionstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/store/sessionstore"
	"github.com/xblread/xblread/pkg/xbl"
)

// TestClaim: a write commits only the version it claimed. While another
// write holds a live claim on the version read, SaveSession answers
// ErrContended without committing; once that claim is released it
// commits; a version no longer stored is ErrChanged; and neither a commit
// nor a refused write leaves a claim behind.
func TestClaim(t *testing.T) {
	tb := ddbtest.EmptyTable(t)
	st := sessionstore.New(tb)
	ctx := context.Background()
	ss := &xbl.Session{SCID: "7492baca-c1b4-440d-a391-b7ef364a8d40", Template: "lobby", Name: "claimed",
		StartTime: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Version: 1, Visibility: xbl.OpenVis,
		Members: []xbl.Member{{XUID: 1, Status: xbl.Active}}}
	d := sessions.FromFixture(ss, "v1")
	if err := st.SaveSession(ctx, nil, d); err != nil {
		t.Fatal(err)
	}
	next := func(etag string) *sessions.Doc {
		n := d.Clone()
		n.ETag, n.Version = etag, n.Version+1
		if _, err := n.Encode(); err != nil {
			t.Fatal(err)
		}
		return n
	}
	key := store.ClaimKey(ss.SCID, ss.Template, ss.Name)
	if err := sessionstore.Claim(st, ctx, key, d.ETag, "other"); err != nil {
		t.Fatalf("another write's claim: %v", err)
	}
	if err := st.SaveSession(ctx, d, next("v2")); !errors.Is(err, sessions.ErrContended) {
		t.Fatalf("a write while another holds the claim: %v, want ErrContended", err)
	}
	if got, _ := st.Session(ctx, ss.SCID, ss.Template, ss.Name); got == nil || got.ETag != "v1" {
		t.Fatalf("after the refused write: %+v", got)
	}
	sessionstore.Release(st, ctx, key, "other")
	if err := st.SaveSession(ctx, d, next("v2")); err != nil {
		t.Fatalf("the write once the claim is released: %v", err)
	}
	if err := st.SaveSession(ctx, d, next("v3")); !errors.Is(err, sessions.ErrChanged) {
		t.Fatalf("a write of a version no longer stored: %v, want ErrChanged", err)
	}
	out, err := tb.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tb.Name), Key: key.AV(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item != nil {
		t.Errorf("a claim outlives the commits: %v", out.Item)
	}
}

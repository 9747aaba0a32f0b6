package stats

import (
	"context"
	"testing"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// fakeWriter records the writes it is asked for; doc is its document.
type fakeWriter struct {
	doc    *Document
	writes []string // "replace <gamertag>", "patch <gamertag>"
}

func (f *fakeWriter) Replace(_ context.Context, _ Target, doc *Document, gamertag string) (bool, error) {
	f.writes = append(f.writes, "replace "+gamertag)
	f.doc = doc
	return true, nil
}

func (f *fakeWriter) Patch(_ context.Context, _ Target, _ *Patch, gamertag string) error {
	f.writes = append(f.writes, "patch "+gamertag)
	return nil
}

func (f *fakeWriter) Document(context.Context, Target) (*Document, error) {
	return f.doc, nil
}

// TestServiceWrites: who may write and read back a document, decided
// before the Writer is asked; the gamertag stored is the caller's own only
// when it writes its own document; a user without one is not found.
func TestServiceWrites(t *testing.T) {
	cfg := &xbl.ServiceConfig{SCID: scidA, TitleIDs: []string{"1"}, Sandboxes: []string{"S"}}
	target := Target{XUID: 7, SCIDRaw: scidA, SCID: scidA}
	tests := []struct {
		name   string
		caller xbl.Caller
		target Target
		status int    // 0: allowed
		stored string // the gamertag stored with a write
	}{
		{"own document", xbl.Caller{XUID: 7, TitleID: "1", Sandbox: "S", Gamertag: "Seven"}, target, 0, "Seven"},
		{"a server for a player", xbl.Caller{XUID: 1, TitleID: "1", Sandbox: "S", Server: true, Gamertag: "Srv"}, target, 0, ""},
		{"a server with the player's xuid", xbl.Caller{XUID: 7, TitleID: "1", Sandbox: "S", Server: true, Gamertag: "Srv"}, target, 0, ""},
		{"another player", xbl.Caller{XUID: 8, TitleID: "1", Sandbox: "S"}, target, 403, ""},
		{"a title that does not own the scid", xbl.Caller{XUID: 7, TitleID: "2", Sandbox: "S"}, target, 403, ""},
		{"another sandbox", xbl.Caller{XUID: 7, TitleID: "1", Sandbox: "T"}, target, 403, ""},
		{"no configuration", xbl.Caller{XUID: 7, TitleID: "1", Sandbox: "S"}, Target{XUID: 7, SCIDRaw: "x", SCID: "00000000-0000-0000-0000-000000000000"}, 404, ""},
	}
	status := func(err error) int {
		if err == nil {
			return 0
		}
		return kindStatus[derrors.KindOf(err)]
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &fakeWriter{}
			s := &Service{Configs: &fakeReader{configs: map[string]*xbl.ServiceConfig{scidA: cfg}}, Writer: w}
			ctx := context.Background()
			_, err := s.Document(ctx, &tt.caller, tt.target)
			if want := tt.status; want == 0 && status(err) != 404 || want != 0 && status(err) != want {
				t.Errorf("Document before any write: %v, want status %d", err, max(want, 404))
			}
			if _, err := s.Replace(ctx, &tt.caller, tt.target, &Document{Revision: 1}); status(err) != tt.status {
				t.Errorf("Replace: %v, want status %d", err, tt.status)
			}
			if err := s.Patch(ctx, &tt.caller, tt.target, &Patch{Remove: []string{"a"}}); status(err) != tt.status {
				t.Errorf("Patch: %v, want status %d", err, tt.status)
			}
			if tt.status != 0 {
				if len(w.writes) != 0 {
					t.Errorf("a refused caller wrote: %v", w.writes)
				}
				return
			}
			if want := []string{"replace " + tt.stored, "patch " + tt.stored}; len(w.writes) != 2 || w.writes[0] != want[0] || w.writes[1] != want[1] {
				t.Errorf("writes %q, want %q", w.writes, want)
			}
			if doc, err := s.Document(ctx, &tt.caller, tt.target); err != nil || doc.Revision != 1 {
				t.Errorf("Document after the write: %+v, %v", doc, err)
			}
		})
	}
}

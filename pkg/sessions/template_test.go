package sessions

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// templated is a service whose SCID names one template, lobby, with the
// constants given.
func templated(t *testing.T, st Store, c *ConstantsChange) *Service {
	t.Helper()
	b, err := EncodeTemplate(c)
	if err != nil {
		t.Fatal(err)
	}
	r := newFakeReader()
	r.configs[scidA].SessionTemplates = map[string]xbl.SessionTemplate{"lobby": {Constants: b}}
	return &Service{Configs: r, Store: st, Now: func() time.Time { return t0 }}
}

// TestTemplates: a session created under its template without constants
// gets the template's (Multiplayer Manager's create), and the rules use
// them; a create that sends constants the template leaves unset gets them
// too, and one that contradicts a template's constant is a conflict; an
// unknown template of a SCID that names templates is NotFound, before
// anything is read; a SCID that names none takes any template name.
func TestTemplates(t *testing.T) {
	ctx := context.Background()
	vis, seats, rrt := xbl.Private, 2, int64(5000)
	tmpl := &ConstantsChange{Visibility: &vis, MaxMembers: &seats, ReservedRemovalTimeout: &rrt,
		System: map[string]json.RawMessage{"memberInactiveTimeout": raw("600000")}, Custom: raw(`{"mode":"ranked"}`)}
	st := newDocStore()
	s := templated(t, st, tmpl)
	res, err := s.Put(ctx, host, ref, Condition{}, joinChange(true))
	if err != nil || res.Outcome != Created {
		t.Fatalf("create without constants: %+v %v", res, err)
	}
	d := res.Doc
	if d.Visibility != xbl.Private || d.MaxMembers != 2 || d.ReservedRemovalTimeout != 5000 || string(d.ConstantsSystem["memberInactiveTimeout"]) != "600000" || string(d.ConstantsCustom) != `{"mode":"ranked"}` {
		t.Errorf("the template's constants: %+v", d)
	}
	// The rules use them: the session is private and has two seats.
	if _, err := s.Put(ctx, guest, ref, Condition{}, joinChange(true)); derrors.KindOf(err) != derrors.Forbidden {
		t.Errorf("a stranger joining the template's private session: %v", err)
	}
	s.Put(ctx, host, ref, Condition{}, &Change{Members: map[string]*MemberChange{"reserve_0": {XUID: guest.XUID}}})
	if _, err := s.Put(ctx, host, ref, Condition{}, &Change{Members: map[string]*MemberChange{"reserve_1": {XUID: third.XUID}}}); derrors.KindOf(err) != derrors.Conflict {
		t.Errorf("a third seat of two: %v", err)
	}

	// Constants the template leaves unset are the create's; a contradiction
	// is a conflict; the same value is fine.
	ver := 3
	other := ref
	other.Name = "game-2"
	res, err = s.Put(ctx, host, other, Condition{}, &Change{Constants: &ConstantsChange{Version: &ver, MaxMembers: &seats, System: map[string]json.RawMessage{"capabilities": raw(`{"gameplay":true}`)}}, Members: joinChange(true).Members})
	if err != nil || res.Doc.Version != 3 || res.Doc.MaxMembers != 2 || string(res.Doc.ConstantsSystem["capabilities"]) != `{"gameplay":true}` || string(res.Doc.ConstantsSystem["memberInactiveTimeout"]) != "600000" {
		t.Errorf("a create with constants of its own: %+v %v", res, err)
	}
	eight := 8
	other.Name = "game-3"
	for _, c := range []*ConstantsChange{
		{MaxMembers: &eight},
		{Custom: raw(`{"mode":"casual"}`)},
		{System: map[string]json.RawMessage{"memberInactiveTimeout": raw("1")}},
	} {
		if _, err := s.Put(ctx, host, other, Condition{}, &Change{Constants: c, Members: joinChange(true).Members}); derrors.KindOf(err) != derrors.Conflict {
			t.Errorf("a create contradicting the template (%+v): %v", c, err)
		}
	}

	// An unknown template: NotFound, nothing read.
	unknown := ref
	unknown.Template = "arena"
	if _, err := s.Put(ctx, host, unknown, Condition{}, joinChange(true)); derrors.KindOf(err) != derrors.NotFound {
		t.Errorf("an unknown template: %v", err)
	}
	if d, _ := st.Session(ctx, unknown.SCID, unknown.Template, unknown.Name); d != nil {
		t.Errorf("an unknown template's session was created")
	}
	// A SCID without templates takes any name.
	if _, err := svc(newDocStore(), t0).Put(ctx, host, unknown, Condition{}, joinChange(true)); err != nil {
		t.Errorf("a SCID without templates: %v", err)
	}
}

package sessionswriteapi

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/xblread/xblread/infra/testkit"
	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/xbl"
)

// FuzzParseChange: any body either is refused as Invalid, or parses into
// a change that the rules apply to a new session and to an existing one
// without a fault, and the result renders as a document XSAPI parses.
// The seeds are XSAPI's bodies from testdata/xsapi.json.
func FuzzParseChange(f *testing.F) {
	var cases []xsapiCase
	testkit.ReadJSON(f, filepath.Join("testdata", "xsapi.json"), &cases)
	for _, c := range cases {
		for _, s := range c.Steps {
			f.Add([]byte(s.Body))
		}
	}
	caller := &xbl.Caller{XUID: 9876, Gamertag: "G", TitleID: titleA, Sandbox: "RETAIL"}
	ref := sessions.Ref{SCIDRaw: scidA, SCID: scidA, Template: "t", Name: "n"}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	svc := &sessions.Service{Now: func() time.Time { return now }}
	existing, err := svc.Apply(nil, &sessions.Change{Members: map[string]*sessions.MemberChange{"reserve_0": {XUID: 5}}}, caller, ref)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ch, err := ParseChange(body)
		if err != nil {
			if derrors.KindOf(err) != derrors.Invalid {
				t.Fatalf("refused as %v: %v", derrors.KindOf(err), err)
			}
			return
		}
		// A change that waits in a session's queue reads back as it was.
		w := &sessions.Queued{ID: "q", Caller: *caller, Change: ch}
		b, err := sessions.EncodeQueued(w)
		if err != nil {
			t.Fatalf("encode queued: %v", err)
		}
		back, err := sessions.DecodeQueued("q", b)
		if err != nil || !reflect.DeepEqual(back.Change, ch) {
			t.Fatalf("queued round trip: %v\n%s\n%+v\n%+v", err, b, back.Change, ch)
		}
		for _, prev := range []*sessions.Doc{nil, existing} {
			d, err := svc.Apply(prev, ch, caller, ref)
			if err != nil {
				if k := derrors.KindOf(err); k == derrors.Internal {
					t.Fatalf("apply: %v", err)
				}
				continue
			}
			out, err := Render(d)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if _, err := checkXSAPIParse(out); err != nil {
				t.Fatalf("XSAPI would not parse %s: %v", out, err)
			}
		}
	})
}

// FuzzParseHandle: any body is either refused as Invalid, or parses into
// a handle request of a known type naming a valid session (and, for an
// invite, an invitee; for a transfer, an origin).
func FuzzParseHandle(f *testing.F) {
	ref := `{"scid":"` + scidA + `","templateName":"lobby","name":"l1"}`
	for _, s := range []string{
		`{"type":"activity","sessionRef":` + ref + `,"version":1}`,
		`{"type":"invite","sessionRef":` + ref + `,"version":1,"invitedXuid":"1003","inviteAttributes":{"titleId":"1297287135","contextString":"c","context":"x"}}`,
		`{"type":"transfer","sessionRef":` + ref + `,"version":1,"originSessionRef":` + ref + `}`,
		`{"type":"activity","scid":"` + scidA + `","owners":{"xuids":["1"]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := ParseHandle(body)
		if err != nil {
			if derrors.KindOf(err) != derrors.Invalid {
				t.Fatalf("refused as %v: %v", derrors.KindOf(err), err)
			}
			return
		}
		if req.Ref.SCID == "" || req.Ref.Template == "" || req.Ref.Name == "" {
			t.Fatalf("a session ref with an empty part: %+v", req.Ref)
		}
		switch req.Type {
		case sessions.Activity:
		case sessions.Invite:
			if req.Invited == 0 {
				t.Fatalf("an invite without an invitee: %+v", req)
			}
		case sessions.Transfer:
			if req.Origin == nil {
				t.Fatalf("a transfer without an origin: %+v", req)
			}
		default:
			t.Fatalf("type %q", req.Type)
		}
	})
}

package sessionswriteapi

import (
	"path/filepath"
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

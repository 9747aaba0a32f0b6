package statswriteapi

import (
	"testing"

	"github.com/xblread/xblread/pkg/httpapi"
	"github.com/xblread/xblread/pkg/stats"
	"github.com/xblread/xblread/pkg/xbl"
)

// FuzzParseReplace: any body gives a document that keeps the limits, or a
// 400 with a message; PATCH bodies likewise.
func FuzzParseReplace(f *testing.F) {
	f.Add([]byte(`{"stats":{"title":{"Kills":{"value":47},"Motto":{"value":"gg"}}},"$schema":"http://stats.xboxlive.com/2017-1/schema#","previousRevision":0,"revision":52000000000,"timestamp":"2026-06-01T12:34:56.1234567Z"}`))
	f.Add([]byte(`{"stats":{"title":{"Kills":{"value":48},"Old":null}}}`))
	f.Add([]byte(`{"stats":{"title":{"a":{"value":1e308},"b":{"value":-0},"c":{"value":"\u0000"}}},"revision":-1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(set map[string]xbl.StatValue, err error) {
			if err != nil {
				if p := httpapi.Classify(err); p.Status != 400 || p.Message == "" {
					t.Fatalf("refusal %v is not a 400 with a message", err)
				}
				return
			}
			if len(set) > stats.MaxWriteStats {
				t.Fatalf("%d stats accepted", len(set))
			}
			keys := map[string]bool{}
			for name, v := range set {
				if stats.CheckStatName(name) != nil || keys[xbl.StatKey(name)] {
					t.Fatalf("accepted name %q", name)
				}
				keys[xbl.StatKey(name)] = true
				if _, err := xbl.NewStatValue(v.Type, v.Value); err != nil || v.Type == xbl.String && len(v.Value) > stats.MaxStringValueLen {
					t.Fatalf("accepted value %+v: %v", v, err)
				}
			}
		}
		doc, err := ParseReplace(body)
		if err == nil {
			if doc.Revision < 0 {
				t.Fatalf("negative revision %d", doc.Revision)
			}
			check(doc.Stats, nil)
		} else {
			check(nil, err)
		}
		p, err := ParsePatch(body)
		if err != nil {
			check(nil, err)
			return
		}
		check(p.Set, nil)
		for _, name := range p.Remove {
			if _, ok := p.Set[name]; ok || stats.CheckStatName(name) != nil {
				t.Fatalf("removes %q", name)
			}
		}
	})
}

package statswriteapi

import (
	"reflect"
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
		set, _, err := ParsePatch(body)
		check(set, err)
	})
}

// FuzzFastPath: a body the fast path reads, the general reading reads too,
// to the same document.
func FuzzFastPath(f *testing.F) {
	f.Add([]byte(`{"stats":{"title":{"Kills":{"value":47},"Motto":{"value":"gg"}}},"$schema":"http://stats.xboxlive.com/2017-1/schema#","previousRevision":0,"revision":52000000000,"timestamp":"2026-06-01T12:34:56.1234567Z"}`))
	f.Add([]byte(` { "stats" : { "title" : { } } , "revision" : 1 } `))
	f.Add([]byte(`{"stats":{"title":{"a":{"value":1e308},"b":{"value":-0},"c":{"value":-0.5E-3},"d":{"value":9223372036854775808}}},"revision":0}`))
	f.Add([]byte(`{"stats":{"title":{"Kills":{"value":1},"kills":{"value":2}}}}`))
	f.Add([]byte(`{"stats":{"title":{"ü":{"value":"é"}}},"timestamp":"2026-06-01T12:34:56Z"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := fastReplace(body)
		if !ok {
			return
		}
		slow, err := parseReplace(body)
		if err != nil {
			t.Fatalf("fast path read %q, the general reading refuses it: %v", body, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast path read %+v, the general reading %+v", body, fast, slow)
		}
	})
}

// TestFastPathReadsXSAPI: XSAPI's bodies take the fast path.
func TestFastPathReadsXSAPI(t *testing.T) {
	for _, body := range []string{
		`{"stats":{"title":{"Kills":{"value":47},"Motto":{"value":"gg"},"KD":{"value":1.25}}},"$schema":"http://stats.xboxlive.com/2017-1/schema#","previousRevision":0,"revision":52000000000,"timestamp":"2026-06-01T12:34:56.1234567Z"}`,
		"{\n  \"$schema\": \"http://stats.xboxlive.com/2017-1/schema#\",\n  \"revision\": 3,\n  \"stats\": {\"title\": {}}\n}",
	} {
		if _, ok := fastReplace([]byte(body)); !ok {
			t.Errorf("fast path does not read %s", body)
		}
	}
}

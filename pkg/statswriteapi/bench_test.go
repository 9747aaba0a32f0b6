package statswriteapi

import (
	"fmt"
	"strings"
	"testing"

	"github.com/xblread/xblread/infra/testkit"
)

// xsapiBody is XSAPI's POST body of n stats.
func xsapiBody(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"stats":{"title":{`)
	for k := range n {
		if k > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `"Stat%d":{"value":%d}`, k, 1000+k)
	}
	sb.WriteString(`}},"$schema":"http://stats.xboxlive.com/2017-1/schema#","previousRevision":0,"revision":52000000000,"timestamp":"2026-06-01T12:34:56.1234567Z"}`)
	return []byte(sb.String())
}

// BenchmarkParseReplace measures the reading of XSAPI's POST body of 10
// stats: one httpapi.Decode into typed values, then the checks.
func BenchmarkParseReplace(b *testing.B) {
	body := xsapiBody(10)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := ParseReplace(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrite measures one POST of XSAPI's body of 10 stats through the
// whole handler (token check, body, access, the write to an in-memory
// store, the answer): what BenchmarkParseReplace's share is of.
func BenchmarkWrite(b *testing.B) {
	st := testkit.MemStore(b, "../statsapi/testdata/fixture.json")
	h := New(testkit.API(b), st, st)
	owner := testkit.Token(b, ownerCaller)
	body := string(xsapiBody(10))
	b.ReportAllocs()
	for b.Loop() {
		if w := testkit.Do(h, owner, "POST", path, body, "X-Xbl-Contract-Version", "4"); w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

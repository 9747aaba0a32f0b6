package statswriteapi

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParseReplace weighs the fast path of XSAPI's POST body (10
// stats) against the general reading it stands in front of: the reason
// fast.go exists.
func BenchmarkParseReplace(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"stats":{"title":{`)
	for k := range 10 {
		if k > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `"Stat%d":{"value":%d}`, k, 1000+k)
	}
	sb.WriteString(`}},"$schema":"http://stats.xboxlive.com/2017-1/schema#","previousRevision":0,"revision":52000000000,"timestamp":"2026-06-01T12:34:56.1234567Z"}`)
	body := []byte(sb.String())
	if _, ok := fastReplace(body); !ok {
		b.Fatal("the body does not take the fast path")
	}
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if _, ok := fastReplace(body); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("general", func(b *testing.B) {
		for b.Loop() {
			if _, err := parseReplace(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package suite

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

type malformedCase struct {
	Name       string      `json:"name"`
	Method     string      `json:"method"`
	Path       string      `json:"path"`
	Headers    [][2]string `json:"headers"`
	Body       *string     `json:"body"`
	BodyBase64 string      `json:"bodyBase64"`
	Pad        int         `json:"pad"` // spaces appended to reach this many bytes
	NoAuth     bool        `json:"noAuth"`
	NoContract bool        `json:"noContract"`
	Status     int         `json:"status"`
	Contains   string      `json:"contains"`
}

// TestMalformedRequests sends every request of testdata/malformed.json
// through the local API: each gets its exact 4xx with a message naming the
// problem, none a 5xx, and the stack keeps answering.
func TestMalformedRequests(t *testing.T) {
	raw, err := os.ReadFile("testdata/malformed.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []malformedCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 60 {
		t.Fatalf("%d cases; the suite needs at least 60", len(cases))
	}
	base := stack(t)
	tok := defaultToken(t)
	sum := &tally{name: "malformed requests"}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			var body []byte
			switch {
			case c.BodyBase64 != "":
				body, _ = base64.StdEncoding.DecodeString(c.BodyBase64)
			case c.Body != nil:
				body = []byte(*c.Body)
			}
			if c.Pad > len(body) {
				body = append(body, strings.Repeat(" ", c.Pad-len(body))...)
			}
			var headers [][2]string
			if !c.NoAuth {
				headers = append(headers, [2]string{"Authorization", tok})
			}
			hasContract := false
			for _, h := range c.Headers {
				if h[1] == "$TOKEN" {
					h[1] = tok
				}
				hasContract = hasContract || strings.EqualFold(h[0], "x-xbl-contract-version")
				headers = append(headers, h)
			}
			if strings.HasPrefix(c.Path, "/serviceconfigs/") && !hasContract && !c.NoContract {
				headers = append(headers, [2]string{"x-xbl-contract-version", "107"})
			}
			if body != nil {
				headers = append(headers, [2]string{"Content-Type", "application/json"})
			}
			status, _, got := send(t, c.Method, base+c.Path, body, headers)
			if status != c.Status {
				t.Errorf("status %d, want %d: %.300s", status, c.Status, got)
			}
			if !strings.Contains(got, c.Contains) {
				t.Errorf("body %.300q does not name the problem (%q)", got, c.Contains)
			}
			sum.record(t, status)
		})
	}
	healthy(t)
	sum.report(t)
	if sum.five > 0 {
		t.Errorf("%d requests got a 5xx", sum.five)
	}
}

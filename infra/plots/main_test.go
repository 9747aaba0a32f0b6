package main

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// costMD is a cost page as docs/COST.md writes it: a table before the one
// the chart reads, and asides in its cells.
const costMD = "# What a request costs\n\n" +
	"| what | price |\n| --- | --- |\n| DynamoDB read unit | $0.125 per million |\n\n" +
	"## Per route\n\n" +
	"| route and shape | items read | read units | DynamoDB | Lambda (ms billed) | API Gateway | logs (2.5 KB) | total |\n" +
	"| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n" +
	"| `POST /batch`, 100 users, warm | 200 | 100 | $12.50 | $0.28 (12 ms) | $1.00 | $1.16 | **$14.94** |\n" +
	"| `GET /scids/S/leaderboards/stat(N)`, a page (top, from a rank) | 192 (at most 432) | 3 | $0.38 | $0.30 (about 15 ms) | $1.00 | $1.16 | **$2.84** |\n" +
	"| a refusal | 0 | 0 | $0 | $0.22 (3 ms) | $1.00 | $1.16 | **$2.38** |\n" +
	"| a big one | 0 | 0 | $1,234.50 | $0.22 | $1.00 | $1.16 | $1,236.88 |\n" +
	"\nAdd, per instance, ...\n\n" +
	"| route | DynamoDB | Lambda | API Gateway | logs | total |\n| --- | --- | --- | --- | --- | --- |\n| a later table | $1 | $1 | $1 | $1 | $4 |\n"

// synthetic is a samples file of three cases, one with the emulator.
func synthetic(t *testing.T, n int) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	draw := func(median float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = median * math.Exp(0.35*r.NormFloat64())
		}
		return out
	}
	s := samples{N: n, Warmup: 10, Cases: []caseSample{
		{Name: "stats batch case", RawName: "2 BatchGetItem, concurrent", API: draw(11), Raw: draw(9.9), Emu: draw(12.5)},
		{Name: "write case", RawName: "1 conditional UpdateItem", API: draw(1.3), Raw: draw(1)},
		{Name: "PUT .../sessions/{name}: a player joins a 3-member session & <more>", API: draw(8.3), Raw: draw(6.3)},
	}}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func write(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readSVG reads an SVG file, checks it is well-formed XML with an svg root,
// and returns its text.
func readSVG(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(strings.NewReader(string(b)))
	root := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed: %v", path, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Fatalf("%s: root element %q", path, root)
	}
	return string(b)
}

func TestRunDrawsBoth(t *testing.T) {
	dir := t.TempDir()
	in := write(t, dir, "samples.json", synthetic(t, 400))
	cost := write(t, dir, "COST.md", []byte(costMD))
	out := filepath.Join(dir, "docs")
	var stdout strings.Builder
	if err := run([]string{"-in", in, "-cost", cost, "-out", out}, &stdout); err != nil {
		t.Fatal(err)
	}
	lat := readSVG(t, filepath.Join(out, latencyFile))
	for _, want := range []string{"stats batch case", "write case", "raw: 1 conditional UpdateItem", "under the emulator", "a player joins", "&amp;", "&lt;more&gt;"} {
		if !strings.Contains(lat, want) {
			t.Errorf("the latency chart has no %q", want)
		}
	}
	c := readSVG(t, filepath.Join(out, costFile))
	for _, want := range []string{"POST /batch, 100 users, warm", "stat(N), a page", "$14.94", "$2.38", "$1236.88", "API Gateway"} {
		if !strings.Contains(c, want) {
			t.Errorf("the cost chart has no %q", want)
		}
	}
	if strings.Contains(c, "a later table") || strings.Contains(c, "at most 432") {
		t.Error("the cost chart read past its table, or kept an aside")
	}
	links := strings.Split(strings.TrimSpace(stdout.String()), "\n\n")
	if len(links) != 2 || !strings.HasSuffix(links[0], "("+latencyFile+")") || !strings.HasSuffix(links[1], "("+costFile+")") ||
		!strings.Contains(links[0], "under the emulator") {
		t.Errorf("links:\n%s", stdout.String())
	}
	for _, e := range mustReadDir(t, out) {
		if strings.HasSuffix(e, ".tmp") {
			t.Errorf("left %s behind", e)
		}
	}
}

func mustReadDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// An empty samples file (the bench failed, or has no -samples) draws the
// cost chart alone; -cost "" draws the latency chart alone.
func TestRunEitherAlone(t *testing.T) {
	dir := t.TempDir()
	cost := write(t, dir, "COST.md", []byte(costMD))
	empty := write(t, dir, "empty.json", nil)
	var stdout strings.Builder
	out := filepath.Join(dir, "a")
	if err := run([]string{"-in", empty, "-cost", cost, "-out", out}, &stdout); err != nil {
		t.Fatal(err)
	}
	if names := mustReadDir(t, out); len(names) != 1 || names[0] != costFile {
		t.Errorf("wrote %v", names)
	}
	if strings.Contains(stdout.String(), latencyFile) {
		t.Errorf("linked the latency chart: %s", stdout.String())
	}

	stdout.Reset()
	out = filepath.Join(dir, "b")
	in := write(t, dir, "samples.json", synthetic(t, 7))
	if err := run([]string{"-in", in, "-cost", "", "-out", out}, &stdout); err != nil {
		t.Fatal(err)
	}
	if names := mustReadDir(t, out); len(names) != 1 || names[0] != latencyFile {
		t.Errorf("wrote %v", names)
	}
	if strings.Count(stdout.String(), "\n") != 1 {
		t.Errorf("links: %s", stdout.String())
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	bad := write(t, dir, "bad.json", []byte(`{"cases": [{"name": "x", "api_ms": [1]}]}`))
	noTable := write(t, dir, "COST.md", []byte("# nothing here\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n"))
	for _, args := range [][]string{
		{"-in", bad, "-cost", ""},
		{"-in", filepath.Join(dir, "missing.json"), "-cost", ""},
		{"-cost", noTable},
		{"-cost", filepath.Join(dir, "missing.md")},
		{"stray"},
	} {
		if err := run(append(args, "-out", filepath.Join(dir, "out")), io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

func TestParseSamples(t *testing.T) {
	if _, err := parseSamples(synthetic(t, 5)); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{
		`{}`,
		`{"cases": []}`,
		`{"cases": [{"api_ms": [1], "raw_ms": [1]}]}`,
		`{"cases": [{"name": "x", "api_ms": [1], "raw_ms": []}]}`,
		`{"cases": [{"name": "x", "api_ms": [1], "raw_ms": [-1]}]}`,
		`{"cases": [{"name": "x", "api_ms": [1], "raw_ms": [1], "rcu": 3}]}`,
		`{"cases": [{"name": "x", "api_ms": ["1"], "raw_ms": [1]}]}`,
		`[`,
	} {
		if _, err := parseSamples([]byte(in)); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

// percentile counts as the bench's pct does: the ceil(n·p)-th smallest.
func TestPercentile(t *testing.T) {
	for _, n := range []int{1, 7, 100, 400, 401} {
		ms := make([]float64, n)
		for i := range ms {
			ms[i] = float64(n - i) // reversed: cdf sorts
		}
		xys := cdf(ms)
		for _, p := range []int{50, 99} {
			want := float64(max(1, (n*p+99)/100))
			if got := percentile(xys, float64(p)/100); got != want {
				t.Errorf("n=%d p%d: %v, want %v", n, p, got, want)
			}
		}
		if xys[n-1].Y != 1 {
			t.Errorf("n=%d: the cdf ends at %v", n, xys[n-1].Y)
		}
	}
}

func TestParseCost(t *testing.T) {
	routes, err := parseCost(strings.NewReader(costMD))
	if err != nil {
		t.Fatal(err)
	}
	want := []routeCost{
		{"POST /batch, 100 users, warm", 12.5, 0.28, 1, 1.16, 14.94},
		{"GET /scids/S/leaderboards/stat(N), a page", 0.38, 0.30, 1, 1.16, 2.84},
		{"a refusal", 0, 0.22, 1, 1.16, 2.38},
		{"a big one", 1234.5, 0.22, 1, 1.16, 1236.88},
	}
	if len(routes) != len(want) {
		t.Fatalf("%d routes: %+v", len(routes), routes)
	}
	for i := range want {
		if routes[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, routes[i], want[i])
		}
	}
}

// docs/COST.md's "Per route" table still parses, and its components add up
// to its totals.
func TestParseCostDocs(t *testing.T) {
	f, err := os.Open("../../docs/COST.md")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	routes, err := parseCost(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) < 3 || !strings.HasPrefix(routes[0].route, "POST /batch") {
		t.Fatalf("%+v", routes)
	}
	for _, r := range routes {
		if sum := r.dynamodb + r.lambda + r.api + r.logs; math.Abs(sum-r.total) > 0.025 {
			t.Errorf("%s: components add to $%.2f, total $%.2f", r.route, sum, r.total)
		}
	}
}

func TestWrap(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "",
		"a b c":                 "a b c",
		"aaaa bbbb cccc":        "aaaa bbbb\ncccc",
		"averyveryverylongword": "averyveryverylongword",
		"  a   b  ":             "a b",
	} {
		if got := wrap(in, 10); got != want {
			t.Errorf("wrap(%q) = %q, want %q", in, got, want)
		}
	}
}

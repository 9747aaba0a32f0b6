// Command plots draws the charts of docs/RESULTS.md as SVG files: the
// per-request latencies of each `make bench` case beside its raw DynamoDB
// calls (and the local API under the emulator, when measured), as CDFs,
// from the samples file `go run ./infra/bench -samples FILE` writes; and the
// cost of each route per million requests, by component, from the "Per
// route" table of docs/COST.md. It prints a Markdown link to each file it
// wrote, relative to the output directory (docs/, beside RESULTS.md), a
// paragraph each.
// infra/results.sh runs it.
//
// The samples file is package benchsamples' JSON: one entry per case in
// the bench's order; api_ms and raw_ms are the measured requests'
// durations in milliseconds, emu_ms (optional) those under the emulator.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/xblread/xblread/infra/benchsamples"
)

// The files written in the output directory.
const (
	latencyFile = "results-latency.svg"
	costFile    = "results-cost.svg"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "plots:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("plots", flag.ContinueOnError)
	in := fs.String("in", "", "the bench's samples file (go run ./infra/bench -samples FILE); none, or an empty file, draws no latency chart")
	cost := fs.String("cost", "docs/COST.md", "the Markdown whose \"Per route\" table gives the cost chart (empty for none)")
	out := fs.String("out", "docs", "the directory the SVG files are written to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	var links []string
	if *in != "" {
		s, err := readSamplesFile(*in)
		if err != nil {
			return err
		}
		if s != nil {
			if err := saveSVG(filepath.Join(*out, latencyFile), func() (vg.Length, vg.Length, func(draw.Canvas) error) {
				return latencyChart(s)
			}); err != nil {
				return err
			}
			alt := "through the local API and as the raw DynamoDB calls"
			if hasEmu(s) {
				alt = "through the local API, as the raw DynamoDB calls and under the emulator"
			}
			links = append(links, fmt.Sprintf("![Per-request latency of each case, %s (CDFs, to the p99)](%s)", alt, latencyFile))
		}
	}
	if *cost != "" {
		f, err := os.Open(*cost)
		if err != nil {
			return err
		}
		routes, err := parseCost(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *cost, err)
		}
		if err := saveSVG(filepath.Join(*out, costFile), func() (vg.Length, vg.Length, func(draw.Canvas) error) {
			return costChart(routes)
		}); err != nil {
			return err
		}
		links = append(links, fmt.Sprintf("![Cost per million requests of each route, by component (%s, \"Per route\")](%s)", filepath.Base(*cost), costFile))
	}
	if len(links) > 0 {
		_, err := fmt.Fprintln(stdout, strings.Join(links, "\n\n")) // a paragraph each
		return err
	}
	return nil
}

// saveSVG writes the chart chart draws at the size it gives to path.
func saveSVG(path string, chart func() (w, h vg.Length, draw func(draw.Canvas) error)) error {
	w, h, drawTo := chart()
	c := vgsvg.New(w, h)
	if err := drawTo(draw.New(c)); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// samples is the bench's samples file (package benchsamples).
type (
	samples    = benchsamples.File
	caseSample = benchsamples.Case
)

// hasEmu reports whether any case was measured under the emulator.
func hasEmu(s *samples) bool {
	return slices.ContainsFunc(s.Cases, func(c caseSample) bool { return len(c.Emu) > 0 })
}

// readSamplesFile reads the samples file at path; nil (no chart) when it is
// empty (the bench wrote none: it failed, or ran no read case).
func readSamplesFile(path string) (*samples, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, nil
	}
	s, err := parseSamples(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func parseSamples(b []byte) (*samples, error) {
	var s samples
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.DisallowUnknownFields()
	if err := d.Decode(&s); err != nil {
		return nil, err
	}
	if len(s.Cases) == 0 {
		return nil, errors.New("no cases")
	}
	for _, c := range s.Cases {
		if c.Name == "" {
			return nil, errors.New("a case without a name")
		}
		if len(c.API) == 0 || len(c.Raw) == 0 {
			return nil, fmt.Errorf("%s: no api_ms or raw_ms samples", c.Name)
		}
		for _, v := range slices.Concat(c.API, c.Raw, c.Emu) {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return nil, fmt.Errorf("%s: a duration of %v ms", c.Name, v)
			}
		}
	}
	return &s, nil
}

// The series' styles: the API solid blue, the raw calls dashed black, the
// emulator dotted orange.
var (
	apiStyle = draw.LineStyle{Color: color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, Width: vg.Points(1.5)}
	rawStyle = draw.LineStyle{Color: color.Black, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}
	emuStyle = draw.LineStyle{Color: color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(1.5), vg.Points(2)}}
)

// latencyChart draws one CDF panel per case, two to a row.
func latencyChart(s *samples) (vg.Length, vg.Length, func(draw.Canvas) error) {
	const cols = 2
	rows := (len(s.Cases) + cols - 1) / cols
	panelW, panelH := 5*vg.Inch, 3.6*vg.Inch
	header := 0.5 * vg.Inch
	w, h := cols*panelW, vg.Length(rows)*panelH+header
	return w, h, func(dc draw.Canvas) error {
		title := "Latency per request: through the local API against the raw DynamoDB calls"
		if s.N > 0 {
			title += fmt.Sprintf(" (%d measured requests per case after %d warm-up)", s.N, s.Warmup)
		}
		font := plot.DefaultFont
		font.Size = vg.Points(12)
		dc.FillText(draw.TextStyle{Color: color.Black, Font: font, Handler: plot.DefaultTextHandler, XAlign: draw.XCenter, YAlign: draw.YCenter},
			vg.Point{X: w / 2, Y: h - header/2}, title)
		grid := make([][]*plot.Plot, rows)
		for i := range grid {
			grid[i] = make([]*plot.Plot, cols)
		}
		for i, c := range s.Cases {
			p, err := cdfPanel(c)
			if err != nil {
				return fmt.Errorf("%s: %w", c.Name, err)
			}
			grid[i/cols][i%cols] = p
		}
		body := draw.Crop(dc, 0, 0, 0, -header)
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(10), PadY: vg.Points(10), PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(10)}
		canvases := plot.Align(grid, tiles, body)
		for i := range grid {
			for j, p := range grid[i] {
				if p != nil {
					p.Draw(canvases[i][j])
				}
			}
		}
		return nil
	}
}

// cdfPanel is one case's CDFs, its x axis cut at the largest p99 of its
// series (the tails past it squeeze the rest into a corner).
func cdfPanel(c caseSample) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = wrap(c.Name, 60)
	if c.RawName != "" {
		p.Title.Text += "\n" + wrap("raw: "+c.RawName, 60)
	}
	p.Title.TextStyle.Font.Size = vg.Points(9)
	p.X.Label.Text = "ms (to the p99)"
	p.Y.Label.Text = "requests answered"
	p.Y.Min, p.Y.Max = 0, 1
	p.Y.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 0, Label: "0"}, {Value: 0.25}, {Value: 0.5, Label: "50 %"}, {Value: 0.75}, {Value: 0.9, Label: "90 %"}, {Value: 1, Label: "100 %"}})
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(4), vg.Points(4)
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	xmax := 0.0
	for _, sr := range []struct {
		name  string
		ms    []float64
		style draw.LineStyle
	}{
		{"local API, in process", c.API, apiStyle},
		{"raw DynamoDB calls", c.Raw, rawStyle},
		{"local API under the emulator", c.Emu, emuStyle},
	} {
		if len(sr.ms) == 0 {
			continue
		}
		xys := cdf(sr.ms)
		xmax = max(xmax, percentile(xys, 0.99))
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.LineStyle = sr.style
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s: p50 %.2f, p99 %.2f ms", sr.name, percentile(xys, 0.5), percentile(xys, 0.99)), l)
	}
	p.X.Min, p.X.Max = 0, xmax*1.05
	if p.X.Max == 0 {
		p.X.Max = 1
	}
	return p, nil
}

// cdf is the empirical distribution of ms: each value sorted, against the
// share of values at or below it.
func cdf(ms []float64) plotter.XYs {
	s := slices.Clone(ms)
	slices.Sort(s)
	xys := make(plotter.XYs, len(s))
	for i, v := range s {
		xys[i] = plotter.XY{X: v, Y: float64(i+1) / float64(len(s))}
	}
	return xys
}

// percentile is the smallest value of a cdf at which at least q of the
// values are answered (as the bench's pct counts it).
func percentile(xys plotter.XYs, q float64) float64 {
	i, _ := slices.BinarySearchFunc(xys, q, func(xy plotter.XY, q float64) int {
		switch {
		case xy.Y < q-1e-12:
			return -1
		case xy.Y > q+1e-12:
			return 1
		}
		return 0
	})
	return xys[min(i, len(xys)-1)].X
}

// wrap breaks s into lines of at most width runes, at spaces.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(s) {
		l := len([]rune(w))
		if i > 0 {
			if n+1+l > width {
				b.WriteByte('\n')
				n = 0
			} else {
				b.WriteByte(' ')
				n++
			}
		}
		b.WriteString(w)
		n += l
	}
	return b.String()
}

// routeCost is a row of the cost table: dollars per million requests.
type routeCost struct {
	route                       string
	dynamodb, lambda, api, logs float64
	total                       float64
}

// costColumns are the cost table's columns the chart stacks, in order, as
// their headers begin.
var costColumns = []string{"dynamodb", "lambda", "api gateway", "logs"}

// parseCost reads the first Markdown table of r whose header has a route
// column and the columns DynamoDB, Lambda, API Gateway, logs and total, in
// dollars (docs/COST.md's "Per route").
func parseCost(r io.Reader) ([]routeCost, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	var idx []int // the columns of costColumns, then of the total
	var routes []routeCost
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "|") {
			if routes != nil {
				break // the table's end
			}
			idx = nil
			continue
		}
		cells := splitRow(line)
		if idx == nil {
			if len(cells) > 0 && strings.HasPrefix(strings.ToLower(cells[0]), "route") {
				idx = columns(cells)
			}
			continue
		}
		if strings.Trim(strings.Join(cells, ""), "-: ") == "" {
			continue // the separator
		}
		rc := routeCost{route: routeLabel(cells[0])}
		vals := []*float64{&rc.dynamodb, &rc.lambda, &rc.api, &rc.logs, &rc.total}
		for k, i := range idx {
			if i >= len(cells) {
				return nil, fmt.Errorf("%q: no column %d", cells[0], i+1)
			}
			v, err := dollars(cells[i])
			if err != nil {
				return nil, fmt.Errorf("%q: %w", cells[0], err)
			}
			*vals[k] = v
		}
		routes = append(routes, rc)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(routes) == 0 {
		return nil, errors.New("no table with the columns route, DynamoDB, Lambda, API Gateway, logs and total")
	}
	return routes, nil
}

// columns finds costColumns and the total in a header row; nil when one is
// missing.
func columns(header []string) []int {
	var idx []int
	for _, want := range append(slices.Clone(costColumns), "total") {
		i := slices.IndexFunc(header, func(h string) bool { return strings.HasPrefix(strings.ToLower(h), want) })
		if i < 0 {
			return nil
		}
		idx = append(idx, i)
	}
	return idx
}

func splitRow(line string) []string {
	line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
	cells := strings.Split(line, "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}

var dollarRE = regexp.MustCompile(`\$([0-9][0-9,]*(?:\.[0-9]+)?)`)

// dollars is the first dollar amount of a cell ("$0.28 (12 ms)", "**$14.94**").
func dollars(cell string) (float64, error) {
	m := dollarRE.FindStringSubmatch(cell)
	if m == nil {
		return 0, fmt.Errorf("no dollar amount in %q", cell)
	}
	return strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
}

var asideRE = regexp.MustCompile(` \([^()]*\)`)

// routeLabel is a route cell without Markdown and without its asides in
// parentheses (after a space: "stat(N)" stays).
func routeLabel(cell string) string {
	s := strings.NewReplacer("`", "", "**", "").Replace(cell)
	return strings.Join(strings.Fields(asideRE.ReplaceAllString(s, "")), " ")
}

// The components' colours in the cost chart.
var costColors = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, // DynamoDB
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, // Lambda
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, // API Gateway
	color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff}, // logs
}

// costChart draws each route's cost as a horizontal bar, its components
// stacked, the table's first row at the top, its total at the bar's end.
func costChart(routes []routeCost) (vg.Length, vg.Length, func(draw.Canvas) error) {
	const labelWidth = 70
	lines := 0
	labels := make([]string, len(routes))
	for i, r := range routes {
		labels[len(routes)-1-i] = wrap(r.route, labelWidth)
		lines += strings.Count(labels[len(routes)-1-i], "\n") + 1
	}
	w := 10 * vg.Inch
	h := 1.2*vg.Inch + vg.Length(max(lines, 2*len(routes)))*vg.Points(12)
	return w, h, func(dc draw.Canvas) error {
		p := plot.New()
		p.Title.Text = "Cost per million requests, by route (docs/COST.md, \"Per route\"; us-east-1 list prices)"
		p.X.Label.Text = "$ per million requests"
		p.X.Min = 0
		p.NominalY(labels...)
		p.Y.Tick.Label.Font.Size = vg.Points(8)
		p.Legend.Top = false
		p.Legend.Left = false
		p.Legend.XOffs = -vg.Points(6)
		p.Legend.YOffs = vg.Points(6)
		p.Legend.TextStyle.Font.Size = vg.Points(9)
		g := plotter.NewGrid()
		g.Horizontal.Color = nil
		p.Add(g)
		var below *plotter.BarChart
		names := []string{"DynamoDB", "Lambda", "API Gateway", "logs"}
		for k, name := range names {
			vals := make(plotter.Values, len(routes))
			for i, r := range routes {
				vals[len(routes)-1-i] = []float64{r.dynamodb, r.lambda, r.api, r.logs}[k]
			}
			b, err := plotter.NewBarChart(vals, vg.Points(12))
			if err != nil {
				return err
			}
			b.Horizontal = true
			b.Color = costColors[k]
			b.LineStyle.Width = 0
			if below != nil {
				b.StackOn(below)
			}
			p.Add(b)
			p.Legend.Add(name, b)
			below = b
		}
		var xys plotter.XYLabels
		xmax := 0.0
		for i, r := range routes {
			sum := r.dynamodb + r.lambda + r.api + r.logs
			xmax = max(xmax, sum, r.total)
			xys.XYs = append(xys.XYs, plotter.XY{X: max(sum, r.total), Y: float64(len(routes) - 1 - i)})
			xys.Labels = append(xys.Labels, fmt.Sprintf("$%.2f", r.total))
		}
		l, err := plotter.NewLabels(xys)
		if err != nil {
			return err
		}
		for i := range l.TextStyle {
			l.TextStyle[i].Font.Size = vg.Points(8)
			l.TextStyle[i].YAlign = draw.YCenter
		}
		l.Offset = vg.Point{X: vg.Points(4)}
		p.Add(l)
		p.X.Max = xmax * 1.12
		p.Draw(dc)
		return nil
	}
}

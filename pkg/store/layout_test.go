package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/xbl"
)

// layoutRow is one row of the item layout table in the package doc.
type layoutRow struct {
	key, pk, sk string
}

// layoutTable reads the item layout table from the package doc in doc.go.
func layoutTable(t *testing.T) []layoutRow {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	if f.Doc == nil {
		t.Fatal("doc.go holds no package doc")
	}
	var rows []layoutRow
	in := false
	for line := range strings.Lines(f.Doc.Text()) {
		cells := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), 4)
		switch {
		case len(cells) == 4 && cells[0] == "key" && cells[1] == "pk" && cells[2] == "sk":
			in = true
		case in && len(cells) == 4:
			rows = append(rows, layoutRow{cells[0], cells[1], cells[2]})
		case in:
			return rows
		}
	}
	if !in {
		t.Fatal("the package doc has no item layout table (a header line: key  pk  sk  holds)")
	}
	return rows
}

// keyConstructors lists the package's exported functions that return a
// Key or a [2]Key, as the table names them: F, or F[0] and F[1].
func keyConstructors(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !fn.Name.IsExported() || fn.Type.Results == nil || len(fn.Type.Results.List) != 1 {
				continue
			}
			switch r := fn.Type.Results.List[0].Type.(type) {
			case *ast.Ident:
				if r.Name == "Key" {
					out = append(out, fn.Name.Name)
				}
			case *ast.ArrayType:
				if id, ok := r.Elt.(*ast.Ident); ok && id.Name == "Key" && r.Len != nil {
					n, _ := strconv.Atoi(r.Len.(*ast.BasicLit).Value)
					for i := range n {
						out = append(out, fn.Name.Name+"["+strconv.Itoa(i)+"]")
					}
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestLayout: every row of the package doc's item layout table spells the
// key its function builds, and every function that builds a key has a row.
func TestLayout(t *testing.T) {
	const (
		x        = xbl.XUID(2533274792693551)
		scid     = "7492baca-c1b4-440d-a391-b7ef364a8d40"
		template = "lobby"
		name     = "my-lobby"
		keyword  = "Casual"
		service  = "userstats"
		title    = "1297287135"
	)
	start := time.Date(2026, 11, 20, 13, 45, 30, 90_000_000, time.UTC)
	window := time.Date(2026, 11, 20, 13, 45, 0, 0, time.UTC)
	// The sample value each placeholder of the table stands for.
	values := map[string]string{
		"{xuid}":     x.String(),
		"{scid}":     scid,
		"{template}": template,
		"{name}":     name,
		"{keyword}":  strings.ToLower(keyword),
		"{order}":    Order(start),
		"{service}":  service,
		"{title}":    title,
		"{window}":   strconv.FormatInt(window.Unix(), 10),
		"{id}":       "0000018a2b3c4d5e-1a2b3c4d",
	}
	membership := MembershipKeys(x, scid, template, name, start)
	keywords := KeywordKeys(scid, keyword, template, name, start)
	// What each function builds from those values.
	built := map[string]Key{
		"StatsKey":          StatsKey(x, scid),
		"ProfileKey":        ProfileKey(x),
		"ConfigKey":         ConfigKey(scid),
		"MembershipKeys[0]": membership[0],
		"MembershipKeys[1]": membership[1],
		"KeywordKeys[0]":    keywords[0],
		"KeywordKeys[1]":    keywords[1],
		"SessionKey":        SessionKey(scid, template, name),
		"HeadKey":           HeadKey(scid, template, name),
		"ClaimKey":          ClaimKey(scid, template, name),
		"QueuedKey":         QueuedKey(scid, template, name, "0000018a2b3c4d5e-1a2b3c4d"),
		"HandleKey":         HandleKey("0000018a2b3c4d5e-1a2b3c4d"),
		"ActivityKey":       ActivityKey(x, scid, title),
		"ConnectionKey":     ConnectionKey("0000018a2b3c4d5e-1a2b3c4d"),
		"RateKey":           RateKey(service, title, x, window),
	}
	placeholder := regexp.MustCompile(`\{[a-z]+\}`)
	expand := func(pattern string) string {
		return placeholder.ReplaceAllStringFunc(pattern, func(p string) string {
			v, ok := values[p]
			if !ok {
				t.Errorf("the layout table's %s is a placeholder this test has no sample value for", p)
			}
			return v
		})
	}
	rows := layoutTable(t)
	var inTable []string
	for _, r := range rows {
		inTable = append(inTable, r.key)
		k, ok := built[r.key]
		if !ok {
			t.Errorf("the layout table has a row for %s, which this test does not call (no such key function, or add it to built)", r.key)
			continue
		}
		if want := (Key{expand(r.pk), expand(r.sk)}); k != want {
			t.Errorf("%s builds pk %q, sk %q; the layout table says %s %s, which is pk %q, sk %q", r.key, k.PK, k.SK, r.pk, r.sk, want.PK, want.SK)
		}
	}
	for _, fn := range keyConstructors(t) {
		if !slices.Contains(inTable, fn) {
			t.Errorf("%s builds a key, and the package doc's item layout table has no row for it", fn)
		}
		if _, ok := built[fn]; !ok {
			t.Errorf("%s builds a key, and this test does not call it", fn)
		}
	}
	if len(rows) != len(built) {
		t.Errorf("the layout table has %d rows for %d keys", len(rows), len(built))
	}
}

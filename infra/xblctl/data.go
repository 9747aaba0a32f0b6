package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xblread/xblread/infra/fixture"
	"github.com/xblread/xblread/infra/loader"
	"github.com/xblread/xblread/infra/progress"
	"github.com/xblread/xblread/pkg/app"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// tableFlags adds --table, --endpoint and --aws to fs, and returns a
// function that gives the table and endpoint once fs is parsed. The
// endpoint is local unless asked otherwise: --endpoint, else
// AWS_ENDPOINT_URL_DYNAMODB, else DynamoDB Local on DYNAMODB_PORT (8000).
// --aws uses AWS's own endpoint (with the usual credentials): nothing reaches
// AWS without it.
func tableFlags(fs *flag.FlagSet) func() (table, endpoint string, err error) {
	table := fs.String("table", envOr("TABLE_NAME", app.DefaultTable), "table name (env TABLE_NAME)")
	local := "http://127.0.0.1:" + envOr("DYNAMODB_PORT", "8000")
	endpoint := fs.String("endpoint", envOr(store.EndpointEnv, local), "DynamoDB endpoint (env "+store.EndpointEnv+"; default DynamoDB Local on DYNAMODB_PORT)")
	aws := fs.Bool("aws", false, "use AWS's DynamoDB endpoint, with the usual AWS credentials, instead of a local one")
	return func() (string, string, error) {
		if *aws {
			set := false
			fs.Visit(func(f *flag.Flag) { set = set || f.Name == "endpoint" })
			if set || os.Getenv(store.EndpointEnv) != "" {
				return "", "", usagef("--aws and --endpoint (or %s) cannot be used together", store.EndpointEnv)
			}
			return *table, "", nil
		}
		if *endpoint == "" {
			return "", "", usagef("--endpoint is empty: give a DynamoDB endpoint, or --aws for AWS itself")
		}
		return *table, *endpoint, nil
	}
}

func openStore(ctx context.Context, table, endpoint string) (store.Table, error) {
	c, err := loader.NewClient(ctx, endpoint)
	if err != nil {
		return store.Table{}, err
	}
	return store.Table{Client: c, Name: table}, nil
}

func runCreateTable(args []string) error {
	fs := newFlags("create-table")
	where := tableFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	table, endpoint, err := where()
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := openStore(ctx, table, endpoint)
	if err != nil {
		return err
	}
	return tableError(createTable(ctx, st, os.Stdout, true), table, endpoint)
}

func createTable(ctx context.Context, st store.Table, out io.Writer, stream bool) error {
	create := loader.CreateTable
	if !stream {
		create = loader.CreateTableWithoutStream
	}
	created, err := create(ctx, st.Client, st.Name)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(out, "created table %s\n", st.Name)
	} else {
		fmt.Fprintf(out, "table %s already exists\n", st.Name)
	}
	return nil
}

func runLoad(args []string) error {
	fs := newFlags("load")
	where := tableFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	table, endpoint, err := where()
	if err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("name at least one fixture file")
	}
	fx := readFixtures(fs.Args())
	ctx := context.Background()
	st, err := openStore(ctx, table, endpoint)
	if err != nil {
		return err
	}
	if err := fx.check(ctx, &st, endpoint); err != nil {
		return err
	}
	return loadData(ctx, st, endpoint, fx, fs.Args(), os.Stdout, os.Stderr)
}

// readFixtures reads and checks every file; nothing is written. Their
// problems, and the SCIDs they use and configure (of an invalid file too),
// are kept for check, which reports them all together.
func readFixtures(paths []string) *fixtures {
	fx := &fixtures{configured: map[string]bool{}}
	for _, p := range paths {
		f := fileProblems{path: p}
		data, err := os.ReadFile(p)
		if err != nil {
			f.unreadable = err
			fx.files = append(fx.files, f)
			continue
		}
		parsed, err := fixture.Parse(data)
		var fe *fixture.Error
		switch {
		case errors.As(err, &fe):
			f.problems = fe.Problems
			fx.uses = append(fx.uses, fileUses(len(fx.files), fe.Uses)...)
			for _, scid := range fe.Configured {
				fx.configured[scid] = true
			}
		case err != nil:
			f.problems = []fixture.Problem{{Path: "$", Message: err.Error()}}
		default:
			fx.data.Merge(&parsed.Data)
			fx.uses = append(fx.uses, fileUses(len(fx.files), parsed.Uses)...)
			for _, c := range parsed.Data.Configs {
				fx.configured[c.SCID] = true
			}
		}
		fx.files = append(fx.files, f)
	}
	return fx
}

// fixtures are the files of one load: their valid data, merged; their
// problems; and what cross-references check follows.
type fixtures struct {
	data       xbl.Dataset
	files      []fileProblems
	uses       []fileUse       // where the files' data names a SCID
	configured map[string]bool // the SCIDs the files configure
}

// fileProblems are the problems of one file.
type fileProblems struct {
	path       string
	unreadable error // the file could not be read
	problems   []fixture.Problem
}

type fileUse struct {
	file int // index in fixtures.files
	fixture.Use
}

func fileUses(file int, uses []fixture.Use) []fileUse {
	out := make([]fileUse, len(uses))
	for i, u := range uses {
		out[i] = fileUse{file, u}
	}
	return out
}

// maxUnconfigured bounds the unconfigured SCID uses reported for one file.
const maxUnconfigured = 50

// check reports every fault of the files in one invalidError, nil when
// there is none: the problems of each file, and its data for a SCID that
// has no configuration, in these files or already in the table (st; nil
// when the table is new and empty). When the files have problems of their
// own and the table cannot be read, the SCIDs left unchecked are named; a
// table that cannot be read is otherwise the error.
func (fx *fixtures) check(ctx context.Context, st *store.Table, endpoint string) error {
	files := slices.Clone(fx.files) // check leaves fx as it was
	bad := false
	for i, f := range files {
		files[i].problems = slices.Clone(f.problems)
		bad = bad || f.unreadable != nil || len(f.problems) > 0
	}
	inTable := map[string]bool{}
	var unchecked []string // SCIDs the table could not be asked about
	var tableErr error
	for _, u := range fx.uses {
		if _, asked := inTable[u.SCID]; asked || fx.configured[u.SCID] || slices.Contains(unchecked, u.SCID) {
			continue
		}
		switch {
		case st == nil:
			inTable[u.SCID] = false
		case tableErr != nil:
			unchecked = append(unchecked, u.SCID)
		default:
			cfg, _, err := st.ReadConfig(ctx, u.SCID)
			if err != nil {
				tableErr = tableError(err, st.Name, endpoint)
				unchecked = append(unchecked, u.SCID)
				continue
			}
			inTable[u.SCID] = cfg != nil
		}
	}
	if tableErr != nil && !bad {
		return tableErr
	}
	where := "in these files"
	if st != nil {
		where = "in these files or in table " + st.Name
	}
	over := make([]int, len(files)) // unconfigured uses past maxUnconfigured
	added := make([]int, len(files))
	for _, u := range fx.uses {
		if ok, asked := inTable[u.SCID]; !asked || ok {
			continue
		}
		if added[u.file] == maxUnconfigured {
			over[u.file]++
			continue
		}
		added[u.file]++
		f := &files[u.file]
		f.problems = append(f.problems, fixture.Problem{Path: u.Path, Message: fmt.Sprintf("scid %s has no service configuration, %s", u.SCID, where)})
	}
	var msgs []string
	for i, f := range files {
		if n := over[i]; n > 0 {
			f.problems = append(f.problems, fixture.Problem{Path: "$", Message: fmt.Sprintf("and %d more places whose scid has no service configuration", n)})
		}
		switch {
		case f.unreadable != nil:
			msgs = append(msgs, f.unreadable.Error())
		case len(f.problems) > 0:
			msgs = append(msgs, f.path+": "+(&fixture.Error{Problems: f.problems}).Error())
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	if len(unchecked) > 0 {
		msgs = append(msgs, fmt.Sprintf("not checked: whether table %s configures scid %s, which these files do not configure: %v", st.Name, strings.Join(unchecked, ", "), tableErr))
	}
	return invalidError{errors.New(strings.Join(msgs, "\n") + "\nnothing was written")}
}

// tableError words a failure to reach table name at endpoint: a table
// that does not exist, or a DynamoDB that does not answer, says what to
// run.
func tableError(err error, name, endpoint string) error {
	if err == nil {
		return nil
	}
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return fmt.Errorf("table %s does not exist: run `xblctl create-table` first", name)
	case refused(err):
		return notRunning(fmt.Sprintf("DynamoDB at %s", endpoint), startDynamoDB, err)
	}
	return err
}

// loadData writes the files' data and prints what it loaded; on a
// terminal it shows the items written as they go (infra/progress).
func loadData(ctx context.Context, st store.Table, endpoint string, fx *fixtures, files []string, out io.Writer, progressTo *os.File) error {
	start := time.Now()
	hook, end := progress.Hook(progressTo, "writing items")
	res, err := loader.Load(ctx, st, &fx.data, hook)
	end()
	if err != nil {
		return tableError(err, st.Name, endpoint)
	}
	fmt.Fprintf(out, "loaded %s into table %s: %d service configs, %d profiles, %d stats items, %d sessions (%d membership items, %d keyword items), %d stale items removed; %d items in %d BatchWriteItem calls, %s\n",
		strings.Join(files, ", "), st.Name, res.Configs, res.Profiles, res.StatItems, res.Sessions,
		res.Memberships, res.Keywords, res.Deleted, res.Items(), res.Writes, time.Since(start).Round(time.Millisecond))
	return nil
}

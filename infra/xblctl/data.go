package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/term"

	"github.com/xblread/xblread/infra/fixture"
	"github.com/xblread/xblread/infra/loader"
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
	return createTable(ctx, st, os.Stdout, true)
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
	ds, err := readFixtures(fs.Args())
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := openStore(ctx, table, endpoint)
	if err != nil {
		return err
	}
	return loadData(ctx, st, ds, fs.Args(), os.Stdout, os.Stderr)
}

// readFixtures reads and validates every file before anything is written.
// All problems of all files are reported together, as an invalidError.
func readFixtures(paths []string) (*fixtures, error) {
	all := &fixtures{}
	var msgs []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			msgs = append(msgs, err.Error())
			continue
		}
		f, err := fixture.Parse(data)
		if err != nil {
			msgs = append(msgs, p+": "+err.Error())
			continue
		}
		all.data.Merge(&f.Data)
		for _, u := range f.Uses {
			all.uses = append(all.uses, fileUse{p, u})
		}
	}
	if len(msgs) > 0 {
		return nil, invalidError{errors.New(strings.Join(msgs, "\n") + "\nnothing was written")}
	}
	return all, nil
}

// fixtures are the files of one load, merged, and where their data names
// a SCID.
type fixtures struct {
	data xbl.Dataset
	uses []fileUse
}

type fileUse struct {
	file string
	fixture.Use
}

// checkConfigured refuses data for a SCID that has no configuration, in
// these files or already in the table: nobody could read it.
func checkConfigured(ctx context.Context, st store.Table, fx *fixtures) error {
	configured := map[string]bool{}
	for _, c := range fx.data.Configs {
		configured[c.SCID] = true
	}
	var msgs []string
	for _, u := range fx.uses {
		ok, checked := configured[u.SCID]
		if !checked {
			cfg, _, err := st.ReadConfig(ctx, u.SCID)
			if err != nil {
				return err
			}
			ok = cfg != nil
			configured[u.SCID] = ok
		}
		if !ok {
			msgs = append(msgs, fmt.Sprintf("%s: %s: scid %s has no service configuration, in these files or in table %s", u.file, u.Path, u.SCID, st.Name))
		}
	}
	if len(msgs) > 0 {
		return invalidError{errors.New(strings.Join(msgs, "\n") + "\nnothing was written")}
	}
	return nil
}

// loadData writes ds and prints what it loaded; on a terminal it shows
// progress for large loads.
func loadData(ctx context.Context, st store.Table, fx *fixtures, files []string, out io.Writer, progressTo *os.File) error {
	start := time.Now()
	if err := checkConfigured(ctx, st, fx); err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return fmt.Errorf("table %s does not exist: run `xblctl create-table` first", st.Name)
		}
		return err
	}
	ds := &fx.data
	var progress func(done, total int)
	if term.IsTerminal(int(progressTo.Fd())) {
		last := time.Time{}
		progress = func(done, total int) {
			if total < 1000 || (time.Since(last) < 200*time.Millisecond && done < total) {
				return
			}
			last = time.Now()
			fmt.Fprintf(progressTo, "\rwriting items: %d/%d (%d%%)", done, total, done*100/total)
			if done == total {
				fmt.Fprintln(progressTo)
			}
		}
	}
	res, err := loader.Load(ctx, st, ds, progress)
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return fmt.Errorf("table %s does not exist: run `xblctl create-table` first", st.Name)
		}
		return err
	}
	fmt.Fprintf(out, "loaded %s into table %s: %d service configs, %d profiles, %d stats items, %d sessions (%d membership items, %d keyword items), %d stale items removed; %d items in %d BatchWriteItem calls, %s\n",
		strings.Join(files, ", "), st.Name, res.Configs, res.Profiles, res.StatItems, res.Sessions,
		res.Memberships, res.Keywords, res.Deleted, res.Items(), res.Writes, time.Since(start).Round(time.Millisecond))
	return nil
}

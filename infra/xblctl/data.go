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

// tableFlags adds --table and --endpoint to fs.
func tableFlags(fs *flag.FlagSet) (table, endpoint *string) {
	table = fs.String("table", envOr("TABLE_NAME", app.DefaultTable), "table name (env TABLE_NAME)")
	endpoint = fs.String("endpoint", os.Getenv(store.EndpointEnv), "DynamoDB endpoint; empty for AWS (env "+store.EndpointEnv+")")
	return table, endpoint
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
	table, endpoint := tableFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	ctx := context.Background()
	st, err := openStore(ctx, *table, *endpoint)
	if err != nil {
		return err
	}
	return createTable(ctx, st, os.Stdout)
}

func createTable(ctx context.Context, st store.Table, out io.Writer) error {
	created, err := loader.CreateTable(ctx, st.Client, st.Name)
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
	table, endpoint := tableFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("name at least one fixture file")
	}
	ds, err := readFixtures(fs.Args(), os.Stderr)
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := openStore(ctx, *table, *endpoint)
	if err != nil {
		return err
	}
	return loadData(ctx, st, ds, fs.Args(), os.Stdout, os.Stderr)
}

// readFixtures reads and validates every file before anything is written.
// All problems of all files are reported together, as an invalidError.
func readFixtures(paths []string, warn io.Writer) (*xbl.Dataset, error) {
	var all xbl.Dataset
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
		for _, path := range f.Ignored {
			fmt.Fprintf(warn, "%s: %s: unknown key ignored\n", p, path)
		}
		all.Merge(&f.Data)
	}
	if len(msgs) > 0 {
		return nil, invalidError{errors.New(strings.Join(msgs, "\n") + "\nnothing was written")}
	}
	return &all, nil
}

// loadData writes ds and prints what it loaded; on a terminal it shows
// progress for large loads.
func loadData(ctx context.Context, st store.Table, ds *xbl.Dataset, files []string, out io.Writer, progressTo *os.File) error {
	start := time.Now()
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

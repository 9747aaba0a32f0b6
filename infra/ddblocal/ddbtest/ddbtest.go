// Package ddbtest runs a package's tests against DynamoDB Local: the one at
// AWS_ENDPOINT_URL_DYNAMODB when that is set, else one that Main starts for
// the test binary and stops when it ends. Each test gets its own table.
//
// With -short (make test-unit) Main starts nothing, and every test that
// asks for a client is skipped: the unit tier needs no Java.
package ddbtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/xblread/xblread/infra/ddblocal"
	"github.com/xblread/xblread/infra/fixture"
	"github.com/xblread/xblread/infra/loader"
	"github.com/xblread/xblread/pkg/store"
)

var endpoint string

// Main is a TestMain body: it makes sure DynamoDB Local runs, runs the
// tests, and stops what it started. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }
func Main(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		return m.Run()
	}
	endpoint = os.Getenv(store.EndpointEnv)
	if endpoint == "" {
		root, err := ddblocal.RepoRoot(".")
		if err != nil {
			fmt.Fprintln(os.Stderr, "ddbtest:", err)
			return 1
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		srv, err := ddblocal.Start(ctx, root, 0)
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "ddbtest:", err)
			return 1
		}
		defer srv.Stop()
		endpoint = srv.Endpoint
		// Code under test that reads the environment finds the same endpoint.
		os.Setenv(store.EndpointEnv, endpoint)
		return m.Run()
	}
	// An endpoint of the caller's outlives the run: the tables the run
	// shared are deleted when it ends (each test deletes its own).
	code := m.Run()
	deleteShared()
	return code
}

var (
	createdMu sync.Mutex
	created   []string // tables made by NewTableNamed
)

// deleteShared deletes the tables NewTableNamed made.
func deleteShared() {
	createdMu.Lock()
	defer createdMu.Unlock()
	if len(created) == 0 {
		return
	}
	c, err := store.NewClient(context.Background(), endpoint)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ddbtest: tables left behind:", created, err)
		return
	}
	for _, name := range created {
		if _, err := c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			fmt.Fprintln(os.Stderr, "ddbtest: could not delete table", name, err)
		}
	}
	created = nil
}

// Require skips the test when the run has no DynamoDB Local (-short).
func Require(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs DynamoDB Local: not run with -short")
	}
}

// Endpoint returns the DynamoDB Local endpoint of the test run.
func Endpoint(t testing.TB) string {
	t.Helper()
	Require(t)
	return endpoint
}

// Client returns a DynamoDB client for the test run's endpoint.
func Client(t testing.TB) *dynamodb.Client {
	t.Helper()
	Require(t)
	if endpoint == "" {
		t.Fatal("ddbtest: no endpoint: call ddbtest.Main from TestMain")
	}
	c, err := store.NewClient(context.Background(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// NewTable creates a table of its own for the test and deletes it when the
// test ends. It returns the table's name.
func NewTable(t testing.TB) string {
	t.Helper()
	name := NewTableNamed(t, "test")
	t.Cleanup(func() {
		Client(t).DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		createdMu.Lock()
		created = slices.DeleteFunc(created, func(n string) bool { return n == name }) // gone already
		createdMu.Unlock()
	})
	return name
}

// EmptyTable returns a new, empty table of the test's own.
func EmptyTable(t testing.TB) store.Table {
	t.Helper()
	return store.Table{Client: Client(t), Name: NewTable(t)}
}

// StreamTable returns a new, empty table of the test's own with the
// deployed table's stream (EmptyTable's have none: DynamoDB Local writes
// are slower with one).
func StreamTable(t testing.TB) store.Table {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	name := "stream-" + hex.EncodeToString(b[:])
	if _, err := loader.CreateTable(context.Background(), Client(t), name); err != nil {
		t.Fatalf("create table: %v", err)
	}
	createdMu.Lock()
	created = append(created, name)
	createdMu.Unlock()
	return store.Table{Client: Client(t), Name: name}
}

// Counter counts the DynamoDB requests a client sends, by operation
// (X-Amz-Target), retries included.
type Counter struct {
	mu     sync.Mutex
	ops    map[string]int
	bodies map[string][]string
}

// Bodies returns the request bodies of the operation, in order.
func (c *Counter) Bodies(op string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.bodies[op]...)
}

// Get returns the number of requests of the operation ("BatchGetItem").
func (c *Counter) Get(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ops[op]
}

// Ops returns the operations seen, sorted.
func (c *Counter) Ops() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Sorted(maps.Keys(c.ops))
}

// Total returns the number of requests of every operation.
func (c *Counter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.ops {
		n += v
	}
	return n
}

// Reset forgets the counts.
func (c *Counter) Reset() {
	c.mu.Lock()
	c.ops = map[string]int{}
	c.bodies = map[string][]string{}
	c.mu.Unlock()
}

type countingHTTP struct {
	inner *awshttp.BuildableClient
	c     *Counter
}

func (h countingHTTP) Do(r *http.Request) (*http.Response, error) {
	op := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		op = op[i+1:]
	}
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	h.c.mu.Lock()
	h.c.ops[op]++
	h.c.bodies[op] = append(h.c.bodies[op], string(body))
	h.c.mu.Unlock()
	return h.inner.Do(r)
}

// CountingClient returns a client for the test run's endpoint whose every
// HTTP request is counted.
func CountingClient(t testing.TB) (*dynamodb.Client, *Counter) {
	t.Helper()
	c := &Counter{ops: map[string]int{}, bodies: map[string][]string{}}
	client, err := store.NewClient(context.Background(), Endpoint(t), func(o *dynamodb.Options) {
		o.HTTPClient = countingHTTP{inner: awshttp.NewBuildableClient(), c: c}
	})
	if err != nil {
		t.Fatal(err)
	}
	return client, c
}

// NewTableNamed creates a table named prefix-<random> that outlives the
// test, for a table a package's tests share. The DynamoDB Local that Main
// starts forgets it when the run ends; on an endpoint of the caller's
// (AWS_ENDPOINT_URL_DYNAMODB), Main deletes it.
func NewTableNamed(t testing.TB, prefix string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	name := prefix + "-" + hex.EncodeToString(b[:])
	if _, err := loader.CreateTableWithoutStream(context.Background(), Client(t), name); err != nil {
		t.Fatalf("create table: %v", err)
	}
	createdMu.Lock()
	created = append(created, name)
	createdMu.Unlock()
	return name
}

// Load writes the fixture file at path into st.
func Load(t testing.TB, st store.Table, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	LoadText(t, st, string(data))
}

// LoadText writes the fixture doc into st.
func LoadText(t testing.TB, st store.Table, doc string) {
	t.Helper()
	f, err := fixture.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loader.Load(context.Background(), st, &f.Data, nil); err != nil {
		t.Fatal(err)
	}
}

// DeadEndpoint returns an endpoint where nothing listens: every call is
// refused.
func DeadEndpoint(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// SilentEndpoint returns an endpoint that accepts connections and never
// answers, until the test ends.
func SilentEndpoint(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return "http://" + l.Addr().String()
}

var (
	sharedMu     sync.Mutex
	sharedStores = map[string]store.Table{}
)

// Shared returns a store on a table holding the fixture file, created the
// first time a test of the run asks for that file and shared by every test
// that only reads it.
func Shared(t testing.TB, fixturePath string) store.Table {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if st, ok := sharedStores[fixturePath]; ok {
		return st
	}
	st := store.Table{Client: Client(t), Name: NewTableNamed(t, "shared")}
	Load(t, st, fixturePath)
	sharedStores[fixturePath] = st
	return st
}

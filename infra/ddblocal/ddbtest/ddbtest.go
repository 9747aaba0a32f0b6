// Package ddbtest runs a package's tests against DynamoDB Local: the one at
// AWS_ENDPOINT_URL_DYNAMODB when that is set, else one that Main starts for
// the test binary and stops when it ends. Each test gets its own table.
package ddbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/xblread/xblread/infra/ddblocal"
	"github.com/xblread/xblread/pkg/store"
)

var endpoint string

// Main is a TestMain body: it makes sure DynamoDB Local runs, runs the
// tests, and stops what it started. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }
func Main(m *testing.M) int {
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
	}
	return m.Run()
}

// Endpoint returns the DynamoDB Local endpoint of the test run.
func Endpoint() string { return endpoint }

// Client returns a DynamoDB client for the test run's endpoint.
func Client(t testing.TB) *dynamodb.Client {
	t.Helper()
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
	c := Client(t)
	var b [6]byte
	rand.Read(b[:])
	name := "test-" + hex.EncodeToString(b[:])
	ctx := context.Background()
	if _, err := store.CreateTable(ctx, c, name); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() {
		c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return name
}

// NewStore returns a Store on a new table of the test's own.
func NewStore(t testing.TB) *store.Store {
	t.Helper()
	return store.New(Client(t), NewTable(t))
}

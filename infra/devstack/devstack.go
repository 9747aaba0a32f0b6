// Package devstack wires the local API the way `xblctl serve` runs it:
// the functions' own handlers, built from the environment's configuration
// (trusting the development key when no key is configured), behind the
// routes of template.yaml. xblctl, the benchmarks and the test suites share
// it.
package devstack

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/infra/localapi"
	"github.com/xblread/xblread/infra/samtemplate"
	"github.com/xblread/xblread/pkg/app"
	"github.com/xblread/xblread/pkg/metrics"
	"github.com/xblread/xblread/pkg/store"
	"github.com/xblread/xblread/pkg/xbl"
)

// Config is the functions' configuration for the local stack: the
// environment's, on the given table and endpoint, with the development key
// trusted when no key is set.
func Config(table, endpoint string) app.Config {
	c := app.ConfigFromEnv()
	c.Table, c.Endpoint = table, endpoint
	if !c.HasKeys() {
		c.PEM = string(devkey.PublicPEM)
		c.Issuer, c.Audience = devkey.Issuer, devkey.Audience
	}
	return c
}

// LoadTemplate reads the template at path, or template.yaml here or in the
// nearest parent directory when path is empty.
func LoadTemplate(path string) (*samtemplate.Template, error) {
	if path == "" {
		return samtemplate.LoadNearest(".")
	}
	return samtemplate.Load(path)
}

// Functions builds every function of the template with the handler its
// Lambda binary runs and its timeout from the template. Logs and EMF
// records go to logOut.
func Functions(ctx context.Context, t *samtemplate.Template, cfg app.Config, logOut io.Writer) (map[string]localapi.Function, error) {
	props, err := t.Functions()
	if err != nil {
		return nil, err
	}
	deps, err := app.NewDeps(ctx, cfg, app.NewLogger(logOut))
	if err != nil {
		return nil, err
	}
	deps.Metrics = metrics.NewWriter(logOut)
	fns := map[string]localapi.Function{}
	for id, p := range props {
		f, ok := app.Lookup(id)
		if !ok {
			return nil, fmt.Errorf("template function %s has no Go function in pkg/app", id)
		}
		timeout := time.Duration(p.Timeout) * time.Second
		if timeout <= 0 {
			timeout = 3 * time.Second // Lambda's default
		}
		fns[id] = localapi.Function{Handler: lambda.NewHandler(app.Lambda(f.New(deps))), Timeout: timeout}
	}
	return fns, nil
}

// NewServer builds the local API from the template at templatePath (see
// LoadTemplate).
func NewServer(ctx context.Context, templatePath string, cfg app.Config, logOut io.Writer) (*localapi.Server, error) {
	t, err := LoadTemplate(templatePath)
	if err != nil {
		return nil, err
	}
	routes, err := t.Routes()
	if err != nil {
		return nil, err
	}
	fns, err := Functions(ctx, t, cfg, logOut)
	if err != nil {
		return nil, err
	}
	return localapi.New(routes, fns, app.NewLogger(logOut))
}

// Stack is a local API over a table of its own, on a loopback port.
type Stack struct {
	// URL is the API's base URL; Table the table it reads.
	URL, Table string
	client     *dynamodb.Client
	server     *http.Server
}

// Start creates a new table on endpoint, loads ds into it and serves the
// local API for it. Close undoes both.
func Start(ctx context.Context, endpoint string, ds *xbl.Dataset) (*Stack, store.LoadResult, error) {
	var res store.LoadResult
	client, err := store.NewClient(ctx, endpoint)
	if err != nil {
		return nil, res, err
	}
	s := &Stack{Table: fmt.Sprintf("local-%d", time.Now().UnixNano()), client: client}
	if _, err := store.CreateTable(ctx, client, s.Table); err != nil {
		return nil, res, err
	}
	if res, err = store.New(client, s.Table).Load(ctx, ds, nil); err != nil {
		s.Close()
		return nil, res, err
	}
	srv, err := NewServer(ctx, "", Config(s.Table, endpoint), io.Discard)
	if err != nil {
		s.Close()
		return nil, res, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		return nil, res, err
	}
	s.server = &http.Server{Handler: srv}
	go s.server.Serve(l)
	s.URL = "http://" + l.Addr().String()
	return s, res, nil
}

// Close stops serving and deletes the table.
func (s *Stack) Close() {
	if s.server != nil {
		s.server.Close()
	}
	s.client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(s.Table)})
}

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/xblread/xblread/infra/devstack"
	"github.com/xblread/xblread/infra/localapi"
	"github.com/xblread/xblread/infra/samtemplate"
	"github.com/xblread/xblread/pkg/app"
	"github.com/xblread/xblread/pkg/xbl"
)

// floorCase is the statistics write's request through a local API whose
// function does nothing but the raw side's UpdateItem: no token, no body
// read, no log, no rendering. Its ratio is the floor that the local API
// (the HTTP hop, the payload 2.0 event both ways, the warm instance) puts
// under any function's, on this machine: a write function cannot measure
// below it.
type floorCase struct {
	writeCase
	srv *localapiServer
	rev atomic.Int64
}

func (c *floorCase) name() string {
	return fmt.Sprintf("floor: the same POST, %d stats, to a function doing only the raw UpdateItem", writeStats)
}

func (c *floorCase) prepare(client *dynamodb.Client, table, base string) error {
	if err := c.writeCase.prepare(client, table, base); err != nil {
		return err
	}
	fn := app.LambdaHandler(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		x, err := strconv.ParseUint(ev.PathParameters["xuid"], 10, 64)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{StatusCode: 400}, nil
		}
		if _, err := c.writeCase.update(ctx, int(c.rev.Add(1)), xbl.XUID(x)); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: "{}"}, nil
	})
	routes := []samtemplate.Route{{Method: "POST", Path: "/stats/users/{xuid}/scids/{scid}", Function: "Floor"}}
	fns := map[string]localapi.Function{"Floor": {New: func() lambda.Handler { return lambda.NewHandler(fn) }, Timeout: 10 * time.Second}}
	api, err := localapi.New(routes, fns, app.NewLogger(io.Discard)) // the access log, written as by the real stack
	if err != nil {
		return err
	}
	c.srv, err = serveLocal(api)
	if err != nil {
		return err
	}
	c.base = c.srv.url
	return nil
}

func (c *floorCase) close() { c.srv.close() }

// localapiServer is a local API on a loopback port.
type localapiServer struct {
	url   string
	close func()
}

func serveLocal(api *localapi.Server) (*localapiServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := devstack.NewHTTPServer(api)
	go hs.Serve(l)
	return &localapiServer{url: "http://" + l.Addr().String(), close: func() { hs.Close() }}, nil
}

// Command rtanotify is real-time activity's notifier Lambda function: it
// reads the table's stream (DynamoDB Streams, session documents only, by
// the event source mapping's filter) and sends each change's shoulder tap
// to the subscribed members' connections through the WebSocket API's
// management endpoint (RTA_ENDPOINT). It takes no HTTP request.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xblread/xblread/pkg/apigw"
	"github.com/xblread/xblread/pkg/app"
	"github.com/xblread/xblread/pkg/rta"
	"github.com/xblread/xblread/pkg/rtastream"
	"github.com/xblread/xblread/pkg/store/rtastore"
)

func main() {
	log := app.NewLogger(os.Stdout)
	t, _, err := app.TableFromEnvironment(context.Background())
	if err != nil {
		log.Error("init failed", "function", "rtanotify", "error", err.Error())
		os.Exit(1)
	}
	opts := t.Client.Options()
	poster := &apigw.Poster{Endpoint: os.Getenv("RTA_ENDPOINT"), Region: opts.Region, Credentials: opts.Credentials}
	h := &rtastream.Handler{Svc: &rta.Service{Store: rtastore.New(t), Poster: poster}, Log: log}
	lambda.Start(h.Handle)
}

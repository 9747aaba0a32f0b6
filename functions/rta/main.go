// Command rta is the real-time activity Lambda function: the routes
// $connect, $disconnect and $default of API Gateway's WebSocket API
// (rta.xboxlive.com.V2: connections and their subscriptions), from its
// WebSocket events. It answers each frame as the route's response, and
// ends a connection that breaks the protocol through the API's management
// endpoint (RTA_ENDPOINT, or the event's domain and stage). When a
// connection closes, its player becomes inactive in its sessions
// (connection-based presence): the one session write it makes.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xblread/xblread/pkg/apigw"
	"github.com/xblread/xblread/pkg/app"
	"github.com/xblread/xblread/pkg/rtaapi"
	"github.com/xblread/xblread/pkg/store/rtastore"
	"github.com/xblread/xblread/pkg/store/sessionstore"
)

func main() {
	log := app.NewLogger(os.Stdout)
	env, err := app.FromEnvironment(context.Background(), log)
	if err != nil {
		log.Error("init failed", "function", "rta", "error", err.Error())
		os.Exit(1)
	}
	opts := env.Table.Client.Options()
	poster := &apigw.Poster{Endpoint: os.Getenv("RTA_ENDPOINT"), Region: opts.Region, Credentials: opts.Credentials}
	h := rtaapi.New(rtastore.New(env.Table), sessionstore.New(env.Table), env.Limiter, env.Verifier, poster, log)
	lambda.Start(func(ctx context.Context, e events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		if poster.Endpoint == "" {
			poster.Endpoint = "https://" + e.RequestContext.DomainName + "/" + e.RequestContext.Stage
		}
		return h.Handle(ctx, e)
	})
}

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
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xblread/xblread/pkg/apigw"
	"github.com/xblread/xblread/pkg/app"
	"github.com/xblread/xblread/pkg/rta"
	"github.com/xblread/xblread/pkg/rtaapi"
	"github.com/xblread/xblread/pkg/sessions"
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
	// A closed connection makes its player inactive in its sessions.
	st := sessionstore.New(env.Table)
	presence := &sessions.Service{Store: st, Queue: st, Now: time.Now}
	h := &rtaapi.Handler{
		Svc:      &rta.Service{Store: rtastore.New(env.Table), Presence: presence, Limiter: limiter(env)},
		Verifier: env.Verifier, Closer: poster, Poster: poster, Log: log,
	}
	lambda.Start(func(ctx context.Context, e events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
		if poster.Endpoint == "" {
			poster.Endpoint = "https://" + e.RequestContext.DomainName + "/" + e.RequestContext.Stage
		}
		return h.Handle(ctx, e)
	})
}

// limiter is env's rate limiter as rta counts with it; nil when limits
// are off.
func limiter(env *app.Env) rta.Limiter {
	if env.Limiter == nil {
		return nil
	}
	return env.Limiter
}

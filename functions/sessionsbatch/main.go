// Command sessionsbatch is the session directory Lambda function: the batch
// query and the one-user GET, from API Gateway HTTP API (payload 2.0)
// events.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xblread/xblread/pkg/app"
	"github.com/xblread/xblread/pkg/ratelimit"
	"github.com/xblread/xblread/pkg/sessionsapi"
	"github.com/xblread/xblread/pkg/store/sessionstore"
)

func main() {
	log := app.NewLogger(os.Stdout)
	env, err := app.FromEnvironment(context.Background(), log)
	if err != nil {
		log.Error("init failed", "function", "sessionsbatch", "error", err.Error())
		os.Exit(1)
	}
	h := sessionsapi.New(env.API("sessionsbatch", ratelimit.SessionDirectory), env.Configs, sessionstore.New(env.Table))
	lambda.Start(app.Lambda(h))
}

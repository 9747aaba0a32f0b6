// Command statsbatch is the user statistics Lambda function: POST /batch and
// the single-user GET, from API Gateway HTTP API (payload 2.0) events.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xblread/xblread/pkg/app"
	"github.com/xblread/xblread/pkg/ratelimit"
	"github.com/xblread/xblread/pkg/statsapi"
	"github.com/xblread/xblread/pkg/store/statstore"
)

func main() {
	log := app.NewLogger(os.Stdout)
	env, err := app.FromEnvironment(context.Background(), log)
	if err != nil {
		log.Error("init failed", "function", "statsbatch", "error", err.Error())
		os.Exit(1)
	}
	h := statsapi.New(env.API("statsbatch", ratelimit.UserStats), env.Configs, statstore.New(env.Table))
	lambda.Start(app.Lambda(h))
}

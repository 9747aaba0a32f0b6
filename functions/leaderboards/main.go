// Command leaderboards is the leaderboards Lambda function: XSAPI's global
// leaderboard query, GET /scids/{scid}/leaderboards/stat({name}), and its
// social forms (refused), from API Gateway HTTP API (payload 2.0) events.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xblread/xblread/pkg/app"
	"github.com/xblread/xblread/pkg/leaderboardsapi"
	"github.com/xblread/xblread/pkg/ratelimit"
	"github.com/xblread/xblread/pkg/store/rankstore"
)

func main() {
	log := app.NewLogger(os.Stdout)
	env, err := app.FromEnvironment(context.Background(), log)
	if err != nil {
		log.Error("init failed", "function", "leaderboards", "error", err.Error())
		os.Exit(1)
	}
	h := leaderboardsapi.New(env.API("leaderboards", ratelimit.Leaderboards), env.Configs, rankstore.New(env.Table))
	lambda.Start(app.Lambda(h))
}

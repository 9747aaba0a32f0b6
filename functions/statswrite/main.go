// Command statswrite is the title-managed statistics write Lambda function:
// POST, PATCH and GET of /stats/users/{xuid}/scids/{scid}, from API
// Gateway HTTP API (payload 2.0) events.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xblread/xblread/pkg/app"
	"github.com/xblread/xblread/pkg/ratelimit"
	"github.com/xblread/xblread/pkg/statswriteapi"
	"github.com/xblread/xblread/pkg/store/statstore"
)

func main() {
	log := app.NewLogger(os.Stdout)
	env, err := app.FromEnvironment(context.Background(), log)
	if err != nil {
		log.Error("init failed", "function", "statswrite", "error", err.Error())
		os.Exit(1)
	}
	h := statswriteapi.New(env.API("statswrite", ratelimit.StatsWrite), env.Configs, statstore.New(env.Table))
	lambda.Start(app.Lambda(h))
}

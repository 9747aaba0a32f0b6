// Command sessionswrite is the session write Lambda function (MPSD): PUT
// and GET of one session and DELETE of the caller's membership, from API
// Gateway HTTP API (payload 2.0) events. It is the only function whose
// policy may write sessions.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xblread/xblread/pkg/app"
	"github.com/xblread/xblread/pkg/ratelimit"
	"github.com/xblread/xblread/pkg/sessionswriteapi"
	"github.com/xblread/xblread/pkg/store/sessionstore"
)

func main() {
	log := app.NewLogger(os.Stdout)
	env, err := app.FromEnvironment(context.Background(), log)
	if err != nil {
		log.Error("init failed", "function", "sessionswrite", "error", err.Error())
		os.Exit(1)
	}
	h := sessionswriteapi.New(env.API("sessionswrite", ratelimit.SessionDirectory), env.Configs, sessionstore.New(env.Table))
	lambda.Start(app.Lambda(h))
}

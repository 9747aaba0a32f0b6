// Command leaderboardindex is the leaderboards' index Lambda function: it
// reads the table's stream (DynamoDB Streams, statistics items only, by
// the event source mapping's filter) and moves each player on the boards
// their write changed (pkg/rankstream, pkg/store/rankstore). It takes no
// HTTP request and checks no token.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xblread/xblread/pkg/app"
	"github.com/xblread/xblread/pkg/configcache"
	"github.com/xblread/xblread/pkg/leaderboards"
	"github.com/xblread/xblread/pkg/rankstream"
	"github.com/xblread/xblread/pkg/store/rankstore"
)

func main() {
	log := app.NewLogger(os.Stdout)
	t, c, err := app.TableFromEnvironment(context.Background())
	if err != nil {
		log.Error("init failed", "function", "leaderboardindex", "error", err.Error())
		os.Exit(1)
	}
	h := &rankstream.Handler{
		Index: &leaderboards.Index{Configs: configcache.New(t, c.ConfigCacheTTL, c.ConfigCacheSize), Store: rankstore.New(t)},
		Log:   log,
	}
	lambda.Start(h.Handle)
}

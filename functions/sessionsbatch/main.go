// Command sessionsbatch is the session directory Lambda function: it serves API
// Gateway HTTP API (payload 2.0) events. The wiring is in package app.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xblread/xblread/pkg/app"
)

func main() {
	log := app.NewLogger(os.Stdout)
	h, err := app.New(context.Background(), "sessionsbatch", log)
	if err != nil {
		log.Error("init failed", "function", "sessionsbatch", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}

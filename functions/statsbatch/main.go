// Command statsbatch is the user statistics Lambda function: it serves
// API Gateway HTTP API (payload 2.0) events. All wiring is in package app.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xblread/xblread/pkg/app"
)

func main() {
	lambda.Start(app.Main("statsbatch"))
}

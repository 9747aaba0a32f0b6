// Command hello is the smallest aws-lambda-go function: the yardstick
// that `make bench` measures the functions' start-up against.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context) (string, error) { return "hello", nil })
}

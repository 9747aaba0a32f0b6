// Command misbehave is a Lambda function that fails as its event asks, for
// the emulator pool's tests: it sleeps, answers too much, reports an
// error, or exits.
package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	SleepMs int    `json:"sleepMs"`
	Size    int    `json:"size"`
	Exit    int    `json:"exit"`
	Error   string `json:"error"`
	Log     string `json:"log"`
}

type response struct {
	StatusCode int    `json:"statusCode"`
	Body       string `json:"body"`
	PID        int    `json:"pid"`
	Env        string `json:"env,omitempty"`
}

func main() {
	started := time.Now()
	lambda.Start(func(ctx context.Context, e event) (response, error) {
		if e.Log != "" {
			os.Stdout.WriteString(e.Log + "\n")
		}
		time.Sleep(time.Duration(e.SleepMs) * time.Millisecond)
		if e.Exit != 0 {
			os.Exit(e.Exit)
		}
		if e.Error != "" {
			return response{}, errors.New(e.Error)
		}
		return response{StatusCode: 200, Body: strings.Repeat("x", e.Size), PID: os.Getpid(),
			Env: os.Getenv("MISBEHAVE_ENV") + "|" + started.Format(time.RFC3339Nano)}, nil
	})
}

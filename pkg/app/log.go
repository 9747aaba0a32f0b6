package app

import (
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/xblread/xblread/pkg/httpapi"
)

// NewLogger returns the JSON logger of a function. In Lambda it is
// lambdacontext.NewLogger(), which follows the function's LoggingConfig;
// elsewhere (the local API, tests) it writes the same JSON lines to w, at
// the level LOG_LEVEL names (default INFO). Either way every line logged
// with a request's context carries its requestId.
func NewLogger(w io.Writer) *slog.Logger {
	if os.Getenv("AWS_LAMBDA_FUNCTION_NAME") != "" && os.Getenv("AWS_SAM_LOCAL") == "" {
		return lambdacontext.NewLogger()
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(os.Getenv("LOG_LEVEL")))); err != nil {
		level = slog.LevelInfo
	}
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: lambdacontext.ReplaceAttr})
	return slog.New(httpapi.WithRequestID(h))
}

package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/xblread/xblread/pkg/derrors"
)

// EndpointEnv names the environment variable that points the SDK at another
// DynamoDB endpoint, such as DynamoDB Local.
const EndpointEnv = "AWS_ENDPOINT_URL_DYNAMODB"

// Table is the service's table and the client that reaches it.
type Table struct {
	Client *dynamodb.Client
	Name   string
}

// NewClient returns a DynamoDB client configured from the environment, as
// Lambda provides it: AWS_REGION and the function role's credentials in
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. It reads
// no shared config files and runs no credential chain: that keeps the SDK's
// SSO, STS and IMDS clients out of the function binaries (tools that need
// profiles build their clients with the SDK's config package). A non-empty
// endpoint overrides AWS_ENDPOINT_URL_DYNAMODB. When the endpoint is
// DynamoDB Local (on loopback, or any endpoint under sam local), missing
// credentials and region take fixed local values, since DynamoDB Local
// accepts any. optFns adjust the client's options (tests use them to count
// calls).
func NewClient(_ context.Context, endpoint string, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	if endpoint == "" {
		endpoint = os.Getenv(EndpointEnv)
	}
	local := isLoopback(endpoint) || endpoint != "" && os.Getenv("AWS_SAM_LOCAL") == "true"
	o := dynamodb.Options{
		Region:     cmp.Or(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION")),
		Retryer:    Retryer(),
		HTTPClient: httpClient(),
	}
	if id := os.Getenv("AWS_ACCESS_KEY_ID"); id != "" {
		o.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")))
	}
	if local {
		o.Region = cmp.Or(o.Region, "us-east-1")
		if o.Credentials == nil {
			o.Credentials = credentials.NewStaticCredentialsProvider("local", "local", "")
		}
		// DynamoDB Local's error responses fail the SDK's CRC32 check and
		// make it log a harmless warning on every one; keep it quiet.
		o.Logger = logging.Nop{}
	}
	if o.Region == "" {
		return nil, errors.New("AWS_REGION is not set")
	}
	if o.Credentials == nil {
		return nil, errors.New("no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)")
	}
	if endpoint != "" {
		o.BaseEndpoint = aws.String(endpoint)
	}
	return dynamodb.New(o, optFns...), nil
}

// MaxIdleConnsPerHost is how many connections to DynamoDB a client keeps
// open between calls. The SDK's default, 10, is fewer than a session
// query's concurrent reads (16): every query would close the connections
// past 10 after one wave and open them again (a TLS handshake each, on
// AWS) in the next.
const MaxIdleConnsPerHost = 32

// httpClient is the client's HTTP client: the SDK's default transport
// (its dial and TLS settings), keeping MaxIdleConnsPerHost connections,
// following no redirect (as the SDK's own client does not). It is a plain
// *http.Client rather than the SDK's BuildableClient, whose pool cannot be
// emptied: CloseIdleConnections lets the local stack's leak check tell
// pooled connections from leaks.
func httpClient() *http.Client {
	tr := awshttp.NewBuildableClient().GetTransport()
	tr.MaxIdleConnsPerHost = MaxIdleConnsPerHost
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Retryer is the SDK retryer of every client: a caller is waiting, so
// retry twice, soon (the SDK's default backoff reaches 20 s), and leave the
// rest to the caller's Retry-After.
func Retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxSDKAttempts
		o.MaxBackoff = maxSDKBackoff
	})
}

// IsLocal reports whether endpoint is DynamoDB Local on this machine.
func IsLocal(endpoint string) bool { return isLoopback(endpoint) }

func isLoopback(endpoint string) bool {
	if endpoint == "" {
		return false
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// The SDK's retries of a failed call.
const (
	maxSDKAttempts = 3
	maxSDKBackoff  = 300 * time.Millisecond
)

// MaxAttempts bounds the attempts at unprocessed batch keys or items.
const MaxAttempts = 12

// Backoff returns the wait before retry attempt n (0-based): exponential
// from 20 ms, capped at 2 s, with full jitter.
func Backoff(n int) time.Duration {
	d := 20 * time.Millisecond << min(n, 7)
	d = min(d, 2*time.Second)
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

// Sleep waits for d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ErrUnavailable marks errors where DynamoDB failed or could not be reached
// after the SDK's retries: the caller may try again later. Such errors are
// also of kind derrors.Unavailable.
var ErrUnavailable = errors.New("dynamodb unavailable")

// ErrIncomplete reports batch items DynamoDB left unprocessed after every
// retry; it wraps ErrUnavailable.
var ErrIncomplete = fmt.Errorf("items left unprocessed after retries: %w", ErrUnavailable)

// unavailableMessage is what a caller is told when DynamoDB failed.
const unavailableMessage = "the service is temporarily unavailable; retry later"

// CallError wraps a failed DynamoDB call as a derrors.Unavailable error
// (and ErrUnavailable), unless the caller's context ended first (then the
// context's error shows). A missing table or a request DynamoDB rejects as
// invalid is a fault of this deployment or code, not of the dependency,
// and is returned as it is (derrors.Internal).
func CallError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "ResourceNotFoundException", "ValidationException", "AccessDeniedException":
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	return derrors.Wrap(derrors.Unavailable, unavailableMessage, fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err))
}

// incomplete is the error of keys or items still unprocessed after every
// retry.
func incomplete(op string, n int) error {
	return derrors.Wrap(derrors.Unavailable, unavailableMessage, fmt.Errorf("%s: %d left: %w", op, n, ErrIncomplete))
}

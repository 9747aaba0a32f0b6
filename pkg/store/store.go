// Package store is the only code that knows DynamoDB. It defines the one
// table both APIs read, the keys of its items, and how the service's values
// are written to and read from them.
//
// Item layout (partition key "pk", sort key "sk", both strings; SCIDs are
// always lower-case inside keys):
//
//	pk                          sk                      holds
//	{xuid}#{scid}               stats                   a user's statistics for one SCID
//	{xuid}#{scid}               session#{tmpl}#{name}   a user's membership in a session, with the session denormalized
//	profile#{xuid}              profile                 gamertag
//	scid#{scid}                 config                  a SCID's titles, sandboxes and stat access
//	keyword#{scid}#{keyword}    {tmpl}#{name}           keyword index entry, with the session denormalized
//	session#{scid}              {tmpl}#{name}           the session itself with its member list
package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
)

// EndpointEnv names the environment variable that points the SDK at another
// DynamoDB endpoint, such as DynamoDB Local.
const EndpointEnv = "AWS_ENDPOINT_URL_DYNAMODB"

// Store reads and writes the service's items in one table.
type Store struct {
	client *dynamodb.Client
	table  string
}

// New returns a Store for the named table.
func New(client *dynamodb.Client, table string) *Store {
	return &Store{client: client, table: table}
}

// Table returns the name of the store's table.
func (s *Store) Table() string { return s.table }

// Client returns the DynamoDB client the store uses.
func (s *Store) Client() *dynamodb.Client { return s.client }

// NewClient loads the AWS configuration the usual way (environment, shared
// files, then the runtime's role) and returns a DynamoDB client. A non-empty
// endpoint overrides AWS_ENDPOINT_URL_DYNAMODB. When the endpoint is
// DynamoDB Local (on loopback, or any endpoint under sam local) and no
// credentials or region are configured, fixed local ones are used, since
// DynamoDB Local accepts any.
// optFns adjust the client's options (tests use them to count calls).
func NewClient(ctx context.Context, endpoint string, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	if endpoint == "" {
		endpoint = os.Getenv(EndpointEnv)
	}
	var opts []func(*config.LoadOptions) error
	if isLoopback(endpoint) || endpoint != "" && os.Getenv("AWS_SAM_LOCAL") == "true" {
		if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
			opts = append(opts, config.WithRegion("us-east-1"))
		}
		if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
			opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
		}
		// DynamoDB Local's error responses fail the SDK's CRC32 check and
		// make it log a harmless warning on every one; keep it quiet.
		opts = append(opts, config.WithLogger(logging.Nop{}))
	}
	// A caller is waiting: retry twice, soon (the SDK's default backoff
	// reaches 20 s), and leave the rest to the caller's Retry-After.
	opts = append(opts, config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxSDKAttempts
			o.MaxBackoff = maxSDKBackoff
		})
	}))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return dynamodb.NewFromConfig(cfg, append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}}, optFns...)...), nil
}

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

// maxAttempts bounds the retries of unprocessed batch items.
const maxAttempts = 12

// backoff returns the wait before retry attempt n (0-based): exponential
// from 20 ms, capped at 2 s, with full jitter.
func backoff(n int) time.Duration {
	d := 20 * time.Millisecond << min(n, 7)
	d = min(d, 2*time.Second)
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
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
// after the SDK's retries: the caller may try again later.
var ErrUnavailable = errors.New("dynamodb unavailable")

// ErrIncomplete reports batch items DynamoDB left unprocessed after every
// retry; it wraps ErrUnavailable.
var ErrIncomplete = fmt.Errorf("items left unprocessed after retries: %w", ErrUnavailable)

// unavailable wraps a failed DynamoDB call so that it reads as ErrUnavailable,
// unless the caller's context ended first (then the context's error shows).
// A missing table or a request DynamoDB rejects as invalid is a fault of
// this deployment or code, not of the dependency, and is returned as it is.
func unavailable(ctx context.Context, op string, err error) error {
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
	return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
}

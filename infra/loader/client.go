package loader

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/xblread/xblread/pkg/store"
)

// NewClient returns a DynamoDB client for the tools: against DynamoDB
// Local it is store.NewClient's; otherwise the AWS configuration is loaded
// the usual way (environment, shared files and profiles, SSO, then an
// instance role), which the functions themselves do not need. A non-empty
// endpoint overrides AWS_ENDPOINT_URL_DYNAMODB.
func NewClient(ctx context.Context, endpoint string) (*dynamodb.Client, error) {
	if endpoint == "" {
		endpoint = os.Getenv(store.EndpointEnv)
	}
	if store.IsLocal(endpoint) || os.Getenv("AWS_ACCESS_KEY_ID") != "" {
		return store.NewClient(ctx, endpoint)
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryer(store.Retryer))
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

package store

import (
	"context"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// TestClientKeepsConnections checks that a client keeps
// MaxIdleConnsPerHost connections between calls, more than the SDK's
// default of 10 that a session query's concurrent reads would exceed.
func TestClientKeepsConnections(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	c, err := NewClient(context.Background(), "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	bc, ok := c.Options().HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		t.Fatalf("HTTPClient is %T, want *awshttp.BuildableClient", c.Options().HTTPClient)
	}
	if got := bc.GetTransport().MaxIdleConnsPerHost; got != MaxIdleConnsPerHost {
		t.Fatalf("the transport keeps %d idle connections per host, want %d", got, MaxIdleConnsPerHost)
	}
}

package store

import (
	"context"
	"testing"

	"net/http"
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
	hc, ok := c.Options().HTTPClient.(*http.Client)
	if !ok {
		t.Fatalf("HTTPClient is %T, want an *http.Client (its idle connections can be closed)", c.Options().HTTPClient)
	}
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("the transport is %T, want an *http.Transport", hc.Transport)
	}
	if tr.MaxIdleConnsPerHost != MaxIdleConnsPerHost {
		t.Fatalf("the transport keeps %d idle connections per host, want %d", tr.MaxIdleConnsPerHost, MaxIdleConnsPerHost)
	}
}

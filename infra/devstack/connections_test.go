package devstack

import (
	"testing"

	"github.com/xblread/xblread/pkg/sessions"
	"github.com/xblread/xblread/pkg/store"
)

// TestClientKeepsAQuerysConnections: a client keeps at least as many idle
// connections as one session query has reads in flight, so that no query
// opens connections the one before it closed.
func TestClientKeepsAQuerysConnections(t *testing.T) {
	if store.MaxIdleConnsPerHost < sessions.QueryConcurrency {
		t.Fatalf("store.MaxIdleConnsPerHost = %d, fewer than sessions.QueryConcurrency = %d", store.MaxIdleConnsPerHost, sessions.QueryConcurrency)
	}
}

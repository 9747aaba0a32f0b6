package auth

import (
	"sync"
	"time"

	"github.com/xblread/xblread/pkg/xbl"
)

// cacheSize bounds the verified tokens remembered; past it the cache is
// emptied and fills again.
const cacheSize = 10000

// tokenCache remembers tokens that verified, so that a client sending the
// same token on every call (as XSAPI does) pays for the signature check
// once. An entry is used only until the token's own expiry.
type tokenCache struct {
	mu sync.RWMutex
	m  map[string]cached
}

type cached struct {
	caller xbl.Caller
	exp    time.Time
}

func (c *tokenCache) get(token string, now time.Time) (xbl.Caller, bool) {
	c.mu.RLock()
	e, ok := c.m[token]
	c.mu.RUnlock()
	if !ok || !now.Before(e.exp.Add(Leeway)) {
		return xbl.Caller{}, false
	}
	return e.caller, true
}

func (c *tokenCache) put(token string, caller xbl.Caller, exp time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= cacheSize {
		c.m = make(map[string]cached, 256)
	}
	c.m[token] = cached{caller, exp}
}

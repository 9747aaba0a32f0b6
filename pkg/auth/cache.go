package auth

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/xblread/xblread/pkg/xbl"
)

// cacheSize bounds the verified tokens remembered; past it the least
// recently used one is forgotten.
const cacheSize = 10000

// tokenCache remembers tokens that verified, so that a client sending the
// same token on every call (as XSAPI does) pays for the signature check
// once. An entry is used only until the token's own expiry, and only while
// the key set's generation is the one it was verified under. Entries are
// keyed by the token's SHA-256, so the cache holds no usable token.
type tokenCache struct {
	mu  sync.Mutex
	max int // 0: cacheSize
	m   map[[sha256.Size]byte]*list.Element
	lru list.List // of *cached, most recently used first
}

type cached struct {
	key    [sha256.Size]byte
	caller xbl.Caller
	exp    time.Time
	gen    uint64
}

func (c *tokenCache) get(token string, now time.Time, gen uint64) (xbl.Caller, bool) {
	k := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[k]
	if !ok {
		return xbl.Caller{}, false
	}
	e := el.Value.(*cached)
	if e.gen != gen || !now.Before(e.exp.Add(Leeway)) {
		c.lru.Remove(el)
		delete(c.m, k)
		return xbl.Caller{}, false
	}
	c.lru.MoveToFront(el)
	return e.caller, true
}

func (c *tokenCache) put(token string, caller xbl.Caller, exp time.Time, gen uint64) {
	k := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[[sha256.Size]byte]*list.Element, 256)
	}
	if el, ok := c.m[k]; ok {
		*el.Value.(*cached) = cached{k, caller, exp, gen}
		c.lru.MoveToFront(el)
		return
	}
	limit := c.max
	if limit <= 0 {
		limit = cacheSize
	}
	for c.lru.Len() >= limit {
		oldest := c.lru.Back()
		delete(c.m, oldest.Value.(*cached).key)
		c.lru.Remove(oldest)
	}
	c.m[k] = c.lru.PushFront(&cached{k, caller, exp, gen})
}

func (c *tokenCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Package configcache keeps SCID configurations in the function instance,
// so that access is decided before any data is read and, on a warm
// instance, without reading at all. Configurations change rarely; an entry
// is trusted for the cache's TTL, so a change reaches every instance at
// most one TTL after it is written.
package configcache

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/xblread/xblread/pkg/xbl"
)

// Defaults of the cache.
const (
	DefaultTTL  = 60 * time.Second
	DefaultSize = 1000
	// fetchTimeout bounds one shared read, whoever waits for it.
	fetchTimeout = 5 * time.Second
)

// Cache is an xbl.ConfigReader that remembers what another one read: a
// configuration, and also the absence of one, for TTL; at most Size SCIDs,
// the entry read longest ago leaving first. Concurrent misses for one SCID
// share one read.
type Cache struct {
	src  xbl.ConfigReader
	ttl  time.Duration
	size int
	now  func() time.Time

	mu      sync.Mutex
	entries map[string]entry
	group   singleflight.Group
}

type entry struct {
	cfg *xbl.ServiceConfig
	at  time.Time
}

// New returns a cache over src. A ttl of 0 or less caches nothing; a size
// of 0 or less is DefaultSize.
func New(src xbl.ConfigReader, ttl time.Duration, size int) *Cache {
	if size <= 0 {
		size = DefaultSize
	}
	return &Cache{src: src, ttl: ttl, size: size, now: time.Now, entries: map[string]entry{}}
}

type fetched struct {
	cfg   *xbl.ServiceConfig
	usage xbl.Usage
}

// ReadConfig returns the SCID's configuration from the cache when it is
// fresh, else from the source. The Usage is what this call read: zero on a
// hit or when it shared another caller's read.
func (c *Cache) ReadConfig(ctx context.Context, scid string) (*xbl.ServiceConfig, xbl.Usage, error) {
	if c.ttl <= 0 {
		return c.src.ReadConfig(ctx, scid)
	}
	c.mu.Lock()
	e, ok := c.entries[scid]
	c.mu.Unlock()
	if ok && c.now().Sub(e.at) < c.ttl {
		return e.cfg, xbl.Usage{}, nil
	}
	ch := c.group.DoChan(scid, func() (any, error) {
		// The read is shared: it must not end with the first caller.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		cfg, u, err := c.src.ReadConfig(fctx, scid)
		if err != nil {
			return nil, err
		}
		c.put(scid, cfg)
		return fetched{cfg, u}, nil
	})
	select {
	case <-ctx.Done():
		return nil, xbl.Usage{}, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, xbl.Usage{}, r.Err
		}
		f := r.Val.(fetched)
		if r.Shared {
			f.usage = xbl.Usage{}
		}
		return f.cfg, f.usage, nil
	}
}

func (c *Cache) put(scid string, cfg *xbl.ServiceConfig) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if _, ok := c.entries[scid]; !ok && len(c.entries) >= c.size {
		oldest, at := "", now
		for k, e := range c.entries {
			if now.Sub(e.at) >= c.ttl {
				delete(c.entries, k)
				continue
			}
			if !e.at.After(at) {
				oldest, at = k, e.at
			}
		}
		if len(c.entries) >= c.size {
			delete(c.entries, oldest)
		}
	}
	c.entries[scid] = entry{cfg: cfg, at: now}
}

// Len returns the number of SCIDs cached.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

package configcache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/xbl"
)

// source counts reads; a read waits for release when it is set.
type source struct {
	reads   atomic.Int32
	release chan struct{}
	err     error
}

func (s *source) ReadConfig(ctx context.Context, scid string) (*xbl.ServiceConfig, xbl.Usage, error) {
	s.reads.Add(1)
	if s.release != nil {
		select {
		case <-s.release:
		case <-ctx.Done():
			return nil, xbl.Usage{}, ctx.Err()
		}
	}
	if s.err != nil {
		return nil, xbl.Usage{}, s.err
	}
	if scid == "none" {
		return nil, xbl.Usage{Calls: 1, ConsumedRCU: 0.5}, nil
	}
	return &xbl.ServiceConfig{SCID: scid}, xbl.Usage{Calls: 1, ConsumedRCU: 0.5}, nil
}

func TestHitsMissesAndTTL(t *testing.T) {
	src := &source{}
	c := New(src, time.Minute, 10)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	ctx := context.Background()

	cfg, u, err := c.ReadConfig(ctx, "a")
	if err != nil || cfg.SCID != "a" || u.Calls != 1 {
		t.Fatalf("miss: %v %+v %v", cfg, u, err)
	}
	cfg, u, _ = c.ReadConfig(ctx, "a")
	if cfg.SCID != "a" || u.Calls != 0 || src.reads.Load() != 1 {
		t.Errorf("hit read again: usage %+v, %d reads", u, src.reads.Load())
	}
	// The absence of a configuration is cached too.
	for range 3 {
		if cfg, _, err := c.ReadConfig(ctx, "none"); cfg != nil || err != nil {
			t.Fatalf("none: %v %v", cfg, err)
		}
	}
	if src.reads.Load() != 2 {
		t.Errorf("%d reads, want 2", src.reads.Load())
	}
	now = now.Add(59 * time.Second)
	c.ReadConfig(ctx, "a")
	if src.reads.Load() != 2 {
		t.Error("read again before the TTL")
	}
	now = now.Add(time.Second)
	c.ReadConfig(ctx, "a")
	if src.reads.Load() != 3 {
		t.Error("not read again after the TTL")
	}
}

func TestErrorsAreNotCached(t *testing.T) {
	src := &source{err: errors.New("down")}
	c := New(src, time.Minute, 10)
	for range 2 {
		if _, _, err := c.ReadConfig(context.Background(), "a"); err == nil {
			t.Fatal("no error")
		}
	}
	if src.reads.Load() != 2 || c.Len() != 0 {
		t.Errorf("%d reads, %d cached: a failure must be retried", src.reads.Load(), c.Len())
	}
}

func TestSizeIsBounded(t *testing.T) {
	src := &source{}
	c := New(src, time.Minute, 3)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { now = now.Add(time.Millisecond); return now }
	for i := range 10 {
		c.ReadConfig(context.Background(), fmt.Sprint(i))
	}
	if c.Len() != 3 {
		t.Errorf("%d entries, want at most 3", c.Len())
	}
	// The newest stay.
	before := src.reads.Load()
	c.ReadConfig(context.Background(), "9")
	if src.reads.Load() != before {
		t.Error("the newest entry was evicted")
	}
}

func TestConcurrentMissesShareOneRead(t *testing.T) {
	src := &source{release: make(chan struct{})}
	c := New(src, time.Minute, 10)
	var wg sync.WaitGroup
	var calls atomic.Int32
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg, u, err := c.ReadConfig(context.Background(), "a")
			if err != nil || cfg == nil {
				t.Error(cfg, err)
			}
			calls.Add(int32(u.Calls))
		}()
	}
	// Let every goroutine reach the shared read, then release it.
	for src.reads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(src.release)
	wg.Wait()
	if src.reads.Load() != 1 {
		t.Errorf("%d reads for 20 concurrent misses, want 1", src.reads.Load())
	}
	if calls.Load() > 1 {
		t.Errorf("the read's cost was counted %d times", calls.Load())
	}
}

func TestAWaiterThatGivesUpDoesNotCancelTheRead(t *testing.T) {
	src := &source{release: make(chan struct{})}
	c := New(src, time.Minute, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, _, err := c.ReadConfig(ctx, "a"); done <- err }()
	for src.reads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled waiter: %v", err)
	}
	close(src.release)
	cfg, _, err := c.ReadConfig(context.Background(), "a")
	if err != nil || cfg == nil {
		t.Errorf("after the first waiter left: %v %v", cfg, err)
	}
}

func TestZeroTTLCachesNothing(t *testing.T) {
	src := &source{}
	c := New(src, 0, 10)
	c.ReadConfig(context.Background(), "a")
	c.ReadConfig(context.Background(), "a")
	if src.reads.Load() != 2 {
		t.Errorf("%d reads, want 2", src.reads.Load())
	}
}

package auth

import (
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/xbl"
)

// TestCacheEvictsLeastRecentlyUsed: past its bound the cache forgets the
// least recently used token only, not every token.
func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	for _, tt := range []struct {
		name            string
		ops             []string // "put x" or "get x"
		present, absent string
	}{
		{"oldest put goes", []string{"put a", "put b", "put c", "put d"}, "bcd", "a"},
		{"a read keeps a", []string{"put a", "put b", "put c", "get a", "put d"}, "acd", "b"},
		{"a second put keeps a", []string{"put a", "put b", "put c", "put a", "put d"}, "acd", "b"},
		{"under the bound all stay", []string{"put a", "put b", "get a", "put c"}, "abc", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tokenCache{max: 3}
			for _, op := range tt.ops {
				verb, tok, _ := strings.Cut(op, " ")
				if verb == "put" {
					c.put(tok, xbl.Caller{UserHash: tok}, exp, 0)
				} else if _, ok := c.get(tok, time.Now(), 0); !ok {
					t.Fatalf("%s: miss", op)
				}
			}
			for _, tok := range tt.present {
				if got, ok := c.get(string(tok), time.Now(), 0); !ok || got.UserHash != string(tok) {
					t.Errorf("%c was forgotten", tok)
				}
			}
			for _, tok := range tt.absent {
				if _, ok := c.get(string(tok), time.Now(), 0); ok {
					t.Errorf("%c is still cached", tok)
				}
			}
			if c.len() > 3 {
				t.Errorf("%d entries, bound 3", c.len())
			}
		})
	}
}

// TestCacheKeyedByHash: the cache holds the tokens' SHA-256, not the
// tokens, which a memory dump would give away.
func TestCacheKeyedByHash(t *testing.T) {
	f := newFixture(t)
	h, _ := f.signer.Mint(alice, time.Hour, time.Now())
	_, token, _ := ParseHeader(h)
	if _, err := f.verifier.Verify(h); err != nil {
		t.Fatal(err)
	}
	c := &f.verifier.cache
	if len(c.m) != 1 {
		t.Fatalf("%d entries, want 1", len(c.m))
	}
	for k, el := range c.m {
		if want := sha256.Sum256([]byte(token)); k != want || el.Value.(*cached).key != want {
			t.Errorf("entry key %x, want the token's SHA-256 %x", k, want)
		}
	}
}

// TestCacheGeneration: an entry verified under an older generation of the
// key set (before the JWKS URL's keys were replaced) is not served.
func TestCacheGeneration(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	for _, tt := range []struct {
		name     string
		put, get uint64
		ok       bool
	}{
		{"same generation", 2, 2, true},
		{"keys replaced since", 2, 3, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c tokenCache
			c.put("tok", alice, exp, tt.put)
			if _, ok := c.get("tok", time.Now(), tt.get); ok != tt.ok {
				t.Errorf("get ok = %v, want %v", ok, tt.ok)
			}
		})
	}
}

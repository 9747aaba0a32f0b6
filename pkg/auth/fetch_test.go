package auth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// recorder is a transport that records requests and makes none.
type recorder struct{ n atomic.Int32 }

func (r *recorder) RoundTrip(*http.Request) (*http.Response, error) {
	r.n.Add(1)
	return nil, errors.New("recorder: no network")
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost": true, "127.0.0.1": true, "127.8.9.10": true, "::1": true, "::ffff:127.0.0.1": true,
		"example.com": false, "localhost.example.com": false, "10.0.0.1": false, "128.0.0.1": false, "::2": false,
		"0.0.0.0": false, "169.254.169.254": false, "": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestFetchJWKSRefusesURL: only https, or http to a loopback host; a
// refused URL is not requested at all.
func TestFetchJWKSRefusesURL(t *testing.T) {
	for _, tt := range []struct {
		url  string
		want string // in the error
	}{
		{"http://example.com/jwks", "https"},
		{"http://10.0.0.1/jwks", "https"},
		{"http://169.254.169.254/latest/meta-data", "https"},
		{"http://localhost.example.com/jwks", "https"},
		{"ftp://example.com/jwks", "scheme"},
		{"file:///etc/passwd", "no host"},
		{"https:///jwks", "no host"},
		{"example.com/jwks", "no host"},
	} {
		t.Run(tt.url, func(t *testing.T) {
			rec := &recorder{}
			_, err := fetchJWKS(context.Background(), &http.Client{Transport: rec}, tt.url)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one saying %q", err, tt.want)
			}
			if rec.n.Load() != 0 {
				t.Error("the URL was requested")
			}
		})
	}
	// The exported FetchJWKS applies the same rule.
	if _, err := FetchJWKS(context.Background(), "http://example.com/jwks"); err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("FetchJWKS(http://example.com) = %v", err)
	}
}

// TestFetchJWKS: what a fetch accepts and refuses once the URL is allowed:
// the status, the size limit (an error, never a truncated document), and
// redirects (same host only, a few).
func TestFetchJWKS(t *testing.T) {
	doc := []byte(`{"keys":[]}`)
	exact := append(bytes.Repeat([]byte(" "), MaxJWKSBytes-len(doc)), doc...)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(doc) }))
	defer other.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { w.Write(doc) })
	mux.HandleFunc("/exact", func(w http.ResponseWriter, r *http.Request) { w.Write(exact) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(append(exact, ' ')) })
	mux.HandleFunc("/big-chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(" "))
		w.(http.Flusher).Flush() // no Content-Length
		w.Write(exact)
	})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/moved-twice", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/moved", http.StatusFound) })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, other.URL+"/ok", http.StatusFound) })
	mux.HandleFunc("/away-by-name", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(r.Host, "127.0.0.1", "http://localhost", 1)+"/ok", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tls := httptest.NewTLSServer(mux)
	defer tls.Close()

	for _, tt := range []struct {
		name, url string
		client    *http.Client
		size      int
		want      string // in the error; "" for success
	}{
		{"http to 127.0.0.1", srv.URL + "/ok", nil, len(doc), ""},
		{"http to localhost", strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/ok", nil, len(doc), ""},
		{"https", tls.URL + "/ok", tls.Client(), len(doc), ""},
		{"exactly the limit", srv.URL + "/exact", nil, MaxJWKSBytes, ""},
		{"over the limit", srv.URL + "/big", nil, 0, "larger than"},
		{"over the limit, no length", srv.URL + "/big-chunked", nil, 0, "larger than"},
		{"status", srv.URL + "/missing", nil, 0, "status 404"},
		{"same-host redirect", srv.URL + "/moved", nil, len(doc), ""},
		{"two same-host redirects", tls.URL + "/moved-twice", tls.Client(), len(doc), ""},
		{"redirect loop", srv.URL + "/loop", nil, 0, "redirects"},
		{"redirect to another port", srv.URL + "/away", nil, 0, "another host"},
		{"redirect to another name", srv.URL + "/away-by-name", nil, 0, "another host"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body, err := fetchJWKS(context.Background(), tt.client, tt.url)
			if tt.want == "" {
				if err != nil || len(body) != tt.size {
					t.Errorf("%d bytes, %v; want %d bytes", len(body), err, tt.size)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%d bytes, %v; want an error saying %q", len(body), err, tt.want)
			}
		})
	}
}

// deadlineRecorder records how long a request had before its deadline.
type deadlineRecorder struct {
	mu   sync.Mutex
	left []time.Duration
	doc  []byte
}

func (d *deadlineRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	dl, ok := r.Context().Deadline()
	d.mu.Lock()
	if ok {
		d.left = append(d.left, time.Until(dl))
	} else {
		d.left = append(d.left, -1)
	}
	d.mu.Unlock()
	rec := httptest.NewRecorder()
	rec.Write(d.doc)
	return rec.Result(), nil
}

// TestFetchTimeouts: the fetch at start-up has 5 s, a refetch (a request
// waits on it) 2 s.
func TestFetchTimeouts(t *testing.T) {
	a, b := ecKey(t, elliptic.P256()), ecKey(t, elliptic.P256())
	rec := &deadlineRecorder{doc: jwksOf(jwkOf(&a.PublicKey, "a", ""))}
	clk := &clock{t: time.Unix(1e9, 0)}
	ks := NewKeySet()
	ks.client, ks.now = &http.Client{Transport: rec}, clk.Now
	if err := ks.AddJWKSURL(context.Background(), "https://idp.example/jwks"); err != nil {
		t.Fatal(err)
	}
	v, _ := NewVerifier(ks, issuer, audience)
	clk.Advance(DefaultRefetchInterval)
	v.Verify("XBL3.0 x=uhs1;" + sign(t, jwt.SigningMethodES256, b, claims(nil), map[string]any{"kid": "b"}))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.left) != 2 {
		t.Fatalf("%d fetches, want 2", len(rec.left))
	}
	for i, want := range []time.Duration{DefaultFetchTimeout, DefaultRefetchTimeout} {
		if got := rec.left[i]; got > want || got < want-time.Second {
			t.Errorf("fetch %d had %s, want %s", i, got, want)
		}
	}
	if DefaultFetchTimeout != 5*time.Second || DefaultRefetchTimeout != 2*time.Second || DefaultRefetchInterval < time.Minute {
		t.Errorf("defaults %s, %s, %s", DefaultFetchTimeout, DefaultRefetchTimeout, DefaultRefetchInterval)
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// idp is a JWKS URL whose document the test changes, counting fetches.
type idp struct {
	mu      sync.Mutex
	doc     []byte
	status  int
	fetches atomic.Int32
	hold    chan struct{} // when not nil, fetches after the first wait on it
	srv     *httptest.Server
}

func newIDP(t *testing.T, doc []byte) *idp {
	p := &idp{doc: doc}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := p.fetches.Add(1)
		p.mu.Lock()
		doc, status, hold := p.doc, p.status, p.hold
		p.mu.Unlock()
		if hold != nil && n > 1 {
			<-hold
		}
		if status != 0 {
			w.WriteHeader(status)
		}
		w.Write(doc)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) set(doc []byte, status int) {
	p.mu.Lock()
	p.doc, p.status = doc, status
	p.mu.Unlock()
}

// rotating is a verifier on an idp's URL, on a test clock, logging to logs.
type rotating struct {
	idp  *idp
	ks   *KeySet
	v    *Verifier
	clk  *clock
	logs *bytes.Buffer
}

func newRotating(t *testing.T, keys ...map[string]any) *rotating {
	t.Helper()
	r := &rotating{idp: newIDP(t, jwksOf(keys...)), clk: &clock{t: time.Unix(1e9, 0)}, logs: &bytes.Buffer{}}
	r.ks = NewKeySet()
	r.ks.now = r.clk.Now
	r.ks.Log = slog.New(slog.NewJSONHandler(&lockedWriter{w: r.logs}, nil))
	if err := r.ks.AddJWKSURL(context.Background(), r.idp.srv.URL); err != nil {
		t.Fatal(err)
	}
	var err error
	if r.v, err = NewVerifier(r.ks, issuer, audience); err != nil {
		t.Fatal(err)
	}
	return r
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func tokenFor(t *testing.T, key *ecdsa.PrivateKey, kid string) string {
	return "XBL3.0 x=uhs1;" + sign(t, jwt.SigningMethodES256, key, claims(nil), map[string]any{"kid": kid})
}

// TestRefetchOnUnknownKid: a token naming a kid the set does not know
// makes it fetch the URL once more, and a key the document now holds is
// used at once; keys the document dropped are dropped.
func TestRefetchOnUnknownKid(t *testing.T) {
	a, b := ecKey(t, elliptic.P256()), ecKey(t, elliptic.P256())
	for _, tt := range []struct {
		name       string
		newDoc     []byte
		status     int
		bOK, aOK   bool
		logSays    string
		wantLenAft int
	}{
		{"key added", jwksOf(jwkOf(&a.PublicKey, "a", ""), jwkOf(&b.PublicKey, "b", "")), 0, true, true, "refetched", 2},
		{"key rotated out", jwksOf(jwkOf(&b.PublicKey, "b", "")), 0, true, false, "refetched", 1},
		{"fetch fails: old keys kept", nil, http.StatusInternalServerError, false, true, "refetch failed", 1},
		{"document unusable: old keys kept", []byte(`{"keys":[]}`), 0, false, true, "unusable", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRotating(t, jwkOf(&a.PublicKey, "a", ""))
			ha, hb := tokenFor(t, a, "a"), tokenFor(t, b, "b")
			if _, err := r.v.Verify(ha); err != nil { // and cached
				t.Fatal(err)
			}
			r.idp.set(tt.newDoc, tt.status)
			r.clk.Advance(DefaultRefetchInterval)
			_, err := r.v.Verify(hb)
			if (err == nil) != tt.bOK {
				t.Errorf("token of the new key: %v, want ok=%v", err, tt.bOK)
			}
			if n := r.idp.fetches.Load(); n != 2 {
				t.Errorf("%d fetches, want 2 (start-up and one refetch)", n)
			}
			if _, err := r.v.Verify(ha); (err == nil) != tt.aOK {
				t.Errorf("cached token of the old key: %v, want ok=%v", err, tt.aOK)
			}
			if r.ks.Len() != tt.wantLenAft {
				t.Errorf("Len = %d, want %d", r.ks.Len(), tt.wantLenAft)
			}
			if !strings.Contains(r.logs.String(), tt.logSays) || !strings.Contains(r.logs.String(), `"kid":"b"`) {
				t.Errorf("log does not say %q for kid b: %s", tt.logSays, r.logs)
			}
		})
	}
}

// TestRefetchIsRateLimited: after a fetch, no other for RefetchInterval,
// however many tokens name unknown kids; then one again.
func TestRefetchIsRateLimited(t *testing.T) {
	a, other := ecKey(t, elliptic.P256()), ecKey(t, elliptic.P256())
	for _, tt := range []struct {
		name     string
		interval time.Duration // KeySet.RefetchInterval; 0 for the default
	}{
		{"default interval", 0},
		{"shortened interval", time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRotating(t, jwkOf(&a.PublicKey, "a", ""))
			r.ks.RefetchInterval = tt.interval
			interval := orDefault(tt.interval, DefaultRefetchInterval)
			random := func() {
				if _, err := r.v.Verify(tokenFor(t, other, fmt.Sprintf("random-%d", time.Now().UnixNano()))); checkOf(err) != "kid" {
					t.Fatalf("random kid: %v, want a kid failure", err)
				}
			}
			for range 50 { // right after start-up
				random()
			}
			if n := r.idp.fetches.Load(); n != 1 {
				t.Fatalf("%d fetches within the interval of start-up, want 1", n)
			}
			r.clk.Advance(interval)
			for range 50 {
				random()
			}
			if n := r.idp.fetches.Load(); n != 2 {
				t.Fatalf("%d fetches after one interval and 50 unknown kids, want 2", n)
			}
			r.clk.Advance(interval - time.Millisecond)
			random()
			if n := r.idp.fetches.Load(); n != 2 {
				t.Fatalf("%d fetches before the interval passed again, want 2", n)
			}
			r.clk.Advance(time.Millisecond)
			random()
			if n := r.idp.fetches.Load(); n != 3 {
				t.Fatalf("%d fetches after the interval passed again, want 3", n)
			}
		})
	}
}

// TestRefetchIsShared: tokens naming the same or different unknown kids,
// arriving while a refetch is under way, wait for it and make no fetch of
// their own; all are verified with its keys.
func TestRefetchIsShared(t *testing.T) {
	a, b, c := ecKey(t, elliptic.P256()), ecKey(t, elliptic.P256()), ecKey(t, elliptic.P256())
	for _, tt := range []struct {
		name string
		kids []string
	}{
		{"one new kid", []string{"b", "b", "b", "b", "b", "b", "b", "b"}},
		{"two new kids", []string{"b", "c", "b", "c", "b", "c", "b", "c"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRotating(t, jwkOf(&a.PublicKey, "a", ""))
			hold := make(chan struct{})
			r.idp.mu.Lock()
			r.idp.hold = hold
			r.idp.doc = jwksOf(jwkOf(&a.PublicKey, "a", ""), jwkOf(&b.PublicKey, "b", ""), jwkOf(&c.PublicKey, "c", ""))
			r.idp.mu.Unlock()
			r.clk.Advance(DefaultRefetchInterval)
			keys := map[string]*ecdsa.PrivateKey{"b": b, "c": c}
			errs := make(chan error, len(tt.kids))
			for _, kid := range tt.kids {
				h := tokenFor(t, keys[kid], kid)
				go func() { _, err := r.v.Verify(h); errs <- err }()
			}
			deadline := time.Now().Add(20 * time.Second)
			for r.ks.waiting.Load() < int32(len(tt.kids)) {
				if time.Now().After(deadline) {
					close(hold)
					t.Fatalf("only %d of %d verifications reached the refetch", r.ks.waiting.Load(), len(tt.kids))
				}
				time.Sleep(time.Millisecond)
			}
			close(hold)
			for range tt.kids {
				if err := <-errs; err != nil {
					t.Errorf("Verify: %v", err)
				}
			}
			if n := r.idp.fetches.Load(); n != 2 {
				t.Errorf("%d fetches, want 2 (start-up and one shared refetch)", n)
			}
		})
	}
}

// TestRefetchSkipsForbiddenKey: a refetched document holding a forbidden
// key (the development key, in a deployed function) loses that key only.
func TestRefetchSkipsForbiddenKey(t *testing.T) {
	a, dev, b := ecKey(t, elliptic.P256()), ecKey(t, elliptic.P256()), ecKey(t, elliptic.P256())
	tp, _ := Thumbprint(&dev.PublicKey)
	r := newRotating(t, jwkOf(&a.PublicKey, "a", ""))
	r.ks.Forbid(tp)
	r.idp.set(jwksOf(jwkOf(&dev.PublicKey, "dev", ""), jwkOf(&b.PublicKey, "b", "")), 0)
	r.clk.Advance(DefaultRefetchInterval)
	for _, tt := range []struct {
		kid string
		key *ecdsa.PrivateKey
		ok  bool
	}{
		{"dev", dev, false},
		{"b", b, true},
	} {
		if _, err := r.v.Verify(tokenFor(t, tt.key, tt.kid)); (err == nil) != tt.ok {
			t.Errorf("kid %s: %v, want ok=%v", tt.kid, err, tt.ok)
		}
	}
	if !strings.Contains(r.logs.String(), `"kid":"dev"`) || !strings.Contains(r.logs.String(), "must not be trusted") {
		t.Errorf("log does not name the forbidden key: %s", r.logs)
	}
}

// TestNoRefetchWithoutURL: keys from PEM or an inline JWKS are never
// refetched (there is nothing to fetch); an unknown kid simply fails.
func TestNoRefetchWithoutURL(t *testing.T) {
	a := ecKey(t, elliptic.P256())
	ks := NewKeySet()
	if err := ks.AddJWKS(jwksOf(jwkOf(&a.PublicKey, "a", ""))); err != nil {
		t.Fatal(err)
	}
	v, _ := NewVerifier(ks, issuer, audience)
	if _, err := v.Verify(tokenFor(t, a, "zzz")); checkOf(err) != "kid" {
		t.Errorf("unknown kid: %v", err)
	}
}

package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"
)

// DevKeyThumbprint is the RFC 7638 thumbprint of the development key's
// public half (infra/devkey, whose private half is in the repository). A
// deployed function refuses to trust it; infra/devkey's tests check that it
// matches the key.
const DevKeyThumbprint = "AQV5MXjmQ78mcIBtdVA5aBOsAMZLmfEfXOJJLFfkPoE"

// ErrForbiddenKey is the error of adding a key that Forbid named.
var ErrForbiddenKey = errors.New("key must not be trusted here")

// Defaults of the KeySet fields that govern fetching a JWKS document.
const (
	// DefaultRefetchInterval is the least time between two fetches of the
	// JWKS URL.
	DefaultRefetchInterval = 60 * time.Second
	// DefaultFetchTimeout bounds the fetch at start-up.
	DefaultFetchTimeout = 5 * time.Second
	// DefaultRefetchTimeout bounds a refetch, made while a request waits.
	DefaultRefetchTimeout = 2 * time.Second
)

// KeySet is a set of trusted public keys, each under a key id. A token
// names its key with the "kid" header; a token without one may be checked
// only against keys loaded from PEM.
//
// Keys come from PEM and JWKS documents given at start-up, and from a JWKS
// URL (AddJWKSURL): a token naming a kid the set does not know makes the
// set fetch the URL again (one fetch for all the tokens waiting on it, and
// none again within RefetchInterval), and the keys of that document replace
// those of the URL's previous one.
//
// The exported fields and Forbid are set before the set is used.
type KeySet struct {
	// Log receives a line for every key skipped and every refetch; nil
	// discards them.
	Log *slog.Logger
	// RefetchInterval is the least time between two fetches of the JWKS URL
	// (the one at start-up included); 0 means DefaultRefetchInterval.
	RefetchInterval time.Duration
	// FetchTimeout bounds AddJWKSURL's fetch, RefetchTimeout a refetch; 0
	// means the default.
	FetchTimeout, RefetchTimeout time.Duration

	mu     sync.RWMutex
	static map[string]entry // from PEM and JWKS documents
	remote map[string]entry // from the JWKS URL, replaced on each refetch
	// pemKIDs are the ids of keys loaded from PEM, tried for tokens without a kid.
	pemKIDs   []string
	forbidden []string // thumbprints never trusted

	// gen counts the replacements of the remote keys; a cached token
	// verified under an older generation is verified again.
	gen atomic.Uint64

	url       string
	client    *http.Client // nil: one with http.DefaultTransport
	group     singleflight.Group
	fetchMu   sync.Mutex
	lastFetch time.Time
	now       func() time.Time // nil: time.Now; tests set a clock
	// waiting counts the key look-ups waiting on a refetch (for tests).
	waiting atomic.Int32
}

type entry struct {
	key  crypto.PublicKey
	algs []string // the algorithms the key may be used with
}

// NewKeySet returns an empty KeySet.
func NewKeySet() *KeySet {
	return &KeySet{static: map[string]entry{}, remote: map[string]entry{}}
}

// Len returns the number of keys in the set.
func (s *KeySet) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := len(s.static)
	for kid := range s.remote {
		if _, ok := s.static[kid]; !ok {
			n++
		}
	}
	return n
}

// Forbid makes the set refuse the keys with the given RFC 7638
// thumbprints: adding one from PEM or JWKS is an error wrapping
// ErrForbiddenKey, and a refetched JWKS document's copy is skipped.
func (s *KeySet) Forbid(thumbprints ...string) {
	s.forbidden = append(s.forbidden, thumbprints...)
}

func (s *KeySet) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *KeySet) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// checkForbidden returns an error wrapping ErrForbiddenKey if pub is a key
// Forbid named.
func (s *KeySet) checkForbidden(pub crypto.PublicKey) error {
	if len(s.forbidden) == 0 {
		return nil
	}
	tp, err := Thumbprint(pub)
	if err != nil {
		return err
	}
	if slices.Contains(s.forbidden, tp) {
		return fmt.Errorf("key with thumbprint %s: %w", tp, ErrForbiddenKey)
	}
	return nil
}

// AddPEM adds every public key (PKIX "PUBLIC KEY" blocks, or certificates)
// in data. Each key's id is its RFC 7638 thumbprint. Every key must be RSA
// of at least 2048 bits (verifying RS256 and PS256) or EC on P-256 (ES256)
// or P-384 (ES384); any other is an error.
func (s *KeySet) AddPEM(data []byte) error {
	n := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		var pub crypto.PublicKey
		switch b.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(b.Bytes)
			if err != nil {
				return fmt.Errorf("parse PEM public key: %w", err)
			}
			pub = k
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return fmt.Errorf("parse PEM certificate: %w", err)
			}
			pub = c.PublicKey
		default:
			continue
		}
		algs, err := keyAlgs(pub)
		if err != nil {
			return fmt.Errorf("PEM key %d: %w", n+1, err)
		}
		kid, err := Thumbprint(pub)
		if err != nil {
			return err
		}
		if err := s.checkForbidden(pub); err != nil {
			return fmt.Errorf("PEM key %d: %w", n+1, err)
		}
		s.mu.Lock()
		s.static[kid] = entry{key: pub, algs: algs}
		s.pemKIDs = append(s.pemKIDs, kid)
		s.mu.Unlock()
		n++
	}
	if n == 0 {
		return errors.New("no PEM public key found")
	}
	return nil
}

// keyAlgs checks a public key's strength and returns the algorithms it may
// verify: an RSA key of at least 2048 bits RS256 and PS256, a P-256 key
// ES256, a P-384 key ES384.
func keyAlgs(pub crypto.PublicKey) ([]string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N == nil || k.N.BitLen() < 2048 {
			return nil, errors.New("RSA key is weaker than 2048 bits")
		}
		if k.E < 3 || k.E%2 == 0 || k.E > 1<<31-1 {
			return nil, fmt.Errorf("RSA key has a bad exponent %d", k.E)
		}
		return []string{"RS256", "PS256"}, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return []string{"ES256"}, nil
		case elliptic.P384():
			return []string{"ES384"}, nil
		}
		return nil, fmt.Errorf("unsupported EC curve %s", k.Curve.Params().Name)
	}
	return nil, fmt.Errorf("unsupported public key type %T", pub)
}

// jwk is one JSON Web Key (RFC 7517) of the kinds the service accepts.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// AddJWKS adds the signing keys of a JWKS document (EC P-256/P-384 and RSA
// of at least 2048 bits). Keys marked for another use than "sig" are
// passed over; an unusable key (another type, a bad or weak key, an alg
// that does not fit it) is skipped with a log line naming its kid and why.
// A document with no usable key is an error, and so is a key Forbid named.
func (s *KeySet) AddJWKS(data []byte) error {
	keys, err := s.parseJWKS(data, true)
	if err != nil {
		return err
	}
	s.mu.Lock()
	maps.Copy(s.static, keys)
	s.mu.Unlock()
	return nil
}

// parseJWKS returns the usable keys of a JWKS document by kid. A forbidden
// key is an error if forbiddenFatal, else it is skipped with a log line.
func (s *KeySet) parseJWKS(data []byte, forbiddenFatal bool) (map[string]entry, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	keys := map[string]entry{}
	for i, raw := range doc.Keys {
		var k jwk
		if err := json.Unmarshal(raw, &k); err != nil {
			s.log().Warn("JWKS key skipped", "index", i, "reason", err.Error())
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		skip := func(err error) {
			s.log().Warn("JWKS key skipped", "kid", logKID(k.Kid), "index", i, "reason", err.Error())
		}
		pub, err := k.publicKey()
		if err != nil {
			skip(err)
			continue
		}
		algs, err := keyAlgs(pub)
		if err != nil {
			skip(err)
			continue
		}
		if k.Alg != "" {
			if !slices.Contains(algs, k.Alg) {
				skip(fmt.Errorf("alg %q does not fit the key or is not accepted (%v)", k.Alg, algs))
				continue
			}
			algs = []string{k.Alg}
		}
		if err := s.checkForbidden(pub); err != nil {
			if forbiddenFatal || !errors.Is(err, ErrForbiddenKey) {
				return nil, fmt.Errorf("JWKS key %q: %w", logKID(k.Kid), err)
			}
			s.log().Error("JWKS key skipped", "kid", logKID(k.Kid), "index", i, "reason", err.Error())
			continue
		}
		kid := k.Kid
		if kid == "" {
			if kid, err = Thumbprint(pub); err != nil {
				skip(err)
				continue
			}
		}
		keys[kid] = entry{key: pub, algs: algs}
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS has no usable signing key")
	}
	return keys, nil
}

// logKID bounds a kid (which may come from a token) for a log line.
func logKID(kid string) string {
	if len(kid) > 100 {
		return kid[:100] + "…"
	}
	return kid
}

func (k jwk) publicKey() (crypto.PublicKey, error) {
	switch k.Kty {
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		default:
			return nil, fmt.Errorf("unsupported EC curve %q", k.Crv)
		}
		size := (curve.Params().BitSize + 7) / 8
		x, err1 := base64.RawURLEncoding.DecodeString(k.X)
		y, err2 := base64.RawURLEncoding.DecodeString(k.Y)
		if errors.Join(err1, err2) != nil || len(x) != size || len(y) != size {
			return nil, errors.New("EC key coordinates are not base64url of the curve's size")
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, fmt.Errorf("EC key: %w", err)
		}
		return pub, nil
	case "RSA":
		nn, err1 := b64int(k.N)
		e, err2 := b64int(k.E)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("RSA key: %w", err)
		}
		if nn.BitLen() < 2048 || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
			return nil, errors.New("RSA key is weaker than 2048 bits or has a bad exponent")
		}
		return &rsa.PublicKey{N: nn, E: int(e.Int64())}, nil
	}
	return nil, fmt.Errorf("unsupported key type %q", k.Kty)
}

func b64int(s string) (*big.Int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, errors.New("bad base64url integer")
	}
	return new(big.Int).SetBytes(b), nil
}

// Thumbprint returns the RFC 7638 JWK thumbprint (SHA-256, base64url) of
// an EC or RSA public key.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	var doc string
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		raw, err := k.Bytes() // 0x04 || X || Y
		if err != nil {
			return "", fmt.Errorf("thumbprint: %w", err)
		}
		size := (len(raw) - 1) / 2
		doc = fmt.Sprintf(`{"crv":%q,"kty":"EC","x":%q,"y":%q}`, k.Curve.Params().Name,
			b64(raw[1:1+size]), b64(raw[1+size:]))
	case *rsa.PublicKey:
		doc = fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, b64(big.NewInt(int64(k.E)).Bytes()), b64(k.N.Bytes()))
	default:
		return "", fmt.Errorf("unsupported public key type %T", pub)
	}
	sum := sha256.Sum256([]byte(doc))
	return b64(sum[:]), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// lookup returns the key under kid: a PEM or JWKS document's before the
// JWKS URL's.
func (s *KeySet) lookup(kid string) (entry, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if e, ok := s.static[kid]; ok {
		return e, true
	}
	e, ok := s.remote[kid]
	return e, ok
}

// keyFunc picks the key that verifies t: the one its kid names, or, for a
// token without a kid, the single PEM key. An unknown kid makes the set
// fetch its JWKS URL again, if it has one and may (see KeySet).
func (s *KeySet) keyFunc(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		s.mu.RLock()
		n := len(s.pemKIDs)
		if n == 1 {
			kid = s.pemKIDs[0]
		}
		s.mu.RUnlock()
		if n != 1 {
			return nil, fail("kid", "token has no kid", nil)
		}
	}
	e, ok := s.lookup(kid)
	if !ok && s.url != "" {
		s.refetch(kid)
		e, ok = s.lookup(kid)
	}
	if !ok {
		return nil, fail("kid", "token is signed with an unknown key", fmt.Errorf("kid %q", logKID(kid)))
	}
	if !slices.Contains(e.algs, alg) {
		return nil, fail("algorithm", "token algorithm does not match its key", fmt.Errorf("alg %s, key for %v", alg, e.algs))
	}
	return e.key, nil
}

// generation returns the number of times the JWKS URL's keys were
// replaced.
func (s *KeySet) generation() uint64 { return s.gen.Load() }

// AddJWKSURL fetches the JWKS document at url (see FetchJWKS), within
// FetchTimeout, and adds its keys as AddJWKS does. A token naming a kid the
// set does not know later makes the set fetch url again (see KeySet).
func (s *KeySet) AddJWKSURL(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, orDefault(s.FetchTimeout, DefaultFetchTimeout))
	defer cancel()
	s.fetchMu.Lock()
	s.lastFetch = s.clock()
	s.fetchMu.Unlock()
	doc, err := fetchJWKS(ctx, s.client, url)
	if err != nil {
		return err
	}
	keys, err := s.parseJWKS(doc, true)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.remote = keys
	s.mu.Unlock()
	s.url = url
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// refetch fetches the JWKS URL again and replaces its keys, unless it was
// fetched less than RefetchInterval ago. A call made while a fetch is in
// flight waits for that fetch and makes none of its own.
func (s *KeySet) refetch(kid string) {
	s.waiting.Add(1)
	defer s.waiting.Add(-1)
	s.group.Do("jwks", func() (any, error) {
		s.fetchMu.Lock()
		now := s.clock()
		if !s.lastFetch.IsZero() && now.Sub(s.lastFetch) < orDefault(s.RefetchInterval, DefaultRefetchInterval) {
			s.fetchMu.Unlock()
			return nil, nil
		}
		s.lastFetch = now
		s.fetchMu.Unlock()

		log := s.log().With("url", s.url, "kid", logKID(kid))
		ctx, cancel := context.WithTimeout(context.Background(), orDefault(s.RefetchTimeout, DefaultRefetchTimeout))
		defer cancel()
		doc, err := fetchJWKS(ctx, s.client, s.url)
		if err != nil {
			log.Warn("JWKS refetch failed; keeping the keys", "err", err.Error())
			return nil, nil
		}
		keys, err := s.parseJWKS(doc, false)
		if err != nil {
			log.Warn("JWKS refetch unusable; keeping the keys", "err", err.Error())
			return nil, nil
		}
		s.mu.Lock()
		s.remote = keys
		s.mu.Unlock()
		s.gen.Add(1)
		log.Info("JWKS refetched for an unknown kid", "keys", len(keys))
		return nil, nil
	})
}

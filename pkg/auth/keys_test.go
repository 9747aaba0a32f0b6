package auth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Keys generated once for the whole package's tests (RSA is slow).
var (
	keysOnce                   sync.Once
	rsa2048, rsa2048b, rsa1024 *rsa.PrivateKey
)

func rsaKeys(t testing.TB) (strong, strong2, weak *rsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		rsa2048, _ = rsa.GenerateKey(rand.Reader, 2048)
		rsa2048b, _ = rsa.GenerateKey(rand.Reader, 2048)
		rsa1024, _ = rsa.GenerateKey(rand.Reader, 1024)
	})
	if rsa2048 == nil || rsa2048b == nil || rsa1024 == nil {
		t.Fatal("RSA key generation failed")
	}
	return rsa2048, rsa2048b, rsa1024
}

func ecKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pemOf(t testing.TB, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// jwkOf is pub as a JWK under kid, with alg when not empty.
func jwkOf(pub crypto.PublicKey, kid, alg string) map[string]any {
	m := map[string]any{"kid": kid}
	if alg != "" {
		m["alg"] = alg
	}
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		raw, _ := k.Bytes() // 0x04 || X || Y
		size := (len(raw) - 1) / 2
		m["kty"], m["crv"] = "EC", k.Curve.Params().Name
		m["x"], m["y"] = b64(raw[1:1+size]), b64(raw[1+size:])
	case *rsa.PublicKey:
		m["kty"], m["n"], m["e"] = "RSA", b64(k.N.Bytes()), b64(big.NewInt(int64(k.E)).Bytes())
	}
	return m
}

func jwksOf(keys ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

// forge returns a token whose header names alg (and kid, if not empty),
// with valid claims and a signature of sigLen random bytes: what a caller
// can send for any algorithm without the key.
func forge(alg, kid string, sigLen int) string {
	h := map[string]any{"alg": alg, "typ": "JWT"}
	if kid != "" {
		h["kid"] = kid
	}
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(claims(nil))
	sig := make([]byte, sigLen)
	rand.Read(sig)
	sig[sigLen/2] = 0 // an ECDSA S below N/2: the low-S check passes
	return b64(hb) + "." + b64(cb) + "." + b64(sig)
}

func checkOf(err error) string {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Check
	}
	return ""
}

// TestPEMKeyStrength: a PEM key weaker than RSA 2048 or on a curve other
// than P-256 and P-384 is refused at start-up.
func TestPEMKeyStrength(t *testing.T) {
	strong, _, weak := rsaKeys(t)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	for _, tt := range []struct {
		name string
		pub  crypto.PublicKey
		ok   bool
	}{
		{"RSA 2048", &strong.PublicKey, true},
		{"RSA 1024", &weak.PublicKey, false},
		{"P-256", &ecKey(t, elliptic.P256()).PublicKey, true},
		{"P-384", &ecKey(t, elliptic.P384()).PublicKey, true},
		{"P-224", &ecKey(t, elliptic.P224()).PublicKey, false},
		{"P-521", &ecKey(t, elliptic.P521()).PublicKey, false},
		{"Ed25519", edPub, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ks := NewKeySet()
			err := ks.AddPEM(pemOf(t, tt.pub))
			if (err == nil) != tt.ok {
				t.Fatalf("AddPEM = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok && ks.Len() != 0 {
				t.Errorf("refused key was added: Len = %d", ks.Len())
			}
		})
	}
}

// TestPEMKeyAlgorithmFamily: a PEM key verifies only its own family's
// algorithms (RSA: RS256, PS256; P-256: ES256; P-384: ES384); a token
// naming another fails the algorithm check before any signature check.
func TestPEMKeyAlgorithmFamily(t *testing.T) {
	rk, _, _ := rsaKeys(t)
	p256, p384 := ecKey(t, elliptic.P256()), ecKey(t, elliptic.P384())
	signed := func(m jwt.SigningMethod, key any) string { return sign(t, m, key, claims(nil), nil) }
	for _, tt := range []struct {
		name  string
		pub   crypto.PublicKey
		token string
		check string // "" for accepted
	}{
		{"RSA key, RS256", &rk.PublicKey, signed(jwt.SigningMethodRS256, rk), ""},
		{"RSA key, PS256", &rk.PublicKey, signed(jwt.SigningMethodPS256, rk), ""},
		{"RSA key, ES256", &rk.PublicKey, forge("ES256", "", 64), "algorithm"},
		{"RSA key, ES384", &rk.PublicKey, forge("ES384", "", 96), "algorithm"},
		{"P-256 key, ES256", &p256.PublicKey, signed(jwt.SigningMethodES256, p256), ""},
		{"P-256 key, ES384", &p256.PublicKey, forge("ES384", "", 96), "algorithm"},
		{"P-256 key, RS256", &p256.PublicKey, forge("RS256", "", 256), "algorithm"},
		{"P-384 key, ES384", &p384.PublicKey, signed(jwt.SigningMethodES384, p384), ""},
		{"P-384 key, ES256", &p384.PublicKey, forge("ES256", "", 64), "algorithm"},
		{"P-384 key, PS256", &p384.PublicKey, forge("PS256", "", 256), "algorithm"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ks := NewKeySet()
			if err := ks.AddPEM(pemOf(t, tt.pub)); err != nil {
				t.Fatal(err)
			}
			v, err := NewVerifier(ks, issuer, audience)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify("XBL3.0 x=uhs1;" + tt.token)
			if got := checkOf(err); got != tt.check {
				t.Errorf("Verify: check %q (%v), want %q", got, err, tt.check)
			}
		})
	}
}

// TestJWKSSkipsUnusableKeys: an unusable key beside a good one is skipped
// with a log line naming its kid and why; the good key still verifies.
func TestJWKSSkipsUnusableKeys(t *testing.T) {
	good := ecKey(t, elliptic.P256())
	_, _, weak := rsaKeys(t)
	strong, _, _ := rsaKeys(t)
	badXY := jwkOf(&ecKey(t, elliptic.P256()).PublicKey, "bad-xy", "")
	badXY["x"] = b64(make([]byte, 32)) // not on the curve
	short := jwkOf(&ecKey(t, elliptic.P256()).PublicKey, "short-x", "")
	short["x"] = "AA"
	p521 := jwkOf(&ecKey(t, elliptic.P521()).PublicKey, "p521", "")
	for _, tt := range []struct {
		name   string
		bad    map[string]any
		reason string
	}{
		{"coordinates off the curve", badXY, "EC key"},
		{"coordinates of the wrong size", short, "coordinates"},
		{"weak RSA", jwkOf(&weak.PublicKey, "rsa1024", ""), "2048"},
		{"unsupported curve", p521, "curve"},
		{"alg of another family", jwkOf(&strong.PublicKey, "rsa-es", "ES256"), "alg"},
		{"alg not accepted", jwkOf(&strong.PublicKey, "rsa-512", "RS512"), "alg"},
		{"symmetric key", map[string]any{"kty": "oct", "kid": "sym", "k": "c2VjcmV0"}, "key type"},
		{"bad field type", map[string]any{"kty": "EC", "kid": "typed", "crv": 256}, "cannot unmarshal"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			ks := NewKeySet()
			ks.Log = slog.New(slog.NewJSONHandler(&logs, nil))
			if err := ks.AddJWKS(jwksOf(tt.bad, jwkOf(&good.PublicKey, "good", "ES256"))); err != nil {
				t.Fatalf("AddJWKS: %v", err)
			}
			if ks.Len() != 1 {
				t.Errorf("Len = %d, want 1", ks.Len())
			}
			kid, _ := tt.bad["kid"].(string)
			if tt.name == "bad field type" {
				kid = `"index":0` // an undecodable key is named by its place
			}
			if l := logs.String(); !strings.Contains(l, kid) || !strings.Contains(l, tt.reason) || !strings.Contains(l, "skipped") {
				t.Errorf("log does not name kid %q and reason %q: %s", kid, tt.reason, l)
			}
			v, _ := NewVerifier(ks, issuer, audience)
			if _, err := v.Verify("XBL3.0 x=uhs1;" + sign(t, jwt.SigningMethodES256, good, claims(nil), map[string]any{"kid": "good"})); err != nil {
				t.Errorf("the good key no longer verifies: %v", err)
			}
			if err := NewKeySet().AddJWKS(jwksOf(tt.bad)); err == nil {
				t.Error("a JWKS with only the unusable key was accepted")
			}
		})
	}
}

// TestForbiddenKeys: a key Forbid names is an error wherever it is added,
// whatever kid it is given.
func TestForbiddenKeys(t *testing.T) {
	bad, ok := ecKey(t, elliptic.P256()), ecKey(t, elliptic.P256())
	tp, _ := Thumbprint(&bad.PublicKey)
	for _, tt := range []struct {
		name string
		add  func(*KeySet) error
		ok   bool
	}{
		{"PEM", func(s *KeySet) error { return s.AddPEM(pemOf(t, &bad.PublicKey)) }, false},
		{"PEM with another key", func(s *KeySet) error {
			return s.AddPEM(append(pemOf(t, &ok.PublicKey), pemOf(t, &bad.PublicKey)...))
		}, false},
		{"JWKS under another kid", func(s *KeySet) error {
			return s.AddJWKS(jwksOf(jwkOf(&ok.PublicKey, "a", ""), jwkOf(&bad.PublicKey, "innocent", "")))
		}, false},
		{"other keys", func(s *KeySet) error { return s.AddPEM(pemOf(t, &ok.PublicKey)) }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ks := NewKeySet()
			ks.Forbid(tp)
			err := tt.add(ks)
			if tt.ok != (err == nil) || !tt.ok && !errors.Is(err, ErrForbiddenKey) {
				t.Errorf("add = %v, want ok=%v or ErrForbiddenKey", err, tt.ok)
			}
		})
	}
}

// TestStrictDecoding: a segment with non-zero padding bits decodes, in
// lax base64, to the same bytes as the canonical one; such a token is
// refused, so one token has one spelling.
func TestStrictDecoding(t *testing.T) {
	f := newFixture(t)
	h, _ := f.signer.Mint(alice, time.Hour, time.Now())
	// An ES256 signature is 64 bytes: 86 characters, the last carrying 4
	// padding bits.
	twin := h[:len(h)-1] + string(alphabet[strings.IndexByte(alphabet, h[len(h)-1])|1])
	head := b64([]byte(`{"alg":"ES256"} `)) // 16 bytes: 4 padding bits too
	headTwin := head[:len(head)-1] + string(alphabet[strings.IndexByte(alphabet, head[len(head)-1])|1])
	if _, err := base64.RawURLEncoding.DecodeString(headTwin[len(headTwin)-4:]); err != nil {
		t.Fatalf("the twin is not lax base64: %v", err)
	}
	for _, tt := range []struct {
		name string
		run  func() error
		ok   bool
	}{
		{"canonical token", func() error { _, err := f.verifier.Verify(h); return err }, true},
		{"signature twin", func() error { _, err := f.verifier.Verify(twin); return err }, false},
		{"canonical header", func() error { _, err := inspect(head + ".e30.sig"); return err }, true},
		{"header twin", func() error { _, err := inspect(headTwin + ".e30.sig"); return err }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && checkOf(err) != "format" {
				t.Errorf("check %q (%v), want format", checkOf(err), err)
			}
		})
	}
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

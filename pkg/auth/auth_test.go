package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/xblread/xblread/pkg/xbl"
)

const (
	issuer   = "https://issuer.test"
	audience = "xbl-read-api"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in, uhs, token string
		ok             bool
	}{
		{"XBL3.0 x=abc;tok.en.sig", "abc", "tok.en.sig", true},
		{"XBL3.0 x=abc;tok;with;semis", "abc", "tok;with;semis", true},
		{"XBL3.0 x=a=b;tok", "a=b", "tok", true},
		{"", "", "", false},
		{"Bearer tok", "", "", false},
		{"XBL3.0 abc;tok", "", "", false},
		{"XBL3.0 x=abc", "", "", false},
		{"XBL3.0 x=;tok", "", "", false},
		{"XBL3.0 x=abc;", "", "", false},
		{"xbl3.0 x=abc;tok", "", "", false},
		{"XBL3.0 x=abc;" + strings.Repeat("a", MaxHeaderBytes), "", "", false},
	}
	for _, tt := range tests {
		name := tt.in
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			uhs, tok, err := ParseHeader(tt.in)
			if (err == nil) != tt.ok || uhs != tt.uhs || tok != tt.token {
				t.Errorf("ParseHeader = %q, %q, %v; want %q, %q, ok=%v", uhs, tok, err, tt.uhs, tt.token, tt.ok)
			}
			var ae *Error
			if err != nil && !errors.As(err, &ae) {
				t.Errorf("error %v is not an *Error", err)
			}
		})
	}
}

type fixture struct {
	key      *ecdsa.PrivateKey
	signer   *Signer
	verifier *Verifier
	pubPEM   []byte
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	ks := NewKeySet()
	if err := ks.AddPEM(pubPEM); err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(ks, issuer, audience)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(key, issuer, audience)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{key: key, signer: s, verifier: v, pubPEM: pubPEM}
}

var alice = xbl.Caller{XUID: 2533274792693551, UserHash: "uhs1", Gamertag: "WarriorSaint", TitleID: "1297287135", DeviceID: "dev1", Sandbox: "RETAIL", Server: true}

func TestVerifyAcceptsMintedToken(t *testing.T) {
	f := newFixture(t)
	h, err := f.signer.Mint(alice, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "XBL3.0 x=uhs1;") {
		t.Errorf("header %q does not start with the scheme and userhash", h)
	}
	got, err := f.verifier.Verify(h)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if *got != alice {
		t.Errorf("Verify = %+v, want %+v", *got, alice)
	}
}

// sign signs claims with method and key, with optional extra headers; an
// ECDSA signature is in its low-S form (see signHighS for the other).
func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims, headers map[string]any) string {
	t.Helper()
	if m, ok := method.(*jwt.SigningMethodECDSA); ok {
		method = ecdsaLowS{m}
	}
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range headers {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claims(mut func(*Claims)) *Claims {
	now := time.Now()
	c := &Claims{
		XUID: "2533274792693551", UserHash: "uhs1", TitleID: "1297287135", Sandbox: "RETAIL",
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Audience: jwt.ClaimStrings{audience},
			IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute)), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		},
	}
	if mut != nil {
		mut(c)
	}
	return c
}

func TestVerifyRejects(t *testing.T) {
	f := newFixture(t)
	kid, _ := Thumbprint(&f.key.PublicKey)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := func(mut func(*Claims)) string {
		return sign(t, jwt.SigningMethodES256, f.key, claims(mut), map[string]any{"kid": kid})
	}
	none := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil), nil)
	hs := sign(t, jwt.SigningMethodHS256, f.pubPEM, claims(nil), map[string]any{"kid": kid})
	valid := good(nil)
	parts := strings.Split(valid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	json.Unmarshal(payload, &m)
	m["srv"] = true
	forged, _ := json.Marshal(m)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]

	tests := []struct {
		name, header, check string
	}{
		{"missing header", "", "header"},
		{"wrong scheme", "Bearer " + valid, "header"},
		{"alg none", "XBL3.0 x=uhs1;" + none, "algorithm"},
		{"HS256 with the public key", "XBL3.0 x=uhs1;" + hs, "algorithm"},
		{"unknown kid", "XBL3.0 x=uhs1;" + sign(t, jwt.SigningMethodES256, other, claims(nil), map[string]any{"kid": "nope"}), "kid"},
		{"signed by another key", "XBL3.0 x=uhs1;" + sign(t, jwt.SigningMethodES256, other, claims(nil), map[string]any{"kid": kid}), "signature"},
		{"tampered payload", "XBL3.0 x=uhs1;" + tampered, "signature"},
		{"expired", "XBL3.0 x=uhs1;" + good(func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute)) }), "exp"},
		{"no exp", "XBL3.0 x=uhs1;" + good(func(c *Claims) { c.ExpiresAt = nil }), "claims"},
		{"nbf in the future", "XBL3.0 x=uhs1;" + good(func(c *Claims) { c.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour)) }), "nbf"},
		{"wrong issuer", "XBL3.0 x=uhs1;" + good(func(c *Claims) { c.Issuer = "https://evil.test" }), "iss"},
		{"wrong audience", "XBL3.0 x=uhs1;" + good(func(c *Claims) { c.Audience = jwt.ClaimStrings{"other"} }), "aud"},
		{"userhash mismatch", "XBL3.0 x=uhs2;" + valid, "userhash"},
		{"missing xid", "XBL3.0 x=uhs1;" + good(func(c *Claims) { c.XUID = "" }), "claims"},
		{"missing sandbox", "XBL3.0 x=uhs1;" + good(func(c *Claims) { c.Sandbox = "" }), "claims"},
		{"missing title", "XBL3.0 x=uhs1;" + good(func(c *Claims) { c.TitleID = "" }), "claims"},
		{"bad xid", "XBL3.0 x=uhs1;" + good(func(c *Claims) { c.XUID = "-5" }), "claims"},
		{"junk after token", "XBL3.0 x=uhs1;" + valid + " junk", "format"},
		{"oversize", "XBL3.0 x=uhs1;" + valid + strings.Repeat("A", MaxHeaderBytes), "size"},
		{"not a jwt", "XBL3.0 x=uhs1;hello", "format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := f.verifier.Verify(tt.header)
			if err == nil {
				t.Fatalf("Verify accepted the token: %+v", c)
			}
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if ae.Check != tt.check {
				t.Errorf("check = %q (%v), want %q", ae.Check, err, tt.check)
			}
		})
	}
}

func TestVerifyToleratesSmallSkew(t *testing.T) {
	f := newFixture(t)
	h, err := f.signer.Mint(alice, -10*time.Second, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.verifier.Verify(h); err != nil {
		t.Errorf("token expired 10s ago was refused within the %s leeway: %v", Leeway, err)
	}
	h, _ = f.signer.Mint(alice, -time.Hour, time.Now())
	if _, err := f.verifier.Verify(h); err == nil {
		t.Error("token expired an hour ago was accepted")
	}
}

func TestJWKS(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecRaw, _ := ec.PublicKey.Bytes()
	doc, _ := json.Marshal(map[string]any{"keys": []map[string]any{
		{"kty": "EC", "kid": "ec1", "use": "sig", "alg": "ES256", "crv": "P-256",
			"x": base64.RawURLEncoding.EncodeToString(ecRaw[1:33]), "y": base64.RawURLEncoding.EncodeToString(ecRaw[33:])},
		{"kty": "RSA", "kid": "rsa1", "alg": "RS256", "n": base64.RawURLEncoding.EncodeToString(rk.N.Bytes()), "e": "AQAB"},
		{"kty": "RSA", "kid": "enc", "use": "enc", "n": "AA", "e": "AQAB"},
		{"kty": "oct", "kid": "sym", "k": "c2VjcmV0"},
	}})
	ks := NewKeySet()
	if err := ks.AddJWKS(doc); err != nil {
		t.Fatal(err)
	}
	if ks.Len() != 2 {
		t.Errorf("Len = %d, want 2 (encryption and symmetric keys skipped)", ks.Len())
	}
	v, err := NewVerifier(ks, issuer, audience)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		method jwt.SigningMethod
		key    any
		kid    string
		ok     bool
	}{
		{"EC key", jwt.SigningMethodES256, ec, "ec1", true},
		{"RSA key", jwt.SigningMethodRS256, rk, "rsa1", true},
		{"RSA key with PS256, not its alg", jwt.SigningMethodPS256, rk, "rsa1", false},
		{"HS256 naming the RSA kid", jwt.SigningMethodHS256, []byte("secret"), "rsa1", false},
		{"no kid with JWKS keys", jwt.SigningMethodES256, ec, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]any{}
			if tt.kid != "" {
				h["kid"] = tt.kid
			}
			_, err := v.Verify("XBL3.0 x=uhs1;" + sign(t, tt.method, tt.key, claims(nil), h))
			if (err == nil) != tt.ok {
				t.Errorf("Verify error = %v, want ok=%v", err, tt.ok)
			}
		})
	}
	for _, bad := range []string{`{`, `{"keys":[]}`, `{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`, `{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`} {
		if err := NewKeySet().AddJWKS([]byte(bad)); err == nil {
			t.Errorf("AddJWKS(%s) = nil, want an error", bad)
		}
	}
}

// TestThumbprintRFC7638 checks the example of RFC 7638 §3.1.
func TestThumbprintRFC7638(t *testing.T) {
	n := "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	k := jwk{Kty: "RSA", N: n, E: "AQAB"}
	pub, err := k.publicKey()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Thumbprint(pub)
	if err != nil {
		t.Fatal(err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("Thumbprint = %s, want %s", got, want)
	}
}

func TestNewVerifierNeedsConfig(t *testing.T) {
	if _, err := NewVerifier(NewKeySet(), issuer, audience); err == nil {
		t.Error("NewVerifier with no keys succeeded")
	}
	f := newFixture(t)
	ks := NewKeySet()
	ks.AddPEM(f.pubPEM)
	if _, err := NewVerifier(ks, "", audience); err == nil {
		t.Error("NewVerifier with no issuer succeeded")
	}
}

func TestVerifyCachesOnlyUntilExpiry(t *testing.T) {
	f := newFixture(t)
	h, _ := f.signer.Mint(alice, time.Hour, time.Now())
	for range 2 { // the second check is answered from the cache
		if _, err := f.verifier.Verify(h); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.verifier.Verify(strings.Replace(h, "x=uhs1;", "x=other;", 1)); err == nil {
		t.Error("a cached token was accepted with another userhash")
	}
	_, token, _ := ParseHeader(h)
	gen := f.verifier.keys.generation()
	f.verifier.cache.put(token, alice, time.Now().Add(-time.Hour), gen) // as if it had expired
	if _, ok := f.verifier.cache.get(token, time.Now(), gen); ok {
		t.Error("an expired entry was served")
	}
	bad := h[:len(h)-4] + "AAAA"
	if _, err := f.verifier.Verify(bad); err == nil {
		t.Error("a tampered token was accepted")
	}
}

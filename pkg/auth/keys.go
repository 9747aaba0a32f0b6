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
	"io"
	"math/big"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// KeySet is a set of trusted public keys, each under a key id. A token
// names its key with the "kid" header; a token without one may be checked
// only against keys loaded from PEM.
type KeySet struct {
	byKID map[string]entry
	// pemKIDs are the ids of keys loaded from PEM, tried for tokens without a kid.
	pemKIDs []string
}

type entry struct {
	key crypto.PublicKey
	alg string // the only algorithm the key may be used with; "" for any allowed
}

// NewKeySet returns an empty KeySet.
func NewKeySet() *KeySet { return &KeySet{byKID: map[string]entry{}} }

// Len returns the number of keys in the set.
func (s *KeySet) Len() int { return len(s.byKID) }

// AddPEM adds every public key (PKIX "PUBLIC KEY" blocks, or certificates)
// in data. Each key's id is its RFC 7638 thumbprint.
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
		kid, err := Thumbprint(pub)
		if err != nil {
			return err
		}
		s.byKID[kid] = entry{key: pub}
		s.pemKIDs = append(s.pemKIDs, kid)
		n++
	}
	if n == 0 {
		return errors.New("no PEM public key found")
	}
	return nil
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

// AddJWKS adds the signing keys of a JWKS document (EC P-256/P-384 and RSA).
// Keys marked for another use than "sig", and keys of other types, are
// skipped; a document with no usable key is an error.
func (s *KeySet) AddJWKS(data []byte) error {
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("parse JWKS: %w", err)
	}
	n := 0
	for i, k := range doc.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		pub, err := k.publicKey()
		if err != nil {
			return fmt.Errorf("JWKS key %d: %w", i, err)
		}
		if pub == nil {
			continue
		}
		kid := k.Kid
		if kid == "" {
			if kid, err = Thumbprint(pub); err != nil {
				return err
			}
		}
		s.byKID[kid] = entry{key: pub, alg: k.Alg}
		n++
	}
	if n == 0 {
		return errors.New("JWKS has no usable signing key")
	}
	return nil
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
		if nn.BitLen() < 2048 || !e.IsInt64() || e.Int64() < 3 {
			return nil, errors.New("RSA key is weaker than 2048 bits or has a bad exponent")
		}
		return &rsa.PublicKey{N: nn, E: int(e.Int64())}, nil
	}
	return nil, nil
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

// keyFunc picks the key that verifies t: the one its kid names, or, for a
// token without a kid, the single PEM key.
func (s *KeySet) keyFunc(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		if len(s.pemKIDs) != 1 {
			return nil, fail("kid", "token has no kid", nil)
		}
		kid = s.pemKIDs[0]
	}
	e, ok := s.byKID[kid]
	if !ok {
		return nil, fail("kid", "token is signed with an unknown key", fmt.Errorf("kid %q", kid))
	}
	if e.alg != "" && e.alg != alg {
		return nil, fail("algorithm", "token algorithm does not match its key", fmt.Errorf("alg %s, key for %s", alg, e.alg))
	}
	return e.key, nil
}

// FetchJWKS downloads a JWKS document, for use at start-up.
func FetchJWKS(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS %s: status %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS %s: %w", url, err)
	}
	return body, nil
}

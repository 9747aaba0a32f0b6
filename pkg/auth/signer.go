package auth

import (
	"crypto/ecdsa"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/xblread/xblread/pkg/xbl"
)

// Signer mints tokens with an ECDSA P-256 key, for local development and
// tests; their signatures are in the low-S form (Verify reads either).
// Production tokens come from the identity provider.
type Signer struct {
	key      *ecdsa.PrivateKey
	kid      string
	issuer   string
	audience string
}

// NewSigner returns a Signer whose tokens carry issuer and audience and name
// the key by its thumbprint.
func NewSigner(key *ecdsa.PrivateKey, issuer, audience string) (*Signer, error) {
	kid, err := Thumbprint(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &Signer{key: key, kid: kid, issuer: issuer, audience: audience}, nil
}

// Mint signs a token for c, valid from now for ttl (a negative ttl mints a
// token that has already expired), and returns the complete Authorization
// header value.
func (s *Signer) Mint(c xbl.Caller, ttl time.Duration, now time.Time) (string, error) {
	start := now
	if ttl < 0 {
		start = now.Add(ttl)
	}
	claims := Claims{
		XUID: c.XUID.String(), UserHash: c.UserHash, Gamertag: c.Gamertag, TitleID: c.TitleID,
		DeviceID: c.DeviceID, Sandbox: c.Sandbox, Server: c.Server,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.issuer,
			Audience:  jwt.ClaimStrings{s.audience},
			Subject:   c.XUID.String(),
			IssuedAt:  jwt.NewNumericDate(start.Add(-time.Minute)),
			NotBefore: jwt.NewNumericDate(start.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	t := jwt.NewWithClaims(ES256, claims)
	t.Header["kid"] = s.kid
	signed, err := t.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return Scheme + " x=" + c.UserHash + ";" + signed, nil
}

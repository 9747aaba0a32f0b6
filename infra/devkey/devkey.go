// Package devkey holds the local development signing key: the key that
// `xblctl token` signs with and that the local stack trusts with no further
// configuration. Its private half is public in this repository, so nothing
// deployed may ever trust it; the function binaries do not import this
// package.
package devkey

import (
	"crypto/ecdsa"
	"crypto/x509"
	_ "embed"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/xbl"
)

// Issuer and Audience are the claims the local stack requires.
const (
	Issuer   = "https://xblctl.local/dev"
	Audience = "xbl-read-api"
)

// PublicPEM is the public half of the development key, as PEM.
//
//go:embed devkey.pub.pem
var PublicPEM []byte

//go:embed devkey.pem
var privatePEM []byte

// Signer returns a Signer with the development key.
func Signer() (*auth.Signer, error) {
	k, err := Key()
	if err != nil {
		return nil, err
	}
	return auth.NewSigner(k, Issuer, Audience)
}

// Verifier returns a Verifier that trusts the development key.
func Verifier() (*auth.Verifier, error) {
	ks := auth.NewKeySet()
	if err := ks.AddPEM(PublicPEM); err != nil {
		return nil, fmt.Errorf("devkey: %w", err)
	}
	return auth.NewVerifier(ks, Issuer, Audience)
}

// Key returns the development private key, for tests that forge tokens
// with claims Signer would not write.
func Key() (*ecdsa.PrivateKey, error) {
	b, _ := pem.Decode(privatePEM)
	if b == nil {
		return nil, fmt.Errorf("devkey: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("devkey: %w", err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("devkey: not an ECDSA key")
	}
	return ek, nil
}

// Mint returns an Authorization header value for c, signed with the
// development key, valid from now for ttl (negative: already expired).
func Mint(c xbl.Caller, ttl time.Duration) (string, error) {
	s, err := Signer()
	if err != nil {
		return "", err
	}
	return s.Mint(c, ttl, time.Now())
}

package app

import (
	"context"
	"testing"

	"github.com/xblread/xblread/infra/devkey"
)

func TestNewVerifierConfig(t *testing.T) {
	ctx := context.Background()
	good := Config{PEM: string(devkey.PublicPEM), Issuer: devkey.Issuer, Audience: devkey.Audience}
	if _, err := NewVerifier(ctx, good); err != nil {
		t.Errorf("good config: %v", err)
	}
	for name, c := range map[string]Config{
		"no keys":     {Issuer: "i", Audience: "a"},
		"bad PEM":     {PEM: "not a key", Issuer: "i", Audience: "a"},
		"bad JWKS":    {JWKS: "{", Issuer: "i", Audience: "a"},
		"no issuer":   {PEM: good.PEM, Audience: "a"},
		"no audience": {PEM: good.PEM, Issuer: "i"},
	} {
		if _, err := NewVerifier(ctx, c); err == nil {
			t.Errorf("%s: NewVerifier succeeded", name)
		}
	}
}

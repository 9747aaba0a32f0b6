package devkey

import (
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/xblread/xblread/pkg/auth"
	"github.com/xblread/xblread/pkg/xbl"
)

// TestDevKeyThumbprint: auth.DevKeyThumbprint, which the functions compare
// their keys against so as to refuse the development key when deployed,
// is the thumbprint of this package's key, both of the embedded public
// half and of the private key's.
func TestDevKeyThumbprint(t *testing.T) {
	b, _ := pem.Decode(PublicPEM)
	if b == nil {
		t.Fatal("PublicPEM holds no PEM block")
	}
	pub, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	k, err := Key()
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]any{"PublicPEM": pub, "Key().PublicKey": &k.PublicKey} {
		got, err := auth.Thumbprint(key)
		if err != nil {
			t.Fatal(err)
		}
		if got != auth.DevKeyThumbprint {
			t.Errorf("thumbprint of %s = %s; auth.DevKeyThumbprint = %s", name, got, auth.DevKeyThumbprint)
		}
	}
}

// TestVerifierTrustsTheDevKey: the local tools' Verifier accepts what
// Mint signs.
func TestVerifierTrustsTheDevKey(t *testing.T) {
	v, err := Verifier()
	if err != nil {
		t.Fatal(err)
	}
	c := xbl.Caller{XUID: 2533274792693551, UserHash: "uhs", TitleID: "1297287135", Sandbox: "RETAIL"}
	h, err := Mint(c, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(h)
	if err != nil || *got != c {
		t.Errorf("Verify = %+v, %v; want %+v", got, err, c)
	}
}

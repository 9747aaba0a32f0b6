package auth

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseHeader: no panic; an accepted header splits at the first '='
// after the scheme and the first ';'.
func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{"XBL3.0 x=uhs;tok", "XBL3.0 x=;", "XBL3.0 x=a;b;c", "Bearer x", "", "XBL3.0 x=a=b;c", "XBL3.0 x=\x00;\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		uhs, tok, err := ParseHeader(h)
		if err != nil {
			return
		}
		if h != Scheme+" x="+uhs+";"+tok || strings.Contains(uhs, ";") || uhs == "" || tok == "" {
			t.Fatalf("ParseHeader(%q) = %q, %q", h, uhs, tok)
		}
	})
}

// FuzzVerify: no header the fuzzer makes is accepted, except the valid
// one it starts from and that one's high-S twin (the same token; signatures
// cannot be guessed), and nothing panics.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	valid, _ := fx.signer.Mint(alice, time.Hour, time.Now())
	f.Add(valid)
	f.Add(valid + "x")
	f.Add(strings.Replace(valid, "x=uhs1", "x=uhs2", 1))
	f.Add("XBL3.0 x=uhs1;eyJhbGciOiJub25lIn0.eyJ4aWQiOiIxIn0.")
	// Validly signed, each refused for what it holds: a crit header, b64
	// false, a string exp, a member twice; and the high-S twin, accepted.
	kid, _ := Thumbprint(&fx.key.PublicKey)
	hdr := `{"alg":"ES256","kid":"` + kid + `"`
	f.Add(signRaw(f, fx.key, hdr+`,"crit":["x"],"x":1}`, claimsJSON("")))
	f.Add(signRaw(f, fx.key, hdr+`,"b64":false}`, claimsJSON("")))
	f.Add(signRaw(f, fx.key, hdr+`}`, claimsJSON(`"exp":"9999999999"`)))
	f.Add(signRaw(f, fx.key, hdr+`}`, claimsJSON(`"srv":false,"srv":true`)))
	twin := highS(f, valid, &fx.key.PublicKey)
	f.Add(twin)
	f.Fuzz(func(t *testing.T, h string) {
		c, err := fx.verifier.Verify(h)
		if err == nil && h != valid && h != twin {
			t.Fatalf("Verify accepted a changed header: %q (%+v)", h, c)
		}
	})
}

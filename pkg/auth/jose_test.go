package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// signRaw signs header.claims, both given as JSON text, with key (ES256,
// low S): the token is refused, if it is, for what its JSON says.
func signRaw(t testing.TB, key *ecdsa.PrivateKey, header, claims string) string {
	t.Helper()
	in := b64([]byte(header)) + "." + b64([]byte(claims))
	sig, err := ES256.Sign(in, key)
	if err != nil {
		t.Fatal(err)
	}
	return "XBL3.0 x=uhs1;" + in + "." + b64(sig)
}

// claimsJSON is a valid token's claims as JSON text, with the members in
// extra added after them (a member named twice is kept twice).
func claimsJSON(extra string) string {
	now := time.Now().Unix()
	s := `{"xid":"2533274792693551","uhs":"uhs1","tid":"1297287135","sbx":"RETAIL","iss":"` + issuer + `","aud":"` + audience + `"`
	for _, m := range []struct {
		name string
		v    int64
	}{{"iat", now - 60}, {"nbf", now - 60}, {"exp", now + 3600}} {
		if !strings.Contains(extra, `"`+m.name+`":`) {
			s += `,"` + m.name + `":` + strconv.FormatInt(m.v, 10)
		}
	}
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

// publicMessage is what a refusal may say: fixed words, nothing of the
// token.
var publicMessage = regexp.MustCompile(`^unauthorized: [a-zA-Z -]+$`)

// TestVerifyRefusesWhatItDoesNotKnow: a validly signed token whose header
// or claims hold something the verifier does not understand (a crit
// extension, an unencoded payload, a string exp, a member twice, a kid that
// is not a string, a typ other than JWT...) is refused, as a 401 whose
// message repeats nothing of the token.
func TestVerifyRefusesWhatItDoesNotKnow(t *testing.T) {
	f := newFixture(t)
	kid, _ := Thumbprint(&f.key.PublicKey)
	hdr := func(extra string) string {
		s := `{"alg":"ES256","kid":"` + kid + `"`
		if extra != "" {
			s += "," + extra
		}
		return s + "}"
	}
	for _, tt := range []struct {
		name, header, claims, check string
	}{
		{"crit naming an extension", hdr(`"crit":["http://example.com/x"],"http://example.com/x":true`), claimsJSON(""), "header"},
		{"crit naming exp", hdr(`"crit":["exp"],"exp":1`), claimsJSON(""), "header"},
		{"empty crit", hdr(`"crit":[]`), claimsJSON(""), "header"},
		{"b64 false, critical", hdr(`"b64":false,"crit":["b64"]`), claimsJSON(""), "header"},
		{"b64 false", hdr(`"b64":false`), claimsJSON(""), "header"},
		{"b64 true", hdr(`"b64":true`), claimsJSON(""), "header"},
		{"jwk in the header", hdr(`"jwk":{"kty":"EC"}`), claimsJSON(""), "header"},
		{"jku in the header", hdr(`"jku":"https://evil.example/jwks"`), claimsJSON(""), "header"},
		{"x5u in the header", hdr(`"x5u":"https://evil.example/cert"`), claimsJSON(""), "header"},
		{"x5c in the header", hdr(`"x5c":["MIIB"]`), claimsJSON(""), "header"},
		{"nested token", hdr(`"cty":"JWT"`), claimsJSON(""), "header"},
		{"unknown header member", hdr(`"foo":"bar"`), claimsJSON(""), "header"},
		{"typ JOSE", hdr(`"typ":"JOSE"`), claimsJSON(""), "header"},
		{"typ empty", hdr(`"typ":""`), claimsJSON(""), "header"},
		{"typ a number", hdr(`"typ":1`), claimsJSON(""), "header"},
		{"typ null", hdr(`"typ":null`), claimsJSON(""), "header"},
		{"kid a number", `{"alg":"ES256","kid":1}`, claimsJSON(""), "header"},
		{"kid null", `{"alg":"ES256","kid":null}`, claimsJSON(""), "header"},
		{"kid an array", `{"alg":"ES256","kid":["` + kid + `"]}`, claimsJSON(""), "header"},
		{"kid empty", `{"alg":"ES256","kid":""}`, claimsJSON(""), "kid"},
		{"kid twice", hdr(`"kid":"` + kid + `"`), claimsJSON(""), "format"},
		{"alg twice, HS256 first", `{"alg":"HS256","alg":"ES256","kid":"` + kid + `"}`, claimsJSON(""), "format"},
		{"alg lower case", `{"alg":"es256","kid":"` + kid + `"}`, claimsJSON(""), "algorithm"},
		{"alg ES512", `{"alg":"ES512","kid":"` + kid + `"}`, claimsJSON(""), "algorithm"},
		{"alg EdDSA", `{"alg":"EdDSA","kid":"` + kid + `"}`, claimsJSON(""), "algorithm"},
		{"alg missing", `{"kid":"` + kid + `"}`, claimsJSON(""), "algorithm"},
		{"alg null", `{"alg":null,"kid":"` + kid + `"}`, claimsJSON(""), "header"},
		{"alg an array", `{"alg":["ES256"],"kid":"` + kid + `"}`, claimsJSON(""), "header"},
		{"header invalid UTF-8", hdr(`"typ":"JWT` + "\xff" + `"`), claimsJSON(""), "format"},
		{"header null", `null`, claimsJSON(""), "format"},
		{"header an array", `["ES256"]`, claimsJSON(""), "format"},
		{"header with trailing data", hdr("") + `{}`, claimsJSON(""), "format"},
		{"exp a string", hdr(""), claimsJSON(`"exp":"9999999999"`), "format"},
		{"exp null", hdr(""), claimsJSON(`"exp":null`), "format"},
		{"exp negative", hdr(""), claimsJSON(`"exp":-1`), "format"},
		{"exp past year 9999", hdr(""), claimsJSON(`"exp":1e300`), "format"},
		{"exp twice, expired first", hdr(""), claimsJSON(`"exp":1,"exp":9999999999`), "format"},
		{"nbf a string", hdr(""), claimsJSON(`"nbf":"0"`), "format"},
		{"nbf a boolean", hdr(""), claimsJSON(`"nbf":false`), "format"},
		{"iat a string", hdr(""), claimsJSON(`"iat":"0"`), "format"},
		{"iat an object", hdr(""), claimsJSON(`"iat":{}`), "format"},
		{"srv a string", hdr(""), claimsJSON(`"srv":"true"`), "format"},
		{"srv null", hdr(""), claimsJSON(`"srv":null`), "format"},
		{"srv twice", hdr(""), claimsJSON(`"srv":false,"srv":true`), "format"},
		{"xid a number", `{"alg":"ES256","kid":"` + kid + `"}`, strings.Replace(claimsJSON(""), `"2533274792693551"`, `2533274792693551`, 1), "format"},
		{"xid twice", hdr(""), claimsJSON(`"xid":"1"`), "format"},
		{"gtg null", hdr(""), claimsJSON(`"gtg":null`), "format"},
		{"aud a number", hdr(""), strings.Replace(claimsJSON(""), `"aud":"`+audience+`"`, `"aud":1`, 1), "format"},
		{"aud of a number", hdr(""), strings.Replace(claimsJSON(""), `"aud":"`+audience+`"`, `"aud":["`+audience+`",1]`, 1), "format"},
		{"aud null", hdr(""), strings.Replace(claimsJSON(""), `"aud":"`+audience+`"`, `"aud":null`, 1), "format"},
		{"claims invalid UTF-8", hdr(""), claimsJSON(`"gtg":"a` + "\xff" + `"`), "format"},
		{"claims null", hdr(""), `null`, "claims"},
		{"claims an array", hdr(""), `[]`, "format"},
		{"a claim twice, nested", hdr(""), claimsJSON(`"x":{"a":1,"a":2}`), "format"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := f.verifier.Verify(signRaw(t, f.key, tt.header, tt.claims))
			if err == nil {
				t.Fatalf("Verify accepted %s.%s: %+v", tt.header, tt.claims, c)
			}
			if got := checkOf(err); got != tt.check {
				t.Errorf("check %q (%v), want %q", got, err, tt.check)
			}
			if ae, ok := err.(*Error); !ok || !publicMessage.MatchString(ae.Public()) {
				t.Errorf("public message of %v repeats the token", err)
			}
		})
	}
}

// TestVerifyAcceptsWhatItKnows: what the rules allow still passes: typ JWT
// in any case, a key thumbprint, a fractional exp, aud as an array, a
// claim it does not know; a claim name in another case is not the claim.
func TestVerifyAcceptsWhatItKnows(t *testing.T) {
	f := newFixture(t)
	kid, _ := Thumbprint(&f.key.PublicKey)
	hdr := func(extra string) string { return `{"alg":"ES256","kid":"` + kid + `",` + extra + `}` }
	exp := strconv.FormatInt(time.Now().Unix()+3600, 10) + ".5"
	for _, tt := range []struct{ name, header, claims string }{
		{"typ JWT", hdr(`"typ":"JWT"`), claimsJSON("")},
		{"typ jwt", hdr(`"typ":"jwt"`), claimsJSON("")},
		{"typ application/jwt", hdr(`"typ":"application/jwt"`), claimsJSON("")},
		{"typ at+jwt (RFC 9068)", hdr(`"typ":"at+jwt"`), claimsJSON("")},
		{"typ application/at+JWT", hdr(`"typ":"application/at+JWT"`), claimsJSON("")},
		{"x5t", hdr(`"x5t":"abc","x5t#S256":"def"`), claimsJSON("")},
		{"no kid, one PEM key", `{"alg":"ES256"}`, claimsJSON("")},
		{"fractional exp", hdr(`"typ":"JWT"`), claimsJSON(`"exp":` + exp)},
		{"aud an array", hdr(`"typ":"JWT"`), strings.Replace(claimsJSON(""), `"aud":"`+audience+`"`, `"aud":["other","`+audience+`"]`, 1)},
		{"an unknown claim", hdr(`"typ":"JWT"`), claimsJSON(`"oid":{"a":[1,null]}`)},
		{"SRV is not srv", hdr(`"typ":"JWT"`), claimsJSON(`"SRV":true,"Gtg":"Mallory","srv":false`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := f.verifier.Verify(signRaw(t, f.key, tt.header, tt.claims))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.Server || c.Gamertag != "" || c.XUID != 2533274792693551 {
				t.Errorf("caller %+v", c)
			}
		})
	}
}

// highS returns the header's token with its ECDSA signature (R, S)
// replaced by its twin (R, N−S), which ecdsa.Verify accepts as well.
func highS(t testing.TB, header string, pub *ecdsa.PublicKey) string {
	t.Helper()
	i := strings.LastIndexByte(header, '.')
	sig, err := base64.RawURLEncoding.DecodeString(header[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	size := len(sig) / 2
	r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
	twin := new(big.Int).Sub(pub.Curve.Params().N, s)
	if twin.Cmp(s) <= 0 {
		t.Fatal("the signature was not low-S")
	}
	in := header[strings.IndexByte(header, ';')+1 : i]
	var digest []byte
	if size == 32 {
		d := sha256.Sum256([]byte(in))
		digest = d[:]
	}
	if digest != nil && !ecdsa.Verify(pub, digest, r, twin) {
		t.Fatal("the twin is not a valid signature")
	}
	out := make([]byte, len(sig))
	copy(out, sig[:size])
	twin.FillBytes(out[size:])
	return header[:i+1] + base64.RawURLEncoding.EncodeToString(out)
}

// TestHighSIsItsTwin: an ECDSA signature's two valid forms, (R, S) and
// (R, N−S), are both accepted (ES256 and ES384) and are one token: the
// twin of a verified token is answered from the cache entry of the first,
// and the signer makes only the low-S form.
func TestHighSIsItsTwin(t *testing.T) {
	f := newFixture(t)
	for i := range 64 {
		h, err := f.signer.Mint(alice, time.Hour, time.Now().Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if canon, _ := inspect(h[strings.IndexByte(h, ';')+1:]); canon != h[strings.IndexByte(h, ';')+1:] {
			t.Fatalf("minted token %d is not in its low-S form", i)
		}
		c1, err := f.verifier.Verify(h)
		if err != nil {
			t.Fatalf("minted token %d refused: %v", i, err)
		}
		n := f.verifier.cache.len()
		c2, err := f.verifier.Verify(highS(t, h, &f.key.PublicKey))
		if err != nil || *c2 != *c1 {
			t.Fatalf("high-S twin of token %d: %+v, %v; want %+v", i, c2, err, c1)
		}
		if f.verifier.cache.len() != n {
			t.Fatalf("the twin of token %d is a second cache entry", i)
		}
	}
	p384 := ecKey(t, elliptic.P384())
	ks := NewKeySet()
	if err := ks.AddPEM(pemOf(t, &p384.PublicKey)); err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(ks, issuer, audience)
	if err != nil {
		t.Fatal(err)
	}
	for range 16 {
		h := "XBL3.0 x=uhs1;" + sign(t, jwt.SigningMethodES384, p384, claims(nil), nil)
		if _, err := v.Verify(h); err != nil {
			t.Fatalf("ES384 token refused: %v", err)
		}
		if _, err := v.Verify(highS(t, h, &p384.PublicKey)); err != nil {
			t.Fatalf("ES384 high-S twin refused: %v", err)
		}
	}
}

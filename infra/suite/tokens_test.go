package suite

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/pkg/auth"
)

// TestForgedTokens sends forged and broken tokens to every route kind:
// each is a 401.
func TestForgedTokens(t *testing.T) {
	base := stack(t)
	key, err := devkey.Key()
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := auth.Thumbprint(&key.PublicKey)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	claims := func(mut func(*auth.Claims)) *auth.Claims {
		c := &auth.Claims{XUID: "2533274792693551", UserHash: "uhs", TitleID: titleA, Sandbox: "RETAIL",
			RegisteredClaims: jwt.RegisteredClaims{Issuer: devkey.Issuer, Audience: jwt.ClaimStrings{devkey.Audience},
				IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute)), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
				ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}}
		if mut != nil {
			mut(c)
		}
		return c
	}
	sign := func(m jwt.SigningMethod, k any, c jwt.Claims, kid string) string {
		tok := jwt.NewWithClaims(m, c)
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := sign(auth.ES256, key, claims(nil), kid)
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	json.Unmarshal(payload, &m)
	m["srv"], m["xid"] = true, "1"
	forged, _ := json.Marshal(m)

	// raw signs header and claims as written, to say what an encoder would
	// not: members twice, wrong types, unknown header members.
	raw := func(header, claims string) string {
		in := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
		sig, err := auth.ES256.Sign(in, key)
		if err != nil {
			t.Fatal(err)
		}
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	hdr, claimsJSON := `{"alg":"ES256","typ":"JWT","kid":"`+kid+`"`, string(payload)
	// The high-S twin of good's signature: the same token, accepted.
	twin, _ := base64.RawURLEncoding.DecodeString(parts[2])
	new(big.Int).Sub(elliptic.P256().Params().N, new(big.Int).SetBytes(twin[32:])).FillBytes(twin[32:])

	attacks := map[string]string{
		"crit header":               raw(hdr+`,"crit":["x"],"x":1}`, claimsJSON),
		"b64 false":                 raw(hdr+`,"b64":false,"crit":["b64"]}`, claimsJSON),
		"jwk in the header":         raw(hdr+`,"jwk":{"kty":"EC"}}`, claimsJSON),
		"typ JOSE":                  raw(`{"alg":"ES256","typ":"JOSE","kid":"`+kid+`"}`, claimsJSON),
		"kid a number":              raw(`{"alg":"ES256","kid":1}`, claimsJSON),
		"alg twice":                 raw(`{"alg":"HS256","alg":"ES256","kid":"`+kid+`"}`, claimsJSON),
		"exp a string":              raw(hdr+`}`, strings.Replace(claimsJSON, `"exp":`, `"exp":"9999999999","x":`, 1)),
		"iat a string":              raw(hdr+`}`, strings.Replace(claimsJSON, `"iat":`, `"iat":"0","x":`, 1)),
		"xid twice":                 raw(hdr+`}`, strings.TrimSuffix(claimsJSON, "}")+`,"xid":"1"}`),
		"alg none":                  sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil), kid),
		"HS256 with the public key": sign(jwt.SigningMethodHS256, devkey.PublicPEM, claims(nil), kid),
		"unknown kid":               sign(auth.ES256, other, claims(nil), "who-knows"),
		"another key, our kid":      sign(auth.ES256, other, claims(nil), kid),
		"no kid":                    sign(auth.ES256, other, claims(nil), ""),
		"expired":                   sign(auth.ES256, key, claims(func(c *auth.Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Hour)) }), kid),
		"no expiry":                 sign(auth.ES256, key, claims(func(c *auth.Claims) { c.ExpiresAt = nil }), kid),
		"nbf in the future":         sign(auth.ES256, key, claims(func(c *auth.Claims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Hour)) }), kid),
		"issued in the future":      sign(auth.ES256, key, claims(func(c *auth.Claims) { c.IssuedAt = jwt.NewNumericDate(now.Add(time.Hour)) }), kid),
		"wrong issuer":              sign(auth.ES256, key, claims(func(c *auth.Claims) { c.Issuer = "https://evil.example" }), kid),
		"wrong audience":            sign(auth.ES256, key, claims(func(c *auth.Claims) { c.Audience = jwt.ClaimStrings{"someone-else"} }), kid),
		"missing xid":               sign(auth.ES256, key, claims(func(c *auth.Claims) { c.XUID = "" }), kid),
		"missing sandbox":           sign(auth.ES256, key, claims(func(c *auth.Claims) { c.Sandbox = "" }), kid),
		"missing title":             sign(auth.ES256, key, claims(func(c *auth.Claims) { c.TitleID = "" }), kid),
		"missing userhash":          sign(auth.ES256, key, claims(func(c *auth.Claims) { c.UserHash = "" }), kid),
		"tampered payload":          parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2],
		"signature stripped":        parts[0] + "." + parts[1] + ".",
		"oversize token":            good + strings.Repeat("A", 10000),
		"junk after the token":      good + " junk",
	}
	headers := map[string]string{}
	for name, tok := range attacks {
		headers[name] = "XBL3.0 x=uhs;" + tok
	}
	headers["userhash mismatch"] = "XBL3.0 x=someone-else;" + good
	headers["no userhash"] = "XBL3.0 x=;" + good
	headers["lower-case scheme"] = "xbl3.0 x=uhs;" + good

	// The untouched token passes, so each refusal is the attack's doing.
	routes := []struct{ method, path, body string }{
		{"POST", "/batch", `{"requestedusers":["2533274792693551"],"requestedscids":[{"scid":"` + scidA + `","requestedstats":["OverallReputation"]}]}`},
		{"GET", "/users/xuid(2533274792693551)/scids/" + scidA + "/stats/OverallReputation", ""},
		{"POST", "/serviceconfigs/" + scidA + "/batch", `{"xuids":["2533274792693551"]}`},
		{"GET", "/serviceconfigs/" + scidA + "/sessions?xuid=2533274792693551", ""},
	}
	sum := &tally{name: "forged tokens"}
	for _, r := range routes {
		var body []byte
		if r.body != "" {
			body = []byte(r.body)
		}
		// The good token, its high-S twin, and the same claims signed as
		// written by raw.
		for _, tok := range []string{good, parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(twin), raw(hdr+`}`, claimsJSON)} {
			if status, _, got := send(t, r.method, base+r.path, body, [][2]string{{"Authorization", "XBL3.0 x=uhs;" + tok}, {"x-xbl-contract-version", cv(r.path)}}); status != 200 {
				t.Fatalf("%s %s with a good token: %d %s", r.method, r.path, status, got)
			}
		}
		for name, h := range headers {
			t.Run(r.method+" "+r.path[:min(len(r.path), 30)]+"/"+name, func(t *testing.T) {
				status, hd, got := send(t, r.method, base+r.path, body, [][2]string{{"Authorization", h}, {"x-xbl-contract-version", cv(r.path)}})
				if status != 401 || hd.Get("WWW-Authenticate") != "XBL3.0" || !strings.Contains(got, "unauthorized") {
					t.Errorf("%d %q %s, want 401", status, hd.Get("WWW-Authenticate"), got)
				}
				sum.record(t, status)
			})
		}
	}
	healthy(t)
	sum.report(t)
}

package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/golang-jwt/jwt/v5"
)

// A token is read one way only, and what the reader does not know is
// refused rather than ignored. Its header is a JSON object (no member
// twice, valid UTF-8) whose members are all JSON strings and among:
//
//   - alg: one of Algorithms;
//   - kid: not empty, when present;
//   - typ: the media type of a JWT ("JWT" or "application/jwt", or of an
//     OAuth access token, RFC 9068: "at+jwt", "application/at+jwt"; in any
//     case),
//     when present;
//   - x5t, x5t#S256: key thumbprints, informational (keys come only from
//     the key set, never from a token).
//
// Anything else is refused: crit (RFC 7515 §4.1.11: a recipient must reject
// a token listing extensions it does not understand, and this one
// understands none), b64 (RFC 7797's unencoded payload), jku, jwk, x5u and
// x5c (a token naming its own key), cty (a nested token), zip, enc, and any
// other name. Its claims are a JSON object with no member twice, whose
// registered and XSTS claims have their types: exp, nbf and iat numbers
// (never strings, never null) between 0 and the end of year 9999, aud a
// string or an array of strings, srv a boolean, the others strings. Claim
// names are matched exactly; a claim of another name is ignored (RFC 7519
// §4). An ECDSA signature has two valid forms, (R, S) and (R, N−S): both
// are accepted, as one token (see inspect), since identity providers and
// cloud signers make either.

// headerMembers are the header members a token may have; any other is
// refused.
var headerMembers = map[string]bool{"alg": true, "kid": true, "typ": true, "x5t": true, "x5t#S256": true}

// maxNumericDate is 9999-12-31T23:59:59Z, the last time a NumericDate may
// name.
const maxNumericDate = 253402300799

// joseHeader is a token's header as inspect reads it.
type joseHeader struct {
	Alg, Kid, Typ string
	HasKid        bool
}

// inspect reads token's header before anything else is done with it, and
// returns the token in its one canonical form: for an ECDSA algorithm, an
// ECDSA signature has two valid forms, (R, S) and (R, N−S), and the
// canonical token carries the low-S one. Both forms are accepted (identity
// providers and cloud signers make either, half the time each), and both
// are the same token: the verified-token cache keys by the canonical form,
// so that a twin is never a second token.
func inspect(token string) (string, error) {
	if strings.Count(token, ".") != 2 {
		return "", fail("format", "token is malformed", errors.New("not three segments"))
	}
	head, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.Strict().DecodeString(head)
	if err != nil {
		return "", fail("format", "token is malformed", err)
	}
	h, err := parseHeader(raw)
	if err != nil {
		return "", err
	}
	if c := curveOf(h.Alg); c != nil {
		dot := strings.LastIndexByte(token, '.')
		sig, err := base64.RawURLEncoding.Strict().DecodeString(token[dot+1:])
		if err != nil {
			return "", fail("format", "token is malformed", err)
		}
		if size := (c.Params().BitSize + 7) / 8; len(sig) == 2*size {
			if low := lowS(sig, c); !bytes.Equal(low, sig) {
				return token[:dot+1] + base64.RawURLEncoding.EncodeToString(low), nil
			}
		}
	}
	return token, nil
}

// jwtTypes are the typ values of a token this service reads, in lower case.
var jwtTypes = map[string]bool{"jwt": true, "application/jwt": true, "at+jwt": true, "application/at+jwt": true}

// parseHeader reads a token's decoded header (see the rules above).
func parseHeader(raw []byte) (*joseHeader, error) {
	var members map[string]jsontext.Value
	if err := jsonv2.Unmarshal(raw, &members); err != nil || members == nil {
		return nil, fail("format", "token header is malformed", err)
	}
	if _, ok := members["crit"]; ok {
		return nil, fail("header", "token header lists critical extensions", nil)
	}
	h := &joseHeader{}
	for name, v := range members {
		if !headerMembers[name] {
			return nil, fail("header", "token header has a parameter that is not accepted", fmt.Errorf("parameter %q", clip(name)))
		}
		if v.Kind() != '"' {
			return nil, fail("header", "token header has a parameter of the wrong type", fmt.Errorf("parameter %q is not a string", name))
		}
		var s string
		if err := jsonv2.Unmarshal(v, &s); err != nil {
			return nil, fail("format", "token header is malformed", err)
		}
		switch name {
		case "alg":
			h.Alg = s
		case "kid":
			h.Kid, h.HasKid = s, true
		case "typ":
			h.Typ = s
		}
	}
	if _, ok := members["alg"]; !ok || !acceptedAlg(h.Alg) {
		return nil, fail("algorithm", "token algorithm is not accepted", fmt.Errorf("alg %q", clip(h.Alg)))
	}
	if h.HasKid && h.Kid == "" {
		return nil, fail("kid", "token has an empty kid", nil)
	}
	if _, ok := members["typ"]; ok && !jwtTypes[strings.ToLower(h.Typ)] {
		return nil, fail("header", "token type is not JWT", fmt.Errorf("typ %q", clip(h.Typ)))
	}
	return h, nil
}

func acceptedAlg(alg string) bool {
	for _, a := range Algorithms {
		if a == alg {
			return true
		}
	}
	return false
}

// clip bounds text from a token for an error's cause (logged, never
// answered).
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// curveOf is the curve of an accepted ECDSA algorithm, nil for others.
func curveOf(alg string) elliptic.Curve {
	switch alg {
	case "ES256":
		return elliptic.P256()
	case "ES384":
		return elliptic.P384()
	}
	return nil
}

// halfOrder is N/2 of each curve curveOf names: a signature's S above it
// is the high form.
var halfOrder = map[elliptic.Curve]*big.Int{
	elliptic.P256(): new(big.Int).Rsh(elliptic.P256().Params().N, 1),
	elliptic.P384(): new(big.Int).Rsh(elliptic.P384().Params().N, 1),
}

// ecdsaLowS signs as its ECDSA method does, then puts the signature in its
// low-S form, the only one Verify accepts.
type ecdsaLowS struct {
	*jwt.SigningMethodECDSA
}

// ES256 and ES384 are golang-jwt's ECDSA signing methods with S
// normalised to at most N/2, the canonical form: the tokens this service's
// tools mint (jwt.NewWithClaims(auth.ES256, claims)) have one signature.
// Verify accepts either form.
var (
	ES256 jwt.SigningMethod = ecdsaLowS{jwt.SigningMethodES256}
	ES384 jwt.SigningMethod = ecdsaLowS{jwt.SigningMethodES384}
)

// Sign implements jwt.SigningMethod.
func (m ecdsaLowS) Sign(signingString string, key any) ([]byte, error) {
	sig, err := m.SigningMethodECDSA.Sign(signingString, key)
	if err != nil {
		return nil, err
	}
	k, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("auth: ECDSA signing needs an *ecdsa.PrivateKey")
	}
	return lowS(sig, k.Curve), nil
}

// lowS returns sig (R‖S) with S replaced by N−S when S is above N/2.
func lowS(sig []byte, c elliptic.Curve) []byte {
	size := len(sig) / 2
	s := new(big.Int).SetBytes(sig[size:])
	if s.Cmp(halfOrder[c]) <= 0 {
		return sig
	}
	s.Sub(c.Params().N, s)
	out := make([]byte, len(sig))
	copy(out, sig[:size])
	s.FillBytes(out[size:])
	return out
}

// claimKinds are the JSON kinds of the claims Claims reads: '"' string,
// '0' number, 't' boolean ('f' too); aud is checked apart.
var claimKinds = map[string]jsontext.Kind{
	"xid": '"', "uhs": '"', "gtg": '"', "tid": '"', "did": '"', "sbx": '"',
	"iss": '"', "sub": '"', "jti": '"',
	"srv": 't',
	"exp": '0', "nbf": '0', "iat": '0',
}

// plainClaims is Claims without its UnmarshalJSON.
type plainClaims Claims

// UnmarshalJSON reads a token's claims by the rules above: no member twice,
// names matched exactly, each claim it knows of its type.
func (c *Claims) UnmarshalJSON(b []byte) error {
	var members map[string]jsontext.Value
	if err := jsonv2.Unmarshal(b, &members); err != nil {
		return err
	}
	if members == nil {
		return errors.New("claims are not a JSON object")
	}
	for name, v := range members {
		if err := checkClaim(name, v); err != nil {
			return err
		}
	}
	*c = Claims{}
	return jsonv2.Unmarshal(b, (*plainClaims)(c))
}

// checkClaim checks the type of a claim Claims reads, and the range of a
// NumericDate: a JSON number of seconds since the epoch, from 0 to
// maxNumericDate, fractions allowed.
func checkClaim(name string, v jsontext.Value) error {
	if name == "aud" {
		return checkAudience(v)
	}
	want, ok := claimKinds[name]
	if !ok {
		return nil
	}
	got := v.Kind()
	if got == 'f' {
		got = 't'
	}
	if got != want {
		return fmt.Errorf("claim %q is not a %s", name, kindName(want))
	}
	if want == '0' {
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || f < 0 || f > maxNumericDate {
			return fmt.Errorf("claim %q is not a time from 1970 to 9999", name)
		}
	}
	return nil
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case '0':
		return "number"
	}
	return "boolean"
}

// checkAudience checks aud: a string, or an array of strings.
func checkAudience(v jsontext.Value) error {
	bad := errors.New(`claim "aud" is not a string or an array of strings`)
	switch v.Kind() {
	case '"':
		return nil
	case '[':
		var ss []jsontext.Value
		if err := jsonv2.Unmarshal(v, &ss); err != nil {
			return err
		}
		for _, e := range ss {
			if e.Kind() != '"' {
				return bad
			}
		}
		return nil
	}
	return bad
}

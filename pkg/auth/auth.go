// Package auth verifies the XBL3.0 Authorization header: it parses
// "XBL3.0 x=<userhash>;<token>", reads the token's header and claims
// strictly (what it does not know is refused: see jose.go), checks its
// signature against trusted keys, its algorithm, validity window, issuer and
// audience, and that the header's userhash is the token's own, and yields
// the caller's claims.
package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/xblread/xblread/pkg/derrors"
	"github.com/xblread/xblread/pkg/xbl"
)

// Scheme is the authorization scheme the service accepts.
const Scheme = "XBL3.0"

// MaxHeaderBytes bounds the Authorization header; longer ones are refused
// before any parsing.
const MaxHeaderBytes = 8 << 10

// Leeway is the clock skew tolerated on exp and nbf.
const Leeway = 30 * time.Second

// Algorithms are the only signing algorithms accepted.
var Algorithms = []string{"ES256", "ES384", "RS256", "PS256"}

// Claims are the token's claims, mirroring an XSTS token's.
type Claims struct {
	XUID     string `json:"xid"`
	UserHash string `json:"uhs"`
	Gamertag string `json:"gtg,omitempty"`
	TitleID  string `json:"tid"`
	DeviceID string `json:"did,omitempty"`
	Sandbox  string `json:"sbx"`
	// Server marks a caller with server-level access.
	Server bool `json:"srv,omitempty"`
	jwt.RegisteredClaims
}

// Error is an authentication failure. Check names the check that failed,
// for logs; Reason is safe to show the caller.
type Error struct {
	Check  string
	Reason string
	Err    error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("auth %s: %s: %v", e.Check, e.Reason, e.Err)
	}
	return fmt.Sprintf("auth %s: %s", e.Check, e.Reason)
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Kind makes every authentication failure derrors.Unauthenticated.
func (e *Error) Kind() derrors.Kind { return derrors.Unauthenticated }

// Public is the message the caller sees.
func (e *Error) Public() string { return "unauthorized: " + e.Reason }

func fail(check, reason string, err error) *Error {
	return &Error{Check: check, Reason: reason, Err: err}
}

// ParseHeader splits an Authorization header value into its userhash (the
// text between the first '=' and the first ';') and token (everything after
// the first ';').
func ParseHeader(h string) (userhash, token string, err error) {
	if h == "" {
		return "", "", fail("header", "missing Authorization header", nil)
	}
	if len(h) > MaxHeaderBytes {
		return "", "", fail("size", "Authorization header is too large", nil)
	}
	rest, ok := strings.CutPrefix(h, Scheme+" x=")
	if !ok {
		return "", "", fail("header", `Authorization header must be "XBL3.0 x=<userhash>;<token>"`, nil)
	}
	userhash, token, ok = strings.Cut(rest, ";")
	if !ok || userhash == "" || token == "" {
		return "", "", fail("header", `Authorization header must be "XBL3.0 x=<userhash>;<token>"`, nil)
	}
	return userhash, token, nil
}

// Verifier checks Authorization headers against a set of trusted keys.
type Verifier struct {
	keys   *KeySet
	parser *jwt.Parser
	cache  tokenCache
}

// NewVerifier returns a Verifier that trusts keys and requires the given
// issuer and audience. Token segments must be strict base64url (no
// padding, zero padding bits).
func NewVerifier(keys *KeySet, issuer, audience string) (*Verifier, error) {
	if keys == nil || keys.Len() == 0 {
		return nil, errors.New("auth: no verification keys configured")
	}
	if issuer == "" || audience == "" {
		return nil, errors.New("auth: issuer and audience must be configured")
	}
	return &Verifier{
		keys: keys,
		parser: jwt.NewParser(
			jwt.WithValidMethods(Algorithms),
			jwt.WithIssuer(issuer),
			jwt.WithAudience(audience),
			jwt.WithLeeway(Leeway),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			// One encoding per token: a token whose segments have non-zero
			// padding bits is refused, not taken for its canonical twin.
			jwt.WithStrictDecoding(),
		),
	}, nil
}

// cached is the caller of a token verified before, if the cache holds it
// (ok): the caller, or the error of a header whose userhash is not the
// token's.
func (v *Verifier) cached(token, userhash string, gen uint64) (*xbl.Caller, bool, error) {
	c, ok := v.cache.get(token, time.Now(), gen)
	switch {
	case !ok:
		return nil, false, nil
	case c.UserHash != userhash:
		return nil, true, fail("userhash", "userhash in the header does not match the token", nil)
	}
	return &c, true, nil
}

// Verify checks an Authorization header value and returns the caller. Every
// failure is an *Error.
func (v *Verifier) Verify(header string) (*xbl.Caller, error) {
	userhash, token, err := ParseHeader(header)
	if err != nil {
		return nil, err
	}
	gen := v.keys.generation()
	if c, ok, err := v.cached(token, userhash, gen); ok {
		return c, err
	}
	canonical, err := inspect(token)
	if err != nil {
		return nil, err
	}
	if canonical != token { // the high-S twin of a token: the same token
		if c, ok, err := v.cached(canonical, userhash, gen); ok {
			return c, err
		}
	}
	var c Claims
	if _, err := v.parser.ParseWithClaims(token, &c, v.keys.keyFunc); err != nil {
		return nil, classify(err)
	}
	if c.UserHash != userhash {
		return nil, fail("userhash", "userhash in the header does not match the token", nil)
	}
	var missing []string
	for _, f := range []struct{ name, val string }{{"xid", c.XUID}, {"uhs", c.UserHash}, {"tid", c.TitleID}, {"sbx", c.Sandbox}} {
		if f.val == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fail("claims", "token lacks required claims", fmt.Errorf("missing %s", strings.Join(missing, ", ")))
	}
	x, err := xbl.ParseXUID(c.XUID)
	if err != nil {
		return nil, fail("claims", "token has an invalid xid claim", err)
	}
	caller := xbl.Caller{
		XUID: x, UserHash: c.UserHash, Gamertag: c.Gamertag, TitleID: c.TitleID,
		DeviceID: c.DeviceID, Sandbox: c.Sandbox, Server: c.Server,
	}
	v.cache.put(canonical, caller, c.ExpiresAt.Time, gen)
	return &caller, nil
}

// classify turns a jwt error into an *Error naming the failed check.
func classify(err error) *Error {
	var ae *Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fail("format", "token is malformed", err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return fail("signature", "token signature is invalid", err)
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return fail("algorithm", "token cannot be verified", err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return fail("exp", "token has expired", err)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return fail("nbf", "token is not valid yet", err)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return fail("iss", "token issuer is not trusted", err)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return fail("aud", "token audience is not this service", err)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return fail("claims", "token lacks required claims", err)
	}
	return fail("token", "token is invalid", err)
}

type ctxKey struct{}

// NewContext returns a context carrying the caller.
func NewContext(ctx context.Context, c *xbl.Caller) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// FromContext returns the caller stored in ctx, if any.
func FromContext(ctx context.Context) (*xbl.Caller, bool) {
	c, ok := ctx.Value(ctxKey{}).(*xbl.Caller)
	return c, ok
}

package app

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
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

// TestLambdaTakesDecodedPaths: API Gateway's HTTP API hands rawPath
// percent-decoded; whatever characters it holds, the invocation succeeds
// and the handler sees the path the caller meant.
func TestLambdaTakesDecodedPaths(t *testing.T) {
	h := Lambda(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.URL.Path))
	}))
	for _, path := range []string{
		"/users/xuid(1)/scids/s/stats/a b", "/stats/100%", "/stats/a?b", "/stats/a#b", "/stats/\x01\x7f", "/stats/é/%zz", "/plain/path",
	} {
		ev := events.APIGatewayV2HTTPRequest{RawPath: path, RawQueryString: "x=1"}
		ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = "GET", path
		resp, err := h(context.Background(), ev)
		if err != nil || resp.StatusCode != 200 || resp.Body != path {
			t.Errorf("%q: %v %d %q", path, err, resp.StatusCode, resp.Body)
		}
	}
	if got := EscapePath("/a b/c%d"); got != "/a%20b/c%25d" {
		t.Errorf("EscapePath = %q", got)
	}
}

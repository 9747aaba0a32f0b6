package app

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	stdjson "encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/xblread/xblread/infra/devkey"
)

func TestNewVerifierConfig(t *testing.T) {
	ctx := context.Background()
	// Local: the development key is refused otherwise (see
	// TestNewVerifierRefusesDevKey).
	good := Config{PEM: string(devkey.PublicPEM), Issuer: devkey.Issuer, Audience: devkey.Audience, Local: true}
	if _, err := NewVerifier(ctx, good, nil); err != nil {
		t.Errorf("good config: %v", err)
	}
	for name, c := range map[string]Config{
		"no keys":     {Issuer: "i", Audience: "a"},
		"bad PEM":     {PEM: "not a key", Issuer: "i", Audience: "a"},
		"bad JWKS":    {JWKS: "{", Issuer: "i", Audience: "a"},
		"no issuer":   {PEM: good.PEM, Audience: "a", Local: true},
		"no audience": {PEM: good.PEM, Issuer: "i", Local: true},
	} {
		if _, err := NewVerifier(ctx, c, nil); err == nil {
			t.Errorf("%s: NewVerifier succeeded", name)
		}
	}
}

// devJWKS is the development key as a JWKS document, under a kid that
// does not give it away.
func devJWKS(t *testing.T) string {
	t.Helper()
	k, err := devkey.Key()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := k.PublicKey.Bytes()
	return fmt.Sprintf(`{"keys":[{"kty":"EC","crv":"P-256","kid":"prod-2024","use":"sig","x":%q,"y":%q}]}`,
		base64.RawURLEncoding.EncodeToString(raw[1:33]), base64.RawURLEncoding.EncodeToString(raw[33:]))
}

// TestNewVerifierRefusesDevKey: a function not marked local refuses to
// start when any key source includes the development key, and says what
// to do; a local one trusts it.
func TestNewVerifierRefusesDevKey(t *testing.T) {
	ctx := context.Background()
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&other.PublicKey)
	otherPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	jwks := devJWKS(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(jwks)) }))
	defer srv.Close()
	for _, tt := range []struct {
		name   string
		c      Config
		source string // the variable the error names; "" for success
	}{
		{"PEM", Config{PEM: string(devkey.PublicPEM)}, "AUTH_PUBLIC_KEYS"},
		{"PEM beside another key", Config{PEM: otherPEM + string(devkey.PublicPEM)}, "AUTH_PUBLIC_KEYS"},
		{"JWKS", Config{JWKS: jwks}, "AUTH_JWKS"},
		{"JWKS URL", Config{JWKSURL: srv.URL}, "AUTH_JWKS_URL"},
		{"another key", Config{PEM: otherPEM}, ""},
		{"PEM, local", Config{PEM: string(devkey.PublicPEM), Local: true}, ""},
		{"JWKS, local", Config{JWKS: jwks, Local: true}, ""},
		{"JWKS URL, local", Config{JWKSURL: srv.URL, Local: true}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.Issuer, tt.c.Audience = devkey.Issuer, devkey.Audience
			_, err := NewVerifier(ctx, tt.c, nil)
			if tt.source == "" {
				if err != nil {
					t.Errorf("NewVerifier: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("NewVerifier trusted the development key")
			}
			for _, want := range []string{tt.source, "development key", "AWS_SAM_LOCAL=true"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not say %q: %v", want, err)
				}
			}
		})
	}
}

func TestConfigFromEnvLocal(t *testing.T) {
	for _, tt := range []struct {
		val  string
		set  bool
		want bool
	}{
		{"true", true, true},
		{"", false, false},
		{"", true, false},
		{"1", true, false},
		{"false", true, false},
	} {
		t.Run(fmt.Sprintf("%q set=%v", tt.val, tt.set), func(t *testing.T) {
			t.Setenv("AWS_SAM_LOCAL", tt.val)
			if !tt.set {
				os.Unsetenv("AWS_SAM_LOCAL")
			}
			c, err := ConfigFromEnv()
			if err != nil {
				t.Fatal(err)
			}
			if c.Local != tt.want {
				t.Errorf("Local = %v, want %v", c.Local, tt.want)
			}
		})
	}
}

// TestNewVerifierLogs: the logger given to NewVerifier receives the key
// set's lines (here, a JWKS key skipped).
func TestNewVerifierLogs(t *testing.T) {
	var logs bytes.Buffer
	jwks := strings.Replace(devJWKS(t), `"keys":[`, `"keys":[{"kty":"EC","kid":"broken-key","crv":"P-521","x":"AA","y":"AA"},`, 1)
	c := Config{JWKS: jwks, Issuer: "i", Audience: "a", Local: true}
	if _, err := NewVerifier(context.Background(), c, slog.New(slog.NewJSONHandler(&logs, nil))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "broken-key") {
		t.Errorf("no log line names the skipped key: %q", logs.String())
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

// echoEvent answers with what the handler saw of the request, and headers
// and a body that need escaping, so that any difference in how events are
// read or responses written shows.
var echoEvent = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("ETag", `"<&>"`)
	w.Header().Add("X-Multi", "a")
	w.Header().Add("X-Multi", "b")
	w.WriteHeader(201)
	fmt.Fprintf(w, "%s %s %q %q %q <&> \u2028 \xff", r.Method, r.URL.String(), r.Header, r.RemoteAddr, body)
})

// reflected is h as aws-lambda-go calls a plain handler function: the event
// read, and the response written, by reflection with encoding/json.
func reflected(h LambdaHandler) lambda.Handler {
	return lambda.NewHandler(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return h(ctx, ev)
	})
}

// TestInvokeAsAWSLambdaGo holds LambdaHandler.Invoke to what aws-lambda-go
// does with a handler function: the same response, byte for byte, for
// every sample event of the template's functions and for odd ones, and a
// failed invocation for a payload that is not an event.
func TestInvokeAsAWSLambdaGo(t *testing.T) {
	h := Lambda(echoEvent)
	fast, slow := lambda.NewHandler(h), reflected(h)
	paths, err := filepath.Glob("../../functions/*/events/*.json")
	if err != nil || len(paths) < 10 {
		t.Fatalf("sample events: %v %v", paths, err)
	}
	payloads := map[string][]byte{
		"empty object":    []byte(`{}`),
		"escapes":         []byte(`{"rawPath":"/a\u0000b/\ud83d\ude00","headers":{"X-Odd":"\"\\\/\b\f\n\r\t"},"body":"\u2028<&>","isBase64Encoded":false}`),
		"base64 body":     []byte(`{"rawPath":"/b","requestContext":{"http":{"method":"POST"}},"body":"AAEC/w==","isBase64Encoded":true}`),
		"upper case":      []byte(`{"RAWPATH":"/c","Headers":{"a":"b"}}`),
		"null members":    []byte(`{"headers":null,"cookies":null,"pathParameters":null,"body":null}`),
		"request context": []byte(`{"requestContext":{"authorizer":{"jwt":{"claims":{"sub":"x"},"scopes":["a"]},"lambda":{"n":1.5,"s":"t","o":{"a":[1,null]}}},"timeEpoch":1764590400000,"http":{"sourceIp":"1.2.3.4"}},"stageVariables":{"s":"v"},"queryStringParameters":{"q":"1"}}`),
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		payloads[p] = b
	}
	for name, payload := range payloads {
		t.Run(name, func(t *testing.T) {
			// The event itself, every field (the echo shows only some).
			var byStd, byInvoke events.APIGatewayV2HTTPRequest
			if err := stdjson.Unmarshal(payload, &byStd); err != nil {
				t.Fatal(err)
			}
			if err := jsonv2.Unmarshal(payload, &byInvoke, eventJSON); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(byStd, byInvoke) {
				t.Errorf("events differ:\nencoding/json %+v\nInvoke's      %+v", byStd, byInvoke)
			}
			want, werr := slow.Invoke(context.Background(), payload)
			want = bytes.Clone(want) // aws-lambda-go reuses its buffer
			got, gerr := fast.Invoke(context.Background(), payload)
			if werr != nil || gerr != nil {
				t.Fatalf("errors: reflection %v, Invoke %v", werr, gerr)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Invoke:\n%s\nreflection:\n%s", got, want)
			}
		})
	}
	for _, payload := range []string{``, `[]`, `{"rawPath":1}`, `{"headers":{"a":1}}`, `{"body":"x"`, `nul`} {
		if _, err := fast.Invoke(context.Background(), []byte(payload)); err == nil {
			t.Errorf("%q: no error", payload)
		}
		if _, err := slow.Invoke(context.Background(), []byte(payload)); err == nil {
			t.Errorf("%q: aws-lambda-go finds no error either: the case proves nothing", payload)
		}
	}
}

// BenchmarkInvoke weighs LambdaHandler.Invoke against aws-lambda-go's
// reflection for the statistics write's sample event: why Invoke exists.
func BenchmarkInvoke(b *testing.B) {
	payload, err := os.ReadFile("../../functions/statswrite/events/post.json")
	if err != nil {
		b.Fatal(err)
	}
	h := Lambda(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("{}"))
	}))
	for name, fn := range map[string]lambda.Handler{"Invoke": lambda.NewHandler(h), "reflection": reflected(h)} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := fn.Invoke(context.Background(), payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package lambdart

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/infra/devstack"
	"github.com/xblread/xblread/pkg/store"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambdart")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := ddbtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// build compiles a function's bootstrap for this machine with the flags
// the Lambda build uses, once per test run.
func build(t *testing.T, name string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if out, ok := built[name]; ok {
		return out
	}
	out := filepath.Join(binDir, name, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s", "-o", out, "../../functions/"+name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, b)
	}
	built[name] = out
	return out
}

// runtimeFor builds the named function and starts a Runtime API for it,
// closed when the test ends.
func runtimeFor(t *testing.T, name string) (bin string, rt *Server) {
	t.Helper()
	bin = build(t, name)
	rt, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	return bin, rt
}

// lambdaEnv is the environment Lambda gives a function, plus the
// function's own variables. The function trusts the development key (the
// sample events are signed with it), so the environment says it is local,
// as sam local's does (AWS_SAM_LOCAL=true); extra entries override.
func lambdaEnv(t *testing.T, rt *Server, name, table string, extra ...string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"AWS_LAMBDA_RUNTIME_API=" + rt.Addr,
		"AWS_LAMBDA_FUNCTION_NAME=xblread-test-" + name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512",
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		"AWS_LAMBDA_LOG_LEVEL=INFO",
		"AWS_REGION=us-east-1",
		"_HANDLER=bootstrap",
		"TABLE_NAME=" + table,
		store.EndpointEnv + "=" + ddbtest.Endpoint(t),
		"AUTH_ISSUER=" + devkey.Issuer,
		"AUTH_AUDIENCE=" + devkey.Audience,
		"AUTH_PUBLIC_KEYS=" + string(devkey.PublicPEM),
		"AWS_SAM_LOCAL=true",
	}
	return append(env, extra...)
}

// TestBootstrapServesInvocations runs each function's real binary against
// the Runtime API: start-up, then its sample events, answered from
// DynamoDB Local.
func TestBootstrapServesInvocations(t *testing.T) {
	st := ddbtest.EmptyTable(t)
	ddbtest.Load(t, st, "../fixtures/demo.json")
	for _, fn := range devstack.Functions {
		t.Run(fn.Name, func(t *testing.T) {
			bin, rt := runtimeFor(t, fn.Name)
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bin)
			cmd.Env = lambdaEnv(t, rt, fn.Name, st.Name)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()

			files, _ := filepath.Glob(filepath.Join("..", "..", "functions", fn.Name, "events", "*.json"))
			for _, file := range files {
				payload, _ := os.ReadFile(file)
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				res, err := rt.Invoke(ctx, payload, 6*time.Second)
				cancel()
				if err != nil {
					t.Fatalf("%s: %v\nstderr: %s", filepath.Base(file), err, stderr.String())
				}
				if res.Error != "" {
					t.Fatalf("%s: function error %s: %s", filepath.Base(file), res.Error, res.Payload)
				}
				var resp events.APIGatewayV2HTTPResponse
				if err := json.Unmarshal(res.Payload, &resp); err != nil {
					t.Fatalf("%s: response is not a payload 2.0 response: %s", filepath.Base(file), res.Payload)
				}
				var ev events.APIGatewayV2HTTPRequest
				if err := json.Unmarshal(payload, &ev); err != nil {
					t.Fatalf("%s: %v", filepath.Base(file), err)
				}
				want := devstack.SampleEventStatus(ev.RequestContext.HTTP.Method, ev.Headers)
				if resp.StatusCode != want || resp.Headers["X-Request-Id"] != fmt.Sprintf("00000000-0000-4000-8000-%012d", 1+slices.Index(files, file)) {
					t.Errorf("%s: %d (want %d), request id %q: %s", filepath.Base(file), resp.StatusCode, want, resp.Headers["X-Request-Id"], resp.Body)
				}
			}
			// The process served several invocations and keeps waiting for more.
			if cmd.ProcessState != nil {
				t.Fatalf("the function exited: %s", stderr.String())
			}
			cmd.Process.Kill()
			cmd.Wait()
			logs := stdout.String()
			if !strings.Contains(logs, `"_aws":`) || !strings.Contains(logs, `"requestId":"00000000-0000-4000-8000-000000000001"`) {
				t.Errorf("no EMF record or request-scoped log line on stdout:\n%s", logs)
			}
		})
	}
}

// TestBootstrapRefusesToStartUnconfigured starts a function without token
// keys: it must exit at once and say why.
func TestBootstrapRefusesToStartUnconfigured(t *testing.T) {
	bin, rt := runtimeFor(t, "statsbatch")
	cmd := exec.Command(bin)
	cmd.Env = lambdaEnv(t, rt, "statsbatch", "t", "AUTH_PUBLIC_KEYS=")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("the function started without token keys")
	}
	if !strings.Contains(string(out), "no token keys configured") {
		t.Errorf("output does not say why: %s", out)
	}
}

// TestBootstrapRefusesTheDevKeyWhenDeployed starts a function that trusts
// the development key without the local marker, as a deployment
// misconfigured with infra/sam/env.json's keys would: it must exit at once
// and say what to do. Through each key source, and with the marker set to
// something other than "true".
func TestBootstrapRefusesTheDevKeyWhenDeployed(t *testing.T) {
	k, err := devkey.Key()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := k.PublicKey.Bytes()
	jwks := fmt.Sprintf(`{"keys":[{"kty":"EC","crv":"P-256","kid":"prod-1","x":%q,"y":%q}]}`,
		base64.RawURLEncoding.EncodeToString(raw[1:33]), base64.RawURLEncoding.EncodeToString(raw[33:]))
	bin, rt := runtimeFor(t, "statsbatch")
	for _, tt := range []struct {
		name  string
		extra []string
	}{
		{"PEM, no marker", []string{"AWS_SAM_LOCAL="}},
		{"PEM, marker not true", []string{"AWS_SAM_LOCAL=1"}},
		{"JWKS", []string{"AWS_SAM_LOCAL=", "AUTH_PUBLIC_KEYS=", "AUTH_JWKS=" + jwks}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin)
			cmd.Env = lambdaEnv(t, rt, "statsbatch", "t", tt.extra...)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatal("the function started trusting the development key")
			}
			for _, want := range []string{"development key", "AWS_SAM_LOCAL=true"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("output does not say %q: %s", want, out)
				}
			}
		})
	}
}

// TestBootstrapHoldsNoDevPrivateKey: the function binaries carry the
// development key's thumbprint at most, never its private half.
func TestBootstrapHoldsNoDevPrivateKey(t *testing.T) {
	k, err := devkey.Key()
	if err != nil {
		t.Fatal(err)
	}
	d, err := k.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	pemFile, err := os.ReadFile("../devkey/devkey.pem")
	if err != nil {
		t.Fatal(err)
	}
	needles := [][]byte{d}
	for line := range bytes.Lines(pemFile) {
		if line = bytes.TrimSpace(line); len(line) > 0 && !bytes.HasPrefix(line, []byte("-----")) {
			needles = append(needles, line)
		}
	}
	for _, fn := range devstack.Functions {
		b, err := os.ReadFile(build(t, fn.Name))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("%s's binary holds the development private key (%.12q...)", fn.Name, n)
			}
		}
	}
}

// TestBootstrapReportsInvocationErrors sends an event the adapter cannot
// turn into a request (a body that claims base64 and is not): the function
// reports the error on the Runtime API's error endpoint and keeps serving.
func TestBootstrapReportsInvocationErrors(t *testing.T) {
	bin, rt := runtimeFor(t, "statsbatch")
	cmd := exec.Command(bin)
	cmd.Env = lambdaEnv(t, rt, "statsbatch", "t")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	bad := []byte(`{"version":"2.0","routeKey":"POST /batch","rawPath":"/batch","body":"%%% not base64","isBase64Encoded":true,
		"requestContext":{"http":{"method":"POST","path":"/batch"},"domainName":"x"}}`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := rt.Invoke(ctx, bad, 6*time.Second)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if res.Error == "" {
		t.Fatalf("the function answered %s; want an error report", res.Payload)
	}
	// Still serving: a well-formed event without a token is a 401 response.
	res, err = rt.Invoke(ctx, []byte(`{"version":"2.0","routeKey":"POST /batch","rawPath":"/batch","body":"{}",
		"requestContext":{"http":{"method":"POST","path":"/batch"},"domainName":"x"}}`), 6*time.Second)
	if err != nil || res.Error != "" || !strings.Contains(string(res.Payload), `"statusCode":401`) {
		t.Errorf("after the error: %v %s %s", err, res.Error, res.Payload)
	}
}

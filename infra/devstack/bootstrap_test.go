package devstack

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/xblread/xblread/infra/ddblocal/ddbtest"
	"github.com/xblread/xblread/infra/devkey"
	"github.com/xblread/xblread/infra/rie"
	"github.com/xblread/xblread/infra/testkit"
)

// repoRoot is the repository's root, from this package's directory.
const repoRoot = "../.."

// linesOf returns the lines the function with logical id wrote to log,
// without their prefix.
func linesOf(log, id string) []string {
	var out []string
	for line := range strings.Lines(log) {
		if s, ok := strings.CutPrefix(line, "["+id+"] "); ok {
			out = append(out, strings.TrimSuffix(s, "\n"))
		}
	}
	return out
}

// waitForLog waits until the log holds s: the pool copies the emulator's
// output as it comes, after the invocation may have returned.
func waitForLog(t *testing.T, log *testkit.SyncBuffer, s string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(log.String(), s) {
			return
		}
	}
	t.Fatalf("the log never said %q:\n%s", s, log.String())
}

// emulatedPools builds the emulator and the bootstraps of the functions
// named by logical id, into a directory of the test's (Go's build cache
// makes every build after the run's first quick), and returns each one's
// pool, running it with the template's environment and
// infra/sam/env.json's values (as `make run` does), on table at
// DynamoDB Local, with fixed over everything; and the functions' log. The
// pools are closed when the test ends. Skipped with -short: no emulator,
// no DynamoDB Local.
func emulatedPools(t *testing.T, table string, fixed map[string]string, ids ...string) (map[string]*rie.Pool, *testkit.SyncBuffer) {
	t.Helper()
	endpoint := ddbtest.Endpoint(t) // skips with -short
	tmpl, err := LoadTemplate(filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	vars, err := rie.ReadEnvFile(filepath.Join(repoRoot, EnvVarsFile))
	if err != nil {
		t.Fatal(err)
	}
	log := &testkit.SyncBuffer{}
	fns, err := EmulatedFunctions(context.Background(), tmpl, table, endpoint, Emulated{
		Root: repoRoot, BinDir: t.TempDir(), EnvVars: vars, Fixed: fixed, Log: log,
	}, ids...)
	if err != nil {
		t.Fatal(err)
	}
	pools := map[string]*rie.Pool{}
	for id, f := range fns {
		p := f.Invoker.(*rie.Pool)
		t.Cleanup(p.Close)
		pools[id] = p
	}
	for _, id := range ids {
		if pools[id] == nil {
			t.Fatalf("the template has no function %s", id)
		}
	}
	return pools, log
}

// invoke sends one event to the pool.
func invoke(p *rie.Pool, requestID string, payload []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return p.Invoke(ctx, requestID, payload)
}

// sampleRequestID is the request id of a function's n-th sample event
// (from 1).
func sampleRequestID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// TestBootstrapServesInvocations runs each function's real bootstrap under
// the Runtime Interface Emulator, with the template's environment: its
// sample events, in the order of their file names, from one warm
// instance, answered from DynamoDB Local; Lambda's START, END and REPORT
// lines (Init Duration on the cold start only), an EMF record and a
// request-scoped log line in its log.
func TestBootstrapServesInvocations(t *testing.T) {
	st := ddbtest.EmptyTable(t)
	ddbtest.Load(t, st, filepath.Join("..", "fixtures", "demo.json"))
	var ids []string
	for _, fn := range Functions {
		ids = append(ids, fn.LogicalID)
	}
	pools, log := emulatedPools(t, st.Name, nil, ids...)
	for _, fn := range Functions {
		t.Run(fn.Name, func(t *testing.T) {
			p := pools[fn.LogicalID]
			files, _ := filepath.Glob(filepath.Join(repoRoot, "functions", fn.Name, "events", "*.json"))
			if len(files) == 0 {
				t.Fatal("no sample events")
			}
			for i, file := range files {
				name, id := filepath.Base(file), sampleRequestID(i+1)
				payload, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				out, err := invoke(p, id, payload)
				if err != nil {
					t.Fatalf("%s: %v\n%s", name, err, log.String())
				}
				var resp events.APIGatewayV2HTTPResponse
				if err := json.Unmarshal(out, &resp); err != nil {
					t.Fatalf("%s: the answer is not a payload 2.0 response: %.300s", name, out)
				}
				var ev events.APIGatewayV2HTTPRequest
				if err := json.Unmarshal(payload, &ev); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				want := SampleEventStatus(ev.RouteKey, ev.Headers)
				if resp.StatusCode != want || resp.Headers["X-Request-Id"] != id {
					t.Errorf("%s: %d (want %d), request id %q (want %q): %s", name, resp.StatusCode, want, resp.Headers["X-Request-Id"], id, resp.Body)
				}
			}
			// One instance served them all and waits for more.
			if running, idle := p.Instances(); running != 1 || idle != 1 {
				t.Errorf("%d instances running, %d idle; want one warm instance", running, idle)
			}
			last := sampleRequestID(len(files))
			waitForLog(t, log, "["+fn.LogicalID+"] REPORT RequestId: "+last+"\t")
			lines := linesOf(log.String(), fn.LogicalID)
			has := func(pred func(string) bool) bool {
				for _, l := range lines {
					if pred(l) {
						return true
					}
				}
				return false
			}
			if !has(func(l string) bool { return strings.Contains(l, `"_aws":`) }) {
				t.Errorf("no EMF record in the log:\n%s", strings.Join(lines, "\n"))
			}
			if !has(func(l string) bool { return strings.Contains(l, `"requestId":"`+sampleRequestID(1)+`"`) }) {
				t.Errorf("no log line of request %s:\n%s", sampleRequestID(1), strings.Join(lines, "\n"))
			}
			for i := range files {
				id := sampleRequestID(i + 1)
				for _, prefix := range []string{"START RequestId: " + id + " ", "END RequestId: " + id} {
					if !has(func(l string) bool { return strings.HasPrefix(l, prefix) }) {
						t.Errorf("no %q line", prefix)
					}
				}
				var report string
				for _, l := range lines {
					if strings.HasPrefix(l, "REPORT RequestId: "+id+"\t") {
						report = l
					}
				}
				switch {
				case report == "":
					t.Errorf("no REPORT line for %s", id)
				case strings.Contains(report, "Init Duration: ") != (i == 0):
					t.Errorf("Init Duration must be on the first invocation only: %q", report)
				}
			}
		})
	}
}

// TestBootstrapRefusesToStartUnconfigured starts a function without token
// keys: its bootstrap must exit at init, failing the invocation, and say
// why.
func TestBootstrapRefusesToStartUnconfigured(t *testing.T) {
	pools, log := emulatedPools(t, "t", map[string]string{"AUTH_PUBLIC_KEYS": ""}, "StatsBatchFunction")
	out, err := invoke(pools["StatsBatchFunction"], "unconfigured", []byte(`{}`))
	if !errors.Is(err, rie.ErrExited) {
		t.Fatalf("the function started without token keys: %v %s", err, out)
	}
	waitForLog(t, log, "no token keys configured")
}

// TestBootstrapRefusesTheDevKeyWhenDeployed starts a function that trusts
// the development key without the local marker, as a deployment
// misconfigured with infra/sam/env.json's keys would: its bootstrap must
// exit at init and say what to do. Through each key source, and with the
// marker set to something other than "true".
func TestBootstrapRefusesTheDevKeyWhenDeployed(t *testing.T) {
	ddbtest.Require(t)
	k, err := devkey.Key()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := k.PublicKey.Bytes()
	jwks := fmt.Sprintf(`{"keys":[{"kty":"EC","crv":"P-256","kid":"prod-1","x":%q,"y":%q}]}`,
		base64.RawURLEncoding.EncodeToString(raw[1:33]), base64.RawURLEncoding.EncodeToString(raw[33:]))
	for _, tt := range []struct {
		name  string
		fixed map[string]string
	}{
		{"PEM, no marker", map[string]string{"AWS_SAM_LOCAL": ""}},
		{"PEM, marker not true", map[string]string{"AWS_SAM_LOCAL": "1"}},
		{"JWKS", map[string]string{"AWS_SAM_LOCAL": "", "AUTH_PUBLIC_KEYS": "", "AUTH_JWKS": jwks}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pools, log := emulatedPools(t, "t", tt.fixed, "StatsBatchFunction")
			out, err := invoke(pools["StatsBatchFunction"], "deployed", []byte(`{}`))
			if !errors.Is(err, rie.ErrExited) {
				t.Fatalf("the function started trusting the development key: %v %s", err, out)
			}
			for _, want := range []string{"development key", "AWS_SAM_LOCAL=true"} {
				waitForLog(t, log, want)
			}
		})
	}
}

// TestBootstrapHoldsNoDevPrivateKey: the bootstraps, as built for the
// emulator (with the Lambda build's flags), carry the development key's
// thumbprint at most, never its private half.
func TestBootstrapHoldsNoDevPrivateKey(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bootstraps: not run with -short")
	}
	k, err := devkey.Key()
	if err != nil {
		t.Fatal(err)
	}
	d, err := k.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	pemFile, err := os.ReadFile(filepath.Join("..", "devkey", "devkey.pem"))
	if err != nil {
		t.Fatal(err)
	}
	needles := [][]byte{d}
	for line := range bytes.Lines(pemFile) {
		if line = bytes.TrimSpace(line); len(line) > 0 && !bytes.HasPrefix(line, []byte("-----")) {
			needles = append(needles, line)
		}
	}
	var names []string
	for _, fn := range Functions {
		names = append(names, fn.Name)
	}
	bins, err := rie.Build(context.Background(), repoRoot, t.TempDir(), names...)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		b, err := os.ReadFile(bins.Bootstrap[name])
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("%s's bootstrap holds the development private key (%.12q...)", name, n)
			}
		}
	}
}

// TestBootstrapReportsInvocationErrors sends an event the adapter cannot
// turn into a request (a body that claims base64 and is not): the
// function reports a function error, and its warm instance serves the
// next event.
func TestBootstrapReportsInvocationErrors(t *testing.T) {
	pools, log := emulatedPools(t, "t", nil, "StatsBatchFunction")
	p := pools["StatsBatchFunction"]
	bad := []byte(`{"version":"2.0","routeKey":"POST /batch","rawPath":"/batch","body":"%%% not base64","isBase64Encoded":true,
		"requestContext":{"http":{"method":"POST","path":"/batch"},"domainName":"x"}}`)
	out, err := invoke(p, "bad", bad)
	if !errors.Is(err, rie.ErrFunction) {
		t.Fatalf("the function answered %v %s; want a function error\n%s", err, out, log.String())
	}
	// Still serving, warm: a well-formed event without a token is a 401
	// response, with no new init.
	out, err = invoke(p, "next", []byte(`{"version":"2.0","routeKey":"POST /batch","rawPath":"/batch","body":"{}",
		"requestContext":{"http":{"method":"POST","path":"/batch"},"domainName":"x"}}`))
	if err != nil || !strings.Contains(string(out), `"statusCode":401`) {
		t.Fatalf("after the error: %v %s\n%s", err, out, log.String())
	}
	if running, _ := p.Instances(); running != 1 {
		t.Errorf("%d instances; want the one warm instance", running)
	}
	waitForLog(t, log, "REPORT RequestId: next\t")
	for _, l := range linesOf(log.String(), "StatsBatchFunction") {
		if strings.HasPrefix(l, "REPORT RequestId: next\t") && strings.Contains(l, "Init Duration") {
			t.Errorf("the next event was a cold start: %q", l)
		}
	}
}

package rie

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xblread/xblread/infra/samtemplate"
)

const envTemplate = `
Parameters:
  Stage: {Type: String, Default: dev}
  Level: {Type: String, Default: WARN}
  Limits: {Type: String, Default: "on"}
Globals:
  Function:
    MemorySize: 512
    Timeout: 6
    LoggingConfig:
      LogFormat: JSON
      ApplicationLogLevel: !Ref Level
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        LIMITS: !Ref Limits
        FROM_SHELL: template
        FROM_PARAMS: template
        FROM_FILE: template
        FIXED: template
        PLAIN: 400
        EMPTY:
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub xblread-${Stage}-fn-${AWS::Region}-${!Literal}
      Handler: bootstrap
      Timeout: 10
      Environment:
        Variables:
          OWN: !Sub "${Stage}-own"
          LONG_REF: {Ref: Stage}
  Other:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
`

// TestEnvironment: the precedence sam local gives a function's variables,
// and Lambda's own.
func TestEnvironment(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte(envTemplate))
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tmpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	shell := map[string]string{"FROM_SHELL": "shell", "FROM_PARAMS": "shell", "FROM_FILE": "shell", "UNDECLARED": "shell", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIA"}
	o := EnvOptions{
		Overrides: EnvFile{
			"Parameters": {"FROM_PARAMS": "params", "FROM_FILE": "params"},
			"Fn":         {"FROM_FILE": "file", "NOT_DECLARED": "file", "FIXED": "file"},
		},
		Shell:    func(k string) (string, bool) { v, ok := shell[k]; return v, ok },
		Fixed:    map[string]string{"FIXED": "fixed", "TABLE_NAME": "mine"},
		TaskRoot: "/opt/fn",
	}
	env := Environment(tmpl, "Fn", fns["Fn"], o)
	if !slices.IsSorted(env) {
		t.Errorf("not sorted: %q", env)
	}
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
	}
	for k, want := range map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "xblread-dev-fn-us-east-1-${Literal}",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     "10",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/xblread-dev-fn-us-east-1-${Literal}",
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"AWS_LAMBDA_LOG_LEVEL":            "WARN",
		"AWS_SAM_LOCAL":                   "true",
		"AWS_REGION":                      "eu-west-1",
		"AWS_ACCESS_KEY_ID":               "AKIA",
		"AWS_SECRET_ACCESS_KEY":           "local",
		"LAMBDA_TASK_ROOT":                "/opt/fn",
		"_HANDLER":                        "bootstrap",
		"TABLE_NAME":                      "mine",
		"LIMITS":                          "on",
		"FROM_SHELL":                      "shell",
		"FROM_PARAMS":                     "params",
		"FROM_FILE":                       "file",
		"FIXED":                           "fixed",
		"PLAIN":                           "400",
		"EMPTY":                           "",
		"OWN":                             "dev-own",
		"LONG_REF":                        "dev",
	} {
		if v, ok := got[k]; !ok || v != want {
			t.Errorf("%s = %q (set %v), want %q", k, v, ok, want)
		}
	}
	for _, k := range []string{"UNDECLARED", "NOT_DECLARED", "HOME"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s is passed; only declared variables are", k)
		}
	}
	// A function without its own name, timeout or log settings: its
	// logical id, Globals' values.
	other := map[string]string{}
	for _, kv := range Environment(tmpl, "Other", fns["Other"], EnvOptions{}) {
		k, v, _ := strings.Cut(kv, "=")
		other[k] = v
	}
	if other["AWS_LAMBDA_FUNCTION_NAME"] != "Other" || other["AWS_LAMBDA_FUNCTION_TIMEOUT"] != "6" || other["TABLE_NAME"] != "Table" || other["AWS_REGION"] != "us-east-1" {
		t.Errorf("Other: %v", other)
	}
}

func TestParseEnvFile(t *testing.T) {
	f, err := ParseEnvFile([]byte(`{"Fn": {"S": "x", "N": 12.5, "B": true, "Z": null}, "Parameters": {"P": "p"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if f["Fn"]["S"] != "x" || f["Fn"]["N"] != "12.5" || f["Fn"]["B"] != "true" || f["Fn"]["Z"] != "" || f["Parameters"]["P"] != "p" {
		t.Errorf("%v", f)
	}
	for _, bad := range []string{`[]`, `{"Fn": []}`, `{"Fn": {"A": {}}}`, `{"Fn": {"A": [1]}}`, `{"Fn": {"A": "x", "A": "y"}}`, `{"Fn": {}} x`} {
		if _, err := ParseEnvFile([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// FuzzParseEnvFile: any input is read or refused, and what is read holds
// only strings.
func FuzzParseEnvFile(f *testing.F) {
	f.Add([]byte(`{"Fn": {"S": "x", "N": 1, "B": false, "Z": null}}`))
	f.Add([]byte(`{"Parameters": {"A": "\u00e9"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := ParseEnvFile(b)
		if err != nil {
			return
		}
		for fn, vars := range out {
			if !utf8.ValidString(fn) {
				t.Errorf("function name %q", fn)
			}
			for k, v := range vars {
				if !utf8.ValidString(k) || !utf8.ValidString(v) {
					t.Errorf("%q=%q", k, v)
				}
			}
		}
	})
}

// TestGoFlagsMatchMakefile: the bootstraps under the emulator are built as
// make build builds the Lambda binaries.
func TestGoFlagsMatchMakefile(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^LAMBDA_GOFLAGS := (.*)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile has no LAMBDA_GOFLAGS")
	}
	if got := strings.Fields(string(m[1])); !slices.Equal(got, GoFlags) {
		t.Errorf("Makefile's LAMBDA_GOFLAGS %q, rie.GoFlags %q", got, GoFlags)
	}
	if !strings.Contains(string(mk), "CGO_ENABLED=0 $(GO) build $(LAMBDA_GOFLAGS)") {
		t.Error("make build no longer builds with CGO_ENABLED=0")
	}
}

package rie

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/xblread/xblread/infra/samtemplate"
)

// EnvFile is what `sam local --env-vars FILE` reads: variables by function
// logical id, and under "Parameters" for every function. Values are
// strings, numbers, booleans or null (the empty string).
type EnvFile map[string]map[string]string

// ParseEnvFile reads an --env-vars file's contents.
func ParseEnvFile(data []byte) (EnvFile, error) {
	var raw map[string]map[string]jsontext.Value
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("env vars: %w", err)
	}
	out := EnvFile{}
	for fn, vars := range raw {
		out[fn] = map[string]string{}
		for name, v := range vars {
			switch v.Kind() {
			case '"':
				var s string
				json.Unmarshal(v, &s)
				out[fn][name] = s
			case '0', 't', 'f':
				out[fn][name] = string(v)
			case 'n':
				out[fn][name] = ""
			default:
				return nil, fmt.Errorf("env vars: /%s/%s: a value must be a string, number, boolean or null", fn, name)
			}
		}
	}
	return out, nil
}

// ReadEnvFile reads the --env-vars file at path.
func ReadEnvFile(path string) (EnvFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := ParseEnvFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// EnvOptions are what, beside the template, makes a function's
// environment.
type EnvOptions struct {
	// Overrides are an --env-vars file's values.
	Overrides EnvFile
	// Shell looks a variable up in the caller's environment (os.LookupEnv);
	// nil for none.
	Shell func(string) (string, bool)
	// Fixed are set last, over everything else: where the local stack's
	// table is (TABLE_NAME, AWS_ENDPOINT_URL_DYNAMODB), which an env vars
	// file written for sam local's Docker network cannot know.
	Fixed map[string]string
	// TaskRoot is the directory of the function's bootstrap.
	TaskRoot string
}

// Environment returns the environment of function id of t, as sam local
// gives it: Lambda's own variables (function name, memory size, timeout,
// version, log group and format, region, credentials, AWS_SAM_LOCAL=true),
// then every variable the template declares for it (Globals, then the
// function's own), each valued, by precedence: o.Overrides (the
// function's entry, then "Parameters"), o.Shell, the template (a !Ref or
// !Sub resolved as Template.Value does). As in sam local, a variable the
// template does not declare is not passed, whatever the overrides say.
// o.Fixed comes last. The result is sorted.
func Environment(t *samtemplate.Template, id string, p samtemplate.FunctionProps, o EnvOptions) []string {
	shell := o.Shell
	if shell == nil {
		shell = func(string) (string, bool) { return "", false }
	}
	name := t.Value(p.FunctionName)
	if name == "" {
		name = id
	}
	env := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(p.MemorySize),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(p.Timeout),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "$LATEST",
		"AWS_SAM_LOCAL":                   "true",
		"_HANDLER":                        p.Handler,
		"LAMBDA_TASK_ROOT":                o.TaskRoot,
		"LAMBDA_RUNTIME_DIR":              "/var/runtime",
		"PATH":                            "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"LANG":                            "en_US.UTF-8",
		"TZ":                              ":UTC",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		// DynamoDB Local takes any credentials; AWS's needs the caller's.
		"AWS_ACCESS_KEY_ID":     "local",
		"AWS_SECRET_ACCESS_KEY": "local",
	}
	if p.Timeout == 0 {
		env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = "3" // Lambda's default
	}
	if p.MemorySize == 0 {
		env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "128"
	}
	if f := t.Value(p.LoggingConfig.LogFormat); f != "" {
		env["AWS_LAMBDA_LOG_FORMAT"] = f
		if l := t.Value(p.LoggingConfig.ApplicationLogLevel); l != "" && f == "JSON" {
			env["AWS_LAMBDA_LOG_LEVEL"] = l
		}
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if v, ok := shell(k); ok && v != "" {
			env[k] = v
		}
	}
	for k, v := range p.Environment.Variables {
		val := t.Value(v)
		if s, ok := shell(k); ok {
			val = s
		}
		if s, ok := o.Overrides["Parameters"][k]; ok {
			val = s
		}
		if s, ok := o.Overrides[id][k]; ok {
			val = s
		}
		env[k] = val
	}
	maps.Copy(env, o.Fixed)
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// Package openapi holds docs/openapi.yaml, the OpenAPI 3.1 description of
// every HTTP route, true to the code: its test checks that the document
// lists exactly template.yaml's routes, and that every golden request and
// answer of the repository (pkg/*/testdata) validates against it.
package openapi

import "strings"

// Match reports whether path matches the route template pattern, as API
// Gateway matches it: each {name} stands for one non-empty segment, a
// final {name+} for the rest of the path; other segments match exactly
// (case-sensitive). It returns the path parameters by name.
func Match(pattern, path string) (map[string]string, bool) {
	ps := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	xs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	params := map[string]string{}
	for i, p := range ps {
		if i >= len(xs) {
			return nil, false
		}
		name, isParam := strings.CutPrefix(p, "{")
		name, closed := strings.CutSuffix(name, "}")
		switch {
		case !isParam || !closed:
			if p != xs[i] {
				return nil, false
			}
		case strings.HasSuffix(name, "+") && i == len(ps)-1:
			rest := strings.Join(xs[i:], "/")
			if rest == "" {
				return nil, false
			}
			params[strings.TrimSuffix(name, "+")] = rest
			return params, true
		default:
			if xs[i] == "" {
				return nil, false
			}
			params[name] = xs[i]
		}
	}
	if len(xs) != len(ps) {
		return nil, false
	}
	return params, true
}

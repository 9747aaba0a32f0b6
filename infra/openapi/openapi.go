// Package openapi holds docs/openapi.yaml, the OpenAPI 3.1 description of
// every HTTP route, true to the code: its test checks that the document
// lists exactly template.yaml's routes, and that every golden request and
// answer of the repository (pkg/*/testdata) validates against it.
package openapi

// Package samtemplate reads what the rest of the project needs from the SAM
// template, so that routes and the table are declared once, in
// template.yaml: the HTTP API routes of each function, function timeouts,
// and the table's key schema.
package samtemplate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is the parts of a SAM template the project reads. CloudFormation
// intrinsic functions (!Ref, !Sub, ...) read as their plain argument.
type Template struct {
	Parameters map[string]struct {
		Default any `yaml:"Default"`
	} `yaml:"Parameters"`
	Globals struct {
		Function FunctionProps `yaml:"Function"`
	} `yaml:"Globals"`
	Resources map[string]Resource `yaml:"Resources"`
}

// Resource is one resource of the template.
type Resource struct {
	Type       string    `yaml:"Type"`
	Properties yaml.Node `yaml:"Properties"`
}

// FunctionProps are the properties of an AWS::Serverless::Function (or its
// Globals) that the project reads.
type FunctionProps struct {
	Runtime       string           `yaml:"Runtime"`
	Handler       string           `yaml:"Handler"`
	Architectures []string         `yaml:"Architectures"`
	Timeout       int              `yaml:"Timeout"`
	MemorySize    int              `yaml:"MemorySize"`
	Events        map[string]Event `yaml:"Events"`
	Policies      []any            `yaml:"Policies"`
	FunctionName  Value            `yaml:"FunctionName"`
	LoggingConfig struct {
		LogFormat           Value `yaml:"LogFormat"`
		ApplicationLogLevel Value `yaml:"ApplicationLogLevel"`
	} `yaml:"LoggingConfig"`
	Environment struct {
		Variables map[string]Value `yaml:"Variables"`
	} `yaml:"Environment"`
}

// Value is a scalar of the template as written: plain, or a !Ref or !Sub
// of a string (short form, or the long {"Ref": ...} and {"Fn::Sub": ...}).
// Template.Value resolves it.
type Value struct {
	// Tag is "!Ref", "!Sub" or "" for a plain scalar.
	Tag string
	// Text is the scalar as written.
	Text string
	// Set tells a value written from one absent.
	Set bool
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (v *Value) UnmarshalYAML(n *yaml.Node) error {
	switch {
	case n.Kind == yaml.ScalarNode && (n.Tag == "!Ref" || n.Tag == "!Sub"):
		*v = Value{Tag: n.Tag, Text: n.Value, Set: true}
	case n.Kind == yaml.ScalarNode && strings.HasPrefix(n.Tag, "!!") || n.Kind == yaml.ScalarNode && n.Tag == "":
		*v = Value{Text: n.Value, Set: true}
		if n.Tag == "!!null" {
			v.Text = ""
		}
	case n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[1].Kind == yaml.ScalarNode &&
		(n.Content[0].Value == "Ref" || n.Content[0].Value == "Fn::Sub"):
		*v = Value{Tag: "!Ref", Text: n.Content[1].Value, Set: true}
		if n.Content[0].Value == "Fn::Sub" {
			v.Tag = "!Sub"
		}
	default:
		return fmt.Errorf("line %d: only a scalar, or a !Ref or !Sub of a string, is read here", n.Line)
	}
	return nil
}

// Pseudo are the values the local tools give CloudFormation's pseudo
// parameters.
var Pseudo = map[string]string{
	"AWS::Region":    "us-east-1",
	"AWS::AccountId": "123456789012",
	"AWS::StackName": "local",
	"AWS::Partition": "aws",
	"AWS::URLSuffix": "amazonaws.com",
}

// Value resolves v as sam local does: a !Ref of a parameter is its
// default, of a pseudo parameter its Pseudo value, of a resource its
// logical id; a !Sub replaces each ${Name} alike (${Res.Attr} is left as
// written, ${!Name} is the literal ${Name}).
func (t *Template) Value(v Value) string {
	ref := func(name string) (string, bool) {
		if p, ok := t.Parameters[name]; ok {
			if p.Default == nil {
				return "", true
			}
			return fmt.Sprint(p.Default), true
		}
		if s, ok := Pseudo[name]; ok {
			return s, true
		}
		if _, ok := t.Resources[name]; ok {
			return name, true
		}
		return "", false
	}
	switch v.Tag {
	case "!Ref":
		s, _ := ref(v.Text)
		return s
	case "!Sub":
		var b strings.Builder
		rest := v.Text
		for {
			i := strings.Index(rest, "${")
			if i < 0 {
				b.WriteString(rest)
				return b.String()
			}
			j := strings.IndexByte(rest[i:], '}')
			if j < 0 {
				b.WriteString(rest)
				return b.String()
			}
			name := rest[i+2 : i+j]
			b.WriteString(rest[:i])
			if lit, ok := strings.CutPrefix(name, "!"); ok {
				b.WriteString("${" + lit + "}") // ${!Name} is the literal ${Name}
			} else if s, ok := ref(name); ok {
				b.WriteString(s)
			} else {
				b.WriteString(rest[i : i+j+1])
			}
			rest = rest[i+j+1:]
		}
	}
	return v.Text
}

// Event is one event source of a function.
type Event struct {
	Type       string `yaml:"Type"`
	Properties struct {
		Path   string `yaml:"Path"`
		Method string `yaml:"Method"`
		APIID  string `yaml:"ApiId"`
	} `yaml:"Properties"`
}

// TableProps are the properties of an AWS::DynamoDB::Table.
type TableProps struct {
	TableName            string `yaml:"TableName"`
	BillingMode          string `yaml:"BillingMode"`
	AttributeDefinitions []struct {
		AttributeName string `yaml:"AttributeName"`
		AttributeType string `yaml:"AttributeType"`
	} `yaml:"AttributeDefinitions"`
	KeySchema []struct {
		AttributeName string `yaml:"AttributeName"`
		KeyType       string `yaml:"KeyType"`
	} `yaml:"KeySchema"`
	GlobalSecondaryIndexes []any `yaml:"GlobalSecondaryIndexes"`
}

// Alarm is the part of an AWS::CloudWatch::Alarm the project checks.
type Alarm struct {
	Namespace  string `yaml:"Namespace"`
	MetricName string `yaml:"MetricName"`
	Dimensions []struct {
		Name  string `yaml:"Name"`
		Value string `yaml:"Value"`
	} `yaml:"Dimensions"`
	AlarmActions any `yaml:"AlarmActions"`
}

// Dimension returns the value of the alarm's named dimension.
func (a Alarm) Dimension(name string) string {
	for _, d := range a.Dimensions {
		if d.Name == name {
			return d.Value
		}
	}
	return ""
}

// Alarms returns the template's alarms with a single metric, by logical id.
func (t *Template) Alarms() (map[string]Alarm, error) {
	out := map[string]Alarm{}
	for id, r := range t.Resources {
		if r.Type != "AWS::CloudWatch::Alarm" {
			continue
		}
		var a Alarm
		if err := r.Properties.Decode(&a); err != nil {
			return nil, fmt.Errorf("alarm %s: %w", id, err)
		}
		out[id] = a
	}
	return out, nil
}

// Route is one HTTP API route and the function it invokes.
type Route struct {
	Method   string // upper case, or ANY
	Path     string // with {param} and {param+} segments
	Function string // the function's logical id
}

// Key is the route key as API Gateway writes it, "POST /batch".
func (r Route) Key() string { return r.Method + " " + r.Path }

// Parse reads a template.
func Parse(data []byte) (*Template, error) {
	var t Template
	if err := yaml.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if len(t.Resources) == 0 {
		return nil, errors.New("parse template: no Resources")
	}
	return &t, nil
}

// Load reads the template file at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Find returns the path of template.yaml in dir or the nearest parent
// directory that has one.
func Find(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "template.yaml")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no template.yaml in this directory or any parent")
		}
		dir = parent
	}
}

// LoadNearest loads template.yaml from dir or its nearest parent that has one.
func LoadNearest(dir string) (*Template, error) {
	p, err := Find(dir)
	if err != nil {
		return nil, err
	}
	return Load(p)
}

// Resolve returns v, or the default of the parameter v names (a !Ref
// reads as the name it refers to).
func (t *Template) Resolve(v string) string {
	if p, ok := t.Parameters[v]; ok && p.Default != nil {
		return fmt.Sprint(p.Default)
	}
	return v
}

// Functions returns the properties of each AWS::Serverless::Function by
// logical id, with Globals applied for the properties the project reads.
func (t *Template) Functions() (map[string]FunctionProps, error) {
	out := map[string]FunctionProps{}
	g := t.Globals.Function
	for id, r := range t.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		var p FunctionProps
		if err := r.Properties.Decode(&p); err != nil {
			return nil, fmt.Errorf("function %s: %w", id, err)
		}
		if p.Runtime == "" {
			p.Runtime = g.Runtime
		}
		if p.Handler == "" {
			p.Handler = g.Handler
		}
		if p.Architectures == nil {
			p.Architectures = g.Architectures
		}
		if p.Timeout == 0 {
			p.Timeout = g.Timeout
		}
		if p.MemorySize == 0 {
			p.MemorySize = g.MemorySize
		}
		if !p.LoggingConfig.LogFormat.Set {
			p.LoggingConfig.LogFormat = g.LoggingConfig.LogFormat
		}
		if !p.LoggingConfig.ApplicationLogLevel.Set {
			p.LoggingConfig.ApplicationLogLevel = g.LoggingConfig.ApplicationLogLevel
		}
		vars := map[string]Value{}
		for k, v := range g.Environment.Variables {
			vars[k] = v
		}
		for k, v := range p.Environment.Variables {
			vars[k] = v
		}
		p.Environment.Variables = vars
		out[id] = p
	}
	return out, nil
}

// Routes returns every HttpApi route of the template's functions, sorted by
// path then method. Two functions claiming the same route is an error.
func (t *Template) Routes() ([]Route, error) {
	fns, err := t.Functions()
	if err != nil {
		return nil, err
	}
	seen := map[string]string{}
	var routes []Route
	for id, f := range fns {
		for name, e := range f.Events {
			if e.Type != "HttpApi" {
				continue
			}
			method := strings.ToUpper(e.Properties.Method)
			if method == "" || e.Properties.Path == "" {
				return nil, fmt.Errorf("function %s event %s: HttpApi event needs Path and Method", id, name)
			}
			r := Route{Method: method, Path: e.Properties.Path, Function: id}
			if other, dup := seen[r.Key()]; dup {
				return nil, fmt.Errorf("route %s is claimed by %s and %s", r.Key(), other, id)
			}
			seen[r.Key()] = id
			routes = append(routes, r)
		}
	}
	sort.Slice(routes, func(i, j int) bool {
		if routes[i].Path != routes[j].Path {
			return routes[i].Path < routes[j].Path
		}
		return routes[i].Method < routes[j].Method
	})
	return routes, nil
}

// Table returns the properties of the template's one AWS::DynamoDB::Table
// and its logical id.
func (t *Template) Table() (string, *TableProps, error) {
	var id string
	var props TableProps
	for rid, r := range t.Resources {
		if r.Type != "AWS::DynamoDB::Table" {
			continue
		}
		if id != "" {
			return "", nil, fmt.Errorf("template declares two tables, %s and %s", id, rid)
		}
		if err := r.Properties.Decode(&props); err != nil {
			return "", nil, fmt.Errorf("table %s: %w", rid, err)
		}
		id = rid
	}
	if id == "" {
		return "", nil, errors.New("template declares no AWS::DynamoDB::Table")
	}
	return id, &props, nil
}

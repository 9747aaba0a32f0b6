// Package metrics writes CloudWatch Embedded Metric Format (EMF) records:
// JSON log lines from which CloudWatch Logs extracts metrics. A function
// writes one record per request to standard output.
//
// The format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"
)

// Unit is a CloudWatch metric unit.
type Unit string

// The units the service uses.
const (
	Milliseconds Unit = "Milliseconds"
	Count        Unit = "Count"
	None         Unit = "None"
)

// Limits of the EMF specification and of CloudWatch.
const (
	MaxMetrics         = 100  // metrics in one record
	MaxDimensionsInSet = 30   // dimensions in one dimension set
	MaxNameLength      = 1024 // metric names, dimension names and values, namespaces
)

// Record is one EMF record: a namespace, dimensions and metric values.
// It is safe for concurrent use.
type Record struct {
	mu         sync.Mutex
	namespace  string
	dimKeys    []string          // dimension names, in order
	dims       map[string]string // dimension values
	order      []string          // metric names, in order of first Put
	values     map[string]float64
	units      map[string]Unit
	properties map[string]any
}

// New returns an empty record in namespace.
func New(namespace string) *Record {
	return &Record{namespace: namespace, dims: map[string]string{}, values: map[string]float64{},
		units: map[string]Unit{}, properties: map[string]any{}}
}

// Dimension sets a dimension. Records are published under every prefix of
// the dimensions in the order they were first set: with Function then
// Route, under [Function] and [Function, Route].
func (r *Record) Dimension(name, value string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.dims[name]; !ok {
		r.dimKeys = append(r.dimKeys, name)
	}
	r.dims[name] = value
}

// Add adds v to the named metric (a new metric starts at 0).
func (r *Record) Add(name string, v float64, unit Unit) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.values[name]; !ok {
		r.order = append(r.order, name)
	}
	r.values[name] += v
	r.units[name] = unit
}

// Property sets a value that is logged with the record but is not a metric.
func (r *Record) Property(name string, v any) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.properties[name] = v
}

// Marshal returns the record as one EMF JSON line (without newline),
// stamped at t. It refuses records that break the specification's rules.
func (r *Record) Marshal(t time.Time) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.namespace == "" || len(r.namespace) > MaxNameLength {
		return nil, errors.New("metrics: namespace must be 1 to 1024 characters")
	}
	if len(r.order) == 0 {
		return nil, errors.New("metrics: record has no metrics")
	}
	if len(r.order) > MaxMetrics {
		return nil, fmt.Errorf("metrics: %d metrics in one record; the limit is %d", len(r.order), MaxMetrics)
	}
	if len(r.dimKeys) > MaxDimensionsInSet {
		return nil, fmt.Errorf("metrics: %d dimensions; the limit is %d", len(r.dimKeys), MaxDimensionsInSet)
	}
	root := make(map[string]any, len(r.properties)+len(r.dims)+len(r.values)+1)
	for k, v := range r.properties {
		root[k] = v
	}
	for _, k := range r.dimKeys {
		v := r.dims[k]
		if k == "" || len(k) > MaxNameLength || v == "" || len(v) > MaxNameLength {
			return nil, fmt.Errorf("metrics: dimension %q=%q: names and values must be 1 to 1024 characters", k, v)
		}
		root[k] = v
	}
	type metricDef struct {
		Name string `json:"Name"`
		Unit Unit   `json:"Unit,omitempty"`
	}
	defs := make([]metricDef, 0, len(r.order))
	for _, name := range r.order {
		v := r.values[name]
		if name == "" || len(name) > MaxNameLength {
			return nil, fmt.Errorf("metrics: metric name %q must be 1 to 1024 characters", name)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("metrics: metric %s is not a finite number", name)
		}
		if _, clash := r.dims[name]; clash {
			return nil, fmt.Errorf("metrics: %s is both a dimension and a metric", name)
		}
		defs = append(defs, metricDef{name, r.units[name]})
		root[name] = v
	}
	sets := make([][]string, 0, len(r.dimKeys))
	for i := range r.dimKeys {
		sets = append(sets, r.dimKeys[:i+1])
	}
	if len(sets) == 0 {
		sets = [][]string{{}}
	}
	root["_aws"] = map[string]any{
		"Timestamp": t.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  r.namespace,
			"Dimensions": sets,
			"Metrics":    defs,
		}},
	}
	return json.Marshal(root)
}

// Writer writes records as lines to one destination.
type Writer struct {
	mu sync.Mutex
	w  io.Writer
}

// NewWriter returns a Writer to w (standard output in Lambda).
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write writes r stamped now. A record that breaks the rules is not written.
func (w *Writer) Write(r *Record) error {
	if w == nil || r == nil {
		return nil
	}
	b, err := r.Marshal(time.Now())
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err = w.w.Write(append(b, '\n'))
	return err
}

type ctxKey struct{}

// NewContext returns a context carrying r.
func NewContext(ctx context.Context, r *Record) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// FromContext returns the record in ctx, or nil (whose methods do nothing).
func FromContext(ctx context.Context) *Record {
	r, _ := ctx.Value(ctxKey{}).(*Record)
	return r
}

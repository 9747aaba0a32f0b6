package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMarshalFollowsTheSpecification(t *testing.T) {
	r := New("XblRead")
	r.Dimension("Function", "statsbatch")
	r.Dimension("Route", "POST /batch")
	r.Add("Latency", 12.5, Milliseconds)
	r.Add("DynamoDBCalls", 1, Count)
	r.Add("DynamoDBCalls", 2, Count)
	r.Property("requestId", "abc")
	b, err := r.Marshal(time.UnixMilli(1795301000123))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"_aws": map[string]any{
			"Timestamp": float64(1795301000123),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  "XblRead",
				"Dimensions": []any{[]any{"Function"}, []any{"Function", "Route"}},
				"Metrics": []any{
					map[string]any{"Name": "Latency", "Unit": "Milliseconds"},
					map[string]any{"Name": "DynamoDBCalls", "Unit": "Count"},
				},
			}},
		},
		"Function": "statsbatch", "Route": "POST /batch",
		"Latency": 12.5, "DynamoDBCalls": float64(3), "requestId": "abc",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("record =\n%s\nwant\n%v", b, want)
	}
	if bytes.ContainsRune(b, '\n') {
		t.Error("a record must be one line")
	}
}

func TestMarshalRefusesWhatTheSpecificationForbids(t *testing.T) {
	tests := map[string]func() *Record{
		"no namespace": func() *Record { r := New(""); r.Add("m", 1, Count); return r },
		"no metrics":   func() *Record { return New("ns") },
		"too many metrics": func() *Record {
			r := New("ns")
			for i := range MaxMetrics + 1 {
				r.Add(fmt.Sprint("m", i), 1, Count)
			}
			return r
		},
		"too many dimensions": func() *Record {
			r := New("ns")
			r.Add("m", 1, Count)
			for i := range MaxDimensionsInSet + 1 {
				r.Dimension(fmt.Sprint("d", i), "v")
			}
			return r
		},
		"empty dimension value": func() *Record { r := New("ns"); r.Dimension("Route", ""); r.Add("m", 1, Count); return r },
		"long metric name":      func() *Record { r := New("ns"); r.Add(strings.Repeat("x", MaxNameLength+1), 1, Count); return r },
		"dimension and metric":  func() *Record { r := New("ns"); r.Dimension("m", "v"); r.Add("m", 1, Count); return r },
	}
	for name, build := range tests {
		if _, err := build().Marshal(time.Now()); err == nil {
			t.Errorf("%s: Marshal succeeded", name)
		}
	}
}

func TestWriterAndContext(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	r := New("ns")
	ctx := NewContext(context.Background(), r)
	FromContext(ctx).Add("Requests", 1, Count)
	FromContext(context.Background()).Add("ignored", 1, Count) // no record: nothing happens
	if err := w.Write(r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "\n") || strings.Count(buf.String(), "\n") != 1 || !strings.Contains(buf.String(), `"Requests":1`) {
		t.Errorf("written %q", buf.String())
	}
	if err := w.Write(New("ns")); err == nil {
		t.Error("an empty record was written")
	}
}

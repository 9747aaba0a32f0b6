package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// samplesFile collects each table case's per-request latencies for
// infra/plots (make results draws its charts from them): the file -samples
// names, rewritten after every case, so that an interrupted run keeps what
// it measured.
type samplesFile struct {
	path string
	data struct {
		N      int          `json:"n"`
		Warmup int          `json:"warmup"`
		Cases  []caseSample `json:"cases"`
	}
}

// caseSample is one case's latencies in milliseconds: through the local
// API, as the raw DynamoDB calls and, when measured, under the emulator.
type caseSample struct {
	Name    string    `json:"name"`
	RawName string    `json:"raw_name"`
	API     []float64 `json:"api_ms"`
	Raw     []float64 `json:"raw_ms"`
	Emu     []float64 `json:"emu_ms,omitempty"`
}

// newSamplesFile returns the collector of path, or nil when path is empty
// (no samples asked for).
func newSamplesFile(path string, o options) *samplesFile {
	if path == "" {
		return nil
	}
	s := &samplesFile{path: path}
	s.data.N, s.data.Warmup = o.n, o.warmup
	s.data.Cases = []caseSample{}
	return s
}

// add records r's latencies and rewrites the file. A nil s does nothing.
func (s *samplesFile) add(r tableRow) error {
	if s == nil {
		return nil
	}
	s.data.Cases = append(s.data.Cases, caseSample{
		Name: r.c.name(), RawName: r.c.rawName(),
		API: millis(r.api), Raw: millis(r.raw), Emu: millis(r.emu),
	})
	b, err := json.Marshal(&s.data)
	if err != nil {
		return err
	}
	if err := os.WriteFile(s.path, b, 0o644); err != nil {
		return fmt.Errorf("-samples: %w", err)
	}
	return nil
}

// millis returns d in milliseconds (nil for nil).
func millis(d []time.Duration) []float64 {
	if d == nil {
		return nil
	}
	out := make([]float64, len(d))
	for i, v := range d {
		out[i] = float64(v) / float64(time.Millisecond)
	}
	return out
}

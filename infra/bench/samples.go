package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/xblread/xblread/infra/benchsamples"
)

// samplesFile collects each table case's per-request latencies for
// infra/plots (make results draws its charts from them): the file -samples
// names, rewritten after every case, so that an interrupted run keeps what
// it measured.
type samplesFile struct {
	path string
	data benchsamples.File
}

// newSamplesFile returns the collector of path, or nil when path is empty
// (no samples asked for).
func newSamplesFile(path string, o options) *samplesFile {
	if path == "" {
		return nil
	}
	s := &samplesFile{path: path}
	s.data.N, s.data.Warmup = o.n, o.warmup
	s.data.Cases = []benchsamples.Case{}
	return s
}

// add records r's latencies and rewrites the file. A nil s does nothing.
func (s *samplesFile) add(r tableRow) error {
	if s == nil {
		return nil
	}
	s.data.Cases = append(s.data.Cases, benchsamples.Case{
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

// Package benchsamples is the samples file: what `go run ./infra/bench
// -samples FILE` writes and infra/plots draws make results' latency chart
// from. It is JSON:
//
//	{"n": 400, "warmup": 200, "cases": [{"name": "POST /batch, ...", "raw_name": "2 BatchGetItem, concurrent",
//	  "api_ms": [11.2, ...], "raw_ms": [9.9, ...], "emu_ms": [12.5, ...]}]}
package benchsamples

// File is a run's samples: its measured requests per case, and the
// warm-up before them.
type File struct {
	N      int    `json:"n"`
	Warmup int    `json:"warmup"`
	Cases  []Case `json:"cases"`
}

// Case is one table case's latencies in milliseconds: through the local
// API, as the raw DynamoDB calls and, when measured, under the emulator.
type Case struct {
	Name    string    `json:"name"`
	RawName string    `json:"raw_name"`
	API     []float64 `json:"api_ms"`
	Raw     []float64 `json:"raw_ms"`
	Emu     []float64 `json:"emu_ms,omitempty"`
}

package ddbtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Proxy stands between a client and DynamoDB Local and injects faults.
type Proxy struct {
	// URL is the endpoint to point clients at.
	URL string

	mu sync.Mutex
	// splitGets makes every BatchGetItem with more than one key serve only
	// the first half and return the rest as UnprocessedKeys.
	splitGets bool
	split     int
	// neverProcess answers every BatchGetItem with all its keys unprocessed.
	neverProcess bool
	// throttle answers every request with a throughput-exceeded error.
	throttle bool
	// delay holds every request this long before forwarding it.
	delay time.Duration
	// truncate cuts every response body in half and drops the connection.
	truncate bool
}

// NeverProcess turns on or off the fault where DynamoDB processes no key of
// any BatchGetItem.
func (p *Proxy) NeverProcess(on bool) { p.mu.Lock(); p.neverProcess = on; p.mu.Unlock() }

// Throttle turns the throughput-exceeded fault on or off.
func (p *Proxy) Throttle(on bool) { p.mu.Lock(); p.throttle = on; p.mu.Unlock() }

// Delay holds every request d before forwarding it (0 for none).
func (p *Proxy) Delay(d time.Duration) { p.mu.Lock(); p.delay = d; p.mu.Unlock() }

// Truncate turns the cut-response fault on or off.
func (p *Proxy) Truncate(on bool) { p.mu.Lock(); p.truncate = on; p.mu.Unlock() }

// NewProxy starts a proxy to the test run's DynamoDB Local, closed when the
// test ends.
func NewProxy(t testing.TB) *Proxy {
	t.Helper()
	p := &Proxy{}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// SplitBatchGets turns the UnprocessedKeys fault on or off.
func (p *Proxy) SplitBatchGets(on bool) {
	p.mu.Lock()
	p.splitGets = on
	p.mu.Unlock()
}

// Splits returns how many BatchGetItem responses the proxy cut short.
func (p *Proxy) Splits() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.split
}

type batchGet struct {
	RequestItems map[string]map[string]json.RawMessage
}

// ServeHTTP forwards one request to DynamoDB Local, with the faults that are on.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var unprocessed map[string]map[string]json.RawMessage
	p.mu.Lock()
	split, never, throttle, delay, truncate := p.splitGets, p.neverProcess, p.throttle, p.delay, p.truncate
	p.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if never && strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".BatchGetItem") {
		var in batchGet
		json.Unmarshal(body, &in)
		out, _ := json.Marshal(map[string]any{"Responses": map[string]any{}, "UnprocessedKeys": in.RequestItems})
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Write(out)
		return
	}
	if throttle {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}`)
		return
	}
	if split && strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".BatchGetItem") {
		body, unprocessed = splitKeys(body)
		if unprocessed != nil {
			p.mu.Lock()
			p.split++
			p.mu.Unlock()
		}
	}
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, endpoint+r.URL.RequestURI(), bytes.NewReader(body))
	for k, v := range r.Header {
		if k != "Content-Length" {
			req.Header[k] = v
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if unprocessed != nil && resp.StatusCode == http.StatusOK {
		var m map[string]json.RawMessage
		if json.Unmarshal(out, &m) == nil {
			m["UnprocessedKeys"], _ = json.Marshal(unprocessed)
			out, _ = json.Marshal(m)
		}
	}
	for k, v := range resp.Header {
		if k != "Content-Length" && k != "X-Amz-Crc32" {
			w.Header()[k] = v
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(resp.StatusCode)
	if truncate {
		w.Write(out[:len(out)/2])
		// Drop the connection: the client sees a body shorter than announced.
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
			}
		}
		return
	}
	w.Write(out)
}

// splitKeys keeps the first half of each table's keys in the request and
// returns the rest, with the table's other settings, as unprocessed.
func splitKeys(body []byte) ([]byte, map[string]map[string]json.RawMessage) {
	var in batchGet
	if json.Unmarshal(body, &in) != nil {
		return body, nil
	}
	left := map[string]map[string]json.RawMessage{}
	for table, ka := range in.RequestItems {
		var keys []json.RawMessage
		if json.Unmarshal(ka["Keys"], &keys) != nil || len(keys) < 2 {
			continue
		}
		half := len(keys) / 2
		rest := map[string]json.RawMessage{}
		for k, v := range ka {
			rest[k] = v
		}
		ka["Keys"], _ = json.Marshal(keys[:half])
		rest["Keys"], _ = json.Marshal(keys[half:])
		left[table] = rest
	}
	if len(left) == 0 {
		return body, nil
	}
	out, _ := json.Marshal(in)
	return out, left
}

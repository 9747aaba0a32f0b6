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
	// counts is what the proxy saw of each operation since the last
	// ResetCounts (see Counts).
	counts map[string]*OpCount
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
	op := targetOp(r.Header.Get("X-Amz-Target"))
	p.countCall(op, body)
	var unprocessed map[string]map[string]json.RawMessage
	p.mu.Lock()
	split, never, throttle, delay, truncate := p.splitGets, p.neverProcess, p.throttle, p.delay, p.truncate
	p.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			p.countResponse(op, 0, nil)
			return
		}
	}
	if never && strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".BatchGetItem") {
		var in batchGet
		json.Unmarshal(body, &in)
		out, _ := json.Marshal(map[string]any{"Responses": map[string]any{}, "UnprocessedKeys": in.RequestItems})
		p.countResponse(op, http.StatusOK, out)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Write(out)
		return
	}
	if throttle {
		p.countResponse(op, http.StatusBadRequest, nil)
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
		p.countResponse(op, http.StatusBadGateway, nil)
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
	p.countResponse(op, resp.StatusCode, out)
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

// OpCount is what the proxy saw of one DynamoDB operation: the requests
// its clients sent (retries included) and what the answers they got held.
// A response the proxy cut short (Truncate) counts as sent in full.
type OpCount struct {
	// Calls is the number of requests.
	Calls int
	// Keys is the number of keys asked: every key of a BatchGetItem's
	// RequestItems, 1 for a GetItem; MaxKeys the most keys of one request.
	Keys, MaxKeys int
	// Items is the number of items returned: the items of every table
	// under a BatchGetItem's Responses, a Query's or Scan's Count (or
	// Items), 1 for a GetItem that found its item.
	Items int
	// Unprocessed is the number of keys returned as UnprocessedKeys.
	Unprocessed int
	// Capacity is the sum of the ConsumedCapacity units the responses
	// reported (only requests that asked for them get them).
	Capacity float64
	// Errors is the number of requests answered with anything but a 200,
	// faults included (0 when the client gave up first).
	Errors int
}

// Counts is a snapshot of what the proxy saw, by operation name (the
// X-Amz-Target after its last dot: "BatchGetItem", "GetItem", "Query").
// An operation it did not see reads as a zero OpCount.
type Counts map[string]OpCount

// Calls returns the number of requests of every operation.
func (c Counts) Calls() int {
	n := 0
	for _, o := range c {
		n += o.Calls
	}
	return n
}

// Items returns the number of items every response returned.
func (c Counts) Items() int {
	n := 0
	for _, o := range c {
		n += o.Items
	}
	return n
}

// Capacity returns the consumed capacity units every response reported.
func (c Counts) Capacity() float64 {
	var n float64
	for _, o := range c {
		n += o.Capacity
	}
	return n
}

// Counts returns what the proxy saw of each operation since it started or
// since the last ResetCounts. Every request is counted, whether or not a
// fault is on.
func (p *Proxy) Counts() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(Counts, len(p.counts))
	for op, c := range p.counts {
		out[op] = *c
	}
	return out
}

// ResetCounts forgets what the proxy counted.
func (p *Proxy) ResetCounts() {
	p.mu.Lock()
	p.counts = nil
	p.mu.Unlock()
}

// targetOp is the operation an X-Amz-Target names
// ("DynamoDB_20120810.Query" is "Query").
func targetOp(target string) string {
	if i := strings.LastIndexByte(target, '.'); i >= 0 {
		return target[i+1:]
	}
	return target
}

// count returns op's counter; p.mu is held.
func (p *Proxy) count(op string) *OpCount {
	if p.counts == nil {
		p.counts = map[string]*OpCount{}
	}
	c := p.counts[op]
	if c == nil {
		c = &OpCount{}
		p.counts[op] = c
	}
	return c
}

// countCall counts one request of op and the keys its body asks for.
func (p *Proxy) countCall(op string, body []byte) {
	keys := 0
	switch op {
	case "BatchGetItem":
		var in batchGet
		if json.Unmarshal(body, &in) == nil {
			for _, ka := range in.RequestItems {
				var ks []json.RawMessage
				if json.Unmarshal(ka["Keys"], &ks) == nil {
					keys += len(ks)
				}
			}
		}
	case "GetItem":
		keys = 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.count(op)
	c.Calls++
	c.Keys += keys
	c.MaxKeys = max(c.MaxKeys, keys)
}

// countedResponse is what countResponse reads of a response body, of any
// operation.
type countedResponse struct {
	Responses        map[string][]json.RawMessage
	UnprocessedKeys  map[string]struct{ Keys []json.RawMessage }
	Item             json.RawMessage
	Items            []json.RawMessage
	Count            *int
	ConsumedCapacity json.RawMessage
}

type consumed struct{ CapacityUnits float64 }

// countResponse counts what a response of op returned: its items, its
// unprocessed keys and its consumed capacity; status 0 is a request the
// client gave up before any answer.
func (p *Proxy) countResponse(op string, status int, out []byte) {
	var items, unprocessed int
	var capacity float64
	if status == http.StatusOK {
		var m countedResponse
		if json.Unmarshal(out, &m) == nil {
			for _, its := range m.Responses {
				items += len(its)
			}
			for _, ka := range m.UnprocessedKeys {
				unprocessed += len(ka.Keys)
			}
			if len(m.Item) > 0 && string(m.Item) != "null" {
				items++
			}
			if m.Count != nil {
				items += *m.Count
			} else {
				items += len(m.Items)
			}
			var one consumed
			var many []consumed
			if json.Unmarshal(m.ConsumedCapacity, &many) == nil {
				for _, c := range many {
					capacity += c.CapacityUnits
				}
			} else if json.Unmarshal(m.ConsumedCapacity, &one) == nil {
				capacity = one.CapacityUnits
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.count(op)
	c.Items += items
	c.Unprocessed += unprocessed
	c.Capacity += capacity
	if status != http.StatusOK && status != 0 {
		c.Errors++
	}
}

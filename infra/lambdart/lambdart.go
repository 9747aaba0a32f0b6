// Package lambdart is a minimal AWS Lambda Runtime API on loopback: enough
// of it (next invocation, response, error, init error) to run a function's
// real bootstrap binary the way Lambda runs it, without Docker.
package lambdart

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

const prefix = "/2018-06-01/runtime"

// Result is how the function answered one invocation.
type Result struct {
	// Payload is the response, or the error document when Error is set.
	Payload []byte
	// Error is the error type the function reported; "" for a response.
	Error string
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	result   chan Result
}

// Server is a Runtime API for one function process.
type Server struct {
	// Addr is host:port, the value of AWS_LAMBDA_RUNTIME_API.
	Addr string

	srv     *http.Server
	queue   chan *invocation
	mu      sync.Mutex
	pending map[string]*invocation
	seq     int
	ready   chan struct{}
	once    sync.Once
}

// Ready is closed when the function first asks for an invocation: its
// init is over.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Start serves a Runtime API on a loopback port.
func Start() (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: l.Addr().String(), queue: make(chan *invocation), pending: map[string]*invocation{}, ready: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"/invocation/next", s.next)
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/response", s.answer(""))
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/error", s.answer("error"))
	// The mains exit on an init failure rather than report it; accept a
	// report all the same, as Lambda does.
	mux.HandleFunc("POST "+prefix+"/init/error", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	})
	s.srv = &http.Server{Handler: mux}
	go s.srv.Serve(l)
	return s, nil
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.once.Do(func() { close(s.ready) })
	var inv *invocation
	select {
	case inv = <-s.queue:
	case <-r.Context().Done():
		return
	}
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:local")
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(inv.payload)
}

func (s *Server) answer(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		inv, ok := s.pending[r.PathValue("id")]
		delete(s.pending, r.PathValue("id"))
		s.mu.Unlock()
		if !ok {
			http.Error(w, `{"errorMessage":"unknown request id"}`, http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(r.Body)
		res := Result{Payload: b}
		if kind == "error" {
			res.Error = r.Header.Get("Lambda-Runtime-Function-Error-Type")
			if res.Error == "" {
				res.Error = "Unknown"
			}
		}
		inv.result <- res
		w.WriteHeader(http.StatusAccepted)
	}
}

// Invoke hands payload to the function's next poll, with a deadline
// timeout from now, and waits for its answer or ctx.
func (s *Server) Invoke(ctx context.Context, payload []byte, timeout time.Duration) (Result, error) {
	s.mu.Lock()
	s.seq++
	inv := &invocation{id: fmt.Sprintf("00000000-0000-4000-8000-%012d", s.seq), payload: payload,
		deadline: time.Now().Add(timeout), result: make(chan Result, 1)}
	s.pending[inv.id] = inv
	s.mu.Unlock()
	select {
	case s.queue <- inv:
	case <-ctx.Done():
		return Result{}, errors.New("the function never asked for an invocation: " + ctx.Err().Error())
	}
	select {
	case res := <-inv.result:
		return res, nil
	case <-ctx.Done():
		return Result{}, errors.New("the function did not answer: " + ctx.Err().Error())
	}
}

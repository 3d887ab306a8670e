package devnet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/faultproof/faultproof/host/sources/wire"
)

// An Endpoint is one of a Server's three nodes: the L1 or L2 execution node (JSON-RPC) or the beacon node
// (REST). It counts the requests it receives and, when told, misbehaves the ways real nodes do, so that
// tests and benchmarks see what a host sees across a network:
//
//   - Inject: the next requests fail (HTTP 500 or 502, a JSON-RPC error, a cut-off answer, no answer until
//     the client gives up) or are answered wrongly, one fault each;
//   - Drop: a method does not exist (JSON-RPC -32601; a beacon endpoint answers 404);
//   - RefuseBatches: a JSON-RPC batch is answered with one error, as by a node that does not take batches;
//   - SetTamper: every answer passes through a function that may rewrite it;
//   - SetLatency: every request waits before it is served;
//   - Down and Up: the node stops (connections are refused) and starts again on the same port.
//
// A request is named by its JSON-RPC method (the first call's, for a batch) or its beacon endpoint
// (genesis, spec, version, blob_sidecars, blobs). Requests counts the calls (each call of a batch), RoundTrips
// the HTTP requests.
type Endpoint struct {
	name    string // L1, L2 or beacon, for messages
	handler http.Handler
	// beaconName names a beacon request ("" for a path the API does not have); nil for JSON-RPC.
	beaconName func(*http.Request) string
	closing    <-chan struct{}
	addr       string

	mu       sync.Mutex
	srv      *http.Server      // nil while down
	fresh    map[net.Conn]bool // connections that have not sent a request yet
	counts   map[string]uint64
	trips    uint64
	queue    []queuedFault
	dropped  map[string]bool
	noBatch  bool
	tamper   Tamper
	latency  time.Duration
	injected int
}

func newEndpoint(name string, h http.Handler, beaconName func(*http.Request) string, closing <-chan struct{}) *Endpoint {
	return &Endpoint{name: name, handler: h, beaconName: beaconName, closing: closing, fresh: map[net.Conn]bool{},
		counts: map[string]uint64{}, dropped: map[string]bool{}}
}

// A RequestFault is what an endpoint does with one request instead of serving it plainly. Set one field.
type RequestFault struct {
	// Status answers with this HTTP status, without serving the request.
	Status int
	// RPCError answers every JSON-RPC call of the request with a server error (-32000); a beacon request
	// gets HTTP 500.
	RPCError bool
	// Hang holds the request, unanswered, until the client gives up.
	Hang bool
	// Truncate serves the request, then sends only the first half of the answer under its full
	// Content-Length and closes the connection.
	Truncate bool
	// Tamper serves the request, then rewrites its answers.
	Tamper Tamper
}

// The faults a node shows most often.
var (
	Fail500       = RequestFault{Status: http.StatusInternalServerError}
	Fail502       = RequestFault{Status: http.StatusBadGateway}
	FailRPC       = RequestFault{RPCError: true}
	FailHang      = RequestFault{Hang: true}
	FailTruncated = RequestFault{Truncate: true}
)

// String names the fault.
func (f RequestFault) String() string {
	switch {
	case f.Status != 0:
		return strconv.Itoa(f.Status)
	case f.RPCError:
		return "JSON-RPC error"
	case f.Hang:
		return "no answer"
	case f.Truncate:
		return "truncated answer"
	case f.Tamper != nil:
		return "tampered answer"
	}
	return "none"
}

// An Answer is one answer an endpoint is about to send: a JSON-RPC call's result or error, or the body
// of a beacon API answer with status 200 (in Result). A Tamper may rewrite it.
type Answer struct {
	// Name is the JSON-RPC method or the beacon endpoint.
	Name string
	// Params are the JSON-RPC call's parameters (nil for the beacon API).
	Params json.RawMessage
	// Result is the call's result, or the beacon answer's body; nil when Error is set.
	Result json.RawMessage
	// Error is the call's JSON-RPC error (nil for the beacon API). A Tamper that sets it sets Result to nil.
	Error *RPCError
}

// RPCError is a JSON-RPC error object.
type RPCError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// A Tamper may rewrite an answer before it is sent.
type Tamper func(*Answer)

// queuedFault is a fault for the next request named name ("" for any).
type queuedFault struct {
	name  string
	fault RequestFault
}

// URL is the endpoint's base URL (http://127.0.0.1:port).
func (e *Endpoint) URL() string { return "http://" + e.addr }

// Inject queues faults for the next requests named name ("" for any request): each such request takes
// the next fault, in order; requests that match no queued fault are served.
func (e *Endpoint) Inject(name string, faults ...RequestFault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, f := range faults {
		e.queue = append(e.queue, queuedFault{name, f})
	}
}

// Injected is how many queued faults requests have taken.
func (e *Endpoint) Injected() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.injected
}

// Drop makes a JSON-RPC method unknown (-32601, as a node without it answers), or a beacon endpoint
// answer 404.
func (e *Endpoint) Drop(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dropped[name] = true
}

// RefuseBatches makes the node answer every JSON-RPC batch with a single error object (-32600) instead of
// a list of answers, as nodes and gateways that do not serve batches do.
func (e *Endpoint) RefuseBatches() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.noBatch = true
}

// SetTamper passes every answer through t (nil: none).
func (e *Endpoint) SetTamper(t Tamper) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tamper = t
}

// SetLatency delays every request by d before it is served, as a node across a network would.
func (e *Endpoint) SetLatency(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.latency = d
}

// Requests is how many requests named name the endpoint received (a batch counts each call), served or
// not.
func (e *Endpoint) Requests(name string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return int(e.counts[name])
}

// RoundTrips is how many HTTP requests the endpoint received (a batch is one), served or not.
func (e *Endpoint) RoundTrips() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return int(e.trips)
}

// ResetRequests zeroes the request and round-trip counts.
func (e *Endpoint) ResetRequests() {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.counts)
	e.trips = 0
}

func (e *Endpoint) requests() map[string]uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.counts)
}

// listen starts serving on addr ("127.0.0.1:0": a free port, kept across Down and Up).
func (e *Endpoint) listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	e.addr = l.Addr().String()
	e.serve(l)
	return nil
}

func (e *Endpoint) serve(l net.Listener) {
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, ConnState: e.connState}
	e.mu.Lock()
	e.srv = srv
	e.mu.Unlock()
	go func() { _ = srv.Serve(l) }() // returns http.ErrServerClosed on Close
}

// Down stops the node: its port is closed and open connections are cut, so requests fail to connect.
func (e *Endpoint) Down() {
	e.mu.Lock()
	srv := e.srv
	e.srv = nil
	e.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Up starts the node again on the same port.
func (e *Endpoint) Up() error {
	var err error
	for range 50 { // the port may linger a moment after Down
		var l net.Listener
		if l, err = net.Listen("tcp", e.addr); err == nil {
			e.serve(l)
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s node up again on %s: %w", e.name, e.addr, err)
}

// connState tracks the connections that have not sent a request yet.
func (e *Endpoint) connState(c net.Conn, state http.ConnState) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if state == http.StateNew {
		e.fresh[c] = true
	} else {
		delete(e.fresh, c)
	}
}

// stop shuts the endpoint down, waiting until ctx ends for requests in flight. Connections without a
// request are closed at once: a client's transport opens spare ones, which http.Server's Shutdown would
// wait for (five seconds) as if a request were coming.
func (e *Endpoint) stop(ctx context.Context) error {
	e.mu.Lock()
	srv := e.srv
	e.srv = nil
	e.mu.Unlock()
	if srv == nil {
		return nil
	}
	srv.SetKeepAlivesEnabled(false)
	e.mu.Lock()
	fresh := slices.Collect(maps.Keys(e.fresh))
	e.mu.Unlock()
	for _, c := range fresh {
		_ = c.Close()
	}
	if srv.Shutdown(ctx) == nil {
		return nil
	}
	return srv.Close() // requests still running: cut them off
}

// rpcCall is one call of a JSON-RPC request.
type rpcCall struct {
	Version string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`
}

// rpcAnswer is one answer of a JSON-RPC response.
type rpcAnswer struct {
	Version string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *RPCError       `json:"error,omitempty"`
}

// request is an incoming request as the endpoint sees it.
type request struct {
	body  []byte
	calls []rpcCall // JSON-RPC calls (nil if the body is not JSON-RPC, or for the beacon API)
	batch bool
	name  string
}

func (e *Endpoint) parse(r *http.Request) (*request, error) {
	req := &request{}
	if e.beaconName != nil {
		req.name = e.beaconName(r)
		return req, nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	req.body = body
	trimmed := bytes.TrimSpace(body)
	if req.batch = len(trimmed) > 0 && trimmed[0] == '['; req.batch {
		_ = json.Unmarshal(trimmed, &req.calls)
	} else {
		var c rpcCall
		if json.Unmarshal(trimmed, &c) == nil {
			req.calls = []rpcCall{c}
		}
	}
	if len(req.calls) > 0 {
		req.name = req.calls[0].Method
	}
	return req, nil
}

// ServeHTTP counts the request, applies the faults it is due, and serves it.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := e.parse(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fault, dropped, tamper, latency, noBatch := e.receive(req)
	if latency > 0 && !e.wait(r, time.After(latency)) {
		return
	}
	switch {
	case fault.Status != 0:
		e.writeError(w, fault.Status, "injected failure")
		return
	case fault.Hang:
		e.wait(r, nil)
		return
	case fault.RPCError && req.calls != nil:
		answers := make([]rpcAnswer, len(req.calls))
		for i, c := range req.calls {
			answers[i] = rpcAnswer{Version: "2.0", ID: c.ID, Error: &RPCError{Code: -32000, Message: "injected failure of " + c.Method}}
		}
		e.answersResponse(req, answers).writeTo(w)
		return
	case fault.RPCError:
		e.writeError(w, http.StatusInternalServerError, "injected failure")
		return
	case noBatch && req.batch:
		writeJSON(w, http.StatusOK, rpcAnswer{Version: "2.0", ID: json.RawMessage("null"),
			Error: &RPCError{Code: -32600, Message: "batch requests are not supported"}})
		return
	case e.beaconName != nil && dropped[req.name]:
		e.writeError(w, http.StatusNotFound, "endpoint not found")
		return
	}

	tampers := []Tamper{tamper, fault.Tamper}
	altered := tamper != nil || fault.Tamper != nil || fault.Truncate
	for _, c := range req.calls {
		altered = altered || dropped[c.Method]
	}
	if !altered {
		r.Body = io.NopCloser(bytes.NewReader(req.body))
		e.handler.ServeHTTP(w, r)
		return
	}
	var resp *bufferedResponse
	switch {
	case req.calls != nil:
		resp = e.serveCalls(r, req, dropped, tampers)
	case e.beaconName != nil:
		resp = e.serveBuffered(r, nil)
		if resp.status == http.StatusOK {
			a := &Answer{Name: req.name, Result: bytes.Clone(resp.body.Bytes())}
			for _, t := range tampers {
				if t != nil {
					t(a)
				}
			}
			resp.body.Reset()
			resp.body.Write(a.Result)
		}
	default: // not JSON-RPC: the server's own error, as it is
		resp = e.serveBuffered(r, req.body)
	}
	if fault.Truncate {
		e.writeTruncated(w, resp)
		return
	}
	resp.writeTo(w)
}

// receive counts a request and takes what it is due: its queued fault, if any, the dropped methods, the
// tamper, the latency and whether batches are refused.
func (e *Endpoint) receive(req *request) (RequestFault, map[string]bool, Tamper, time.Duration, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.trips++
	if e.beaconName != nil && req.name != "" {
		e.counts[req.name]++
	}
	for _, c := range req.calls {
		e.counts[c.Method]++
	}
	var fault RequestFault
	for i, q := range e.queue {
		if q.name == "" || q.name == req.name {
			fault = q.fault
			e.queue = append(e.queue[:i:i], e.queue[i+1:]...)
			e.injected++
			break
		}
	}
	return fault, maps.Clone(e.dropped), e.tamper, e.latency, e.noBatch
}

// wait holds the request until after fires (nil: never), the client gives up or the server stops; it
// reports whether after fired.
func (e *Endpoint) wait(r *http.Request, after <-chan time.Time) bool {
	select {
	case <-after:
		return true
	case <-r.Context().Done():
	case <-e.closing:
	}
	return false
}

// serveCalls serves the calls of a JSON-RPC request but the dropped ones, answers those as unknown
// methods, and passes every answer through the tampers.
func (e *Endpoint) serveCalls(r *http.Request, req *request, dropped map[string]bool, tampers []Tamper) *bufferedResponse {
	answers := make([]rpcAnswer, len(req.calls))
	var served []json.RawMessage
	var servedAt []int
	var raw []json.RawMessage
	if req.batch {
		_ = json.Unmarshal(req.body, &raw)
	} else {
		raw = []json.RawMessage{req.body}
	}
	for i, c := range req.calls {
		if dropped[c.Method] {
			answers[i] = rpcAnswer{Version: "2.0", ID: c.ID, Error: &RPCError{Code: -32601,
				Message: fmt.Sprintf("the method %s does not exist/is not available", c.Method)}}
			continue
		}
		served, servedAt = append(served, raw[i]), append(servedAt, i)
	}
	if len(served) > 0 {
		body := served[0]
		if req.batch {
			body, _ = json.Marshal(served)
		}
		resp := e.serveBuffered(r, body)
		if resp.status != http.StatusOK {
			return resp // an HTTP-level error: no JSON-RPC answers to tamper with
		}
		var got []rpcAnswer
		if req.batch {
			if err := json.Unmarshal(resp.body.Bytes(), &got); err != nil {
				return resp // e.g. a batch-wide error object
			}
		} else {
			var a rpcAnswer
			if err := json.Unmarshal(resp.body.Bytes(), &a); err != nil {
				return resp
			}
			got = []rpcAnswer{a}
		}
		byID := make(map[string]rpcAnswer, len(got))
		for _, a := range got {
			byID[compactID(a.ID)] = a
		}
		for _, i := range servedAt {
			a, ok := byID[compactID(req.calls[i].ID)]
			if !ok {
				a = rpcAnswer{Version: "2.0", ID: req.calls[i].ID, Error: &RPCError{Code: -32603, Message: "no answer"}}
			}
			answers[i] = a
		}
	}
	for i, c := range req.calls {
		a := &Answer{Name: c.Method, Params: c.Params, Result: answers[i].Result, Error: answers[i].Error}
		for _, t := range tampers {
			if t != nil {
				t(a)
			}
		}
		answers[i].Result, answers[i].Error = a.Result, a.Error
	}
	return e.answersResponse(req, answers)
}

// compactID is a JSON-RPC ID without white space, to match answers to calls.
func compactID(id json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, id) != nil {
		return string(id)
	}
	return b.String()
}

// serveBuffered serves body through the endpoint's handler and keeps the answer.
func (e *Endpoint) serveBuffered(r *http.Request, body []byte) *bufferedResponse {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	resp := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
	e.handler.ServeHTTP(resp, r2)
	return resp
}

func (e *Endpoint) answersResponse(req *request, answers []rpcAnswer) *bufferedResponse {
	var body []byte
	var err error
	if req.batch {
		body, err = json.Marshal(answers)
	} else {
		body, err = json.Marshal(answers[0])
	}
	resp := &bufferedResponse{header: http.Header{"Content-Type": {"application/json"}}, status: http.StatusOK}
	if err != nil {
		resp.status = http.StatusInternalServerError
		body = []byte(err.Error())
	}
	resp.body.Write(body)
	return resp
}

// writeError answers with an HTTP error: the beacon API's error object, or a line of text.
func (e *Endpoint) writeError(w http.ResponseWriter, status int, msg string) {
	if e.beaconName != nil {
		writeJSON(w, status, wire.BeaconError{Code: status, Message: msg})
		return
	}
	http.Error(w, msg, status)
}

// writeTruncated announces the whole answer but sends only half of it, then closes the connection.
func (e *Endpoint) writeTruncated(w http.ResponseWriter, resp *bufferedResponse) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "truncate: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	body := resp.body.Bytes()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		resp.status, http.StatusText(resp.status), resp.header.Get("Content-Type"), len(body))
	_, _ = buf.Write(body[:len(body)/2])
	_ = buf.Flush()
}

// bufferedResponse is an answer kept in memory, to be changed before it is sent.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedResponse) WriteHeader(status int)      { b.status = status }

func (b *bufferedResponse) writeTo(w http.ResponseWriter) {
	maps.Copy(w.Header(), b.header)
	w.Header().Set("Content-Length", strconv.Itoa(b.body.Len()))
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

package prefetch_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fault is what the proxy does with one request.
type fault int

const (
	pass           fault = iota // forward unchanged
	fail500                     // answer 500 without forwarding
	fail502                     // answer 502 without forwarding
	truncateBody                // forward, then send half the body under the full Content-Length and close
	delayPastLimit              // hold the request until the client gives up (client timeout)
	wrongData                   // forward, then change the block's gasUsed so its header no longer hashes right
)

func (f fault) String() string {
	return [...]string{"pass", "500", "502", "truncated body", "delay past timeout", "wrong data"}[f]
}

// faultProxy is a reverse proxy on 127.0.0.1 in front of a test node that injects scripted faults: each
// request takes the next fault of the script, and passes once the script is used up. Down and Up simulate
// a node restart: while down, the port is closed and connections are refused.
type faultProxy struct {
	t        *testing.T
	upstream string
	addr     string
	client   *http.Client

	mu       sync.Mutex
	srv      *http.Server
	script   []fault
	method   string // the script applies only to requests of this JSON-RPC method; "" means any request
	served   int    // requests that reached the proxy
	injected map[fault]int
}

func newFaultProxy(t *testing.T, upstream string) *faultProxy {
	t.Helper()
	p := &faultProxy{t: t, upstream: upstream, client: &http.Client{}, injected: map[fault]int{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p.addr = l.Addr().String()
	p.serve(l)
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.srv != nil {
			p.srv.Close()
		}
	})
	return p
}

func (p *faultProxy) URL() string { return "http://" + p.addr }

func (p *faultProxy) serve(l net.Listener) {
	srv := &http.Server{Handler: p}
	p.mu.Lock()
	p.srv = srv
	p.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

// Script queues faults for the next requests.
func (p *faultProxy) Script(faults ...fault) { p.ScriptFor("", faults...) }

// ScriptFor queues faults for the next requests of a JSON-RPC method (the first of a batch); other requests
// pass. Sources that send requests concurrently are scripted deterministically this way.
func (p *faultProxy) ScriptFor(method string, faults ...fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.method = method
	p.script = append(p.script, faults...)
}

// Down stops the "node": the listener and every open connection are closed, so new connections are refused.
func (p *faultProxy) Down() {
	p.mu.Lock()
	srv := p.srv
	p.srv = nil
	p.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Up starts the "node" again on the same address.
func (p *faultProxy) Up() {
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after Close
		if l, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		assert.Failf(p.t, "proxy restart", "on %s: %v", p.addr, err)
		return
	}
	p.serve(l)
}

// counts returns how many requests reached the proxy and how many faults were injected.
func (p *faultProxy) counts() (served, injected int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.injected {
		injected += n
	}
	return p.served, injected
}

// rpcMethod is the method of a JSON-RPC request body (of its first element for a batch).
func rpcMethod(body []byte) string {
	var msg struct {
		Method string `json:"method"`
	}
	if len(body) > 0 && body[0] == '[' {
		var msgs []json.RawMessage
		if json.Unmarshal(body, &msgs) != nil || len(msgs) == 0 {
			return ""
		}
		body = msgs[0]
	}
	_ = json.Unmarshal(body, &msg)
	return msg.Method
}

func (p *faultProxy) next(method string) fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.served++
	if len(p.script) == 0 || (p.method != "" && p.method != method) {
		return pass
	}
	f := p.script[0]
	p.script = p.script[1:]
	p.injected[f]++
	return f
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch f := p.next(rpcMethod(body)); f {
	case fail500, fail502:
		code := map[fault]int{fail500: http.StatusInternalServerError, fail502: http.StatusBadGateway}[f]
		http.Error(w, "injected "+f.String(), code)
		return
	case delayPastLimit:
		// The client times out and closes the connection, which cancels the request's context.
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
			assert.Fail(p.t, "client did not time out")
		}
		return
	case truncateBody, wrongData, pass:
		status, ctype, out, err := p.forward(r, body)
		if err != nil {
			http.Error(w, "proxy: "+err.Error(), http.StatusBadGateway)
			return
		}
		if f == wrongData {
			if out, err = alterGasUsed(out); err != nil {
				assert.Failf(p.t, "wrong data fault on a response without a block", "%v", err)
			}
		}
		if f == truncateBody {
			p.writeTruncated(w, status, ctype, out)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.WriteHeader(status)
		_, _ = w.Write(out)
	}
}

func (p *faultProxy) forward(r *http.Request, body []byte) (status int, ctype string, out []byte, err error) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return 0, "", nil, err
	}
	for _, h := range []string{"Content-Type", "Accept"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	out, err = io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), out, err
}

// writeTruncated announces the whole body but sends only half of it, then closes the connection.
func (p *faultProxy) writeTruncated(w http.ResponseWriter, status int, ctype string, out []byte) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		assert.Failf(p.t, "hijack", "%v", err)
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", status, http.StatusText(status), ctype, len(out))
	_, _ = buf.Write(out[:len(out)/2])
	_ = buf.Flush()
}

// alterGasUsed changes the gasUsed of the block in a JSON-RPC answer (the header then hashes differently).
func alterGasUsed(resp []byte) ([]byte, error) {
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(resp, &msg); err != nil {
		return resp, err
	}
	var block map[string]json.RawMessage
	if err := json.Unmarshal(msg["result"], &block); err != nil || block["gasUsed"] == nil {
		return resp, fmt.Errorf("no block in %.100s", resp)
	}
	var gas hexutil.Uint64
	if err := json.Unmarshal(block["gasUsed"], &gas); err != nil {
		return resp, err
	}
	block["gasUsed"], _ = json.Marshal(gas + 1)
	msg["result"], _ = json.Marshal(block)
	return json.Marshal(msg)
}

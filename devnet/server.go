package devnet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/rpc"
)

// A Server serves a devnet the way nodes serve a real chain, over HTTP on 127.0.0.1:
//
//   - L1 execution node, JSON-RPC (chain 900), and L2 execution node, JSON-RPC (chain 901), each with
//     eth_chainId, eth_blockNumber, eth_getBlockByHash, eth_getBlockByNumber (numbers; "earliest" is
//     genesis, every other tag the head), eth_getBlockReceipts, eth_getTransactionByHash,
//     eth_getTransactionByBlockHashAndIndex, eth_getTransactionByBlockNumberAndIndex,
//     eth_getTransactionReceipt, eth_getBalance, eth_getTransactionCount, eth_getCode, eth_getStorageAt,
//     eth_getProof, debug_dbGet, debug_getRawReceipts and debug_executionWitness;
//   - on the L2 endpoint also debug_executePayload (an "experimental" node for the host's witness fast
//     path) and op-node's optimism_outputAtBlock, optimism_syncStatus and optimism_rollupConfig;
//   - an L1 beacon node (REST): /eth/v1/beacon/genesis, /eth/v1/config/spec, /eth/v1/node/version,
//     /eth/v1/beacon/blob_sidecars/{block_id} and /eth/v1/beacon/blobs/{block_id}, slot n holding L1
//     block n.
//
// Each chain is imported into a new op-geth blockchain when the server starts, so every block is validated
// in full, and state, proofs, receipts and database reads come from op-geth itself. Answers have the shapes
// geth, op-node and beacon nodes give: an unknown block is null (or, for state queries, geth's "header not
// found" error), a malformed request is a JSON-RPC error, an unknown slot is a 404. Every L2 block is
// already batched on L1, so the sync status has everything at the head.
type Server struct {
	l1, l2  *execNode
	l2Debug *l2DebugAPI
	beacon  *beaconAPI
	servers []*http.Server
	rpcs    []*rpc.Server
	urls    [3]string // l1, l2, beacon
	counts  [3]*requestCounter

	closeOnce sync.Once
	closeErr  error
	done      chan struct{}
}

// Serve imports the devnet's chains and starts the L1, L2 and beacon servers on addr's host, which must be a
// loopback address ("127.0.0.1", "localhost" or empty, meaning 127.0.0.1). With port 0 the OS picks three
// free ports; with port p the servers listen on p (L1), p+1 (L2) and p+2 (beacon). The servers stop when
// ctx ends or Close is called.
func Serve(ctx context.Context, d *Devnet, addr string) (*Server, error) {
	ip, ports, err := listenAddrs(addr)
	if err != nil {
		return nil, err
	}
	s := &Server{done: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			_ = s.Close()
		}
	}()
	if s.l1, err = newExecNode("L1", d.L1Genesis(), d.l1Blocks); err != nil {
		return nil, err
	}
	if s.l2, err = newExecNode("L2", d.L2Genesis(), d.l2Blocks); err != nil {
		return nil, err
	}
	s.beacon = newBeaconAPI(d)

	l1RPC, err := s.newRPCServer(0, map[string]any{"eth": &ethAPI{s.l1}, "debug": &debugAPI{s.l1}})
	if err != nil {
		return nil, err
	}
	s.l2Debug = newL2DebugAPI(s.l2)
	l2RPC, err := s.newRPCServer(1, map[string]any{"eth": &ethAPI{s.l2}, "debug": s.l2Debug, "optimism": &rollupAPI{d: d, l2: s.l2}})
	if err != nil {
		return nil, err
	}
	s.counts[2] = newRequestCounter()
	handlers := []http.Handler{l1RPC, l2RPC, s.beacon.handler(s.counts[2])}
	for i, h := range handlers {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(ports[i])))
		if err != nil {
			return nil, fmt.Errorf("devnet server: %w", err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		s.servers = append(s.servers, srv)
		s.urls[i] = "http://" + l.Addr().String()
		go func() { _ = srv.Serve(l) }() // returns http.ErrServerClosed on Close
	}
	ok = true
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-s.done:
		}
	}()
	return s, nil
}

// CheckAddr reports whether Serve accepts addr, without listening.
func CheckAddr(addr string) error {
	_, _, err := listenAddrs(addr)
	return err
}

// listenAddrs checks addr and returns the IP to listen on and the three ports.
func listenAddrs(addr string) (string, [3]int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", [3]int{}, fmt.Errorf("devnet server address %q: %w", addr, err)
	}
	switch host {
	case "", "localhost", "127.0.0.1":
		host = "127.0.0.1"
	default:
		return "", [3]int{}, fmt.Errorf("devnet server address %q: the devnet only listens on 127.0.0.1", addr)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535-2 {
		return "", [3]int{}, fmt.Errorf("devnet server address %q: bad port", addr)
	}
	if port == 0 {
		return host, [3]int{}, nil
	}
	return host, [3]int{port, port + 1, port + 2}, nil
}

// newRPCServer makes the JSON-RPC server of endpoint i with the given namespaces, with geth's default
// batch limits and a request counter.
func (s *Server) newRPCServer(i int, apis map[string]any) (*rpc.Server, error) {
	srv := rpc.NewServer()
	s.rpcs = append(s.rpcs, srv)
	srv.SetBatchLimits(1000, 25_000_000)
	s.counts[i] = newRequestCounter()
	srv.SetRecorder(s.counts[i])
	for name, api := range apis {
		if err := srv.RegisterName(name, api); err != nil {
			return nil, fmt.Errorf("devnet server: %s API: %w", name, err)
		}
	}
	return srv, nil
}

// L1URL is the L1 execution node's JSON-RPC URL (http://127.0.0.1:port).
func (s *Server) L1URL() string { return s.urls[0] }

// L2URL is the L2 execution node's JSON-RPC URL, which also serves the optimism namespace.
func (s *Server) L2URL() string { return s.urls[1] }

// BeaconURL is the L1 beacon API's base URL.
func (s *Server) BeaconURL() string { return s.urls[2] }

// Done is closed when the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.done }

// Close stops the servers, waiting a little for requests in flight, and releases the chains. It is safe to
// call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var errs []error
		for _, srv := range s.servers {
			if srv.Shutdown(ctx) != nil { // requests still running: cut them off
				if err := srv.Close(); err != nil {
					errs = append(errs, err)
				}
			}
		}
		for _, r := range s.rpcs {
			r.Stop()
		}
		if s.l2Debug != nil {
			s.l2Debug.close()
		}
		for _, n := range []*execNode{s.l1, s.l2} {
			if n != nil {
				n.close()
			}
		}
		s.closeErr = errors.Join(errs...)
		close(s.done)
	})
	return s.closeErr
}

// RequestCounts are the requests a Server received: JSON-RPC calls by method (batch elements count one
// each), beacon API requests by endpoint (genesis, spec, version, blob_sidecars, blobs).
type RequestCounts struct {
	L1, L2, Beacon map[string]uint64
}

// Total is the number of requests to all three servers.
func (c RequestCounts) Total() uint64 {
	var n uint64
	for _, m := range []map[string]uint64{c.L1, c.L2, c.Beacon} {
		for _, v := range m {
			n += v
		}
	}
	return n
}

// Requests returns a copy of the request counters.
func (s *Server) Requests() RequestCounts {
	return RequestCounts{L1: s.counts[0].snapshot(), L2: s.counts[1].snapshot(), Beacon: s.counts[2].snapshot()}
}

// requestCounter counts requests by name. As an rpc.Recorder it sees every call the JSON-RPC server
// handles.
type requestCounter struct {
	mu sync.Mutex
	n  map[string]uint64
}

func newRequestCounter() *requestCounter { return &requestCounter{n: map[string]uint64{}} }

func (c *requestCounter) add(name string) {
	c.mu.Lock()
	c.n[name]++
	c.mu.Unlock()
}

func (c *requestCounter) snapshot() map[string]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.n)
}

// RecordIncoming counts a call (rpc.Recorder).
func (c *requestCounter) RecordIncoming(_ context.Context, msg rpc.RecordedMsg) rpc.RecordDone {
	if !msg.MsgIsResponse() {
		c.add(msg.MsgMethod())
	}
	return nil
}

// RecordOutgoing is not used by a server (rpc.Recorder).
func (c *requestCounter) RecordOutgoing(context.Context, rpc.RecordedMsg) rpc.RecordDone { return nil }

package devnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/faultproof/faultproof/rollup"
)

// A Backend is what a Server serves: an L1 and an L2 chain, each a genesis specification and its blocks
// (block 0 is the genesis block), and the blobs of the L1's blob transactions. *Devnet is one; tests
// serve smaller chains of their own (devnet/devnettest).
type Backend interface {
	L1Genesis() *core.Genesis
	// L1Block returns L1 block n, nil past the head.
	L1Block(n uint64) *types.Block
	L2Genesis() *core.Genesis
	// L2Block returns L2 block n, nil past the head.
	L2Block(n uint64) *types.Block
	// Blob returns the blob with a versioned hash, its KZG commitment and the L1 block that carried it.
	Blob(versionedHash common.Hash) (*kzg4844.Blob, kzg4844.Commitment, uint64, bool)
}

// A RollupBackend's L2 is derived from its L1 as op-node derives it: the L2 node then also serves
// op-node's optimism namespace. *Devnet is one.
type RollupBackend interface {
	Backend
	Rollup() *rollup.Config
	// Batch says where the batch of L2 block n (n >= 1) was posted, with its L1 origin and sequence
	// number.
	Batch(n uint64) BatchInfo
}

// A Server serves a Backend the way nodes serve a real chain, over HTTP on 127.0.0.1:
//
//   - L1 execution node, JSON-RPC, and L2 execution node, JSON-RPC, each with eth_chainId,
//     eth_blockNumber, eth_getBlockByHash, eth_getBlockByNumber (numbers; "earliest" is genesis, every
//     other tag the head), eth_getBlockReceipts, eth_getTransactionByHash,
//     eth_getTransactionByBlockHashAndIndex, eth_getTransactionByBlockNumberAndIndex,
//     eth_getTransactionReceipt, eth_getBalance, eth_getTransactionCount, eth_getCode, eth_getStorageAt,
//     eth_getProof, debug_dbGet, debug_getRawReceipts and debug_executionWitness;
//   - on the L2 endpoint also debug_executePayload (an "experimental" node for the host's witness fast
//     path) and, for a RollupBackend, op-node's optimism_outputAtBlock, optimism_syncStatus and
//     optimism_rollupConfig;
//   - an L1 beacon node (REST): /eth/v1/beacon/genesis, /eth/v1/config/spec, /eth/v1/node/version,
//     /eth/v1/beacon/blob_sidecars/{block_id} and /eth/v1/beacon/blobs/{block_id}, a slot every 12
//     seconds from the L1 genesis (on the devnet, slot n holds L1 block n).
//
// Each chain is imported into a new op-geth blockchain when the server starts, so every block is validated
// in full, and state, proofs, receipts and database reads come from op-geth itself. Answers have the shapes
// geth, op-node and beacon nodes give (package wire): an unknown block is null (or, for state queries,
// geth's "header not found" error), a malformed request is a JSON-RPC error, an unknown slot is a 404.
// Every L2 block is already batched on L1, so the sync status has everything at the head.
//
// Each of the three is an Endpoint, which counts its requests and can be told to misbehave (fail, refuse a
// method, lie, answer late, restart) for tests and benchmarks. An interop devnet (ServeInterop) has one L2
// endpoint per chain.
type Server struct {
	l1        *execNode
	l2        []*execNode
	l2Debug   []*l2DebugAPI
	rpcs      []*rpc.Server
	endpoints []*Endpoint // l1, the L2s, beacon

	closeOnce sync.Once
	closeErr  error
	closing   chan struct{} // closed when Close starts: requests held by a fault end
	done      chan struct{}
}

// Serve imports the backend's chains and starts the L1, L2 and beacon servers on addr's host, which must
// be a loopback address ("127.0.0.1", "localhost" or empty, meaning 127.0.0.1). With port 0 the OS picks
// three free ports; with port p the servers listen on p (L1), p+1 (L2) and p+2 (beacon). The servers stop
// when ctx ends or Close is called.
func Serve(ctx context.Context, b Backend, addr string) (*Server, error) {
	return serve(ctx, []Backend{b}, addr)
}

// ServeInterop serves an interop devnet as Serve serves one chain: the L1 node, one L2 node per chain (in
// chain ID order) and the beacon node, on ports p, p+1 to p+N and p+N+1 with port p.
func ServeInterop(ctx context.Context, x *Interop, addr string) (*Server, error) {
	backends := make([]Backend, len(x.chains))
	for i, d := range x.chains {
		backends[i] = d
	}
	return serve(ctx, backends, addr)
}

// serve serves the L2 chains of backends, which share the first one's L1.
func serve(ctx context.Context, backends []Backend, addr string) (*Server, error) {
	ip, ports, err := listenAddrs(addr, len(backends)+2)
	if err != nil {
		return nil, err
	}
	s := &Server{closing: make(chan struct{}), done: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			_ = s.Close()
		}
	}()
	b := backends[0]
	if s.l1, err = newExecNode("L1", b.L1Genesis(), blocks(b.L1Block)); err != nil {
		return nil, err
	}
	l1RPC, err := s.newRPCServer(map[string]any{"eth": &ethAPI{s.l1}, "debug": &debugAPI{s.l1}})
	if err != nil {
		return nil, err
	}
	s.endpoints = append(s.endpoints, newEndpoint("L1", l1RPC, nil, s.closing))
	for _, c := range backends {
		name := "L2"
		if len(backends) > 1 {
			name = fmt.Sprintf("L2 %v", c.L2Genesis().Config.ChainID)
		}
		l2, err := newExecNode(name, c.L2Genesis(), blocks(c.L2Block))
		if err != nil {
			return nil, err
		}
		s.l2 = append(s.l2, l2)
		dbg := newL2DebugAPI(l2)
		s.l2Debug = append(s.l2Debug, dbg)
		apis := map[string]any{"eth": &ethAPI{l2}, "debug": dbg}
		if rb, ok := c.(RollupBackend); ok {
			apis["optimism"] = &rollupAPI{b: rb, l1: s.l1, l2: l2}
		}
		l2RPC, err := s.newRPCServer(apis)
		if err != nil {
			return nil, err
		}
		s.endpoints = append(s.endpoints, newEndpoint(name, l2RPC, nil, s.closing))
	}
	beacon, beaconName := newBeaconAPI(b).handler()
	s.endpoints = append(s.endpoints, newEndpoint("beacon", beacon, beaconName, s.closing))
	for i, e := range s.endpoints {
		if err := e.listen(net.JoinHostPort(ip, strconv.Itoa(ports[i]))); err != nil {
			return nil, fmt.Errorf("devnet server: %w", err)
		}
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

// blocks lists a chain's blocks, from genesis to the head.
func blocks(block func(uint64) *types.Block) []*types.Block {
	var out []*types.Block
	for n := uint64(0); block(n) != nil; n++ {
		out = append(out, block(n))
	}
	return out
}

// CheckAddr reports whether Serve accepts addr, without listening.
func CheckAddr(addr string) error {
	_, _, err := listenAddrs(addr, 3)
	return err
}

// listenAddrs checks addr and returns the IP to listen on and n ports (all 0 for port 0).
func listenAddrs(addr string, n int) (string, []int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", nil, fmt.Errorf("devnet server address %q: %w", addr, err)
	}
	switch host {
	case "", "localhost", "127.0.0.1":
		host = "127.0.0.1"
	default:
		return "", nil, fmt.Errorf("devnet server address %q: the devnet only listens on 127.0.0.1", addr)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535-(n-1) {
		return "", nil, fmt.Errorf("devnet server address %q: bad port", addr)
	}
	ports := make([]int, n)
	for i := range ports {
		if port != 0 {
			ports[i] = port + i
		}
	}
	return host, ports, nil
}

// newRPCServer makes a JSON-RPC server with the given namespaces and geth's default batch limits.
func (s *Server) newRPCServer(apis map[string]any) (*rpc.Server, error) {
	srv := rpc.NewServer()
	s.rpcs = append(s.rpcs, srv)
	srv.SetBatchLimits(1000, 25_000_000)
	for name, api := range apis {
		if err := srv.RegisterName(name, api); err != nil {
			return nil, fmt.Errorf("devnet server: %s API: %w", name, err)
		}
	}
	return srv, nil
}

// L1URL is the L1 execution node's JSON-RPC URL (http://127.0.0.1:port).
func (s *Server) L1URL() string { return s.L1().URL() }

// L2URL is the (first) L2 execution node's JSON-RPC URL, which also serves the optimism namespace.
func (s *Server) L2URL() string { return s.L2().URL() }

// L2URLs are the L2 execution nodes' JSON-RPC URLs, one per chain in chain ID order.
func (s *Server) L2URLs() []string {
	var out []string
	for _, e := range s.L2s() {
		out = append(out, e.URL())
	}
	return out
}

// BeaconURL is the L1 beacon API's base URL.
func (s *Server) BeaconURL() string { return s.Beacon().URL() }

// L1 is the L1 execution node.
func (s *Server) L1() *Endpoint { return s.endpoints[0] }

// L2 is the (first) L2 execution node.
func (s *Server) L2() *Endpoint { return s.endpoints[1] }

// L2s are the L2 execution nodes, one per chain in chain ID order.
func (s *Server) L2s() []*Endpoint { return slices.Clone(s.endpoints[1 : len(s.endpoints)-1]) }

// Beacon is the L1 beacon node.
func (s *Server) Beacon() *Endpoint { return s.endpoints[len(s.endpoints)-1] }

// Done is closed when the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.done }

// Close stops the servers, waiting a little for requests in flight, and releases the chains. It is safe to
// call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var errs []error
		for _, e := range s.endpoints {
			if e != nil {
				if err := e.stop(ctx); err != nil {
					errs = append(errs, err)
				}
			}
		}
		for _, r := range s.rpcs {
			r.Stop()
		}
		for _, d := range s.l2Debug {
			d.close()
		}
		for _, n := range append([]*execNode{s.l1}, s.l2...) {
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
// each), beacon API requests by endpoint (genesis, spec, version, blob_sidecars, blobs). L2 has the first
// chain's, L2s every chain's.
type RequestCounts struct {
	L1, L2, Beacon map[string]uint64
	L2s            []map[string]uint64
}

// Total is the number of requests to all the servers.
func (c RequestCounts) Total() uint64 {
	var n uint64
	l2s := c.L2s
	if l2s == nil {
		l2s = []map[string]uint64{c.L2}
	}
	for _, m := range append([]map[string]uint64{c.L1, c.Beacon}, l2s...) {
		for _, v := range m {
			n += v
		}
	}
	return n
}

// Requests returns a copy of the request counters.
func (s *Server) Requests() RequestCounts {
	c := RequestCounts{L1: s.L1().requests(), Beacon: s.Beacon().requests()}
	for _, e := range s.L2s() {
		c.L2s = append(c.L2s, e.requests())
	}
	c.L2 = c.L2s[0]
	return c
}

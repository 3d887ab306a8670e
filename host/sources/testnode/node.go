package testnode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/stateless"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// Backend is the chain a Node serves.
type Backend interface {
	ChainID() uint64
	Block(hash common.Hash) (*types.Block, bool)
	// Receipts of a block; ok is false if the backend has none.
	Receipts(hash common.Hash) (types.Receipts, bool)
	// State opens the state at a root (nil if the backend has no state).
	State(root common.Hash) (*state.StateDB, error)
	// DBGet reads the raw database (hash-scheme trie nodes by hash, code under 'c' ++ hash).
	DBGet(key []byte) ([]byte, bool)
	// Witness is the execution witness of the block built on parent.
	Witness(parent common.Hash) (*stateless.ExtWitness, error)
}

// Tamper may rewrite the JSON result of a method before it is sent.
type Tamper func(method string, args []any, result json.RawMessage) json.RawMessage

// Node serves a Backend over JSON-RPC on 127.0.0.1 (eth_chainId, eth_getBlockByHash, eth_getBlockReceipts,
// eth_getTransactionReceipt, eth_getProof, debug_dbGet, debug_getRawReceipts, debug_executePayload).
type Node struct {
	URL     string
	backend Backend
	srv     *httptest.Server
	rpc     *rpc.Server

	mu          sync.Mutex
	failHTTP    int
	failCalls   map[string]int
	unsupported map[string]bool
	tamper      Tamper
	requests    map[string]int
}

// NewNode starts a server for b; Close stops it.
func NewNode(b Backend) (*Node, error) {
	n := &Node{backend: b, rpc: rpc.NewServer(), failCalls: map[string]int{}, unsupported: map[string]bool{}, requests: map[string]int{}}
	if err := n.rpc.RegisterName("eth", &ethAPI{n}); err != nil {
		return nil, err
	}
	if err := n.rpc.RegisterName("debug", &debugAPI{n}); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	n.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(n.serveHTTP)}}
	n.srv.Start()
	n.URL = n.srv.URL
	return n, nil
}

// Close stops the server.
func (n *Node) Close() {
	n.srv.Close()
	n.rpc.Stop()
}

func (n *Node) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var msgs []struct {
		Method string `json:"method"`
	}
	if len(body) > 0 && body[0] == '[' {
		_ = json.Unmarshal(body, &msgs)
	} else {
		msgs = append(msgs, struct {
			Method string `json:"method"`
		}{})
		_ = json.Unmarshal(body, &msgs[0])
	}
	n.mu.Lock()
	for _, m := range msgs {
		n.requests[m.Method]++
	}
	fail := n.failHTTP > 0
	if fail {
		n.failHTTP--
	}
	n.mu.Unlock()
	if fail {
		http.Error(w, "injected failure", http.StatusInternalServerError)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	n.rpc.ServeHTTP(w, r)
}

// FailHTTP makes the next k HTTP requests fail with status 500.
func (n *Node) FailHTTP(k int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.failHTTP = k
}

// FailCalls makes the next k calls of method fail with a JSON-RPC server error.
func (n *Node) FailCalls(method string, k int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.failCalls[method] = k
}

// Unsupported makes method answer "method not found".
func (n *Node) Unsupported(method string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.unsupported[method] = true
}

// SetTamper installs (or, with nil, removes) a result rewriter.
func (n *Node) SetTamper(t Tamper) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.tamper = t
}

// Requests is how many requests of method the server received (batch elements included).
func (n *Node) Requests(method string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.requests[method]
}

// ResetRequests zeroes the request counts.
func (n *Node) ResetRequests() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.requests = map[string]int{}
}

type methodNotFound struct{ method string }

func (e methodNotFound) Error() string {
	return fmt.Sprintf("the method %s does not exist/is not available", e.method)
}
func (e methodNotFound) ErrorCode() int { return -32601 }

type serverError struct{ method string }

func (e serverError) Error() string  { return fmt.Sprintf("injected failure of %s", e.method) }
func (e serverError) ErrorCode() int { return -32000 }

// answer runs a method's body with the node's failure and tampering rules.
func (n *Node) answer(method string, args []any, result func() (any, error)) (json.RawMessage, error) {
	n.mu.Lock()
	unsupported := n.unsupported[method]
	fail := n.failCalls[method] > 0
	if fail {
		n.failCalls[method]--
	}
	tamper := n.tamper
	n.mu.Unlock()
	if unsupported {
		return nil, methodNotFound{method}
	}
	if fail {
		return nil, serverError{method}
	}
	v, err := result()
	if err != nil {
		return nil, err
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if tamper != nil {
		enc = tamper(method, args, enc)
	}
	return enc, nil
}

// BlockJSON is a block as eth_getBlockByHash returns it: the header fields (with hash), the transactions
// (objects if full, hashes otherwise), uncles and size.
func BlockJSON(b *types.Block, full bool) (map[string]any, error) {
	hj, err := json.Marshal(b.Header())
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(hj, &m); err != nil {
		return nil, err
	}
	if full {
		m["transactions"] = b.Transactions()
	} else {
		hashes := make([]common.Hash, len(b.Transactions()))
		for i, tx := range b.Transactions() {
			hashes[i] = tx.Hash()
		}
		m["transactions"] = hashes
	}
	m["uncles"] = []common.Hash{}
	m["size"] = hexutil.Uint64(b.Size())
	return m, nil
}

type ethAPI struct{ n *Node }

func (a *ethAPI) ChainId() (json.RawMessage, error) {
	return a.n.answer("eth_chainId", nil, func() (any, error) { return hexutil.Uint64(a.n.backend.ChainID()), nil })
}

func (a *ethAPI) GetBlockByHash(hash common.Hash, full bool) (json.RawMessage, error) {
	return a.n.answer("eth_getBlockByHash", []any{hash, full}, func() (any, error) {
		b, ok := a.n.backend.Block(hash)
		if !ok {
			return nil, nil
		}
		return BlockJSON(b, full)
	})
}

func blockHashArg(bh rpc.BlockNumberOrHash) (common.Hash, error) {
	h, ok := bh.Hash()
	if !ok {
		return common.Hash{}, errors.New("this test node only serves blocks by hash")
	}
	return h, nil
}

func (a *ethAPI) GetBlockReceipts(bh rpc.BlockNumberOrHash) (json.RawMessage, error) {
	h, err := blockHashArg(bh)
	if err != nil {
		return nil, err
	}
	return a.n.answer("eth_getBlockReceipts", []any{h}, func() (any, error) {
		rs, ok := a.n.backend.Receipts(h)
		if !ok {
			return nil, nil
		}
		return rs, nil
	})
}

func (a *ethAPI) GetTransactionReceipt(txHash common.Hash) (json.RawMessage, error) {
	return a.n.answer("eth_getTransactionReceipt", []any{txHash}, func() (any, error) {
		if r := findReceipt(a.n.backend, txHash); r != nil {
			return r, nil
		}
		return nil, nil
	})
}

// findReceipt scans the backend's blocks; a test chain is small.
func findReceipt(b Backend, txHash common.Hash) *types.Receipt {
	type lister interface{ AllBlocks() []*types.Block }
	l, ok := b.(lister)
	if !ok {
		return nil
	}
	for _, blk := range l.AllBlocks() {
		rs, ok := b.Receipts(blk.Hash())
		if !ok {
			continue
		}
		for _, r := range rs {
			if r.TxHash == txHash {
				return r
			}
		}
	}
	return nil
}

type storageResult struct {
	Key   string       `json:"key"`
	Value *hexutil.Big `json:"value"`
	Proof []string     `json:"proof"`
}

type accountResult struct {
	Address      common.Address  `json:"address"`
	AccountProof []string        `json:"accountProof"`
	Balance      *hexutil.Big    `json:"balance"`
	CodeHash     common.Hash     `json:"codeHash"`
	Nonce        hexutil.Uint64  `json:"nonce"`
	StorageHash  common.Hash     `json:"storageHash"`
	StorageProof []storageResult `json:"storageProof"`
}

// proofList collects proof nodes as op-geth's Prove writes them.
type proofList []string

func (l *proofList) Put(_ []byte, value []byte) error {
	*l = append(*l, hexutil.Encode(value))
	return nil
}
func (l *proofList) Delete([]byte) error { return errors.New("not supported") }

func (a *ethAPI) GetProof(addr common.Address, keys []string, bh rpc.BlockNumberOrHash) (json.RawMessage, error) {
	h, err := blockHashArg(bh)
	if err != nil {
		return nil, err
	}
	return a.n.answer("eth_getProof", []any{addr, keys, h}, func() (any, error) {
		b, ok := a.n.backend.Block(h)
		if !ok {
			return nil, fmt.Errorf("block %s not found", h)
		}
		root := b.Root()
		st, err := a.n.backend.State(root)
		if err != nil {
			return nil, err
		}
		res := &accountResult{
			Address: addr, Balance: (*hexutil.Big)(st.GetBalance(addr).ToBig()), CodeHash: st.GetCodeHash(addr),
			Nonce: hexutil.Uint64(st.GetNonce(addr)), StorageHash: st.GetStorageRoot(addr),
		}
		if res.StorageHash == (common.Hash{}) {
			res.StorageHash = types.EmptyRootHash
		}
		tr, err := st.Database().OpenTrie(root)
		if err != nil {
			return nil, err
		}
		var accProof proofList
		if err := tr.Prove(crypto.Keccak256(addr[:]), &accProof); err != nil {
			return nil, err
		}
		res.AccountProof = accProof
		for _, k := range keys {
			key := common.HexToHash(k)
			sr := storageResult{Key: k, Value: (*hexutil.Big)(new(big.Int).SetBytes(st.GetState(addr, key).Bytes())), Proof: []string{}}
			if res.StorageHash != types.EmptyRootHash {
				str, err := st.Database().OpenStorageTrie(root, addr, res.StorageHash, tr)
				if err != nil {
					return nil, err
				}
				var p proofList
				if err := str.Prove(crypto.Keccak256(key[:]), &p); err != nil {
					return nil, err
				}
				sr.Proof = p
			}
			res.StorageProof = append(res.StorageProof, sr)
		}
		return res, nil
	})
}

type debugAPI struct{ n *Node }

func (a *debugAPI) DbGet(key string) (json.RawMessage, error) {
	k, err := common.ParseHexOrString(key)
	if err != nil {
		return nil, err
	}
	return a.n.answer("debug_dbGet", []any{k}, func() (any, error) {
		v, ok := a.n.backend.DBGet(k)
		if !ok {
			return nil, errors.New("not found")
		}
		return hexutil.Bytes(v), nil
	})
}

func (a *debugAPI) GetRawReceipts(bh rpc.BlockNumberOrHash) (json.RawMessage, error) {
	h, err := blockHashArg(bh)
	if err != nil {
		return nil, err
	}
	return a.n.answer("debug_getRawReceipts", []any{h}, func() (any, error) {
		rs, ok := a.n.backend.Receipts(h)
		if !ok {
			return nil, fmt.Errorf("block %s not found", h)
		}
		out := make([]hexutil.Bytes, len(rs))
		for i, r := range rs {
			enc, err := r.MarshalBinary()
			if err != nil {
				return nil, err
			}
			out[i] = enc
		}
		return out, nil
	})
}

func (a *debugAPI) ExecutePayload(parent common.Hash, attrs *rollup.PayloadAttributes) (json.RawMessage, error) {
	return a.n.answer("debug_executePayload", []any{parent, attrs}, func() (any, error) {
		if attrs == nil {
			return nil, errors.New("no payload attributes")
		}
		return a.n.backend.Witness(parent)
	})
}

// L1Backend serves an L1Chain.
type L1Backend struct{ C *L1Chain }

func (b L1Backend) ChainID() uint64 { return b.C.Config.ChainID.Uint64() }
func (b L1Backend) Block(h common.Hash) (*types.Block, bool) {
	n, ok := b.C.ByHash(h)
	if !ok {
		return nil, false
	}
	return b.C.Blocks[n], true
}
func (b L1Backend) Receipts(h common.Hash) (types.Receipts, bool) {
	n, ok := b.C.ByHash(h)
	if !ok {
		return nil, false
	}
	rs := b.C.Receipts[n]
	if rs == nil {
		rs = types.Receipts{}
	}
	return rs, true
}
func (b L1Backend) AllBlocks() []*types.Block                 { return b.C.Blocks }
func (b L1Backend) State(common.Hash) (*state.StateDB, error) { return nil, errors.New("no L1 state") }
func (b L1Backend) DBGet([]byte) ([]byte, bool)               { return nil, false }
func (b L1Backend) Witness(common.Hash) (*stateless.ExtWitness, error) {
	return nil, errors.New("no L1 execution")
}

// L2Backend serves a devnet L2 builder's chain: blocks, state, database reads from its preimages, and
// execution witnesses. It has no receipts.
type L2Backend struct {
	B         *devnet.L2Builder
	preimages map[[32]byte][]byte
	// LegacyCode lists code hashes stored without the 'c' prefix.
	LegacyCode map[common.Hash]bool
}

// NewL2Backend wraps b.
func NewL2Backend(b *devnet.L2Builder) (*L2Backend, error) {
	pre, err := b.Preimages()
	if err != nil {
		return nil, err
	}
	return &L2Backend{B: b, preimages: pre, LegacyCode: map[common.Hash]bool{}}, nil
}

func (b *L2Backend) ChainID() uint64 { return b.B.Config().ChainID.Uint64() }
func (b *L2Backend) Block(h common.Hash) (*types.Block, bool) {
	n, ok := b.number(h)
	if !ok {
		return nil, false
	}
	return b.B.Block(n), true
}
func (b *L2Backend) number(h common.Hash) (uint64, bool) {
	for n := uint64(0); n <= b.B.Head().NumberU64(); n++ {
		if b.B.Block(n).Hash() == h {
			return n, true
		}
	}
	return 0, false
}
func (b *L2Backend) Receipts(common.Hash) (types.Receipts, bool)    { return nil, false }
func (b *L2Backend) State(root common.Hash) (*state.StateDB, error) { return b.B.StateAt(root) }
func (b *L2Backend) DBGet(key []byte) ([]byte, bool) {
	var h common.Hash
	switch {
	case len(key) == 32:
		h = common.Hash(key)
	case len(key) == 33 && key[0] == 'c':
		h = common.Hash(key[1:])
		if b.LegacyCode[h] {
			return nil, false
		}
	default:
		return nil, false
	}
	v, ok := b.preimages[preimage.Keccak256Key(h).PreimageKey()]
	return v, ok
}
func (b *L2Backend) Witness(parent common.Hash) (*stateless.ExtWitness, error) {
	n, ok := b.number(parent)
	if !ok || n >= b.B.Head().NumberU64() {
		return nil, fmt.Errorf("no block on %s", parent)
	}
	return b.B.ExecutionWitness(n + 1)
}

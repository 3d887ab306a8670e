package sources

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/lru"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/faultproof/faultproof/host/sources/wire"
	"github.com/faultproof/faultproof/preimage/layout"
)

// Block is a block checked against its hash: the header hashes to it and the transactions rebuild the
// header's transactions root.
type Block struct {
	Header *types.Header
	// HeaderRLP is the header's RLP encoding, whose keccak256 is the block hash.
	HeaderRLP []byte
	// Transactions are the canonical (consensus) encodings, in block order.
	Transactions [][]byte
}

// Hash is the block hash.
func (b *Block) Hash() common.Hash { return crypto.Keccak256Hash(b.HeaderRLP) }

// Receipts are a block's receipts checked against its header's receipts root.
type Receipts struct {
	Header *types.Header
	// Encoded are the receipts as the receipts trie holds them, in block order.
	Encoded [][]byte
}

// headerCacheSize is how many checked headers a client keeps: they are immutable by hash, and account
// proofs of one block ask for its state root again and again.
const headerCacheSize = 256

// ethSource is what L1 and L2 execution nodes have in common.
type ethSource struct {
	rpc     *rpcConn
	name    string // "L1" or "L2", for messages
	headers *lru.Cache[common.Hash, *types.Header]
}

func newEthSource(c *rpc.Client, name string, opts Options) ethSource {
	return ethSource{rpc: &rpcConn{c: c, opts: opts}, name: name, headers: lru.NewCache[common.Hash, *types.Header](headerCacheSize)}
}

// Close closes the underlying RPC client.
func (s *ethSource) Close() { s.rpc.c.Close() }

// ChainID asks the node for its chain ID.
func (s *ethSource) ChainID(ctx context.Context) (uint64, error) {
	var id hexutil.Big
	if err := s.rpc.call(ctx, &id, "eth_chainId"); err != nil {
		return 0, fmt.Errorf("%s chain ID: %w", s.name, err)
	}
	if !id.ToInt().IsUint64() {
		return 0, invalid("%s chain ID %s does not fit 64 bits", s.name, id.ToInt())
	}
	return id.ToInt().Uint64(), nil
}

// getBlock calls eth_getBlockByHash and checks the header against hash. It returns the header, its RLP
// and the raw transaction entries (objects when full, hashes otherwise).
func (s *ethSource) getBlock(ctx context.Context, hash common.Hash, full bool) (*types.Header, []byte, []json.RawMessage, error) {
	var raw json.RawMessage
	if err := s.rpc.call(ctx, &raw, "eth_getBlockByHash", hash, full); err != nil {
		return nil, nil, nil, fmt.Errorf("%s block %s: %w", s.name, hash, err)
	}
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil, nil, fmt.Errorf("%s block %s: %w", s.name, hash, ErrNotFound)
	}
	// op-geth's header JSON includes the OP Stack's use of withdrawalsRoot, requestsHash and blobGasUsed.
	var blk wire.Block
	if err := json.Unmarshal(raw, &blk); err != nil {
		return nil, nil, nil, invalid("%s block %s: %v", s.name, hash, err)
	}
	enc, err := rlp.EncodeToBytes(blk.Header)
	if err != nil {
		return nil, nil, nil, invalid("%s block %s: header: encode: %v", s.name, hash, err)
	}
	if got := crypto.Keccak256Hash(enc); got != hash {
		return nil, nil, nil, invalid("%s block %s: header hashes to %s", s.name, hash, got)
	}
	s.headers.Add(hash, blk.Header)
	return blk.Header, enc, blk.Transactions, nil
}

// HeaderByHash returns the header of the block with the given hash, checked against it.
func (s *ethSource) HeaderByHash(ctx context.Context, hash common.Hash) (*types.Header, error) {
	if h, ok := s.headers.Get(hash); ok {
		return types.CopyHeader(h), nil
	}
	h, _, _, err := s.getBlock(ctx, hash, false)
	if err != nil {
		return nil, err
	}
	return types.CopyHeader(h), nil
}

// BlockHashByNumber returns the hash of the node's canonical block with the given number. Nothing can be
// checked about it here: callers check what they read by the hash (an output root, which commits to it).
func (s *ethSource) BlockHashByNumber(ctx context.Context, n uint64) (common.Hash, error) {
	var raw json.RawMessage
	if err := s.rpc.call(ctx, &raw, "eth_getBlockByNumber", hexutil.Uint64(n), false); err != nil {
		return common.Hash{}, fmt.Errorf("%s block %d: %w", s.name, n, err)
	}
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return common.Hash{}, fmt.Errorf("%s block %d: %w", s.name, n, ErrNotFound)
	}
	var b struct {
		Hash   *common.Hash    `json:"hash"`
		Number *hexutil.Uint64 `json:"number"`
	}
	if err := json.Unmarshal(raw, &b); err != nil || b.Hash == nil || b.Number == nil {
		return common.Hash{}, invalid("%s block %d: no hash and number", s.name, n)
	}
	if uint64(*b.Number) != n {
		return common.Hash{}, invalid("%s block %d: the node answered block %d", s.name, n, uint64(*b.Number))
	}
	return *b.Hash, nil
}

// BlockByHash returns the block with the given hash and its transactions, checked against the hash and
// the header's transactions root.
func (s *ethSource) BlockByHash(ctx context.Context, hash common.Hash) (*Block, error) {
	header, enc, rawTxs, err := s.getBlock(ctx, hash, true)
	if err != nil {
		return nil, err
	}
	txs := make([][]byte, len(rawTxs))
	for i, raw := range rawTxs {
		var tx wire.Transaction
		if err := json.Unmarshal(raw, &tx); err != nil {
			return nil, invalid("%s block %s: transaction %d: %v", s.name, hash, i, err)
		}
		if txs[i], err = tx.Tx.MarshalBinary(); err != nil {
			return nil, invalid("%s block %s: transaction %d: encode: %v", s.name, hash, i, err)
		}
	}
	if root := layout.ListRoot(txs); root != header.TxHash {
		return nil, invalid("%s block %s: %d transactions have root %s, header has %s", s.name, hash, len(txs), root, header.TxHash)
	}
	return &Block{Header: header, HeaderRLP: enc, Transactions: txs}, nil
}

// receiptsMethod says how a node is asked for a block's receipts.
type receiptsMethod int

const (
	byBlockReceipts receiptsMethod = iota // eth_getBlockReceipts, falling back to byTransaction
	byTransaction                         // batched eth_getTransactionReceipt
	byRawReceipts                         // debug_getRawReceipts, falling back to byBlockReceipts
)

// receiptsBatchSize and receiptsBatchParallel shape the per-transaction fallback: batches of this many
// requests, this many batches in flight.
const (
	receiptsBatchSize     = 100
	receiptsBatchParallel = 4
)

// receiptFetcher fetches receipts with the preferred method and remembers when a node does not serve it.
type receiptFetcher struct {
	method receiptsMethod
	mu     sync.Mutex
	// unsupported holds the methods the node answered "method not found" to.
	unsupported map[receiptsMethod]bool
}

func (f *receiptFetcher) supported(m receiptsMethod) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.unsupported[m]
}

func (f *receiptFetcher) markUnsupported(m receiptsMethod) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unsupported == nil {
		f.unsupported = map[receiptsMethod]bool{}
	}
	f.unsupported[m] = true
}

// receiptsByHash returns the receipts of the block with the given hash, checked against its header's
// receipts root. The header is known's when known is not nil (the caller checked that it hashes to hash),
// else a header this source checked earlier, else it is fetched alongside the receipts. Receipts fetched
// per transaction need the block's transaction hashes, which always come with a fresh header.
func (s *ethSource) receiptsByHash(ctx context.Context, f *receiptFetcher, hash common.Hash, known *types.Header) (*Receipts, error) {
	if known != nil && known.Hash() != hash {
		return nil, fmt.Errorf("%s block %s: the header given for its receipts has hash %s", s.name, hash, known.Hash())
	}
	if known == nil {
		known, _ = s.headers.Get(hash)
	}
	type headerResult struct {
		header *types.Header
		txs    []json.RawMessage
		err    error
	}
	var hc chan headerResult
	fetchHeader := func() {
		hc = make(chan headerResult, 1)
		go func() {
			h, _, txs, err := s.getBlock(ctx, hash, false)
			hc <- headerResult{h, txs, err}
		}()
	}
	hdr := func() (headerResult, error) {
		r := <-hc
		hc <- r // later readers see it too
		return r, r.err
	}
	if known == nil {
		fetchHeader() // in parallel with the receipts
	}

	var (
		receipts types.Receipts
		err      error
		fetched  bool
	)
	if f.method == byRawReceipts && f.supported(byRawReceipts) {
		receipts, err = s.rawReceipts(ctx, hash)
		switch {
		case err == nil:
			fetched = true
		case isMethodUnsupported(err):
			f.markUnsupported(byRawReceipts)
		default:
			return nil, err
		}
	}
	if !fetched && f.method != byTransaction && f.supported(byBlockReceipts) {
		receipts, err = s.blockReceipts(ctx, hash)
		switch {
		case err == nil:
			fetched = true
		case isMethodUnsupported(err):
			f.markUnsupported(byBlockReceipts)
		default:
			return nil, err
		}
	}
	if !fetched {
		if hc == nil {
			fetchHeader()
		}
		h, err := hdr()
		if err != nil {
			return nil, err
		}
		hashes := make([]common.Hash, len(h.txs))
		for i, raw := range h.txs {
			if err := json.Unmarshal(raw, &hashes[i]); err != nil {
				return nil, invalid("%s block %s: transaction hash %d: %v", s.name, hash, i, err)
			}
		}
		if receipts, err = s.transactionReceipts(ctx, hashes); err != nil {
			return nil, fmt.Errorf("%s block %s: %w", s.name, hash, err)
		}
	}

	header := known
	if header == nil {
		h, err := hdr()
		if err != nil {
			return nil, err
		}
		header = h.header
	}
	enc := layout.ReceiptValues(receipts)
	for i, e := range enc {
		if len(e) == 0 {
			return nil, invalid("%s block %s: receipt %d has unsupported type %d", s.name, hash, i, receipts[i].Type)
		}
	}
	if root := layout.ListRoot(enc); root != header.ReceiptHash {
		return nil, invalid("%s block %s: %d receipts have root %s, header has %s", s.name, hash, len(enc), root, header.ReceiptHash)
	}
	return &Receipts{Header: types.CopyHeader(header), Encoded: enc}, nil
}

func (s *ethSource) blockReceipts(ctx context.Context, hash common.Hash) (types.Receipts, error) {
	var answer []*wire.Receipt
	if err := s.rpc.call(ctx, &answer, "eth_getBlockReceipts", hash.Hex()); err != nil {
		return nil, fmt.Errorf("%s block %s: %w", s.name, hash, err)
	}
	if answer == nil {
		return nil, fmt.Errorf("%s block %s: receipts: %w", s.name, hash, ErrNotFound)
	}
	receipts := make(types.Receipts, len(answer))
	for i, r := range answer {
		if r == nil {
			return nil, invalid("%s block %s: receipt %d is null", s.name, hash, i)
		}
		receipts[i] = r.Receipt
	}
	return receipts, nil
}

func (s *ethSource) rawReceipts(ctx context.Context, hash common.Hash) (types.Receipts, error) {
	var raw []hexutil.Bytes
	if err := s.rpc.call(ctx, &raw, "debug_getRawReceipts", hash.Hex()); err != nil {
		return nil, fmt.Errorf("%s block %s: %w", s.name, hash, err)
	}
	receipts := make(types.Receipts, len(raw))
	for i, enc := range raw {
		receipts[i] = new(types.Receipt)
		if err := receipts[i].UnmarshalBinary(enc); err != nil {
			return nil, invalid("%s block %s: raw receipt %d: %v", s.name, hash, i, err)
		}
	}
	return receipts, nil
}

// transactionReceipts fetches one receipt per transaction, in batches, several batches at a time.
func (s *ethSource) transactionReceipts(ctx context.Context, hashes []common.Hash) (types.Receipts, error) {
	receipts := make(types.Receipts, len(hashes))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		sem      = make(chan struct{}, receiptsBatchParallel)
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	for start := 0; start < len(hashes); start += receiptsBatchSize {
		end := min(start+receiptsBatchSize, len(hashes))
		wg.Add(1)
		sem <- struct{}{}
		go func(start, end int) {
			defer wg.Done()
			defer func() { <-sem }()
			answers := make([]*wire.Receipt, end-start)
			elems := make([]rpc.BatchElem, end-start)
			for i := range elems {
				answers[i] = new(wire.Receipt)
				elems[i] = rpc.BatchElem{Method: "eth_getTransactionReceipt", Args: []any{hashes[start+i]}, Result: &answers[i]}
			}
			if err := s.rpc.batch(ctx, elems); err != nil {
				fail(err)
				return
			}
			for i, e := range elems {
				idx := start + i
				if answers[i] != nil {
					receipts[idx] = answers[i].Receipt
				}
				switch {
				case e.Error != nil:
					fail(fmt.Errorf("receipt of transaction %d (%s): %w", idx, hashes[idx], e.Error))
					return
				case receipts[idx] == nil:
					fail(fmt.Errorf("receipt of transaction %d (%s): %w", idx, hashes[idx], ErrNotFound))
					return
				case receipts[idx].TxHash != hashes[idx]:
					fail(invalid("receipt of transaction %d is for transaction %s, not %s", idx, receipts[idx].TxHash, hashes[idx]))
					return
				}
			}
		}(start, end)
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return receipts, nil
}

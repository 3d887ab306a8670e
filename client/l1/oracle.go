// Package l1 reads the L1 chain through the preimage oracle: block headers by hash, the transactions and
// receipts they commit to, blobs by versioned hash, and the results of accelerated precompile calls.
//
// In the data flow it is the program's only view of L1: derivation asks it for blocks, receipts and
// blobs, and the L2 EVM for precompile results. Before each fetch it sends the hint a host needs to
// prepare the preimages (types and payloads match op-program's, which hosts rely on), and it checks every
// answer against the commitment it was reached through: a header against its hash, list items against
// the header's trie roots, a blob against its KZG commitment and that commitment against the versioned
// hash. Precompile results are the exception: like on chain, they are taken as given.
package l1

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/faultproof/faultproof/client/mpt"
	"github.com/faultproof/faultproof/preimage"
)

// Oracle reads L1 data through a preimage oracle and a hinter, caching what it read.
//
// Headers, transactions and receipts are returned shared with the cache: callers must not modify them.
// Not safe for concurrent use (the program is single-threaded).
type Oracle struct {
	oracle preimage.Oracle
	hinter preimage.Hinter
	cache  *caches
	// skipBlobCommitment: see SkipBlobCommitmentCheck.
	skipBlobCommitment bool
}

// SkipBlobCommitmentCheck stops GetBlob from recomputing each blob's KZG commitment. Inside the VM that
// costs tens of billions of steps per blob and adds nothing: each field element is read under a key bound to
// the commitment and its evaluation point, and the on-chain PreimageOracle accepts a field element only with
// a KZG proof against that commitment. Field elements are still checked to be canonical.
func (o *Oracle) SkipBlobCommitmentCheck() { o.skipBlobCommitment = true }

// NewOracle returns an L1 reader over oracle, which must verify keccak256 and sha256 preimages (as
// preimage.OracleClient does), and hinter.
func NewOracle(oracle preimage.Oracle, hinter preimage.Hinter) *Oracle {
	return &Oracle{oracle: oracle, hinter: hinter, cache: newCaches()}
}

// hint announces a fetch. It is sent only right before fetching, never on a cache hit, so the host sees
// exactly the requests that follow.
func (o *Oracle) hint(typ string, data []byte) error {
	if err := o.hinter.Hint(preimage.TypedHint{Type: typ, Data: data}); err != nil {
		return fmt.Errorf("hint %s: %w", typ, err)
	}
	return nil
}

// HeaderByHash returns the L1 header with hash h.
func (o *Oracle) HeaderByHash(h common.Hash) (*types.Header, error) {
	if header, ok := o.cache.headers.Get(h); ok {
		return header, nil
	}
	if err := o.hint(preimage.HintL1BlockHeader, h[:]); err != nil {
		return nil, fmt.Errorf("l1 header %s: %w", h, err)
	}
	enc, err := o.oracle.Get(preimage.Keccak256Key(h))
	if err != nil {
		return nil, fmt.Errorf("l1 header %s: %w", h, err)
	}
	header := new(types.Header)
	if err := rlp.DecodeBytes(enc, header); err != nil {
		return nil, fmt.Errorf("l1 header %s: decode: %w", h, err)
	}
	// The bytes hash to h, but a header that does not re-encode to them (a field this op-geth does not
	// know, a non-canonical encoding) would be read as something else: its hash shows that.
	if got := header.Hash(); got != h {
		return nil, fmt.Errorf("l1 header %s: decodes to a header with hash %s", h, got)
	}
	o.cache.headers.Add(h, header)
	return header, nil
}

// TransactionsByHash returns the header of the L1 block with hash h and the block's transactions.
func (o *Oracle) TransactionsByHash(h common.Hash) (*types.Header, types.Transactions, error) {
	header, err := o.HeaderByHash(h)
	if err != nil {
		return nil, nil, err
	}
	if txs, ok := o.cache.txs.Get(h); ok {
		return header, txs, nil
	}
	if err := o.hint(preimage.HintL1Transactions, h[:]); err != nil {
		return nil, nil, fmt.Errorf("l1 transactions of %s: %w", h, err)
	}
	encs, err := mpt.ReadList(header.TxHash, o.oracle)
	if err != nil {
		return nil, nil, fmt.Errorf("l1 transactions of %s: %w", h, err)
	}
	txs := make(types.Transactions, len(encs))
	for i, enc := range encs {
		tx := new(types.Transaction)
		if err := tx.UnmarshalBinary(enc); err != nil {
			return nil, nil, fmt.Errorf("l1 transactions of %s: transaction %d: %w", h, i, err)
		}
		txs[i] = tx
	}
	o.cache.txs.Add(h, txs)
	return header, txs, nil
}

// ReceiptsByHash returns the header of the L1 block with hash h and the block's receipts, with the
// fields derivation needs filled in: transaction hash and index, block hash and number, gas used, and on
// logs their block, transaction and block-wide log index. Fields that would need the chain config or
// sender recovery (effective gas price, blob gas, contract address) are left unset.
func (o *Oracle) ReceiptsByHash(h common.Hash) (*types.Header, types.Receipts, error) {
	if receipts, ok := o.cache.receipts.Get(h); ok {
		header, err := o.HeaderByHash(h)
		if err != nil {
			return nil, nil, err
		}
		return header, receipts, nil
	}
	// The transactions come first: their hashes go into the receipts. This also gives op-program's
	// hint sequence (header, transactions, receipts) on a cold cache.
	header, txs, err := o.TransactionsByHash(h)
	if err != nil {
		return nil, nil, err
	}
	if err := o.hint(preimage.HintL1Receipts, h[:]); err != nil {
		return nil, nil, fmt.Errorf("l1 receipts of %s: %w", h, err)
	}
	encs, err := mpt.ReadList(header.ReceiptHash, o.oracle)
	if err != nil {
		return nil, nil, fmt.Errorf("l1 receipts of %s: %w", h, err)
	}
	receipts, err := decodeReceipts(h, header, txs, encs)
	if err != nil {
		return nil, nil, fmt.Errorf("l1 receipts of %s: %w", h, err)
	}
	o.cache.receipts.Add(h, receipts)
	return header, receipts, nil
}

// decodeReceipts decodes consensus receipts and fills in what they imply about their block.
func decodeReceipts(h common.Hash, header *types.Header, txs types.Transactions, encs [][]byte) (types.Receipts, error) {
	if len(encs) != len(txs) {
		return nil, fmt.Errorf("%d receipts for %d transactions", len(encs), len(txs))
	}
	if !header.Number.IsUint64() {
		return nil, fmt.Errorf("block number %s out of range", header.Number)
	}
	receipts := make(types.Receipts, len(encs))
	var (
		number     = header.Number.Uint64()
		prevGas    uint64
		blockLogIx uint
	)
	for i, enc := range encs {
		r := new(types.Receipt)
		if err := r.UnmarshalBinary(enc); err != nil {
			return nil, fmt.Errorf("receipt %d: %w", i, err)
		}
		tx := txs[i]
		if r.Type != tx.Type() {
			return nil, fmt.Errorf("receipt %d has type %d, its transaction %d", i, r.Type, tx.Type())
		}
		if r.CumulativeGasUsed < prevGas {
			return nil, fmt.Errorf("receipt %d: cumulative gas used %d below the previous %d", i, r.CumulativeGasUsed, prevGas)
		}
		r.TxHash = tx.Hash()
		r.BlockHash = h
		r.BlockNumber = new(big.Int).SetUint64(number)
		r.TransactionIndex = uint(i)
		r.GasUsed = r.CumulativeGasUsed - prevGas
		prevGas = r.CumulativeGasUsed
		for _, l := range r.Logs {
			l.BlockNumber = number
			l.BlockHash = h
			l.BlockTimestamp = header.Time
			l.TxHash = r.TxHash
			l.TxIndex = uint(i)
			l.Index = blockLogIx
			blockLogIx++
		}
		receipts[i] = r
	}
	return receipts, nil
}

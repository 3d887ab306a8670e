// Package l2 is the L2 side of the fault proof program: blocks, state and outputs read through the preimage
// oracle, and an engine that builds blocks from payload attributes on op-geth's EVM, with all state writes
// kept in memory. It is what the derivation pipeline drives, and what 'faultproof exec-block' runs alone.
package l2

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/lru"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/faultproof/faultproof/client/mpt"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// Cache sizes, in entries. They bound memory inside the VM; a miss only costs a re-read.
const (
	headerCacheSize = 3000 // covers a reset's walk back and 256 BLOCKHASH ancestors
	blockCacheSize  = 64
	nodeCacheSize   = 100_000
	codeCacheSize   = 10_000
)

// Oracle reads L2 data through the preimage oracle. Every read is hinted first (only on a cache miss), with
// op-program's hint names and payloads, so that an op-program host can serve it.
type Oracle struct {
	oracle  preimage.Oracle
	hinter  preimage.Hinter
	headers *lru.Cache[common.Hash, *types.Header]
	blocks  *lru.Cache[common.Hash, *types.Block]
	nodes   *lru.Cache[common.Hash, []byte]
	codes   *lru.Cache[common.Hash, []byte]
	// chainHint, in interop mode, is the chain ID (8 bytes, big-endian) appended to every hash hint, so that
	// a host serving several chains knows which one to ask (op-program's and kona's 40-byte hints).
	chainHint []byte

	// Reads counts preimages fetched through the oracle (cache misses), for benchmarks and logs.
	Reads uint64
}

// NewOracle returns an L2 oracle over a preimage oracle and hinter.
func NewOracle(oracle preimage.Oracle, hinter preimage.Hinter) *Oracle {
	return &Oracle{
		oracle:  oracle,
		hinter:  hinter,
		headers: lru.NewCache[common.Hash, *types.Header](headerCacheSize),
		blocks:  lru.NewCache[common.Hash, *types.Block](blockCacheSize),
		nodes:   lru.NewCache[common.Hash, []byte](nodeCacheSize),
		codes:   lru.NewCache[common.Hash, []byte](codeCacheSize),
	}
}

// NewChainOracle returns an L2 oracle for one chain of several (interop): its hints name the chain.
func NewChainOracle(oracle preimage.Oracle, hinter preimage.Hinter, chainID uint64) *Oracle {
	o := NewOracle(oracle, hinter)
	o.chainHint = binary.BigEndian.AppendUint64(nil, chainID)
	return o
}

// hint sends a hash hint, with the chain ID appended in interop mode.
func (o *Oracle) hint(typ string, data []byte) error {
	if o.chainHint != nil {
		data = append(append(make([]byte, 0, len(data)+8), data...), o.chainHint...)
	}
	return o.hinter.Hint(preimage.TypedHint{Type: typ, Data: data})
}

// get hints and then fetches one preimage.
func (o *Oracle) get(hint string, hintData []byte, key preimage.Key) ([]byte, error) {
	if o.chainHint != nil {
		hintData = append(append(make([]byte, 0, len(hintData)+8), hintData...), o.chainHint...)
	}
	if err := o.hinter.Hint(preimage.TypedHint{Type: hint, Data: hintData}); err != nil {
		return nil, fmt.Errorf("hint %s: %w", hint, err)
	}
	o.Reads++
	return o.oracle.Get(key)
}

// HeaderByHash reads an L2 block header.
func (o *Oracle) HeaderByHash(hash common.Hash) (*types.Header, error) {
	if h, ok := o.headers.Get(hash); ok {
		return h, nil
	}
	data, err := o.get(preimage.HintL2BlockHeader, hash[:], preimage.Keccak256Key(hash))
	if err != nil {
		return nil, fmt.Errorf("l2 header %s: %w", hash, err)
	}
	var h types.Header
	if err := rlp.DecodeBytes(data, &h); err != nil {
		return nil, fmt.Errorf("decode l2 header %s: %w", hash, err)
	}
	o.headers.Add(hash, &h)
	return &h, nil
}

// BlockByHash reads an L2 block: its header and its transactions (walking the transaction trie).
func (o *Oracle) BlockByHash(hash common.Hash) (*types.Block, error) {
	if b, ok := o.blocks.Get(hash); ok {
		return b, nil
	}
	header, err := o.HeaderByHash(hash)
	if err != nil {
		return nil, err
	}
	if err := o.hint(preimage.HintL2Transactions, hash[:]); err != nil {
		return nil, fmt.Errorf("hint %s: %w", preimage.HintL2Transactions, err)
	}
	raw, err := mpt.ReadList(header.TxHash, countingOracle{o})
	if err != nil {
		return nil, fmt.Errorf("transactions of l2 block %s: %w", hash, err)
	}
	txs := make(types.Transactions, len(raw))
	for i, enc := range raw {
		txs[i] = new(types.Transaction)
		if err := txs[i].UnmarshalBinary(enc); err != nil {
			return nil, fmt.Errorf("decode transaction %d of l2 block %s: %w", i, hash, err)
		}
	}
	var withdrawals []*types.Withdrawal
	if header.WithdrawalsHash != nil {
		withdrawals = []*types.Withdrawal{} // OP chains have none; the header field carries a storage root from Isthmus
	}
	b := types.NewBlockWithHeader(header).WithBody(types.Body{Transactions: txs, Withdrawals: withdrawals})
	o.blocks.Add(hash, b)
	return b, nil
}

// ReceiptsByHash reads the receipts of an L2 block (walking its receipt trie), with their logs. Only the
// consensus fields are filled (status, cumulative gas, bloom, logs); each log's Index is its position in
// the block.
func (o *Oracle) ReceiptsByHash(hash common.Hash) (types.Receipts, error) {
	header, err := o.HeaderByHash(hash)
	if err != nil {
		return nil, err
	}
	if err := o.hint(preimage.HintL2Receipts, hash[:]); err != nil {
		return nil, fmt.Errorf("hint %s: %w", preimage.HintL2Receipts, err)
	}
	raw, err := mpt.ReadList(header.ReceiptHash, countingOracle{o})
	if err != nil {
		return nil, fmt.Errorf("receipts of l2 block %s: %w", hash, err)
	}
	receipts := make(types.Receipts, len(raw))
	var logIndex uint
	for i, enc := range raw {
		receipts[i] = new(types.Receipt)
		if err := receipts[i].UnmarshalBinary(enc); err != nil {
			return nil, fmt.Errorf("decode receipt %d of l2 block %s: %w", i, hash, err)
		}
		for _, l := range receipts[i].Logs {
			l.BlockHash, l.BlockNumber, l.TxIndex, l.Index = hash, header.Number.Uint64(), uint(i), logIndex
			logIndex++
		}
	}
	return receipts, nil
}

// countingOracle counts the trie-node reads that mpt makes on our behalf.
type countingOracle struct{ o *Oracle }

func (c countingOracle) Get(key preimage.Key) ([]byte, error) {
	c.o.Reads++
	return c.o.oracle.Get(key)
}

// NodeByHash reads a state or storage trie node.
func (o *Oracle) NodeByHash(hash common.Hash) ([]byte, error) {
	if n, ok := o.nodes.Get(hash); ok {
		return n, nil
	}
	data, err := o.get(preimage.HintL2StateNode, hash[:], preimage.Keccak256Key(hash))
	if err != nil {
		return nil, fmt.Errorf("l2 state node %s: %w", hash, err)
	}
	o.nodes.Add(hash, data)
	return data, nil
}

// CodeByHash reads contract code.
func (o *Oracle) CodeByHash(hash common.Hash) ([]byte, error) {
	if c, ok := o.codes.Get(hash); ok {
		return c, nil
	}
	data, err := o.get(preimage.HintL2Code, hash[:], preimage.Keccak256Key(hash))
	if err != nil {
		return nil, fmt.Errorf("l2 code %s: %w", hash, err)
	}
	o.codes.Add(hash, data)
	return data, nil
}

// OutputByRoot reads the preimage of an output root.
func (o *Oracle) OutputByRoot(root common.Hash) (*Output, error) {
	data, err := o.get(preimage.HintL2Output, root[:], preimage.Keccak256Key(root))
	if err != nil {
		return nil, fmt.Errorf("l2 output %s: %w", root, err)
	}
	out, err := UnmarshalOutput(data)
	if err != nil {
		return nil, fmt.Errorf("l2 output %s: %w", root, err)
	}
	return out, nil
}

// AccountProofHint announces that the program will read addr's account in the state of block hash, so an
// online host can fetch its proof in one call instead of node by node.
func (o *Oracle) AccountProofHint(block common.Hash, addr common.Address, chainID uint64) error {
	data := make([]byte, 0, 32+20+8)
	data = append(data, block[:]...)
	data = append(data, addr[:]...)
	data = binary.BigEndian.AppendUint64(data, chainID)
	return o.hinter.Hint(preimage.TypedHint{Type: preimage.HintL2AccountProof, Data: data})
}

// payloadWitnessHint is the data of an l2-payload-witness hint: JSON in the shape op-program's client sends
// (the op-node engine API attributes; the chain ID as a decimal string).
type payloadWitnessHint struct {
	ParentBlockHash   common.Hash       `json:"parentBlockHash"`
	PayloadAttributes *hintedAttributes `json:"payloadAttributes"`
	ChainID           string            `json:"chainID,omitempty"`
}

// hintedAttributes are payload attributes as op-node encodes them for the engine API: only the fields it
// knows, empty optional ones left out.
type hintedAttributes struct {
	Timestamp             hexutil.Uint64     `json:"timestamp"`
	PrevRandao            common.Hash        `json:"prevRandao"`
	SuggestedFeeRecipient common.Address     `json:"suggestedFeeRecipient"`
	Withdrawals           *types.Withdrawals `json:"withdrawals,omitempty"`
	ParentBeaconBlockRoot *common.Hash       `json:"parentBeaconBlockRoot,omitempty"`
	Transactions          []hexutil.Bytes    `json:"transactions,omitempty"`
	NoTxPool              bool               `json:"noTxPool,omitempty"`
	GasLimit              *hexutil.Uint64    `json:"gasLimit,omitempty"`
	EIP1559Params         *hexutil.Bytes     `json:"eip1559Params,omitempty"`
	MinBaseFee            *uint64            `json:"minBaseFee,omitempty"`
}

// PayloadWitnessHint announces that the program will build a block from attrs on top of parent, so that an
// online host with an experimental L2 node can fetch everything the block's execution reads in one call
// (debug_executePayload) instead of one request per trie node.
func (o *Oracle) PayloadWitnessHint(parent common.Hash, attrs *rollup.PayloadAttributes, chainID uint64) error {
	a := &hintedAttributes{
		Timestamp:             hexutil.Uint64(attrs.Timestamp),
		PrevRandao:            attrs.Random,
		SuggestedFeeRecipient: attrs.SuggestedFeeRecipient,
		ParentBeaconBlockRoot: attrs.BeaconRoot,
		NoTxPool:              attrs.NoTxPool,
		GasLimit:              (*hexutil.Uint64)(attrs.GasLimit),
		MinBaseFee:            attrs.MinBaseFee,
	}
	if attrs.Withdrawals != nil {
		w := types.Withdrawals(attrs.Withdrawals)
		a.Withdrawals = &w
	}
	for _, tx := range attrs.Transactions {
		a.Transactions = append(a.Transactions, tx)
	}
	if attrs.EIP1559Params != nil {
		p := hexutil.Bytes(attrs.EIP1559Params)
		a.EIP1559Params = &p
	}
	data, err := json.Marshal(payloadWitnessHint{ParentBlockHash: parent, PayloadAttributes: a, ChainID: strconv.FormatUint(chainID, 10)})
	if err != nil {
		return fmt.Errorf("hint %s: %w", preimage.HintL2PayloadWitness, err)
	}
	return o.hinter.Hint(preimage.TypedHint{Type: preimage.HintL2PayloadWitness, Data: data})
}

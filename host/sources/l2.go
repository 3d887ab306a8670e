package sources

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethdb/memorydb"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/trie"

	"github.com/faultproof/faultproof/host/sources/wire"
	"github.com/faultproof/faultproof/rollup"
)

// L2Client reads L2 blocks, state and proofs from an execution node (op-geth or compatible), checking
// every answer that can be checked.
type L2Client struct {
	ethSource
	receipts *receiptFetcher
}

// NewL2Client wraps c.
func NewL2Client(c *rpc.Client, opts Options) *L2Client {
	return &L2Client{ethSource: newEthSource(c, "L2", opts), receipts: &receiptFetcher{method: byBlockReceipts}}
}

// ReceiptsByHash returns the receipts of a block, checked against its header's receipts root. A header
// this client fetched before is not fetched again.
func (c *L2Client) ReceiptsByHash(ctx context.Context, hash common.Hash) (*Receipts, error) {
	return c.receiptsByHash(ctx, c.receipts, hash, nil)
}

// ReceiptsOf returns the receipts of the block with the given header (which the caller vouches for),
// checked against its receipts root, without fetching the header.
func (c *L2Client) ReceiptsOf(ctx context.Context, header *types.Header) (*Receipts, error) {
	return c.receiptsByHash(ctx, c.receipts, header.Hash(), header)
}

// DBGet returns the raw database value under key (debug_dbGet). The caller checks it.
func (c *L2Client) DBGet(ctx context.Context, key []byte) ([]byte, error) {
	var v hexutil.Bytes
	if err := c.rpc.call(ctx, &v, "debug_dbGet", hexutil.Encode(key)); err != nil {
		return nil, fmt.Errorf("L2 database key %x: %w", key, err)
	}
	return v, nil
}

// codePrefix is the database prefix of contract code in geth's schema.
const codePrefix = 'c'

// CodeByHash returns the contract code with the given hash, from the code-prefixed database key or, for
// code written before the prefix existed, from the bare hash.
func (c *L2Client) CodeByHash(ctx context.Context, hash common.Hash) ([]byte, error) {
	code, err := c.DBGet(ctx, append([]byte{codePrefix}, hash[:]...))
	if err == nil && crypto.Keccak256Hash(code) == hash {
		return code, nil
	}
	legacy, legacyErr := c.DBGet(ctx, hash[:])
	if legacyErr == nil && crypto.Keccak256Hash(legacy) == hash {
		return legacy, nil
	}
	if err == nil {
		err = invalid("code hashes to %s", crypto.Keccak256Hash(code))
	}
	if legacyErr == nil {
		legacyErr = invalid("value hashes to %s", crypto.Keccak256Hash(legacy))
	}
	return nil, fmt.Errorf("L2 code %s: %w (unprefixed key: %w)", hash, err, legacyErr)
}

// NodeByHash returns the state trie node with the given hash (hash-scheme databases only).
func (c *L2Client) NodeByHash(ctx context.Context, hash common.Hash) ([]byte, error) {
	node, err := c.DBGet(ctx, hash[:])
	if err != nil {
		return nil, fmt.Errorf("L2 state node %s: %w", hash, err)
	}
	if got := crypto.Keccak256Hash(node); got != hash {
		return nil, invalid("L2 state node %s: value hashes to %s", hash, got)
	}
	return node, nil
}

// StorageProof is one storage slot's value and proof.
type StorageProof struct {
	Key   common.Hash
	Value *big.Int
	Proof [][]byte
}

// AccountProof is an account and its storage slots, proven against the state root of a block.
type AccountProof struct {
	Address      common.Address
	Nonce        uint64
	Balance      *big.Int
	CodeHash     common.Hash
	StorageHash  common.Hash
	AccountProof [][]byte
	StorageProof []StorageProof
}

// GetProof returns addr's account and the given storage slots in the state of the block with hash
// blockHash (eth_getProof), verified against the block's state root.
func (c *L2Client) GetProof(ctx context.Context, addr common.Address, slots []common.Hash, blockHash common.Hash) (*AccountProof, error) {
	type headerResult struct {
		h   *types.Header
		err error
	}
	hc := make(chan headerResult, 1)
	go func() {
		h, err := c.HeaderByHash(ctx, blockHash)
		hc <- headerResult{h, err}
	}()
	keys := make([]string, len(slots))
	for i, s := range slots {
		keys[i] = s.Hex()
	}
	var res *wire.AccountProof
	err := c.rpc.call(ctx, &res, "eth_getProof", addr, keys, blockHash.Hex())
	hr := <-hc
	if err != nil {
		return nil, fmt.Errorf("L2 proof of %s at block %s: %w", addr, blockHash, err)
	}
	if hr.err != nil {
		return nil, hr.err
	}
	if res == nil {
		return nil, fmt.Errorf("L2 proof of %s at block %s: %w", addr, blockHash, ErrNotFound)
	}
	p, err := verifyAccountProof(hr.h.Root, addr, slots, res)
	if err != nil {
		return nil, fmt.Errorf("L2 proof of %s at block %s (state root %s): %w", addr, blockHash, hr.h.Root, err)
	}
	return p, nil
}

// proofDB holds proof nodes by hash, as trie.VerifyProof reads them.
func proofDB(nodes []hexutil.Bytes) *memorydb.Database {
	db := memorydb.New()
	for _, n := range nodes {
		_ = db.Put(crypto.Keccak256(n), n) // a memory database does not fail
	}
	return db
}

func toBytes(nodes []hexutil.Bytes) [][]byte {
	out := make([][]byte, len(nodes))
	for i, n := range nodes {
		out[i] = n
	}
	return out
}

func verifyAccountProof(root common.Hash, addr common.Address, slots []common.Hash, res *wire.AccountProof) (*AccountProof, error) {
	if res.Address != addr {
		return nil, invalid("proof is for account %s", res.Address)
	}
	if res.Balance == nil {
		return nil, invalid("proof has no balance")
	}
	value, err := trie.VerifyProof(root, crypto.Keccak256(addr[:]), proofDB(res.AccountProof))
	if err != nil {
		return nil, invalid("account proof: %v", err)
	}
	balance := res.Balance.ToInt()
	if len(value) == 0 {
		// The account does not exist: the node must say so with empty fields.
		if res.Nonce != 0 || balance.Sign() != 0 ||
			(res.CodeHash != (common.Hash{}) && res.CodeHash != types.EmptyCodeHash) ||
			(res.StorageHash != (common.Hash{}) && res.StorageHash != types.EmptyRootHash) {
			return nil, invalid("account proof shows no account, but the answer has one")
		}
		res.StorageHash = types.EmptyRootHash
	} else {
		var acc types.StateAccount
		if err := rlp.DecodeBytes(value, &acc); err != nil {
			return nil, invalid("account proof: account: %v", err)
		}
		if acc.Nonce != uint64(res.Nonce) || acc.Balance.ToBig().Cmp(balance) != 0 ||
			common.BytesToHash(acc.CodeHash) != res.CodeHash || acc.Root != res.StorageHash {
			return nil, invalid("account proof has nonce %d, balance %s, code hash %x, storage root %s; the answer has %d, %s, %s, %s",
				acc.Nonce, acc.Balance, acc.CodeHash, acc.Root, res.Nonce, balance, res.CodeHash, res.StorageHash)
		}
	}
	if len(res.StorageProof) != len(slots) {
		return nil, invalid("%d storage proofs for %d slots", len(res.StorageProof), len(slots))
	}
	out := &AccountProof{
		Address: addr, Nonce: uint64(res.Nonce), Balance: balance, CodeHash: res.CodeHash, StorageHash: res.StorageHash,
		AccountProof: toBytes(res.AccountProof),
	}
	for i, sp := range res.StorageProof {
		if sp.Value == nil {
			return nil, invalid("storage proof %d has no value", i)
		}
		want := sp.Value.ToInt()
		var got *big.Int
		if res.StorageHash == types.EmptyRootHash {
			got = new(big.Int)
		} else {
			enc, err := trie.VerifyProof(res.StorageHash, crypto.Keccak256(slots[i][:]), proofDB(sp.Proof))
			if err != nil {
				return nil, invalid("storage proof of slot %s: %v", slots[i], err)
			}
			got = new(big.Int)
			if len(enc) > 0 {
				var content []byte
				if err := rlp.DecodeBytes(enc, &content); err != nil || len(content) > 32 {
					return nil, invalid("storage proof of slot %s: value %x", slots[i], enc)
				}
				got.SetBytes(content)
			}
		}
		if got.Cmp(want) != 0 {
			return nil, invalid("storage proof of slot %s proves %s, the answer says %s", slots[i], got, want)
		}
		out.StorageProof = append(out.StorageProof, StorageProof{Key: slots[i], Value: got, Proof: toBytes(sp.Proof)})
	}
	return out, nil
}

// OutputAt returns the version-0 output of the block with the given hash: its state root, the storage
// root of the L2ToL1MessagePasser (proven against the state root) and the block hash. The header it was
// read from comes with it.
func (c *L2Client) OutputAt(ctx context.Context, blockHash common.Hash) (*rollup.Output, *types.Header, error) {
	p, err := c.GetProof(ctx, params.OptimismL2ToL1MessagePasser, nil, blockHash)
	if err != nil {
		return nil, nil, fmt.Errorf("output of L2 block %s: %w", blockHash, err)
	}
	header, err := c.HeaderByHash(ctx, blockHash) // cached by GetProof
	if err != nil {
		return nil, nil, fmt.Errorf("output of L2 block %s: %w", blockHash, err)
	}
	return &rollup.Output{StateRoot: header.Root, MessagePasserStorageRoot: p.StorageHash, BlockHash: blockHash}, header, nil
}

// ExecutionWitness is what executing a payload touched: state trie nodes and contract code, each the
// preimage of its keccak256 hash.
type ExecutionWitness struct {
	State [][]byte
	Codes [][]byte
}

// ExecutePayload has the node build and execute a block from payloadAttributes (the engine API's JSON
// object, passed through as is) on top of parentHash, and returns the witness of that execution
// (debug_executePayload, served by experimental nodes). Its values are not checked here: each is only
// ever stored under its own hash.
func (c *L2Client) ExecutePayload(ctx context.Context, parentHash common.Hash, payloadAttributes json.RawMessage) (*ExecutionWitness, error) {
	var res *wire.ExecutionWitness
	if err := c.rpc.callLimit(ctx, MaxWitnessResponseSize, &res, "debug_executePayload", parentHash, payloadAttributes); err != nil {
		return nil, fmt.Errorf("execute L2 payload on %s: %w", parentHash, err)
	}
	if res == nil {
		return nil, fmt.Errorf("execute L2 payload on %s: %w", parentHash, ErrNotFound)
	}
	return &ExecutionWitness{State: toBytes(res.State), Codes: toBytes(res.Codes)}, nil
}

package devnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/consensus/beacon"
	"github.com/ethereum/go-ethereum/consensus/ethash"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/stateless"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/faultproof/faultproof/host/sources/wire"
)

// execNode is one devnet chain as an execution node holds it: the devnet's blocks imported into a new
// op-geth blockchain (archive, hash scheme), which keeps every block's state and receipts.
type execNode struct {
	name   string // "L1" or "L2", for messages
	config *params.ChainConfig
	chain  *core.BlockChain
	db     ethdb.Database
	blocks []*types.Block // index = number
	byHash map[common.Hash]uint64
	txs    map[common.Hash]txLocation
}

// txLocation is where a transaction is: block number and index.
type txLocation struct {
	block uint64
	index int
}

// newExecNode imports blocks (blocks[0] is the genesis of genesis) into a new op-geth blockchain, which
// validates each of them in full.
func newExecNode(name string, genesis *core.Genesis, blocks []*types.Block) (*execNode, error) {
	db := rawdb.NewMemoryDatabase()
	cfg := core.DefaultConfig().WithStateScheme(rawdb.HashScheme).WithArchive(true)
	cfg.SnapshotLimit = 0 // state is read through the tries; no snapshot to build
	chain, err := core.NewBlockChain(db, genesis, beacon.New(ethash.NewFaker()), cfg)
	if err != nil {
		return nil, fmt.Errorf("devnet server: %s genesis: %w", name, err)
	}
	if got := chain.Genesis().Hash(); got != blocks[0].Hash() {
		chain.Stop()
		return nil, fmt.Errorf("devnet server: %s genesis is %s, the devnet's is %s", name, got, blocks[0].Hash())
	}
	if len(blocks) > 1 {
		if i, err := chain.InsertChain(blocks[1:]); err != nil {
			chain.Stop()
			return nil, fmt.Errorf("devnet server: import %s block %d: %w", name, i+1, err)
		}
	}
	n := &execNode{
		name: name, config: genesis.Config, chain: chain, db: db, blocks: blocks,
		byHash: make(map[common.Hash]uint64, len(blocks)), txs: map[common.Hash]txLocation{},
	}
	for num, b := range blocks {
		n.byHash[b.Hash()] = uint64(num)
		for i, tx := range b.Transactions() {
			n.txs[tx.Hash()] = txLocation{uint64(num), i}
		}
	}
	return n, nil
}

func (n *execNode) close() { n.chain.Stop() }

func (n *execNode) head() *types.Block { return n.blocks[len(n.blocks)-1] }

// blockByHash returns nil for an unknown hash.
func (n *execNode) blockByHash(h common.Hash) *types.Block {
	num, ok := n.byHash[h]
	if !ok {
		return nil
	}
	return n.blocks[num]
}

// blockByNumber resolves a number or tag: every tag but "earliest" is the head, since every block is
// final. Nil past the head.
func (n *execNode) blockByNumber(bn rpc.BlockNumber) *types.Block {
	switch {
	case bn == rpc.EarliestBlockNumber:
		return n.blocks[0]
	case bn < 0:
		return n.head()
	case uint64(bn) >= uint64(len(n.blocks)):
		return nil
	}
	return n.blocks[bn]
}

func (n *execNode) block(bnh rpc.BlockNumberOrHash) *types.Block {
	if h, ok := bnh.Hash(); ok {
		return n.blockByHash(h)
	}
	if bn, ok := bnh.Number(); ok {
		return n.blockByNumber(bn)
	}
	return nil
}

// receipts are op-geth's receipts of b, with the fields derived from the block filled in.
func (n *execNode) receipts(b *types.Block) (types.Receipts, error) {
	rs := n.chain.GetReceiptsByHash(b.Hash())
	if len(rs) != len(b.Transactions()) {
		return nil, fmt.Errorf("%s block %d: %d receipts for %d transactions", n.name, b.NumberU64(), len(rs), len(b.Transactions()))
	}
	return rs, nil
}

// state opens op-geth's state after block b.
func (n *execNode) state(b *types.Block) (*state.StateDB, error) {
	st, err := n.chain.StateAt(b.Root())
	if err != nil {
		return nil, fmt.Errorf("%s state of block %d: %w", n.name, b.NumberU64(), err)
	}
	return st, nil
}

// errHeaderNotFound is geth's answer to a state query at an unknown block.
var errHeaderNotFound = errors.New("header not found")

// invalidParamsError is a JSON-RPC "invalid params" error (-32602).
type invalidParamsError struct{ msg string }

func (e *invalidParamsError) Error() string  { return e.msg }
func (e *invalidParamsError) ErrorCode() int { return -32602 }

// blockJSON is b as eth_getBlockBy* answer it, with full transactions or their hashes.
func (n *execNode) blockJSON(b *types.Block, full bool) (*wire.Block, error) {
	txs := b.Transactions()
	out := &wire.Block{Header: b.Header(), Size: hexutil.Uint64(b.Size()), Transactions: make([]json.RawMessage, len(txs)),
		Uncles: make([]common.Hash, len(b.Uncles())), Withdrawals: b.Withdrawals()}
	for i, u := range b.Uncles() {
		out.Uncles[i] = u.Hash()
	}
	var receipts types.Receipts
	var err error
	if full && slices.ContainsFunc(txs, (*types.Transaction).IsDepositTx) {
		if receipts, err = n.receipts(b); err != nil { // deposits show their receipt's nonce
			return nil, err
		}
	}
	for i, tx := range txs {
		var entry any = tx.Hash()
		if full {
			var r *types.Receipt
			if receipts != nil {
				r = receipts[i]
			}
			if entry, err = n.txJSON(b, i, r); err != nil {
				return nil, err
			}
		}
		if out.Transactions[i], err = json.Marshal(entry); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sender is the sender of transaction i of b.
func (n *execNode) sender(b *types.Block, i int) (common.Address, error) {
	from, err := types.Sender(types.MakeSigner(n.config, b.Number(), b.Time()), b.Transactions()[i])
	if err != nil {
		return common.Address{}, fmt.Errorf("%s block %d transaction %d: sender: %w", n.name, b.NumberU64(), i, err)
	}
	return from, nil
}

// txJSON is transaction i of b as geth's RPC shows a mined transaction; a deposit's nonce and receipt
// version come from its receipt.
func (n *execNode) txJSON(b *types.Block, i int, receipt *types.Receipt) (*wire.Transaction, error) {
	from, err := n.sender(b, i)
	if err != nil {
		return nil, err
	}
	out := &wire.Transaction{Tx: b.Transactions()[i], From: from, BlockHash: b.Hash(), BlockNumber: b.NumberU64(),
		BlockTime: b.Time(), Index: uint64(i), BaseFee: b.BaseFee()}
	if receipt != nil {
		out.DepositNonce, out.DepositReceiptVersion = receipt.DepositNonce, receipt.DepositReceiptVersion
	}
	return out, nil
}

// receiptJSON is the receipt of transaction i of b as geth's RPC shows it.
func (n *execNode) receiptJSON(b *types.Block, i int, r *types.Receipt) (*wire.Receipt, error) {
	from, err := n.sender(b, i)
	if err != nil {
		return nil, err
	}
	return &wire.Receipt{Receipt: r, From: from, To: b.Transactions()[i].To()}, nil
}

// ethAPI is the eth namespace of an execution node: chain ID and head, blocks, transactions and receipts
// (null when unknown, as geth answers), and state with proofs.
type ethAPI struct{ n *execNode }

// ChainId is eth_chainId.
func (a *ethAPI) ChainId() *hexutil.Big { return (*hexutil.Big)(a.n.config.ChainID) }

// BlockNumber is eth_blockNumber: the head.
func (a *ethAPI) BlockNumber() hexutil.Uint64 { return hexutil.Uint64(a.n.head().NumberU64()) }

// GetBlockByHash is eth_getBlockByHash.
func (a *ethAPI) GetBlockByHash(hash common.Hash, full bool) (*wire.Block, error) {
	b := a.n.blockByHash(hash)
	if b == nil {
		return nil, nil
	}
	return a.n.blockJSON(b, full)
}

// GetBlockByNumber is eth_getBlockByNumber; every tag but "earliest" is the head.
func (a *ethAPI) GetBlockByNumber(number rpc.BlockNumber, full bool) (*wire.Block, error) {
	b := a.n.blockByNumber(number)
	if b == nil {
		return nil, nil
	}
	return a.n.blockJSON(b, full)
}

// GetBlockReceipts is eth_getBlockReceipts.
func (a *ethAPI) GetBlockReceipts(bnh rpc.BlockNumberOrHash) ([]*wire.Receipt, error) {
	b := a.n.block(bnh)
	if b == nil {
		return nil, nil
	}
	rs, err := a.n.receipts(b)
	if err != nil {
		return nil, err
	}
	out := make([]*wire.Receipt, len(rs))
	for i, r := range rs {
		if out[i], err = a.n.receiptJSON(b, i, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetTransactionByHash is eth_getTransactionByHash.
func (a *ethAPI) GetTransactionByHash(hash common.Hash) (*wire.Transaction, error) {
	loc, ok := a.n.txs[hash]
	if !ok {
		return nil, nil
	}
	b := a.n.blocks[loc.block]
	rs, err := a.n.receipts(b)
	if err != nil {
		return nil, err
	}
	return a.n.txJSON(b, loc.index, rs[loc.index])
}

// txInBlock is transaction i of b as eth_getTransactionByBlock*AndIndex answer it: null past the end.
func (a *ethAPI) txInBlock(b *types.Block, i hexutil.Uint) (*wire.Transaction, error) {
	if b == nil || uint64(i) >= uint64(len(b.Transactions())) {
		return nil, nil
	}
	rs, err := a.n.receipts(b)
	if err != nil {
		return nil, err
	}
	return a.n.txJSON(b, int(i), rs[i])
}

// GetTransactionByBlockHashAndIndex is eth_getTransactionByBlockHashAndIndex.
func (a *ethAPI) GetTransactionByBlockHashAndIndex(hash common.Hash, index hexutil.Uint) (*wire.Transaction, error) {
	return a.txInBlock(a.n.blockByHash(hash), index)
}

// GetTransactionByBlockNumberAndIndex is eth_getTransactionByBlockNumberAndIndex.
func (a *ethAPI) GetTransactionByBlockNumberAndIndex(number rpc.BlockNumber, index hexutil.Uint) (*wire.Transaction, error) {
	return a.txInBlock(a.n.blockByNumber(number), index)
}

// GetTransactionReceipt is eth_getTransactionReceipt.
func (a *ethAPI) GetTransactionReceipt(hash common.Hash) (*wire.Receipt, error) {
	loc, ok := a.n.txs[hash]
	if !ok {
		return nil, nil
	}
	b := a.n.blocks[loc.block]
	rs, err := a.n.receipts(b)
	if err != nil {
		return nil, err
	}
	return a.n.receiptJSON(b, loc.index, rs[loc.index])
}

// stateAt opens the state after the block bnh names; an unknown block is an error, as in geth.
func (a *ethAPI) stateAt(bnh rpc.BlockNumberOrHash) (*state.StateDB, *types.Block, error) {
	b := a.n.block(bnh)
	if b == nil {
		return nil, nil, errHeaderNotFound
	}
	st, err := a.n.state(b)
	return st, b, err
}

// GetBalance is eth_getBalance.
func (a *ethAPI) GetBalance(addr common.Address, bnh rpc.BlockNumberOrHash) (*hexutil.Big, error) {
	st, _, err := a.stateAt(bnh)
	if err != nil {
		return nil, err
	}
	return (*hexutil.Big)(st.GetBalance(addr).ToBig()), st.Error()
}

// GetTransactionCount is eth_getTransactionCount (the account nonce).
func (a *ethAPI) GetTransactionCount(addr common.Address, bnh rpc.BlockNumberOrHash) (hexutil.Uint64, error) {
	st, _, err := a.stateAt(bnh)
	if err != nil {
		return 0, err
	}
	return hexutil.Uint64(st.GetNonce(addr)), st.Error()
}

// GetCode is eth_getCode.
func (a *ethAPI) GetCode(addr common.Address, bnh rpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	st, _, err := a.stateAt(bnh)
	if err != nil {
		return nil, err
	}
	return st.GetCode(addr), st.Error()
}

// GetStorageAt is eth_getStorageAt.
func (a *ethAPI) GetStorageAt(addr common.Address, key string, bnh rpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	slot, _, err := parseStorageKey(key)
	if err != nil {
		return nil, &invalidParamsError{fmt.Sprintf("%v: %q", err, key)}
	}
	st, _, err := a.stateAt(bnh)
	if err != nil {
		return nil, err
	}
	v := st.GetState(addr, slot)
	return v[:], st.Error()
}

// maxProofKeys bounds the storage keys of one eth_getProof, as geth does.
const maxProofKeys = 1024

// parseStorageKey reads a storage slot: 0x-prefixed hex of at most 32 bytes (odd lengths allowed). It
// also returns how many bytes were given.
func parseStorageKey(s string) (common.Hash, int, error) {
	if !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		return common.Hash{}, 0, errors.New("storage key without 0x prefix")
	}
	digits := s[2:]
	if len(digits)%2 == 1 {
		digits = "0" + digits
	}
	if len(digits) > 64 {
		return common.Hash{}, 0, errors.New("storage key longer than 32 bytes")
	}
	b, err := hexutil.Decode("0x" + digits)
	if err != nil {
		return common.Hash{}, 0, fmt.Errorf("storage key: %w", err)
	}
	return common.BytesToHash(b), len(b), nil
}

// proofNodes collects the nodes a trie's Prove writes, in order (root first).
type proofNodes []hexutil.Bytes

func (p *proofNodes) Put(_, value []byte) error {
	*p = append(*p, common.CopyBytes(value))
	return nil
}

func (p *proofNodes) Delete([]byte) error { return errors.New("proof nodes are append-only") }

// GetProof is eth_getProof: the account and storage slots in the state after the block, with Merkle
// proofs from op-geth's tries. A key is echoed as given when it was 32 bytes, else as a quantity (geth's
// convention). An account that does not exist has the empty code hash and empty storage root.
func (a *ethAPI) GetProof(ctx context.Context, addr common.Address, keys []string, bnh rpc.BlockNumberOrHash) (*wire.AccountProof, error) {
	if len(keys) > maxProofKeys {
		return nil, &invalidParamsError{fmt.Sprintf("too many storage keys (%d, at most %d)", len(keys), maxProofKeys)}
	}
	slots := make([]common.Hash, len(keys))
	outKeys := make([]string, len(keys))
	for i, k := range keys {
		slot, size, err := parseStorageKey(k)
		if err != nil {
			return nil, &invalidParamsError{fmt.Sprintf("%v: %q", err, k)}
		}
		slots[i] = slot
		if size == 32 {
			outKeys[i] = slot.Hex()
		} else {
			outKeys[i] = hexutil.EncodeBig(slot.Big())
		}
	}
	st, b, err := a.stateAt(bnh)
	if err != nil {
		return nil, err
	}
	tr, err := st.Database().OpenTrie(b.Root())
	if err != nil {
		return nil, err
	}
	res := &wire.AccountProof{
		Address: addr, Balance: (*hexutil.Big)(st.GetBalance(addr).ToBig()), Nonce: hexutil.Uint64(st.GetNonce(addr)),
		CodeHash: types.EmptyCodeHash, StorageHash: types.EmptyRootHash, StorageProof: make([]wire.StorageProof, len(keys)),
	}
	if st.Exist(addr) {
		res.CodeHash, res.StorageHash = st.GetCodeHash(addr), st.GetStorageRoot(addr)
	}
	var accountProof proofNodes
	if err := tr.Prove(crypto.Keccak256(addr[:]), &accountProof); err != nil {
		return nil, err
	}
	res.AccountProof = accountProof
	var storage state.Trie
	if res.StorageHash != types.EmptyRootHash && len(keys) > 0 {
		if storage, err = st.Database().OpenStorageTrie(b.Root(), addr, res.StorageHash, tr); err != nil {
			return nil, err
		}
	}
	for i, slot := range slots {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sp := wire.StorageProof{Key: outKeys[i], Value: (*hexutil.Big)(new(big.Int)), Proof: []hexutil.Bytes{}}
		if storage != nil {
			var p proofNodes
			if err := storage.Prove(crypto.Keccak256(slot[:]), &p); err != nil {
				return nil, err
			}
			v := st.GetState(addr, slot)
			sp.Value, sp.Proof = (*hexutil.Big)(v.Big()), p
		}
		res.StorageProof[i] = sp
	}
	return res, st.Error()
}

// debugAPI is the debug namespace of an execution node: raw database reads, raw receipts and execution
// witnesses.
type debugAPI struct{ n *execNode }

// DbGet is debug_dbGet: the value under a key of op-geth's database (hash-scheme trie nodes under their
// hash, contract code under "c" ++ hash, and geth's other tables). The key is hex, or else a raw string.
func (a *debugAPI) DbGet(key string) (hexutil.Bytes, error) {
	k, err := common.ParseHexOrString(key)
	if err != nil {
		return nil, &invalidParamsError{fmt.Sprintf("key %q: %v", key, err)}
	}
	v, err := a.n.db.Get(k)
	if err != nil {
		return nil, fmt.Errorf("%s database key %x: not found", a.n.name, k)
	}
	return v, nil
}

// GetRawReceipts is debug_getRawReceipts: the consensus encodings of a block's receipts.
func (a *debugAPI) GetRawReceipts(bnh rpc.BlockNumberOrHash) ([]hexutil.Bytes, error) {
	b := a.n.block(bnh)
	if b == nil {
		return nil, fmt.Errorf("block %s not found", bnh.String())
	}
	rs, err := a.n.receipts(b)
	if err != nil {
		return nil, err
	}
	out := make([]hexutil.Bytes, len(rs))
	for i, r := range rs {
		if out[i], err = r.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ExecutionWitness is debug_executionWitness: what executing the block on its parent's state read, as
// op-geth records it.
func (a *debugAPI) ExecutionWitness(bnh rpc.BlockNumberOrHash) (*stateless.ExtWitness, error) {
	b := a.n.block(bnh)
	if b == nil {
		return nil, fmt.Errorf("block %s not found", bnh.String())
	}
	if b.NumberU64() == 0 {
		return nil, errors.New("the genesis block has no parent to execute on")
	}
	parent := a.n.blocks[b.NumberU64()-1]
	res, err := a.n.chain.ProcessBlock(context.Background(), parent.Root(), b, core.ExecuteConfig{MakeWitness: true})
	if err != nil {
		return nil, err
	}
	return res.Witness().ToExtWitness(), nil
}

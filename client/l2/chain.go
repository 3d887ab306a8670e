package l2

import (
	"bytes"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/consensus/beacon"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/triedb"
	"github.com/ethereum/go-ethereum/triedb/hashdb"

	"github.com/faultproof/faultproof/rollup"
)

// Chain is the L2 chain as the program sees it: blocks before the agreed head come from the oracle, blocks
// after it are the ones we built. It gives op-geth the chain context it needs (parent headers, BLOCKHASH
// ancestors) and the state at any block's root.
type Chain struct {
	rollup *rollup.Config
	config *params.ChainConfig
	oracle *Oracle
	engine consensus.Engine

	kv      *stateKV
	triedb  *triedb.Database
	stateDB state.Database

	built    map[common.Hash]*types.Block   // blocks built by us, by hash
	receipts map[common.Hash]types.Receipts // their receipts, when kept (KeepReceipts)
	head     *types.Header                  // the canonical head
	byNumber map[uint64]common.Hash         // canonical hashes, filled on demand walking back from head

	// precompiles, if set, answers the accelerated precompiles.
	precompiles PrecompileOracle

	// err keeps the first failed header read: op-geth's chain context cannot return errors.
	err error
}

// SetPrecompileOracle makes the engine ask o for the accelerated precompiles (ecrecover, bn256 pairing,
// KZG point evaluation, BLS12-381) instead of computing them.
func (c *Chain) SetPrecompileOracle(o PrecompileOracle) { c.precompiles = o }

// KeepReceipts makes the chain remember the receipts of the blocks it builds (BuiltReceipts): a host
// rebuilding a block needs them, the program does not.
func (c *Chain) KeepReceipts() {
	if c.receipts == nil {
		c.receipts = map[common.Hash]types.Receipts{}
	}
}

// BuiltReceipts returns the receipts of a block built after KeepReceipts.
func (c *Chain) BuiltReceipts(hash common.Hash) (types.Receipts, bool) {
	r, ok := c.receipts[hash]
	return r, ok
}

// WrittenState returns the trie nodes and code the built blocks wrote, in key order: a host that rebuilds
// a block its node lacks stores them, as op-program's host does, for programs that read the block's state.
func (c *Chain) WrittenState() [][]byte {
	var out [][]byte
	it := c.kv.NewIterator(nil, nil)
	defer it.Release()
	for it.Next() {
		out = append(out, bytes.Clone(it.Value()))
	}
	return out
}

// NewChain opens the chain at the agreed head block.
func NewChain(rcfg *rollup.Config, config *params.ChainConfig, oracle *Oracle, head common.Hash) (*Chain, error) {
	kv := newStateKV(oracle)
	tdb := triedb.NewDatabase(rawdb.NewDatabase(kv), &triedb.Config{HashDB: hashdb.Defaults})
	c := &Chain{
		rollup:   rcfg,
		config:   config,
		oracle:   oracle,
		engine:   beacon.New(nil),
		kv:       kv,
		triedb:   tdb,
		stateDB:  state.NewDatabase(tdb, nil),
		built:    map[common.Hash]*types.Block{},
		byNumber: map[uint64]common.Hash{},
	}
	h, err := oracle.HeaderByHash(head)
	if err != nil {
		return nil, fmt.Errorf("agreed l2 head: %w", err)
	}
	c.setHead(h)
	return c, nil
}

// Config is the L2 chain config.
func (c *Chain) Config() *params.ChainConfig { return c.config }

// Engine is the consensus engine (post-merge rules).
func (c *Chain) Engine() consensus.Engine { return c.engine }

// CurrentHeader is the canonical head.
func (c *Chain) CurrentHeader() *types.Header { return c.head }

// Head is the canonical head.
func (c *Chain) Head() *types.Header { return c.head }

// setHead makes h canonical and forgets canonical numbers above it.
func (c *Chain) setHead(h *types.Header) {
	for n := range c.byNumber {
		if n >= h.Number.Uint64() {
			delete(c.byNumber, n)
		}
	}
	c.head = h
	c.byNumber[h.Number.Uint64()] = h.Hash()
}

// SetHead makes a known block the canonical head.
func (c *Chain) SetHead(hash common.Hash) error {
	h, err := c.HeaderByHash(hash)
	if err != nil {
		return err
	}
	c.setHead(h)
	return nil
}

// HeaderByHash returns a header we built or one from the oracle.
func (c *Chain) HeaderByHash(hash common.Hash) (*types.Header, error) {
	if b, ok := c.built[hash]; ok {
		return b.Header(), nil
	}
	return c.oracle.HeaderByHash(hash)
}

// BlockByHash returns a block we built or one from the oracle.
func (c *Chain) BlockByHash(hash common.Hash) (*types.Block, error) {
	if b, ok := c.built[hash]; ok {
		return b, nil
	}
	return c.oracle.BlockByHash(hash)
}

// HeaderByNumber walks parent hashes back from the head. Blocks above the head are unknown.
func (c *Chain) HeaderByNumber(n uint64) (*types.Header, error) {
	if n > c.head.Number.Uint64() {
		return nil, fmt.Errorf("l2 block %d is above the head %d", n, c.head.Number.Uint64())
	}
	if hash, ok := c.byNumber[n]; ok {
		return c.HeaderByHash(hash)
	}
	// Start from the lowest canonical number we know above n.
	h := c.head
	for m := n + 1; m <= c.head.Number.Uint64(); m++ {
		if hash, ok := c.byNumber[m]; ok {
			var err error
			if h, err = c.HeaderByHash(hash); err != nil {
				return nil, err
			}
			break
		}
	}
	for h.Number.Uint64() > n {
		parent, err := c.HeaderByHash(h.ParentHash)
		if err != nil {
			return nil, err
		}
		c.byNumber[parent.Number.Uint64()] = h.ParentHash
		h = parent
	}
	return h, nil
}

// GetHeader is op-geth's chain-context lookup; a failed read is remembered and fails the block.
func (c *Chain) GetHeader(hash common.Hash, number uint64) *types.Header {
	h, err := c.HeaderByHash(hash)
	if err != nil {
		c.setErr(err)
		return nil
	}
	if h.Number.Uint64() != number {
		return nil
	}
	return h
}

// GetHeaderByHash is op-geth's chain-context lookup.
func (c *Chain) GetHeaderByHash(hash common.Hash) *types.Header {
	h, err := c.HeaderByHash(hash)
	if err != nil {
		c.setErr(err)
		return nil
	}
	return h
}

// GetHeaderByNumber is op-geth's chain-context lookup.
func (c *Chain) GetHeaderByNumber(n uint64) *types.Header {
	h, err := c.HeaderByNumber(n)
	if err != nil {
		c.setErr(err)
		return nil
	}
	return h
}

func (c *Chain) setErr(err error) {
	if c.err == nil {
		c.err = err
	}
}

// takeErr returns and clears the first remembered read failure, of headers or state.
func (c *Chain) takeErr() error {
	if err := c.err; err != nil {
		c.err = nil
		return err
	}
	return c.kv.Err()
}

// StateAt opens the state at a root. Reads go through the oracle; writes stay in memory.
func (c *Chain) StateAt(root common.Hash) (*state.StateDB, error) {
	sdb, err := state.New(root, c.stateDB)
	if err != nil {
		if rerr := c.takeErr(); rerr != nil {
			err = rerr // the oracle's error says what was missing
		}
		return nil, fmt.Errorf("open state %s: %w", root, err)
	}
	sdb.MakeSinglethreaded() // no prefetcher goroutines: the program must be deterministic
	return sdb, nil
}

// OutputAt computes the output of a canonical or built block. Before Isthmus the message passer's storage
// root is read from state; from Isthmus the header carries it.
func (c *Chain) OutputAt(hash common.Hash) (*Output, error) {
	h, err := c.HeaderByHash(hash)
	if err != nil {
		return nil, err
	}
	out := &Output{StateRoot: h.Root, BlockHash: hash}
	if c.rollup.IsIsthmus(h.Time) {
		if h.WithdrawalsHash == nil {
			return nil, fmt.Errorf("isthmus block %s has no withdrawals root", hash)
		}
		out.MessagePasserStorageRoot = *h.WithdrawalsHash
		return out, nil
	}
	if err := c.oracle.AccountProofHint(hash, params.OptimismL2ToL1MessagePasser, c.rollup.ChainID()); err != nil {
		return nil, err
	}
	sdb, err := c.StateAt(h.Root)
	if err != nil {
		return nil, err
	}
	out.MessagePasserStorageRoot = sdb.GetStorageRoot(params.OptimismL2ToL1MessagePasser)
	if err := c.takeErr(); err != nil {
		return nil, fmt.Errorf("message passer storage root at %s: %w", hash, err)
	}
	return out, nil
}

package l2

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus/misc"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/consensus/misc/eip4844"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"

	"github.com/faultproof/faultproof/client/l1"
	"github.com/faultproof/faultproof/rollup"
)

// ErrInvalidAttributes marks payload attributes that cannot make a block (a transaction that does not
// apply, a missing gas limit, ...). Derivation reacts to it (from Holocene, by replacing the block with a
// deposit-only one); any other error means the program cannot go on.
var ErrInvalidAttributes = errors.New("invalid payload attributes")

// BuildResult is a block built from payload attributes.
type BuildResult struct {
	Block    *types.Block
	Receipts types.Receipts
}

// BuildBlock builds the block that op-geth's engine API would build from these attributes on top of
// parent, with exactly the attributes' transactions (as a rollup's sequencer-forced list), and keeps its
// state in memory. It does not make the block canonical: SetHead does.
func (c *Chain) BuildBlock(parentHash common.Hash, attrs *rollup.PayloadAttributes, vmCfg vm.Config) (*BuildResult, error) {
	if err := c.oracle.PayloadWitnessHint(parentHash, attrs, c.rollup.ChainID()); err != nil {
		return nil, err
	}
	parent, err := c.HeaderByHash(parentHash)
	if err != nil {
		return nil, fmt.Errorf("parent block: %w", err)
	}
	header, err := c.prepareHeader(parent, attrs)
	if err != nil {
		return nil, err
	}
	statedb, err := c.StateAt(parent.Root)
	if err != nil {
		return nil, err
	}
	if c.precompiles != nil {
		vmCfg.PrecompileOverrides = c.precompileOverrides(c.precompiles)
	}
	blockCtx := core.NewEVMBlockContext(header, c, nil, c.config, statedb)
	evm := vm.NewEVM(blockCtx, statedb, c.config, vmCfg)

	// System calls before the transactions (EIP-4788 beacon root, EIP-2935 block hashes), then Canyon's
	// create2 deployer, as op-geth's builder does.
	if header.ParentBeaconRoot != nil {
		core.ProcessBeaconBlockRoot(*header.ParentBeaconRoot, evm)
	}
	if c.config.IsPrague(header.Number, header.Time) {
		core.ProcessParentBlockHash(header.ParentHash, evm)
	}
	misc.EnsureCreate2Deployer(c.config, header.Time, statedb)

	signer := types.MakeSigner(c.config, header.Number, header.Time)
	if c.precompiles != nil {
		signer = l1.NewSenderSigner(signer, c.precompiles)
		useOracleAuthorities(c.precompiles)
	}
	gasPool := core.NewGasPool(header.GasLimit)
	txs := make(types.Transactions, 0, len(attrs.Transactions))
	receipts := make(types.Receipts, 0, len(attrs.Transactions))
	for i, enc := range attrs.Transactions {
		tx := new(types.Transaction)
		if err := tx.UnmarshalBinary(enc); err != nil {
			return nil, fmt.Errorf("%w: transaction %d does not decode: %w", ErrInvalidAttributes, i, err)
		}
		if tx.Type() == types.BlobTxType {
			return nil, fmt.Errorf("%w: transaction %d is a blob transaction", ErrInvalidAttributes, i)
		}
		statedb.SetTxContext(tx.Hash(), i)
		receipt, err := c.applyTransaction(evm, gasPool, statedb, header, tx, signer)
		if err != nil {
			if rerr := c.takeErr(); rerr != nil {
				return nil, rerr // the failure was ours (missing data), not the transaction's
			}
			if errors.Is(err, l1.ErrSenderUnavailable) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: transaction %d (%s): %w", ErrInvalidAttributes, i, tx.Hash(), err)
		}
		header.GasUsed = gasPool.Used()
		txs = append(txs, tx)
		receipts = append(receipts, receipt)
	}

	if c.config.IsPrague(header.Number, header.Time) && !c.config.IsIsthmus(header.Time) {
		return nil, fmt.Errorf("prague without isthmus is not an OP Stack configuration")
	}
	if c.config.IsIsthmus(header.Time) {
		// OP chains carry no execution-layer requests: the hash of the empty list.
		h := types.CalcRequestsHash([][]byte{})
		header.RequestsHash = &h
	}
	body := &types.Body{Transactions: txs, Withdrawals: attrs.Withdrawals}
	block, err := c.engine.FinalizeAndAssemble(context.Background(), c, header, statedb, body, receipts)
	if err != nil {
		return nil, fmt.Errorf("%w: assemble block: %w", ErrInvalidAttributes, err)
	}
	if err := c.takeErr(); err != nil {
		return nil, err
	}
	if err := statedb.Error(); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	if err := c.commit(block, statedb); err != nil {
		return nil, err
	}
	if c.receipts != nil {
		c.receipts[block.Hash()] = receipts
	}
	return &BuildResult{Block: block, Receipts: receipts}, nil
}

// applyTransaction is core.ApplyTransaction with the sender recovered by signer.
func (c *Chain) applyTransaction(evm *vm.EVM, gp *core.GasPool, statedb *state.StateDB, header *types.Header, tx *types.Transaction, signer types.Signer) (*types.Receipt, error) {
	msg, err := core.TransactionToMessage(tx, signer, header.BaseFee)
	if err != nil {
		return nil, err
	}
	return core.ApplyTransactionWithEVM(msg, gp, statedb, header.Number, header.Hash(), header.Time, tx, evm)
}

// prepareHeader fills the new block's header from its parent and the attributes, following the engine
// API rules of each fork.
func (c *Chain) prepareHeader(parent *types.Header, attrs *rollup.PayloadAttributes) (*types.Header, error) {
	if attrs.Timestamp <= parent.Time {
		return nil, fmt.Errorf("%w: timestamp %d is not after the parent's %d", ErrInvalidAttributes, attrs.Timestamp, parent.Time)
	}
	if attrs.GasLimit == nil {
		return nil, fmt.Errorf("%w: rollup payload attributes need a gas limit", ErrInvalidAttributes)
	}
	header := &types.Header{
		ParentHash: parent.Hash(),
		Number:     new(big.Int).Add(parent.Number, common.Big1),
		GasLimit:   *attrs.GasLimit,
		Time:       attrs.Timestamp,
		Coinbase:   attrs.SuggestedFeeRecipient,
		MixDigest:  attrs.Random,
		Difficulty: new(big.Int),
	}
	if c.config.IsLondon(header.Number) {
		header.BaseFee = eip1559.CalcBaseFee(c.config, parent, header.Time)
	}
	if c.config.IsJovian(header.Time) && attrs.MinBaseFee == nil {
		return nil, fmt.Errorf("%w: jovian attributes need a minimum base fee", ErrInvalidAttributes)
	}
	if c.config.IsHolocene(header.Time) {
		if err := eip1559.ValidateHolocene1559Params(attrs.EIP1559Params); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidAttributes, err)
		}
		d, e := eip1559.DecodeHolocene1559Params(attrs.EIP1559Params)
		if d == 0 { // zero means the chain's pre-Holocene constants
			d = c.config.BaseFeeChangeDenominator(header.Time)
			e = c.config.ElasticityMultiplier()
		}
		header.Extra = eip1559.EncodeOptimismExtraData(c.config, header.Time, d, e, attrs.MinBaseFee)
	} else if attrs.EIP1559Params != nil {
		return nil, fmt.Errorf("%w: eip1559Params before holocene", ErrInvalidAttributes)
	}
	if c.config.IsCancun(header.Number, header.Time) {
		var excess uint64
		if c.config.IsCancun(parent.Number, parent.Time) {
			excess = eip4844.CalcExcessBlobGas(c.config, parent, header.Time)
		}
		header.BlobGasUsed = new(uint64)
		header.ExcessBlobGas = &excess
		header.ParentBeaconRoot = attrs.BeaconRoot
	}
	if c.config.IsShanghai(header.Number, header.Time) && attrs.Withdrawals == nil {
		return nil, fmt.Errorf("%w: withdrawals must be an empty list from canyon", ErrInvalidAttributes)
	}
	return header, nil
}

// commit writes the block's state into the in-memory trie database, so later blocks and output roots can
// read it, and remembers the block.
func (c *Chain) commit(block *types.Block, statedb interface {
	Commit(uint64, bool, bool) (common.Hash, error)
}) error {
	n := block.NumberU64()
	root, err := statedb.Commit(n, c.config.IsEIP158(block.Number()), c.config.IsCancun(block.Number(), block.Time()))
	if err != nil {
		return fmt.Errorf("commit state of block %d: %w", n, err)
	}
	if root != block.Root() {
		return fmt.Errorf("committed state root %s differs from block %d's %s", root, n, block.Root())
	}
	if err := c.triedb.Commit(root, false); err != nil {
		return fmt.Errorf("write state of block %d: %w", n, err)
	}
	if err := c.takeErr(); err != nil {
		return err
	}
	c.built[block.Hash()] = block
	return nil
}

package client

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/client/l1"
	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// chainView is one chain during consolidation: its agreed (cross-safe) block, and its local-safe head,
// the optimistic block of the transition state or the deposit-only block that replaced it.
type chainView struct {
	id       uint64
	cfg      *rollup.ChainConfigs
	oracle   *l2.Oracle
	chain    *l2.Chain // opened at the agreed block; builds replacements
	head     *types.Header
	headHash common.Hash
	output   common.Hash    // output root of head
	receipts types.Receipts // of head once read or built
	replaced bool
}

// headerByNumber finds block n of the chain as the local-safe head sees it. A block past the head does
// not exist yet: its messages cannot be executed.
func (c *chainView) headerByNumber(n uint64) (*types.Header, common.Hash, error) {
	switch head := c.head.Number.Uint64(); {
	case n > head:
		return nil, common.Hash{}, fmt.Errorf("%w: chain %d has no block %d yet (head %d)", interop.ErrMessageNotFound, c.id, n, head)
	case n == head:
		return c.head, c.headHash, nil
	}
	h, err := c.chain.HeaderByNumber(n)
	if err != nil {
		return nil, common.Hash{}, fmt.Errorf("chain %d block %d: %w", c.id, n, err)
	}
	return h, h.Hash(), nil
}

func (c *chainView) receiptsOf(hash common.Hash) (types.Receipts, error) {
	if hash == c.headHash && c.receipts != nil {
		return c.receipts, nil
	}
	r, err := c.oracle.ReceiptsByHash(hash)
	if err != nil {
		return nil, fmt.Errorf("chain %d: %w", c.id, err)
	}
	if hash == c.headHash {
		c.receipts = r
	}
	return r, nil
}

// consolidate runs the consolidation step (kona's SuperchainConsolidator, which game type 9 runs): while
// some executing message of the local-safe heads is invalid, or part of a cycle, the blocks that hold
// them are replaced by their deposit-only blocks; then the next super root is made of the heads' outputs.
// Before interop is active on any chain there are no messages to check.
func consolidate(logger log.Logger, boot *InteropBootInfo, oracle preimage.Oracle, hinter preimage.Hinter, opts Options) (*interop.SuperV1, error) {
	pre := boot.Pre
	next := pre.Super.Timestamp + 1
	outputs := func() []common.Hash {
		out := make([]common.Hash, len(pre.Transition.PendingProgress))
		for i, b := range pre.Transition.PendingProgress {
			out[i] = b.OutputRoot
		}
		return out
	}
	active := slices.ContainsFunc(pre.Super.ChainIDs(), func(id uint64) bool { return boot.Chains[id].Rollup.IsLagoon(next) })
	if !active {
		logger.Info("Interop is not active at the next timestamp on any chain: nothing to consolidate", "timestamp", next)
		return interop.NextSuperRoot(pre.Super, outputs())
	}
	views, err := openChainViews(boot, oracle, hinter, opts)
	if err != nil {
		return nil, err
	}
	byID := func(id uint64) *chainView {
		i, ok := slices.BinarySearchFunc(views, id, func(v *chainView, id uint64) int {
			switch {
			case v.id < id:
				return -1
			case v.id > id:
				return 1
			}
			return 0
		})
		if !ok {
			return nil
		}
		return views[i]
	}
	configs := func(id uint64) *rollup.Config {
		if c, ok := boot.Chains[id]; ok {
			return c.Rollup
		}
		if known, err := rollup.KnownChain(id); err == nil {
			return known.Rollup
		}
		return nil
	}
	for round := 0; ; round++ {
		invalid, err := invalidChains(logger, boot.DepSet, views, byID, configs)
		if err != nil {
			return nil, err
		}
		if len(invalid) == 0 {
			break
		}
		for _, id := range invalid {
			if err := replaceWithDepositOnly(logger, byID(id)); err != nil {
				return nil, err
			}
		}
		logger.Info("Consolidation round replaced blocks", "round", round, "chains", invalid)
	}
	out := make([]common.Hash, len(views))
	for i, v := range views {
		out[i] = v.output
	}
	return interop.NextSuperRoot(pre.Super, out)
}

// openChainViews opens each chain at its agreed block and reads its optimistic block, after an
// l2-block-data hint: a host whose node does not have the block (replaced there by consolidation) must
// build it.
func openChainViews(boot *InteropBootInfo, oracle preimage.Oracle, hinter preimage.Hinter, opts Options) ([]*chainView, error) {
	pre := boot.Pre
	l1Oracle := l1.NewOracle(oracle, hinter)
	if opts.SkipBlobCommitments {
		l1Oracle.SkipBlobCommitmentCheck()
	}
	var views []*chainView
	for i, agreed := range pre.Super.Chains {
		v := &chainView{id: agreed.ChainID, cfg: boot.Chains[agreed.ChainID]}
		v.oracle = l2.NewChainOracle(oracle, hinter, v.id)
		out, err := v.oracle.OutputByRoot(agreed.Output)
		if err != nil {
			return nil, fmt.Errorf("chain %d: agreed output: %w", v.id, err)
		}
		pending := pre.Transition.PendingProgress[i]
		data := append(append(append(make([]byte, 0, 72), out.BlockHash[:]...), pending.BlockHash[:]...), binary.BigEndian.AppendUint64(nil, v.id)...)
		if err := hinter.Hint(preimage.TypedHint{Type: preimage.HintL2BlockData, Data: data}); err != nil {
			return nil, fmt.Errorf("hint %s: %w", preimage.HintL2BlockData, err)
		}
		if v.chain, err = l2.NewChain(v.cfg.Rollup, v.cfg.L2, v.oracle, out.BlockHash); err != nil {
			return nil, fmt.Errorf("chain %d: %w", v.id, err)
		}
		v.chain.SetPrecompileOracle(l1Oracle)
		if v.head, err = v.oracle.HeaderByHash(pending.BlockHash); err != nil {
			return nil, fmt.Errorf("chain %d: optimistic block: %w", v.id, err)
		}
		v.headHash, v.output = pending.BlockHash, pending.OutputRoot
		if v.headHash != out.BlockHash && v.head.ParentHash != out.BlockHash {
			return nil, fmt.Errorf("%w: chain %d's optimistic block %s does not follow its agreed block %s", ErrBadPrestate, v.id, v.headHash, out.BlockHash)
		}
		views = append(views, v)
	}
	return views, nil
}

// invalidChains returns, in chain ID order, the chains whose local-safe head must be replaced: those in a
// cycle of same-timestamp messages if there is one, else those with an invalid executing message.
// Replaced heads are not checked again (they hold deposits only) but remain what messages point at.
func invalidChains(logger log.Logger, ds *interop.DependencySet, views []*chainView, byID func(uint64) *chainView, configs func(uint64) *rollup.Config) ([]uint64, error) {
	var msgs []interop.BlockMessage
	for _, v := range views {
		if v.replaced {
			continue
		}
		receipts, err := v.receiptsOf(v.headHash)
		if err != nil {
			return nil, err
		}
		var ix uint32
		for _, r := range receipts {
			for _, l := range r.Logs {
				m, err := interop.ExecutingMessageFromLog(l)
				if err != nil {
					logger.Warn("Ignoring a malformed executing message", "chain", v.id, "block", v.head.Number, "log", ix, "err", err)
				} else if m != nil {
					msgs = append(msgs, interop.BlockMessage{Msg: *m, Chain: v.id, Timestamp: v.head.Time, LogIndex: ix})
				}
				ix++
			}
		}
	}
	var times []uint64
	for _, m := range msgs {
		if !slices.Contains(times, m.Timestamp) {
			times = append(times, m.Timestamp)
		}
	}
	slices.Sort(times)
	for _, ts := range times {
		if cyclic := interop.CyclicChains(msgs, ts); len(cyclic) > 0 {
			logger.Warn("Cycle of same-timestamp executing messages", "timestamp", ts, "chains", cyclic)
			return cyclic, nil
		}
	}
	var invalid []uint64
	for _, m := range msgs {
		if slices.Contains(invalid, m.Chain) {
			continue
		}
		err := checkMessage(ds, configs, byID, m)
		var rule *ruleError
		switch {
		case err == nil:
		case errors.As(err, &rule):
			logger.Warn("Invalid executing message", "chain", m.Chain, "log", m.LogIndex, "initiatingChain", m.Msg.ID.ChainID,
				"initiatingBlock", m.Msg.ID.BlockNumber, "initiatingLog", m.Msg.ID.LogIndex, "reason", rule.err)
			invalid = append(invalid, m.Chain)
		default:
			return nil, err
		}
	}
	slices.Sort(invalid)
	return invalid, nil
}

// ruleError marks a message that breaks a rule, as opposed to a failure to read data.
type ruleError struct{ err error }

func (e *ruleError) Error() string { return e.err.Error() }
func (e *ruleError) Unwrap() error { return e.err }

// checkMessage checks one executing message (kona's check order): the link rules, then that the
// initiating block exists on the initiating chain as its local-safe head sees it, has the message's
// timestamp, and its log at the index has the message's origin and payload hash.
func checkMessage(ds *interop.DependencySet, configs func(uint64) *rollup.Config, byID func(uint64) *chainView, m interop.BlockMessage) error {
	id := m.Msg.ID
	if err := interop.CheckLink(ds, configs, m.Chain, m.Timestamp, id); err != nil {
		return &ruleError{err}
	}
	v := byID(id.ChainID)
	if v == nil {
		return &ruleError{fmt.Errorf("%w: chain %d is not in the super root", interop.ErrMessageNotFound, id.ChainID)}
	}
	h, hash, err := v.headerByNumber(id.BlockNumber)
	if errors.Is(err, interop.ErrMessageNotFound) {
		return &ruleError{err}
	}
	if err != nil {
		return err
	}
	receipts, err := v.receiptsOf(hash)
	if err != nil {
		return err
	}
	var found *types.Log
	var ix uint32
	for _, r := range receipts {
		for _, l := range r.Logs {
			if ix == id.LogIndex {
				found = l
			}
			ix++
		}
	}
	switch {
	case found == nil:
		return &ruleError{fmt.Errorf("%w: block %d of chain %d has %d logs, no log %d", interop.ErrMessageNotFound, id.BlockNumber, id.ChainID, ix, id.LogIndex)}
	case found.Address != id.Origin:
		return &ruleError{fmt.Errorf("%w: log from %s, message names %s", interop.ErrMessageOrigin, found.Address, id.Origin)}
	case interop.PayloadHash(found) != m.Msg.PayloadHash:
		return &ruleError{fmt.Errorf("%w: log's is %s, message names %s", interop.ErrMessageHash, interop.PayloadHash(found), m.Msg.PayloadHash)}
	case h.Time != id.Timestamp:
		return &ruleError{fmt.Errorf("%w: block %d is at %d, message names %d", interop.ErrMessageTimestamp, id.BlockNumber, h.Time, id.Timestamp)}
	}
	return nil
}

// replaceWithDepositOnly rebuilds a chain's local-safe head with its deposits alone, on the same parent
// (kona's deposit-only re-execution; op-program v1.19.0 also appended an invalidated-block deposit, which
// kona, and so game type 9, does not).
func replaceWithDepositOnly(logger log.Logger, v *chainView) error {
	block, err := v.oracle.BlockByHash(v.headHash)
	if err != nil {
		return fmt.Errorf("chain %d: %w", v.id, err)
	}
	attrs, err := DepositOnlyAttributes(v.cfg, block)
	if err != nil {
		return fmt.Errorf("chain %d: %w", v.id, err)
	}
	res, err := v.chain.BuildBlock(block.ParentHash(), attrs, vm.Config{})
	if err != nil {
		return fmt.Errorf("chain %d: deposit-only block replacing %s: %w", v.id, v.headHash, err)
	}
	out, err := v.chain.OutputAt(res.Block.Hash())
	if err != nil {
		return fmt.Errorf("chain %d: %w", v.id, err)
	}
	logger.Info("Replaced block by its deposits alone", "chain", v.id, "number", block.Number(), "replaced", v.headHash,
		"replacement", res.Block.Hash(), "output", out.Root())
	v.head, v.headHash, v.output, v.receipts, v.replaced = res.Block.Header(), res.Block.Hash(), out.Root(), res.Receipts, true
	return nil
}

// DepositOnlyAttributes are the payload attributes of the block that replaces b when consolidation finds
// it invalid: b's header fields (timestamp, prevRandao, fee recipient, beacon root, gas limit, and from
// Holocene its EIP-1559 parameters, from Jovian its minimum base fee, as its extraData holds them) and b's
// deposit transactions alone.
func DepositOnlyAttributes(cfg *rollup.ChainConfigs, b *types.Block) (*rollup.PayloadAttributes, error) {
	h := b.Header()
	gasLimit := h.GasLimit
	attrs := &rollup.PayloadAttributes{
		Timestamp:             h.Time,
		Random:                h.MixDigest,
		SuggestedFeeRecipient: h.Coinbase,
		BeaconRoot:            h.ParentBeaconRoot,
		NoTxPool:              true,
		GasLimit:              &gasLimit,
	}
	if cfg.Rollup.IsCanyon(h.Time) {
		attrs.Withdrawals = []*types.Withdrawal{}
	}
	for _, tx := range b.Transactions() {
		if tx.Type() != types.DepositTxType {
			continue
		}
		enc, err := tx.MarshalBinary()
		if err != nil {
			return nil, err
		}
		attrs.Transactions = append(attrs.Transactions, enc)
	}
	if cfg.L2.IsHolocene(h.Time) {
		if err := eip1559.ValidateOptimismExtraData(cfg.L2, h.Time, h.Extra); err != nil {
			return nil, fmt.Errorf("extraData of block %d: %w", h.Number, err)
		}
		d, e, minBaseFee := eip1559.DecodeOptimismExtraData(cfg.L2, h.Time, h.Extra)
		attrs.EIP1559Params = eip1559.EncodeHolocene1559Params(d, e)
		attrs.MinBaseFee = minBaseFee
	}
	return attrs, nil
}

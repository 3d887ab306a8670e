package client

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/client/l1"
	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/preimage"
)

// RunInterop decides one super-root claim (interop mode): nil if it is valid, ErrClaimNotValid if not,
// any other error if no verdict could be reached. One run makes one step of a timestamp's transition
// (specs/interop/fault-proof.md): derive one chain's next block, a padding step, or the consolidation that
// gives the next super root.
func RunInterop(logger log.Logger, oracle preimage.Oracle, hinter preimage.Hinter, opts Options) error {
	boot, err := ReadInteropBootInfo(oracle, hinter)
	if err != nil {
		return fmt.Errorf("boot: %w", err)
	}
	logger.Info("Interop program bootstrapped", "l1Head", boot.L1Head, "agreedPrestate", boot.AgreedPrestate,
		"claim", boot.Claim, "gameTimestamp", boot.GameTimestamp)
	if boot.ConfigsFrom == ConfigsLocalFallback {
		logger.Warn("Some chains are neither in the registry nor built into this program: their configs come from the host (local keys 6, 7, 9), so this run cannot be disputed on chain")
	}
	computed, err := SuperTransition(logger, boot, oracle, hinter, opts)
	if err != nil {
		return err
	}
	if computed != boot.Claim {
		logger.Warn("Claim is not valid", "claim", boot.Claim, "computed", computed)
		return fmt.Errorf("%w: the state after %s is %s, claim is %s", ErrClaimNotValid, boot.AgreedPrestate, computed, boot.Claim)
	}
	logger.Info("Claim is valid", "state", computed)
	return nil
}

// SuperTransition computes the hash of the state one step after the agreed prestate: a transition state,
// the next super root (from the consolidation step), or InvalidTransitionHash.
func SuperTransition(logger log.Logger, boot *InteropBootInfo, oracle preimage.Oracle, hinter preimage.Hinter, opts Options) (common.Hash, error) {
	if boot.Pre == nil { // the agreed prestate is already InvalidTransition: so is every later one
		return interop.InvalidTransitionHash, nil
	}
	pre := boot.Pre
	// At the game's timestamp the trace is extended: the state no longer changes.
	if pre.Super.Timestamp == boot.GameTimestamp {
		logger.Info("Agreed prestate is at the game timestamp: no transition")
		return boot.AgreedPrestate, nil
	}
	ts := &pre.Transition
	step, n := ts.Step, uint64(len(pre.Super.Chains))
	switch {
	case step < n:
		block, err := deriveOptimisticBlock(logger, boot, oracle, hinter, opts)
		if errors.Is(err, errL1Exhausted) {
			logger.Warn("L1 up to the L1 head does not derive the next block: the transition is invalid", "chain", pre.Super.Chains[step].ChainID)
			return interop.InvalidTransitionHash, nil
		}
		if err != nil {
			return common.Hash{}, err
		}
		return ts.Next(block).Hash(), nil
	case step < interop.ConsolidateStep:
		logger.Info("Padding step", "step", step)
		return ts.Next(nil).Hash(), nil
	default:
		super, err := consolidate(logger, boot, oracle, hinter, opts)
		if err != nil {
			return common.Hash{}, err
		}
		return super.Root(), nil
	}
}

var errL1Exhausted = errors.New("l1 exhausted before the next block")

// chainBoot is the single-chain boot info that derives one chain's block in an interop step.
func chainBoot(boot *InteropBootInfo, chainID uint64) *BootInfo {
	c := boot.Chains[chainID]
	return &BootInfo{L1Head: boot.L1Head, L2ChainID: chainID, Rollup: c.Rollup, L2ChainConfig: c.L2, L1ChainConfig: c.L1,
		ConfigsFrom: boot.ConfigsFrom, DependencySetSize: len(boot.DepSet.Chains())}
}

// deriveOptimisticBlock derives the next block of the chain at the transition's step from L1 alone, as in
// single-chain mode. As kona does, a chain whose next block is after the next timestamp (a block time of
// more than a second) keeps its block: the optimistic block is the agreed one.
func deriveOptimisticBlock(logger log.Logger, boot *InteropBootInfo, oracle preimage.Oracle, hinter preimage.Hinter, opts Options) (*interop.OptimisticBlock, error) {
	pre := boot.Pre
	agreed := pre.Super.Chains[pre.Transition.Step]
	cb := chainBoot(boot, agreed.ChainID)
	l2Oracle := l2.NewChainOracle(oracle, hinter, agreed.ChainID)
	out, err := l2Oracle.OutputByRoot(agreed.Output)
	if err != nil {
		return nil, fmt.Errorf("chain %d: agreed output: %w", agreed.ChainID, err)
	}
	chain, err := l2.NewChain(cb.Rollup, cb.L2ChainConfig, l2Oracle, out.BlockHash)
	if err != nil {
		return nil, fmt.Errorf("chain %d: %w", agreed.ChainID, err)
	}
	head := chain.Head()
	if head.Root != out.StateRoot {
		return nil, fmt.Errorf("chain %d: agreed output's state root %s is not the state root %s of its block %s", agreed.ChainID, out.StateRoot, head.Root, out.BlockHash)
	}
	if head.Time+cb.Rollup.BlockTime > pre.Super.Timestamp+1 {
		logger.Info("No block of this chain at the next timestamp", "chain", agreed.ChainID, "head", head.Number, "headTime", head.Time)
		return &interop.OptimisticBlock{BlockHash: out.BlockHash, OutputRoot: agreed.Output}, nil
	}
	l1Oracle := l1.NewOracle(oracle, hinter)
	if opts.SkipBlobCommitments {
		l1Oracle.SkipBlobCommitmentCheck()
	}
	chain.SetPrecompileOracle(l1Oracle)
	target := head.Number.Uint64() + 1
	logger.Info("Deriving the optimistic block", "chain", agreed.ChainID, "block", target)
	safe, err := deriveUntil(logger, cb, chain, l1Oracle, target)
	if err != nil {
		return nil, fmt.Errorf("chain %d: %w", agreed.ChainID, err)
	}
	if safe.Number < target {
		return nil, errL1Exhausted
	}
	o, err := chain.OutputAt(safe.Hash)
	if err != nil {
		return nil, fmt.Errorf("chain %d: %w", agreed.ChainID, err)
	}
	return &interop.OptimisticBlock{BlockHash: safe.Hash, OutputRoot: o.Root()}, nil
}

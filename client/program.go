package client

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/client/l1"
	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/preimage"
)

// ErrClaimNotValid is the verdict that the claimed output root is wrong.
var ErrClaimNotValid = errors.New("claim is not valid")

// ExitCode maps the program's result to its exit code (preimage.ExitValid, ExitInvalid or ExitFailure).
func ExitCode(err error) int {
	switch {
	case err == nil:
		return preimage.ExitValid
	case errors.Is(err, ErrClaimNotValid):
		return preimage.ExitInvalid
	default:
		return preimage.ExitFailure
	}
}

// Options tune how the program checks what it reads.
type Options struct {
	// SkipBlobCommitments trusts canonical blob field elements to the on-chain PreimageOracle's KZG proofs
	// instead of recomputing each blob's commitment (see l1.Oracle.SkipBlobCommitmentCheck): the VM's choice.
	SkipBlobCommitments bool
}

// Run decides one claim: nil if it is valid, ErrClaimNotValid if not, any other error if no verdict could
// be reached.
func Run(logger log.Logger, oracle preimage.Oracle, hinter preimage.Hinter) error {
	return RunWithOptions(logger, oracle, hinter, Options{})
}

// RunWithOptions is Run with options.
func RunWithOptions(logger log.Logger, oracle preimage.Oracle, hinter preimage.Hinter, opts Options) error {
	boot, err := ReadBootInfo(oracle)
	if err != nil {
		return fmt.Errorf("boot: %w", err)
	}
	logger.Info("Program bootstrapped", "l1Head", boot.L1Head, "agreedOutput", boot.L2OutputRoot, "claim", boot.L2Claim,
		"claimBlock", boot.L2ClaimBlockNumber, "chain", boot.Rollup.ChainID())
	if boot.ConfigsFrom == ConfigsLocalFallback {
		logger.Warn("Chain is neither in the registry nor built into this program: its configs come from the host (local keys 6, 7, 9), so this run cannot be disputed on chain",
			"chain", boot.L2ChainID)
	}

	l2Oracle := l2.NewOracle(oracle, hinter)
	agreed, err := l2Oracle.OutputByRoot(boot.L2OutputRoot)
	if err != nil {
		return fmt.Errorf("agreed output: %w", err)
	}
	chain, err := l2.NewChain(boot.Rollup, boot.L2ChainConfig, l2Oracle, agreed.BlockHash)
	if err != nil {
		return err
	}
	l1Oracle := l1.NewOracle(oracle, hinter)
	if opts.SkipBlobCommitments {
		l1Oracle.SkipBlobCommitmentCheck()
	}
	chain.SetPrecompileOracle(l1Oracle)
	head := chain.Head()
	if head.Root != agreed.StateRoot {
		return fmt.Errorf("agreed output's state root %s is not the state root %s of its block %s", agreed.StateRoot, head.Root, agreed.BlockHash)
	}

	// A claim about the agreed block or an older one (the dispute game repeats the last output past its
	// block) needs no derivation: only the output of that canonical block.
	target := boot.L2ClaimBlockNumber
	if target > head.Number.Uint64() {
		safe, err := deriveUntil(logger, boot, chain, l1Oracle, target)
		if err != nil {
			return err
		}
		// If L1 ran out first, the claim is judged at the last safe block: a claim about a block that L1
		// up to the L1 head does not produce is not valid.
		target = min(target, safe.Number)
	}
	h, err := chain.HeaderByNumber(target)
	if err != nil {
		return fmt.Errorf("l2 block %d: %w", target, err)
	}
	out, err := chain.OutputAt(h.Hash())
	if err != nil {
		return err
	}
	return validateClaim(logger, boot.L2Claim, out.Root(), target)
}

func validateClaim(logger log.Logger, claim, computed common.Hash, block uint64) error {
	if claim != computed {
		logger.Warn("Claim is not valid", "block", block, "claim", claim, "computed", computed)
		return fmt.Errorf("%w: output root at block %d is %s, claim is %s", ErrClaimNotValid, block, computed, claim)
	}
	logger.Info("Claim is valid", "block", block, "output", computed)
	return nil
}

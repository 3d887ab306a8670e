package client

import (
	"errors"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/client/l1"
	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/rollup"
)

// blobSource adapts the L1 oracle's blob reads to derivation.
type blobSource struct{ o *l1.Oracle }

func (b blobSource) GetBlob(l1Time, index uint64, hash common.Hash) (*kzg4844.Blob, error) {
	return b.o.GetBlob(l1.BlobRef{L1Timestamp: l1Time, Index: index, VersionedHash: hash})
}

// l2Source shows derivation the L2 chain the program builds on.
type l2Source struct {
	cfg   *rollup.Config
	chain *l2.Chain
}

func (s l2Source) L2BlockRefByHash(hash common.Hash) (derive.L2BlockRef, error) {
	b, err := s.chain.BlockByHash(hash)
	if err != nil {
		return derive.L2BlockRef{}, err
	}
	return derive.L2BlockRefOf(s.cfg, b)
}

func (s l2Source) L2BlockRefByNumber(n uint64) (derive.L2BlockRef, error) {
	b, err := s.PayloadByNumber(n)
	if err != nil {
		return derive.L2BlockRef{}, err
	}
	return derive.L2BlockRefOf(s.cfg, b)
}

func (s l2Source) PayloadByNumber(n uint64) (*types.Block, error) {
	h, err := s.chain.HeaderByNumber(n)
	if err != nil {
		return nil, err
	}
	return s.chain.BlockByHash(h.Hash())
}

func (s l2Source) SystemConfigByL2Hash(hash common.Hash) (rollup.SystemConfig, error) {
	b, err := s.chain.BlockByHash(hash)
	if err != nil {
		return rollup.SystemConfig{}, err
	}
	return derive.SystemConfigFromL2Block(s.cfg, b)
}

// criticalSigner turns an oracle failure while recovering a batcher transaction's sender into a critical
// derivation error: the program cannot decide without the data, and must not skip the transaction.
type criticalSigner struct{ types.Signer }

func (s criticalSigner) Sender(tx *types.Transaction) (common.Address, error) {
	addr, err := s.Signer.Sender(tx)
	if errors.Is(err, l1.ErrSenderUnavailable) {
		return addr, fmt.Errorf("%w: %w", derive.ErrCritical, err)
	}
	return addr, err
}

// deriveUntil derives and executes L2 blocks on top of the chain's head until the block numbered target
// is safe, or L1 up to the L1 head has nothing more. It returns the final safe head. It never builds the
// block after target: every block costs steps, and the host need not have its data.
func deriveUntil(logger log.Logger, boot *BootInfo, chain *l2.Chain, l1Oracle *l1.Oracle, target uint64) (derive.L2BlockRef, error) {
	src := l2Source{cfg: boot.Rollup, chain: chain}
	headBlock, err := chain.BlockByHash(chain.Head().Hash())
	if err != nil {
		return derive.L2BlockRef{}, err
	}
	safe, err := derive.L2BlockRefOf(boot.Rollup, headBlock)
	if err != nil {
		return derive.L2BlockRef{}, fmt.Errorf("agreed l2 block: %w", err)
	}
	pipeline, err := derive.NewPipeline(boot.Rollup, boot.L1ChainConfig, logger, l1Oracle, blobSource{l1Oracle}, src, boot.L1Head)
	if err != nil {
		return safe, err
	}
	pipeline.SetL1Signer(criticalSigner{l1.NewSenderSigner(types.LatestSignerForChainID(boot.Rollup.L1ChainID), l1Oracle)})
	pipeline.SetDependencySetSize(boot.DependencySetSize)
	if err := pipeline.Reset(safe); err != nil {
		return safe, err
	}
	for safe.Number < target {
		attrs, err := pipeline.NextAttributes(safe)
		if errors.Is(err, io.EOF) {
			logger.Info("L1 exhausted before the claimed block", "safe", safe, "target", target)
			return safe, nil
		}
		if err != nil {
			return safe, fmt.Errorf("derive block %d: %w", safe.Number+1, err)
		}
		block, err := buildSafeBlock(logger, chain, pipeline, attrs)
		if err != nil {
			return safe, err
		}
		if block == nil {
			continue // pre-Holocene: an invalid batch is dropped; derive again on the same parent
		}
		if err := chain.SetHead(block.Hash()); err != nil {
			return safe, err
		}
		if safe, err = derive.L2BlockRefOf(boot.Rollup, block); err != nil {
			return safe, err
		}
		logger.Info("Derived block", "number", safe.Number, "hash", safe.Hash, "origin", safe.L1Origin.Number,
			"txs", len(block.Transactions()), "l1", attrs.DerivedFrom.Number, "target", target)
	}
	return safe, nil
}

// buildSafeBlock executes derived attributes. Attributes the engine rejects are dropped (nil block) or
// replaced by their deposits alone, with the rest of their span batch and channel, as derive.Pipeline's
// InvalidPayload decides.
func buildSafeBlock(logger log.Logger, chain *l2.Chain, pipeline *derive.Pipeline, attrs *derive.DerivedAttributes) (*types.Block, error) {
	res, err := chain.BuildBlock(attrs.Parent.Hash, attrs.Attributes, vm.Config{})
	if err == nil {
		return res.Block, nil
	}
	if !errors.Is(err, l2.ErrInvalidAttributes) {
		return nil, err
	}
	depositsOnly, rerr := pipeline.InvalidPayload(attrs)
	if rerr != nil {
		return nil, fmt.Errorf("invalid payload on %s (%w): %w", attrs.Parent, err, rerr)
	}
	if depositsOnly == nil {
		logger.Warn("Dropping invalid payload attributes", "parent", attrs.Parent, "err", err)
		return nil, nil
	}
	logger.Warn("Replacing invalid payload with a deposit-only block", "parent", attrs.Parent, "err", err)
	res, err = chain.BuildBlock(attrs.Parent.Hash, depositsOnly, vm.Config{})
	if err != nil {
		return nil, fmt.Errorf("%w: deposit-only block on %s: %w", derive.ErrCritical, attrs.Parent, err)
	}
	return res.Block, nil
}

package client

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/client/l1"
	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// RebuildRequest names the block a host rebuilds: the block after Agreed on chain Chain, as derived from
// L1 up to L1Head (an interop step's optimistic block).
type RebuildRequest struct {
	Chain             *rollup.ChainConfigs
	DependencySetSize int
	L1Head            common.Hash
	Agreed            common.Hash
}

// RebuiltBlock is a block rebuilt for a host: the block, its receipts, and the trie nodes and code its
// execution wrote.
type RebuiltBlock struct {
	Block    *types.Block
	Receipts types.Receipts
	State    [][]byte
}

// RebuildOptimisticBlock derives and executes the block after the agreed one, as an interop step of the
// program does, reading through oracle and hinter. A host calls it for an optimistic block its node does
// not have because consolidation replaced it (op-program's and kona's l2-block-data): it then stores the
// block's header, transactions and receipts, which the consolidation step reads, and the block's state,
// which op-program's consolidation reads too. It runs natively in the host, never in the VM.
func RebuildOptimisticBlock(logger log.Logger, oracle preimage.Oracle, hinter preimage.Hinter, req RebuildRequest) (*RebuiltBlock, error) {
	c := req.Chain
	id := c.Rollup.ChainID()
	boot := &BootInfo{L1Head: req.L1Head, L2ChainID: id, Rollup: c.Rollup, L2ChainConfig: c.L2, L1ChainConfig: c.L1, DependencySetSize: req.DependencySetSize}
	chain, err := l2.NewChain(c.Rollup, c.L2, l2.NewChainOracle(oracle, hinter, id), req.Agreed)
	if err != nil {
		return nil, fmt.Errorf("chain %d: %w", id, err)
	}
	chain.KeepReceipts()
	l1Oracle := l1.NewOracle(oracle, hinter)
	chain.SetPrecompileOracle(l1Oracle)
	target := chain.Head().Number.Uint64() + 1
	safe, err := deriveUntil(logger, boot, chain, l1Oracle, target)
	if err != nil {
		return nil, fmt.Errorf("chain %d: %w", id, err)
	}
	if safe.Number < target {
		return nil, fmt.Errorf("chain %d: L1 up to %s does not derive block %d", id, req.L1Head, target)
	}
	block, err := chain.BlockByHash(safe.Hash)
	if err != nil {
		return nil, err
	}
	receipts, ok := chain.BuiltReceipts(safe.Hash)
	if !ok {
		return nil, fmt.Errorf("chain %d: no receipts of the rebuilt block %d", id, target)
	}
	return &RebuiltBlock{Block: block, Receipts: receipts, State: chain.WrittenState()}, nil
}

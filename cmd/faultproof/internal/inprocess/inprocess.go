// Package inprocess runs the fault proof program inside the host's own process, as 'faultproof run', the
// demo and the benchmarks do: the client over the same two channels a child would get on fds 3-6, its
// result turned into the host's verdict error (nil, or a host.ExitError with the program's exit code).
// An online interop host also rebuilds, with the program's own code, the blocks a node does not have.
package inprocess

import (
	"context"
	"io"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/client"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/prefetch"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// Program runs the program on a single-chain claim (an output root).
func Program(_ context.Context, preimageCh, hintCh io.ReadWriter) error {
	return verdict(client.Run(log.Root(), preimage.NewOracleClient(preimageCh), preimage.NewHintWriter(hintCh)))
}

// InteropProgram runs the program in interop mode, on a super-root claim.
func InteropProgram(_ context.Context, preimageCh, hintCh io.ReadWriter) error {
	return verdict(client.RunInterop(log.Root(), preimage.NewOracleClient(preimageCh), preimage.NewHintWriter(hintCh), client.Options{}))
}

// Both are host.ProgramFuncs.
var _, _ host.ProgramFunc = Program, InteropProgram

// RebuildOptimisticBlock is how an online host rebuilds an optimistic block a chain's node does not have
// (consolidation replaced it): the program's own derivation and execution of the block after agreed, in
// this process, reading through oracle and hinter (host.InteropConfig.Rebuild).
func RebuildOptimisticBlock(_ context.Context, oracle preimage.Oracle, hinter preimage.Hinter, chain *rollup.ChainConfigs, depSetSize int, l1Head, agreed common.Hash) (*prefetch.RebuiltBlock, error) {
	r, err := client.RebuildOptimisticBlock(log.Root().New("rebuild", chain.Rollup.ChainID()), oracle, hinter, client.RebuildRequest{
		Chain: chain, DependencySetSize: depSetSize, L1Head: l1Head, Agreed: agreed,
	})
	if err != nil {
		return nil, err
	}
	return &prefetch.RebuiltBlock{Block: r.Block, Receipts: r.Receipts, State: r.State}, nil
}

var _ host.RebuildFunc = RebuildOptimisticBlock

// verdict is the host's view of the program's result.
func verdict(err error) error {
	if code := client.ExitCode(err); code != preimage.ExitValid {
		return &host.ExitError{Code: code, Err: err}
	}
	return nil
}

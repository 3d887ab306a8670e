package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/host/sources"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// parseBlockNumber reads --number: a decimal or 0x-hex block number, or one of the tags a node resolves.
func parseBlockNumber(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "latest", "safe", "finalized":
		return s, nil
	}
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return "", fmt.Errorf("--%s %q is not a block number (decimal, 0x hex, latest, safe or finalized)", execNumberFlag.Name, s)
	}
	if n == 0 {
		return "", fmt.Errorf("--%s 0 is the genesis block: it has no parent to be built on", execNumberFlag.Name)
	}
	return hexutil.EncodeUint64(n), nil
}

// fetchExecJob fetches what replaying one block needs from an L2 node: the block with its transactions,
// its parent header (checked against the block's parent hash) and its execution witness; state that the
// witness lacks (op-geth leaves out the trie nodes that prove an account absent) is fetched on demand with
// debug_dbGet. Every value is checked against its hash before use.
func fetchExecJob(ctx *cli.Context, rcfg *rollup.Config, l2cfg *params.ChainConfig) (*execJob, error) {
	number, err := parseBlockNumber(ctx.String(execNumberFlag.Name))
	if err != nil {
		return nil, err
	}
	url := ctx.String(execL2Flag.Name)
	c, err := sources.Dial(ctx.Context, url)
	if err != nil {
		return nil, err
	}
	node := sources.NewL2Client(c, sources.Options{})
	call := func(result any, method string, args ...any) error {
		// The largest answer asked for here is the witness.
		cctx, cancel := context.WithTimeout(sources.WithResponseLimit(ctx.Context, sources.MaxWitnessResponseSize), sources.DefaultTimeout)
		defer cancel()
		if err := c.CallContext(cctx, result, method, args...); err != nil {
			return fmt.Errorf("--%s %s: %s: %w", execL2Flag.Name, url, method, err)
		}
		return nil
	}
	ok := false
	defer func() {
		if !ok {
			node.Close()
		}
	}()

	chainID, err := node.ChainID(ctx.Context)
	if err != nil {
		return nil, fmt.Errorf("--%s %s: %w", execL2Flag.Name, url, err)
	}
	if chainID != rcfg.ChainID() {
		return nil, fmt.Errorf("--%s %s serves chain %d, but the rollup config is for chain %d", execL2Flag.Name, url, chainID, rcfg.ChainID())
	}
	var raw json.RawMessage
	if err := call(&raw, "eth_getBlockByNumber", number, true); err != nil {
		return nil, err
	}
	if isJSONNull(raw) {
		return nil, fmt.Errorf("--%s %s has no block %s", execL2Flag.Name, url, ctx.String(execNumberFlag.Name))
	}
	blk, err := decodeBlockJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("--%s %s: block %s: %w", execL2Flag.Name, url, number, err)
	}
	n := blk.header.Number.Uint64()
	if strings.HasPrefix(number, "0x") && hexutil.EncodeUint64(n) != number {
		return nil, fmt.Errorf("--%s %s answered block %d for block %s", execL2Flag.Name, url, n, number)
	}
	attrs, err := attributesFromBlock(l2cfg, blk)
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", n, err)
	}
	parent, err := node.HeaderByHash(ctx.Context, blk.header.ParentHash)
	if err != nil {
		return nil, fmt.Errorf("--%s %s: parent of block %d: %w", execL2Flag.Name, url, n, err)
	}
	var witness json.RawMessage
	if err := call(&witness, "debug_executionWitness", hexutil.EncodeUint64(n)); err != nil {
		return nil, err
	}
	values, err := parseWitness(witness)
	if err != nil {
		return nil, fmt.Errorf("--%s %s: witness of block %d: %w", execL2Flag.Name, url, n, err)
	}
	src, err := newPreimageSource(values, ctx.String(execDataDirFlag.Name))
	if err != nil {
		return nil, err
	}
	src.fetch = func(h preimage.TypedHint) ([]byte, error) { return fetchHinted(ctx.Context, node, h) }
	src.closeNode = node.Close
	ok = true
	return &execJob{parentHash: parent.Hash(), parent: parent, attrs: attrs, want: blk.header, src: src}, nil
}

// fetchHinted fetches the value the program's last hint announced, by the hint's kind.
func fetchHinted(ctx context.Context, node *sources.L2Client, h preimage.TypedHint) ([]byte, error) {
	hash := common.BytesToHash(h.Data[:32])
	switch h.Type {
	case preimage.HintL2StateNode:
		return node.NodeByHash(ctx, hash)
	case preimage.HintL2Code:
		return node.CodeByHash(ctx, hash)
	case preimage.HintL2BlockHeader:
		header, err := node.HeaderByHash(ctx, hash)
		if err != nil {
			return nil, err
		}
		return rlp.EncodeToBytes(header)
	}
	return nil, fmt.Errorf("%s %s is not in the witness, and no request fetches it", h.Type, hash)
}

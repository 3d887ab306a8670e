package main

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

var (
	execParentFlag     = &cli.StringFlag{Name: "parent", Usage: "Parent block header as JSON (the eth_getBlockByHash shape); with --block, read from the witness or datadir when left out", TakesFile: true}
	execAttributesFlag = &cli.StringFlag{Name: "attributes", Usage: "Engine API payload attributes as JSON (needs --parent)", TakesFile: true}
	execBlockFlag      = &cli.StringFlag{Name: "block", Usage: "The block to rebuild, as JSON with its transactions (eth_getBlockByNumber(N, true)): its attributes are derived from it", TakesFile: true}
	execL2Flag         = &cli.StringFlag{Name: "l2", Usage: "L2 node JSON-RPC URL: fetch block --number, its parent and its debug_executionWitness, and replay it"}
	execNumberFlag     = &cli.StringFlag{Name: "number", Usage: "Number of the block to replay with --l2 (decimal, 0x hex, or latest, safe, finalized)"}
	execWitnessFlag    = &cli.StringFlag{Name: "witness", Usage: "Execution witness as JSON (debug_executionWitness: state, codes, keys, headers)", TakesFile: true}
	execExpectFlag     = &cli.StringFlag{Name: "expect", Usage: "Expected block hash: exit 0 on a match, 1 on a mismatch (default with --block and --l2: the block's own hash)"}
	execNetworkFlag    = &cli.StringFlag{Name: "network", Usage: "Chain from the embedded superchain registry (name or chain ID)"}
	execRollupFlag     = &cli.StringFlag{Name: "rollup.config", Usage: "Rollup config file (op-node rollup.json)", TakesFile: true}
	execGenesisFlag    = &cli.StringFlag{Name: "l2.genesis", Usage: "L2 genesis or chain config file (required for chains not in the registry)", TakesFile: true}
	execDataDirFlag    = &cli.StringFlag{Name: "datadir", Usage: "Preimage store to read state from (with --witness or --l2: what the witness lacks)", TakesFile: true}
)

var execBlockCommand = &cli.Command{
	Name:  "exec-block",
	Usage: "Re-execute one L2 block statelessly and compare its hash",
	Description: `Builds the block the engine API would build on the parent, reading state only from a witness (or a
preimage datadir), and prints its hash, number, gas used and state root. The block is given as one of:
  --attributes FILE --parent FILE   engine API payload attributes and the parent header
  --block FILE                      the block itself (eth_getBlockByNumber(N, true)); the attributes are
                                    derived from it and the rebuild must reach its hash
  --l2 URL --number N               the same, fetched from a node with debug_executionWitness; state the
                                    witness lacks is fetched with debug_dbGet
State comes from --witness and/or --datadir (with --l2, from the node's witness). Exit codes: 0 the built
hash matches the expected one (or none is expected), 1 it differs, 2 bad input or a failure.`,
	Flags: append([]cli.Flag{execNetworkFlag, execRollupFlag, execGenesisFlag, execParentFlag, execAttributesFlag,
		execBlockFlag, execL2Flag, execNumberFlag, execWitnessFlag, execDataDirFlag, execExpectFlag}, logFlags...),
	Before: setupLogging,
	Action: runExecBlock,
	// A bad flag value is bad input: one line and exit 2, not the help text.
	OnUsageError: func(_ *cli.Context, err error, _ bool) error { return err },
}

// execJob is one block to rebuild: its parent, its attributes, where its state comes from, and what the
// result is compared with.
type execJob struct {
	parentHash common.Hash
	parent     *types.Header // nil: read through the oracle by parentHash
	attrs      *rollup.PayloadAttributes
	want       *types.Header // the block being replayed, when it is known (--block, --l2)
	src        *preimageSource
}

func runExecBlock(ctx *cli.Context) error {
	if ctx.NArg() > 0 {
		return fmt.Errorf("%w: %v", errNoArgs, ctx.Args().Slice())
	}
	if err := checkExecBlockFlags(ctx); err != nil {
		return err
	}
	rcfg, l2cfg, err := execBlockConfigs(ctx)
	if err != nil {
		return err
	}
	var expect common.Hash
	if s := ctx.String(execExpectFlag.Name); s != "" {
		if expect, err = parseHash(execExpectFlag.Name, s); err != nil {
			return err
		}
	}
	var job *execJob
	switch {
	case ctx.IsSet(execL2Flag.Name):
		job, err = fetchExecJob(ctx, rcfg, l2cfg)
	case ctx.IsSet(execBlockFlag.Name):
		job, err = blockExecJob(ctx, l2cfg)
	default:
		job, err = attributesExecJob(ctx, l2cfg)
	}
	if err != nil {
		return err
	}
	defer job.src.Close()
	if expect == (common.Hash{}) && job.want != nil {
		expect = job.want.Hash()
	}
	b, oracle, err := job.run(rcfg, l2cfg)
	if err != nil {
		return err
	}
	log.Info("Executed block", "number", b.NumberU64(), "txs", len(b.Transactions()), "gas", b.GasUsed(),
		"preimages", oracle.Reads, "fetched", job.src.fetched)
	fmt.Printf("hash %s\n", b.Hash())
	if expect != (common.Hash{}) {
		fmt.Printf("expected %s\n", expect)
	}
	fmt.Printf("number %d\ngasUsed %d\nstateRoot %s\n", b.NumberU64(), b.GasUsed(), b.Root())
	if expect != (common.Hash{}) && b.Hash() != expect {
		err := fmt.Errorf("built block %s, expected %s", b.Hash(), expect)
		if job.want != nil && job.want.Hash() == expect {
			err = fmt.Errorf("%w; header fields that differ: %s", err, strings.Join(headerDiff(b.Header(), job.want), ", "))
		}
		return &host.ExitError{Code: preimage.ExitInvalid, Err: err}
	}
	return nil
}

// checkExecBlockFlags checks that exactly one way of giving the block is used, with the flags it needs.
func checkExecBlockFlags(ctx *cli.Context) error {
	var modes []string
	for _, f := range []*cli.StringFlag{execAttributesFlag, execBlockFlag, execL2Flag} {
		if ctx.IsSet(f.Name) {
			modes = append(modes, "--"+f.Name)
		}
	}
	switch {
	case len(modes) == 0:
		return fmt.Errorf("one of --%s, --%s or --%s is required", execAttributesFlag.Name, execBlockFlag.Name, execL2Flag.Name)
	case len(modes) > 1:
		return fmt.Errorf("%s are mutually exclusive", strings.Join(modes, " and "))
	case ctx.IsSet(execAttributesFlag.Name) && !ctx.IsSet(execParentFlag.Name):
		return fmt.Errorf("--%s needs --%s", execAttributesFlag.Name, execParentFlag.Name)
	case ctx.IsSet(execNumberFlag.Name) && !ctx.IsSet(execL2Flag.Name):
		return fmt.Errorf("--%s needs --%s", execNumberFlag.Name, execL2Flag.Name)
	case ctx.IsSet(execL2Flag.Name) && !ctx.IsSet(execNumberFlag.Name):
		return fmt.Errorf("--%s needs --%s", execL2Flag.Name, execNumberFlag.Name)
	case ctx.IsSet(execL2Flag.Name) && ctx.IsSet(execWitnessFlag.Name):
		return fmt.Errorf("--%s fetches the witness: --%s is not used with it", execL2Flag.Name, execWitnessFlag.Name)
	case ctx.IsSet(execL2Flag.Name) && ctx.IsSet(execParentFlag.Name):
		return fmt.Errorf("--%s fetches the parent: --%s is not used with it", execL2Flag.Name, execParentFlag.Name)
	}
	return nil
}

// attributesExecJob reads --parent, --attributes and the state source.
func attributesExecJob(ctx *cli.Context, l2cfg *params.ChainConfig) (*execJob, error) {
	parent, err := readParentHeader(ctx.String(execParentFlag.Name))
	if err != nil {
		return nil, err
	}
	attrs, err := readAttributes(ctx.String(execAttributesFlag.Name), l2cfg, parent.Number.Uint64()+1)
	if err != nil {
		return nil, err
	}
	src, err := execBlockSource(ctx)
	if err != nil {
		return nil, err
	}
	return &execJob{parentHash: parent.Hash(), parent: parent, attrs: attrs, src: src}, nil
}

// blockExecJob reads --block, derives its attributes, and reads --parent if given.
func blockExecJob(ctx *cli.Context, l2cfg *params.ChainConfig) (*execJob, error) {
	path := ctx.String(execBlockFlag.Name)
	blk, err := readBlockFile(path)
	if err != nil {
		return nil, err
	}
	attrs, err := attributesFromBlock(l2cfg, blk)
	if err != nil {
		return nil, fmt.Errorf("--%s %s: %w", execBlockFlag.Name, path, err)
	}
	job := &execJob{parentHash: blk.header.ParentHash, attrs: attrs, want: blk.header}
	if p := ctx.String(execParentFlag.Name); p != "" {
		if job.parent, err = readParentHeader(p); err != nil {
			return nil, err
		}
		if job.parent.Hash() != blk.header.ParentHash {
			return nil, fmt.Errorf("--%s is block %s, but the block's parent is %s", execParentFlag.Name, job.parent.Hash(), blk.header.ParentHash)
		}
	}
	if job.src, err = execBlockSource(ctx); err != nil {
		return nil, err
	}
	return job, nil
}

// run builds the block with our engine on a chain whose head is the parent.
func (j *execJob) run(rcfg *rollup.Config, l2cfg *params.ChainConfig) (*types.Block, *l2.Oracle, error) {
	if j.parent != nil {
		enc, err := rlp.EncodeToBytes(j.parent)
		if err != nil {
			return nil, nil, fmt.Errorf("encode parent header: %w", err)
		}
		j.src.extra[preimage.KeccakKeyOf(enc).PreimageKey()] = enc
	}
	oracle := l2.NewOracle(j.src, j.src)
	start := time.Now()
	chain, err := l2.NewChain(rcfg, l2cfg, oracle, j.parentHash)
	if err != nil {
		if j.parent == nil {
			return nil, nil, fmt.Errorf("parent block %s (give --%s if the witness lacks it): %w", j.parentHash, execParentFlag.Name, err)
		}
		return nil, nil, err
	}
	parent := chain.Head()
	if err := checkParentNumber("parent block", parent.Number); err != nil {
		return nil, nil, err
	}
	if j.want != nil && j.want.Number.Cmp(new(big.Int).Add(parent.Number, common.Big1)) != 0 {
		return nil, nil, fmt.Errorf("the block is number %v, but its parent is number %v", j.want.Number, parent.Number)
	}
	res, err := chain.BuildBlock(j.parentHash, j.attrs, vm.Config{})
	if err != nil {
		return nil, nil, fmt.Errorf("build block %d: %w", parent.Number.Uint64()+1, err)
	}
	log.Debug("Built block", "elapsed", time.Since(start))
	return res.Block, oracle, nil
}

// checkParentNumber refuses a parent whose child would not have a 64-bit block number.
func checkParentNumber(what string, n *big.Int) error {
	if n == nil || n.Sign() < 0 || !n.IsUint64() || n.Uint64() == math.MaxUint64 {
		return fmt.Errorf("%s: number %v is out of range: the block built on it must have a 64-bit number", what, n)
	}
	return nil
}

// headerDiff names the header fields in which built differs from want, so a mismatch says where the
// execution went another way (state, receipts, gas) rather than only that it did.
func headerDiff(built, want *types.Header) []string {
	var diff []string
	add := func(name string, equal bool) {
		if !equal {
			diff = append(diff, name)
		}
	}
	add("stateRoot", built.Root == want.Root)
	add("receiptsRoot", built.ReceiptHash == want.ReceiptHash)
	add("transactionsRoot", built.TxHash == want.TxHash)
	add("logsBloom", built.Bloom == want.Bloom)
	add("gasUsed", built.GasUsed == want.GasUsed)
	add("gasLimit", built.GasLimit == want.GasLimit)
	add("baseFeePerGas", built.BaseFee.Cmp(want.BaseFee) == 0)
	add("extraData", string(built.Extra) == string(want.Extra))
	add("withdrawalsRoot", equalPtr(built.WithdrawalsHash, want.WithdrawalsHash))
	add("blobGasUsed", equalPtr(built.BlobGasUsed, want.BlobGasUsed))
	add("excessBlobGas", equalPtr(built.ExcessBlobGas, want.ExcessBlobGas))
	add("requestsHash", equalPtr(built.RequestsHash, want.RequestsHash))
	if len(diff) == 0 {
		diff = append(diff, "none of the above (another field)")
	}
	return diff
}

func equalPtr[T comparable](a, b *T) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func execBlockConfigs(ctx *cli.Context) (*rollup.Config, *params.ChainConfig, error) {
	network, rollupPath := ctx.String(execNetworkFlag.Name), ctx.String(execRollupFlag.Name)
	switch {
	case network != "" && rollupPath != "":
		return nil, nil, fmt.Errorf("--%s and --%s are mutually exclusive", execNetworkFlag.Name, execRollupFlag.Name)
	case network != "":
		id, err := rollup.ResolveNetwork(network)
		if err != nil {
			return nil, nil, err
		}
		return rollup.FromRegistry(id)
	case rollupPath == "":
		return nil, nil, fmt.Errorf("one of --%s or --%s is required", execNetworkFlag.Name, execRollupFlag.Name)
	}
	rcfg, err := rollup.LoadConfig(rollupPath)
	if err != nil {
		return nil, nil, err
	}
	if path := ctx.String(execGenesisFlag.Name); path != "" {
		l2cfg, err := rollup.LoadChainConfig(path)
		if err != nil {
			return nil, nil, err
		}
		if l2cfg.ChainID.Cmp(rcfg.L2ChainID) != 0 {
			return nil, nil, fmt.Errorf("--%s is for chain %v but the rollup config is for chain %v", execGenesisFlag.Name, l2cfg.ChainID, rcfg.L2ChainID)
		}
		return rcfg, l2cfg, nil
	}
	_, l2cfg, err := rollup.FromRegistry(rcfg.ChainID())
	if errors.Is(err, rollup.ErrUnknownNetwork) {
		return nil, nil, fmt.Errorf("--%s is required: chain %d is not in the embedded registry", execGenesisFlag.Name, rcfg.ChainID())
	}
	return rcfg, l2cfg, err
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ethereum/go-ethereum/beacon/engine"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/superchain"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

var (
	execParentFlag     = &cli.StringFlag{Name: "parent", Usage: "Parent block header as JSON (the eth_getBlockByHash shape)", Required: true, TakesFile: true}
	execAttributesFlag = &cli.StringFlag{Name: "attributes", Usage: "Engine API payload attributes as JSON", Required: true, TakesFile: true}
	execWitnessFlag    = &cli.StringFlag{Name: "witness", Usage: "Execution witness as JSON (debug_executionWitness: state, codes, keys, headers)", TakesFile: true}
	execExpectFlag     = &cli.StringFlag{Name: "expect", Usage: "Expected block hash: exit 0 on a match, 1 on a mismatch"}
	execNetworkFlag    = &cli.StringFlag{Name: "network", Usage: "Chain from the embedded superchain registry (name or chain ID)"}
	execRollupFlag     = &cli.StringFlag{Name: "rollup.config", Usage: "Rollup config file (op-node rollup.json)", TakesFile: true}
	execGenesisFlag    = &cli.StringFlag{Name: "l2.genesis", Usage: "L2 genesis or chain config file (required for chains not in the registry)", TakesFile: true}
	execDataDirFlag    = &cli.StringFlag{Name: "datadir", Usage: "Preimage store to read state from (with --witness: what the witness lacks)", TakesFile: true}
)

var execBlockCommand = &cli.Command{
	Name:  "exec-block",
	Usage: "Re-execute one L2 block statelessly, from its parent header, payload attributes and a witness",
	Description: `Builds the block the engine API would build from the attributes on top of the parent, reading state
only from the witness (or a preimage datadir), and prints its hash. With --expect, exits 0 if the hash
matches and 1 if it does not.`,
	Flags: append([]cli.Flag{execNetworkFlag, execRollupFlag, execGenesisFlag, execParentFlag, execAttributesFlag,
		execWitnessFlag, execDataDirFlag, execExpectFlag}, logFlags...),
	Before: setupLogging,
	Action: runExecBlock,
}

func runExecBlock(ctx *cli.Context) error {
	if ctx.NArg() > 0 {
		return fmt.Errorf("%w: %v", errNoArgs, ctx.Args().Slice())
	}
	rcfg, l2cfg, err := execBlockConfigs(ctx)
	if err != nil {
		return err
	}
	parent, err := readParentHeader(ctx.String(execParentFlag.Name))
	if err != nil {
		return err
	}
	attrs, err := readAttributes(ctx.String(execAttributesFlag.Name))
	if err != nil {
		return err
	}
	var expect common.Hash
	if s := ctx.String(execExpectFlag.Name); s != "" {
		if expect, err = parseHash(execExpectFlag.Name, s); err != nil {
			return err
		}
	}
	src, err := execBlockSource(ctx)
	if err != nil {
		return err
	}
	defer src.Close()
	parentRLP, err := rlp.EncodeToBytes(parent)
	if err != nil {
		return fmt.Errorf("encode parent header: %w", err)
	}
	src.extra[preimage.KeccakKeyOf(parentRLP).PreimageKey()] = parentRLP

	oracle := l2.NewOracle(src, noHints{})
	start := time.Now()
	chain, err := l2.NewChain(rcfg, l2cfg, oracle, parent.Hash())
	if err != nil {
		return err
	}
	res, err := chain.BuildBlock(parent.Hash(), attrs, vm.Config{})
	if err != nil {
		return fmt.Errorf("build block %d: %w", parent.Number.Uint64()+1, err)
	}
	b := res.Block
	log.Info("Executed block", "number", b.NumberU64(), "txs", len(b.Transactions()), "gas", b.GasUsed(),
		"preimages", oracle.Reads, "elapsed", time.Since(start))
	fmt.Printf("hash %s\nnumber %d\ngasUsed %d\nstateRoot %s\n", b.Hash(), b.NumberU64(), b.GasUsed(), b.Root())
	if expect != (common.Hash{}) && b.Hash() != expect {
		return &host.ExitError{Code: exitInvalid, Err: fmt.Errorf("built block %s, expected %s", b.Hash(), expect)}
	}
	return nil
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
	if _, ok := superchain.Chains[rcfg.ChainID()]; !ok {
		return nil, nil, fmt.Errorf("--%s is required: chain %d is not in the embedded registry", execGenesisFlag.Name, rcfg.ChainID())
	}
	_, l2cfg, err := rollup.FromRegistry(rcfg.ChainID())
	return rcfg, l2cfg, err
}

// readParentHeader reads a header in the JSON shape of eth_getBlockByHash. If the JSON names the block's
// hash, the header must hash to it: a header that does not is not the parent the user meant.
func readParentHeader(path string) (*types.Header, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read parent header: %w", err)
	}
	var h types.Header
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("parent header %s: %w", path, err)
	}
	var named struct {
		Hash *common.Hash `json:"hash"`
	}
	if err := json.Unmarshal(data, &named); err == nil && named.Hash != nil && *named.Hash != h.Hash() {
		return nil, fmt.Errorf("parent header %s hashes to %s, but its hash field says %s: a field is missing or wrong", path, h.Hash(), *named.Hash)
	}
	return &h, nil
}

func readAttributes(path string) (*engine.PayloadAttributes, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read attributes: %w", err)
	}
	var attrs engine.PayloadAttributes
	if err := json.Unmarshal(data, &attrs); err != nil {
		return nil, fmt.Errorf("payload attributes %s: %w", path, err)
	}
	return &attrs, nil
}

// preimageSource answers keccak256 keys from a witness or a datadir, plus extra values (the parent
// header). Every answer is verified by the oracle client contract: here by preimage.Verify.
type preimageSource struct {
	extra map[[32]byte][]byte
	kv    kvstore.KV
}

func (s *preimageSource) Get(key preimage.Key) ([]byte, error) {
	k := key.PreimageKey()
	v, ok := s.extra[k]
	if !ok {
		var err error
		if v, err = s.kv.Get(common.Hash(k)); err != nil {
			if errors.Is(err, kvstore.ErrNotFound) {
				return nil, fmt.Errorf("missing from the witness and datadir: %w", err)
			}
			return nil, err
		}
	}
	if err := preimage.Verify(k, v); err != nil {
		return nil, err
	}
	return v, nil
}

func (s *preimageSource) Close() error { return s.kv.Close() }

type noHints struct{}

func (noHints) Hint(preimage.Hint) error { return nil }

// execBlockSource serves the witness, the datadir, or both: the witness first, the datadir for what the
// witness lacks (op-geth's witnesses omit the trie nodes that prove an account absent).
func execBlockSource(ctx *cli.Context) (*preimageSource, error) {
	witness, datadir := ctx.String(execWitnessFlag.Name), ctx.String(execDataDirFlag.Name)
	if witness == "" && datadir == "" {
		return nil, fmt.Errorf("one of --%s or --%s is required", execWitnessFlag.Name, execDataDirFlag.Name)
	}
	src := &preimageSource{extra: map[[32]byte][]byte{}, kv: kvstore.NewMem()}
	if witness != "" {
		values, err := readWitness(witness)
		if err != nil {
			return nil, err
		}
		for _, v := range values {
			src.extra[preimage.KeccakKeyOf(v).PreimageKey()] = v
		}
	}
	if datadir != "" {
		if err := checkExistingDir(datadir); err != nil {
			return nil, err
		}
		kv, _, err := kvstore.Open(datadir, "")
		if err != nil {
			return nil, err
		}
		src.kv = kv
	}
	return src, nil
}

func checkExistingDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("datadir: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("datadir %s is not a directory", dir)
	}
	return nil
}

// readWitness reads an execution witness in either shape geth and reth use: state, codes and keys as
// arrays of hex strings or as objects from hash to hex; headers as header objects or RLP hex strings.
func readWitness(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read witness: %w", err)
	}
	var w struct {
		State   json.RawMessage   `json:"state"`
		Codes   json.RawMessage   `json:"codes"`
		Keys    json.RawMessage   `json:"keys"`
		Headers []json.RawMessage `json:"headers"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("witness %s: %w", path, err)
	}
	var out [][]byte
	for name, raw := range map[string]json.RawMessage{"state": w.State, "codes": w.Codes, "keys": w.Keys} {
		values, err := hexList(raw)
		if err != nil {
			return nil, fmt.Errorf("witness %s: %s: %w", path, name, err)
		}
		out = append(out, values...)
	}
	for i, raw := range w.Headers {
		var enc hexutil.Bytes
		if err := json.Unmarshal(raw, &enc); err == nil {
			out = append(out, enc)
			continue
		}
		var h types.Header
		if err := json.Unmarshal(raw, &h); err != nil {
			return nil, fmt.Errorf("witness %s: header %d: %w", path, i, err)
		}
		enc, err := rlp.EncodeToBytes(&h)
		if err != nil {
			return nil, err
		}
		out = append(out, enc)
	}
	return out, nil
}

func hexList(raw json.RawMessage) ([][]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []hexutil.Bytes
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, err
		}
	} else {
		var byHash map[string]hexutil.Bytes
		if err := json.Unmarshal(raw, &byHash); err != nil {
			return nil, err
		}
		for _, v := range byHash {
			list = append(list, v)
		}
	}
	out := make([][]byte, len(list))
	for i, v := range list {
		out[i] = v
	}
	return out, nil
}

package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/rollup"
)

// envPrefix is op-program's, so that deployments configured for op-program's host work unchanged.
const envPrefix = "OP_PROGRAM_"

func env(name string) []string { return []string{envPrefix + name} }

// rpcKinds are op-program's --l1.rpckind values (how receipts are fetched).
var rpcKinds = []string{"alchemy", "quicknode", "infura", "parity", "nethermind", "debug_geth", "erigon", "basic", "any", "standard"}

var (
	l1HeadFlag         = &cli.StringFlag{Name: "l1.head", Usage: "Hash of the L1 head block: derivation reads L1 up to this block", EnvVars: env("L1_HEAD")}
	l2HeadFlag         = &cli.StringFlag{Name: "l2.head", Usage: "Hash of the agreed L2 block (the block of --l2.outputroot)", EnvVars: env("L2_HEAD")}
	l2OutputRootFlag   = &cli.StringFlag{Name: "l2.outputroot", Usage: "Agreed L2 output root to start derivation from", EnvVars: env("L2_OUTPUT_ROOT")}
	l2ClaimFlag        = &cli.StringFlag{Name: "l2.claim", Usage: "Claimed L2 output root to validate", EnvVars: env("L2_CLAIM")}
	l2BlockNumFlag     = &cli.Uint64Flag{Name: "l2.blocknumber", Aliases: []string{"l2.sequencenumber"}, Usage: "Number of the L2 block that the claimed output root is for (interop: the game timestamp)", EnvVars: append(env("L2_BLOCK_NUM"), env("L2_SEQUENCE_NUMBER")...)}
	networkFlag        = &cli.StringFlag{Name: "network", Usage: "Chain from the embedded superchain registry, by name (op-sepolia) or chain ID (see 'faultproof configs'); a comma list must name one chain", EnvVars: env("NETWORK")}
	rollupConfigFlag   = &cli.StringFlag{Name: "rollup.config", Usage: "Rollup config file (op-node rollup.json) of a chain not given with --network; a comma list must name one chain", EnvVars: env("ROLLUP_CONFIG"), TakesFile: true}
	l2GenesisFlag      = &cli.StringFlag{Name: "l2.genesis", Usage: "L2 genesis file (its chain config is used); required with --rollup.config; a comma list must name one chain", EnvVars: env("L2_GENESIS"), TakesFile: true}
	l1ChainConfigFlag  = &cli.StringFlag{Name: "l1.chainconfig", Usage: "L1 genesis or chain config file, for custom chains on an L1 other than mainnet, sepolia, holesky or hoodi", EnvVars: append(env("L1_CHAINCONFIG"), env("L1_CHAIN_CONFIG")...), TakesFile: true}
	l2CustomFlag       = &cli.BoolFlag{Name: "l2.custom", Usage: "Announce the custom-chain indicator as chain ID, so that the program takes the chain configs from the host (local keys 6, 7, 9); such a run cannot be disputed on chain", EnvVars: env("L2_CHAINID")}
	dataDirFlag        = &cli.StringFlag{Name: "datadir", Usage: "Directory of the preimage store; offline it must already hold every preimage the program asks for", EnvVars: env("DATADIR"), TakesFile: true}
	dataFormatFlag     = &cli.StringFlag{Name: "data.format", Usage: "Layout of a new datadir: file, directory or pebble (an existing datadir's kvformat file wins)", Value: string(kvstore.DefaultFormat), EnvVars: env("DATA_FORMAT")}
	l1RPCFlag          = &cli.StringFlag{Name: "l1", Usage: "L1 execution RPC URL", EnvVars: env("L1_RPC")}
	l1BeaconFlag       = &cli.StringFlag{Name: "l1.beacon", Usage: "L1 beacon API URL (blobs)", EnvVars: env("L1_BEACON_API")}
	l1TrustRPCFlag     = &cli.BoolFlag{Name: "l1.trustrpc", Usage: "Trust the L1 execution RPC, as op-program's flag does (its answers need not be checked; this host checks them anyway). Blobs from the beacon API are always checked against their KZG commitments", EnvVars: env("L1_TRUST_RPC")}
	l1RPCKindFlag      = &cli.StringFlag{Name: "l1.rpckind", Usage: "How to fetch L1 receipts: " + strings.Join(rpcKinds, ", "), Value: "standard", EnvVars: env("L1_RPC_KIND")}
	l2RPCFlag          = &cli.StringSliceFlag{Name: "l2", Usage: "L2 RPC URL (eth and debug namespaces)", EnvVars: env("L2_RPC")}
	l2ExperimentalFlag = &cli.StringSliceFlag{Name: "l2.experimental", Usage: "L2 RPC URL with debug_executionWitness / debug_executePayload", EnvVars: env("L2_RPC_EXPERIMENTAL_RPC")}
	execFlag           = &cli.StringFlag{Name: "exec", Usage: "Run the fault proof program at this path as a child, with the channels on its fds 3-6", EnvVars: env("EXEC"), TakesFile: true}
	serverFlag         = &cli.BoolFlag{Name: "server", Usage: "Only serve preimages on fds 3-6, to a VM that started the host", EnvVars: env("SERVER")}
	metricsEnabledFlag = &cli.BoolFlag{Name: "metrics.enabled", Usage: "Serve Prometheus metrics on http://<metrics.addr>:<metrics.port>/metrics", EnvVars: env("METRICS_ENABLED")}
	metricsAddrFlag    = &cli.StringFlag{Name: "metrics.addr", Usage: "Address of the metrics server", Value: "127.0.0.1", EnvVars: env("METRICS_ADDR")}
	metricsPortFlag    = &cli.IntFlag{Name: "metrics.port", Usage: "Port of the metrics server (0 picks a free one)", Value: 7300, EnvVars: env("METRICS_PORT")}
)

// op-program's spelling of the L1 chain config variable is OP_PROGRAM_L1_CHAINCONFIG; ours was
// OP_PROGRAM_L1_CHAIN_CONFIG, which still works.

var hostFlags = append([]cli.Flag{
	l1HeadFlag, l2HeadFlag, l2OutputRootFlag, l2ClaimFlag, l2BlockNumFlag,
	networkFlag, rollupConfigFlag, l2GenesisFlag, l1ChainConfigFlag, l2CustomFlag,
	dataDirFlag, dataFormatFlag,
	l1RPCFlag, l1BeaconFlag, l1TrustRPCFlag, l1RPCKindFlag, l2RPCFlag, l2ExperimentalFlag,
	execFlag, serverFlag,
	l2AgreedPrestateFlag, depsetConfigFlag,
	metricsEnabledFlag, metricsAddrFlag, metricsPortFlag,
}, logFlags...)

// parseHash parses a 32-byte hash written as 64 hex digits, with or without 0x. Unlike a lenient parse,
// garbage is an error rather than a hash nobody meant.
func parseHash(flag, s string) (common.Hash, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return common.Hash{}, fmt.Errorf("--%s is required", flag)
	}
	h := s
	if !strings.HasPrefix(h, "0x") && !strings.HasPrefix(h, "0X") {
		h = "0x" + h
	}
	b, err := hexutil.Decode(h)
	if err != nil || len(b) != common.HashLength {
		return common.Hash{}, fmt.Errorf("--%s %q is not a 32-byte hex hash", flag, s)
	}
	return common.BytesToHash(b), nil
}

// parseNonZeroHash also rejects the zero hash, which is never a real block hash or output root.
func parseNonZeroHash(flag, s string, zeroErr error) (common.Hash, error) {
	h, err := parseHash(flag, s)
	if err != nil {
		return h, err
	}
	if h == (common.Hash{}) {
		return h, fmt.Errorf("%w: --%s is the zero hash", zeroErr, flag)
	}
	return h, nil
}

// hostConfigFromCLI builds and checks the host configuration from flags and OP_PROGRAM_ variables.
func hostConfigFromCLI(ctx *cli.Context) (*host.Config, error) {
	cfg := &host.Config{
		DataDir:        ctx.String(dataDirFlag.Name),
		L1URL:          ctx.String(l1RPCFlag.Name),
		L1BeaconURL:    ctx.String(l1BeaconFlag.Name),
		L1TrustRPC:     ctx.Bool(l1TrustRPCFlag.Name),
		L1RPCKind:      ctx.String(l1RPCKindFlag.Name),
		L2URLs:         ctx.StringSlice(l2RPCFlag.Name),
		L2Experimental: ctx.StringSlice(l2ExperimentalFlag.Name),
		ExecCmd:        ctx.String(execFlag.Name),
		ServerMode:     ctx.Bool(serverFlag.Name),
	}
	format, err := kvstore.ParseFormat(ctx.String(dataFormatFlag.Name))
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", dataFormatFlag.Name, err)
	}
	cfg.DataFormat = format
	if !slices.Contains(rpcKinds, cfg.L1RPCKind) {
		return nil, fmt.Errorf("--%s %q: want one of %s", l1RPCKindFlag.Name, cfg.L1RPCKind, strings.Join(rpcKinds, ", "))
	}
	if ctx.IsSet(l2AgreedPrestateFlag.Name) {
		if err := interopConfigFromCLI(ctx, cfg); err != nil {
			return nil, err
		}
		return cfg, nil
	}
	if ctx.IsSet(depsetConfigFlag.Name) {
		return nil, fmt.Errorf("--%s is for interop claims: it needs --%s", depsetConfigFlag.Name, l2AgreedPrestateFlag.Name)
	}
	if cfg.L1Head, err = parseNonZeroHash(l1HeadFlag.Name, ctx.String(l1HeadFlag.Name), host.ErrInvalidL1Head); err != nil {
		return nil, err
	}
	if cfg.L2Head, err = parseNonZeroHash(l2HeadFlag.Name, ctx.String(l2HeadFlag.Name), host.ErrInvalidL2Head); err != nil {
		return nil, err
	}
	if cfg.L2OutputRoot, err = parseNonZeroHash(l2OutputRootFlag.Name, ctx.String(l2OutputRootFlag.Name), host.ErrInvalidL2OutputRoot); err != nil {
		return nil, err
	}
	// The zero hash is a claim someone may make; it is only parsed strictly.
	if cfg.L2Claim, err = parseHash(l2ClaimFlag.Name, ctx.String(l2ClaimFlag.Name)); err != nil {
		return nil, err
	}
	if !ctx.IsSet(l2BlockNumFlag.Name) {
		return nil, fmt.Errorf("--%s is required", l2BlockNumFlag.Name)
	}
	cfg.L2ClaimBlockNumber = ctx.Uint64(l2BlockNumFlag.Name)

	if err := loadChainConfigs(ctx, cfg); err != nil {
		return nil, err
	}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// loadChainConfigs fills the rollup and chain configs from --network, or from files for custom chains.
func loadChainConfigs(ctx *cli.Context, cfg *host.Config) error {
	network, rollupPath := ctx.String(networkFlag.Name), ctx.String(rollupConfigFlag.Name)
	switch {
	case network != "" && rollupPath != "":
		return fmt.Errorf("--%s and --%s are mutually exclusive", networkFlag.Name, rollupConfigFlag.Name)
	case network == "" && rollupPath == "":
		return fmt.Errorf("one of --%s or --%s is required", networkFlag.Name, rollupConfigFlag.Name)
	case network != "":
		for _, f := range []string{l2GenesisFlag.Name, l2CustomFlag.Name} {
			if ctx.IsSet(f) {
				return fmt.Errorf("--%s cannot be used with --%s: the registry has the chain's configs", f, networkFlag.Name)
			}
		}
		id, err := oneChain(networkFlag.Name, network, rollup.ResolveNetwork)
		if err != nil {
			return err
		}
		if cfg.Rollup, cfg.L2ChainConfig, err = rollup.FromRegistry(id); err != nil {
			return err
		}
		return nil
	}
	// A list's files must be the same config (op-challenger passes one per chain).
	var err error
	if _, err = oneChain(rollupConfigFlag.Name, rollupPath, func(path string) (uint64, error) {
		c, err := rollup.LoadConfig(path)
		if err != nil {
			return 0, err
		}
		if cfg.Rollup == nil {
			cfg.Rollup = c
		} else if !reflect.DeepEqual(c, cfg.Rollup) {
			return 0, fmt.Errorf("--%s: %s is another config of chain %d: %w", rollupConfigFlag.Name, path, c.ChainID(), errInterop)
		}
		return c.ChainID(), nil
	}); err != nil {
		return err
	}
	genesisPath := ctx.String(l2GenesisFlag.Name)
	if genesisPath == "" {
		return fmt.Errorf("--%s is required with --%s", l2GenesisFlag.Name, rollupConfigFlag.Name)
	}
	if _, err = oneChain(l2GenesisFlag.Name, genesisPath, func(path string) (uint64, error) {
		c, err := rollup.LoadChainConfig(path)
		if err != nil {
			return 0, err
		}
		if c.ChainID == nil {
			return 0, fmt.Errorf("--%s: %s has no chain ID", l2GenesisFlag.Name, path)
		}
		if cfg.L2ChainConfig == nil {
			cfg.L2ChainConfig = c
		} else if !reflect.DeepEqual(c, cfg.L2ChainConfig) {
			return 0, fmt.Errorf("--%s: %s is another chain config of chain %d: %w", l2GenesisFlag.Name, path, c.ChainID, errInterop)
		}
		return c.ChainID.Uint64(), nil
	}); err != nil {
		return err
	}
	// The host announces the chain's real chain ID unless told otherwise (op-program's rule): a program
	// that knows the chain (registry, or built in with 'faultproof prestate --chain-config') uses its own
	// configs; one that does not reads them from local keys 6, 7 and 9, served below when the L1 chain
	// config is at hand.
	cfg.IsCustomChainConfig = ctx.Bool(l2CustomFlag.Name)
	if id := cfg.Rollup.ChainID(); !cfg.IsCustomChainConfig {
		if n, _, _, err := rollup.RegistryChain(id); err == nil {
			if n.Unsupported != "" {
				return fmt.Errorf("%w %s (chain %d): %s; --%s runs it with these files, off chain only", rollup.ErrUnsupportedChain, n.Name, id, n.Unsupported, l2CustomFlag.Name)
			}
			log.Info("Chain is in the embedded registry: the program uses the registry's configs, not the files", "chain", id, "network", n.Name)
		}
	}
	switch path := ctx.String(l1ChainConfigFlag.Name); {
	case path != "":
		cfg.L1ChainConfig, err = rollup.LoadChainConfig(path)
	case cfg.IsCustomChainConfig:
		cfg.L1ChainConfig, err = rollup.L1ChainConfig(cfg.Rollup.L1ChainID.Uint64())
	default:
		// Without it the configs are not served: fine for a program that knows the chain.
		cfg.L1ChainConfig, _ = rollup.L1ChainConfig(cfg.Rollup.L1ChainID.Uint64())
	}
	return err
}

// warnUnknownEnv reports OP_PROGRAM_ variables that no flag reads: usually a typo that would otherwise be
// silently ignored.
func warnUnknownEnv(flags []cli.Flag) {
	known := map[string]bool{}
	for _, f := range flags {
		if ef, ok := f.(interface{ GetEnvVars() []string }); ok {
			for _, e := range ef.GetEnvVars() {
				known[e] = true
			}
		}
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, envPrefix) && !known[name] {
			log.Warn("Unknown environment variable", "name", name)
		}
	}
}

var errNoArgs = errors.New("unexpected arguments")

// errInterop is the error for a list naming several chains without --l2.agreed-prestate: several chains
// make a super root claim.
var errInterop = errors.New("several chains make an interop (super root) claim, which needs --l2.agreed-prestate and --depset.config")

// oneChain resolves each entry of a comma list (op-program's --network, --rollup.config and
// --l2.genesis take one entry per chain of an interop dependency set) to its chain ID, and returns that
// chain's ID: every entry must name the same chain. A value that names an existing file is one entry,
// commas and all.
func oneChain(flag, list string, chainOf func(entry string) (uint64, error)) (uint64, error) {
	if _, err := os.Stat(list); err == nil {
		return chainOf(list)
	}
	var id uint64
	n := 0
	for entry := range strings.SplitSeq(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		got, err := chainOf(entry)
		if err != nil {
			return 0, err
		}
		if n > 0 && got != id {
			return 0, fmt.Errorf("--%s %q names chains %d and %d: %w", flag, list, id, got, errInterop)
		}
		id = got
		n++
	}
	if n == 0 {
		return 0, fmt.Errorf("--%s %q names no chain", flag, list)
	}
	return id, nil
}

// Usage errors as the flag package and urfave/cli word them (they name a flag with one dash).
var (
	badFlagValue    = regexp.MustCompile(`^invalid (?:boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-([^:]+): (.*)$`)
	badEnvValue     = regexp.MustCompile(`^could not parse ("(?:[^"\\]|\\.)*") (?:as \S+ value )?from environment variable ("[^"]*") (?:as value )?for flag ([^:]+): (.*)$`)
	flagMissesValue = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
	unknownFlag     = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
)

func init() {
	for _, c := range []*cli.Command{runCommand, hostCommand} {
		c.OnUsageError = oneLineUsageError(c.Flags)
	}
}

// oneLineUsageError returns the OnUsageError of a command with the given flags: a flag that does not
// parse is one error line that names the flag and what it takes (exit code 2), instead of urfave/cli's
// "Incorrect Usage" and the whole help text.
func oneLineUsageError(flags []cli.Flag) cli.OnUsageErrorFunc {
	return func(_ *cli.Context, err error, _ bool) error {
		msg := err.Error()
		if m := badFlagValue.FindStringSubmatch(msg); m != nil {
			return fmt.Errorf("--%s: invalid value %s: %s%s", m[2], m[1], m[3], flagWants(flags, m[2]))
		}
		if m := badEnvValue.FindStringSubmatch(msg); m != nil {
			return fmt.Errorf("--%s: invalid value %s in environment variable %s%s", m[3], m[1], m[2], flagWants(flags, m[3]))
		}
		if m := flagMissesValue.FindStringSubmatch(msg); m != nil {
			return fmt.Errorf("--%s needs a value", m[1])
		}
		if m := unknownFlag.FindStringSubmatch(msg); m != nil {
			return fmt.Errorf("flag provided but not defined: --%s", m[1])
		}
		return err
	}
}

// flagWants says what values the named flag takes, for error messages.
func flagWants(flags []cli.Flag, name string) string {
	for _, f := range flags {
		if !slices.Contains(f.Names(), name) {
			continue
		}
		switch f.(type) {
		case *cli.Uint64Flag, *cli.UintFlag:
			return fmt.Sprintf(" (want a whole number from 0 to %d)", uint64(math.MaxUint64))
		case *cli.IntFlag, *cli.Int64Flag:
			return " (want a whole number)"
		case *cli.BoolFlag:
			return " (want true or false)"
		}
	}
	return ""
}

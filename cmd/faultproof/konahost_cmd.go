package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/inprocess"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/rollup"
)

// kona-host's flags. Its environment variables are the flags' names in capitals with underscores and no
// prefix (clap's `env`): L1_HEAD, AGREED_L2_HEAD_HASH, ...; the logging ones are KONA_*.
var (
	konaL1HeadFlag      = &cli.StringFlag{Name: "l1-head", Usage: "Hash of the L1 head block: derivation stops after it", EnvVars: []string{"L1_HEAD"}}
	konaL2HeadFlag      = &cli.StringFlag{Name: "agreed-l2-head-hash", Aliases: []string{"l2-head"}, Usage: "Hash of the agreed L2 block (the block of --agreed-l2-output-root)", EnvVars: []string{"AGREED_L2_HEAD_HASH"}}
	konaOutputRootFlag  = &cli.StringFlag{Name: "agreed-l2-output-root", Aliases: []string{"l2-output-root"}, Usage: "Agreed L2 output root to start derivation from", EnvVars: []string{"AGREED_L2_OUTPUT_ROOT"}}
	konaClaimFlag       = &cli.StringFlag{Name: "claimed-l2-output-root", Aliases: []string{"l2-claim"}, Usage: "Claimed L2 output root to validate", EnvVars: []string{"CLAIMED_L2_OUTPUT_ROOT"}}
	konaBlockNumFlag    = &cli.Uint64Flag{Name: "claimed-l2-block-number", Aliases: []string{"l2-block-number"}, Usage: "Number of the L2 block the claimed output root is for", EnvVars: []string{"CLAIMED_L2_BLOCK_NUMBER"}}
	konaL2NodeFlag      = &cli.StringFlag{Name: "l2-node-address", Aliases: []string{"l2"}, Usage: "L2 RPC URL (eth and debug namespaces); needs --l1-node-address and --l1-beacon-address", EnvVars: []string{"L2_NODE_ADDRESS"}}
	konaL1NodeFlag      = &cli.StringFlag{Name: "l1-node-address", Aliases: []string{"l1"}, Usage: "L1 RPC URL; needs --l2-node-address and --l1-beacon-address", EnvVars: []string{"L1_NODE_ADDRESS"}}
	konaBeaconFlag      = &cli.StringFlag{Name: "l1-beacon-address", Aliases: []string{"beacon"}, Usage: "L1 beacon API URL; needs --l1-node-address and --l2-node-address", EnvVars: []string{"L1_BEACON_ADDRESS"}}
	konaDataDirFlag     = &cli.StringFlag{Name: "data-dir", Aliases: []string{"db"}, Usage: "Directory of the preimage store; required unless all three node addresses are given", EnvVars: []string{"DATA_DIR"}, TakesFile: true}
	konaDataFormatFlag  = &cli.StringFlag{Name: "data-format", Usage: "Layout of a new data directory: file, directory or pebble (an existing one's kvformat file wins)", Value: string(kvstore.DefaultFormat), EnvVars: []string{"DATA_FORMAT"}}
	konaNativeFlag      = &cli.BoolFlag{Name: "native", Usage: "Run the program in this process (faultproof's program, not kona's client)"}
	konaServerFlag      = &cli.BoolFlag{Name: "server", Usage: "Only serve preimages on fds 3-6, to a VM that started the host"}
	konaChainIDFlag     = &cli.Uint64Flag{Name: "l2-chain-id", Usage: "Chain ID of a chain of the embedded registry (instead of --rollup-config-path)", EnvVars: []string{"L2_CHAIN_ID"}}
	konaRollupFlag      = &cli.StringFlag{Name: "rollup-config-path", Aliases: []string{"rollup-cfg"}, Usage: "Rollup config file (instead of --l2-chain-id); the L2 chain config follows from it as in kona", EnvVars: []string{"ROLLUP_CONFIG_PATH"}, TakesFile: true}
	konaL1ConfigFlag    = &cli.StringFlag{Name: "l1-config-path", Aliases: []string{"l1-cfg"}, Usage: "L1 genesis or chain config file, for an L1 other than mainnet, sepolia, holesky or hoodi", EnvVars: []string{"L1_CONFIG_PATH"}, TakesFile: true}
	konaQuietFlag       = &cli.BoolFlag{Name: "logs.stdout.quiet", Aliases: []string{"q"}, Usage: "Print no logs", EnvVars: []string{"KONA_STDOUT_LOG_QUIET"}}
	konaLogFormatFlag   = &cli.StringFlag{Name: "logs.stdout.format", Usage: "Log format: full, json, pretty, compact or logfmt", Value: "full", EnvVars: []string{"KONA_LOG_STDOUT_FORMAT"}}
	konaLogFileDirFlag  = &cli.StringFlag{Name: "logs.file.directory", Usage: "Not supported: an error", EnvVars: []string{"KONA_LOG_FILE_DIRECTORY"}}
	konaLogFileFmtFlag  = &cli.StringFlag{Name: "logs.file.format", Usage: "Not supported: an error", EnvVars: []string{"KONA_LOG_FILE_FORMAT"}}
	konaLogFileRotFlag  = &cli.StringFlag{Name: "logs.file.rotation", Usage: "Not supported: an error", EnvVars: []string{"KONA_LOG_FILE_ROTATION"}}
	konaLogFlags        = []cli.Flag{konaQuietFlag, konaLogFormatFlag, konaLogFileDirFlag, konaLogFileFmtFlag, konaLogFileRotFlag}
	konaVerbosityEnv    = "KONA_LOG_LEVEL"
	konaDefaultLogLevel = 3
)

var konaSingleFlags = append([]cli.Flag{
	konaL1HeadFlag, konaL2HeadFlag, konaOutputRootFlag, konaClaimFlag, konaBlockNumFlag,
	konaL2NodeFlag, konaL1NodeFlag, konaBeaconFlag, konaDataDirFlag, konaDataFormatFlag,
	konaNativeFlag, konaServerFlag, konaChainIDFlag, konaRollupFlag, konaL1ConfigFlag,
}, konaLogFlags...)

// konaVerbosity is kona's -v count (1 error ... 5 trace, 3 by default, 0 nothing), set by konaArgs.
var konaVerbosity = -1

// newKonaHostApp is kona-host's CLI, answered by our host serving our program: its single and super
// (interop) commands with kona's flags.
func newKonaHostApp() *cli.App {
	app := dropInApp(konaHostName, "OP Stack fault proof host (faultproof's, answering as kona-host)",
		`kona-host's single and super commands, with their flags and environment variables, serving faultproof's
program (the program of the prestate; kona's client is not part of faultproof):
  single --server     serve a VM that started the host, on file descriptors 3-6
  single --native     run the program in this process
  super ...           the same for a super-root (interop) claim, served to faultproof's interop program

Exit codes: 0 the claim is valid, 1 the claim is invalid, 2 anything else.`)
	single := &cli.Command{
		Name:         "single",
		Usage:        "Run the host for a single chain",
		Flags:        konaSingleFlags,
		Before:       setupKonaLogging,
		Action:       runKonaSingle,
		OnUsageError: oneLineUsageError(konaSingleFlags),
	}
	super := &cli.Command{
		Name:         "super",
		Usage:        "Run the host for a super-root (interop) claim over several chains",
		Flags:        konaSuperFlags,
		Before:       setupKonaLogging,
		Action:       runKonaSuper,
		OnUsageError: oneLineUsageError(konaSuperFlags),
	}
	app.Commands = []*cli.Command{single, super}
	app.Action = func(ctx *cli.Context) error {
		if ctx.NArg() == 0 {
			return errors.New("a command is required: single or super")
		}
		return fmt.Errorf("unknown command %q: want single or super", ctx.Args().First())
	}
	return app
}

// konaVerbosityArg is clap's counted short flag: -v, -vv, ...
var konaVerbosityArg = regexp.MustCompile(`^-v+$`)

// konaArgs rewrites kona-host's arguments for urfave/cli: clap's counted -v flags go into konaVerbosity
// (urfave/cli does not count flags), and the other logging flags, global in clap, move from before the
// command to after it, where the command defines them.
func konaArgs(args []string) []string {
	var global, rest []string
	command := -1 // index in rest of the command name
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i:]...)
			i = len(args)
		case konaVerbosityArg.MatchString(a):
			konaVerbosity = max(konaVerbosity, 0) + len(a) - 1
		case command < 0 && konaLogFlag(a):
			global = append(global, a)
			if konaLogFlagTakesValue(a) && i+1 < len(args) {
				global = append(global, args[i+1])
				i++
			}
		default:
			if command < 0 && !strings.HasPrefix(a, "-") {
				command = len(rest)
			}
			rest = append(rest, a)
		}
	}
	out := append([]string{args[0]}, rest...)
	if command >= 0 && len(global) > 0 {
		at := command + 2 // after args[0] and the command
		out = append(out[:at], append(global, out[at:]...)...)
	} else {
		out = append(out, global...) // no command: the error names the flag
	}
	return out
}

// konaLogFlag reports whether a is one of kona's global logging flags (without a value after "=").
func konaLogFlag(a string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
	for _, f := range konaLogFlags {
		for _, n := range f.Names() {
			if name == n && strings.HasPrefix(a, "-") {
				return true
			}
		}
	}
	return false
}

// konaLogFlagTakesValue reports whether the logging flag a is followed by its value.
func konaLogFlagTakesValue(a string) bool {
	name := strings.TrimLeft(a, "-")
	if strings.Contains(name, "=") || name == "q" || name == konaQuietFlag.Name {
		return false
	}
	return true
}

// setupKonaLogging installs the root logger from kona's logging flags.
func setupKonaLogging(ctx *cli.Context) error {
	for _, f := range []*cli.StringFlag{konaLogFileDirFlag, konaLogFileFmtFlag, konaLogFileRotFlag} {
		if ctx.IsSet(f.Name) {
			return fmt.Errorf("--%s: logging to files is not supported (logs go to stderr)", f.Name)
		}
	}
	verbosity := konaVerbosity
	if verbosity < 0 {
		verbosity = konaDefaultLogLevel
		if v, ok := os.LookupEnv(konaVerbosityEnv); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return fmt.Errorf("%s=%q: want a verbosity from 0 to 5", konaVerbosityEnv, v)
			}
			verbosity = n
		}
	}
	format := map[string]string{"full": "text", "pretty": "text", "compact": "text", "json": "json", "logfmt": "logfmt"}[ctx.String(konaLogFormatFlag.Name)]
	if format == "" {
		return fmt.Errorf("--%s %q: want full, json, pretty, compact or logfmt", konaLogFormatFlag.Name, ctx.String(konaLogFormatFlag.Name))
	}
	if ctx.Bool(konaQuietFlag.Name) || verbosity == 0 {
		log.SetDefault(log.NewLogger(log.DiscardHandler()))
		return nil
	}
	level := []string{"error", "warn", "info", "debug", "trace"}[min(verbosity, 5)-1]
	h, err := newLogHandler(os.Stderr, level, format, false)
	if err != nil {
		return err
	}
	log.SetDefault(log.NewLogger(h))
	return nil
}

// runKonaSingle is kona-host single: our host, configured from kona's flags, serving a VM (--server) or
// running our program in process (--native).
func runKonaSingle(ctx *cli.Context) error {
	if ctx.NArg() > 0 {
		return fmt.Errorf("%w: %v", errNoArgs, ctx.Args().Slice())
	}
	cfg, err := konaHostConfig(ctx)
	if err != nil {
		return err
	}
	h := host.New(log.Root(), cfg, inprocess.Program)
	h.NewPrefetcher = host.NewOnlinePrefetcher
	return runHostWithMetrics(ctx, h)
}

// konaHostConfig checks kona's rules for the single command's flags and builds our host's configuration.
func konaHostConfig(ctx *cli.Context) (*host.Config, error) {
	native, server := ctx.Bool(konaNativeFlag.Name), ctx.Bool(konaServerFlag.Name)
	if native == server {
		return nil, fmt.Errorf("exactly one of --%s and --%s is required", konaNativeFlag.Name, konaServerFlag.Name)
	}
	online := 0
	for _, f := range []*cli.StringFlag{konaL1NodeFlag, konaL2NodeFlag, konaBeaconFlag} {
		if ctx.String(f.Name) != "" {
			online++
		}
	}
	if online != 0 && online != 3 {
		return nil, fmt.Errorf("--%s, --%s and --%s must be given together", konaL1NodeFlag.Name, konaL2NodeFlag.Name, konaBeaconFlag.Name)
	}
	if online == 0 && ctx.String(konaDataDirFlag.Name) == "" {
		return nil, fmt.Errorf("--%s is required unless --%s, --%s and --%s are given", konaDataDirFlag.Name, konaL1NodeFlag.Name, konaL2NodeFlag.Name, konaBeaconFlag.Name)
	}
	cfg := &host.Config{
		DataDir:     ctx.String(konaDataDirFlag.Name),
		L1URL:       ctx.String(konaL1NodeFlag.Name),
		L1BeaconURL: ctx.String(konaBeaconFlag.Name),
		L1RPCKind:   "standard",
		ServerMode:  server,
	}
	if l2 := ctx.String(konaL2NodeFlag.Name); l2 != "" {
		cfg.L2URLs = []string{l2}
	}
	var err error
	if cfg.L1Head, err = parseNonZeroHash(konaL1HeadFlag.Name, ctx.String(konaL1HeadFlag.Name), host.ErrInvalidL1Head); err != nil {
		return nil, err
	}
	if cfg.L2Head, err = parseNonZeroHash(konaL2HeadFlag.Name, ctx.String(konaL2HeadFlag.Name), host.ErrInvalidL2Head); err != nil {
		return nil, err
	}
	if cfg.L2OutputRoot, err = parseNonZeroHash(konaOutputRootFlag.Name, ctx.String(konaOutputRootFlag.Name), host.ErrInvalidL2OutputRoot); err != nil {
		return nil, err
	}
	if cfg.L2Claim, err = parseHash(konaClaimFlag.Name, ctx.String(konaClaimFlag.Name)); err != nil {
		return nil, err
	}
	if !ctx.IsSet(konaBlockNumFlag.Name) {
		return nil, fmt.Errorf("--%s is required", konaBlockNumFlag.Name)
	}
	cfg.L2ClaimBlockNumber = ctx.Uint64(konaBlockNumFlag.Name)
	if cfg.DataFormat, err = kvstore.ParseFormat(ctx.String(konaDataFormatFlag.Name)); err != nil {
		return nil, fmt.Errorf("--%s: %w", konaDataFormatFlag.Name, err)
	}
	if err := konaChainConfigs(ctx, cfg); err != nil {
		return nil, err
	}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// konaChainConfigs fills the chain configs from --l2-chain-id (a registry chain) or --rollup-config-path.
// kona-host takes no L2 genesis: for a chain outside the registry, the L2 chain config follows from the
// rollup config as kona derives it; the host serves it with the rollup and L1 configs (local keys 6, 7
// and 9) to a program that does not know the chain.
func konaChainConfigs(ctx *cli.Context, cfg *host.Config) error {
	chainSet, rollupPath := ctx.IsSet(konaChainIDFlag.Name), ctx.String(konaRollupFlag.Name)
	switch {
	case chainSet && rollupPath != "":
		return fmt.Errorf("--%s and --%s are mutually exclusive", konaChainIDFlag.Name, konaRollupFlag.Name)
	case chainSet:
		var err error
		cfg.Rollup, cfg.L2ChainConfig, err = rollup.FromRegistry(ctx.Uint64(konaChainIDFlag.Name))
		if err != nil {
			return fmt.Errorf("--%s: %w (give --%s for another chain)", konaChainIDFlag.Name, err, konaRollupFlag.Name)
		}
	case rollupPath != "":
		var err error
		if cfg.Rollup, err = rollup.LoadConfig(rollupPath); err != nil {
			return err
		}
		id := cfg.Rollup.ChainID()
		if n, _, l2, err := rollup.RegistryChain(id); err == nil {
			if n.Unsupported != "" {
				return fmt.Errorf("%w %s (chain %d): %s", rollup.ErrUnsupportedChain, n.Name, id, n.Unsupported)
			}
			log.Info("Chain is in the embedded registry: the program uses the registry's configs, not the file", "chain", id, "network", n.Name)
			cfg.L2ChainConfig = l2
		} else {
			cfg.L2ChainConfig = rollup.ChainConfigFromRollup(cfg.Rollup)
		}
	default:
		return fmt.Errorf("one of --%s or --%s is required", konaChainIDFlag.Name, konaRollupFlag.Name)
	}
	var err error
	if path := ctx.String(konaL1ConfigFlag.Name); path != "" {
		cfg.L1ChainConfig, err = rollup.LoadChainConfig(path)
		return err
	}
	// Without it the configs are not served: fine for a program that knows the chain.
	cfg.L1ChainConfig, _ = rollup.L1ChainConfig(cfg.Rollup.L1ChainID.Uint64())
	return nil
}

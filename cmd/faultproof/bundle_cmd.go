package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/bundle"
	"github.com/faultproof/faultproof/host/kvstore"
)

var bundleFlag = &cli.StringFlag{Name: "bundle", Usage: "Replay offline from a bundle made by 'faultproof bundle export' (preimages and run configuration in one file); replaces the claim, chain and datadir flags", EnvVars: env("BUNDLE"), TakesFile: true}

var bundleCommand = &cli.Command{
	Name:  "bundle",
	Usage: "Pack a dispute's preimages and configuration into one file, replayable with 'faultproof run --bundle'",
	Subcommands: []*cli.Command{{
		Name:  "export",
		Usage: "Write every preimage of a datadir, and the run's configuration, to one bundle file",
		Description: `Writes a gzip'd bundle: magic "FPBUNDLE", format version, a JSON manifest with the run's configuration
(rollup and chain configs inlined, L1 head, agreed L2 head and output root, claim, block number), then one
length-prefixed record per preimage and a trailer with the record count. --run-args takes the flags of the
run to replay (as in the demo's replay.txt, with or without the leading "faultproof run"); without it the
bundle holds only preimages.`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "datadir", Usage: "Preimage datadir to export (default: the --datadir of --run-args)", TakesFile: true},
			&cli.StringFlag{Name: "out", Usage: "Bundle file to write", Required: true, TakesFile: true},
			&cli.StringFlag{Name: "run-args", Usage: "Host flags of the run to replay, e.g. a line of the demo's replay.txt"},
		}, logFlags...),
		Before: setupLogging,
		Action: exportBundle,
	}},
}

// parseRunArgs builds the host configuration from the flags of a run, as 'faultproof run' would.
func parseRunArgs(line string) (*host.Config, error) {
	args := strings.Fields(line)
	if len(args) > 0 && (args[0] == "faultproof" || strings.HasSuffix(args[0], "/faultproof")) {
		args = args[1:]
	}
	if len(args) > 0 && (args[0] == "run" || args[0] == "host") {
		args = args[1:]
	}
	var cfg *host.Config
	app := &cli.App{
		Name:           "run-args",
		Flags:          hostFlags,
		HideHelp:       true,
		ExitErrHandler: func(*cli.Context, error) {},
		Action: func(ctx *cli.Context) error {
			if ctx.NArg() > 0 {
				return fmt.Errorf("%w: %v", errNoArgs, ctx.Args().Slice())
			}
			var err error
			cfg, err = hostConfigFromCLI(ctx)
			return err
		},
	}
	if err := app.Run(append([]string{"run-args"}, args...)); err != nil {
		return nil, fmt.Errorf("--run-args: %w", err)
	}
	return cfg, nil
}

// resolveDataDir accepts the demo's directory too, whose preimages are in its "preimages" subdirectory.
func resolveDataDir(dir string) string {
	if _, err := bundle.DataDirFormat(dir); err != nil {
		sub := filepath.Join(dir, "preimages")
		if _, err := bundle.DataDirFormat(sub); err == nil {
			return sub
		}
	}
	return dir
}

func exportBundle(ctx *cli.Context) error {
	if ctx.NArg() > 0 {
		return fmt.Errorf("%w: %v", errNoArgs, ctx.Args().Slice())
	}
	m := bundle.Manifest{}
	datadir := ctx.String("datadir")
	if line := ctx.String("run-args"); line != "" {
		cfg, err := parseRunArgs(line)
		if err != nil {
			return err
		}
		if cfg.FetchingEnabled() {
			log.Warn("--run-args has RPC flags: the bundle replays offline with only the datadir's preimages")
		}
		if datadir == "" {
			datadir = cfg.DataDir
		}
		if m.Run, err = bundle.RunFromConfig(cfg); err != nil {
			return err
		}
	}
	if datadir == "" {
		return errors.New("--datadir is required (or a --datadir in --run-args)")
	}
	datadir = resolveDataDir(datadir)
	m.Source = datadir
	if _, err := bundle.DataDirFormat(datadir); err != nil {
		return fmt.Errorf("--datadir %s is not a preimage datadir: %w", datadir, err)
	}

	out := ctx.String("out")
	f, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op once renamed
	err = f.Chmod(0o644) // CreateTemp makes it 0600; match an ordinary file
	var w *bundle.Writer
	if err == nil {
		w, err = bundle.NewWriter(f, m)
	}
	if err == nil {
		err = bundle.Iterate(datadir, func(key common.Hash, value []byte) error { return w.Add(key, value) })
	}
	if err == nil {
		err = w.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		return fmt.Errorf("export bundle: %w", err)
	}
	log.Info("Wrote bundle", "out", out, "preimages", w.Count(), "datadir", datadir, "run", m.Run != nil)
	fmt.Printf("Wrote %d preimages to %s\n", w.Count(), out)
	return nil
}

// bundleExclusive are the flags whose values come from the bundle.
var bundleExclusive = []cli.Flag{
	l1HeadFlag, l2HeadFlag, l2OutputRootFlag, l2ClaimFlag, l2BlockNumFlag, networkFlag, rollupConfigFlag,
	l2GenesisFlag, l1ChainConfigFlag, l2CustomFlag, dataDirFlag, l1RPCFlag, l1BeaconFlag, l2RPCFlag, l2ExperimentalFlag,
}

// runBundle replays a bundle: its preimages in a memory store, its configuration for the host.
func runBundle(ctx *cli.Context) error {
	for _, fl := range bundleExclusive {
		if name := fl.Names()[0]; ctx.IsSet(name) {
			return fmt.Errorf("--%s cannot be used with --%s: the bundle carries the run's configuration and preimages", name, bundleFlag.Name)
		}
	}
	path := ctx.String(bundleFlag.Name)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("--%s: %w", bundleFlag.Name, err)
	}
	defer f.Close()
	store := kvstore.NewMem()
	defer store.Close()
	m, n, err := bundle.Read(f, store)
	if err != nil {
		return fmt.Errorf("bundle %s: %w", path, err)
	}
	if m.Run == nil {
		return fmt.Errorf("bundle %s has no run configuration (export it with --run-args)", path)
	}
	cfg, err := m.Run.HostConfig()
	if err != nil {
		return fmt.Errorf("bundle %s: %w", path, err)
	}
	cfg.ExecCmd = ctx.String(execFlag.Name)
	cfg.ServerMode = ctx.Bool(serverFlag.Name)
	log.Info("Loaded bundle", "path", path, "preimages", n, "source", m.Source)
	h := host.New(log.Root(), cfg, inProcessProgram)
	h.Store = store
	return runHostWithMetrics(ctx, h)
}

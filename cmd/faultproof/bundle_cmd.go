package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/inprocess"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/bundle"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
)

var (
	bundleFlag        = &cli.StringFlag{Name: "bundle", Usage: "Replay offline from a bundle made by 'faultproof bundle export' (preimages and run configuration in one file); replaces the claim and chain flags. Its preimages are checked and unpacked into --datadir (a new directory, kept) or a temporary one", EnvVars: env("BUNDLE"), TakesFile: true}
	bundleMaxSizeFlag = &cli.StringFlag{Name: "bundle.maxsize", Usage: "Largest decompressed size of a --bundle (e.g. 500MiB, 8GiB): a bundle that decompresses to more is refused", Value: formatSize(bundle.DefaultMaxSize), EnvVars: env("BUNDLE_MAXSIZE")}
)

// parseSize parses a byte count with an optional binary unit: 1000, 64KiB, 500MiB, 4GiB, 1TiB.
func parseSize(flag, s string) (uint64, error) {
	num, shift := strings.TrimSpace(s), 0
	for _, u := range []struct {
		suffix string
		shift  int
	}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}, {"B", 0}} {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, shift = strings.TrimSpace(n), u.shift
			break
		}
	}
	v, err := strconv.ParseUint(num, 10, 64)
	if err != nil || v == 0 || v > math.MaxUint64>>shift {
		return 0, fmt.Errorf("--%s %q: want a size such as 500MiB or 8GiB", flag, s)
	}
	return v << shift, nil
}

// formatSize writes a size as parseSize reads it, in the largest unit that divides it.
func formatSize(v uint64) string {
	for _, u := range []struct {
		suffix string
		shift  int
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if v != 0 && v&(1<<u.shift-1) == 0 {
			return strconv.FormatUint(v>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatUint(v, 10)
}

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
	skipped := 0
	if err == nil {
		err = bundle.Iterate(datadir, func(key common.Hash, value []byte) error {
			// Local keys come from the run's flags on replay; a bundle never carries them.
			if preimage.KeyType(key[0]) == preimage.LocalKeyType {
				skipped++
				return nil
			}
			return w.Add(key, value)
		})
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
	if skipped > 0 {
		log.Warn("Left out local keys found in the datadir", "count", skipped)
	}
	log.Info("Wrote bundle", "out", out, "preimages", w.Count(), "datadir", datadir, "run", m.Run != nil)
	fmt.Printf("Wrote %d preimages to %s\n", w.Count(), out)
	return nil
}

// bundleExclusive are the flags whose values come from the bundle.
var bundleExclusive = []cli.Flag{
	l1HeadFlag, l2HeadFlag, l2OutputRootFlag, l2ClaimFlag, l2BlockNumFlag, networkFlag, rollupConfigFlag,
	l2GenesisFlag, l1ChainConfigFlag, l2CustomFlag, l1RPCFlag, l1BeaconFlag, l2RPCFlag, l2ExperimentalFlag,
	l2AgreedPrestateFlag, depsetConfigFlag,
}

func bundleError(path string, err error) error {
	if errors.Is(err, bundle.ErrTooLarge) {
		return fmt.Errorf("bundle %s: %w (raise --%s to accept it)", path, err, bundleMaxSizeFlag.Name)
	}
	return fmt.Errorf("bundle %s: %w", path, err)
}

// runBundle replays a bundle: its preimages, checked, are unpacked into a datadir (--datadir, which must
// be new and is kept, or a temporary one), and its configuration drives the host.
func runBundle(ctx *cli.Context) error {
	for _, fl := range bundleExclusive {
		if name := fl.Names()[0]; ctx.IsSet(name) {
			return fmt.Errorf("--%s cannot be used with --%s: the bundle carries the run's configuration and preimages", name, bundleFlag.Name)
		}
	}
	maxSize, err := parseSize(bundleMaxSizeFlag.Name, ctx.String(bundleMaxSizeFlag.Name))
	if err != nil {
		return err
	}
	format, err := kvstore.ParseFormat(ctx.String(dataFormatFlag.Name))
	if err != nil {
		return fmt.Errorf("--%s: %w", dataFormatFlag.Name, err)
	}
	path := ctx.String(bundleFlag.Name)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("--%s: %w", bundleFlag.Name, err)
	}
	defer f.Close()
	r, err := bundle.NewReader(f, maxSize)
	if err != nil {
		return bundleError(path, err)
	}
	defer r.Close()
	// The configuration first: a bundle that cannot be replayed is refused before its records are read.
	m := r.Manifest()
	if m.Run == nil {
		return fmt.Errorf("bundle %s has no run configuration (export it with --run-args)", path)
	}
	cfg, err := m.Run.HostConfig()
	if err != nil {
		return fmt.Errorf("bundle %s: %w", path, err)
	}
	datadir := ctx.String(dataDirFlag.Name)
	if datadir == "" {
		tmp, err := os.MkdirTemp("", "faultproof-bundle-*")
		if err != nil {
			return fmt.Errorf("--%s: %w", bundleFlag.Name, err)
		}
		defer os.RemoveAll(tmp)
		datadir = filepath.Join(tmp, "preimages")
	}
	n, err := r.Import(datadir, format)
	if err != nil {
		return bundleError(path, err)
	}
	cfg.DataDir, cfg.DataFormat = datadir, format
	cfg.ExecCmd = ctx.String(execFlag.Name)
	cfg.ServerMode = ctx.Bool(serverFlag.Name)
	log.Info("Loaded bundle", "path", path, "preimages", n, "source", m.Source, "datadir", datadir)
	program := inprocess.Program
	if cfg.Interop != nil {
		program = inprocess.InteropProgram
	}
	h := host.New(log.Root(), cfg, program)
	return runHostWithMetrics(ctx, h)
}

func init() {
	for _, c := range bundleCommand.Subcommands {
		c.OnUsageError = oneLineUsageError(c.Flags)
	}
}

package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/demo"
	"github.com/faultproof/faultproof/devnet"
)

var devnetCommand = &cli.Command{
	Name:        "devnet",
	Usage:       "Make the demo's devnet and serve it like real nodes",
	Subcommands: []*cli.Command{devnetServeCommand, devnetConfigsCommand},
}

var devnetConfigsCommand = &cli.Command{
	Name:  "configs",
	Usage: "List the named devnet configurations (--config)",
	Action: func(ctx *cli.Context) error {
		if ctx.NArg() > 0 {
			return fmt.Errorf("%w: %v", errNoArgs, ctx.Args().Slice())
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tL2 BLOCKS\tFORKS\tWHAT")
		for _, n := range append(devnet.Configurations(), devnet.InteropConfigurations()...) {
			blocks, forks := n.Config.L2Blocks, n.Config.Forks
			if blocks == 0 {
				blocks = devnet.DefaultL2Blocks
			}
			if forks == nil {
				forks = devnet.DevnetForkHeights
			}
			doc := n.Doc
			if n.Config.Interop != nil {
				doc = "(--interop) " + doc
			}
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", n.Name, blocks, devnet.FormatForks(forks), doc)
		}
		return w.Flush()
	},
}

// interopFlag makes 'devnet serve' and 'demo' use an interop devnet: several L2 chains on one L1 in one
// dependency set, --config naming an interop configuration.
var interopFlag = &cli.BoolFlag{Name: "interop", Usage: "Several L2 chains in one dependency set, with cross-chain messages (--config names an interop configuration, default \"interop\")"}

// devnetFlags pick the devnet of 'devnet serve' and 'demo': a named configuration, changed by the other
// flags that are set.
var devnetFlags = []cli.Flag{
	&cli.StringFlag{Name: "config", Usage: "Named devnet configuration ('faultproof devnet configs' lists them; default \"default\", with --interop \"interop\"); the flags below change it"},
	interopFlag,
	&cli.Uint64Flag{Name: "l2.blocks", Usage: fmt.Sprintf("L2 blocks in the devnet (default: the configuration's; %d for the default one)", devnet.DefaultL2Blocks)},
	&cli.StringFlag{Name: "forks", Usage: "Fork schedule: default, all-genesis, or <fork>@<block>,... (a fork not named activates with the named one before it, at genesis if none; the forks after the last named one never)"},
	&cli.StringFlag{Name: "batches", Usage: "Batch types from Delta: singular, span or mixed (default: span batches, two if four blocks or more)"},
	&cli.StringFlag{Name: "da", Usage: "Where frames go: calldata, or blobs from Ecotone (default: every other channel in blobs)"},
	&cli.IntFlag{Name: "channels", Usage: "Channels the blocks are split into each time channels are opened (default 1)"},
	&cli.Uint64Flag{Name: "channel-every", Usage: "L1 blocks between two openings of channels (default 1)"},
	&cli.IntFlag{Name: "frames", Usage: "Frames per channel, about (default 3)"},
	&cli.IntFlag{Name: "frame-spread", Usage: "L1 blocks the newest channel's frames are posted over (default 2)"},
	&cli.Uint64Flag{Name: "tx-seed", Usage: "Random sequencer transactions and deposits from this seed (0: the fixed mix)"},
	&cli.Uint64Flag{Name: "seq-window", Usage: "Sequencing window in L1 blocks (default 100)"},
	&cli.Uint64Flag{Name: "channel-timeout", Usage: "Channel timeout before Granite, in L1 blocks (default 300; 50 from Granite)"},
	&cli.Uint64Flag{Name: "l1.past", Usage: "Empty L1 blocks after the last one with data, so that the L1 head is that far past the claims' data"},
	&cli.StringSliceFlag{Name: "fault", Usage: fmt.Sprintf("Faulty batcher: <kind>@<block>, may repeat; kinds: %v", devnet.FaultKinds)},
	invalidBatchFlag,
}

// devnetConfigName is the named configuration the flags pick.
func devnetConfigName(ctx *cli.Context) string {
	switch {
	case ctx.IsSet("config"):
		return ctx.String("config")
	case ctx.Bool(interopFlag.Name):
		return "interop"
	}
	return "default"
}

// devnetConfig is the devnet the flags ask for.
func devnetConfig(ctx *cli.Context) (devnet.Config, error) {
	find := devnet.Configuration
	if ctx.Bool(interopFlag.Name) {
		find = devnet.InteropConfiguration
	}
	named, err := find(devnetConfigName(ctx))
	if err != nil {
		return devnet.Config{}, fmt.Errorf("--config: %w", err)
	}
	cfg := named.Config
	if ctx.IsSet("l2.blocks") {
		cfg.L2Blocks = ctx.Uint64("l2.blocks")
	}
	if ctx.IsSet("forks") {
		if cfg.Forks, err = devnet.ParseForks(ctx.String("forks")); err != nil {
			return cfg, fmt.Errorf("--forks: %w", err)
		}
	}
	if ctx.IsSet("batches") {
		cfg.Batcher.Batches = devnet.BatchTypes(ctx.String("batches"))
	}
	if ctx.IsSet("da") {
		cfg.Batcher.DA = devnet.DataAvailability(ctx.String("da"))
	}
	for name, set := range map[string]func(){
		"channels":        func() { cfg.Batcher.Channels = ctx.Int("channels") },
		"channel-every":   func() { cfg.Batcher.ChannelEvery = ctx.Uint64("channel-every") },
		"frames":          func() { cfg.Batcher.FramesPerChannel = ctx.Int("frames") },
		"frame-spread":    func() { cfg.Batcher.FrameSpread = ctx.Int("frame-spread") },
		"tx-seed":         func() { cfg.TxSeed = ctx.Uint64("tx-seed") },
		"seq-window":      func() { cfg.SeqWindowSize = ctx.Uint64("seq-window") },
		"channel-timeout": func() { cfg.ChannelTimeout = ctx.Uint64("channel-timeout") },
		"l1.past":         func() { cfg.L1BlocksPast = ctx.Uint64("l1.past") },
	} {
		if ctx.IsSet(name) {
			set()
		}
	}
	for _, s := range ctx.StringSlice("fault") {
		f, err := devnet.ParseFault(s)
		if err != nil {
			return cfg, fmt.Errorf("--fault: %w", err)
		}
		cfg.Faults = append(cfg.Faults, f)
	}
	cfg.InvalidBatchAt = append(cfg.InvalidBatchAt, ctx.Uint64Slice(invalidBatchFlag.Name)...)
	return cfg, nil
}

var devnetServeCommand = &cli.Command{
	Name:  "serve",
	Usage: "Serve the devnet over L1 and L2 JSON-RPC and an L1 beacon API on 127.0.0.1, for 'faultproof run' online",
	Description: `Builds a devnet (the one of 'faultproof demo' unless --config or the devnet flags pick another),
writes its configs (rollup.json, genesis-l2.json, genesis-l1.json) into --dir, and serves it until interrupted
(SIGINT or SIGTERM, then exits 0):

  l1      L1 execution JSON-RPC (chain 900): eth_ blocks, receipts, transactions, proofs; debug_
  l2      L2 execution JSON-RPC (chain 901): the same, plus optimism_outputAtBlock, optimism_syncStatus
  beacon  L1 beacon API: genesis, spec, blob_sidecars and blobs (slot n is L1 block n)

One line per endpoint goes to stdout ("l1 http://127.0.0.1:PORT", then l2, then beacon); progress and an
example 'faultproof run' command go to stderr. With --addr HOST:P the endpoints listen on ports P, P+1 and P+2.

With --interop it serves an interop devnet: one L2 endpoint per chain ("l2 URL" lines in chain ID order, on
ports P+1 to P+N, the beacon on P+N+1), each chain's rollup-<ID>.json and genesis-l2-<ID>.json, and the
dependency set as depset.json.`,
	Flags: append(append([]cli.Flag{
		&cli.PathFlag{Name: "dir", Usage: "Write the chain configs here (created if missing)", Required: true},
		&cli.StringFlag{Name: "addr", Usage: "Listen address: 127.0.0.1 or localhost, port 0 for free ports", Value: "127.0.0.1:0"},
	}, devnetFlags...), logFlags...),
	Before: setupLogging,
	Action: runDevnetServe,
}

func runDevnetServe(ctx *cli.Context) error {
	if ctx.NArg() > 0 {
		return fmt.Errorf("%w: %v", errNoArgs, ctx.Args().Slice())
	}
	addr, dir := ctx.String("addr"), ctx.Path("dir")
	if err := devnet.CheckAddr(addr); err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--dir: %w", err)
	}
	sigCtx, stop := signal.NotifyContext(ctx.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer quietLogs(ctx)()

	cfg, err := devnetConfig(ctx)
	if err != nil {
		return err
	}
	if cfg.Interop != nil {
		return serveInterop(ctx, sigCtx, cfg, addr, dir)
	}
	start := time.Now()
	fmt.Fprintf(os.Stderr, "Building the devnet (configuration %s)...\n", devnetConfigName(ctx))
	d, err := devnet.New(cfg)
	if err != nil {
		return fmt.Errorf("devnet: %w", err)
	}
	if err := demo.WriteConfigs(dir, d); err != nil {
		return err
	}
	if sigCtx.Err() != nil { // interrupted while building
		return nil
	}
	srv, err := devnet.Serve(sigCtx, d, addr)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Printf("l1 %s\nl2 %s\nbeacon %s\n", srv.L1URL(), srv.L2URL(), srv.BeaconURL())

	head := d.L2Head().NumberU64()
	agreed := head - min(head, 1)
	fmt.Fprintf(os.Stderr, "Devnet ready in %s: L1 blocks 0-%d, L2 blocks 0-%d, %d L1 blocks with blobs; configs in %s\n",
		time.Since(start).Round(time.Millisecond), d.L1Head().NumberU64(), head, len(d.BlobBlocks()), dir)
	fmt.Fprintf(os.Stderr, "Decide the honest claim on L2 block %d, for example:\n  faultproof run --rollup.config %s --l2.genesis %s "+
		"--l1.chainconfig %s --l1 %s --l2 %s --l1.beacon %s --datadir %s --l1.head %s --l2.head %s --l2.outputroot %s "+
		"--l2.claim %s --l2.blocknumber %d\n", head,
		filepath.Join(dir, "rollup.json"), filepath.Join(dir, "genesis-l2.json"), filepath.Join(dir, "genesis-l1.json"),
		srv.L1URL(), srv.L2URL(), srv.BeaconURL(), filepath.Join(dir, "preimages"),
		d.L1Head().Hash(), d.L2Block(agreed).Hash(), d.OutputRoot(agreed), d.OutputRoot(head), head)

	<-srv.Done() // the signal context ends it
	fmt.Fprintln(os.Stderr, "Devnet server stopped")
	return srv.Close()
}

// serveInterop is 'devnet serve --interop'.
func serveInterop(ctx *cli.Context, sigCtx context.Context, cfg devnet.Config, addr, dir string) error {
	start := time.Now()
	fmt.Fprintf(os.Stderr, "Building the interop devnet (configuration %s)...\n", devnetConfigName(ctx))
	x, err := devnet.NewInterop(cfg)
	if err != nil {
		return fmt.Errorf("devnet: %w", err)
	}
	if err := demo.WriteInteropConfigs(dir, x); err != nil {
		return err
	}
	if sigCtx.Err() != nil { // interrupted while building
		return nil
	}
	srv, err := devnet.ServeInterop(sigCtx, x, addr)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Printf("l1 %s\n", srv.L1URL())
	for _, u := range srv.L2URLs() {
		fmt.Printf("l2 %s\n", u)
	}
	fmt.Printf("beacon %s\n", srv.BeaconURL())

	ts := x.LastTime() - 1
	agreed, err := x.State(ts, 0)
	if err != nil {
		return err
	}
	claim, err := x.StateHash(ts, 1)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "Interop devnet ready in %s: %d chains, L1 blocks 0-%d, L2 blocks 0-%d each (timestamps %d to %d); configs in %s\n",
		time.Since(start).Round(time.Millisecond), len(x.Chains()), x.L1Head().NumberU64(), x.Chains()[0].L2Head().NumberU64(),
		x.GenesisTime(), x.LastTime(), dir)
	args := append(demo.InteropConfigArgs(dir, x), "--l1", srv.L1URL(), "--l2", strings.Join(srv.L2URLs(), ","), "--l1.beacon", srv.BeaconURL(),
		"--datadir", filepath.Join(dir, "preimages"), "--l1.head", x.L1Head().Hash().Hex(), "--l2.agreed-prestate", hexutil.Encode(agreed),
		"--l2.claim", claim.Hex(), "--l2.blocknumber", fmt.Sprint(x.LastTime()))
	fmt.Fprintf(os.Stderr, "Decide the first step after the super root at %d, for example:\n  faultproof run %s\n", ts, strings.Join(args, " "))

	<-srv.Done() // the signal context ends it
	fmt.Fprintln(os.Stderr, "Devnet server stopped")
	return srv.Close()
}

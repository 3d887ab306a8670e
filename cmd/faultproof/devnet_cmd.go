package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/devnet"
)

var devnetCommand = &cli.Command{
	Name:        "devnet",
	Usage:       "Make the demo's devnet and serve it like real nodes",
	Subcommands: []*cli.Command{devnetServeCommand},
}

var devnetServeCommand = &cli.Command{
	Name:  "serve",
	Usage: "Serve the devnet over L1 and L2 JSON-RPC and an L1 beacon API on 127.0.0.1, for 'faultproof run' online",
	Description: `Builds the devnet of 'faultproof demo', writes its configs (rollup.json, genesis-l2.json,
genesis-l1.json) into --dir, and serves it until interrupted (SIGINT or SIGTERM, then exits 0):

  l1      L1 execution JSON-RPC (chain 900): eth_ blocks, receipts, transactions, proofs; debug_
  l2      L2 execution JSON-RPC (chain 901): the same, plus optimism_outputAtBlock, optimism_syncStatus
  beacon  L1 beacon API: genesis, spec, blob_sidecars and blobs (slot n is L1 block n)

One line per endpoint goes to stdout ("l1 http://127.0.0.1:PORT", then l2, then beacon); progress and an
example 'faultproof run' command go to stderr. With --addr HOST:P the endpoints listen on ports P, P+1 and P+2.`,
	Flags: append([]cli.Flag{
		&cli.PathFlag{Name: "dir", Usage: "Write the chain configs here (created if missing)", Required: true},
		&cli.Uint64Flag{Name: "l2.blocks", Usage: "L2 blocks in the devnet", Value: devnet.DefaultL2Blocks},
		&cli.StringFlag{Name: "addr", Usage: "Listen address: 127.0.0.1 or localhost, port 0 for free ports", Value: "127.0.0.1:0"},
		invalidBatchFlag,
	}, logFlags...),
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

	start := time.Now()
	fmt.Fprintf(os.Stderr, "Building the devnet (%d L2 blocks)...\n", ctx.Uint64("l2.blocks"))
	d, err := devnet.New(devnetConfig(ctx))
	if err != nil {
		return fmt.Errorf("devnet: %w", err)
	}
	if err := writeDemoConfigs(dir, d); err != nil {
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

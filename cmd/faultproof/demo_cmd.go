package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/ethereum/go-ethereum/common"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/demo"
	"github.com/faultproof/faultproof/cmd/faultproof/internal/inprocess"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/preimage"
)

var demoCommand = &cli.Command{
	Name:  "demo",
	Usage: "Make a devnet on the spot and settle disputes on it (no network)",
	Description: `Builds an L1 chain and an OP Stack L2 chain derived from it (every fork from Regolith to Karst, batches
in calldata and blobs), then runs the fault proof program, served by the host, on claims about it: honest and
wrong output roots, a claim across a fork activation, one whose batches came in blobs, and one behind the
agreed block. Exits 0 only if every verdict is the expected one.

With --interop the devnet has several L2 chains in one dependency set, with cross-chain messages, and the
disputes are about super roots (the interop program, one step of a timestamp's transition each): deriving
each chain's block, a padding step, the consolidation, a wrong super root, a consolidation that replaces a
block holding an invalid executing message, and the trace extension.`,
	Flags: append(append([]cli.Flag{
		&cli.PathFlag{Name: "datadir", Usage: "Keep the preimages (pebble) and configs here, with a command to replay each dispute"},
		&cli.BoolFlag{Name: "vm", Usage: "Also settle each dispute inside the VM (builds the prestate from the checkout in --src)"},
		&cli.PathFlag{Name: "src", Usage: "With --vm: checkout of the faultproof repository to build the program from", Value: "."},
		&cli.BoolFlag{Name: "game", Usage: "Also play FaultDisputeGames on the devnet with the dispute contracts and the VM (a short 'faultproof game': builds the program from --src)"},
	}, devnetFlags...), logFlags...),
	Before: setupLogging,
	Action: runDemo,
}

// invalidBatchFlag makes a faulty batcher: the batches of these L2 blocks carry a transaction the engine
// rejects, and derivation replaces the blocks by deposit-only ones.
var invalidBatchFlag = &cli.Uint64SliceFlag{
	Name:  "invalid-batch",
	Usage: "L2 block (from Holocene on, may repeat) whose batch carries a transaction the engine rejects; the demo adds a dispute about each",
}

func runDemo(ctx *cli.Context) error {
	defer quietLogs(ctx)()
	cfg, err := devnetConfig(ctx)
	if err != nil {
		return err
	}
	if cfg.Interop != nil && ctx.Bool("game") {
		return errors.New("--game plays output-root games on one chain: super-root games on the interop devnet are not implemented")
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	opts := demo.Options{
		Devnet:        cfg,
		ConfigName:    devnetConfigName(ctx),
		DataDir:       ctx.Path("datadir"),
		Program:       inprocess.Program,
		VM:            ctx.Bool("vm"),
		Src:           ctx.Path("src"),
		Exe:           exe,
		BuildPrestate: buildDemoPrestate,
		Stdout:        os.Stdout,
		Stderr:        os.Stderr,
	}
	run := demo.Run
	if cfg.Interop != nil {
		opts.Program, opts.BuildPrestate, run = inprocess.InteropProgram, buildInteropDemoPrestate, demo.RunInterop
	} else if ctx.Bool("game") {
		opts.Then = func(d *devnet.Devnet) error {
			fmt.Println()
			return playDevnetGames(&gameOptions{src: ctx.Path("src"), short: true, devnetConfig: cfg}, d)
		}
	}
	err = run(ctx.Context, opts)
	if errors.Is(err, demo.ErrUnexpectedVerdict) {
		return &host.ExitError{Code: preimage.ExitFailure, Err: err}
	}
	return err
}

// buildDemoPrestate builds the program from the checkout src as 'faultproof prestate --out out' does,
// without custom chains (the devnet's configs come as local keys).
func buildDemoPrestate(src, out string) (common.Hash, error) {
	return buildPrestate(src, out, "go", nil)
}

// buildInteropDemoPrestate builds the interop program as 'faultproof prestate --interop --out out' does.
func buildInteropDemoPrestate(src, out string) (common.Hash, error) {
	return buildPrestateMode(src, out, "go", nil, "interop")
}

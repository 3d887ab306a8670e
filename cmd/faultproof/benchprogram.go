package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host/kvstore"
)

var benchProgramCommand = &cli.Command{
	Name:  "program",
	Usage: "VM steps of the fault proof program per claim and per derived L2 block, on the devnet",
	Description: `Builds the prestate from the checkout in --src and the devnet, then runs the demo's disputes inside
the VM, served by the host, and reports steps, steps per L2 block derived, VM time and steps per second.`,
	Flags: append([]cli.Flag{
		&cli.PathFlag{Name: "src", Usage: "Checkout of the faultproof repository", Value: "."},
		&cli.PathFlag{Name: "pprof.dir", Usage: "Write a guest profile of each claim (vm run --pprof.guest) into this directory"},
		&cli.StringFlag{Name: "claims", Usage: "Run only the claims whose names contain this text"},
	}, logFlags...),
	Before: setupLogging,
	Action: runBenchProgram,
}

func runBenchProgram(ctx *cli.Context) error {
	defer quietLogs(ctx)()
	dir, err := os.MkdirTemp("", "faultproof-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	prestate := filepath.Join(dir, "prestate")
	if _, err := buildPrestate(ctx.Path("src"), prestate, "go", nil); err != nil {
		return err
	}
	d, err := devnet.New(devnet.Config{})
	if err != nil {
		return err
	}
	kv, _, err := kvstore.Open(filepath.Join(dir, "preimages"), kvstore.FormatPebble)
	if err != nil {
		return err
	}
	for k, v := range d.Preimages() {
		if err := kv.Put(k, v); err != nil {
			kv.Close()
			return err
		}
	}
	if err := kv.Close(); err != nil {
		return err
	}
	if err := writeDemoConfigs(dir, d); err != nil {
		return err
	}
	disputes, err := demoDisputes(d)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CLAIM\tBLOCKS DERIVED\tSTEPS\tSTEPS/BLOCK\tVM MEMORY\tVM TIME\tSTEPS/S\tVERDICT")
	profDir := ctx.Path("pprof.dir")
	for i, dp := range disputes {
		if !strings.Contains(dp.name, ctx.String("claims")) {
			continue
		}
		fmt.Fprintf(os.Stderr, "%s...\n", dp.name)
		var vmArgs []string
		if profDir != "" {
			vmArgs = []string{"--pprof.elf", filepath.Join(prestate, "fpp-client.elf"),
				"--pprof.guest", filepath.Join(profDir, fmt.Sprintf("claim%d.pprof", i+1))}
		}
		code, steps, memory, elapsed, err := runDisputeInVM(prestate, demoReplayArgs(dir, demoHostConfig(d, dp)), vmArgs...)
		if err != nil {
			return fmt.Errorf("%s: %w", dp.name, err)
		}
		blocks := uint64(0)
		if dp.claimBlock > dp.agreed {
			blocks = dp.claimBlock - dp.agreed
		}
		perBlock := "-"
		if blocks > 0 {
			perBlock = fmt.Sprint(steps / blocks)
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\t%s\t%.0f\t%s\n", dp.name, blocks, steps, perBlock, memoryUsage(memory), elapsed.Round(1e6),
			float64(steps)/elapsed.Seconds(), verdict(code))
	}
	return w.Flush()
}

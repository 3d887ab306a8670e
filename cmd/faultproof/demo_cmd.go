package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/vm"
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

// dispute is one row of the demo.
type dispute struct {
	name       string
	agreed     uint64
	claimBlock uint64
	claim      common.Hash
	want       int // expected exit code
}

// demoDisputes are the demo's disputes on d: honest and wrong output roots at the head, across Holocene's
// activation and about blocks batched in blobs (if the devnet has them), behind the agreed block, and one
// about each block a faulty batcher attacked.
func demoDisputes(d *devnet.Devnet) ([]dispute, error) {
	head := d.L2Head().NumberU64()
	if head < 16 {
		return nil, fmt.Errorf("the demo needs at least 16 L2 blocks, got %d", head)
	}
	disputes := []dispute{
		{"honest output root", head - 6, head, d.OutputRoot(head), 0},
		{"wrong output root", head - 6, head, d.OutputRoot(head - 1), 1},
	}
	r := d.Rollup()
	if at := r.HoloceneTime; at != nil && *at > r.Genesis.L2Time {
		if holocene := (*at - r.Genesis.L2Time) / r.BlockTime; holocene >= 3 && holocene+2 <= head {
			disputes = append(disputes, dispute{fmt.Sprintf("across Holocene's activation (block %d)", holocene), holocene - 3, holocene + 2, d.OutputRoot(holocene + 2), 0})
		}
	}
	blob := uint64(0)
	for n := min(uint64(30), head/2); n <= head && blob == 0; n++ {
		if d.Batch(n).Blob && n >= 2 {
			blob = n
		}
	}
	if blob != 0 {
		disputes = append(disputes, dispute{fmt.Sprintf("batches posted in blobs (block %d)", blob), blob - 2, blob, d.OutputRoot(blob), 0})
	}
	agreed := min(uint64(40), head-10)
	disputes = append(disputes, dispute{"behind the agreed block (trace extension)", agreed, agreed - 5, d.OutputRoot(agreed - 5), 0})
	for _, n := range d.Config().InvalidBatchAt {
		disputes = append(disputes, dispute{fmt.Sprintf("invalid batch replaced by deposits only (block %d)", n), n - 1, n, d.OutputRoot(n), 0})
	}
	for _, f := range d.Config().Faults {
		disputes = append(disputes, dispute{fmt.Sprintf("faulty batcher %s (block %d)", f.Kind, f.Block), f.Block - 1, f.Block, d.OutputRoot(f.Block), 0})
	}
	return disputes, nil
}

func runDemo(ctx *cli.Context) error {
	defer quietLogs(ctx)()
	cfg, err := devnetConfig(ctx)
	if err != nil {
		return err
	}
	if cfg.Interop != nil {
		return runInteropDemo(ctx, cfg)
	}
	start := time.Now()
	fmt.Fprintf(os.Stderr, "Building the devnet (configuration %s)...\n", devnetConfigName(ctx))
	d, err := devnet.New(cfg)
	if err != nil {
		return fmt.Errorf("devnet: %w", err)
	}
	values := d.Preimages()
	fmt.Fprintf(os.Stderr, "Devnet ready in %s: %d L1 blocks, %d L2 blocks, %d blobs, %d preimages\n",
		time.Since(start).Round(time.Millisecond), d.L1Head().NumberU64()+1, d.L2Head().NumberU64()+1, len(d.BlobBlocks()), len(values))

	var kv kvstore.KV = kvstore.NewMem()
	datadir := ctx.Path("datadir")
	useVM := ctx.Bool("vm")
	var prestate string
	if useVM {
		if datadir == "" { // the VM's host is another process: it needs the preimages on disk
			tmp, err := os.MkdirTemp("", "faultproof-demo-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			datadir = tmp
		}
		prestate = filepath.Join(datadir, "prestate")
		fmt.Fprintln(os.Stderr, "Building the program for the VM...")
		hash, err := buildPrestate(ctx.Path("src"), prestate, "go", nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "Absolute prestate %s\n", hash)
	}
	if datadir != "" {
		if kv, _, err = kvstore.Open(filepath.Join(datadir, "preimages"), kvstore.FormatPebble); err != nil {
			return err
		}
		if err := writeDemoConfigs(datadir, d); err != nil {
			return err
		}
	}
	defer func() { _ = kv.Close() }() // closing twice is harmless
	for k, v := range values {
		if err := kv.Put(k, v); err != nil {
			return fmt.Errorf("store preimages: %w", err)
		}
	}
	disputes, err := demoDisputes(d)
	if err != nil {
		return err
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	header := "DISPUTE\tAGREED\tCLAIM BLOCK\tEXPECTED\tVERDICT\tTIME\tPREIMAGES"
	if useVM {
		header += "\tVM VERDICT\tVM STEPS\tVM TIME"
	}
	fmt.Fprintln(w, header)
	var replay, rows []string
	var hostArgs [][]string
	allAsExpected := true
	for i, dp := range disputes {
		fmt.Fprintf(os.Stderr, "Dispute %d/%d: %s...\n", i+1, len(disputes), dp.name)
		cfg := demoHostConfig(d, dp)
		h := host.New(log.Root(), cfg, inProcessProgram)
		h.Store = kv
		t0 := time.Now()
		err := h.Run(ctx.Context)
		code := 0
		var exitErr *host.ExitError
		switch {
		case errors.As(err, &exitErr):
			code = exitErr.Code
		case err != nil:
			return fmt.Errorf("dispute %q: %w", dp.name, err)
		}
		preimages, _, _ := h.Stats()
		if code != dp.want {
			allAsExpected = false
		}
		row := fmt.Sprintf("%s\t%d\t%d\t%s\t%s\t%s\t%d", dp.name, dp.agreed, dp.claimBlock, verdict(dp.want), verdict(code),
			time.Since(t0).Round(time.Millisecond), preimages)
		rows = append(rows, row)
		hostArgs = append(hostArgs, demoReplayArgs(datadir, cfg))
		replay = append(replay, "faultproof "+strings.Join(demoReplayArgs(datadir, cfg), " "))
	}
	if useVM {
		// The VM's host opens the datadir itself: release it.
		if err := kv.Close(); err != nil {
			return err
		}
		for i, dp := range disputes {
			fmt.Fprintf(os.Stderr, "Dispute %d/%d inside the VM: %s...\n", i+1, len(disputes), dp.name)
			vmCode, steps, _, elapsed, err := runDisputeInVM(prestate, hostArgs[i])
			if err != nil {
				return fmt.Errorf("dispute %q in the VM: %w", dp.name, err)
			}
			if vmCode != dp.want {
				allAsExpected = false
			}
			rows[i] += fmt.Sprintf("\t%s\t%d\t%s", verdict(vmCode), steps, elapsed.Round(time.Millisecond))
		}
	}
	for _, row := range rows {
		fmt.Fprintln(w, row)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Printf("\n%d disputes in %s.\n", len(disputes), time.Since(start).Round(time.Millisecond))
	if ctx.Path("datadir") != "" {
		path := filepath.Join(datadir, "replay.txt")
		if err := os.WriteFile(path, []byte(strings.Join(replay, "\n")+"\n"), 0o644); err != nil {
			return err
		}
		fmt.Printf("Preimages and configs are in %s; %s replays each dispute offline.\n", datadir, path)
	}
	if !allAsExpected {
		return &host.ExitError{Code: preimage.ExitFailure, Err: errors.New("a verdict was not the expected one")}
	}
	if ctx.Bool("game") {
		fmt.Println()
		return playDevnetGames(&gameOptions{src: ctx.Path("src"), short: true, devnetConfig: cfg}, d)
	}
	return nil
}

func verdict(code int) string {
	switch code {
	case 0:
		return "valid"
	case 1:
		return "invalid"
	}
	return fmt.Sprintf("failed (exit %d)", code)
}

func demoHostConfig(d *devnet.Devnet, dp dispute) *host.Config {
	return &host.Config{
		Rollup:              d.Rollup(),
		L2ChainConfig:       d.L2ChainConfig(),
		L1ChainConfig:       d.L1ChainConfig(),
		IsCustomChainConfig: true,
		L1Head:              d.L1Head().Hash(),
		L2Head:              d.L2Block(dp.agreed).Hash(),
		L2OutputRoot:        d.OutputRoot(dp.agreed),
		L2Claim:             dp.claim,
		L2ClaimBlockNumber:  dp.claimBlock,
	}
}

func writeDemoConfigs(dir string, d *devnet.Devnet) error {
	for name, v := range map[string]any{
		"rollup.json":     d.Rollup(),
		"genesis-l2.json": map[string]any{"config": d.L2ChainConfig()},
		"genesis-l1.json": map[string]any{"config": d.L1ChainConfig()},
	} {
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// demoReplayArgs are the 'faultproof run' flags of a dispute's host config; the devnet chain is a custom
// chain, announced with the custom-chain indicator (--l2.custom) as the demo does.
func demoReplayArgs(dir string, cfg *host.Config) []string {
	args := []string{"run", "--rollup.config", filepath.Join(dir, "rollup.json"), "--l2.genesis", filepath.Join(dir, "genesis-l2.json"),
		"--l1.chainconfig", filepath.Join(dir, "genesis-l1.json"), "--datadir", filepath.Join(dir, "preimages"),
		"--l1.head", cfg.L1Head.Hex(), "--l2.head", cfg.L2Head.Hex(), "--l2.outputroot", cfg.L2OutputRoot.Hex(),
		"--l2.claim", cfg.L2Claim.Hex(), "--l2.blocknumber", fmt.Sprint(cfg.L2ClaimBlockNumber)}
	if cfg.IsCustomChainConfig {
		args = append(args, "--l2.custom")
	}
	return args
}

// runDisputeInVM runs 'faultproof vm run -- faultproof host --server ...' on the prestate and returns the
// program's exit code and step count.
func runDisputeInVM(prestate string, hostArgs []string, vmArgs ...string) (code int, steps uint64, memory uint64, elapsed time.Duration, err error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, 0, 0, 0, err
	}
	final := filepath.Join(prestate, "final.bin.gz")
	args := []string{"vm", "run", "--input", filepath.Join(prestate, "prestate.bin.gz"), "--meta", filepath.Join(prestate, "meta.json"),
		"--output", final, "--info-at", "never"}
	args = append(append(args, vmArgs...), "--", exe)
	args = append(append(args, hostArgs...), "--server")
	cmd := exec.Command(exe, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("%w: %s", err, lastOutputLine(stderr.String()))
	}
	elapsed = time.Since(t0)
	state, err := vm.LoadStateFile(final)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	if !state.Exited {
		return 0, 0, 0, 0, fmt.Errorf("the program did not exit (step %d)", state.Step)
	}
	return int(state.ExitCode), state.Step, uint64(state.Memory.PageCount()) * vm.PageSize, elapsed, nil
}

func lastOutputLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

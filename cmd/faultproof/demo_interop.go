package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// interopFlag makes 'devnet serve' and 'demo' use an interop devnet: several L2 chains on one L1 in one
// dependency set, --config naming an interop configuration.
var interopFlag = &cli.BoolFlag{Name: "interop", Usage: "Several L2 chains in one dependency set, with cross-chain messages (--config names an interop configuration, default \"interop\")"}

// interopDispute is one super-root dispute of the interop demo: one step of a timestamp's transition.
type interopDispute struct {
	name  string
	t     uint64 // the agreed state is step steps after the super root at t
	step  uint64
	claim common.Hash
	want  int
}

// interopDemoDisputes are the interop demo's disputes: the steps of a transition (deriving each chain's
// block, a padding step, the consolidation), a wrong super root, a consolidation that replaces a block
// holding an invalid executing message (where the devnet has one), and the trace extension at the game
// timestamp.
func interopDemoDisputes(x *devnet.Interop) ([]interopDispute, error) {
	g, last := x.GenesisTime(), x.LastTime()
	if last < g+12 {
		return nil, fmt.Errorf("the interop demo needs at least 6 L2 blocks, got %d", (last-g)/2)
	}
	// An honest transition into a block after Lagoon's activation, not replaced.
	ts := g + 2*(x.Config().Interop.LagoonAt+2) - 1
	replaced := map[uint64]bool{}
	for _, r := range x.Replacements() {
		replaced[r.Block] = true
	}
	for replaced[(ts+1-g)/2] && ts+2 < last {
		ts += 2
	}
	state := func(t, step uint64) (common.Hash, error) { return x.StateHash(t, step) }
	var out []interopDispute
	add := func(name string, t, step, claimStep uint64, want int) error {
		claim, err := state(t, claimStep)
		if err != nil {
			return err
		}
		out = append(out, interopDispute{name, t, step, claim, want})
		return nil
	}
	n := uint64(len(x.Chains()))
	for _, d := range []struct {
		name               string
		t, step, claimStep uint64
		want               int
	}{
		{fmt.Sprintf("derive chain %d's block (step 0)", x.Chains()[0].Rollup().ChainID()), ts, 0, 1, 0},
		{fmt.Sprintf("derive chain %d's block (step %d)", x.Chains()[n-1].Rollup().ChainID(), n-1), ts, n - 1, n, 0},
		{"padding step (step 64)", ts, 64, 65, 0},
		{"padding step claiming no progress", ts, 64, 64, 1},
		{"consolidation: next super root", ts, interop.ConsolidateStep, interop.StepsPerTimestamp, 0},
	} {
		if err := add(d.name, d.t, d.step, d.claimStep, d.want); err != nil {
			return nil, err
		}
	}
	// A wrong super root: the next one with the chains' outputs swapped.
	next, err := x.SuperRoot(ts + 1)
	if err != nil {
		return nil, err
	}
	wrong := &interop.SuperV1{Timestamp: next.Timestamp}
	for i, c := range next.Chains {
		wrong.Chains = append(wrong.Chains, interop.ChainOutput{ChainID: c.ChainID, Output: next.Chains[(i+1)%len(next.Chains)].Output})
	}
	out = append(out, interopDispute{"consolidation: wrong super root", ts, interop.ConsolidateStep, wrong.Root(), 1})

	// The first replacement of its own invalid message: the claim with the replaced (optimistic) blocks
	// is invalid, the one with the deposit-only blocks valid.
	for _, r := range x.Replacements() {
		if r.Round != 0 {
			continue
		}
		t := x.GenesisTime() + 2*r.Block - 1
		pre, err := x.State(t, interop.ConsolidateStep)
		if err != nil {
			return nil, err
		}
		decoded, err := interop.UnmarshalPreState(pre)
		if err != nil {
			return nil, err
		}
		kept := &interop.SuperV1{Timestamp: t + 1}
		for i, c := range decoded.Super.Chains {
			kept.Chains = append(kept.Chains, interop.ChainOutput{ChainID: c.ChainID, Output: decoded.Transition.PendingProgress[i].OutputRoot})
		}
		if err := add(fmt.Sprintf("consolidation replaces chain %d block %d", r.Chain, r.Block), t, interop.ConsolidateStep, interop.StepsPerTimestamp, 0); err != nil {
			return nil, err
		}
		out = append(out, interopDispute{fmt.Sprintf("consolidation keeping chain %d block %d (invalid message)", r.Chain, r.Block), t, interop.ConsolidateStep, kept.Root(), 1})
		break
	}
	// The trace extension: at the game timestamp the state no longer changes.
	if err := add("at the game timestamp (trace extension)", last, 0, 0, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// runInteropDemo is 'faultproof demo --interop'.
func runInteropDemo(ctx *cli.Context, cfg devnet.Config) error {
	start := time.Now()
	fmt.Fprintf(os.Stderr, "Building the interop devnet (configuration %s)...\n", devnetConfigName(ctx))
	x, err := devnet.NewInterop(cfg)
	if err != nil {
		return fmt.Errorf("devnet: %w", err)
	}
	values := x.Preimages()
	fmt.Fprintf(os.Stderr, "Devnet ready in %s: %d chains, %d L1 blocks, %d L2 blocks each, %d blocks replaced by consolidation, %d preimages\n",
		time.Since(start).Round(time.Millisecond), len(x.Chains()), x.L1Head().NumberU64()+1, x.Chains()[0].L2Head().NumberU64()+1,
		len(x.Replacements()), len(values))

	var kv kvstore.KV = kvstore.NewMem()
	datadir := ctx.Path("datadir")
	useVM := ctx.Bool("vm")
	var prestate string
	if useVM {
		if datadir == "" {
			tmp, err := os.MkdirTemp("", "faultproof-demo-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			datadir = tmp
		}
		prestate = filepath.Join(datadir, "prestate")
		fmt.Fprintln(os.Stderr, "Building the interop program for the VM...")
		hash, err := buildPrestateMode(ctx.Path("src"), prestate, "go", nil, "interop")
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "Absolute prestate %s (interop)\n", hash)
	}
	if datadir != "" {
		if kv, _, err = kvstore.Open(filepath.Join(datadir, "preimages"), kvstore.FormatPebble); err != nil {
			return err
		}
		if err := writeInteropConfigs(datadir, x); err != nil {
			return err
		}
	}
	defer func() { _ = kv.Close() }()
	for k, v := range values {
		if err := kv.Put(k, v); err != nil {
			return fmt.Errorf("store preimages: %w", err)
		}
	}
	disputes, err := interopDemoDisputes(x)
	if err != nil {
		return err
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	header := "DISPUTE\tTIMESTAMP\tSTEP\tEXPECTED\tVERDICT\tTIME\tPREIMAGES"
	if useVM {
		header += "\tVM VERDICT\tVM STEPS\tVM TIME"
	}
	fmt.Fprintln(w, header)
	var replay, rows []string
	var hostArgs [][]string
	allAsExpected := true
	for i, dp := range disputes {
		fmt.Fprintf(os.Stderr, "Dispute %d/%d: %s...\n", i+1, len(disputes), dp.name)
		hcfg, err := interopHostConfig(x, dp)
		if err != nil {
			return err
		}
		h := host.New(log.Root(), hcfg, inProcessInteropProgram)
		h.Store = kv
		t0 := time.Now()
		err = h.Run(ctx.Context)
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
		rows = append(rows, fmt.Sprintf("%s\t+%d\t%d\t%s\t%s\t%s\t%d", dp.name, dp.t-x.GenesisTime(), dp.step, verdict(dp.want), verdict(code),
			time.Since(t0).Round(time.Millisecond), preimages))
		args := interopReplayArgs(datadir, x, hcfg)
		hostArgs = append(hostArgs, args)
		replay = append(replay, "faultproof "+strings.Join(args, " "))
	}
	if useVM {
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
	fmt.Printf("\n%d super-root disputes in %s (timestamps from genesis at %d).\n", len(disputes), time.Since(start).Round(time.Millisecond), x.GenesisTime())
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
	return nil
}

// interopHostConfig is the host configuration of a super-root dispute on the devnet: the game timestamp
// is the devnet's last.
func interopHostConfig(x *devnet.Interop, dp interopDispute) (*host.Config, error) {
	agreed, err := x.State(dp.t, dp.step)
	if err != nil {
		return nil, err
	}
	ic := &host.InteropConfig{AgreedPrestate: agreed, DepSet: x.DependencySet()}
	for _, d := range x.Chains() {
		ic.Chains = append(ic.Chains, &rollup.ChainConfigs{Rollup: d.Rollup(), L2: d.L2ChainConfig(), L1: d.L1ChainConfig()})
	}
	return &host.Config{Interop: ic, L1Head: x.L1Head().Hash(), L2Claim: dp.claim, L2ClaimBlockNumber: x.LastTime()}, nil
}

// writeInteropConfigs writes each chain's rollup.json and genesis, the L1 genesis and the dependency set.
func writeInteropConfigs(dir string, x *devnet.Interop) error {
	files := map[string]any{"genesis-l1.json": map[string]any{"config": x.Chains()[0].L1ChainConfig()}, "depset.json": x.DependencySet()}
	for _, d := range x.Chains() {
		id := d.Rollup().ChainID()
		files[fmt.Sprintf("rollup-%d.json", id)] = d.Rollup()
		files[fmt.Sprintf("genesis-l2-%d.json", id)] = map[string]any{"config": d.L2ChainConfig()}
	}
	for name, v := range files {
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

// interopConfigArgs are the chain config flags of writeInteropConfigs' files.
func interopConfigArgs(dir string, x *devnet.Interop) []string {
	var rollups, genesis []string
	for _, d := range x.Chains() {
		id := d.Rollup().ChainID()
		rollups = append(rollups, filepath.Join(dir, fmt.Sprintf("rollup-%d.json", id)))
		genesis = append(genesis, filepath.Join(dir, fmt.Sprintf("genesis-l2-%d.json", id)))
	}
	return []string{"--rollup.config", strings.Join(rollups, ","), "--l2.genesis", strings.Join(genesis, ","),
		"--l1.chainconfig", filepath.Join(dir, "genesis-l1.json"), "--depset.config", filepath.Join(dir, "depset.json")}
}

// interopReplayArgs are the 'faultproof run' flags of a super-root dispute (op-program's interop flags).
func interopReplayArgs(dir string, x *devnet.Interop, cfg *host.Config) []string {
	args := append([]string{"run"}, interopConfigArgs(dir, x)...)
	return append(args, "--datadir", filepath.Join(dir, "preimages"), "--l1.head", cfg.L1Head.Hex(),
		"--l2.agreed-prestate", hexutil.Encode(cfg.Interop.AgreedPrestate), "--l2.claim", cfg.L2Claim.Hex(),
		"--l2.blocknumber", fmt.Sprint(cfg.L2ClaimBlockNumber))
}

// serveInterop is 'devnet serve --interop'.
func serveInterop(ctx *cli.Context, sigCtx context.Context, cfg devnet.Config, addr, dir string) error {
	start := time.Now()
	fmt.Fprintf(os.Stderr, "Building the interop devnet (configuration %s)...\n", devnetConfigName(ctx))
	x, err := devnet.NewInterop(cfg)
	if err != nil {
		return fmt.Errorf("devnet: %w", err)
	}
	if err := writeInteropConfigs(dir, x); err != nil {
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
	args := append(interopConfigArgs(dir, x), "--l1", srv.L1URL(), "--l2", strings.Join(srv.L2URLs(), ","), "--l1.beacon", srv.BeaconURL(),
		"--datadir", filepath.Join(dir, "preimages"), "--l1.head", x.L1Head().Hash().Hex(), "--l2.agreed-prestate", hexutil.Encode(agreed),
		"--l2.claim", claim.Hex(), "--l2.blocknumber", fmt.Sprint(x.LastTime()))
	fmt.Fprintf(os.Stderr, "Decide the first step after the super root at %d, for example:\n  faultproof run %s\n", ts, strings.Join(args, " "))

	<-srv.Done() // the signal context ends it
	fmt.Fprintln(os.Stderr, "Devnet server stopped")
	return srv.Close()
}

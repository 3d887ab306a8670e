package demo

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// InteropDispute is one super-root dispute of the interop demo: one step of a timestamp's transition.
type InteropDispute struct {
	Name  string
	T     uint64 // the agreed state is Step steps after the super root at T
	Step  uint64
	Claim common.Hash
	Want  int // the expected exit code
}

// InteropDisputes are the interop demo's disputes: the steps of a transition (deriving each chain's
// block, a padding step, the consolidation), a wrong super root, a consolidation that replaces a block
// holding an invalid executing message (where the devnet has one), and the trace extension at the game
// timestamp.
func InteropDisputes(x *devnet.Interop) ([]InteropDispute, error) {
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
	var out []InteropDispute
	add := func(name string, t, step, claimStep uint64, want int) error {
		claim, err := x.StateHash(t, claimStep)
		if err != nil {
			return err
		}
		out = append(out, InteropDispute{name, t, step, claim, want})
		return nil
	}
	n := uint64(len(x.Chains()))
	for _, d := range []struct {
		name               string
		t, step, claimStep uint64
		want               int
	}{
		{fmt.Sprintf("derive chain %d's block (step 0)", x.Chains()[0].Rollup().ChainID()), ts, 0, 1, preimage.ExitValid},
		{fmt.Sprintf("derive chain %d's block (step %d)", x.Chains()[n-1].Rollup().ChainID(), n-1), ts, n - 1, n, preimage.ExitValid},
		{"padding step (step 64)", ts, 64, 65, preimage.ExitValid},
		{"padding step claiming no progress", ts, 64, 64, preimage.ExitInvalid},
		{"consolidation: next super root", ts, interop.ConsolidateStep, interop.StepsPerTimestamp, preimage.ExitValid},
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
	out = append(out, InteropDispute{"consolidation: wrong super root", ts, interop.ConsolidateStep, wrong.Root(), preimage.ExitInvalid})

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
		if err := add(fmt.Sprintf("consolidation replaces chain %d block %d", r.Chain, r.Block), t, interop.ConsolidateStep, interop.StepsPerTimestamp, preimage.ExitValid); err != nil {
			return nil, err
		}
		out = append(out, InteropDispute{fmt.Sprintf("consolidation keeping chain %d block %d (invalid message)", r.Chain, r.Block), t, interop.ConsolidateStep, kept.Root(), preimage.ExitInvalid})
		break
	}
	// The trace extension: at the game timestamp the state no longer changes.
	if err := add("at the game timestamp (trace extension)", last, 0, 0, preimage.ExitValid); err != nil {
		return nil, err
	}
	return out, nil
}

// RunInterop is the interop demo: it builds the interop devnet o.Devnet (o.Devnet.Interop set) and
// settles InteropDisputes with o.Program (the interop program) and, with o.VM, inside the VM on the
// prestate o.BuildPrestate builds (the interop program's). o.Then is not used. It fails with
// ErrUnexpectedVerdict if any verdict is not the expected one, after printing the table.
func RunInterop(ctx context.Context, o Options) error {
	start := time.Now()
	fmt.Fprintf(o.Stderr, "Building the interop devnet (configuration %s)...\n", o.ConfigName)
	x, err := devnet.NewInterop(o.Devnet)
	if err != nil {
		return fmt.Errorf("devnet: %w", err)
	}
	values := x.Preimages()
	fmt.Fprintf(o.Stderr, "Devnet ready in %s: %d chains, %d L1 blocks, %d L2 blocks each, %d blocks replaced by consolidation, %d preimages\n",
		time.Since(start).Round(time.Millisecond), len(x.Chains()), x.L1Head().NumberU64()+1, x.Chains()[0].L2Head().NumberU64()+1,
		len(x.Replacements()), len(values))
	disputes, err := InteropDisputes(x)
	if err != nil {
		return err
	}
	t := &table{
		header:       "DISPUTE\tTIMESTAMP\tSTEP\tEXPECTED",
		program:      "the interop program",
		preimages:    values,
		writeConfigs: func(dir string) error { return WriteInteropConfigs(dir, x) },
		replayArgs:   func(dir string, cfg *host.Config) []string { return InteropReplayArgs(dir, x, cfg) },
	}
	for _, dp := range disputes {
		cfg, err := InteropHostConfig(x, dp)
		if err != nil {
			return err
		}
		t.rows = append(t.rows, row{
			name:  dp.Name,
			cells: fmt.Sprintf("%s\t+%d\t%d\t%s", dp.Name, dp.T-x.GenesisTime(), dp.Step, Verdict(dp.Want)),
			cfg:   cfg,
			want:  dp.Want,
		})
	}
	allAsExpected, err := t.settle(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Stdout, "\n%d super-root disputes in %s (timestamps from genesis at %d).\n", len(disputes), time.Since(start).Round(time.Millisecond), x.GenesisTime())
	if err := t.writeReplay(o); err != nil {
		return err
	}
	if !allAsExpected {
		return ErrUnexpectedVerdict
	}
	return nil
}

// InteropHostConfig is the host configuration of a super-root dispute on the devnet: the game timestamp
// is the devnet's last.
func InteropHostConfig(x *devnet.Interop, dp InteropDispute) (*host.Config, error) {
	agreed, err := x.State(dp.T, dp.Step)
	if err != nil {
		return nil, err
	}
	ic := &host.InteropConfig{AgreedPrestate: agreed, DepSet: x.DependencySet()}
	for _, d := range x.Chains() {
		ic.Chains = append(ic.Chains, &rollup.ChainConfigs{Rollup: d.Rollup(), L2: d.L2ChainConfig(), L1: d.L1ChainConfig()})
	}
	return &host.Config{Interop: ic, L1Head: x.L1Head().Hash(), L2Claim: dp.Claim, L2ClaimBlockNumber: x.LastTime()}, nil
}

// WriteInteropConfigs writes each chain's rollup-<ID>.json and genesis-l2-<ID>.json, the L1 genesis
// (genesis-l1.json) and the dependency set (depset.json) into dir, as InteropConfigArgs names them.
func WriteInteropConfigs(dir string, x *devnet.Interop) error {
	files := map[string]any{"genesis-l1.json": map[string]any{"config": x.Chains()[0].L1ChainConfig()}, "depset.json": x.DependencySet()}
	for _, d := range x.Chains() {
		id := d.Rollup().ChainID()
		files[fmt.Sprintf("rollup-%d.json", id)] = d.Rollup()
		files[fmt.Sprintf("genesis-l2-%d.json", id)] = map[string]any{"config": d.L2ChainConfig()}
	}
	return writeJSONFiles(dir, files)
}

// InteropConfigArgs are the chain config flags of WriteInteropConfigs' files in dir.
func InteropConfigArgs(dir string, x *devnet.Interop) []string {
	var rollups, genesis []string
	for _, d := range x.Chains() {
		id := d.Rollup().ChainID()
		rollups = append(rollups, filepath.Join(dir, fmt.Sprintf("rollup-%d.json", id)))
		genesis = append(genesis, filepath.Join(dir, fmt.Sprintf("genesis-l2-%d.json", id)))
	}
	return []string{"--rollup.config", strings.Join(rollups, ","), "--l2.genesis", strings.Join(genesis, ","),
		"--l1.chainconfig", filepath.Join(dir, "genesis-l1.json"), "--depset.config", filepath.Join(dir, "depset.json")}
}

// InteropReplayArgs are the 'faultproof run' arguments (op-program's interop flags) that decide the
// super-root dispute of cfg from the datadir dir (the configs written by WriteInteropConfigs, the
// preimages in dir/preimages).
func InteropReplayArgs(dir string, x *devnet.Interop, cfg *host.Config) []string {
	args := append([]string{"run"}, InteropConfigArgs(dir, x)...)
	return append(args, "--datadir", filepath.Join(dir, "preimages"), "--l1.head", cfg.L1Head.Hex(),
		"--l2.agreed-prestate", hexutil.Encode(cfg.Interop.AgreedPrestate), "--l2.claim", cfg.L2Claim.Hex(),
		"--l2.blocknumber", fmt.Sprint(cfg.L2ClaimBlockNumber))
}

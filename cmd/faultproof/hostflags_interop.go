package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/inprocess"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/rollup"
)

// op-program's interop flags: an agreed prestate makes the claim a super-root claim.
var (
	l2AgreedPrestateFlag = &cli.StringFlag{Name: "l2.agreed-prestate", Usage: "Interop: the agreed prestate, hex-encoded (a super root or a transition state); --l2.claim is then the claimed next state and --l2.blocknumber the game timestamp", EnvVars: env("L2_AGREED_PRESTATE")}
	depsetConfigFlag     = &cli.StringFlag{Name: "depset.config", Usage: "Interop: dependency set file (JSON, op-supervisor's static format)", EnvVars: env("DEPSET_CONFIG"), TakesFile: true}
)

// splitList splits a flag's value at commas, as op-program's list flags read "a,b".
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// interopConfigFromCLI builds an interop claim's host configuration: --l1.head, --l2.claim,
// --l2.blocknumber (the game timestamp), --l2.agreed-prestate, --depset.config, and each chain's configs
// from --network a,b or --rollup.config a,b with --l2.genesis a,b (--l1.chainconfig for another L1).
func interopConfigFromCLI(ctx *cli.Context, cfg *host.Config) error {
	for _, f := range []string{l2HeadFlag.Name, l2OutputRootFlag.Name, l2CustomFlag.Name} {
		if ctx.IsSet(f) {
			return fmt.Errorf("--%s is not used with --%s (an interop claim starts from the agreed prestate)", f, l2AgreedPrestateFlag.Name)
		}
	}
	var err error
	if cfg.L1Head, err = parseNonZeroHash(l1HeadFlag.Name, ctx.String(l1HeadFlag.Name), host.ErrInvalidL1Head); err != nil {
		return err
	}
	if cfg.L2Claim, err = parseHash(l2ClaimFlag.Name, ctx.String(l2ClaimFlag.Name)); err != nil {
		return err
	}
	if !ctx.IsSet(l2BlockNumFlag.Name) {
		return fmt.Errorf("--%s is required (the game timestamp of an interop claim)", l2BlockNumFlag.Name)
	}
	cfg.L2ClaimBlockNumber = ctx.Uint64(l2BlockNumFlag.Name)
	ic := &host.InteropConfig{}
	raw := strings.TrimSpace(ctx.String(l2AgreedPrestateFlag.Name))
	if !strings.HasPrefix(raw, "0x") {
		raw = "0x" + raw
	}
	if ic.AgreedPrestate, err = hexutil.Decode(raw); err != nil || len(ic.AgreedPrestate) == 0 {
		return fmt.Errorf("--%s: not hex-encoded bytes", l2AgreedPrestateFlag.Name)
	}
	pre, err := ic.Prestate()
	if err != nil {
		return fmt.Errorf("--%s: %w", l2AgreedPrestateFlag.Name, err)
	}
	path := ctx.String(depsetConfigFlag.Name)
	if path == "" {
		return fmt.Errorf("--%s is required with --%s", depsetConfigFlag.Name, l2AgreedPrestateFlag.Name)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--%s: %w", depsetConfigFlag.Name, err)
	}
	if ic.DepSet, err = interop.ParseDependencySet(data); err != nil {
		return fmt.Errorf("--%s %s: %w", depsetConfigFlag.Name, path, err)
	}
	if ic.Chains, err = interopChainConfigs(ctx); err != nil {
		return err
	}
	if pre != nil {
		ids := pre.Super.ChainIDs()
		if len(ids) != len(ic.Chains) {
			return fmt.Errorf("the agreed prestate has %d chains %v, but %d chains' configs are given", len(ids), ids, len(ic.Chains))
		}
	}
	ic.Rebuild = inprocess.RebuildOptimisticBlock
	cfg.Interop = ic
	return cfg.Check()
}

// interopChainConfigs loads each chain's configs, sorted by chain ID as super roots are.
func interopChainConfigs(ctx *cli.Context) ([]*rollup.ChainConfigs, error) {
	networks := splitList(ctx.String(networkFlag.Name))
	rollups, genesis := splitList(ctx.String(rollupConfigFlag.Name)), splitList(ctx.String(l2GenesisFlag.Name))
	var out []*rollup.ChainConfigs
	for _, n := range networks {
		id, err := rollup.ResolveNetwork(n)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", networkFlag.Name, err)
		}
		c, err := rollup.KnownChain(id)
		if err != nil {
			return nil, fmt.Errorf("--%s %s: %w", networkFlag.Name, n, err)
		}
		out = append(out, c)
	}
	if len(rollups) != len(genesis) {
		return nil, fmt.Errorf("--%s names %d files, --%s %d: give one of each per chain", rollupConfigFlag.Name, len(rollups), l2GenesisFlag.Name, len(genesis))
	}
	for i := range rollups {
		r, err := rollup.LoadConfig(rollups[i])
		if err != nil {
			return nil, err
		}
		l2, err := rollup.LoadChainConfig(genesis[i])
		if err != nil {
			return nil, err
		}
		c := &rollup.ChainConfigs{Rollup: r, L2: l2}
		if path := ctx.String(l1ChainConfigFlag.Name); path != "" {
			c.L1, err = rollup.LoadChainConfig(path)
		} else {
			c.L1, err = rollup.L1ChainConfig(r.L1ChainID.Uint64())
		}
		if err != nil {
			return nil, fmt.Errorf("chain %d: l1 chain config: %w", r.ChainID(), err)
		}
		if err := c.Check(); err != nil {
			return nil, fmt.Errorf("chain %d: %w", r.ChainID(), err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("an interop claim needs each chain's configs: --%s a,b or --%s a,b with --%s a,b", networkFlag.Name, rollupConfigFlag.Name, l2GenesisFlag.Name)
	}
	slices.SortFunc(out, func(a, b *rollup.ChainConfigs) int { return a.Rollup.L2ChainID.Cmp(b.Rollup.L2ChainID) })
	for i := 1; i < len(out); i++ {
		if out[i].Rollup.ChainID() == out[i-1].Rollup.ChainID() {
			return nil, fmt.Errorf("chain %d is given twice", out[i].Rollup.ChainID())
		}
	}
	return out, nil
}

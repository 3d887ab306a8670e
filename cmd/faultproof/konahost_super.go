package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/log"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/inprocess"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/rollup"
)

// kona-host super's own flags (kona's InteropHost); the node, data and L1 config flags are single's.
var (
	konaPreStateFlag  = &cli.StringFlag{Name: "agreed-l2-pre-state", Aliases: []string{"l2-pre-state"}, Usage: "Agreed prestate, hex-encoded (a super root or a transition state)", EnvVars: []string{"AGREED_L2_PRE_STATE"}}
	konaPostStateFlag = &cli.StringFlag{Name: "claimed-l2-post-state", Aliases: []string{"l2-claim"}, Usage: "Claimed hash of the state one step after the agreed prestate", EnvVars: []string{"CLAIMED_L2_POST_STATE"}}
	konaTimestampFlag = &cli.Uint64Flag{Name: "claimed-l2-timestamp", Aliases: []string{"l2-timestamp"}, Usage: "The game timestamp: the claimed state's timestamp", EnvVars: []string{"CLAIMED_L2_TIMESTAMP"}}
	konaL2NodesFlag   = &cli.StringSliceFlag{Name: "l2-node-addresses", Aliases: []string{"l2s"}, Usage: "L2 RPC URLs (eth and debug namespaces), one per chain, comma-separated; needs --l1-node-address and --l1-beacon-address", EnvVars: []string{"L2_NODE_ADDRESSES"}}
	konaRollupsFlag   = &cli.StringSliceFlag{Name: "rollup-config-paths", Aliases: []string{"rollup-cfgs"}, Usage: "Rollup config files of chains not in the embedded registry, comma-separated; their L2 chain configs follow from them as in kona", EnvVars: []string{"ROLLUP_CONFIG_PATHS"}, TakesFile: true}
	konaDepSetFlag    = &cli.StringFlag{Name: "dependency-set-path", Aliases: []string{"depset-cfg"}, Usage: "Dependency set file (JSON); required when a chain schedules Lagoon", EnvVars: []string{"DEPENDENCY_SET_PATH"}, TakesFile: true}
)

var konaSuperFlags = append([]cli.Flag{
	konaL1HeadFlag, konaPreStateFlag, konaPostStateFlag, konaTimestampFlag,
	konaL2NodesFlag, konaL1NodeFlag, konaBeaconFlag, konaDataDirFlag, konaDataFormatFlag,
	konaNativeFlag, konaServerFlag, konaRollupsFlag, konaL1ConfigFlag, konaDepSetFlag,
}, konaLogFlags...)

// runKonaSuper is kona-host super: our host, configured from kona's flags, serving our interop program to a
// VM (--server) or running it in process (--native).
func runKonaSuper(ctx *cli.Context) error {
	if ctx.NArg() > 0 {
		return fmt.Errorf("%w: %v", errNoArgs, ctx.Args().Slice())
	}
	cfg, err := konaSuperConfig(ctx)
	if err != nil {
		return err
	}
	h := host.New(log.Root(), cfg, inprocess.InteropProgram)
	h.NewPrefetcher = host.NewOnlinePrefetcher
	return runHostWithMetrics(ctx, h)
}

// konaSuperConfig checks kona's rules for the super command's flags and builds our host's configuration of
// the super-root claim.
func konaSuperConfig(ctx *cli.Context) (*host.Config, error) {
	native, server := ctx.Bool(konaNativeFlag.Name), ctx.Bool(konaServerFlag.Name)
	if native == server {
		return nil, fmt.Errorf("exactly one of --%s and --%s is required", konaNativeFlag.Name, konaServerFlag.Name)
	}
	l2s := splitList(strings.Join(ctx.StringSlice(konaL2NodesFlag.Name), ","))
	online := len(slices.DeleteFunc([]string{ctx.String(konaL1NodeFlag.Name), strings.Join(l2s, ","), ctx.String(konaBeaconFlag.Name)},
		func(s string) bool { return s == "" }))
	if online != 0 && online != 3 {
		return nil, fmt.Errorf("--%s, --%s and --%s must be given together", konaL1NodeFlag.Name, konaL2NodesFlag.Name, konaBeaconFlag.Name)
	}
	if online == 0 && ctx.String(konaDataDirFlag.Name) == "" {
		return nil, fmt.Errorf("--%s is required unless --%s, --%s and --%s are given", konaDataDirFlag.Name, konaL1NodeFlag.Name, konaL2NodesFlag.Name, konaBeaconFlag.Name)
	}
	cfg := &host.Config{
		DataDir:     ctx.String(konaDataDirFlag.Name),
		L1URL:       ctx.String(konaL1NodeFlag.Name),
		L1BeaconURL: ctx.String(konaBeaconFlag.Name),
		L2URLs:      l2s,
		L1RPCKind:   "standard",
		ServerMode:  server,
	}
	var err error
	if cfg.DataFormat, err = kvstore.ParseFormat(ctx.String(konaDataFormatFlag.Name)); err != nil {
		return nil, fmt.Errorf("--%s: %w", konaDataFormatFlag.Name, err)
	}
	if cfg.L1Head, err = parseNonZeroHash(konaL1HeadFlag.Name, ctx.String(konaL1HeadFlag.Name), host.ErrInvalidL1Head); err != nil {
		return nil, err
	}
	if cfg.L2Claim, err = parseHash(konaPostStateFlag.Name, ctx.String(konaPostStateFlag.Name)); err != nil {
		return nil, err
	}
	if !ctx.IsSet(konaTimestampFlag.Name) {
		return nil, fmt.Errorf("--%s is required", konaTimestampFlag.Name)
	}
	cfg.L2ClaimBlockNumber = ctx.Uint64(konaTimestampFlag.Name)
	ic := &host.InteropConfig{Rebuild: inprocess.RebuildOptimisticBlock}
	raw := strings.TrimSpace(ctx.String(konaPreStateFlag.Name))
	if !strings.HasPrefix(raw, "0x") {
		raw = "0x" + raw
	}
	if ic.AgreedPrestate, err = hexutil.Decode(raw); err != nil || len(ic.AgreedPrestate) == 0 {
		return nil, fmt.Errorf("--%s: not hex-encoded bytes", konaPreStateFlag.Name)
	}
	pre, err := ic.Prestate()
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", konaPreStateFlag.Name, err)
	}
	if ic.Chains, err = konaSuperChains(ctx, pre); err != nil {
		return nil, err
	}
	if ic.DepSet, err = konaDependencySet(ctx, ic.Chains); err != nil {
		return nil, err
	}
	cfg.Interop = ic
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// konaSuperChains are the configs of the prestate's chains, in chain ID order: from --rollup-config-paths
// (the L2 chain config from the registry for a chain it has, else as kona derives it from the rollup
// config), else from the embedded registry. With the InvalidTransition prestate (no chains) they are the
// files' chains.
func konaSuperChains(ctx *cli.Context, pre *interop.PreState) ([]*rollup.ChainConfigs, error) {
	given := map[uint64]*rollup.Config{}
	var givenIDs []uint64
	for _, path := range splitList(strings.Join(ctx.StringSlice(konaRollupsFlag.Name), ",")) {
		c, err := rollup.LoadConfig(path)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", konaRollupsFlag.Name, err)
		}
		id := c.ChainID()
		if _, dup := given[id]; dup {
			return nil, fmt.Errorf("--%s: chain %d is given twice", konaRollupsFlag.Name, id)
		}
		given[id] = c
		givenIDs = append(givenIDs, id)
	}
	ids := slices.Sorted(slices.Values(givenIDs))
	if pre != nil {
		ids = pre.Super.ChainIDs()
		for _, id := range givenIDs {
			if !slices.Contains(ids, id) {
				return nil, fmt.Errorf("--%s has chain %d, which is not in the agreed prestate (chains %v)", konaRollupsFlag.Name, id, ids)
			}
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no chains: the agreed prestate is InvalidTransition and no --%s are given", konaRollupsFlag.Name)
	}
	var l1 *rollup.ChainConfigs // for the L1 config of --l1-config-path
	if path := ctx.String(konaL1ConfigFlag.Name); path != "" {
		c, err := rollup.LoadChainConfig(path)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", konaL1ConfigFlag.Name, err)
		}
		l1 = &rollup.ChainConfigs{L1: c}
	}
	var out []*rollup.ChainConfigs
	for _, id := range ids {
		c := &rollup.ChainConfigs{}
		if r, ok := given[id]; ok {
			c.Rollup = r
			if n, _, l2, err := rollup.RegistryChain(id); err == nil {
				if n.Unsupported != "" {
					return nil, fmt.Errorf("%w %s (chain %d): %s", rollup.ErrUnsupportedChain, n.Name, id, n.Unsupported)
				}
				c.L2 = l2
			} else {
				c.L2 = rollup.ChainConfigFromRollup(r)
			}
		} else {
			known, err := rollup.KnownChain(id)
			if err != nil {
				return nil, fmt.Errorf("chain %d of the agreed prestate: %w (give its rollup config with --%s)", id, err, konaRollupsFlag.Name)
			}
			c.Rollup, c.L2, c.L1 = known.Rollup, known.L2, known.L1
		}
		var err error
		switch {
		case l1 != nil:
			c.L1 = l1.L1
		case c.L1 == nil:
			if c.L1, err = rollup.L1ChainConfig(c.Rollup.L1ChainID.Uint64()); err != nil {
				return nil, fmt.Errorf("chain %d: %w (give --%s)", id, err, konaL1ConfigFlag.Name)
			}
		}
		if err := c.Check(); err != nil {
			return nil, fmt.Errorf("chain %d: %w", id, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// konaDependencySet reads --dependency-set-path. Without it, kona refuses chains that schedule Lagoon and
// otherwise serves an empty set; our program checks the set covers the prestate's chains, and before
// Lagoon the set decides nothing, so it is the set of exactly those chains.
func konaDependencySet(ctx *cli.Context, chains []*rollup.ChainConfigs) (*interop.DependencySet, error) {
	if path := ctx.String(konaDepSetFlag.Name); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", konaDepSetFlag.Name, err)
		}
		ds, err := interop.ParseDependencySet(data)
		if err != nil {
			return nil, fmt.Errorf("--%s %s: %w", konaDepSetFlag.Name, path, err)
		}
		return ds, nil
	}
	var ids []uint64
	for _, c := range chains {
		if t := c.Rollup.LagoonTime; t != nil {
			return nil, fmt.Errorf("chain %d schedules Lagoon (at %d), but no --%s (--depset-cfg) is given", c.Rollup.ChainID(), *t, konaDepSetFlag.Name)
		}
		ids = append(ids, c.Rollup.ChainID())
	}
	log.Info("No dependency set given and no chain schedules Lagoon: the prestate's chains make it", "chains", ids)
	return interop.NewDependencySet(ids, 0)
}

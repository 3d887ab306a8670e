package main

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// parseHostFlags runs hostConfigFromCLI on args (plus the boot flags and a datadir).
func parseHostFlags(t *testing.T, args ...string) (*host.Config, error) {
	var cfg *host.Config
	app := &cli.App{Flags: hostFlags, ExitErrHandler: func(*cli.Context, error) {}, Action: func(ctx *cli.Context) error {
		var err error
		cfg, err = hostConfigFromCLI(ctx)
		return err
	}}
	args = append([]string{"host", "--datadir", t.TempDir(), "--l1.head", l1Head, "--l2.head", l2Head,
		"--l2.outputroot", outputRoot, "--l2.claim", claim, "--l2.blocknumber", "5"}, args...)
	return cfg, app.Run(args)
}

// announced is what the host serves as the chain ID (local key 5), and whether it serves the chain
// configs (local keys 6, 7 and 9).
func announced(t *testing.T, cfg *host.Config) (uint64, bool) {
	src, err := host.NewLocalSource(cfg)
	require.NoError(t, err)
	id, err := src.Get(preimage.L2ChainIDLocalIndex.PreimageKey())
	require.NoError(t, err)
	served := 0
	for _, k := range []preimage.LocalIndexKey{preimage.L2ChainConfigLocalIndex, preimage.RollupConfigLocalIndex, preimage.L1ChainConfigLocalIndex} {
		if _, err := src.Get(k.PreimageKey()); err == nil {
			served++
		} else {
			require.ErrorContains(t, err, "--l1.chainconfig")
		}
	}
	require.Contains(t, []int{0, 3}, served, "all three chain configs or none")
	return binary.BigEndian.Uint64(id), served == 3
}

// TestHostAnnouncesTheRealChainID follows op-program: the custom-chain indicator only with --l2.custom;
// the chain configs are served whenever the host has them, for a program that does not know the chain.
func TestHostAnnouncesTheRealChainID(t *testing.T) {
	b := testL2Chain(t)
	dir := t.TempDir()
	devRollup := writeJSONFile(t, filepath.Join(dir, "rollup.json"), b.Rollup())
	devGenesis := writeJSONFile(t, filepath.Join(dir, "genesis.json"), map[string]any{"config": b.Config()})
	devL1 := writeJSONFile(t, filepath.Join(dir, "l1.json"), devnet.L1ChainConfig())
	devID := b.Rollup().ChainID()
	sepRollup, sepL2, err := rollup.FromRegistry(11155420)
	require.NoError(t, err)
	sepRollupFile := writeJSONFile(t, filepath.Join(dir, "op-sepolia.json"), sepRollup)
	sepGenesis := writeJSONFile(t, filepath.Join(dir, "op-sepolia-genesis.json"), map[string]any{"config": sepL2})
	_, bobaRollup, bobaL2, err := rollup.RegistryChain(28882)
	require.NoError(t, err)
	bobaRollupFile := writeJSONFile(t, filepath.Join(dir, "boba.json"), bobaRollup)
	bobaGenesis := writeJSONFile(t, filepath.Join(dir, "boba-genesis.json"), map[string]any{"config": bobaL2})

	for _, tc := range []struct {
		name   string
		args   []string
		wantID uint64
		served bool
		err    string
	}{
		{"custom chain: its own chain ID, configs served", []string{"--rollup.config", devRollup, "--l2.genesis", devGenesis, "--l1.chainconfig", devL1}, devID, true, ""},
		{"custom chain with --l2.custom: the indicator", []string{"--rollup.config", devRollup, "--l2.genesis", devGenesis, "--l1.chainconfig", devL1, "--l2.custom"}, preimage.CustomChainIDIndicator, true, ""},
		{"custom chain on an unknown L1, no L1 config: nothing to serve", []string{"--rollup.config", devRollup, "--l2.genesis", devGenesis}, devID, false, ""},
		{"--l2.custom needs the L1 config", []string{"--rollup.config", devRollup, "--l2.genesis", devGenesis, "--l2.custom"}, 0, false, "supply it with --l1.chainconfig"},
		{"registry chain from files", []string{"--rollup.config", sepRollupFile, "--l2.genesis", sepGenesis}, 11155420, true, ""},
		{"registry chain by name", []string{"--network", "op-sepolia"}, 11155420, false, ""},
		{"unsupported registry chain by name", []string{"--network", "boba-sepolia"}, 0, false, "unsupported chain boba-sepolia (chain 28882): the registry's fork schedule is out of date"},
		{"unsupported registry chain from files", []string{"--rollup.config", bobaRollupFile, "--l2.genesis", bobaGenesis}, 0, false, "--l2.custom runs it with these files"},
		{"unsupported registry chain from files, off chain", []string{"--rollup.config", bobaRollupFile, "--l2.genesis", bobaGenesis, "--l2.custom"}, preimage.CustomChainIDIndicator, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseHostFlags(t, tc.args...)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			id, served := announced(t, cfg)
			require.Equal(t, tc.wantID, id)
			require.Equal(t, tc.served, served)
		})
	}
}

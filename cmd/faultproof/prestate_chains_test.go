package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/rollup"
)

// devnetChainFiles writes the devnet chain's rollup config, L2 genesis and L1 genesis.
func devnetChainFiles(t *testing.T) (rollupFile, genesisFile, l1File string) {
	b := testL2Chain(t)
	dir := t.TempDir()
	return writeJSONFile(t, filepath.Join(dir, "rollup.json"), b.Rollup()),
		writeJSONFile(t, filepath.Join(dir, "genesis.json"), map[string]any{"config": b.Config(), "alloc": map[string]any{}}),
		writeJSONFile(t, filepath.Join(dir, "l1.json"), map[string]any{"config": devnet.L1ChainConfig()})
}

func checkoutRegistry(t *testing.T) *sourceRegistry {
	reg, err := readSourceRegistry("../..")
	require.NoError(t, err)
	require.Equal(t, rollup.RegistryVersion, reg.version)
	require.Len(t, reg.chains, len(rollup.Networks()))
	return reg
}

func TestLoadCustomChainsChecks(t *testing.T) {
	reg := checkoutRegistry(t)
	rollupFile, genesisFile, l1File := devnetChainFiles(t)
	dir := t.TempDir()
	sepRollup, sepL2, err := rollup.FromRegistry(11155420)
	require.NoError(t, err)
	sepRollupFile := writeJSONFile(t, filepath.Join(dir, "op-sepolia.json"), sepRollup)
	sepGenesis := writeJSONFile(t, filepath.Join(dir, "op-sepolia-genesis.json"), map[string]any{"config": sepL2})
	broken := filepath.Join(dir, "broken.json")
	require.NoError(t, os.WriteFile(broken, []byte("{"), 0o644))
	one := rollupFile + "," + genesisFile + "," + l1File

	chains, err := loadCustomChains([]string{one}, reg)
	require.NoError(t, err)
	require.Len(t, chains, 1)
	require.Equal(t, testL2Chain(t).Rollup().ChainID(), chains[0].chainID())
	require.NotEmpty(t, chains[0].l1JSON, "a custom L1's config is embedded")

	for _, tc := range []struct {
		name  string
		specs []string
		err   string
	}{
		{"one file", []string{rollupFile}, "want ROLLUP.json,GENESIS.json[,L1GENESIS.json]"},
		{"four files", []string{one + "," + l1File}, "want ROLLUP.json,GENESIS.json"},
		{"empty name", []string{rollupFile + ",," + l1File}, "empty file name"},
		{"rollup config does not parse", []string{broken + "," + genesisFile + "," + l1File}, "decode rollup config"},
		{"genesis does not parse", []string{rollupFile + "," + broken + "," + l1File}, "decode chain config"},
		{"genesis of another chain", []string{rollupFile + "," + sepGenesis + "," + l1File}, "l2 chain config is for chain 11155420, rollup config for chain 901"},
		{"L1 genesis of another chain", []string{rollupFile + "," + genesisFile + "," + genesisFile}, "l1 chain config is for chain 901, rollup config's L1 is chain 900"},
		{"custom L1 without its genesis", []string{rollupFile + "," + genesisFile}, "give its genesis as a third file"},
		{"the same chain twice", []string{one, one}, "chain 901 is already given"},
		{"a registry chain", []string{sepRollupFile + "," + sepGenesis}, "chain 11155420 is op-sepolia of the chain registry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadCustomChains(tc.specs, reg)
			require.ErrorContains(t, err, tc.err)
		})
	}
}

// TestPrestateFlagErrors: bad --chain-config values stop 'prestate' with a one-line error and exit 2,
// before anything is built.
func TestPrestateFlagErrors(t *testing.T) {
	rollupFile, genesisFile, _ := devnetChainFiles(t)
	_, stderr, code := runCLI(t, "prestate", "--out", t.TempDir(), "--src", "../..", "--chain-config", rollupFile+","+genesisFile)
	require.Equal(t, 2, code, stderr)
	require.Contains(t, lastError(stderr), "give its genesis as a third file")
}

// devnetHostArgsNoL1Config are the devnet claim's host flags without --l1.chainconfig: the devnet's L1 is
// not a well-known one, so the host cannot serve local keys 6, 7 and 9.
func devnetHostArgsNoL1Config(t *testing.T, claim common.Hash) []string {
	var args []string
	all := devnetHostArgs(t, testL2Chain(t), 14, claim, 11)
	for i := 0; i < len(all); i++ {
		if all[i] == "--l1.chainconfig" {
			i++
			continue
		}
		args = append(args, all[i])
	}
	return args
}

func devnetRightClaim(t *testing.T) common.Hash {
	b := testL2Chain(t)
	st, err := b.StateAt(b.Block(11).Root())
	require.NoError(t, err)
	return (&l2.Output{StateRoot: b.Block(11).Root(), MessagePasserStorageRoot: st.GetStorageRoot(params.OptimismL2ToL1MessagePasser), BlockHash: b.Block(11).Hash()}).Root()
}

// TestCustomChainBuiltIn builds the program natively with the devnet chain built in (the overlay that
// 'prestate --chain-config' uses) and decides claims on it with a host that has no L1 chain config for
// the devnet's L1, so it cannot serve local keys 6, 7 and 9: the program finds the chain by chain ID. The
// program built from the plain source tree cannot decide the same claims.
func TestCustomChainBuiltIn(t *testing.T) {
	rollupFile, genesisFile, l1File := devnetChainFiles(t)
	chains, err := loadCustomChains([]string{rollupFile + "," + genesisFile + "," + l1File}, checkoutRegistry(t))
	require.NoError(t, err)
	dir := t.TempDir()
	overlay, err := writeBuiltInChainsOverlay("../..", dir, chains)
	require.NoError(t, err)
	builtIn := filepath.Join(dir, "fpp-client")
	out, err := exec.Command("go", "build", "-overlay", overlay, "-o", builtIn, "github.com/faultproof/faultproof/cmd/fpp-client").CombinedOutput()
	require.NoError(t, err, "%s", out)
	plain := buildProgram(t)
	right := devnetRightClaim(t)
	hostArgs := func(claim common.Hash) []string { return devnetHostArgsNoL1Config(t, claim) }
	for _, tc := range []struct {
		name  string
		claim common.Hash
		code  int
	}{{"valid claim", right, 0}, {"invalid claim", common.Hash{0xba, 0xd}, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, append(hostArgs(tc.claim), "--exec", builtIn)...)
			require.Equal(t, tc.code, code, stderr)
			require.NotContains(t, stderr, "local keys 6, 7, 9")
		})
	}
	t.Run("the plain program does not know the chain", func(t *testing.T) {
		_, stderr, code := runCLI(t, append(hostArgs(right), "--exec", plain)...)
		require.Equal(t, 2, code, stderr)
		require.Contains(t, stderr, "unknown local key 6 (l2-chain-config)", "the program asked for the configs")
		require.Contains(t, stderr, "unknown local key 6")
	})
}

// TestCustomChainPrestateInsideTheVM builds the prestate with the devnet chain built in and decides a
// claim inside the VM, with a host that cannot serve local keys 6, 7 and 9 (about a minute):
// FAULTPROOF_E2E=full.
func TestCustomChainPrestateInsideTheVM(t *testing.T) {
	if os.Getenv("FAULTPROOF_E2E") != "full" {
		t.Skip("set FAULTPROOF_E2E=full to build the mips64 program with a custom chain and run it in the VM")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	rollupFile, genesisFile, l1File := devnetChainFiles(t)
	pre := t.TempDir()
	stdout, stderr, code := runCLI(t, "prestate", "--out", pre, "--src", "../..", "--chain-config", rollupFile+","+genesisFile+","+l1File)
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `^0x03[0-9a-f]{62}\n$`, stdout)
	require.Contains(t, stderr, "Chain registry: "+rollup.RegistryVersion)
	require.Contains(t, stderr, "Custom chain built in: 901 (L1 chain 900)")
	require.FileExists(t, filepath.Join(pre, "builtin_chains.go"))

	final := filepath.Join(t.TempDir(), "final.bin.gz")
	args := []string{"vm", "run", "--input", filepath.Join(pre, "prestate.bin.gz"), "--meta", filepath.Join(pre, "meta.json"),
		"--output", final, "--", exe}
	args = append(args, devnetHostArgsNoL1Config(t, devnetRightClaim(t))...)
	_, stderr, code = runCLI(t, append(args, "--server")...)
	require.Equal(t, 0, code, stderr)
	out, _, code := runCLI(t, "vm", "witness", "--input", final)
	require.Equal(t, 0, code)
	var w struct {
		Exited   bool  `json:"exited"`
		ExitCode uint8 `json:"exitCode"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &w))
	require.True(t, w.Exited)
	require.Equal(t, 0, int(w.ExitCode), "the valid claim is valid inside the VM")
	require.False(t, strings.Contains(stderr, "unknown local key"))
}

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

func TestDevnetConfigsList(t *testing.T) {
	stdout, stderr, code := runCLI(t, "devnet", "configs")
	require.Equal(t, 0, code, stderr)
	for _, n := range devnet.Configurations() {
		require.Contains(t, stdout, n.Name)
		require.Contains(t, stdout, n.Doc)
	}
	require.Contains(t, stdout, devnet.FormatForks(devnet.DevnetForkHeights))
}

// TestDevnetServeVariations serves a devnet picked by --config and changed by the other devnet flags,
// and checks the chain it serves and the rollup config it writes.
func TestDevnetServeVariations(t *testing.T) {
	dir := t.TempDir()
	cmd := faultproofCmd(t, "devnet", "serve", "--dir", dir, "--config", "all-genesis", "--l2.blocks", "14",
		"--forks", "holocene@7", "--batches", "singular", "--da", "calldata", "--channels", "2", "--tx-seed", "3",
		"--fault", "wrong-parent@9")
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	require.NoError(t, cmd.Start())
	w.Close()
	exited := false
	t.Cleanup(func() {
		if !exited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	urls := readEndpoints(t, r, 2*time.Minute)

	cfg, err := rollup.LoadConfig(filepath.Join(dir, "rollup.json"))
	require.NoError(t, err)
	require.Equal(t, cfg.Genesis.L2Time, *cfg.GraniteTime, "Granite at genesis")
	require.Equal(t, cfg.Genesis.L2Time+7*cfg.BlockTime, *cfg.HoloceneTime, "Holocene at block 7")
	require.Nil(t, cfg.IsthmusTime, "no fork after the last one named")

	c, err := rpc.DialContext(context.Background(), urls["l2"])
	require.NoError(t, err)
	defer c.Close()
	var head hexutil.Uint64
	require.NoError(t, c.CallContext(context.Background(), &head, "eth_blockNumber"))
	require.EqualValues(t, 14, head)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err = waitTimeout(cmd, 30*time.Second)
	exited = true
	require.Equal(t, 0, exitCode(err), stderr.String())
	require.Contains(t, stderr.String(), "configuration all-genesis")
}

func TestDevnetFlagsBad(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		errText string
	}{
		{"unknown configuration", []string{"--config", "mainnet"}, `no devnet configuration "mainnet"`},
		{"bad fork schedule", []string{"--forks", "holocene"}, "--forks: fork schedule"},
		{"unknown fork", []string{"--forks", "bedrock@2"}, "unknown fork"},
		{"forks op-geth cannot build", []string{"--forks", "isthmus@4,jovian@4"}, "Isthmus and Jovian activate in the same block"},
		{"bad fault", []string{"--fault", "wrong-parent"}, "not <kind>@<block>"},
		{"unknown fault", []string{"--fault", "sideways@3"}, "unknown kind"},
		{"fault past the head", []string{"--l2.blocks", "8", "--fault", "withhold@9"}, "not a block of the devnet"},
		{"bad batch types", []string{"--batches", "both"}, `batch types "both"`},
		{"bad data availability", []string{"--da", "plasma"}, `data availability "plasma"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"devnet", "serve", "--dir", t.TempDir()}, tc.args...)
			_, stderr, code := runCLI(t, args...)
			require.Equal(t, preimage.ExitFailure, code, stderr)
			require.Contains(t, lastError(stderr), tc.errText)
		})
	}
}

// TestDemoFaultyBatcher: the demo settles disputes on a named configuration with a faulty batcher, with a
// dispute about the attacked block.
func TestDemoFaultyBatcher(t *testing.T) {
	stdout, stderr, code := runCLI(t, "demo", "--config", "alone-holocene", "--l2.blocks", "26", "--fault", "future-timestamp@15", "--fault", "span-overlap@21")
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `faulty batcher future-timestamp \(block 15\)\s+14\s+15\s+valid\s+valid`, stdout)
	require.Regexp(t, `faulty batcher span-overlap \(block 21\)\s+20\s+21\s+valid\s+valid`, stdout)
	require.Regexp(t, `across Holocene's activation \(block 13\)\s+10\s+15\s+valid\s+valid`, stdout)
	require.Regexp(t, `wrong output root\s+\d+\s+\d+\s+invalid\s+invalid`, stdout)
}

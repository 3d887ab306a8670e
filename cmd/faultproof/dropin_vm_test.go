package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/demo"
	"github.com/faultproof/faultproof/devnet"
)

// TestOpChallengerCommandLines runs op-challenger's exact command lines (op-challenger v1.19.6,
// trace/vm: the Executor's VM command with the op-program server executor's and the kona executor's host
// commands) with symlinks named cannon, op-program and kona-host, on one-block claims of the devnet served
// over RPC: the VM's final state must hold exit code 0 for the honest claim and 1 for a wrong one, and a run
// that asks for a proof at a step writes it there (checked by the MIPS64 contract).
func TestOpChallengerCommandLines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the mips64 program and runs claims in the VM")
	}
	pre := t.TempDir()
	_, stderr, code := runCLI(t, "prestate", "--out", pre, "--src", "../..")
	require.Equal(t, 0, code, stderr)
	prestate := filepath.Join(pre, "prestate.bin.gz")

	d, err := devnet.New(devnet.Config{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := devnet.Serve(ctx, d, "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { cancel(); srv.Close() })
	cfgDir := t.TempDir()
	rollupFile := writeJSONFile(t, filepath.Join(cfgDir, "rollup.json"), d.Rollup())
	l2Genesis := writeJSONFile(t, filepath.Join(cfgDir, "genesis-l2.json"), map[string]any{"config": d.L2ChainConfig()})
	l1Genesis := writeJSONFile(t, filepath.Join(cfgDir, "genesis-l1.json"), map[string]any{"config": d.L1ChainConfig()})

	exe, err := os.Executable()
	require.NoError(t, err)
	links := t.TempDir()
	for _, name := range []string{"cannon", "op-program", "kona-host"} {
		require.NoError(t, os.Symlink(exe, filepath.Join(links, name)))
	}
	cannon := filepath.Join(links, "cannon")

	const block = 47 // Holocene, its batch in a blob
	agreedHead, agreedRoot := d.L2Block(block-1).Hash(), d.OutputRoot(block-1)
	// The host commands, as op-challenger's OpProgramServerExecutor and KonaExecutor build them.
	hostCmd := func(kind, dataDir string, claim common.Hash) []string {
		if kind == "op-program" {
			return []string{filepath.Join(links, "op-program"), "--server",
				"--l1", srv.L1URL(), "--l1.beacon", srv.BeaconURL(), "--l2", srv.L2URL(), "--datadir", dataDir,
				"--l1.head", d.L1Head().Hash().Hex(), "--l2.claim", claim.Hex(), "--l2.blocknumber", strconv.Itoa(block),
				"--l2.head", agreedHead.Hex(), "--l2.outputroot", agreedRoot.Hex(),
				"--rollup.config", rollupFile, "--l2.genesis", l2Genesis, "--log.level", "INFO", "--l1.chainconfig", l1Genesis}
		}
		return []string{filepath.Join(links, "kona-host"), "single",
			"--l1-node-address", srv.L1URL(), "--l1-beacon-address", srv.BeaconURL(), "--l2-node-address", srv.L2URL(),
			"--l1-head", d.L1Head().Hash().Hex(), "--agreed-l2-head-hash", agreedHead.Hex(), "--agreed-l2-output-root", agreedRoot.Hex(),
			"--claimed-l2-output-root", claim.Hex(), "--claimed-l2-block-number", strconv.Itoa(block),
			"--server", "--data-dir", dataDir, "--rollup-config-path", rollupFile, "--l1-config-path", l1Genesis}
	}
	// The VM command, as op-challenger's Executor builds it for a proof at trace index end.
	vmCmd := func(dir string, end uint64, host []string) []string {
		args := []string{"run", "--input", prestate, "--output", filepath.Join(dir, "final.bin.gz"), "--meta", "",
			"--info-at", "%10000000", "--proof-at", "=" + strconv.FormatUint(end, 10), "--proof-fmt", filepath.Join(dir, "proofs", "%d.json.gz"),
			"--snapshot-at", "%1000000000", "--snapshot-fmt", filepath.Join(dir, "snapshots", "%d.bin.gz")}
		if end < math.MaxUint64 {
			args = append(args, "--stop-at", "="+strconv.FormatUint(end+1, 10))
		}
		args = append(args, "--debug-info", filepath.Join(dir, "preimages", "debug-info.json"), "--")
		return append(args, host...)
	}
	witness := func(state string) (w struct {
		Exited   bool   `json:"exited"`
		ExitCode uint8  `json:"exitCode"`
		Step     uint64 `json:"step"`
	}) {
		stdout, stderr, code := runNamed(t, cannon, "witness", "--input", state)
		require.Equal(t, 0, code, stderr)
		require.NoError(t, json.Unmarshal([]byte(stdout), &w))
		return w
	}

	honest := d.OutputRoot(block)
	wrong := honest
	wrong[31] ^= 1
	for _, kind := range []string{"op-program", "kona-host"} {
		for _, tc := range []struct {
			name  string
			claim common.Hash
			exit  uint8
		}{{"honest", honest, 0}, {"wrong", wrong, 1}} {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				dir := t.TempDir()
				const rootIndex = 1<<42 - 1 // the root claim's trace index in a game of depth 42
				_, stderr, code := runNamed(t, cannon, vmCmd(dir, rootIndex, hostCmd(kind, filepath.Join(dir, "preimages"), tc.claim))...)
				require.Equal(t, 0, code, stderr)
				w := witness(filepath.Join(dir, "final.bin.gz"))
				require.True(t, w.Exited)
				require.Equal(t, tc.exit, w.ExitCode, "the verdict in the final state")
				var info map[string]any
				require.NoError(t, json.Unmarshal(readMaybeGzip(t, filepath.Join(dir, "preimages", "debug-info.json")), &info))
				require.Len(t, info, 13)
				require.Equal(t, float64(w.Step), info["total_steps"])
				t.Logf("%s: exit code %d at step %d; debug info %v", tc.name, w.ExitCode, w.Step, info)
				if tc.exit != 0 {
					return
				}
				// A proof at a step of the trace, from the datadir the first run filled (offline now).
				step := w.Step / 3
				_, stderr, code = runNamed(t, cannon, vmCmd(dir, step, hostCmd(kind, filepath.Join(dir, "preimages"), tc.claim))...)
				require.Equal(t, 0, code, stderr)
				proof := filepath.Join(dir, "proofs", fmt.Sprintf("%d.json.gz", step))
				var p struct {
					Step uint64 `json:"step"`
				}
				require.NoError(t, json.Unmarshal(readMaybeGzip(t, proof), &p))
				require.Equal(t, step, p.Step)
				require.Equal(t, step+1, witness(filepath.Join(dir, "final.bin.gz")).Step, "stopped after the proof step")
				stdout, stderr, code := runCLI(t, "vm", "verify", "--proof", proof)
				require.Equal(t, 0, code, stderr)
				require.Contains(t, stdout, "ok post=")
			})
		}
	}
}

// runNamed runs a binary by its path (a symlink to the test binary) with runMainEnv set.
func runNamed(t *testing.T, path string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return namedCLIAt(t, path, nil, args...)
}

// TestOpChallengerSuperCommandLines runs op-challenger's command lines of a super-root game (v1.19.6:
// the Executor's VM command with the kona super executor's host command, and the op-program server
// executor's with --l2.agreed-prestate and --depset.config) with symlinks named cannon, kona-host and
// op-program, on the interop devnet served over RPC, with the interop program's prestate: the consolidation
// that replaces blocks (rebuilt by the host) ends with exit code 0 for the devnet's next super root and 1
// for the super root that keeps the replaced blocks.
func TestOpChallengerSuperCommandLines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the mips64 interop program and runs claims in the VM")
	}
	pre := t.TempDir()
	_, stderr, code := runCLI(t, "prestate", "--interop", "--out", pre, "--src", "../..")
	require.Equal(t, 0, code, stderr)
	prestate := filepath.Join(pre, "prestate.bin.gz")

	x, err := onlineInteropDevnet()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := devnet.ServeInterop(ctx, x, "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { cancel(); srv.Close() })
	cfgDir := t.TempDir()
	require.NoError(t, demo.WriteInteropConfigs(cfgDir, x))
	var rollups, genesis []string
	for _, d := range x.Chains() {
		rollups = append(rollups, filepath.Join(cfgDir, fmt.Sprintf("rollup-%d.json", d.Rollup().ChainID())))
		genesis = append(genesis, filepath.Join(cfgDir, fmt.Sprintf("genesis-l2-%d.json", d.Rollup().ChainID())))
	}
	l1Genesis, depset := filepath.Join(cfgDir, "genesis-l1.json"), filepath.Join(cfgDir, "depset.json")

	exe, err := os.Executable()
	require.NoError(t, err)
	links := t.TempDir()
	for _, name := range []string{"cannon", "op-program", "kona-host"} {
		require.NoError(t, os.Symlink(exe, filepath.Join(links, name)))
	}
	var dp demo.InteropDispute
	disputes, err := demo.InteropDisputes(x)
	require.NoError(t, err)
	for _, d := range disputes {
		if strings.HasPrefix(d.Name, "consolidation replaces") {
			dp = d
		}
	}
	require.NotEmpty(t, dp.Name)
	agreed, err := x.State(dp.T, dp.Step)
	require.NoError(t, err)
	kept := disputes[slices.IndexFunc(disputes, func(d demo.InteropDispute) bool { return strings.HasPrefix(d.Name, "consolidation keeping") })].Claim
	game := strconv.FormatUint(x.LastTime(), 10)
	l2s := strings.Join(srv.L2URLs(), ",")
	hostCmd := func(kind, dataDir string, claim common.Hash) []string {
		if kind == "op-program" {
			return []string{filepath.Join(links, "op-program"), "--server", "--l1", srv.L1URL(), "--l1.beacon", srv.BeaconURL(), "--l2", l2s,
				"--datadir", dataDir, "--l1.head", x.L1Head().Hash().Hex(), "--l2.claim", claim.Hex(), "--l2.blocknumber", game,
				"--l2.agreed-prestate", common.Bytes2Hex(agreed), "--depset.config", depset,
				"--rollup.config", strings.Join(rollups, ","), "--l2.genesis", strings.Join(genesis, ","), "--log.level", "INFO", "--l1.chainconfig", l1Genesis}
		}
		return []string{filepath.Join(links, "kona-host"), "super", "--l1-node-address", srv.L1URL(), "--l1-beacon-address", srv.BeaconURL(),
			"--l2-node-addresses", l2s, "--l1-head", x.L1Head().Hash().Hex(), "--agreed-l2-pre-state", common.Bytes2Hex(agreed),
			"--claimed-l2-post-state", claim.Hex(), "--claimed-l2-timestamp", game, "--server", "--data-dir", dataDir,
			"--rollup-config-paths", strings.Join(rollups, ","), "--l1-config-path", l1Genesis, "--depset-cfg", depset}
	}
	for _, kind := range []string{"kona-host", "op-program"} {
		for _, tc := range []struct {
			name  string
			claim common.Hash
			exit  uint8
		}{{"next super root", dp.Claim, 0}, {"keeping the replaced blocks", kept, 1}} {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				dir := t.TempDir()
				args := append([]string{"run", "--input", prestate, "--output", filepath.Join(dir, "final.bin.gz"), "--meta", "",
					"--info-at", "%10000000", "--proof-at", "never", "--snapshot-at", "%1000000000",
					"--snapshot-fmt", filepath.Join(dir, "snapshots", "%d.bin.gz"), "--"}, hostCmd(kind, filepath.Join(dir, "preimages"), tc.claim)...)
				_, stderr, code := runNamed(t, filepath.Join(links, "cannon"), args...)
				require.Equal(t, 0, code, stderr)
				stdout, stderr, code := runNamed(t, filepath.Join(links, "cannon"), "witness", "--input", filepath.Join(dir, "final.bin.gz"))
				require.Equal(t, 0, code, stderr)
				var w struct {
					Exited   bool   `json:"exited"`
					ExitCode uint8  `json:"exitCode"`
					Step     uint64 `json:"step"`
				}
				require.NoError(t, json.Unmarshal([]byte(stdout), &w))
				require.True(t, w.Exited)
				require.Equal(t, tc.exit, w.ExitCode, "the verdict in the final state")
				t.Logf("%s: exit code %d at step %d", tc.name, w.ExitCode, w.Step)
			})
		}
	}
}

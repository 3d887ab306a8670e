package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/demo"
	"github.com/faultproof/faultproof/devnet"
)

var onlineInteropDevnet = sync.OnceValues(func() (*devnet.Interop, error) {
	n, err := devnet.InteropConfiguration("interop")
	if err != nil {
		return nil, err
	}
	return devnet.NewInterop(n.Config)
})

// opProgramInteropArgs are the flags op-challenger gives op-program for a super-root claim
// (op_program_server_executor.go, with 'run' for '--server'): the prestate in hex without 0x, the game
// timestamp in decimal, comma lists of L2 URLs and configs.
func opProgramInteropArgs(dir, datadir string, x *devnet.Interop, dp demo.InteropDispute, srv *devnet.Server) ([]string, error) {
	cfg, err := demo.InteropHostConfig(x, dp)
	if err != nil {
		return nil, err
	}
	args := []string{"run"}
	if srv != nil {
		args = append(args, "--l1", srv.L1URL(), "--l1.beacon", srv.BeaconURL(), "--l2", strings.Join(srv.L2URLs(), ","))
	}
	args = append(args, "--datadir", datadir, "--data.format", "pebble", "--l1.head", cfg.L1Head.Hex(), "--l2.claim", cfg.L2Claim.Hex(),
		"--l2.blocknumber", fmt.Sprint(cfg.L2ClaimBlockNumber), "--l2.agreed-prestate", common.Bytes2Hex(cfg.Interop.AgreedPrestate))
	args = append(args, demo.InteropConfigArgs(dir, x)...)
	return append(args, "--log.level", "INFO", "--log.format", "json"), nil
}

// konaSuperArgs are the flags op-challenger gives kona-host for a super-root claim
// (kona_super_server_executor.go, --native for --server): the L1 config is the L1 genesis file, the
// dependency set by kona's alias --depset-cfg. Without srv, offline from datadir.
func konaSuperArgs(dir, datadir string, x *devnet.Interop, dp demo.InteropDispute, srv *devnet.Server) ([]string, error) {
	cfg, err := demo.InteropHostConfig(x, dp)
	if err != nil {
		return nil, err
	}
	args := []string{"super"}
	if srv != nil {
		args = append(args, "--l1-node-address", srv.L1URL(), "--l1-beacon-address", srv.BeaconURL(), "--l2-node-addresses", strings.Join(srv.L2URLs(), ","))
	}
	var rollups []string
	for _, d := range x.Chains() {
		rollups = append(rollups, filepath.Join(dir, fmt.Sprintf("rollup-%d.json", d.Rollup().ChainID())))
	}
	return append(args, "--l1-head", cfg.L1Head.Hex(), "--agreed-l2-pre-state", common.Bytes2Hex(cfg.Interop.AgreedPrestate),
		"--claimed-l2-post-state", cfg.L2Claim.Hex(), "--claimed-l2-timestamp", fmt.Sprint(cfg.L2ClaimBlockNumber), "--native",
		"--data-dir", datadir, "--data-format", "pebble", "--rollup-config-paths", strings.Join(rollups, ","),
		"--l1-config-path", filepath.Join(dir, "genesis-l1.json"), "--depset-cfg", filepath.Join(dir, "depset.json")), nil
}

// TestOnlineInteropDisputes is the online host's end-to-end check for super-root claims: the interop
// demo's disputes, with op-challenger's op-program command line, decided by 'faultproof run' fetching
// from the devnet server's L1, beacon and two L2 nodes (--l2 a,b) into an empty datadir, then offline from
// that datadir, then from a bundle of it. The consolidation that replaces blocks needs the replaced
// (optimistic) blocks, which the nodes do not have: the host rebuilds them, deriving them from L1 (so this
// one dispute fetches what a derivation step does, for both chains). Each claim is also decided by this
// binary answering as op-program and as kona-host (super), with op-challenger's command lines for them.
// FAULTPROOF_E2E=full: every dispute.
func TestOnlineInteropDisputes(t *testing.T) {
	start := time.Now()
	x, err := onlineInteropDevnet()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := devnet.ServeInterop(ctx, x, "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	dir := t.TempDir()
	require.NoError(t, demo.WriteInteropConfigs(dir, x))
	disputes, err := demo.InteropDisputes(x)
	require.NoError(t, err)
	full := os.Getenv("FAULTPROOF_E2E") == "full"
	var picked []demo.InteropDispute
	for _, dp := range disputes {
		if full || strings.HasPrefix(dp.Name, "consolidation replaces") {
			picked = append(picked, dp)
		}
	}
	require.NotEmpty(t, picked, "the demo has a replacing consolidation")
	setup := time.Since(start)

	var report []string
	for i, dp := range picked {
		datadir := filepath.Join(dir, fmt.Sprintf("dispute-%d", i))
		online, err := opProgramInteropArgs(dir, datadir, x, dp, srv)
		require.NoError(t, err)
		before := srv.Requests()
		t0 := time.Now()
		_, stderr, code := runCLI(t, online...)
		onlineTime := time.Since(t0)
		require.Equal(t, dp.Want, code, "%s, online:\n%s", dp.Name, lastLines(stderr, 20))
		counts, preimages := prefetcherStats(t, stderr)
		require.Equal(t, counts, serverCounts(before, srv.Requests()), "%s: the host counts the requests the server received", dp.Name)
		after := srv.Requests()
		for c, d := range x.Chains() {
			if !strings.HasPrefix(dp.Name, "derive chain") {
				break
			}
			asked := after.L2s[c]["debug_dbGet"] - before.L2s[c]["debug_dbGet"]
			if strings.HasPrefix(dp.Name, fmt.Sprintf("derive chain %d", d.Rollup().ChainID())) {
				require.NotZero(t, asked, "%s: the chain's node is asked for its state", dp.Name)
			} else {
				require.Zero(t, asked, "%s: another chain's node is not asked", dp.Name)
			}
		}
		if strings.HasPrefix(dp.Name, "consolidation replaces") {
			require.Contains(t, stderr, "Rebuilding an optimistic block the node does not have", dp.Name)
		}

		offline, err := opProgramInteropArgs(dir, datadir, x, dp, nil)
		require.NoError(t, err)
		t0 = time.Now()
		_, stderr, code = runCLI(t, offline...)
		offlineTime := time.Since(t0)
		require.Equal(t, dp.Want, code, "%s, offline from the online run's datadir:\n%s", dp.Name, lastLines(stderr, 20))
		require.NotContains(t, stderr, "Prefetcher stopped", "offline runs fetch nothing")

		bundle := filepath.Join(dir, fmt.Sprintf("dispute-%d.bundle", i))
		_, stderr, code = runCLI(t, "bundle", "export", "--run-args", strings.Join(offline, " "), "--out", bundle)
		require.Equal(t, 0, code, stderr)
		_, stderr, code = runCLI(t, "run", "--bundle", bundle, "--data.format", "pebble", "--datadir", filepath.Join(dir, fmt.Sprintf("unpacked-%d", i)))
		require.Equal(t, dp.Want, code, "%s, from its bundle:\n%s", dp.Name, lastLines(stderr, 20))

		report = append(report, fmt.Sprintf("%-58s %-7s online %6s offline %6s  %6d preimages  %s", dp.Name, demo.Verdict(code),
			onlineTime.Round(time.Millisecond), offlineTime.Round(time.Millisecond), preimages, formatCounts(counts)))

		// The same claim as op-challenger gives it to op-program and to kona-host (this binary answering by
		// either name), online into new datadirs, then offline.
		asOpProgram, err := opProgramInteropArgs(dir, datadir+"-op-program", x, dp, srv)
		require.NoError(t, err)
		_, stderr, code = namedCLI(t, "op-program", nil, asOpProgram[1:]...)
		require.Equal(t, dp.Want, code, "%s, as op-program:\n%s", dp.Name, lastLines(stderr, 20))
		for _, online := range []bool{true, false} {
			var s *devnet.Server
			if online {
				s = srv
			}
			args, err := konaSuperArgs(dir, datadir+"-kona-host", x, dp, s)
			require.NoError(t, err)
			_, stderr, code = namedCLI(t, "kona-host", nil, args...)
			require.Equal(t, dp.Want, code, "%s, as kona-host super (online %v):\n%s", dp.Name, online, lastLines(stderr, 20))
		}
	}
	t.Logf("devnet and server ready in %s; total %s\n%s", setup.Round(time.Millisecond), time.Since(start).Round(time.Millisecond),
		strings.Join(report, "\n"))
}

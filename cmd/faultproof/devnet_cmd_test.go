package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/cmd/faultproof/internal/demo"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// readEndpoints reads the "NAME URL" lines devnet serve prints, until it has l1, l2 and beacon.
func readEndpoints(t *testing.T, r io.Reader, timeout time.Duration) map[string]string {
	t.Helper()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	urls := map[string]string{}
	deadline := time.After(timeout)
	for len(urls) < 3 {
		select {
		case line, ok := <-lines:
			require.True(t, ok, "stdout ended after %v", urls)
			name, url, found := strings.Cut(line, " ")
			require.True(t, found, "line %q", line)
			require.Contains(t, []string{"l1", "l2", "beacon"}, name)
			require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)
			urls[name] = url
		case <-deadline:
			require.FailNow(t, fmt.Sprintf("no endpoints after %s (got %v)", timeout, urls))
		}
	}
	go func() { // drain, so the child never blocks on stdout
		for range lines {
		}
	}()
	return urls
}

// TestDevnetServe starts 'faultproof devnet serve' as a child, reads its three endpoints, asks each for
// its chain, and stops it with a signal: it exits 0.
func TestDevnetServe(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "configs") // made by the command
			cmd := faultproofCmd(t, "devnet", "serve", "--dir", dir, "--l2.blocks", "8")
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

			ctx := context.Background()
			for name, want := range map[string]uint64{"l1": 900, "l2": 901} {
				c, err := rpc.DialContext(ctx, urls[name])
				require.NoError(t, err)
				var id hexutil.Uint64
				require.NoError(t, c.CallContext(ctx, &id, "eth_chainId"), "%s; stderr:\n%s", name, stderr.String())
				require.Equal(t, want, uint64(id), name)
				c.Close()
			}
			resp, err := http.Get(urls["beacon"] + "/eth/v1/beacon/genesis")
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)

			// The configs it wrote describe the chain it serves.
			cfg, err := rollup.LoadConfig(filepath.Join(dir, "rollup.json"))
			require.NoError(t, err)
			require.Equal(t, uint64(901), cfg.ChainID())
			c, err := rpc.DialContext(ctx, urls["l2"])
			require.NoError(t, err)
			var genesis struct {
				Hash string `json:"hash"`
			}
			require.NoError(t, c.CallContext(ctx, &genesis, "eth_getBlockByNumber", "0x0", false))
			c.Close()
			require.Equal(t, cfg.Genesis.L2.Hash.Hex(), genesis.Hash)
			for _, f := range []string{"genesis-l2.json", "genesis-l1.json"} {
				_, err := rollup.LoadChainConfig(filepath.Join(dir, f))
				require.NoError(t, err, f)
			}

			require.NoError(t, cmd.Process.Signal(sig))
			err = waitTimeout(cmd, 30*time.Second)
			exited = true
			require.Equal(t, 0, exitCode(err), "exit on %s; stderr:\n%s", sig, stderr.String())
			require.Contains(t, stderr.String(), "Devnet server stopped")
			_, err = http.Get(urls["beacon"] + "/eth/v1/beacon/genesis")
			require.Error(t, err, "the servers are gone")
		})
	}
}

func TestDevnetServeBadFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		errText string
	}{
		{"no dir", []string{"devnet", "serve"}, `"dir" not set`},
		{"public address", []string{"devnet", "serve", "--dir", t.TempDir(), "--addr", "0.0.0.0:0"}, "only listens on 127.0.0.1"},
		{"bad port", []string{"devnet", "serve", "--dir", t.TempDir(), "--addr", "127.0.0.1:http"}, "bad port"},
		{"arguments", []string{"devnet", "serve", "--dir", t.TempDir(), "extra"}, "unexpected arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tc.args...)
			require.Equal(t, preimage.ExitFailure, code, stderr)
			require.Contains(t, lastError(stderr), tc.errText)
		})
	}
}

// onlineRunArgs are the 'faultproof run' arguments for a demo dispute on the configs in dir, storing
// preimages in datadir (pebble: a dispute fetches ~100k preimages, mostly blob field elements).
func onlineRunArgs(dir, datadir string, cfg *host.Config) []string {
	return []string{"run", "--rollup.config", filepath.Join(dir, "rollup.json"), "--l2.genesis", filepath.Join(dir, "genesis-l2.json"),
		"--l1.chainconfig", filepath.Join(dir, "genesis-l1.json"), "--datadir", datadir, "--data.format", "pebble",
		"--l1.head", cfg.L1Head.Hex(), "--l2.head", cfg.L2Head.Hex(), "--l2.outputroot", cfg.L2OutputRoot.Hex(),
		"--l2.claim", cfg.L2Claim.Hex(), "--l2.blocknumber", fmt.Sprint(cfg.L2ClaimBlockNumber), "--log.format", "json"}
}

// prefetcherStats reads the "Prefetcher stopped" log line (JSON) of an online run: the request counts by
// method (rpc_ fields, without the prefix) and the number of preimages stored.
func prefetcherStats(t *testing.T, stderr string) (map[string]uint64, uint64) {
	t.Helper()
	for _, line := range strings.Split(stderr, "\n") {
		if !strings.Contains(line, `"Prefetcher stopped"`) {
			continue
		}
		var fields map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &fields), line)
		counts := map[string]uint64{}
		for k, v := range fields {
			if m, ok := strings.CutPrefix(k, "rpc_"); ok {
				counts[m] = uint64(v.(float64))
			}
		}
		return counts, uint64(fields["preimages"].(float64))
	}
	require.FailNow(t, fmt.Sprintf("no prefetcher statistics in the log:\n%s", stderr))
	return nil, 0
}

// serverCounts are the requests the devnet server received between two snapshots, named as the host's
// sources count them (JSON-RPC methods of L1 and L2 together, beacon_ endpoints).
func serverCounts(before, after devnet.RequestCounts) map[string]uint64 {
	out := map[string]uint64{}
	add := func(prefix string, b, a map[string]uint64) {
		for k, v := range a {
			if d := v - b[k]; d > 0 {
				out[prefix+k] += d
			}
		}
	}
	add("", before.L1, after.L1)
	if len(after.L2s) > 1 { // an interop server: every chain's node
		for i := range after.L2s {
			var b map[string]uint64
			if i < len(before.L2s) {
				b = before.L2s[i]
			}
			add("", b, after.L2s[i])
		}
	} else {
		add("", before.L2, after.L2)
	}
	add("beacon_", before.Beacon, after.Beacon)
	return out
}

func diff(before, after map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

func formatCounts(m map[string]uint64) string {
	var parts []string
	var total uint64
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
		total += m[k]
	}
	return fmt.Sprintf("%d requests (%s)", total, strings.Join(parts, " "))
}

// TestOnlineDemoDisputes is the online host's end-to-end check: the demo's disputes, decided by
// 'faultproof run' fetching everything from a devnet server (L1, L2 and beacon) into an empty datadir, then
// decided again offline from that datadir alone. Both verdicts must be the expected ones. Each dispute runs
// twice: with --l2 only (state node by node, debug_dbGet) and with the same node as --l2.experimental, where
// the program's l2-payload-witness hint before each block becomes one debug_executePayload that brings the
// block's state reads at once.
func TestOnlineDemoDisputes(t *testing.T) {
	start := time.Now()
	d, err := devnet.New(devnet.Config{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := devnet.Serve(ctx, d, "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	dir := t.TempDir()
	require.NoError(t, demo.WriteConfigs(dir, d))
	disputes, err := demo.Disputes(d)
	require.NoError(t, err)
	blob := false
	for _, dp := range disputes {
		blob = blob || (dp.Blocks() > 0 && d.Batch(dp.ClaimBlock).Blob)
	}
	require.True(t, blob, "a dispute covers a block batched in blobs")
	setup := time.Since(start)

	var report []string
	for i, dp := range disputes {
		blocks := dp.Blocks()
		var dbGets [2]uint64
		for mode, fast := range []bool{false, true} {
			args := onlineRunArgs(dir, filepath.Join(dir, fmt.Sprintf("dispute-%d-%d", i, mode)), demo.HostConfig(d, dp))
			online := append(slices.Clone(args), "--l1", srv.L1URL(), "--l2", srv.L2URL(), "--l1.beacon", srv.BeaconURL())
			if fast {
				online = append(online, "--l2.experimental", srv.L2URL())
			}
			name := fmt.Sprintf("%s (witness fast path: %v)", dp.Name, fast)

			before := srv.Requests()
			t0 := time.Now()
			_, stderr, code := runCLI(t, online...)
			onlineTime := time.Since(t0)
			require.Equal(t, dp.Want, code, "%s, online:\n%s", name, lastLines(stderr, 20))
			counts, preimages := prefetcherStats(t, stderr)
			after := srv.Requests()
			require.Equal(t, counts, serverCounts(before, after), "%s: the host counts the requests the server received", name)
			dbGets[mode] = counts["debug_dbGet"]
			if fast {
				require.Equal(t, blocks, counts["debug_executePayload"], "%s: one payload execution per derived block", name)
				if blocks > 0 {
					require.Less(t, 4*dbGets[1], dbGets[0], "%s: the witnesses replace most single node reads", name)
				}
			} else {
				require.Zero(t, counts["debug_executePayload"], name)
			}

			t0 = time.Now()
			_, stderr, code = runCLI(t, args...)
			offlineTime := time.Since(t0)
			require.Equal(t, dp.Want, code, "%s, offline from the online run's datadir:\n%s", name, lastLines(stderr, 20))
			require.NotContains(t, stderr, "Prefetcher stopped", "offline runs fetch nothing")

			report = append(report, fmt.Sprintf("%-62s %-7s online %6s offline %6s  %6d preimages  %s\n%65s L1: %s\n%65s L2: %s",
				name, demo.Verdict(code), onlineTime.Round(time.Millisecond), offlineTime.Round(time.Millisecond), preimages,
				formatCounts(counts), "", formatCounts(serverCounts(devnet.RequestCounts{}, devnet.RequestCounts{L1: diff(before.L1, after.L1)})),
				"", formatCounts(serverCounts(devnet.RequestCounts{}, devnet.RequestCounts{L2: diff(before.L2, after.L2)}))))
		}
	}
	t.Logf("devnet and server ready in %s; total %s\n%s", setup.Round(time.Millisecond), time.Since(start).Round(time.Millisecond),
		strings.Join(report, "\n"))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

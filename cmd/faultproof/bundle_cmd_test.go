package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestBundleExportAndReplay exports two of the demo's disputes to bundles and replays them offline: the
// verdicts must be those of the datadir replays. A damaged bundle is a failure (exit 2), not a verdict.
func TestBundleExportAndReplay(t *testing.T) {
	dir := t.TempDir()
	_, stderr, code := runCLI(t, "demo", "--datadir", dir)
	require.Equal(t, 0, code, stderr)
	replay, err := os.ReadFile(filepath.Join(dir, "replay.txt"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(replay)), "\n")

	for i, want := range []int{0, 1} {
		_, stderr, code := runCLI(t, strings.Fields(lines[i])[1:]...)
		require.Equal(t, want, code, stderr)

		out := filepath.Join(t.TempDir(), "dispute.bundle")
		stdout, stderr, code := runCLI(t, "bundle", "export", "--datadir", dir, "--out", out, "--run-args", lines[i])
		require.Equal(t, 0, code, stderr)
		require.Contains(t, stdout, "preimages to "+out)

		args := []string{"run", "--bundle", out}
		if i == 0 {
			args = append(args, "--metrics.enabled", "--metrics.port", strconv.Itoa(freePort(t)))
		}
		_, stderr, code = runCLI(t, args...)
		require.Equal(t, want, code, stderr)
		if i == 0 {
			require.Contains(t, stderr, "Serving metrics")
		}

		if i == 1 {
			data, err := os.ReadFile(out)
			require.NoError(t, err)
			data[len(data)/2] ^= 0x5a
			bad := filepath.Join(t.TempDir(), "bad.bundle")
			require.NoError(t, os.WriteFile(bad, data, 0o644))
			_, stderr, code = runCLI(t, "run", "--bundle", bad)
			require.Equal(t, 2, code, stderr)
			require.Contains(t, stderr, "corrupt bundle")

			_, stderr, code = runCLI(t, "run", "--bundle", out, "--l2.claim", "0x00")
			require.Equal(t, 2, code, stderr)
			require.Contains(t, stderr, "cannot be used with --bundle")
		}
	}
}

func TestBundleExportWithoutRunArgs(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.bundle")
	_, stderr, code := runCLI(t, "bundle", "export", "--datadir", t.TempDir(), "--out", out)
	require.Equal(t, 2, code, stderr)
	require.Contains(t, stderr, "not a preimage datadir")
}

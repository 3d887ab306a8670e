package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/host/bundle"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/preimage"
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

// replayBundle writes a bundle for a claim on op-sepolia (whose preimages it does not hold) with the
// given records, written as they are, without the checks of bundle.Writer.
func replayBundle(t *testing.T, path string, recs func(add func(key common.Hash, value []byte))) {
	cfg, err := parseRunArgs(strings.Join(append([]string{"run"}, serverArgs(t.TempDir())[2:]...), " "))
	require.NoError(t, err)
	run, err := bundle.RunFromConfig(cfg)
	require.NoError(t, err)
	manifest, err := json.Marshal(bundle.Manifest{Version: bundle.Version, Run: run})
	require.NoError(t, err)
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewWriterLevel(f, gzip.BestSpeed)
	require.NoError(t, err)
	w := bufio.NewWriter(gz)
	w.WriteString(bundle.Magic)
	w.Write(binary.BigEndian.AppendUint32(nil, bundle.Version))
	w.Write(binary.BigEndian.AppendUint32(nil, uint32(len(manifest))))
	w.Write(manifest)
	n := uint64(0)
	recs(func(key common.Hash, value []byte) {
		w.WriteByte(1)
		w.Write(key[:])
		w.Write(binary.BigEndian.AppendUint32(nil, uint32(len(value))))
		w.Write(value)
		n++
	})
	w.WriteByte(0)
	w.Write(binary.BigEndian.AppendUint64(nil, n))
	require.NoError(t, w.Flush())
	require.NoError(t, gz.Close())
}

// zeroAnswers adds mib precompile answers (right in shape) of 1 MiB of zeros each: a bundle of a few
// hundred KB that decompresses to mib MiB.
func zeroAnswers(mib int) func(add func(common.Hash, []byte)) {
	return func(add func(common.Hash, []byte)) {
		value := make([]byte, 1<<20)
		for i := range mib {
			var key common.Hash
			key[0] = byte(preimage.PrecompileKeyType)
			binary.BigEndian.PutUint64(key[24:], uint64(i))
			add(key, value)
		}
	}
}

// runMeasured runs the CLI and returns its stderr, exit code and peak RSS in MiB.
func runMeasured(t *testing.T, env []string, args ...string) (string, int, int64) {
	cmd := faultproofCmd(t, args...)
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := waitTimeout(startOrFail(t, cmd), 2*time.Minute)
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss >> 10 // KiB on Linux
	return stderr.String(), exitCode(err), rss
}

// TestBundleReplayIsBounded replays hostile bundles: a bomb of 256 MiB in a few hundred KB is streamed
// into a temporary datadir (removed afterwards) without being held in memory, or refused at once past
// --bundle.maxsize; a bundle with a local key or a malformed answer is refused naming the key; --datadir
// gets a complete datadir or none.
func TestBundleReplayIsBounded(t *testing.T) {
	// Alone the run peaks near 51 MiB; on a loaded 2-core machine the collector lags and it reached 168.
	// Holding the bomb would take 256 MiB more than that.
	const rssBound = 200
	dir := t.TempDir()
	bomb := filepath.Join(dir, "bomb.bundle")
	replayBundle(t, bomb, zeroAnswers(256))
	fi, err := os.Stat(bomb)
	require.NoError(t, err)
	t.Logf("bomb: %d KB", fi.Size()>>10)
	tmp := t.TempDir()
	env := []string{"TMPDIR=" + tmp}

	stderr, code, rss := runMeasured(t, env, "run", "--bundle", bomb)
	t.Logf("default limit: exit %d, %d MiB peak RSS: %s", code, rss, lastLine(stderr))
	require.Equal(t, 2, code, stderr)
	require.Contains(t, lastLine(stderr), "not in the datadir", "the run goes on to ask for the claim's preimages")
	require.Less(t, rss, int64(rssBound), "peak RSS in MiB")
	entries, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Empty(t, entries, "the temporary datadir is removed")

	stderr, code, rss = runMeasured(t, env, "run", "--bundle", bomb, "--bundle.maxsize", "64MiB")
	t.Logf("64 MiB limit: exit %d, %d MiB peak RSS: %s", code, rss, lastLine(stderr))
	require.Equal(t, 2, code, stderr)
	require.Contains(t, lastLine(stderr), "bundle too large")
	require.Contains(t, lastLine(stderr), "raise --bundle.maxsize")
	require.Less(t, rss, int64(rssBound), "peak RSS in MiB")

	local := preimage.L2ClaimLocalIndex.PreimageKey()
	blob := common.Hash{byte(preimage.BlobKeyType), 1}
	for name, c := range map[string]struct {
		key   common.Hash
		value []byte
		want  string
	}{
		"local key":           {local, make([]byte, 32), "local keys come from the run's configuration"},
		"short field element": {blob, make([]byte, 31), "blob field element of 31 bytes"},
		"precompile status 7": {common.Hash{byte(preimage.PrecompileKeyType)}, []byte{7}, "status byte"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.bundle")
			replayBundle(t, path, func(add func(common.Hash, []byte)) {
				zeroAnswers(3)(add)
				add(c.key, c.value)
			})
			datadir := filepath.Join(t.TempDir(), "unpacked")
			stderr, code, _ := runMeasured(t, env, "run", "--bundle", path, "--datadir", datadir)
			require.Equal(t, 2, code, stderr)
			last := lastLine(stderr)
			require.Contains(t, last, "corrupt bundle")
			require.Contains(t, last, c.key.Hex())
			require.Contains(t, last, c.want)
			entries, err := os.ReadDir(filepath.Dir(datadir))
			require.NoError(t, err)
			require.Empty(t, entries, "a refused bundle leaves no datadir")
		})
	}

	// A good bundle unpacked into --datadir is kept, complete; the directory cannot be reused.
	datadir := filepath.Join(t.TempDir(), "unpacked")
	small := filepath.Join(dir, "small.bundle")
	replayBundle(t, small, zeroAnswers(2))
	stderr, code, _ = runMeasured(t, env, "run", "--bundle", small, "--datadir", datadir)
	require.Equal(t, 2, code, stderr)
	require.Contains(t, lastLine(stderr), "not in the datadir")
	format, err := bundle.DataDirFormat(datadir)
	require.NoError(t, err)
	require.Equal(t, kvstore.FormatDirectory, format)
	stderr, code, _ = runMeasured(t, env, "run", "--bundle", small, "--datadir", datadir)
	require.Equal(t, 2, code, stderr)
	require.Contains(t, lastLine(stderr), "already exists")
}

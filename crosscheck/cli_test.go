package crosscheck

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm"
)

// TestCannonCLI compares the output of the cannon binary's load-elf and run
// commands with ours. It needs CANNON_BIN, the path of a cannon binary built
// from this module (go build -o $TMP/cannon github.com/ethereum-optimism/optimism/cannon).
func TestCannonCLI(t *testing.T) {
	bin := os.Getenv("CANNON_BIN")
	if bin == "" {
		t.Skip("CANNON_BIN not set")
	}
	for _, name := range []string{"hello", "threads"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			elfPath := guestPath(t, name)
			statePath := filepath.Join(dir, "state.bin.gz")
			metaPath := filepath.Join(dir, "meta.json")
			outPath := filepath.Join(dir, "out.bin.gz")
			run := func(args ...string) {
				t.Helper()
				out, err := exec.Command(bin, args...).CombinedOutput()
				require.NoError(t, err, "cannon %v\n%s", args, out)
			}
			run("load-elf", "--type", vm.StateVersionName, "--path", elfPath, "--out", statePath, "--meta", metaPath)

			ours, meta := ourLoad(t, elfPath)
			require.Equal(t, serializeOurs(t, ours), gunzip(t, statePath), "load-elf state file differs from our serialization")
			var m bytes.Buffer
			require.NoError(t, meta.WriteJSON(&m))
			cm, _ := os.ReadFile(metaPath)
			require.Equal(t, m.Bytes(), cm, "meta.json differs")
			loaded, err := vm.LoadStateFile(statePath)
			require.NoError(t, err, "reading cannon's state file")
			require.Equal(t, ours.Hash(), loaded.Hash(), "reading cannon's state file: %v", err)

			run("run", "--input", statePath, "--output", outPath, "--meta", metaPath)
			require.NoError(t, vm.NewVM(ours, vm.NewMemoryOracle(), nil, nil).Run(0))
			require.Equal(t, serializeOurs(t, ours), gunzip(t, outPath), "final state file of cannon run differs from ours")
			t.Logf("%s: cannon CLI and vm agree: %d steps, exit %d, state hash %s", name, ours.Step, ours.ExitCode, ours.Hash())
		})
	}
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	r, err := gzip.NewReader(f)
	require.NoError(t, err)
	data, err := io.ReadAll(r)
	require.NoError(t, err)
	return data
}

package crosscheck

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

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
				if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
					t.Fatalf("cannon %v: %v\n%s", args, err, out)
				}
			}
			run("load-elf", "--type", vm.StateVersionName, "--path", elfPath, "--out", statePath, "--meta", metaPath)

			ours, meta := ourLoad(t, elfPath)
			if !bytes.Equal(gunzip(t, statePath), serializeOurs(t, ours)) {
				t.Fatal("load-elf state file differs from our serialization")
			}
			var m bytes.Buffer
			if err := meta.WriteJSON(&m); err != nil {
				t.Fatal(err)
			}
			if cm, _ := os.ReadFile(metaPath); !bytes.Equal(cm, m.Bytes()) {
				t.Fatal("meta.json differs")
			}
			loaded, err := vm.LoadStateFile(statePath)
			if err != nil || loaded.Hash() != ours.Hash() {
				t.Fatalf("reading cannon's state file: %v", err)
			}

			run("run", "--input", statePath, "--output", outPath, "--meta", metaPath)
			if err := vm.NewVM(ours, vm.NewMemoryOracle(), nil, nil).Run(0); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gunzip(t, outPath), serializeOurs(t, ours)) {
				t.Fatal("final state file of cannon run differs from ours")
			}
			t.Logf("%s: cannon CLI and vm agree: %d steps, exit %d, state hash %s", name, ours.Step, ours.ExitCode, ours.Hash())
		})
	}
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

package crosscheck

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm"
)

// TestProgramUnderCannonAndOurVM runs the real fault proof program, built by `faultproof prestate`, on
// disputes of `faultproof demo` (its replay.txt) under the cannon binary and under `faultproof vm run`,
// both served by `faultproof host --server`. Cannon's load-elf must give our prestate, and both runs must end in the
// same state (step count, exit code, witness and state file) with the expected verdict. With -short
// (which needs CANNON_BIN) only the trace-extension dispute (~34M steps) runs; without it also the
// dispute whose batches came in blobs (~845M steps) and the one about a block whose batch the engine rejects
// (a faulty batcher: the Holocene deposit-only replacement, ~1.16G steps).
func TestProgramUnderCannonAndOurVM(t *testing.T) {
	cannon, ours, _ := vmCLIBinaries(t)
	dir := t.TempDir()

	datadir := filepath.Join(dir, "demo")
	t0 := time.Now()
	vmCLI(t, ours, "demo", "--datadir", datadir, "--invalid-batch", "47")
	replay, err := os.ReadFile(filepath.Join(datadir, "replay.txt"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(replay)), "\n")
	require.Len(t, lines, 6, "replay.txt has %d lines, want 6", len(lines))
	t.Logf("demo datadir ready in %s", time.Since(t0).Round(time.Millisecond))

	// The prestate, and Cannon's load-elf of the same ELF.
	pre := filepath.Join(dir, "prestate")
	src, err := filepath.Abs("..")
	require.NoError(t, err)
	prestateHash := strings.TrimSpace(string(vmCLI(t, ours, "prestate", "--out", pre, "--src", src)))
	require.True(t, regexp.MustCompile(`^0x03[0-9a-f]{62}$`).MatchString(prestateHash), "prestate printed %q, not an absolute prestate hash", prestateHash)
	prestate, meta := filepath.Join(pre, "prestate.bin.gz"), filepath.Join(pre, "meta.json")
	cannonPre := filepath.Join(dir, "cannon-prestate.bin.gz")
	cannonMeta := filepath.Join(dir, "cannon-meta.json")
	vmCLI(t, cannon, "load-elf", "--type", vm.StateVersionName, "--path", filepath.Join(pre, "fpp-client.elf"),
		"--out", cannonPre, "--meta", cannonMeta)
	cw := witnessOf(t, cannon, nil, cannonPre)
	ow := witnessOf(t, ours, []string{"vm"}, prestate)
	require.Equal(t, ow.raw, cw.raw, "witness of the prestate differs:\ncannon: %s\nours:   %s", cw.raw, ow.raw)
	require.Equal(t, prestateHash, cw.WitnessHash, "cannon load-elf gives state hash %s, faultproof prestate printed %s", cw.WitnessHash, prestateHash)
	require.Equal(t, stateDigest(t, prestate), stateDigest(t, cannonPre), "cannon load-elf's state file differs from prestate.bin.gz")
	if c, o := readFile(t, cannonMeta), readFile(t, meta); !bytes.Equal(c, o) {
		require.FailNow(t, "cannon load-elf's meta.json differs from ours")
	}
	t.Logf("cannon load-elf and faultproof prestate agree: absolute prestate %s", prestateHash)

	disputes := []struct {
		name string
		line int
	}{{"behind the agreed block (trace extension)", 4}}
	if !testing.Short() {
		disputes = append(disputes, struct {
			name string
			line int
		}{"batches posted in blobs", 3}, struct {
			name string
			line int
		}{"invalid batch replaced by deposits only", 5})
	}
	for _, d := range disputes {
		t.Run(d.name, func(t *testing.T) {
			// A replay line is `faultproof run <host flags>` (or `faultproof host <host flags>`): the
			// same flags serve the VM as `faultproof host --server`.
			fields := strings.Fields(lines[d.line])
			require.GreaterOrEqual(t, len(fields), 2, "replay line %d is not a faultproof run or host command: %s", d.line+1, lines[d.line])
			require.Equal(t, "faultproof", fields[0], "replay line %d is not a faultproof run or host command: %s", d.line+1, lines[d.line])
			require.False(t, fields[1] != "run" && fields[1] != "host", "replay line %d is not a faultproof run or host command: %s", d.line+1, lines[d.line])
			host := append(append([]string{"--", ours, "host"}, fields[2:]...), "--server")
			out := t.TempDir()
			run := func(bin string, prefix []string, final string) time.Duration {
				args := append(append([]string{}, prefix...), "run", "--input", prestate, "--meta", meta,
					"--output", final, "--info-at", "never")
				start := time.Now()
				vmCLI(t, bin, append(args, host...)...)
				return time.Since(start)
			}
			cannonFinal, ourFinal := filepath.Join(out, "cannon.bin.gz"), filepath.Join(out, "ours.bin.gz")
			cannonTime := run(cannon, nil, cannonFinal)
			ourTime := run(ours, []string{"vm"}, ourFinal)

			cw := witnessOf(t, cannon, nil, cannonFinal)
			ow := witnessOf(t, ours, []string{"vm"}, ourFinal)
			require.Equal(t, ow.raw, cw.raw, "final witness differs:\ncannon: step %d exited %v code %d hash %s\nours:   step %d exited %v code %d hash %s", cw.Step, cw.Exited, cw.ExitCode, cw.WitnessHash, ow.Step, ow.Exited, ow.ExitCode, ow.WitnessHash)
			require.True(t, ow.Exited, "the program did not settle the dispute as valid: exited %v, exit code %d", ow.Exited, ow.ExitCode)
			require.Equal(t, uint8(0), ow.ExitCode, "the program did not settle the dispute as valid: exited %v, exit code %d", ow.Exited, ow.ExitCode)
			require.Equal(t, stateDigest(t, ourFinal), stateDigest(t, cannonFinal), "final state files differ though the witnesses agree")
			rate := func(d time.Duration) float64 { return float64(ow.Step) / d.Seconds() / 1e6 }
			t.Logf("%s: %d steps, exit code 0 in both VMs, final state %s", d.name, ow.Step, ow.WitnessHash)
			t.Logf("  cannon run:        %8s (%.1fM steps/s, host included)", cannonTime.Round(time.Millisecond), rate(cannonTime))
			t.Logf("  faultproof vm run: %8s (%.1fM steps/s, host included)", ourTime.Round(time.Millisecond), rate(ourTime))
		})
	}
}

// witnessOutput is what `cannon witness` and `faultproof vm witness` print.
type witnessOutput struct {
	raw         []byte
	WitnessHash string `json:"witnessHash"`
	Step        uint64 `json:"step"`
	Exited      bool   `json:"exited"`
	ExitCode    uint8  `json:"exitCode"`
}

func witnessOf(t *testing.T, bin string, prefix []string, state string) witnessOutput {
	t.Helper()
	raw := vmCLI(t, bin, append(append([]string{}, prefix...), "witness", "--input", state)...)
	w := witnessOutput{raw: raw}
	require.NoError(t, json.Unmarshal(raw, &w), "%s witness printed %q", filepath.Base(bin), raw)
	return w
}

// stateDigest is the SHA-256 of a gzipped state file's contents, streamed (final states are large).
func stateDigest(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	r, err := gzip.NewReader(f)
	require.NoError(t, err)
	h := sha256.New()
	_, err = io.Copy(h, r)
	require.NoError(t, err)
	var d [32]byte
	h.Sum(d[:0])
	return d
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

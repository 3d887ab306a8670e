package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm"
	"github.com/faultproof/faultproof/vm/vmtest"
)

// TestNative re-executes a short chain: every block is rebuilt to op-geth's hash (Native fails otherwise)
// and reads the oracle.
func TestNative(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, Native(3, 2, &out))
	m := regexp.MustCompile(`(?m)^native block re-execution \(cold, 3 blocks x 2 rounds, [0-9.]+ txs/block\)\s+\S+\s+\S+\s+\S+\s+per block$`).FindString(out.String())
	require.NotEmpty(t, m, out.String())
	reads := regexp.MustCompile(`(?m)^oracle reads\s+(\d+)\s+(\d+)\s+(\d+)`).FindStringSubmatch(out.String())
	require.NotNil(t, reads, out.String())
	for _, r := range reads[1:] {
		n, err := strconv.Atoi(r)
		require.NoError(t, err)
		require.Positive(t, n)
	}
	require.ErrorContains(t, Native(0, 1, &out), "must be at least 1")
}

func TestVM(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, vmtest.BuildGuests(dir, "hello", "oracle"))
	hello := filepath.Join(dir, "hello")
	data, err := os.ReadFile(hello)
	require.NoError(t, err)
	s, _, err := vm.LoadProgram(data)
	require.NoError(t, err)
	require.NoError(t, vm.NewVM(s, vm.NewMemoryOracle(), nil, nil).Run(0))

	var out bytes.Buffer
	require.NoError(t, VM(VMOptions{ELF: hello, Rounds: 2}, &out))
	row := regexp.MustCompile(`(?m)^ours\s+(\d+)\s.*\sexit 0$`).FindStringSubmatch(out.String())
	require.NotNil(t, row, out.String())
	require.Equal(t, strconv.FormatUint(s.Step, 10), row[1], "the steps of a run to the exit")

	out.Reset()
	require.NoError(t, VM(VMOptions{ELF: hello, Rounds: 1, Steps: 1000}, &out))
	require.Regexp(t, `(?m)^ours\s+1000\s.*\sstopped$`, out.String())

	for _, tc := range []struct {
		o       VMOptions
		errText string
	}{
		{VMOptions{ELF: hello}, "invalid --rounds 0"},
		{VMOptions{ELF: filepath.Join(dir, "nope"), Rounds: 1}, "failed to open ELF file"},
		{VMOptions{ELF: filepath.Join(dir, "oracle"), Rounds: 1}, "bench vm serves no pre-images"},
		{VMOptions{ELF: hello, Rounds: 1, Cannon: filepath.Join(dir, "no-cannon")}, "invalid --cannon"},
	} {
		require.ErrorContains(t, VM(tc.o, &out), tc.errText)
	}
}

func TestMedian(t *testing.T) {
	require.Equal(t, uint64(5), median([]uint64{9, 1, 5}))
	require.Equal(t, uint64(7), median([]uint64{9, 1, 5, 7}), "the upper median of an even count")
}

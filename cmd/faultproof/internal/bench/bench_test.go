package bench

import (
	"bytes"
	"os"
	"os/exec"
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

// TestVM measures the hello guest with a faultproof binary built from this checkout: the run loop and the
// whole process end at the same step, and bad options fail before anything runs. cmd/faultproof's
// TestBenchVM runs the command against a Cannon and with a pre-image server.
func TestVM(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, vmtest.BuildGuests(dir, "hello", "oracle"))
	hello := filepath.Join(dir, "hello")
	data, err := os.ReadFile(hello)
	require.NoError(t, err)
	s, _, err := vm.LoadProgram(data)
	require.NoError(t, err)
	require.NoError(t, vm.NewVM(s, vm.NewMemoryOracle(), nil, nil).Run(0))

	exe := filepath.Join(dir, "faultproof")
	out, err := exec.Command("go", "build", "-o", exe, "github.com/faultproof/faultproof/cmd/faultproof").CombinedOutput()
	require.NoError(t, err, string(out))

	var table bytes.Buffer
	require.NoError(t, VM(VMOptions{ELF: hello, Rounds: 2, Exe: exe}, &table))
	want := strconv.FormatUint(s.Step, 10)
	require.Regexp(t, `(?m)^ours\s+`+want+`\s.*\sexit 0$`, table.String(), "the steps of a run to the exit")
	require.Regexp(t, `(?m)^ours \(whole process\)\s+`+want+`\s.*\sexit 0$`, table.String())

	table.Reset()
	require.NoError(t, VM(VMOptions{ELF: hello, Rounds: 1, Steps: 1000, Exe: exe}, &table))
	require.Regexp(t, `(?m)^ours\s+1000\s.*\sstopped$`, table.String())
	require.Regexp(t, `(?m)^ours \(whole process\)\s+1000\s.*\sstopped$`, table.String())

	for _, tc := range []struct {
		o       VMOptions
		errText string
	}{
		{VMOptions{ELF: hello, Exe: exe}, "invalid --rounds 0"},
		{VMOptions{ELF: filepath.Join(dir, "nope"), Rounds: 1, Exe: exe}, "failed to open ELF file"},
		{VMOptions{ELF: filepath.Join(dir, "oracle"), Rounds: 1, Exe: exe}, "but no pre-image server was given"},
		{VMOptions{ELF: hello, Rounds: 1, Exe: exe, Cannon: filepath.Join(dir, "no-cannon")}, "invalid --cannon"},
		{VMOptions{ELF: hello, Rounds: 1, Exe: exe, Host: []string{filepath.Join(dir, "no-host")}}, "invalid pre-image server command"},
		{VMOptions{ELF: hello, Rounds: 1}, "no faultproof binary"},
	} {
		require.ErrorContains(t, VM(tc.o, &table), tc.errText)
	}
}

// TestRunLoopRefusesPreimages: without a server, the run loop's oracle stops the program at its first
// pre-image request with an error, not a crash.
func TestRunLoopRefusesPreimages(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, vmtest.BuildGuests(dir, "oracle"))
	data, err := os.ReadFile(filepath.Join(dir, "oracle"))
	require.NoError(t, err)
	s, _, err := vm.LoadProgram(data)
	require.NoError(t, err)
	err = run(vm.NewVM(s, noPreimages{}, nil, nil), s, 0)
	require.ErrorContains(t, err, "bench vm serves no pre-images, but the program requested the pre-image of key")
	require.ErrorAs(t, err, new(errNoPreimages))
}

func TestMedian(t *testing.T) {
	require.Equal(t, uint64(5), median([]uint64{9, 1, 5}))
	require.Equal(t, uint64(7), median([]uint64{9, 1, 5, 7}), "the upper median of an even count")
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDemo runs the demo end to end and replays one dispute from the datadir it keeps.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := runCLI(t, "demo", "--datadir", dir)
	require.Equal(t, 0, code, stderr)
	for _, row := range []string{"honest output root", "wrong output root", "across Holocene", "blobs", "trace extension"} {
		require.Contains(t, stdout, row)
	}
	require.Regexp(t, `wrong output root\s+\d+\s+\d+\s+invalid\s+invalid`, stdout)
	replay, err := os.ReadFile(filepath.Join(dir, "replay.txt"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(replay)), "\n")
	require.Len(t, lines, 5)
	// The second dispute (a wrong root) replayed offline from the datadir: exit 1.
	args := strings.Fields(lines[1])[1:]
	_, stderr, code = runCLI(t, args...)
	require.Equal(t, 1, code, stderr)
	_, stderr, code = runCLI(t, strings.Fields(lines[0])[1:]...)
	require.Equal(t, 0, code, stderr)
}

// TestDemoInsideTheVM settles the demo's disputes natively and inside our VM; the verdicts must agree.
// It takes about a minute on 2 cores: run with FAULTPROOF_E2E=full.
func TestDemoInsideTheVM(t *testing.T) {
	if os.Getenv("FAULTPROOF_E2E") != "full" {
		t.Skip("set FAULTPROOF_E2E=full to run the demo inside the VM")
	}
	stdout, stderr, code := runCLI(t, "demo", "--vm", "--src", "../..", "--invalid-batch", "47")
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `wrong output root\s+\d+\s+\d+\s+invalid\s+invalid\s+\S+\s+\d+\s+invalid\s+\d+`, stdout)
	require.Regexp(t, `invalid batch replaced by deposits only \(block 47\)\s+46\s+47\s+valid\s+valid\s+\S+\s+\d+\s+valid\s+\d+`, stdout)
	t.Log("\n" + stdout)
}

// TestDemoInvalidBatches: with --invalid-batch the demo adds a dispute about each replaced block; blocks it
// cannot make invalid are refused with a message.
func TestDemoInvalidBatches(t *testing.T) {
	stdout, stderr, code := runCLI(t, "demo", "--l2.blocks", "50", "--invalid-batch", "48")
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `invalid batch replaced by deposits only \(block 48\)\s+47\s+48\s+valid\s+valid`, stdout)
	for _, tc := range []struct{ block, errText string }{
		{"20", "needs a block from Holocene on"},
		{"50", "needs a block from Holocene on"}, // Isthmus activation: upgrade transactions only
		{"0", "not a block of the devnet"},
		{"51", "not a block of the devnet"},
	} {
		_, stderr, code := runCLI(t, "demo", "--l2.blocks", "50", "--invalid-batch", tc.block)
		require.Equal(t, 2, code, "block %s: %s", tc.block, stderr)
		require.Contains(t, lastLine(stderr), tc.errText, "block %s", tc.block)
	}
}

// TestDemoInterop runs the interop demo natively, then replays two of its super-root disputes offline
// with op-program's interop flags.
func TestDemoInterop(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := runCLI(t, "demo", "--interop", "--datadir", dir)
	require.Equal(t, 0, code, stderr)
	for _, row := range []string{"derive chain 901's block", "derive chain 902's block", "padding step", "wrong super root",
		"consolidation replaces chain 901 block 8", "trace extension"} {
		require.Contains(t, stdout, row)
	}
	require.Regexp(t, `consolidation keeping chain 901 block 8 \(invalid message\)\s+\+15\s+127\s+invalid\s+invalid`, stdout)
	replay, err := os.ReadFile(filepath.Join(dir, "replay.txt"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(replay)), "\n")
	require.Len(t, lines, 9)
	require.Contains(t, lines[6], "--l2.agreed-prestate")
	_, stderr, code = runCLI(t, strings.Fields(lines[6])[1:]...) // the replacing consolidation: valid
	require.Equal(t, 0, code, stderr)
	_, stderr, code = runCLI(t, strings.Fields(lines[7])[1:]...) // keeping the invalid block: invalid
	require.Equal(t, 1, code, stderr)
}

// TestDemoInteropGameRefused: --game has no super-root games to play on the interop devnet, so the demo
// refuses it before any work rather than ignoring it.
func TestDemoInteropGameRefused(t *testing.T) {
	_, stderr, code := runCLI(t, "demo", "--interop", "--game")
	require.Equal(t, 2, code, stderr)
	require.Contains(t, lastLine(stderr), "super-root games on the interop devnet are not implemented")
}

// TestDemoInteropInsideTheVM settles the interop demo's disputes natively and inside our VM, with the
// interop program's prestate: the verdicts must agree (about a minute): FAULTPROOF_E2E=full.
func TestDemoInteropInsideTheVM(t *testing.T) {
	if os.Getenv("FAULTPROOF_E2E") != "full" {
		t.Skip("set FAULTPROOF_E2E=full to run the interop demo inside the VM")
	}
	stdout, stderr, code := runCLI(t, "demo", "--interop", "--vm", "--src", "../..")
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `consolidation replaces chain 901 block 8\s+\+15\s+127\s+valid\s+valid\s+\S+\s+\d+\s+valid\s+\d+`, stdout)
	require.Regexp(t, `padding step claiming no progress\s+\+\d+\s+64\s+invalid\s+invalid\s+\S+\s+\d+\s+invalid\s+\d+`, stdout)
	t.Log("\n" + stdout)
}

// TestPrestateInterop: 'prestate --interop' builds the interop program, a prestate of its own
// (FAULTPROOF_E2E=full: two mips64 builds).
func TestPrestateInterop(t *testing.T) {
	if os.Getenv("FAULTPROOF_E2E") != "full" {
		t.Skip("set FAULTPROOF_E2E=full to build the mips64 programs")
	}
	single, stderr, code := runCLI(t, "prestate", "--out", t.TempDir(), "--src", "../..")
	require.Equal(t, 0, code, stderr)
	interopOut := t.TempDir()
	multi, stderr, code := runCLI(t, "prestate", "--interop", "--out", interopOut, "--src", "../..")
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `^0x03[0-9a-f]{62}\n$`, multi)
	require.NotEqual(t, single, multi, "the program mode is linked in: another program, another prestate")
	_, err := os.Stat(filepath.Join(interopOut, "prestate.bin.gz"))
	require.NoError(t, err)
}

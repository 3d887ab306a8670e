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

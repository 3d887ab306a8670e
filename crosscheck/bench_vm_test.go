package crosscheck

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBenchVMAgainstCannon runs `faultproof bench vm --cannon` on the threads guest with the cannon
// binary (built from this module unless CANNON_BIN is set; skipped with -short without CANNON_BIN): both
// VMs must run the same number of steps, in the run loop and as whole processes (bench vm itself also
// fails unless Cannon's final state file is ours), and the ratios of their speeds are logged.
func TestBenchVMAgainstCannon(t *testing.T) {
	cannon, ours, guests := vmCLIBinaries(t)
	out := string(vmCLI(t, ours, "bench", "vm", "--elf", filepath.Join(guests, "threads"), "--cannon", cannon, "--rounds", "3"))
	t.Log("\n" + out)
	steps := map[string]uint64{}
	var ratio, wholeRatio float64
	for _, l := range strings.Split(out, "\n") {
		for _, row := range []string{"ours", "cannon", "ours (whole process)", "cannon (whole process)"} {
			// A row's name is followed by the table's padding of at least two spaces.
			if rest, ok := strings.CutPrefix(l, row+"  "); ok {
				n, err := strconv.ParseUint(strings.Fields(rest)[0], 10, 64)
				require.NoError(t, err, l)
				steps[row] = n
			}
		}
		if r, ok := strings.CutPrefix(l, "ratio ours/cannon steps/s: "); ok {
			var err error
			ratio, err = strconv.ParseFloat(r, 64)
			require.NoError(t, err)
		}
		if r, ok := strings.CutPrefix(l, "ratio ours/cannon whole process: "); ok {
			var err error
			wholeRatio, err = strconv.ParseFloat(strings.Fields(r)[0], 64)
			require.NoError(t, err)
		}
	}
	require.NotZero(t, steps["ours"])
	for _, row := range []string{"cannon", "ours (whole process)", "cannon (whole process)"} {
		require.Equal(t, steps["ours"], steps[row], row)
	}
	require.Positive(t, ratio)
	require.Positive(t, wholeRatio)
	t.Logf("threads: %d steps in both VMs; ours/cannon steps/s: %.2f run loop, %.2f whole process", steps["ours"], ratio, wholeRatio)
}

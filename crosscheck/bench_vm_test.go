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
// VMs must run the same number of steps (bench vm itself also fails unless Cannon's final state is
// ours), and the ratio of their speeds is logged.
func TestBenchVMAgainstCannon(t *testing.T) {
	cannon, ours, guests := vmCLIBinaries(t)
	out := string(vmCLI(t, ours, "bench", "vm", "--elf", filepath.Join(guests, "threads"), "--cannon", cannon, "--rounds", "3"))
	t.Log("\n" + out)
	steps := map[string]uint64{}
	var ratio float64
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 8 && (f[0] == "ours" || f[0] == "cannon"):
			// The rows "ours" and "cannon" (not "cannon (whole process)" or "cannon process ...").
			if n, err := strconv.ParseUint(f[1], 10, 64); err == nil {
				steps[f[0]] = n
			}
		case strings.HasPrefix(l, "ratio ours/cannon steps/s: "):
			r, err := strconv.ParseFloat(strings.TrimPrefix(l, "ratio ours/cannon steps/s: "), 64)
			require.NoError(t, err)
			ratio = r
		}
	}
	require.NotEqual(t, uint64(0), steps["ours"], "steps: ours %d, cannon %d", steps["ours"], steps["cannon"])
	require.Equal(t, steps["cannon"], steps["ours"], "steps: ours %d, cannon %d", steps["ours"], steps["cannon"])
	require.Greater(t, ratio, 0.0, "no ratio")
	t.Logf("threads: %d steps in both VMs; ours/cannon steps/s: %.2f", steps["ours"], ratio)
}

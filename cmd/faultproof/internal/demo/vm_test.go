package demo

import (
	"os"
	"os/exec"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRunMeasuredChild is the child of TestRunMeasured: with DEMO_TOUCH_MIB set, it touches 48 MiB.
func TestRunMeasuredChild(t *testing.T) {
	if os.Getenv("DEMO_TOUCH_MIB") == "" {
		t.Skip("the child of TestRunMeasured")
	}
	mem := make([]byte, 48<<20)
	for i := range mem {
		mem[i] = 1
	}
	runtime.KeepAlive(mem)
}

// TestRunMeasured: the peak memory of a child is its own, not the high-water mark of this process, which
// a child of a Go process inherits in wait4's max RSS.
func TestRunMeasured(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	parent := make([]byte, 128<<20)
	for i := range parent {
		parent[i] = 1
	}
	child := func(touch bool) int64 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRunMeasuredChild$")
		if touch {
			cmd.Env = append(os.Environ(), "DEMO_TOUCH_MIB=48")
		}
		peak, err := RunMeasured(cmd)
		require.NoError(t, err)
		return peak
	}
	idle, busy := child(false), child(true)
	runtime.KeepAlive(parent)
	require.Positive(t, idle)
	require.Less(t, idle, int64(48<<20), "a child that touches little: not the parent's 128 MiB")
	require.GreaterOrEqual(t, busy, int64(48<<20), "a child that touches 48 MiB")
	require.Less(t, busy, int64(128<<20))

	_, err := RunMeasured(exec.Command("/nonexistent/binary"))
	require.Error(t, err)
}

package vm

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTraceback follows a call and its return as Cannon's --debug does, and prints its traceback.
func TestTraceback(t *testing.T) {
	meta := &Metadata{Symbols: []Symbol{{Name: "main", Start: 0x1000, Size: 0x100}, {Name: "f", Start: 0x2000, Size: 0x100}}}
	m, th, _ := newTestVM(
		0x0C000000|0x2000>>2, // jal f
		0,                    // nop (delay slot)
	)
	writeInsn(m.state.Memory, 0x2000, special(regRA, 0, 0, 0, 0x08)) // jr ra
	writeInsn(m.state.Memory, 0x2004, 0)                             // nop
	var underflows bytes.Buffer
	m.EnableDebug(meta, &underflows)
	require.NoError(t, m.Run(2))
	var out bytes.Buffer
	m.Traceback(&out)
	want := "traceback at pc=2000. step=2\n\t0 2000 in f caller=00001000\n"
	require.Equal(t, want, out.String(), "traceback in f:\n%q\nwant\n%q", out.String(), want)
	require.NoError(t, m.Run(2))
	out.Reset()
	m.Traceback(&out)
	if want := "traceback at pc=1008. step=4\n"; out.String() != want || th.Cpu.PC != 0x1008 {
		require.FailNow(t, fmt.Sprintf("after the return:\n%q\nwant\n%q", out.String(), want))
	}
	require.Equal(t, 0, underflows.Len(), "underflow reported: %q", underflows.String())
	// Returning again, with no frame left, is reported as Cannon reports it.
	writeInsn(m.state.Memory, 0x1008, special(regRA, 0, 0, 0, 0x08)) // jr ra
	require.NoError(t, m.Run(1))
	want = "ERROR: stack underflow at pc=1008. step=5\n"
	require.Equal(t, want, underflows.String(), "underflow: %q, want %q", underflows.String(), want)
}

package guestprof

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm"
	"github.com/faultproof/faultproof/vm/vmtest"
)

// TestProfileOfGuest profiles the VM's hello guest sample by sample and checks that the profile accounts
// for every step, names the guest's functions and unwinds through them: main.main is always called by
// runtime.main, fmt.Fprintln by main.main (fmt.Println is inlined there), and every stack reaches the
// function its goroutine or thread started in.
func TestProfileOfGuest(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, vmtest.BuildGuests(dir, "hello"))
	data, err := os.ReadFile(filepath.Join(dir, "hello"))
	require.NoError(t, err)
	f, err := elf.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	syms, err := LoadSymbols(f)
	require.NoError(t, err)
	s, _, err := vm.LoadProgram(data)
	require.NoError(t, err)
	m := vm.NewVM(s, vm.NewMemoryOracle(), new(bytes.Buffer), new(bytes.Buffer))
	p := NewProfiler(syms)
	const period = 97
	for last := uint64(0); !s.Exited; {
		require.NoError(t, m.Run(period))
		p.Sample(s, s.Step-last)
		last = s.Step
	}
	samples, steps := p.Samples()
	require.Equal(t, s.Step, steps, "profile has %d samples of %d steps; the run took %d steps", samples, steps, s.Step)
	require.GreaterOrEqual(t, samples, s.Step/period, "profile has %d samples of %d steps; the run took %d steps", samples, steps, s.Step)

	var buf bytes.Buffer
	require.NoError(t, p.Write(&buf, period))
	prof, err := profile.Parse(&buf)
	require.NoError(t, err)
	var total, inMain, inPrintln int64
	roots := make(map[string]int64)
	for _, smp := range prof.Sample {
		total += smp.Value[1]
		var names []string
		for _, loc := range smp.Location {
			names = append(names, loc.Line[0].Function.Name)
		}
		for i, name := range names {
			switch name {
			case "main.main":
				inMain += smp.Value[1]
				require.Less(t, i+1, len(names), "main.main called by %v, want runtime.main", names[i+1:])
				require.Equal(t, "runtime.main", names[i+1], "main.main called by %v, want runtime.main", names[i+1:])
			case "fmt.Fprintln":
				inPrintln += smp.Value[1]
				require.Less(t, i+1, len(names), "fmt.Fprintln called by %v, want main.main", names[i+1:])
				require.Equal(t, "main.main", names[i+1], "fmt.Fprintln called by %v, want main.main", names[i+1:])
			}
		}
		require.False(t, strings.HasPrefix(names[0], "0x"), "sample at unnamed pc %s", names[0])
		roots[names[len(names)-1]] += smp.Value[1]
	}
	require.Equal(t, int64(s.Step), total, "profile holds %d steps, the run took %d", total, s.Step)
	require.NotEqual(t, int64(0), inMain, "steps under main.main %d, under fmt.Fprintln %d", inMain, inPrintln)
	require.NotEqual(t, int64(0), inPrintln, "steps under main.main %d, under fmt.Fprintln %d", inMain, inPrintln)
	require.LessOrEqual(t, inPrintln, inMain, "steps under main.main %d, under fmt.Fprintln %d", inMain, inPrintln)
	for name := range roots {
		f := syms.lookup(syms.entryOf(name))
		require.NotNil(t, f, "an unwind stopped at %s, which neither starts a stack nor switches stacks", name)
		require.NotEqual(t, uint8(0), f.flag&(funcFlagTopFrame|funcFlagSPWrite), "an unwind stopped at %s, which neither starts a stack nor switches stacks", name)
	}
	t.Logf("stacks start in %v", roots)
	t.Logf("%d steps, %d samples, %d under main.main, %d under fmt.Fprintln", s.Step, samples, inMain, inPrintln)
}

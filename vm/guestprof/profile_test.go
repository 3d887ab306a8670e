package guestprof

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/faultproof/faultproof/vm"
	"github.com/faultproof/faultproof/vm/vmtest"
)

// TestProfileOfGuest profiles the VM's hello guest sample by sample and checks that the profile accounts
// for every step, names the guest's functions and unwinds through them: main.main is always called by
// runtime.main, fmt.Fprintln by main.main (fmt.Println is inlined there), and every stack reaches the
// function its goroutine or thread started in.
func TestProfileOfGuest(t *testing.T) {
	dir := t.TempDir()
	if err := vmtest.BuildGuests(dir, "hello"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	syms, err := LoadSymbols(f)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := vm.LoadProgram(data)
	if err != nil {
		t.Fatal(err)
	}
	m := vm.NewVM(s, vm.NewMemoryOracle(), new(bytes.Buffer), new(bytes.Buffer))
	p := NewProfiler(syms)
	const period = 97
	for last := uint64(0); !s.Exited; {
		if err := m.Run(period); err != nil {
			t.Fatal(err)
		}
		p.Sample(s, s.Step-last)
		last = s.Step
	}
	samples, steps := p.Samples()
	if steps != s.Step || samples < s.Step/period {
		t.Fatalf("profile has %d samples of %d steps; the run took %d steps", samples, steps, s.Step)
	}

	var buf bytes.Buffer
	if err := p.Write(&buf, period); err != nil {
		t.Fatal(err)
	}
	prof, err := profile.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
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
				if i+1 >= len(names) || names[i+1] != "runtime.main" {
					t.Errorf("main.main called by %v, want runtime.main", names[i+1:])
				}
			case "fmt.Fprintln":
				inPrintln += smp.Value[1]
				if i+1 >= len(names) || names[i+1] != "main.main" {
					t.Errorf("fmt.Fprintln called by %v, want main.main", names[i+1:])
				}
			}
		}
		if strings.HasPrefix(names[0], "0x") {
			t.Errorf("sample at unnamed pc %s", names[0])
		}
		roots[names[len(names)-1]] += smp.Value[1]
	}
	if total != int64(s.Step) {
		t.Errorf("profile holds %d steps, the run took %d", total, s.Step)
	}
	if inMain == 0 || inPrintln == 0 || inPrintln > inMain {
		t.Errorf("steps under main.main %d, under fmt.Fprintln %d", inMain, inPrintln)
	}
	for name := range roots {
		f := syms.lookup(syms.entryOf(name))
		if f == nil || f.flag&(funcFlagTopFrame|funcFlagSPWrite) == 0 {
			t.Errorf("an unwind stopped at %s, which neither starts a stack nor switches stacks", name)
		}
	}
	t.Logf("stacks start in %v", roots)
	t.Logf("%d steps, %d samples, %d under main.main, %d under fmt.Fprintln", s.Step, samples, inMain, inPrintln)
}

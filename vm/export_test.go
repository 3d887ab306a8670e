package vm

import (
	"flag"
	"testing"
)

// InFuzzWorker reports whether this process is a worker of a fuzzing run (go test -fuzz). Workers only
// execute inputs the coordinator sends them, so they can skip building seed corpora (guest programs
// compiled, run for millions of steps), which each worker would otherwise redo every time it starts.
func InFuzzWorker() bool {
	f := flag.Lookup("test.fuzzworker")
	return f != nil && f.Value.String() == "true"
}

// GuestELF gives the external tests (package vm_test) the guest programs.
func GuestELF(tb testing.TB, name string) []byte { return guestELF(tb, name) }

// PruneMemory returns a copy of s that keeps only the pages the active thread is likely to touch in its
// next step (those of its PC and of every register value, and their neighbours), plus a run of zero
// pages: a state of a few dozen pages instead of thousands, for fuzz seeds.
func PruneMemory(s *State) *State {
	out := s.Copy()
	mem := NewMemory()
	keep := func(addr uint64) {
		for _, idx := range []uint64{addr>>PageAddrBits - 1, addr >> PageAddrBits, addr>>PageAddrBits + 1} {
			if data, ok := s.Memory.PageData(idx); ok {
				if _, dup := mem.pages[idx]; !dup {
					mem.SetRange(idx<<PageAddrBits, data[:])
				}
			}
		}
	}
	if t := s.CurrentThread(); t != nil {
		keep(t.Cpu.PC)
		keep(t.Cpu.NextPC)
		for _, r := range t.Registers {
			keep(r)
		}
	}
	mem.ZeroRange(0x7000_0000, 3*PageSize)
	out.Memory = mem
	return out
}

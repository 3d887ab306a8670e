package vm

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// Instruction encoders for the synthetic programs.
func daddiu(rt, rs uint32, imm int16) uint32 { return itype(0x19, rs, rt, uint16(imm)) }
func ori(rt, rs uint32, imm uint16) uint32   { return itype(0x0D, rs, rt, imm) }
func lui(rt uint32, imm uint16) uint32       { return itype(0x0F, 0, rt, imm) }
func ld(rt, base uint32, off int16) uint32   { return itype(0x37, base, rt, uint16(off)) }
func sd(rt, base uint32, off int16) uint32   { return itype(0x3F, base, rt, uint16(off)) }
func beq(rs, rt uint32, off int16) uint32    { return itype(0x04, rs, rt, uint16(off)) }
func bne(rs, rt uint32, off int16) uint32    { return itype(0x05, rs, rt, uint16(off)) }
func jal(target uint64) uint32               { return 3<<26 | uint32(target>>2)&0x03FFFFFF }
func orMove(rd, rs uint32) uint32            { return special(rs, 0, rd, 0, 0x25) }

const (
	insnSyscall = 0x0000000C
	insnJrRA    = 31<<21 | 0x08
	insnNop     = 0
	rAT, rV0    = 1, 2
	rT0, rT1    = 12, 13
	rSP, rRA    = 29, 31
)

// synthProgram makes a scanProgram of functions placed one after another from 0x10000.
func synthProgram(funcs ...scanFunc) *scanProgram {
	p := &scanProgram{byStart: map[uint64]*scanFunc{}, names: map[string]bool{}}
	for i := range funcs {
		fn := &funcs[i]
		fn.end = fn.start + 4*uint64(len(fn.code))
		p.funcs = append(p.funcs, fn)
		p.byStart[fn.start] = fn
		p.names[fn.name] = true
	}
	return p
}

func numbersOf(s *SyscallScan) []uint64 { return s.SortedNumbers() }

func TestScanSyscallsSynthetic(t *testing.T) {
	const wrapper, wrapper2, caller = 0x10000, 0x11000, 0x12000
	// wrapper(num): ld v0, 8(sp); syscall; jr ra; nop
	wrapperFn := scanFunc{name: "wrapper", start: wrapper, code: []uint32{ld(rV0, rSP, 8), insnSyscall, insnJrRA, insnNop}}
	// wrapper2(num): a frame of 32 bytes, passes its argument on to wrapper after a call that cannot
	// touch its incoming arguments.
	wrapper2Fn := scanFunc{name: "wrapper2", start: wrapper2, code: []uint32{
		sd(rRA, rSP, -32), daddiu(rSP, rSP, -32),
		jal(0x13000), insnNop, // an unrelated call
		ld(rT0, rSP, 40), sd(rT0, rSP, 8),
		jal(wrapper), insnNop,
		ld(rRA, rSP, 0), daddiu(rSP, rSP, 32), insnJrRA, insnNop,
	}}
	tests := []struct {
		name       string
		code       []uint32
		want       []uint64
		unresolved bool
	}{
		{"daddiu", []uint32{daddiu(rV0, 0, 5000), insnSyscall, insnJrRA, insnNop}, []uint64{5000}, false},
		{"ori", []uint32{ori(rV0, 0, 5001), insnSyscall, insnJrRA, insnNop}, []uint64{5001}, false},
		{"lui and ori", []uint32{lui(rT0, 0), ori(rT0, rT0, 5002), orMove(rV0, rT0), insnSyscall, insnJrRA, insnNop}, []uint64{5002}, false},
		{"two paths", []uint32{
			beq(rT1, 0, 2), daddiu(rV0, 0, 5003), // v0 = 5003 on both paths (delay slot)...
			daddiu(rV0, 0, 5004), // ...then 5004 on the fall-through
			insnSyscall, insnJrRA, insnNop,
		}, []uint64{5003, 5004}, false},
		{"branch-likely annuls its delay slot", []uint32{
			daddiu(rV0, 0, 5005), itype(0x15, rT1, 0, 2), daddiu(rV0, 0, 5006), // bnel: the delay slot only when taken
			insnNop, insnSyscall, insnJrRA, insnNop,
		}, []uint64{5005, 5006}, false},
		{"a loop changing the number", []uint32{
			daddiu(rV0, 0, 5000), daddiu(rV0, rV0, 1), insnSyscall, bne(rT1, 0, -3), insnNop, insnJrRA, insnNop,
		}, nil, true},
		{"clobbered by a call", []uint32{daddiu(rV0, 0, 5000), jal(0x13000), insnNop, insnSyscall, insnJrRA, insnNop}, nil, true},
		{"a register at entry", []uint32{insnSyscall, insnJrRA, insnNop}, nil, true},
		{"a local spilled across a call is not trusted", []uint32{
			daddiu(rSP, rSP, -32), daddiu(rT0, 0, 5000), sd(rT0, rSP, 16), jal(0x13000), insnNop,
			ld(rV0, rSP, 16), insnSyscall, daddiu(rSP, rSP, 32), insnJrRA, insnNop,
		}, nil, true},
		{"a spill before the frame is set up", []uint32{
			daddiu(rT0, 0, 5007), sd(rT0, rSP, -8), daddiu(rSP, rSP, -16), ld(rV0, rSP, 8), insnSyscall,
			daddiu(rSP, rSP, 16), insnJrRA, insnNop,
		}, []uint64{5007}, false},
		{"through a wrapper, stored in the delay slot", []uint32{
			daddiu(rSP, rSP, -32), daddiu(rT0, 0, 5008), jal(wrapper), sd(rT0, rSP, 8),
			daddiu(rSP, rSP, 32), insnJrRA, insnNop,
		}, []uint64{5008}, false},
		{"through two wrappers", []uint32{
			daddiu(rSP, rSP, -32), daddiu(rT0, 0, 5009), sd(rT0, rSP, 8), jal(wrapper2), insnNop,
			daddiu(rSP, rSP, 32), insnJrRA, insnNop,
		}, []uint64{5009}, false},
		// j wrapper: the caller passes its own argument on, so it is a wrapper too; it has no callers.
		{"a tail call makes a wrapper", []uint32{2<<26 | uint32(wrapper>>2), insnNop}, nil, false},
		{"an unknown argument to a wrapper", []uint32{
			daddiu(rSP, rSP, -32), sd(rT1, rSP, 8), jal(wrapper), insnNop, daddiu(rSP, rSP, 32), insnJrRA, insnNop,
		}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := synthProgram(wrapperFn, wrapper2Fn, scanFunc{name: "caller", start: caller, code: tc.code},
				scanFunc{name: "other", start: 0x13000, code: []uint32{insnJrRA, insnNop}})
			s := p.scan()
			var got []uint64
			for _, n := range numbersOf(s) {
				for _, pl := range s.Numbers[n] {
					if pl.Func == "caller" {
						got = append(got, n)
					}
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("numbers set in caller: %v, want %v (all: %v)", got, tc.want, s.Numbers)
			}
			var unresolvedInCaller bool
			for _, u := range s.Unresolved {
				unresolvedInCaller = unresolvedInCaller || u.Func == "caller"
			}
			if unresolvedInCaller != tc.unresolved {
				t.Errorf("unresolved in caller: %v, want %v: %v", unresolvedInCaller, tc.unresolved, s.Unresolved)
			}
			wantWrappers := []string{"wrapper (argument at +8)", "wrapper2 (argument at +8)"}
			if tc.name == "a tail call makes a wrapper" {
				wantWrappers = append([]string{"caller (argument at +8)"}, wantWrappers...)
			}
			if !slices.Equal(s.Wrappers, wantWrappers) {
				t.Errorf("wrappers: %v, want %v", s.Wrappers, wantWrappers)
			}
		})
	}
}

// TestScanSyscallsMatchesGuestRuns checks the analysis against execution: every syscall number a guest
// program makes while it runs in the VM must be among those the analysis finds in its ELF.
func TestScanSyscallsMatchesGuestRuns(t *testing.T) {
	table := syscallTable(t)
	for _, name := range []string{"hello", "threads", "mutex", "timers", "panic", "exit1", "badsyscall"} {
		t.Run(name, func(t *testing.T) {
			data := guestELF(t, name)
			scan, err := ScanSyscalls(data)
			if err != nil {
				t.Fatal(err)
			}
			if scan.Instructions == 0 || len(scan.Numbers) == 0 {
				t.Fatalf("found %d syscall instructions and %d numbers", scan.Instructions, len(scan.Numbers))
			}
			for _, u := range scan.Unresolved {
				t.Logf("unresolved: %s", u)
			}
			s, _, err := LoadProgram(data)
			if err != nil {
				t.Fatal(err)
			}
			m := NewVM(s, NewMemoryOracle(), nil, nil)
			issued := map[uint64]int{}
			var runErr error
			for !s.Exited && runErr == nil && s.Step < 50_000_000 {
				if t := s.CurrentThread(); !t.Exited && s.StepsSinceLastContextSwitch < SchedQuantum && m.fetch(t.Cpu.PC) == insnSyscall {
					issued[t.Registers[regV0]]++
				}
				_, runErr = m.Step(false)
			}
			if name == "badsyscall" {
				if !errors.Is(runErr, ErrUnrecognizedSyscall) {
					t.Fatalf("badsyscall: %v", runErr)
				}
			} else if runErr != nil || !s.Exited {
				t.Fatalf("run: %v (exited %v)", runErr, s.Exited)
			}
			for n, count := range issued {
				if _, ok := scan.Numbers[n]; !ok {
					t.Errorf("the guest made syscall %d (%s) %d times, but the analysis does not list it", n, SyscallName(table, n), count)
				}
			}
			t.Logf("%d syscall instructions, %d numbers found, %d made in %d steps", scan.Instructions, len(scan.Numbers), len(issued), s.Step)
			if name == "badsyscall" {
				const getppid = 5108
				if _, ok := scan.Numbers[getppid]; !ok || ProbeSyscall(getppid).Recognized {
					t.Fatalf("getppid: found %v, recognized %v", ok, ProbeSyscall(getppid).Recognized)
				}
			}
		})
	}
}

func TestProbeSyscall(t *testing.T) {
	for _, tc := range []struct {
		num  uint64
		want func(SyscallProbe) bool
	}{
		{sysRead, func(p SyscallProbe) bool { return p.Recognized && p.A3 == 0 && !p.Yields }},
		{sysWrite, func(p SyscallProbe) bool { return p.Recognized && p.A3 == sysErrorSignal && p.V0 == errnoEBADF }},
		{sysSchedYield, func(p SyscallProbe) bool { return p.Recognized && p.Yields }},
		{sysExitGroup, func(p SyscallProbe) bool { return p.Recognized && p.Exited && p.ExitCode == 0 }},
		{sysExit, func(p SyscallProbe) bool { return p.Recognized && p.ThreadExited && !p.Exited }},
		{sysMmap, func(p SyscallProbe) bool { return p.Recognized && p.V0 == HeapStart }},
		{5108, func(p SyscallProbe) bool { return !p.Recognized }}, // getppid
		{5153, func(p SyscallProbe) bool { return !p.Recognized }}, // prctl
	} {
		if p := ProbeSyscall(tc.num); !tc.want(p) {
			t.Errorf("syscall %d: %+v (%s)", tc.num, p, p)
		}
	}
}

// syscallTable is Go's table of the Linux mips64 syscall numbers, for names in messages.
func syscallTable(t *testing.T) []byte {
	data, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", "syscall", "zsysnum_linux_mips64.go"))
	if err != nil {
		t.Logf("no syscall names: %v", err)
	}
	return data
}

// A wrapper whose address is computed somewhere may be called indirectly: the scan must say so.
func TestScanSyscallsAddressTakenWrapper(t *testing.T) {
	const wrapper = 0x10000
	p := synthProgram(
		scanFunc{name: "wrapper", start: wrapper, code: []uint32{ld(rV0, rSP, 8), insnSyscall, insnJrRA, insnNop}},
		scanFunc{name: "caller", start: 0x12000, code: []uint32{
			daddiu(rSP, rSP, -32), daddiu(rT0, 0, 5000), sd(rT0, rSP, 8), jal(wrapper), insnNop,
			lui(rT1, wrapper>>16), daddiu(rT1, rT1, wrapper&0xFFFF), // &wrapper, for an indirect call
			daddiu(rSP, rSP, 32), insnJrRA, insnNop,
		}},
	)
	s := p.scan()
	if !slices.Equal(s.SortedNumbers(), []uint64{5000}) {
		t.Fatalf("numbers %v", s.Numbers)
	}
	if len(s.Unresolved) != 1 || s.Unresolved[0].Func != "wrapper" {
		t.Fatalf("unresolved: %v", s.Unresolved)
	}
	t.Log(s.Unresolved[0])
}

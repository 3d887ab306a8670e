package syscallcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/vm"
	"github.com/faultproof/faultproof/vm/vmtest"
)

// Instruction encoders of the MIPS64 formats.
func itype(op, rs, rt uint32, imm uint16) uint32 { return op<<26 | rs<<21 | rt<<16 | uint32(imm) }
func special(rs, rt, rd, sa, fun uint32) uint32  { return rs<<21 | rt<<16 | rd<<11 | sa<<6 | fun }

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
			for _, n := range s.SortedNumbers() {
				for _, pl := range s.Numbers[n] {
					if pl.Func == "caller" {
						got = append(got, n)
					}
				}
			}
			require.Equal(t, tc.want, got, "numbers set in caller (all: %v)", s.Numbers)
			var unresolvedInCaller bool
			for _, u := range s.Unresolved {
				unresolvedInCaller = unresolvedInCaller || u.Func == "caller"
			}
			require.Equal(t, tc.unresolved, unresolvedInCaller, "unresolved in caller: %v", s.Unresolved)
			wantWrappers := []string{"wrapper (argument at +8)", "wrapper2 (argument at +8)"}
			if tc.name == "a tail call makes a wrapper" {
				wantWrappers = append([]string{"caller (argument at +8)"}, wantWrappers...)
			}
			require.Equal(t, wantWrappers, s.Wrappers)
		})
	}
}

// TestScanMatchesGuestRuns checks the analysis against execution: every syscall number a guest program
// makes while it runs in the VM must be among those the analysis finds in its ELF.
func TestScanMatchesGuestRuns(t *testing.T) {
	guests := []string{"hello", "threads", "mutex", "timers", "panic", "exit1", "badsyscall"}
	dir := t.TempDir()
	require.NoError(t, vmtest.BuildGuests(dir, guests...))
	table := syscallTable(t)
	for _, name := range guests {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			require.NoError(t, err)
			scan, err := Scan(data)
			require.NoError(t, err)
			require.NotZero(t, scan.Instructions, "syscall instructions found")
			require.NotEmpty(t, scan.Numbers, "syscall numbers found")
			for _, u := range scan.Unresolved {
				t.Logf("unresolved: %s", u)
			}
			issued, s, runErr := runCountingSyscalls(t, data)
			if name == "badsyscall" {
				require.ErrorIs(t, runErr, vm.ErrUnrecognizedSyscall)
			} else {
				require.NoError(t, runErr)
				require.True(t, s.Exited, "the guest exits")
			}
			var missing []string
			for n, count := range issued {
				if _, ok := scan.Numbers[n]; !ok {
					missing = append(missing, fmt.Sprintf("%d (%s) made %d times", n, Name(table, n), count))
				}
			}
			require.Empty(t, missing, "syscalls the guest made that the analysis does not list")
			t.Logf("%d syscall instructions, %d numbers found, %d made in %d steps", scan.Instructions, len(scan.Numbers), len(issued), s.Step)
			if name == "badsyscall" {
				const getppid = 5108
				require.Contains(t, scan.Numbers, uint64(getppid), "getppid is found")
				require.False(t, vm.ProbeSyscall(getppid).Recognized, "the VM rejects getppid")
			}
		})
	}
}

// runCountingSyscalls runs a guest in the VM without preimages, for at most 50M steps, and counts the
// syscall numbers it makes.
func runCountingSyscalls(t *testing.T, data []byte) (map[uint64]int, *vm.State, error) {
	s, _, err := vm.LoadProgram(data)
	require.NoError(t, err)
	m := vm.NewVM(s, vm.NewMemoryOracle(), nil, nil)
	issued := map[uint64]int{}
	for !s.Exited && s.Step < 50_000_000 {
		if n, ok := NextSyscall(s); ok {
			issued[n]++
		}
		if _, err := m.Step(false); err != nil {
			return issued, s, err
		}
	}
	return issued, s, nil
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
	require.Equal(t, []uint64{5000}, s.SortedNumbers(), "numbers %v", s.Numbers)
	require.Len(t, s.Unresolved, 1)
	require.Equal(t, "wrapper", s.Unresolved[0].Func)
	t.Log(s.Unresolved[0])
}

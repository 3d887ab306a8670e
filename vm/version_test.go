package vm

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// versionVM returns a VM running a state of version v whose thread is about to execute insn, with the
// given registers set (register number to value).
func versionVM(v Version, insn uint32, regs map[int]uint64) (*VM, *Thread) {
	s := NewState(testPC, HeapStart)
	s.Version = v
	writeInsn(s.Memory, testPC, insn)
	t := s.CurrentThread()
	for r, val := range regs {
		t.Registers[r] = val
	}
	return NewVM(s, NewMemoryOracle(), nil, nil), t
}

func TestVersionNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    Version
	}{{"multithreaded64-3", 6}, {"multithreaded64-4", 7}, {"multithreaded64-5", 8}} {
		got, err := ParseVersion(tc.name)
		if err != nil || got != tc.v || tc.v.String() != tc.name || !tc.v.Supported() {
			require.FailNow(t, fmt.Sprintf("%s: parsed %d, %v; %d is %q", tc.name, got, err, tc.v, tc.v.String()))
		}
	}
	for _, name := range []string{"multithreaded64-2", "multithreaded", "singlethreaded-2", "mt64", ""} {
		_, err := ParseVersion(name)
		require.ErrorIs(t, err, ErrUnsupportedVersion, "%q: %v", name, err)
	}
	for _, v := range []Version{0, 1, 2, 3, 4, 5, 9, 255} {
		if v.Supported() {
			require.FailNow(t, fmt.Sprintf("version %d supported", v))
		}
	}
}

// TestVersionRules are the differences between the versions, one row per rule and version: what a step
// leaves in v0 and a3, or the error it fails with.
func TestVersionRules(t *testing.T) {
	const buf = 0x2000
	dclz := rtype(0x1C, 4, 0, 2, 0, 0x24) // dclz v0, a0
	dclo := rtype(0x1C, 4, 0, 2, 0, 0x25) // dclo v0, a0
	type result struct {
		v0, a3 uint64
		err    error
	}
	ok := func(v0 uint64) result { return result{v0: v0} }
	fail := func(errno uint64) result { return result{v0: errno, a3: sysErrorSignal} }
	legacyFail := func(errno uint64) result { return result{v0: sysErrorSignal, a3: errno} }
	unknown := result{err: ErrUnrecognizedSyscall}
	invalid := result{err: ErrInvalidInstruction}
	tests := []struct {
		rule   string
		insn   uint32
		regs   map[int]uint64
		v6, v7 result // v8 is v7 unless noted
		v8     *result
	}{
		{"open fails with EBADF; v6 puts -1 in v0 and the errno in a3", syscallInsn, map[int]uint64{regV0: sysOpen},
			legacyFail(errnoEBADF), fail(errnoEBADF), nil},
		{"mmap past the heap end fails with EINVAL", syscallInsn, map[int]uint64{regV0: sysMmap, regA1: HeapEnd},
			legacyFail(errnoEINVAL), fail(errnoEINVAL), nil},
		{"fcntl of an unknown command", syscallInsn, map[int]uint64{regV0: sysFcntl, regA0: 0, regA1: 2},
			legacyFail(errnoEINVAL), fail(errnoEINVAL), nil},
		{"futex wait on a changed value is EAGAIN", syscallInsn, map[int]uint64{regV0: sysFutex, regA0: buf, regA1: futexWaitPrivate, regA2: 1},
			legacyFail(errnoEAGAIN), fail(errnoEAGAIN), nil},
		{"read of an unknown fd", syscallInsn, map[int]uint64{regV0: sysRead, regA0: 9, regA1: buf, regA2: 8},
			legacyFail(errnoEBADF), fail(errnoEBADF), nil},
		{"read of fd 100: unknown in v6, the eventfd (EAGAIN) later", syscallInsn, map[int]uint64{regV0: sysRead, regA0: fdEventFd, regA1: buf, regA2: 8},
			legacyFail(errnoEBADF), fail(errnoEAGAIN), nil},
		{"write of fd 100", syscallInsn, map[int]uint64{regV0: sysWrite, regA0: fdEventFd, regA1: buf, regA2: 8},
			legacyFail(errnoEBADF), fail(errnoEAGAIN), nil},
		{"eventfd2 exists from v7", syscallInsn, map[int]uint64{regV0: sysEventfd2, regA1: efdNonblock},
			unknown, ok(fdEventFd), nil},
		{"mprotect exists from v7", syscallInsn, map[int]uint64{regV0: sysMprotect},
			unknown, ok(0), nil},
		{"getrandom writes from v8", syscallInsn, map[int]uint64{regV0: sysGetrandom, regA0: buf, regA1: 8},
			ok(0), ok(0), &result{v0: 8}},
		{"dclz exists from v7", dclz, map[int]uint64{regA0: 1 << 60},
			invalid, ok(3), nil},
		{"dclo exists from v7", dclo, map[int]uint64{regA0: 0xF000_0000_0000_0000},
			invalid, ok(4), nil},
	}
	for _, tc := range tests {
		for _, v := range Versions {
			want := tc.v7
			switch {
			case v == MultiThreaded64v3:
				want = tc.v6
			case v == MultiThreaded64v5 && tc.v8 != nil:
				want = *tc.v8
			}
			t.Run(tc.rule+"/"+v.String(), func(t *testing.T) {
				m, th := versionVM(v, tc.insn, tc.regs)
				err := stepBoth(t, m)
				if want.err != nil {
					require.ErrorIs(t, err, want.err, "got %v, want %v", err, want.err)
					return
				}
				require.NoError(t, err)
				if th.Registers[regV0] != want.v0 || th.Registers[regA3] != want.a3 {
					require.FailNow(t, fmt.Sprintf("v0, a3 = %#x, %#x, want %#x, %#x", th.Registers[regV0], th.Registers[regA3], want.v0, want.a3))
				}
			})
		}
	}
}

// TestVersionRulesOnTheFastPath runs dclz through Run, whose fast path executes it inline from v7 and must
// leave it to the step (which fails it) in v6.
func TestVersionRulesOnTheFastPath(t *testing.T) {
	dclz := rtype(0x1C, 4, 0, 2, 0, 0x24)
	for _, v := range Versions {
		m, th := versionVM(v, dclz, map[int]uint64{regA0: 1})
		err := m.Run(1)
		if v == MultiThreaded64v3 {
			require.ErrorIs(t, err, ErrInvalidInstruction, "%s: %v", v, err)
			continue
		}
		if err != nil || th.Registers[regV0] != 63 {
			require.FailNow(t, fmt.Sprintf("%s: %v, v0 = %d", v, err, th.Registers[regV0]))
		}
	}
}

func TestUnsupportedVersionDoesNotRun(t *testing.T) {
	m, _ := versionVM(5, syscallInsn, nil)
	err := m.Run(1)
	require.ErrorIs(t, err, ErrUnsupportedVersion, "Run: %v", err)
	_, err = m.Step(true)
	require.ErrorIs(t, err, ErrUnsupportedVersion, "Step: %v", err)
}

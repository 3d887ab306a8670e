package vm

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

var syscallInsn = special(0, 0, 0, 0, 0x0C)

// syscallVM returns a VM whose single thread is about to make syscall num
// with the given arguments.
func syscallVM(num uint64, args ...uint64) (*VM, *Thread, *bytes.Buffer) {
	m, th, out := newTestVM(syscallInsn)
	th.Registers[regV0] = num
	for i, a := range args {
		th.Registers[regA0+i] = a
	}
	return m, th, out
}

// checkReturn checks the syscall results and that the PC advanced.
func checkReturn(t *testing.T, th *Thread, v0, v1 uint64) {
	t.Helper()
	require.Equal(t, v0, th.Registers[regV0], "v0, a3 = %#x, %#x, want %#x, %#x", th.Registers[regV0], th.Registers[regA3], v0, v1)
	require.Equal(t, v1, th.Registers[regA3], "v0, a3 = %#x, %#x, want %#x, %#x", th.Registers[regV0], th.Registers[regA3], v0, v1)
	require.Equal(t, uint64(testPC+4), th.Cpu.PC, "PC not advanced: %#x %#x", th.Cpu.PC, th.Cpu.NextPC)
	require.Equal(t, uint64(testPC+8), th.Cpu.NextPC, "PC not advanced: %#x %#x", th.Cpu.PC, th.Cpu.NextPC)
}

func TestSimpleSyscalls(t *testing.T) {
	tests := []struct {
		rule   string
		num    uint64
		args   []uint64
		v0, v1 uint64
	}{
		{"brk returns the fixed program break", sysBrk, nil, ProgramBreak, 0},
		{"getpid is 0", sysGetpid, nil, 0, 0},
		{"gettid is the thread id", sysGettid, nil, 0, 0},
		{"open fails with EBADF", sysOpen, nil, errnoEBADF, sysErrorSignal},
		{"fcntl F_GETFD on a known fd", sysFcntl, []uint64{FdPreimageRead, 1}, 0, 0},
		{"fcntl F_GETFD on an unknown fd", sysFcntl, []uint64{7, 1}, errnoEBADF, sysErrorSignal},
		{"fcntl F_GETFL of a read fd", sysFcntl, []uint64{FdHintRead, 3}, 0, 0},
		{"fcntl F_GETFL of a write fd", sysFcntl, []uint64{FdStderr, 3}, 1, 0},
		{"fcntl F_GETFL on an unknown fd", sysFcntl, []uint64{fdEventFd, 3}, errnoEBADF, sysErrorSignal},
		{"fcntl unknown command", sysFcntl, []uint64{0, 2}, errnoEINVAL, sysErrorSignal},
		{"mmap with a hint returns the hint", sysMmap, []uint64{0x5000, 0x10}, 0x5000, 0},
		{"munmap is a no-op", sysMunmap, []uint64{1, 2, 3}, 0, 0},
		{"mprotect is a no-op", sysMprotect, nil, 0, 0},
		{"sigaltstack is a no-op", sysSigaltstack, nil, 0, 0},
		{"eventfd2 needs EFD_NONBLOCK", sysEventfd2, []uint64{0, 0}, errnoEINVAL, sysErrorSignal},
		{"eventfd2 returns the eventfd", sysEventfd2, []uint64{0, efdNonblock}, fdEventFd, 0},
		{"read on stdin is EOF", sysRead, []uint64{FdStdin, 0x2000, 10}, 0, 0},
		{"read on the hint reply fd claims everything", sysRead, []uint64{FdHintRead, 0x2000, 10}, 10, 0},
		{"read on the eventfd would block", sysRead, []uint64{fdEventFd, 0x2000, 8}, errnoEAGAIN, sysErrorSignal},
		{"read on an unknown fd", sysRead, []uint64{9, 0x2000, 8}, errnoEBADF, sysErrorSignal},
		{"write on the eventfd would block", sysWrite, []uint64{fdEventFd, 0x2000, 8}, errnoEAGAIN, sysErrorSignal},
		{"write on an unknown fd", sysWrite, []uint64{0, 0x2000, 8}, errnoEBADF, sysErrorSignal},
		{"futex with an unknown op", sysFutex, []uint64{0x2000, 1, 0}, errnoEINVAL, sysErrorSignal},
		{"clock_gettime with an unknown clock", sysClockGettime, []uint64{2, 0x2000}, errnoEINVAL, sysErrorSignal},
	}
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			m, th, _ := syscallVM(tc.num, tc.args...)
			mustStep(t, m)
			checkReturn(t, th, tc.v0, tc.v1)
		})
	}
}

func TestUnknownSyscall(t *testing.T) {
	m, _, _ := syscallVM(5153) // prctl
	_, err := m.Step(false)
	require.ErrorIs(t, err, ErrUnrecognizedSyscall, "got %v", err)
}

func TestMmapHeap(t *testing.T) {
	tests := []struct {
		rule     string
		heap     uint64
		size     uint64
		v0, v1   uint64
		wantHeap uint64
	}{
		{"allocates from the heap", HeapStart, 0x2000, HeapStart, 0, HeapStart + 0x2000},
		{"rounds the size up to pages", HeapStart, 1, HeapStart, 0, HeapStart + PageSize},
		{"fails past the heap end", HeapEnd - PageSize, 2 * PageSize, errnoEINVAL, sysErrorSignal, HeapEnd - PageSize},
		{"may end exactly at the heap end", HeapEnd - PageSize, PageSize, HeapEnd - PageSize, 0, HeapEnd},
		{"fails when the rounded size overflows", HeapStart, ^uint64(0), errnoEINVAL, sysErrorSignal, HeapStart},
	}
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			m, th, _ := syscallVM(sysMmap, 0, tc.size)
			m.state.Heap = tc.heap
			mustStep(t, m)
			checkReturn(t, th, tc.v0, tc.v1)
			require.Equal(t, tc.wantHeap, m.state.Heap, "heap %#x, want %#x", m.state.Heap, tc.wantHeap)
		})
	}
}

func TestExitSyscalls(t *testing.T) {
	t.Run("exit_group ends the VM without advancing", func(t *testing.T) {
		m, th, _ := syscallVM(sysExitGroup, 0x1_05)
		mustStep(t, m)
		require.True(t, m.state.Exited, "bad exit_group")
		require.Equal(t, uint8(5), m.state.ExitCode, "bad exit_group")
		require.Equal(t, uint64(testPC), th.Cpu.PC, "bad exit_group")
		require.Equal(t, uint8(StatusPanic), m.state.VMStatus(), "exit code 5 must be a panic status")
		step := m.state.Step
		mustStep(t, m)
		require.Equal(t, step, m.state.Step, "steps after exit must not count")
	})
	t.Run("exit of the last thread ends the VM", func(t *testing.T) {
		m, th, _ := syscallVM(sysExit, 1)
		mustStep(t, m)
		require.True(t, th.Exited, "bad exit")
		require.True(t, m.state.Exited, "bad exit")
		require.Equal(t, uint8(1), m.state.ExitCode, "bad exit")
		require.Equal(t, uint8(StatusInvalid), m.state.VMStatus(), "bad exit")
	})
	t.Run("exit of one of two threads", func(t *testing.T) {
		m, th, _ := syscallVM(sysExit, 3)
		other := &Thread{ThreadID: 7, Cpu: Cpu{PC: testPC, NextPC: testPC + 4}}
		m.state.RightThreadStack = append(m.state.RightThreadStack, other)
		mustStep(t, m)
		require.True(t, th.Exited, "the thread must exit alone")
		require.Equal(t, uint8(3), th.ExitCode, "the thread must exit alone")
		require.False(t, m.state.Exited, "the thread must exit alone")
		mustStep(t, m) // pops the exited thread
		require.Equal(t, 1, m.state.ThreadCount(), "exited thread not popped")
		require.True(t, m.state.TraverseRight, "exited thread not popped")
		require.Same(t, other, m.state.CurrentThread(), "exited thread not popped")
	})
}

func TestClone(t *testing.T) {
	t.Run("creates a thread that runs first", func(t *testing.T) {
		m, parent, _ := syscallVM(sysClone, validCloneFlags, 0x7000_0000)
		parent.Registers[20] = 42
		parent.Cpu.HI, parent.Cpu.LO = 1, 2
		mustStep(t, m)
		s := m.state
		checkReturn(t, parent, 1, 0)
		child := s.CurrentThread()
		require.NotSame(t, parent, child, "child not pushed")
		require.Equal(t, uint64(1), child.ThreadID, "child not pushed")
		require.Equal(t, uint64(2), s.NextThreadID, "child not pushed")
		require.Len(t, s.LeftThreadStack, 2, "child not pushed")
		require.Equal(t, (Cpu{PC: testPC + 4, NextPC: testPC + 8, HI: 1, LO: 2}), child.Cpu, "child cpu %+v", child.Cpu)
		require.Equal(t, uint64(0x7000_0000), child.Registers[regSP], "child registers")
		require.Equal(t, uint64(0), child.Registers[regV0], "child registers")
		require.Equal(t, uint64(0), child.Registers[regA3], "child registers")
		require.Equal(t, uint64(42), child.Registers[20], "child registers")
		require.Equal(t, uint64(0), s.StepsSinceLastContextSwitch, "clone must reset the context switch counter")
	})
	t.Run("unsupported flags end the VM with a panic", func(t *testing.T) {
		m, _, _ := syscallVM(sysClone, validCloneFlags|0x80000, 0)
		mustStep(t, m)
		require.True(t, m.state.Exited, "expected panic exit")
		require.Equal(t, uint8(StatusPanic), m.state.ExitCode, "expected panic exit")
	})
}

func TestYieldingSyscalls(t *testing.T) {
	for _, tc := range []struct {
		rule string
		num  uint64
		args []uint64
	}{
		{"sched_yield", sysSchedYield, nil},
		{"nanosleep", sysNanosleep, nil},
		{"futex wake", sysFutex, []uint64{0x2000, futexWakePrivate, 1}},
		{"futex wait on the expected value", sysFutex, []uint64{0x2004, futexWaitPrivate, 0xAABBCCDD}},
		{"futex wait ignores the low address bits", sysFutex, []uint64{0x2007, futexWaitPrivate, 0x1_AABBCCDD}},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			m, th, _ := syscallVM(tc.num, tc.args...)
			m.mem.SetWord(0x2000, 0x11223344_AABBCCDD)
			m.state.StepsSinceLastContextSwitch = 10
			mustStep(t, m)
			checkReturn(t, th, 0, 0)
			s := m.state
			require.True(t, s.TraverseRight, "thread not moved to the other stack")
			require.Len(t, s.RightThreadStack, 1, "thread not moved to the other stack")
			require.Empty(t, s.LeftThreadStack, "thread not moved to the other stack")
			require.Equal(t, uint64(0), s.StepsSinceLastContextSwitch, "thread not moved to the other stack")
		})
	}
	t.Run("futex wait on another value fails with EAGAIN", func(t *testing.T) {
		m, th, _ := syscallVM(sysFutex, 0x2000, futexWaitPrivate, 5)
		m.mem.SetWord(0x2000, 0x11223344_AABBCCDD)
		mustStep(t, m)
		checkReturn(t, th, errnoEAGAIN, sysErrorSignal)
	})
}

func TestClockGettime(t *testing.T) {
	m, th, _ := syscallVM(sysClockGettime, clockMonotonic, 0x2004)
	m.state.Step = 3*HZ + 41
	mustStep(t, m) // step becomes 3*HZ+42
	checkReturn(t, th, 0, 0)
	require.Equal(t, uint64(3), m.mem.GetWord(0x2000), "monotonic time %d.%d", m.mem.GetWord(0x2000), m.mem.GetWord(0x2008))
	require.Equal(t, uint64(42*(1e9/HZ)), m.mem.GetWord(0x2008), "monotonic time %d.%d", m.mem.GetWord(0x2000), m.mem.GetWord(0x2008))
	m, _, _ = syscallVM(sysClockGettime, clockRealtime, 0x2000)
	m.mem.SetWord(0x2000, 9)
	m.mem.SetWord(0x2008, 9)
	m.state.Step = 12345
	mustStep(t, m)
	require.Equal(t, uint64(0), m.mem.GetWord(0x2000), "realtime is the epoch")
	require.Equal(t, uint64(0), m.mem.GetWord(0x2008), "realtime is the epoch")
}

func TestGetrandom(t *testing.T) {
	for _, tc := range []struct {
		rule       string
		addr, size uint64
		n          uint64
		mask       uint64
	}{
		{"fills a whole word", 0x2000, 16, 8, ones},
		{"fills up to the end of the word", 0x2005, 16, 3, 0xFFFFFF},
		{"fills the requested bytes", 0x2002, 2, 2, 0x0000FFFF_00000000},
		{"zero bytes", 0x2000, 0, 0, 0},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			m, th, _ := syscallVM(sysGetrandom, tc.addr, tc.size)
			const old = 0x01020304_05060708
			m.mem.SetWord(0x2000, old)
			m.state.Step = 99
			mustStep(t, m)
			checkReturn(t, th, tc.n, 0)
			want := old&^tc.mask | splitmix64(100)&tc.mask
			got := m.mem.GetWord(0x2000)
			require.Equal(t, want, got, "memory %#x, want %#x", got, want)
		})
	}
	// Reference value of SplitMix64 seeded with 0.
	require.Equal(t, uint64(0xe220a8397b1dcdaf), splitmix64(0), "splitmix64(0) = %#x", splitmix64(0))
}

func TestWriteStdout(t *testing.T) {
	m, th, out := syscallVM(sysWrite, FdStdout, 0x2003, 5)
	m.mem.SetRange(0x2003, []byte("hello, world"))
	_, err := m.Step(false)
	require.NoError(t, err)
	checkReturn(t, th, 5, 0)
	require.Equal(t, "hello", out.String(), "stdout %q", out.String())
}

func TestHints(t *testing.T) {
	o := NewMemoryOracle()
	m, th, _ := syscallVM(sysWrite, FdHintWrite, 0x2000, 6)
	m.oracle.oracle = o
	// Two hints, "ab" and "cde", the second split across writes.
	m.mem.SetRange(0x2000, []byte{0, 0, 0, 2, 'a', 'b', 0, 0, 0, 3, 'c', 'd', 'e'})
	_, err := m.Step(false)
	require.NoError(t, err)
	checkReturn(t, th, 6, 0)
	h := o.Hints()
	require.Len(t, h, 1, "hints %q, buffered %x", h, m.state.LastHint)
	require.Equal(t, "ab", string(h[0]), "hints %q, buffered %x", h, m.state.LastHint)
	require.Empty(t, m.state.LastHint, "hints %q, buffered %x", h, m.state.LastHint)
	for _, chunk := range [][2]uint64{{0x2006, 5}, {0x200B, 2}} {
		th.Cpu.PC, th.Cpu.NextPC = testPC, testPC+4
		th.Registers[regV0], th.Registers[regA1], th.Registers[regA2] = sysWrite, chunk[0], chunk[1]
		_, err := m.Step(false)
		require.NoError(t, err)
	}
	h = o.Hints()
	require.Len(t, h, 2, "hints %q, buffered %x", h, m.state.LastHint)
	require.Equal(t, "cde", string(h[1]), "hints %q, buffered %x", h, m.state.LastHint)
	require.Empty(t, m.state.LastHint, "hints %q, buffered %x", h, m.state.LastHint)
}

func TestPreimageSyscalls(t *testing.T) {
	o := NewMemoryOracle()
	key := [32]byte{2, 0xAA}
	preimage := []byte("0123456789abcdefghijklmnopqrstuvwxyz!")
	o.Set(key, preimage)
	m, th, _ := syscallVM(sysWrite, FdPreimageWrite, 0x2000, 32)
	m.oracle.oracle = o
	m.state.PreimageOffset = 77
	m.mem.SetRange(0x2000, key[:])

	// Each write shifts at most the rest of one word into the key.
	call := func(num, a0, a1, a2 uint64) {
		t.Helper()
		th.Cpu.PC, th.Cpu.NextPC = testPC, testPC+4
		th.Registers[regV0], th.Registers[regA0], th.Registers[regA1], th.Registers[regA2] = num, a0, a1, a2
		mustStep(t, m)
	}
	call(sysWrite, FdPreimageWrite, 0x2000, 32)
	checkReturn(t, th, 8, 0)
	require.Equal(t, uint64(0), m.state.PreimageOffset, "key %x", m.state.PreimageKey)
	require.False(t, m.state.PreimageKey != [32]byte(append(make([]byte, 24), key[:8]...)), "key %x", m.state.PreimageKey)
	call(sysWrite, FdPreimageWrite, 0x200B, 32)
	checkReturn(t, th, 5, 0)
	for addr := uint64(0x2010); addr < 0x2020; addr += 8 {
		call(sysWrite, FdPreimageWrite, addr, 8)
	}
	call(sysWrite, FdPreimageWrite, 0x2008, 3)
	// The key now ends with key[0:8], key[11:16], key[16:32], key[8:11].
	want := append(append(append(append([]byte{}, key[:8]...), key[11:16]...), key[16:32]...), key[8:11]...)
	require.Equal(t, want, m.state.PreimageKey[32-len(want):], "key %x", m.state.PreimageKey)
	m.state.PreimageKey = key

	// Reads return at most the rest of one word, starting with the length.
	var got []byte
	addr := uint64(0x3003)
	for {
		call(sysRead, FdPreimageRead, addr, 100)
		n := th.Registers[regV0]
		require.Equal(t, uint64(0), th.Registers[regA3], "read failed")
		require.NotEqual(t, uint64(0), n, "read %d bytes at %#x", n, addr)
		require.LessOrEqual(t, n, 8-addr%8, "read %d bytes at %#x", n, addr)
		got = append(got, m.mem.ReadRange(addr, n)...)
		addr += n
		if m.state.PreimageOffset == uint64(8+len(preimage)) {
			break
		}
	}
	require.Equal(t, uint64(len(preimage)), binary.BigEndian.Uint64(got[:8]), "read %q", got)
	require.Equal(t, preimage, got[8:], "read %q", got)
	req, size := m.PreimageStats()
	require.Equal(t, 1, req, "oracle asked %d times for %d bytes", req, size)
	require.Equal(t, len(preimage), size, "oracle asked %d times for %d bytes", req, size)

	// A read with a small count.
	m.state.PreimageOffset = 8
	call(sysRead, FdPreimageRead, 0x4000, 2)
	checkReturn(t, th, 2, 0)
	require.Equal(t, uint64(0x3031), m.mem.GetWord(0x4000)>>48, "mem %#x", m.mem.GetWord(0x4000))

	// Reading past the end is an error.
	th.Cpu.PC, th.Cpu.NextPC = testPC, testPC+4
	th.Registers[regV0], th.Registers[regA0], th.Registers[regA1], th.Registers[regA2] = sysRead, FdPreimageRead, 0x4000, 8
	m.state.PreimageOffset = uint64(8 + len(preimage))
	_, err := m.Step(false)
	require.ErrorIs(t, err, ErrPreimageOutOfBounds, "got %v", err)
}

func TestLoadLinkedStoreConditional(t *testing.T) {
	const addr = 0x2004
	ll := itype(0x30, 8, 10, 0)
	sc := itype(0x38, 8, 11, 0)
	lld := itype(0x34, 9, 10, 0)
	scd := itype(0x3C, 9, 11, 0)
	setup := func(insns ...uint32) (*VM, *Thread) {
		m, th, _ := newTestVM(insns...)
		th.Registers[8] = addr
		th.Registers[9] = addr &^ 7
		th.Registers[11] = 0x1_DEADBEEF
		m.mem.SetWord(0x2000, 0x11111111_80000000)
		return m, th
	}
	t.Run("ll then sc succeeds", func(t *testing.T) {
		m, th := setup(ll, sc)
		mustStep(t, m)
		s := m.state
		require.Equal(t, uint64(0xFFFFFFFF_80000000), th.Registers[10], "ll")
		require.Equal(t, uint8(LLStatusActive32bit), s.LLReservationStatus, "ll")
		require.Equal(t, uint64(addr), s.LLAddress, "ll")
		require.Equal(t, uint64(0), s.LLOwnerThread, "ll")
		mustStep(t, m)
		require.Equal(t, uint64(1), th.Registers[11], "sc")
		require.Equal(t, uint64(0x11111111_DEADBEEF), m.mem.GetWord(0x2000), "sc")
		require.Equal(t, uint8(LLStatusNone), s.LLReservationStatus, "sc")
		require.Equal(t, uint64(0), s.LLAddress, "sc")
	})
	t.Run("a store to the word breaks the reservation", func(t *testing.T) {
		m, th := setup(ll, itype(0x28, 8, 0, 1), sc) // ll; sb r0, 1(r8); sc
		mustStep(t, m)
		mustStep(t, m)
		require.Equal(t, uint8(LLStatusNone), m.state.LLReservationStatus, "reservation kept")
		mustStep(t, m)
		require.Equal(t, uint64(0), th.Registers[11], "sc must fail")
		require.Equal(t, uint64(0x11111111_80000000), m.mem.GetWord(0x2000), "sc must fail")
	})
	t.Run("sc needs the same width", func(t *testing.T) {
		m, th := setup(lld, itype(0x38, 9, 11, 0))
		mustStep(t, m)
		require.Equal(t, uint64(0x11111111_80000000), th.Registers[10], "lld")
		require.Equal(t, uint8(LLStatusActive64bit), m.state.LLReservationStatus, "lld")
		mustStep(t, m)
		require.Equal(t, uint64(0), th.Registers[11], "sc after lld must fail")
	})
	t.Run("scd after lld succeeds", func(t *testing.T) {
		m, th := setup(lld, scd)
		mustStep(t, m)
		mustStep(t, m)
		require.Equal(t, uint64(1), th.Registers[11], "scd")
		require.Equal(t, uint64(0x1_DEADBEEF), m.mem.GetWord(0x2000), "scd")
	})
	t.Run("sc by another thread fails", func(t *testing.T) {
		m, th := setup(ll, sc)
		mustStep(t, m)
		th.ThreadID = 5
		mustStep(t, m)
		require.Equal(t, uint64(0), th.Registers[11], "sc by another owner must fail and keep the reservation")
		require.Equal(t, uint8(LLStatusActive32bit), m.state.LLReservationStatus, "sc by another owner must fail and keep the reservation")
	})
}

func TestPreemption(t *testing.T) {
	m, th, _ := newTestVM()
	other := &Thread{ThreadID: 1, Cpu: Cpu{PC: testPC, NextPC: testPC + 4}}
	m.state.LeftThreadStack = []*Thread{other, th}
	m.state.StepsSinceLastContextSwitch = SchedQuantum - 1
	mustStep(t, m) // last step of the quantum
	require.Same(t, th, m.state.CurrentThread(), "thread must run its last quantum step")
	require.Equal(t, uint64(testPC+4), th.Cpu.PC, "thread must run its last quantum step")
	mustStep(t, m) // preemption, no instruction
	s := m.state
	require.Same(t, other, s.CurrentThread(), "thread not preempted")
	require.Len(t, s.RightThreadStack, 1, "thread not preempted")
	require.False(t, s.TraverseRight, "thread not preempted")
	require.Equal(t, uint64(0), s.StepsSinceLastContextSwitch, "thread not preempted")
	require.Equal(t, uint64(testPC+4), th.Cpu.PC, "thread not preempted")
	mustStep(t, m)
	mustStep(t, m) // still the same thread
	require.Equal(t, uint64(testPC+8), other.Cpu.PC, "other thread must run")
	require.Equal(t, uint64(2), s.StepsSinceLastContextSwitch, "other thread must run")
	s.StepsSinceLastContextSwitch = SchedQuantum
	mustStep(t, m) // left stack runs empty: switch direction
	require.True(t, s.TraverseRight, "direction must flip")
	require.Same(t, other, s.CurrentThread(), "direction must flip")
	require.Len(t, s.RightThreadStack, 2, "direction must flip")
}

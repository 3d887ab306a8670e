package vm

import (
	"encoding/binary"
	"fmt"
)

// syscall executes the syscall instruction of thread t. The syscall number
// is in v0 and the arguments in a0..a2; results go to v0 and a3 (0, or
// ^0 with the errno in v0 on failure).
func (m *VM) syscall(t *Thread) error {
	s := m.state
	regs := &t.Registers
	num, a0, a1, a2 := regs[regV0], regs[regA0], regs[regA1], regs[regA2]
	var v0, v1 uint64

	switch num {
	case sysMmap:
		v0, v1, s.Heap = mmap(a0, a1, s.Heap)
	case sysBrk:
		v0 = ProgramBreak
	case sysClone:
		if a0 != validCloneFlags {
			s.Exited = true
			s.ExitCode = StatusPanic
			return nil
		}
		child := &Thread{
			ThreadID:  s.NextThreadID,
			Cpu:       Cpu{PC: t.Cpu.NextPC, NextPC: t.Cpu.NextPC + 4, LO: t.Cpu.LO, HI: t.Cpu.HI},
			Registers: t.Registers,
		}
		child.Registers[regSP] = a1
		child.Registers[regV0] = 0 // the child sees clone return 0...
		child.Registers[regA3] = 0 // ...without error
		s.NextThreadID++
		caller, target := t.Cpu.PC, t.Cpu.NextPC
		syscallReturn(t, child.ThreadID, 0)
		m.pushThread(child) // the child runs first
		if m.stacks != nil {
			m.stacks.push(child.ThreadID, caller, target) // the child's stack starts at the clone, as in Cannon
		}
		return nil
	case sysExitGroup:
		s.Exited = true
		s.ExitCode = uint8(a0)
		return nil
	case sysRead:
		var err error
		v0, v1, err = m.sysRead(a0, a1, a2)
		if err != nil {
			return err
		}
	case sysWrite:
		v0, v1 = m.sysWrite(a0, a1, a2)
	case sysFcntl:
		v0, v1 = fcntl(a0, a1)
	case sysGettid:
		v0 = t.ThreadID
	case sysExit:
		t.Exited = true
		t.ExitCode = uint8(a0)
		if s.ThreadCount() == 1 {
			s.Exited = true
			s.ExitCode = uint8(a0)
		}
		return nil
	case sysFutex:
		// Futex words are 32-bit: ignore the low two address bits.
		addr := a0 &^ 3
		switch a1 {
		case futexWaitPrivate:
			if uint32(m.loadSubWord(addr, 4, false)) != uint32(a2) {
				v0, v1 = errnoEAGAIN, sysErrorSignal
			} else {
				m.yield(t)
				return nil
			}
		case futexWakePrivate:
			m.yield(t)
			return nil
		default:
			v0, v1 = errnoEINVAL, sysErrorSignal
		}
	case sysSchedYield, sysNanosleep:
		m.yield(t)
		return nil
	case sysOpen:
		v0, v1 = errnoEBADF, sysErrorSignal
	case sysClockGettime:
		if a0 == clockRealtime || a0 == clockMonotonic {
			// The realtime clock is the Unix epoch; the monotonic clock
			// runs at HZ steps per second.
			var secs, nsecs uint64
			if a0 == clockMonotonic {
				secs = s.Step / HZ
				nsecs = (s.Step % HZ) * (1_000_000_000 / HZ)
			}
			addr := a1 & addrMask
			m.trackMem(addr)
			m.mem.setWord(addr, secs)
			m.memoryUpdated(addr)
			m.trackMem2(addr + 8)
			m.mem.setWord(addr+8, nsecs)
			m.memoryUpdated(addr + 8)
		} else {
			v0, v1 = errnoEINVAL, sysErrorSignal
		}
	case sysGetpid:
		v0 = 0
	case sysGetrandom:
		if m.rules.getrandom {
			v0 = m.getrandom(a0, a1)
		} // else: returns 0, nothing written
	case sysMprotect, sysEventfd2:
		if !m.rules.eventfd {
			return fmt.Errorf("%w: %d", ErrUnrecognizedSyscall, num)
		}
		if num == sysEventfd2 {
			if a1&efdNonblock == 0 {
				v0, v1 = errnoEINVAL, sysErrorSignal // only non-blocking eventfds
			} else {
				v0 = fdEventFd
			}
		}
	case sysMunmap, sysGetaffinity, sysMadvise, sysRtSigprocmsk,
		sysSigaltstack, sysRtSigaction, sysPrlimit64, sysClose, sysPread64,
		sysStat, sysFstat, sysOpenat, sysReadlink, sysReadlinkat, sysIoctl,
		sysEpollCreate1, sysPipe2, sysEpollCtl, sysEpollPwait, sysUname,
		sysGetuid, sysGetgid, sysMincore, sysTgkill, sysSetitimer,
		sysTimerCreate, sysTimerSettime, sysTimerDelete, sysGetrlimit, sysLseek:
		// Accepted and ignored: return 0 without error.
	default:
		return fmt.Errorf("%w: %d", ErrUnrecognizedSyscall, num)
	}
	if v1 == sysErrorSignal && m.rules.legacyErrno {
		v0, v1 = sysErrorSignal, v0 // multithreaded64-3 returned -1 in v0 and the errno in a3
	}
	syscallReturn(t, v0, v1)
	return nil
}

// syscallReturn stores the syscall results and advances the PC.
func syscallReturn(t *Thread, v0, v1 uint64) {
	t.Registers[regV0] = v0
	t.Registers[regA3] = v1
	t.Cpu.PC = t.Cpu.NextPC
	t.Cpu.NextPC += 4
}

// yield completes a blocking syscall with 0 and switches to the next thread.
func (m *VM) yield(t *Thread) {
	syscallReturn(t, 0, 0)
	m.preemptThread(t)
}

// mmap implements mmap: with a zero address hint it allocates page-rounded
// space from the heap; with a hint it returns the hint.
func mmap(a0, a1, heap uint64) (v0, v1, newHeap uint64) {
	size := a1
	if size&pageAddrMask != 0 {
		size += PageSize - size&pageAddrMask
	}
	if a0 != 0 {
		return a0, 0, heap
	}
	newHeap = heap + size
	if newHeap > HeapEnd || newHeap < heap || size < a1 {
		return errnoEINVAL, sysErrorSignal, heap
	}
	return heap, 0, newHeap
}

// fcntl supports F_GETFD (1) and F_GETFL (3) on the VM's fds.
func fcntl(fd, cmd uint64) (v0, v1 uint64) {
	switch cmd {
	case 1: // F_GETFD: no flags on any known fd
		switch fd {
		case FdStdin, FdStdout, FdStderr, FdHintRead, FdHintWrite, FdPreimageRead, FdPreimageWrite:
			return 0, 0
		}
		return errnoEBADF, sysErrorSignal
	case 3: // F_GETFL
		switch fd {
		case FdStdin, FdHintRead, FdPreimageRead:
			return 0, 0 // O_RDONLY
		case FdStdout, FdStderr, FdHintWrite, FdPreimageWrite:
			return 1, 0 // O_WRONLY
		}
		return errnoEBADF, sysErrorSignal
	}
	return errnoEINVAL, sysErrorSignal
}

// sysRead implements read(fd=a0, buf=a1, count=a2).
func (m *VM) sysRead(fd, addr, count uint64) (v0, v1 uint64, err error) {
	s := m.state
	if fd == fdEventFd && m.rules.eventfd {
		return errnoEAGAIN, sysErrorSignal, nil // never signalled
	}
	switch fd {
	case FdStdin:
		return 0, 0, nil // always at end of input
	case FdPreimageRead:
		// At most the rest of the 64-bit word at addr is filled per read.
		eff := addr & addrMask
		m.trackMem(eff)
		mem := m.mem.getWord(eff)
		dat, n, err := m.oracle.read(s.PreimageKey, s.PreimageOffset)
		if err != nil {
			return 0, 0, err
		}
		align := addr & 7
		n = min(n, 8-align, count)
		var w [8]byte
		binary.BigEndian.PutUint64(w[:], mem)
		copy(w[align:], dat[:n])
		m.mem.setWord(eff, binary.BigEndian.Uint64(w[:]))
		m.memoryUpdated(eff)
		s.PreimageOffset += n
		return n, 0, nil
	case FdHintRead:
		return count, 0, nil // hint replies are acknowledged and dropped
	}
	return errnoEBADF, sysErrorSignal, nil
}

// sysWrite implements write(fd=a0, buf=a1, count=a2).
func (m *VM) sysWrite(fd, addr, count uint64) (v0, v1 uint64) {
	s := m.state
	if fd == fdEventFd && m.rules.eventfd {
		return errnoEAGAIN, sysErrorSignal // as if the counter were full
	}
	switch fd {
	case FdStdout:
		_ = m.mem.WriteRangeTo(m.stdout, addr, count)
		return count, 0
	case FdStderr:
		_ = m.mem.WriteRangeTo(m.stderr, addr, count)
		return count, 0
	case FdHintWrite:
		// Hints are framed as uint32be(len) ++ hint; forward complete ones.
		buf := append(s.LastHint, m.mem.ReadRange(addr, count)...)
		for len(buf) >= 4 {
			n := binary.BigEndian.Uint32(buf[:4])
			if uint64(n) > uint64(len(buf)-4) {
				break
			}
			m.oracle.oracle.Hint(buf[4 : 4+n])
			buf = buf[4+n:]
		}
		s.LastHint = buf
		return count, 0
	case FdPreimageWrite:
		// Shift up to the rest of the word at addr into the key from the
		// right, and restart reading at offset 0.
		eff := addr & addrMask
		m.trackMem(eff)
		mem := m.mem.getWord(eff)
		align := addr & 7
		n := min(count, 8-align)
		var w [8]byte
		binary.BigEndian.PutUint64(w[:], mem)
		key := s.PreimageKey
		copy(key[:], key[n:])
		copy(key[32-n:], w[align:align+n])
		s.PreimageKey = key
		s.PreimageOffset = 0
		return n, 0
	}
	return errnoEBADF, sysErrorSignal
}

// getrandom fills up to the rest of the 64-bit word at addr with bytes of
// splitmix64(step) and returns the number of bytes written.
func (m *VM) getrandom(addr, count uint64) uint64 {
	eff := addr & addrMask
	m.trackMem(eff)
	mem := m.mem.getWord(eff)
	index := addr - eff
	n := min(count, 8-index)
	mask := uint64(1)<<(n*8) - 1
	mask <<= (8 - n) * 8
	mask >>= index * 8
	m.mem.setWord(eff, mem&^mask|splitmix64(m.state.Step)&mask)
	m.memoryUpdated(eff)
	return n
}

// splitmix64 is the SplitMix64 output function applied to seed.
func splitmix64(seed uint64) uint64 {
	z := seed + 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

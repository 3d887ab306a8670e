package vm

import (
	"errors"
	"fmt"
	"io"
)

// Errors of invalid executions. Each is a case where Cannon panics and the
// MIPS64 contract reverts: the step has no valid post-state. After Step
// returns one of them the VM state is unspecified and must be discarded.
var (
	ErrInvalidInstruction  = errors.New("invalid instruction")
	ErrUnalignedPC         = errors.New("unaligned instruction fetch")
	ErrBranchInDelaySlot   = errors.New("branch in delay slot")
	ErrJumpInDelaySlot     = errors.New("jump in delay slot")
	ErrDivideByZero        = errors.New("instruction divide by zero")
	ErrUnrecognizedSyscall = errors.New("unrecognized syscall")
	ErrPreimageOutOfBounds = errors.New("preimage offset out-of-bounds")
	ErrEmptyThreadStack    = errors.New("active thread stack is empty")
)

// VM executes a State. Create it with NewVM; it then owns the state.
type VM struct {
	state  *State
	mem    *Memory
	oracle preimageReader
	stdout io.Writer
	stderr io.Writer

	// rules are the state version's; versionErr is set for a state version the VM does not run.
	rules      rules
	versionErr error

	// stats counts Cannon's run statistics once EnableStats is called; stacks tracks call stacks once
	// EnableDebug is called (both nil otherwise). fastCodeLimit is the first code page index that Run's
	// fast path leaves to step, so that step counts its instruction cache misses.
	stats         *statsTracker
	stacks        *callStacks
	fastCodeLimit uint64

	// Memory proofs of the current step (see witness.go). As in Cannon they
	// are only replaced when a proof step accesses memory.
	proof         bool
	lastMemAccess uint64
	memProof      [MemProofSize]byte
	memProof2     [MemProofSize]byte
}

// NewVM returns a VM running s. The guest's writes to fds 1 and 2 go to
// stdout and stderr (nil discards them).
func NewVM(s *State, oracle PreimageOracle, stdout, stderr io.Writer) *VM {
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	m := &VM{
		state:         s,
		mem:           s.Memory,
		oracle:        preimageReader{oracle: oracle, readOffset: ^uint64(0)},
		stdout:        stdout,
		stderr:        stderr,
		fastCodeLimit: ^uint64(0),
		lastMemAccess: ^uint64(0),
	}
	var ok bool
	if m.rules, ok = s.version().rules(); !ok {
		m.versionErr = fmt.Errorf("%w %d (supported: %s)", ErrUnsupportedVersion, uint8(s.Version), supportedList())
	}
	return m
}

// State returns the state the VM runs.
func (m *VM) State() *State { return m.state }

// LastPreimage returns the key and (length-prefixed) data of the last
// pre-image the VM fetched, and the offset read during the last step, or
// ^0 if that step read no pre-image.
func (m *VM) LastPreimage() (key [32]byte, data []byte, offset uint64) {
	return m.oracle.key, m.oracle.data, m.oracle.readOffset
}

// PreimageStats returns the number of pre-images fetched from the oracle
// and their total size.
func (m *VM) PreimageStats() (requests, totalBytes int) {
	return m.oracle.requests, m.oracle.totalSize
}

// Run steps the VM until it exits or maxSteps steps were executed (0 means
// no limit), on the fast path without witnesses.
func (m *VM) Run(maxSteps uint64) error {
	if m.versionErr != nil {
		return m.versionErr
	}
	return m.runFast(maxSteps) // run_fast.go
}

// step executes one step of the VM.
func (m *VM) step() error {
	s := m.state
	if s.Exited {
		return nil
	}
	s.Step++
	t := s.CurrentThread()
	if t == nil {
		return ErrEmptyThreadStack
	}
	if t.Exited {
		m.popThread()
		if m.stacks != nil {
			m.stacks.drop(t.ThreadID)
		}
	} else if s.StepsSinceLastContextSwitch >= SchedQuantum {
		m.preemptThread(t)
		if m.stats != nil {
			m.stats.ForcedPreemptions++
		}
	} else {
		s.StepsSinceLastContextSwitch++
		if err := m.execute(t); err != nil {
			return err
		}
	}
	if len(s.activeStack()) == 0 {
		return fmt.Errorf("post-state: %w", ErrEmptyThreadStack)
	}
	return nil
}

// fetch returns the instruction at pc (4-byte aligned).
func (m *VM) fetch(pc uint64) uint32 {
	p := m.mem.lookup(pc >> PageAddrBits)
	if p == nil {
		return 0 // unwritten memory decodes as sll r0, r0, 0
	}
	off := pc & pageAddrMask
	d := p.data[off : off+4]
	return uint32(d[0])<<24 | uint32(d[1])<<16 | uint32(d[2])<<8 | uint32(d[3])
}

// execute runs the instruction at the thread's PC.
func (m *VM) execute(t *Thread) error {
	cpu := &t.Cpu
	regs := &t.Registers
	pc := cpu.PC
	if pc&3 != 0 {
		return fmt.Errorf("%w: PC = 0x%x", ErrUnalignedPC, pc)
	}
	if m.stats != nil && pc >= icacheSize {
		m.stats.icacheMiss(pc)
	}
	insn := m.fetch(pc)
	opcode := insn >> 26
	fun := insn & 0x3F

	switch opcode {
	case 0x00:
		if fun == 0x0C {
			return m.syscall(t)
		}
	case 0x02, 0x03: // j, jal: 26-bit target inside the 256 MiB region of the delay slot
		target := cpu.NextPC&0xFFFF_FFFF_F000_0000 | uint64(insn&0x03FF_FFFF)<<2
		link := uint32(0)
		if opcode == 3 {
			link = regRA
		}
		if m.stacks != nil {
			m.stacks.push(t.ThreadID, pc, target) // Cannon's tracker counts j as a call too
		}
		return jump(cpu, regs, link, target)
	case 0x30, 0x38, 0x34, 0x3C: // ll, sc, lld, scd
		return m.rmw(t, insn, opcode)
	case 0x1C:
		if (fun == 0x24 || fun == 0x25) && !m.rules.dclz {
			return invalidInsn(insn) // dclz, dclo: from multithreaded64-4
		}
	}

	rs := regs[(insn>>21)&0x1F]
	rtReg := (insn >> 16) & 0x1F
	rdReg := rtReg
	var rt uint64
	switch {
	case opcode == 0x27 || opcode == 0x1A || opcode == 0x1B: // lwu ldl ldr
		rt = regs[rtReg]
	case opcode == 0x00 || opcode == 0x1C: // SPECIAL, SPECIAL2
		rt = regs[rtReg]
		rdReg = (insn >> 11) & 0x1F
	case opcode < 0x20: // immediate operand
		if opcode == 0x0C || opcode == 0x0D || opcode == 0x0E { // andi ori xori
			rt = uint64(insn & 0xFFFF)
		} else {
			rt = signExtImm(insn)
		}
	case opcode >= 0x28 || opcode == 0x22 || opcode == 0x26: // stores, lwl, lwr
		rt = regs[rtReg]
	}

	if opcode == 1 || (opcode >= 4 && opcode < 8) {
		err := branch(cpu, regs, opcode, insn, rs)
		if m.stacks != nil && err == nil && opcode == 1 {
			// A taken bltzal or bgezal is a call.
			if (rtReg == 0x10 && int64(rs) < 0) || (rtReg == 0x11 && int64(rs) >= 0) {
				m.stacks.push(t.ThreadID, pc, cpu.NextPC)
			}
		}
		return err
	}

	storeAddr := ^uint64(0)
	var mem uint64
	if opcode >= 0x20 || opcode == 0x1A || opcode == 0x1B {
		rs += signExtImm(insn)
		addr := rs & addrMask
		m.trackMem(addr)
		mem = m.mem.getWord(addr)
		if opcode >= 0x28 && opcode != 0x37 { // every opcode >= 0x28 but ld stores
			storeAddr = addr
			rdReg = 0
		}
	}

	val, err := alu(insn, opcode, fun, rs, rt, mem)
	if err != nil {
		return err
	}

	if opcode == 0 && fun >= 0x08 && fun < 0x20 {
		switch {
		case fun == 0x08: // jr
			if m.stacks != nil {
				m.stacks.pop(t.ThreadID, pc, m.state.Step)
			}
			return jump(cpu, regs, 0, rs)
		case fun == 0x09: // jalr
			if m.stacks != nil {
				m.stacks.push(t.ThreadID, pc, rs)
			}
			return jump(cpu, regs, rdReg, rs)
		case fun == 0x0A: // movz
			writeRd(cpu, regs, rdReg, rs, rt == 0)
			return nil
		case fun == 0x0B: // movn
			writeRd(cpu, regs, rdReg, rs, rt != 0)
			return nil
		case fun >= 0x10:
			return hiLo(cpu, regs, fun, rs, rt, rdReg)
		}
	}

	if storeAddr != ^uint64(0) {
		m.trackMem(storeAddr)
		m.mem.setWord(storeAddr, val)
		m.memoryUpdated(storeAddr)
	}
	writeRd(cpu, regs, rdReg, val, true)
	return nil
}

// memoryUpdated clears the load-linked reservation when its word changed.
func (m *VM) memoryUpdated(addr uint64) {
	if addr == m.state.LLAddress&addrMask {
		m.clearReservation()
		if m.stats != nil {
			m.stats.ReservationInvalidations++
		}
	}
}

func (m *VM) clearReservation() {
	m.state.LLReservationStatus = LLStatusNone
	m.state.LLAddress = 0
	m.state.LLOwnerThread = 0
}

// loadSubWord reads the byteLen-byte value at vaddr.
func (m *VM) loadSubWord(vaddr, byteLen uint64, signed bool) uint64 {
	addr := vaddr & addrMask
	m.trackMem(addr)
	return selectSubWord(vaddr, m.mem.getWord(addr), byteLen, signed)
}

// storeSubWord writes the low byteLen bytes of v at vaddr.
func (m *VM) storeSubWord(vaddr, byteLen, v uint64) {
	addr := vaddr & addrMask
	m.trackMem(addr)
	m.mem.setWord(addr, updateSubWord(vaddr, m.mem.getWord(addr), byteLen, v))
}

// rmw executes the load-linked / store-conditional instructions. The
// reservation is global: one address, one owner thread and its width.
func (m *VM) rmw(t *Thread, insn, opcode uint32) error {
	s := m.state
	addr := t.Registers[(insn>>21)&0x1F] + signExtImm(insn)
	rtReg := (insn >> 16) & 0x1F
	status, byteLen := uint8(LLStatusActive32bit), uint64(4)
	if opcode == 0x34 || opcode == 0x3C {
		status, byteLen = LLStatusActive64bit, 8
	}
	var ret uint64
	switch opcode {
	case 0x30, 0x34: // ll, lld
		ret = m.loadSubWord(addr, byteLen, true)
		s.LLReservationStatus = status
		s.LLAddress = addr
		s.LLOwnerThread = t.ThreadID
		if m.stats != nil {
			m.stats.loadLinked(t.ThreadID, s.Step)
		}
	case 0x38, 0x3C: // sc, scd
		ok := s.LLReservationStatus == status && s.LLOwnerThread == t.ThreadID && s.LLAddress == addr
		if ok {
			m.clearReservation()
			m.storeSubWord(addr, byteLen, t.Registers[rtReg])
			ret = 1
		}
		if m.stats != nil {
			m.stats.storeConditional(t.ThreadID, s.Step, ok)
		}
	}
	writeRd(&t.Cpu, &t.Registers, rtReg, ret, true)
	return nil
}

// preemptThread moves the active thread to the top of the other stack and
// switches direction when the active stack runs empty.
func (m *VM) preemptThread(t *Thread) {
	s := m.state
	if s.TraverseRight {
		s.RightThreadStack = s.RightThreadStack[:len(s.RightThreadStack)-1]
		s.LeftThreadStack = append(s.LeftThreadStack, t)
	} else {
		s.LeftThreadStack = s.LeftThreadStack[:len(s.LeftThreadStack)-1]
		s.RightThreadStack = append(s.RightThreadStack, t)
	}
	if len(s.activeStack()) == 0 {
		s.TraverseRight = !s.TraverseRight
	}
	s.StepsSinceLastContextSwitch = 0
	if m.stats != nil {
		m.stats.threadActivated(s.CurrentThread().ThreadID, s.Step)
	}
}

// pushThread makes t the active thread.
func (m *VM) pushThread(t *Thread) {
	s := m.state
	if s.TraverseRight {
		s.RightThreadStack = append(s.RightThreadStack, t)
	} else {
		s.LeftThreadStack = append(s.LeftThreadStack, t)
	}
	s.StepsSinceLastContextSwitch = 0
}

// popThread removes the active thread.
func (m *VM) popThread() {
	s := m.state
	if s.TraverseRight {
		s.RightThreadStack[len(s.RightThreadStack)-1] = nil
		s.RightThreadStack = s.RightThreadStack[:len(s.RightThreadStack)-1]
	} else {
		s.LeftThreadStack[len(s.LeftThreadStack)-1] = nil
		s.LeftThreadStack = s.LeftThreadStack[:len(s.LeftThreadStack)-1]
	}
	if len(s.activeStack()) == 0 {
		s.TraverseRight = !s.TraverseRight
	}
	s.StepsSinceLastContextSwitch = 0
}

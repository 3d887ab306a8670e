package vm

import (
	"errors"
	"fmt"
)

// SyscallProbe is what the VM does when a thread makes a syscall with all arguments zero.
type SyscallProbe struct {
	// Recognized is false if the VM fails the step with ErrUnrecognizedSyscall.
	Recognized bool
	// V0 and A3 are the results (A3 = ^0: the syscall failed with errno V0).
	V0, A3 uint64
	// Yields is set if the thread was switched out (futex, sched_yield, nanosleep).
	Yields bool
	// Exited and ExitCode tell whether the program or the thread exited.
	Exited, ThreadExited bool
	ExitCode             uint8
	// Err is any other error of the step.
	Err error
}

// String describes the probe in a few words.
func (p SyscallProbe) String() string {
	switch {
	case !p.Recognized:
		return "unrecognized: the VM fails"
	case p.Err != nil:
		return "fails the step: " + p.Err.Error()
	case p.Exited:
		return fmt.Sprintf("exits the program (code %d with zero arguments)", p.ExitCode)
	case p.ThreadExited:
		return "exits the thread"
	case p.Yields:
		return "yields the thread"
	case p.A3 != 0:
		return fmt.Sprintf("handled: fails with errno %d with zero arguments", p.V0)
	}
	return fmt.Sprintf("handled: returns %#x with zero arguments", p.V0)
}

// ProbeSyscall runs one syscall step with number num and zero arguments on a scratch two-thread state
// and reports what the VM did: it is the VM's own dispatch (syscalls.go), not a copy of its list.
func ProbeSyscall(num uint64) SyscallProbe {
	const pc = 0x10000
	s := NewState(pc, HeapStart)
	s.Memory.SetWord(pc, 0x0000000C<<32) // syscall; nop
	s.NextThreadID = 2
	other := &Thread{ThreadID: 1, Cpu: Cpu{PC: pc + 4, NextPC: pc + 8}}
	s.LeftThreadStack = []*Thread{other, s.LeftThreadStack[0]}
	t := s.CurrentThread()
	t.Registers[regV0] = num
	t.Registers[regSP] = HighMemoryStart
	s.StepsSinceLastContextSwitch = 1
	m := NewVM(s, NewMemoryOracle(), nil, nil)
	var p SyscallProbe
	_, err := m.Step(false)
	switch {
	case errors.Is(err, ErrUnrecognizedSyscall):
		return p
	case err != nil:
		p.Recognized, p.Err = true, err
		return p
	}
	p.Recognized = true
	p.V0, p.A3 = t.Registers[regV0], t.Registers[regA3]
	p.Exited, p.ExitCode = s.Exited, s.ExitCode
	p.ThreadExited = t.Exited
	p.Yields = !s.Exited && !t.Exited && s.CurrentThread() != t
	return p
}

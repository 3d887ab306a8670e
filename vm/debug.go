package vm

import (
	"fmt"
	"io"
)

// callStacks follows each thread's call stack from its jumps, for a traceback with symbol names (Cannon's
// --debug). The rules are Cannon's: j, jal, jalr and a taken bltzal/bgezal push a frame (the jump's PC and
// its target), jr pops one, and a clone starts the child's stack with a frame for the clone.
type callStacks struct {
	meta     *Metadata
	out      io.Writer // where a return without a frame is reported, as Cannon does on stdout
	byThread map[uint64]*callStack
}

// callStack holds a thread's frames, the innermost last.
type callStack struct {
	targets, callers []uint64
}

// EnableDebug starts following call stacks with the symbols of meta, for Traceback; a return with no
// frame to pop is reported on out. Every later step of Run goes through the reference step, which sees
// the jumps: a debug run is several times slower.
func (m *VM) EnableDebug(meta *Metadata, out io.Writer) {
	if out == nil {
		out = io.Discard
	}
	m.stacks = &callStacks{meta: meta, out: out, byThread: map[uint64]*callStack{}}
}

// Traceback writes the active thread's call stack as Cannon's --debug prints it. Without EnableDebug it
// writes nothing.
func (m *VM) Traceback(w io.Writer) {
	if m.stacks == nil {
		return
	}
	pc := uint64(0)
	st := &callStack{}
	if t := m.state.CurrentThread(); t != nil {
		pc = t.Cpu.PC
		st = m.stacks.of(t.ThreadID)
	}
	fmt.Fprintf(w, "traceback at pc=%x. step=%d\n", pc, m.state.Step)
	for i := len(st.targets) - 1; i >= 0; i-- {
		fmt.Fprintf(w, "\t%d %x in %s caller=%08x\n", len(st.targets)-1-i, st.targets[i], m.stacks.meta.LookupSymbol(st.targets[i]), st.callers[i])
	}
}

func (c *callStacks) of(thread uint64) *callStack {
	st, ok := c.byThread[thread]
	if !ok {
		st = &callStack{}
		c.byThread[thread] = st
	}
	return st
}

func (c *callStacks) push(thread, caller, target uint64) {
	st := c.of(thread)
	st.callers = append(st.callers, caller)
	st.targets = append(st.targets, target)
}

// pop returns from the function holding pc. When that is not the innermost frame's function (the call
// was inlined, or the frame's return was a tail jump), the stack unwinds to the innermost frame of pc's
// function, if there is one.
func (c *callStacks) pop(thread, pc, step uint64) {
	st := c.of(thread)
	n := len(st.targets)
	if n == 0 {
		fmt.Fprintf(c.out, "ERROR: stack underflow at pc=%x. step=%d\n", pc, step)
		return
	}
	fn := c.meta.LookupSymbol(pc)
	if c.meta.LookupSymbol(st.targets[n-1]) == fn {
		st.targets, st.callers = st.targets[:n-1], st.callers[:n-1]
		return
	}
	for i := n - 1; i >= 0; i-- {
		if c.meta.LookupSymbol(st.targets[i]) == fn {
			st.targets, st.callers = st.targets[:i], st.callers[:i]
			return
		}
	}
}

func (c *callStacks) drop(thread uint64) { delete(c.byThread, thread) }

package vm

import (
	"fmt"
	"unsafe"
)

// This file holds the side of the assembly block executor (block_amd64.s) that is Go. runBlocksAsm is
// runBlocks with blocks run in assembly where it is built (amd64): there each op's handler dispatches the
// next op itself; the op pointer, the guest registers and the page lookup cache stay in machine
// registers; and a block goes on with the next one, looked up in the page lookup cache, until one is not
// decoded yet or does not fit the budget. The assembly executes the common ops itself (loads and stores
// only when they are plain: the page in the lookup cache, its hashes above the word stale already, no
// decoded code, not the reservation's word) and stops in front of any other op, which runBlocksAsm runs
// with runOps before it goes on. Results are runBlocks' to the bit; the tests run both.

// asmFrame is what runBlocksAsm and the assembly share; block_amd64.s reads its fields by the offsets
// go_asm.h gives.
type asmFrame struct {
	// The current block, [ops, end), whose first op is at PC start, of page page (index codeIdx, decoded
	// code code). pc is where the block goes after its last op: start + 4*len, or the target of its last
	// branch once taken.
	ops, end *uint64
	start    uint64
	pc       uint64
	page     *page
	code     *codePage
	codeIdx  uint64

	regs      *[32]uint64
	cpu       *Cpu
	keys      *[pageCacheSize]uint64 // Memory.cacheKeys
	pages     *[pageCacheSize]*page  // Memory.cachePages
	codeLimit uint64                 // VM.fastCodeLimit
	ll        uint64                 // the word of the load-linked reservation
	budget    uint64                 // the most ops to run

	done uint64 // the ops run
	slow uint64 // 1 if the assembly stopped in front of the op at ops+exec
	exec uint64
}

// runBlocksAsm is runBlocks with the assembly executor.
func (m *VM) runBlocksAsm(th *Thread, budget uint64) uint64 {
	cpu := &th.Cpu
	mem := m.mem
	pc := cpu.PC
	if pc&3 != 0 || cpu.NextPC != pc+4 {
		return 0
	}
	f := asmFrame{
		regs:      &th.Registers,
		cpu:       &th.Cpu,
		keys:      &mem.cacheKeys,
		pages:     &mem.cachePages,
		codeLimit: m.fastCodeLimit,
		budget:    budget,
	}
	for f.done < budget && pc&3 == 0 {
		idx := pc >> PageAddrBits
		if idx >= m.fastCodeLimit {
			break // step counts the instruction cache miss
		}
		p := mem.lookup(idx)
		if p == nil {
			break
		}
		c, i, n := nextBlock(p, pc, budget-f.done)
		if n == 0 {
			break
		}
		f.page, f.code, f.codeIdx = p, c, idx
		f.ops, f.end, f.start = &c.ops[i], (*uint64)(unsafe.Add(unsafe.Pointer(&c.ops[i]), 8*n)), pc
		pc = m.runAsm(th, &f)
	}
	cpu.PC, cpu.NextPC = pc, pc+4
	return f.done
}

// runAsm runs the assembly from f's block on, and the ops it leaves, until it returns at the end of a
// block; it returns the PC where that block goes.
func (m *VM) runAsm(th *Thread, f *asmFrame) uint64 {
	for {
		f.ll = m.state.LLAddress & addrMask
		runBlockAsm(f)
		if f.slow == 0 {
			return f.pc
		}
		// The op at f.ops+f.exec is a straight op the assembly leaves: run it, then the rest.
		p, c := f.page, f.code
		ops := unsafe.Slice(f.ops, (uintptr(unsafe.Pointer(f.end))-uintptr(unsafe.Pointer(f.ops)))/8)
		k := f.exec
		if uint8(ops[k]) >= opBeq {
			panic(fmt.Sprintf("the assembly block executor left op kind %d", uint8(ops[k])))
		}
		m.runOps(th, p, c, ops[k:k+1], f.start+4*k)
		f.done++
		if k+1 == uint64(len(ops)) {
			return f.pc // the block's last op: f.pc is where the block goes
		}
		next := f.start + 4*(k+1)
		if p.code != c {
			return next // it wrote to the block's page: decode it again
		}
		f.ops, f.start = &ops[k+1], next
	}
}

package vm

import (
	"encoding/binary"
	"math/bits"
)

// This file holds the fast path of Run. Between scheduling events the active
// thread runs a batch of instructions in runBatch, which executes the common
// ALU, load, store, branch and jump instructions inline and stops in front
// of any other instruction (syscalls, load-linked/store-conditional, invalid
// instructions, control transfers in a delay slot, ...). That instruction,
// and every step that schedules threads, is then executed by step, the
// reference implementation that Step uses. Each instruction runBatch
// executes must have exactly the effect execute gives it; the tests compare
// both paths step for step on the guest programs. With call stacks followed
// (EnableDebug) every step goes to step, which sees the jumps; with
// statistics (EnableStats) code above Cannon's 128 MiB instruction cache is
// left to step, which counts the misses. Everything else that Stats counts
// happens in step or in memoryUpdated.

// runFast is Run: it executes up to maxSteps steps (0: no limit) until the
// program exits.
func (m *VM) runFast(maxSteps uint64) error {
	s := m.state
	m.proof = false
	for n := uint64(0); !s.Exited && (maxSteps == 0 || n < maxSteps); {
		m.oracle.readOffset = ^uint64(0)
		t := s.CurrentThread()
		if t != nil && !t.Exited && s.StepsSinceLastContextSwitch < SchedQuantum && m.stacks == nil {
			budget := SchedQuantum - s.StepsSinceLastContextSwitch
			if maxSteps != 0 {
				budget = min(budget, maxSteps-n)
			}
			done := m.runBatch(t, budget)
			s.Step += done
			s.StepsSinceLastContextSwitch += done
			n += done
			if done == budget {
				continue
			}
		}
		// A scheduling step, or an instruction runBatch leaves to step.
		if err := m.step(); err != nil {
			return err
		}
		n++
	}
	return nil
}

// runBatch executes at most budget instructions of thread t, which must be
// the active thread with no scheduling due for budget steps, and returns
// how many it executed. It stops in front of the first instruction it does
// not execute inline. The caller accounts for the steps in the state.
func (m *VM) runBatch(t *Thread, budget uint64) uint64 {
	cpu := &t.Cpu
	regs := &t.Registers
	mem := m.mem
	// The page holding the code being executed; pages are never freed, so
	// the pointer stays valid (unwritten pages are not cached).
	codeIdx := ^uint64(0)
	var code *page
	var done uint64
	for ; done < budget; done++ {
		pc := cpu.PC
		if pc&3 != 0 {
			return done
		}
		if idx := pc >> PageAddrBits; idx != codeIdx {
			if idx >= m.fastCodeLimit {
				return done // step counts the instruction cache miss
			}
			code = mem.lookup(idx)
			if code == nil {
				return done
			}
			codeIdx = idx
		}
		insn := binary.BigEndian.Uint32(code.data[pc&pageAddrMask:])
		opcode := insn >> 26
		rs := regs[(insn>>21)&0x1F]
		rtReg := (insn >> 16) & 0x1F

		switch opcode {
		case 0x00: // SPECIAL
			rt := regs[rtReg]
			rd := (insn >> 11) & 0x1F
			sa := (insn >> 6) & 0x1F
			var val uint64
			switch insn & 0x3F {
			case 0x00: // sll
				val = uint64(int64(int32(uint32(rt) << sa)))
			case 0x02: // srl
				val = uint64(int64(int32(uint32(rt) >> sa)))
			case 0x03: // sra
				val = uint64(int64(int32(uint32(rt)) >> sa))
			case 0x04: // sllv
				val = uint64(int64(int32(uint32(rt) << (rs & 0x1F))))
			case 0x06: // srlv
				val = uint64(int64(int32(uint32(rt) >> (rs & 0x1F))))
			case 0x07: // srav
				val = uint64(int64(int32(uint32(rt)) >> (rs & 0x1F)))
			case 0x08, 0x09: // jr, jalr
				if cpu.NextPC != pc+4 {
					return done
				}
				cpu.PC = cpu.NextPC
				cpu.NextPC = rs
				if insn&0x3F == 0x09 && rd != 0 {
					regs[rd] = pc + 8
				}
				continue
			case 0x0A: // movz
				if rt != 0 {
					rd = 0
				}
				val = rs
			case 0x0B: // movn
				if rt == 0 {
					rd = 0
				}
				val = rs
			case 0x10: // mfhi
				val = cpu.HI
			case 0x12: // mflo
				val = cpu.LO
			case 0x11: // mthi
				cpu.HI = rs
			case 0x13: // mtlo
				cpu.LO = rs
			case 0x14: // dsllv
				val = rt << (rs & 0x3F)
			case 0x16: // dsrlv
				val = rt >> (rs & 0x3F)
			case 0x17: // dsrav
				val = uint64(int64(rt) >> (rs & 0x3F))
			case 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F: // multiplications and divisions
				if hiLo(cpu, regs, insn&0x3F, rs, rt, rd) != nil {
					return done // division by zero: step fails it
				}
				continue
			case 0x20, 0x21: // add, addu
				val = uint64(int64(int32(uint32(rs) + uint32(rt))))
			case 0x22, 0x23: // sub, subu
				val = uint64(int64(int32(uint32(rs) - uint32(rt))))
			case 0x24: // and
				val = rs & rt
			case 0x25: // or
				val = rs | rt
			case 0x26: // xor
				val = rs ^ rt
			case 0x27: // nor
				val = ^(rs | rt)
			case 0x2A: // slt
				if int64(rs) < int64(rt) {
					val = 1
				}
			case 0x2B: // sltu
				if rs < rt {
					val = 1
				}
			case 0x2C, 0x2D: // dadd, daddu
				val = rs + rt
			case 0x2E, 0x2F: // dsub, dsubu
				val = rs - rt
			case 0x38: // dsll
				val = rt << sa
			case 0x3A: // dsrl
				val = rt >> sa
			case 0x3B: // dsra
				val = uint64(int64(rt) >> sa)
			case 0x3C: // dsll32
				val = rt << (sa + 32)
			case 0x3E: // dsrl32
				val = rt >> (sa + 32)
			case 0x3F: // dsra32
				val = uint64(int64(rt) >> (sa + 32))
			default: // syscall, sync, break, invalid functions
				return done
			}
			if rd != 0 {
				regs[rd] = val
			}

		case 0x08, 0x09: // addi, addiu (no overflow trap)
			if rtReg != 0 {
				regs[rtReg] = uint64(int64(int32(uint32(rs) + uint32(signExtImm(insn)))))
			}
		case 0x0A: // slti
			if rtReg != 0 {
				regs[rtReg] = 0
				if int64(rs) < int64(signExtImm(insn)) {
					regs[rtReg] = 1
				}
			}
		case 0x0B: // sltiu
			if rtReg != 0 {
				regs[rtReg] = 0
				if rs < signExtImm(insn) {
					regs[rtReg] = 1
				}
			}
		case 0x0C: // andi
			if rtReg != 0 {
				regs[rtReg] = rs & uint64(insn&0xFFFF)
			}
		case 0x0D: // ori
			if rtReg != 0 {
				regs[rtReg] = rs | uint64(insn&0xFFFF)
			}
		case 0x0E: // xori
			if rtReg != 0 {
				regs[rtReg] = rs ^ uint64(insn&0xFFFF)
			}
		case 0x0F: // lui
			if rtReg != 0 {
				regs[rtReg] = uint64(int64(int32(insn << 16)))
			}
		case 0x18, 0x19: // daddi, daddiu
			if rtReg != 0 {
				regs[rtReg] = rs + signExtImm(insn)
			}

		case 0x04, 0x05, 0x06, 0x07, 0x01: // beq, bne, blez, bgtz, REGIMM
			if cpu.NextPC != pc+4 {
				return done
			}
			var taken bool
			switch opcode {
			case 0x04:
				taken = rs == regs[rtReg]
			case 0x05:
				taken = rs != regs[rtReg]
			case 0x06:
				taken = int64(rs) <= 0
			case 0x07:
				taken = int64(rs) > 0
			default:
				switch rtReg {
				case 0x00: // bltz
					taken = int64(rs) < 0
				case 0x01: // bgez
					taken = int64(rs) >= 0
				case 0x10, 0x11: // bltzal, bgezal: step links
					return done
				}
			}
			cpu.PC = cpu.NextPC
			if taken {
				cpu.NextPC = pc + 4 + signExtImm(insn)<<2
			} else {
				cpu.NextPC += 4
			}
			continue
		case 0x02, 0x03: // j, jal
			if cpu.NextPC != pc+4 {
				return done
			}
			cpu.PC = cpu.NextPC
			cpu.NextPC = cpu.NextPC&0xFFFF_FFFF_F000_0000 | uint64(insn&0x03FF_FFFF)<<2
			if opcode == 0x03 {
				regs[regRA] = pc + 8
			}
			continue

		case 0x20, 0x21, 0x23, 0x24, 0x25, 0x27, 0x37: // lb, lh, lw, lbu, lhu, lwu, ld
			ea := rs + signExtImm(insn)
			w := mem.getWord(ea & addrMask)
			var val uint64
			switch opcode {
			case 0x20:
				val = uint64(int64(int8(w >> (56 - (ea&7)*8))))
			case 0x21:
				val = uint64(int64(int16(w >> (48 - (ea&6)*8))))
			case 0x23:
				val = uint64(int64(int32(w >> (32 - (ea&4)*8))))
			case 0x24:
				val = uint64(uint8(w >> (56 - (ea&7)*8)))
			case 0x25:
				val = uint64(uint16(w >> (48 - (ea&6)*8)))
			case 0x27:
				val = uint64(uint32(w >> (32 - (ea&4)*8)))
			default:
				val = w
			}
			if rtReg != 0 {
				regs[rtReg] = val
			}
		case 0x28, 0x29, 0x2B, 0x3F: // sb, sh, sw, sd
			ea := rs + signExtImm(insn)
			addr := ea & addrMask
			rt := regs[rtReg]
			var val uint64
			switch opcode {
			case 0x28:
				val = updateSubWord(ea, mem.getWord(addr), 1, rt)
			case 0x29:
				val = updateSubWord(ea, mem.getWord(addr), 2, rt)
			case 0x2B:
				val = updateSubWord(ea, mem.getWord(addr), 4, rt)
			default:
				val = rt
			}
			mem.setWord(addr, val)
			m.memoryUpdated(addr)

		case 0x1C: // SPECIAL2
			rd := (insn >> 11) & 0x1F
			var val uint64
			switch insn & 0x3F {
			case 0x02: // mul
				val = uint64(int64(int32(rs) * int32(regs[rtReg])))
			case 0x20: // clz
				val = uint64(bits.LeadingZeros32(uint32(rs)))
			case 0x21: // clo
				val = uint64(bits.LeadingZeros32(^uint32(rs)))
			case 0x24, 0x25: // dclz, dclo
				if !m.rules.dclz {
					return done // invalid before multithreaded64-4: step fails it
				}
				val = uint64(bits.LeadingZeros64(rs))
				if insn&0x3F == 0x25 {
					val = uint64(bits.LeadingZeros64(^rs))
				}
			default:
				return done
			}
			if rd != 0 {
				regs[rd] = val
			}

		default: // ll/sc, unaligned loads and stores, coprocessors, invalid opcodes
			return done
		}
		cpu.PC = cpu.NextPC
		cpu.NextPC += 4
	}
	return done
}

package vm

import (
	"encoding/binary"
	"math/bits"
)

// This file holds the block executor of Run's fast path. The instructions of
// a code page are decoded once, on first execution, into ops whose register
// indexes and immediates are ready to use. A block is a run of decoded
// instructions that executes without leaving the executor: straight-line
// instructions and conditional branches whose delay slot is empty (side
// exits: the block goes on when they are not taken), ended by the first
// other branch or jump together with its delay slot. The executor keeps the
// PC in a local and counts the block's steps at its end, so an instruction
// costs one dispatch on its op kind. runOps is the executor in Go;
// block_amd64.s is the same in assembly (see block_asm.go).
//
// A store into a page with decoded code drops the page's decoded code (see
// Memory.writeWord); a block that wrote to its own page stops after the
// store. Instructions the executor does not decode (syscalls, load-linked
// and store-conditional, unaligned loads and stores, divisions, which can
// fail, branches that link, invalid instructions) end a block before them:
// runBatch leaves them to its instruction-at-a-time path or to step.

const (
	insnsPerPage = PageSize / 4
	// noBlock in codePage.run marks an instruction that starts no block.
	noBlock = 0xFFFF
	// slotNop flags a branch or jump whose delay slot is a nop: the executor
	// skips the slot, and leaves the block where the branch is taken.
	slotNop = 1 << 15
)

// Op kinds. A decoded op never names register 0 as its destination: an
// instruction whose only effect is a write to register 0 decodes as opNop.
// The branches and jumps come last (opBeq onwards).
const (
	opNop uint8 = iota
	opSll
	opSrl
	opSra
	opSllv
	opSrlv
	opSrav
	opMovz
	opMovn
	opMfhi
	opMflo
	opMthi
	opMtlo
	opDsllv
	opDsrlv
	opDsrav
	opMult
	opMultu
	opDmult
	opDmultu
	opAddu
	opSubu
	opAnd
	opOr
	opXor
	opNor
	opSlt
	opSltu
	opDaddu
	opDsubu
	opDsll // also dsll32, with the shift amount plus 32
	opDsrl // also dsrl32
	opDsra // also dsra32
	opAddiu
	opSlti
	opSltiu
	opAndi
	opOri
	opXori
	opLi // lui: rt = imm
	opDaddiu
	opLb
	opLh
	opLw
	opLbu
	opLhu
	opLwu
	opLd
	opSb
	opSh
	opSw
	opSd
	opMul
	opClz
	opClo
	opBeq
	opBne
	opBlez
	opBgtz
	opBltz
	opBgez
	opNever // a REGIMM branch that is never taken
	opJ
	opJal
	opJr
	opJalr
)

// op is a decoded instruction: its kind, its registers and its immediate
// (sign-extended 16-bit immediate, zero-extended for andi, ori and xori;
// lui's result; the shift amount; a branch's offset in bytes; a jump's
// 28-bit target).
type op struct {
	kind uint8
	d    uint8 // the destination register
	s, t uint8 // the source registers
	imm  int32
}

// word packs o into the form codePage holds: kind, d, s and t in the low
// bytes, the immediate in the high 32 bits.
func (o op) word() uint64 {
	return uint64(o.kind) | uint64(o.d)<<8 | uint64(o.s)<<16 | uint64(o.t)<<24 | uint64(uint32(o.imm))<<32
}

// codePage is the decoded code of one page.
type codePage struct {
	ops [insnsPerPage]uint64 // op.word
	// run[i] is the length of the block that starts at instruction i, 0 if
	// not decoded yet, noBlock if none starts there.
	run [insnsPerPage]uint16
}

// insnClass says how an instruction takes part in a block.
type insnClass uint8

const (
	classStraight insnClass = iota // executes and continues with the next instruction
	classControl                   // a branch or jump: its delay slot follows
	classOther                     // left to the instruction-at-a-time path
)

// decode decodes insn for the block executor.
func decode(insn uint32) (op, insnClass) {
	opcode := insn >> 26
	rs := uint8(insn>>21) & 0x1F
	rt := uint8(insn>>16) & 0x1F
	rd := uint8(insn>>11) & 0x1F
	sa := int32(insn>>6) & 0x1F
	simm := int32(int16(insn))
	// rtOp is an I-type instruction writing rt, rdOp an R-type writing rd.
	rtOp := func(kind uint8, imm int32) (op, insnClass) {
		if rt == 0 {
			return op{kind: opNop}, classStraight
		}
		return op{kind: kind, d: rt, s: rs, imm: imm}, classStraight
	}
	rdOp := func(kind uint8, imm int32) (op, insnClass) {
		if rd == 0 {
			return op{kind: opNop}, classStraight
		}
		return op{kind: kind, d: rd, s: rs, t: rt, imm: imm}, classStraight
	}
	other := func() (op, insnClass) { return op{}, classOther }
	switch opcode {
	case 0x00: // SPECIAL
		switch insn & 0x3F {
		case 0x00:
			return rdOp(opSll, sa)
		case 0x02:
			return rdOp(opSrl, sa)
		case 0x03:
			return rdOp(opSra, sa)
		case 0x04:
			return rdOp(opSllv, 0)
		case 0x06:
			return rdOp(opSrlv, 0)
		case 0x07:
			return rdOp(opSrav, 0)
		case 0x08: // jr
			return op{kind: opJr, s: rs}, classControl
		case 0x09: // jalr
			if rd == 0 {
				return op{kind: opJr, s: rs}, classControl
			}
			return op{kind: opJalr, d: rd, s: rs}, classControl
		case 0x0A:
			return rdOp(opMovz, 0)
		case 0x0B:
			return rdOp(opMovn, 0)
		case 0x10:
			return rdOp(opMfhi, 0)
		case 0x12:
			return rdOp(opMflo, 0)
		case 0x11, 0x13, 0x18, 0x19, 0x1C, 0x1D: // mthi, mtlo, multiplications
			if rd != 0 {
				return other() // they write 0 to a non-zero rd: rare, left to the other paths
			}
			kind := opMthi
			switch insn & 0x3F {
			case 0x13:
				kind = opMtlo
			case 0x18:
				kind = opMult
			case 0x19:
				kind = opMultu
			case 0x1C:
				kind = opDmult
			case 0x1D:
				kind = opDmultu
			}
			return op{kind: kind, s: rs, t: rt}, classStraight
		case 0x14:
			return rdOp(opDsllv, 0)
		case 0x16:
			return rdOp(opDsrlv, 0)
		case 0x17:
			return rdOp(opDsrav, 0)
		case 0x20, 0x21:
			return rdOp(opAddu, 0)
		case 0x22, 0x23:
			return rdOp(opSubu, 0)
		case 0x24:
			return rdOp(opAnd, 0)
		case 0x25:
			return rdOp(opOr, 0)
		case 0x26:
			return rdOp(opXor, 0)
		case 0x27:
			return rdOp(opNor, 0)
		case 0x2A:
			return rdOp(opSlt, 0)
		case 0x2B:
			return rdOp(opSltu, 0)
		case 0x2C, 0x2D:
			return rdOp(opDaddu, 0)
		case 0x2E, 0x2F:
			return rdOp(opDsubu, 0)
		case 0x38:
			return rdOp(opDsll, sa)
		case 0x3A:
			return rdOp(opDsrl, sa)
		case 0x3B:
			return rdOp(opDsra, sa)
		case 0x3C:
			return rdOp(opDsll, sa+32)
		case 0x3E:
			return rdOp(opDsrl, sa+32)
		case 0x3F:
			return rdOp(opDsra, sa+32)
		case 0x0F: // sync: the VM writes rs to rd (Go's atomics use it with rd = 0)
			if rd == 0 {
				return op{kind: opNop}, classStraight
			}
		}
		return other() // syscall, break, divisions, invalid functions, sync with rd
	case 0x01: // REGIMM
		switch rt {
		case 0x00:
			return op{kind: opBltz, s: rs, imm: simm << 2}, classControl
		case 0x01:
			return op{kind: opBgez, s: rs, imm: simm << 2}, classControl
		case 0x10, 0x11: // bltzal, bgezal
			return other()
		}
		return op{kind: opNever}, classControl
	case 0x02:
		return op{kind: opJ, imm: int32(insn&0x03FF_FFFF) << 2}, classControl
	case 0x03:
		return op{kind: opJal, imm: int32(insn&0x03FF_FFFF) << 2}, classControl
	case 0x04:
		return op{kind: opBeq, s: rs, t: rt, imm: simm << 2}, classControl
	case 0x05:
		return op{kind: opBne, s: rs, t: rt, imm: simm << 2}, classControl
	case 0x06:
		return op{kind: opBlez, s: rs, imm: simm << 2}, classControl
	case 0x07:
		return op{kind: opBgtz, s: rs, imm: simm << 2}, classControl
	case 0x08, 0x09:
		return rtOp(opAddiu, simm)
	case 0x0A:
		return rtOp(opSlti, simm)
	case 0x0B:
		return rtOp(opSltiu, simm)
	case 0x0C:
		return rtOp(opAndi, int32(insn&0xFFFF))
	case 0x0D:
		return rtOp(opOri, int32(insn&0xFFFF))
	case 0x0E:
		return rtOp(opXori, int32(insn&0xFFFF))
	case 0x0F:
		return rtOp(opLi, int32(insn<<16))
	case 0x18, 0x19:
		return rtOp(opDaddiu, simm)
	case 0x20:
		return rtOp(opLb, simm)
	case 0x21:
		return rtOp(opLh, simm)
	case 0x23:
		return rtOp(opLw, simm)
	case 0x24:
		return rtOp(opLbu, simm)
	case 0x25:
		return rtOp(opLhu, simm)
	case 0x27:
		return rtOp(opLwu, simm)
	case 0x37:
		return rtOp(opLd, simm)
	case 0x28, 0x29, 0x2B, 0x3F: // stores: no destination register
		kind := opSd
		switch opcode {
		case 0x28:
			kind = opSb
		case 0x29:
			kind = opSh
		case 0x2B:
			kind = opSw
		}
		return op{kind: kind, s: rs, t: rt, imm: simm}, classStraight
	case 0x1C: // SPECIAL2
		switch insn & 0x3F {
		case 0x02:
			return rdOp(opMul, 0)
		case 0x20:
			return rdOp(opClz, 0)
		case 0x21:
			return rdOp(opClo, 0)
		}
		// dclz and dclo depend on the state version: left to the other paths.
	}
	return other()
}

// blockAt returns the length of the block that starts at instruction i of
// page p, whose decoded code is c, decoding it if needed; noBlock if none
// starts there.
//
// A block runs to the first instruction left to the other paths, to the end
// of the page, or through the first branch or jump whose delay slot is not a
// nop (Go's compiler leaves almost every delay slot empty) or that is
// unconditional. Conditional branches with an empty delay slot are side
// exits: the block goes on when they are not taken.
func blockAt(p *page, c *codePage, i uint32) uint32 {
	if n := c.run[i]; n != 0 {
		return uint32(n)
	}
	fetch := func(j uint32) uint32 { return binary.BigEndian.Uint32(p.data[j*4:]) }
	end := uint32(insnsPerPage)
	last := end // the instructions from i to last (exclusive) start blocks that end at end
decode:
	for j := i; j < insnsPerPage; j++ {
		o, class := decode(fetch(j))
		switch class {
		case classOther:
			end, last = j, j
			break decode
		case classControl:
			// The delay slot must be a straight instruction of the same page.
			if j+1 == insnsPerPage {
				end, last = j, j
				break decode
			}
			slot, sc := decode(fetch(j + 1))
			if sc != classStraight {
				end, last = j, j
				break decode
			}
			w := o.word()
			if slot.kind == opNop {
				w |= slotNop
			}
			c.ops[j], c.ops[j+1] = w, slot.word()
			if slot.kind != opNop || o.kind >= opJ {
				// Entered at the slot, the block would have other effects.
				end, last = j+2, j+1
				break decode
			}
			j++ // a side exit: the block goes on after the empty slot
		default:
			c.ops[j] = o.word()
		}
	}
	if end == i {
		c.run[i] = noBlock
		return noBlock
	}
	for k := i; k < last; k++ {
		c.run[k] = uint16(min(end-k, noBlock-1))
	}
	return end - i
}

// nextBlock finds the block of page p that starts at pc, decoding the page's code if it has none yet: its
// decoded code c, the index i of its first op, and n, how many of its ops to run within left steps (a
// prefix if the block is longer, never one that splits a branch or jump from its delay slot). n is 0 if
// no block starts at pc or none fits.
func nextBlock(p *page, pc, left uint64) (c *codePage, i, n uint32) {
	c = p.code
	if c == nil {
		c = new(codePage)
		p.code = c
	}
	i = uint32(pc&pageAddrMask) >> 2
	n = uint32(c.run[i])
	if n == 0 {
		n = blockAt(p, c, i)
	}
	if n == noBlock {
		return c, i, 0
	}
	if uint64(n) > left {
		n = uint32(left)
		if n > 0 && uint8(c.ops[i+n-1]) >= opBeq {
			n--
		}
	}
	return c, i, n
}

// runBlocks executes blocks of decoded code of thread t, one after the
// other, for at most budget steps, and returns how many it executed. It
// stops in front of the first instruction that starts no block, when the
// budget is too small for the next block, or after a store that changed
// the code of the block's page. The thread must not be in a delay slot.
func (m *VM) runBlocks(th *Thread, budget uint64) uint64 {
	if useAsm {
		return m.runBlocksAsm(th, budget)
	}
	cpu := &th.Cpu
	mem := m.mem
	pc := cpu.PC
	if pc&3 != 0 || cpu.NextPC != pc+4 {
		return 0
	}
	idx := pc >> PageAddrBits
	if idx >= m.fastCodeLimit {
		return 0 // step counts the instruction cache miss
	}
	p := mem.lookup(idx)
	if p == nil {
		return 0
	}
	var done uint64
	for {
		c, i, n := nextBlock(p, pc, budget-done)
		if n == 0 {
			break
		}
		var exec uint64
		pc, exec = m.runOps(th, p, c, c.ops[i:i+n], pc)
		done += exec
		if done == budget || pc&3 != 0 {
			break
		}
		if next := pc >> PageAddrBits; next != idx {
			if next >= m.fastCodeLimit {
				break
			}
			if p = mem.lookup(next); p == nil {
				break
			}
			idx = next
		}
	}
	cpu.PC, cpu.NextPC = pc, pc+4
	return done
}

// runOps executes ops, a block of decoded code of page p (decoded code c)
// that starts at start, and returns the next PC and the number of
// instructions executed: all of them, unless a branch left the block or a
// store changed p.
func (m *VM) runOps(th *Thread, p *page, c *codePage, ops []uint64, start uint64) (pc, exec uint64) {
	cpu := &th.Cpu
	regs := &th.Registers
	mem := m.mem
	pc = start + uint64(len(ops))*4 // after a block that takes no branch or jump
	exec = uint64(len(ops))
insns:
	for k := 0; k < len(ops); k++ {
		w := ops[k]
		d, s, t := w>>8&31, w>>16&31, w>>24&31
		imm := int64(w) >> 32
		switch uint8(w) {
		case opNop:
		case opSll:
			regs[d] = uint64(int64(int32(uint32(regs[t]) << (uint32(imm) & 31))))
		case opSrl:
			regs[d] = uint64(int64(int32(uint32(regs[t]) >> (uint32(imm) & 31))))
		case opSra:
			regs[d] = uint64(int64(int32(uint32(regs[t])) >> (uint32(imm) & 31)))
		case opSllv:
			regs[d] = uint64(int64(int32(uint32(regs[t]) << (regs[s] & 0x1F))))
		case opSrlv:
			regs[d] = uint64(int64(int32(uint32(regs[t]) >> (regs[s] & 0x1F))))
		case opSrav:
			regs[d] = uint64(int64(int32(uint32(regs[t])) >> (regs[s] & 0x1F)))
		case opMovz:
			if regs[t] == 0 {
				regs[d] = regs[s]
			}
		case opMovn:
			if regs[t] != 0 {
				regs[d] = regs[s]
			}
		case opMfhi:
			regs[d] = cpu.HI
		case opMflo:
			regs[d] = cpu.LO
		case opMthi:
			cpu.HI = regs[s]
		case opMtlo:
			cpu.LO = regs[s]
		case opDsllv:
			regs[d] = regs[t] << (regs[s] & 0x3F)
		case opDsrlv:
			regs[d] = regs[t] >> (regs[s] & 0x3F)
		case opDsrav:
			regs[d] = uint64(int64(regs[t]) >> (regs[s] & 0x3F))
		case opMult:
			acc := uint64(int64(int32(regs[s])) * int64(int32(regs[t])))
			cpu.HI = uint64(int64(int32(acc >> 32)))
			cpu.LO = uint64(int64(int32(acc)))
		case opMultu:
			acc := uint64(uint32(regs[s])) * uint64(uint32(regs[t]))
			cpu.HI = uint64(int64(int32(acc >> 32)))
			cpu.LO = uint64(int64(int32(acc)))
		case opDmult:
			rs, rt := regs[s], regs[t]
			hi, lo := bits.Mul64(rs, rt)
			if int64(rs) < 0 {
				hi -= rt
			}
			if int64(rt) < 0 {
				hi -= rs
			}
			cpu.HI, cpu.LO = hi, lo
		case opDmultu:
			cpu.HI, cpu.LO = bits.Mul64(regs[s], regs[t])
		case opAddu:
			regs[d] = uint64(int64(int32(uint32(regs[s]) + uint32(regs[t]))))
		case opSubu:
			regs[d] = uint64(int64(int32(uint32(regs[s]) - uint32(regs[t]))))
		case opAnd:
			regs[d] = regs[s] & regs[t]
		case opOr:
			regs[d] = regs[s] | regs[t]
		case opXor:
			regs[d] = regs[s] ^ regs[t]
		case opNor:
			regs[d] = ^(regs[s] | regs[t])
		case opSlt:
			v := uint64(0)
			if int64(regs[s]) < int64(regs[t]) {
				v = 1
			}
			regs[d] = v
		case opSltu:
			v := uint64(0)
			if regs[s] < regs[t] {
				v = 1
			}
			regs[d] = v
		case opDaddu:
			regs[d] = regs[s] + regs[t]
		case opDsubu:
			regs[d] = regs[s] - regs[t]
		case opDsll:
			regs[d] = regs[t] << (uint32(imm) & 63)
		case opDsrl:
			regs[d] = regs[t] >> (uint32(imm) & 63)
		case opDsra:
			regs[d] = uint64(int64(regs[t]) >> (uint32(imm) & 63))
		case opAddiu:
			regs[d] = uint64(int64(int32(uint32(regs[s]) + uint32(imm))))
		case opSlti:
			v := uint64(0)
			if int64(regs[s]) < imm {
				v = 1
			}
			regs[d] = v
		case opSltiu:
			v := uint64(0)
			if regs[s] < uint64(imm) {
				v = 1
			}
			regs[d] = v
		case opAndi:
			regs[d] = regs[s] & uint64(imm)
		case opOri:
			regs[d] = regs[s] | uint64(imm)
		case opXori:
			regs[d] = regs[s] ^ uint64(imm)
		case opLi:
			regs[d] = uint64(imm)
		case opDaddiu:
			regs[d] = regs[s] + uint64(imm)
		case opLb:
			ea := regs[s] + uint64(imm)
			regs[d] = uint64(int64(int8(mem.getWord(ea&addrMask) >> (56 - (ea&7)*8))))
		case opLh:
			ea := regs[s] + uint64(imm)
			regs[d] = uint64(int64(int16(mem.getWord(ea&addrMask) >> (48 - (ea&6)*8))))
		case opLw:
			ea := regs[s] + uint64(imm)
			regs[d] = uint64(int64(int32(mem.getWord(ea&addrMask) >> (32 - (ea&4)*8))))
		case opLbu:
			ea := regs[s] + uint64(imm)
			regs[d] = uint64(uint8(mem.getWord(ea&addrMask) >> (56 - (ea&7)*8)))
		case opLhu:
			ea := regs[s] + uint64(imm)
			regs[d] = uint64(uint16(mem.getWord(ea&addrMask) >> (48 - (ea&6)*8)))
		case opLwu:
			ea := regs[s] + uint64(imm)
			regs[d] = uint64(uint32(mem.getWord(ea&addrMask) >> (32 - (ea&4)*8)))
		case opLd:
			ea := regs[s] + uint64(imm)
			regs[d] = mem.getWord(ea & addrMask)
		case opSd:
			addr := (regs[s] + uint64(imm)) & addrMask
			if wp := mem.writable(addr); wp != nil {
				binary.BigEndian.PutUint64(wp.data[addr&(PageSize-8):], regs[t])
				m.memoryUpdated(addr)
				break // a writable page holds no code
			}
			mem.setWord(addr, regs[t])
			m.memoryUpdated(addr)
			if p.code != c && k+1 < len(ops) {
				pc = start + uint64(k+1)*4
				exec = uint64(k + 1)
				break insns
			}
		case opSb, opSh, opSw:
			ea := regs[s] + uint64(imm)
			addr := ea & addrMask
			size := uint64(1) << (uint8(w) - opSb) // opSb, opSh, opSw are in order
			if wp := mem.writable(addr); wp != nil {
				word := wp.data[addr&(PageSize-8):][:8]
				binary.BigEndian.PutUint64(word, updateSubWord(ea, binary.BigEndian.Uint64(word), size, regs[t]))
				m.memoryUpdated(addr)
				break
			}
			mem.setWord(addr, updateSubWord(ea, mem.getWord(addr), size, regs[t]))
			m.memoryUpdated(addr)
			if p.code != c && k+1 < len(ops) {
				// The store changed this page's code: stop after it. It
				// is not the block's last instruction, so it is no delay
				// slot: the next instruction is the following one. (After
				// the last one the page is decoded again anyway.)
				pc = start + uint64(k+1)*4
				exec = uint64(k + 1)
				break insns
			}
		case opMul:
			regs[d] = uint64(int64(int32(regs[s]) * int32(regs[t])))
		case opClz:
			regs[d] = uint64(bits.LeadingZeros32(uint32(regs[s])))
		case opClo:
			regs[d] = uint64(bits.LeadingZeros32(^uint32(regs[s])))

		// Branches and jumps. With a nop in its delay slot (slotNop), a
		// branch leaves the block when taken and skips the slot when not;
		// otherwise it is the block's last instruction but its delay slot,
		// which the loop runs before the target is taken.
		case opBeq:
			if regs[s] == regs[t] {
				pc = start + uint64(k)*4 + 4 + uint64(imm)
				if w&slotNop != 0 {
					exec = uint64(k) + 2
					break insns
				}
			} else {
				k += int(w >> 15 & 1)
			}
		case opBne:
			if regs[s] != regs[t] {
				pc = start + uint64(k)*4 + 4 + uint64(imm)
				if w&slotNop != 0 {
					exec = uint64(k) + 2
					break insns
				}
			} else {
				k += int(w >> 15 & 1)
			}
		case opBlez:
			if int64(regs[s]) <= 0 {
				pc = start + uint64(k)*4 + 4 + uint64(imm)
				if w&slotNop != 0 {
					exec = uint64(k) + 2
					break insns
				}
			} else {
				k += int(w >> 15 & 1)
			}
		case opBgtz:
			if int64(regs[s]) > 0 {
				pc = start + uint64(k)*4 + 4 + uint64(imm)
				if w&slotNop != 0 {
					exec = uint64(k) + 2
					break insns
				}
			} else {
				k += int(w >> 15 & 1)
			}
		case opBltz:
			if int64(regs[s]) < 0 {
				pc = start + uint64(k)*4 + 4 + uint64(imm)
				if w&slotNop != 0 {
					exec = uint64(k) + 2
					break insns
				}
			} else {
				k += int(w >> 15 & 1)
			}
		case opBgez:
			if int64(regs[s]) >= 0 {
				pc = start + uint64(k)*4 + 4 + uint64(imm)
				if w&slotNop != 0 {
					exec = uint64(k) + 2
					break insns
				}
			} else {
				k += int(w >> 15 & 1)
			}
		case opNever:
			k += int(w >> 15 & 1)
		case opJ:
			pc = (start+uint64(k)*4+4)&0xFFFF_FFFF_F000_0000 | uint64(imm)
			k += int(w >> 15 & 1) // the block's end
		case opJal:
			at := start + uint64(k)*4
			pc = (at+4)&0xFFFF_FFFF_F000_0000 | uint64(imm)
			regs[regRA] = at + 8
			k += int(w >> 15 & 1)
		case opJr:
			pc = regs[s]
			k += int(w >> 15 & 1)
		case opJalr:
			pc = regs[s]
			regs[d] = start + uint64(k)*4 + 8
			k += int(w >> 15 & 1)
		}
	}
	return pc, exec
}

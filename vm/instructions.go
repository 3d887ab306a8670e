package vm

import (
	"fmt"
	"math/bits"
)

// This file holds the stateless parts of instruction execution: ALU results,
// sub-word memory access, branches, jumps and HI/LO operations. Behaviour
// follows the MIPS64 contract, including its deviations from the MIPS64
// specification (e.g. lwr keeps the upper word, there is no trap on
// overflow, sync writes rs to rd).

// signExtend sign-extends the low idx bits of v to 64 bits (1 <= idx <= 64).
func signExtend(v uint64, idx uint64) uint64 {
	if idx >= 64 {
		return v
	}
	mask := uint64(1)<<idx - 1
	if (v>>(idx-1))&1 != 0 {
		return v | ^mask
	}
	return v & mask
}

// signExtImm returns the sign-extended 16-bit immediate of insn.
func signExtImm(insn uint32) uint64 {
	return uint64(int64(int16(insn)))
}

// subWordShift returns the mask of a byteLen-byte value and its bit offset
// inside the 64-bit word that holds vaddr; the sub-word is the naturally
// aligned one containing vaddr.
func subWordShift(vaddr, byteLen uint64) (mask, shift uint64) {
	mask = ^uint64(0) >> (64 - byteLen*8)
	index := vaddr & 7 &^ (byteLen - 1)
	return mask, (8 - byteLen - index) * 8
}

// selectSubWord extracts the byteLen-byte value at vaddr from the 64-bit
// memory word mem, optionally sign-extending it.
func selectSubWord(vaddr, mem, byteLen uint64, signed bool) uint64 {
	mask, shift := subWordShift(vaddr, byteLen)
	v := (mem >> shift) & mask
	if signed {
		return signExtend(v, byteLen*8)
	}
	return v
}

// updateSubWord returns mem with the byteLen-byte value at vaddr replaced by
// the low bytes of v.
func updateSubWord(vaddr, mem, byteLen, v uint64) uint64 {
	mask, shift := subWordShift(vaddr, byteLen)
	return (v&mask)<<shift | mem&^(mask<<shift)
}

func invalidInsn(insn uint32) error {
	return fmt.Errorf("%w: 0x%08x", ErrInvalidInstruction, insn)
}

// alu computes the result of a non-branch, non-syscall, non-RMW
// instruction. rs is the effective address for memory instructions, rt the
// second operand (register or immediate) and mem the memory word at the
// effective address. For instructions handled later (jumps, movz/movn,
// HI/LO) the value is rs or rt and is ignored by the caller.
func alu(insn, opcode, fun uint32, rs, rt, mem uint64) (uint64, error) {
	switch opcode {
	case 0x00, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x18, 0x19:
		// SPECIAL and the I-type arithmetic instructions, which map onto
		// the SPECIAL function of the same operation.
		switch opcode {
		case 0x08:
			fun = 0x20 // addi
		case 0x09:
			fun = 0x21 // addiu
		case 0x0A:
			fun = 0x2A // slti
		case 0x0B:
			fun = 0x2B // sltiu
		case 0x0C:
			fun = 0x24 // andi
		case 0x0D:
			fun = 0x25 // ori
		case 0x0E:
			fun = 0x26 // xori
		case 0x18:
			fun = 0x2C // daddi
		case 0x19:
			fun = 0x2D // daddiu
		}
		sa := uint64(insn>>6) & 0x1F
		switch fun {
		case 0x00: // sll
			return signExtend((rt<<sa)&0xFFFFFFFF, 32), nil
		case 0x02: // srl
			return signExtend((rt&0xFFFFFFFF)>>sa, 32), nil
		case 0x03: // sra
			return signExtend((rt&0xFFFFFFFF)>>sa, 32-sa), nil
		case 0x04: // sllv
			return signExtend((rt<<(rs&0x1F))&0xFFFFFFFF, 32), nil
		case 0x06: // srlv
			return signExtend((rt&0xFFFFFFFF)>>(rs&0x1F), 32), nil
		case 0x07: // srav
			s := rs & 0x1F
			return signExtend((rt&0xFFFFFFFF)>>s, 32-s), nil
		case 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0F, // jr jalr movz movn syscall sync
			0x10, 0x11, 0x12, 0x13, // mfhi mthi mflo mtlo
			0x18, 0x19, 0x1A, 0x1B, // mult multu div divu
			0x1C, 0x1D, 0x1E, 0x1F: // dmult dmultu ddiv ddivu
			return rs, nil
		case 0x14, 0x16, 0x17: // dsllv dsrlv dsrav
			return rt, nil
		case 0x20, 0x21: // add addu (no overflow trap)
			return signExtend(uint64(uint32(rs)+uint32(rt)), 32), nil
		case 0x22, 0x23: // sub subu
			return signExtend(uint64(uint32(rs)-uint32(rt)), 32), nil
		case 0x24: // and
			return rs & rt, nil
		case 0x25: // or
			return rs | rt, nil
		case 0x26: // xor
			return rs ^ rt, nil
		case 0x27: // nor
			return ^(rs | rt), nil
		case 0x2A: // slt
			if int64(rs) < int64(rt) {
				return 1, nil
			}
			return 0, nil
		case 0x2B: // sltu
			if rs < rt {
				return 1, nil
			}
			return 0, nil
		case 0x2C, 0x2D: // dadd daddu
			return rs + rt, nil
		case 0x2E, 0x2F: // dsub dsubu
			return rs - rt, nil
		case 0x38: // dsll
			return rt << sa, nil
		case 0x3A: // dsrl
			return rt >> sa, nil
		case 0x3B: // dsra
			return uint64(int64(rt) >> sa), nil
		case 0x3C: // dsll32
			return rt << (sa + 32), nil
		case 0x3E: // dsrl32
			return rt >> (sa + 32), nil
		case 0x3F: // dsra32
			return uint64(int64(rt) >> (sa + 32)), nil
		}
		return 0, invalidInsn(insn)
	case 0x1C: // SPECIAL2
		switch fun {
		case 0x02: // mul
			return signExtend(uint64(uint32(int32(rs)*int32(rt))), 32), nil
		case 0x20: // clz
			return uint64(bits.LeadingZeros32(uint32(rs))), nil
		case 0x21: // clo
			return uint64(bits.LeadingZeros32(^uint32(rs))), nil
		case 0x24: // dclz
			return uint64(bits.LeadingZeros64(rs)), nil
		case 0x25: // dclo
			return uint64(bits.LeadingZeros64(^rs)), nil
		}
		return 0, invalidInsn(insn)
	case 0x0F: // lui
		return signExtend(rt<<16, 32), nil
	case 0x20: // lb
		return selectSubWord(rs, mem, 1, true), nil
	case 0x21: // lh
		return selectSubWord(rs, mem, 2, true), nil
	case 0x22: // lwl, within the aligned 32-bit word
		w := uint32(selectSubWord(rs, mem, 4, false))
		sh := (rs & 3) * 8
		mask := uint64(uint32(0xFFFFFFFF) << sh)
		return signExtend((rt&^mask|uint64(w<<sh))&0xFFFFFFFF, 32), nil
	case 0x23: // lw
		return selectSubWord(rs, mem, 4, true), nil
	case 0x24: // lbu
		return selectSubWord(rs, mem, 1, false), nil
	case 0x25: // lhu
		return selectSubWord(rs, mem, 2, false), nil
	case 0x26: // lwr, within the aligned 32-bit word
		w := uint32(selectSubWord(rs, mem, 4, false))
		sh := 24 - (rs&3)*8
		mask := uint32(0xFFFFFFFF) >> sh
		r := uint32(rt)&^mask | w>>sh
		if rs&3 == 3 {
			return signExtend(uint64(r), 32), nil
		}
		// Only the low word changes; the upper word of rt is kept.
		return rt&0xFFFFFFFF_00000000 | uint64(r), nil
	case 0x27: // lwu
		return (mem >> (32 - (rs&4)*8)) & 0xFFFFFFFF, nil
	case 0x1A: // ldl
		sh := (rs & 7) * 8
		return mem<<sh | rt&^(^uint64(0)<<sh), nil
	case 0x1B: // ldr
		sh := 56 - (rs&7)*8
		return mem>>sh | rt&(^uint64(0)<<(64-sh)), nil
	case 0x28: // sb
		return updateSubWord(rs, mem, 1, rt), nil
	case 0x29: // sh
		return updateSubWord(rs, mem, 2, rt), nil
	case 0x2A: // swl
		sr := (rs & 3) * 8
		sl := 32 - (rs&4)*8
		val := ((rt & 0xFFFFFFFF) >> sr) << sl
		mask := (uint64(0xFFFFFFFF) >> sr) << sl
		return mem&^mask | val, nil
	case 0x2B: // sw
		return updateSubWord(rs, mem, 4, rt), nil
	case 0x2C: // sdl
		sh := (rs & 7) * 8
		return rt>>sh | mem&^(^uint64(0)>>sh), nil
	case 0x2D: // sdr
		sh := 56 - (rs&7)*8
		return rt<<sh | mem&^(^uint64(0)<<sh), nil
	case 0x2E: // swr, within the aligned 32-bit word
		w := uint32(selectSubWord(rs, mem, 4, false))
		sh := 24 - (rs&3)*8
		mask := uint32(0xFFFFFFFF) << sh
		r := w&^mask | uint32(rt<<sh)
		return updateSubWord(rs, mem, 4, uint64(r)), nil
	case 0x37: // ld
		return mem, nil
	case 0x3F: // sd
		return rt, nil
	}
	return 0, invalidInsn(insn)
}

// hiLo executes the HI/LO, multiply/divide and variable doubleword shift
// functions (SPECIAL function 0x10..0x1F) and advances the PC. As in the
// MIPS64 contract, the result (0 for functions that produce none) is
// written to rd whenever rd is not zero.
func hiLo(cpu *Cpu, regs *[32]uint64, fun uint32, rs, rt uint64, rd uint32) error {
	var val uint64
	switch fun {
	case 0x10: // mfhi
		val = cpu.HI
	case 0x11: // mthi
		cpu.HI = rs
	case 0x12: // mflo
		val = cpu.LO
	case 0x13: // mtlo
		cpu.LO = rs
	case 0x14: // dsllv
		val = rt << (rs & 0x3F)
	case 0x16: // dsrlv
		val = rt >> (rs & 0x3F)
	case 0x17: // dsrav
		val = uint64(int64(rt) >> (rs & 0x3F))
	case 0x18: // mult
		acc := uint64(int64(int32(rs)) * int64(int32(rt)))
		cpu.HI = signExtend(acc>>32, 32)
		cpu.LO = signExtend(acc&0xFFFFFFFF, 32)
	case 0x19: // multu
		acc := uint64(uint32(rs)) * uint64(uint32(rt))
		cpu.HI = signExtend(acc>>32, 32)
		cpu.LO = signExtend(acc&0xFFFFFFFF, 32)
	case 0x1A: // div
		if uint32(rt) == 0 {
			return ErrDivideByZero
		}
		cpu.HI = signExtend(uint64(uint32(int32(rs)%int32(rt))), 32)
		cpu.LO = signExtend(uint64(uint32(int32(rs)/int32(rt))), 32)
	case 0x1B: // divu
		if uint32(rt) == 0 {
			return ErrDivideByZero
		}
		cpu.HI = signExtend(uint64(uint32(rs)%uint32(rt)), 32)
		cpu.LO = signExtend(uint64(uint32(rs)/uint32(rt)), 32)
	case 0x1C: // dmult: signed 128-bit product
		hi, lo := bits.Mul64(rs, rt)
		if int64(rs) < 0 {
			hi -= rt
		}
		if int64(rt) < 0 {
			hi -= rs
		}
		cpu.HI, cpu.LO = hi, lo
	case 0x1D: // dmultu
		cpu.HI, cpu.LO = bits.Mul64(rs, rt)
	case 0x1E: // ddiv
		if rt == 0 {
			return ErrDivideByZero
		}
		cpu.HI = uint64(int64(rs) % int64(rt))
		cpu.LO = uint64(int64(rs) / int64(rt))
	case 0x1F: // ddivu
		if rt == 0 {
			return ErrDivideByZero
		}
		cpu.HI = rs % rt
		cpu.LO = rs / rt
	}
	if rd != 0 {
		regs[rd] = val
	}
	cpu.PC = cpu.NextPC
	cpu.NextPC += 4
	return nil
}

// branch executes beq, bne, blez, bgtz and the REGIMM branches.
func branch(cpu *Cpu, regs *[32]uint64, opcode, insn uint32, rs uint64) error {
	if cpu.NextPC != cpu.PC+4 {
		return ErrBranchInDelaySlot
	}
	taken := false
	switch opcode {
	case 4: // beq
		taken = rs == regs[(insn>>16)&0x1F]
	case 5: // bne
		taken = rs != regs[(insn>>16)&0x1F]
	case 6: // blez
		taken = int64(rs) <= 0
	case 7: // bgtz
		taken = int64(rs) > 0
	case 1: // REGIMM; other rt values are not-taken branches
		switch (insn >> 16) & 0x1F {
		case 0x00: // bltz
			taken = int64(rs) < 0
		case 0x01: // bgez
			taken = int64(rs) >= 0
		case 0x10: // bltzal: links even when not taken
			taken = int64(rs) < 0
			regs[regRA] = cpu.PC + 8
		case 0x11: // bgezal
			taken = int64(rs) >= 0
			regs[regRA] = cpu.PC + 8
		}
	}
	prev := cpu.PC
	cpu.PC = cpu.NextPC // the delay slot runs next
	if taken {
		cpu.NextPC = prev + 4 + signExtImm(insn)<<2
	} else {
		cpu.NextPC += 4
	}
	return nil
}

// jump executes a jump to dest with its delay slot, linking into link when
// it is not zero.
func jump(cpu *Cpu, regs *[32]uint64, link uint32, dest uint64) error {
	if cpu.NextPC != cpu.PC+4 {
		return ErrJumpInDelaySlot
	}
	prev := cpu.PC
	cpu.PC = cpu.NextPC
	cpu.NextPC = dest
	if link != 0 {
		regs[link] = prev + 8
	}
	return nil
}

// writeRd writes v to register rd when cond holds and rd is not zero, and
// advances the PC.
func writeRd(cpu *Cpu, regs *[32]uint64, rd uint32, v uint64, cond bool) {
	if cond && rd != 0 {
		regs[rd&31] = v
	}
	cpu.PC = cpu.NextPC
	cpu.NextPC += 4
}

package vm

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	ones   = ^uint64(0)
	minI64 = uint64(1) << 63
)

func neg(v int64) uint64 { return uint64(v) }

type insnTest struct {
	rule    string
	insn    uint32
	pc      uint64 // default testPC
	nextPC  uint64 // default pc+4
	regs    map[uint32]uint64
	hi, lo  uint64
	mem     map[uint64]uint64
	want    map[uint32]uint64 // registers after the step
	hiLo    *[2]uint64        // HI, LO after the step
	wantMem map[uint64]uint64
	wantNPC uint64 // NextPC after the step; default pc+8
	wantErr error
}

func runInsnTests(t *testing.T, tests []insnTest) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			pc := tc.pc
			if pc == 0 {
				pc = testPC
			}
			m, th, _ := newTestVM()
			writeInsn(m.mem, pc&^3, tc.insn)
			th.Cpu.PC, th.Cpu.NextPC = pc, pc+4
			if tc.nextPC != 0 {
				th.Cpu.NextPC = tc.nextPC
			}
			th.Cpu.HI, th.Cpu.LO = tc.hi, tc.lo
			for r, v := range tc.regs {
				th.Registers[r] = v
			}
			for a, v := range tc.mem {
				m.mem.SetWord(a, v)
			}
			err := stepBoth(t, m)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr, "error %v, want %v", err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			th = m.state.CurrentThread()
			for r, v := range tc.want {
				require.Equal(t, v, th.Registers[r], "r%d = %#x, want %#x", r, th.Registers[r], v)
			}
			require.Equal(t, uint64(0), th.Registers[0], "r0 changed")
			if tc.hiLo != nil {
				require.Equal(t, tc.hiLo[0], th.Cpu.HI, "HI")
				require.Equal(t, tc.hiLo[1], th.Cpu.LO, "LO")
			}
			for a, v := range tc.wantMem {
				got := m.mem.GetWord(a)
				require.Equal(t, v, got, "mem[%#x] = %#x, want %#x", a, got, v)
			}
			wantNPC := tc.wantNPC
			if wantNPC == 0 {
				wantNPC = pc + 8
			}
			require.Equal(t, pc+4, th.Cpu.PC, "PC, NextPC = %#x, %#x, want %#x, %#x", th.Cpu.PC, th.Cpu.NextPC, pc+4, wantNPC)
			require.Equal(t, wantNPC, th.Cpu.NextPC, "PC, NextPC = %#x, %#x, want %#x, %#x", th.Cpu.PC, th.Cpu.NextPC, pc+4, wantNPC)
		})
	}
}

func r(kv ...uint64) map[uint32]uint64 {
	out := map[uint32]uint64{}
	for i := 0; i < len(kv); i += 2 {
		out[uint32(kv[i])] = kv[i+1]
	}
	return out
}

func TestALU(t *testing.T) {
	runInsnTests(t, []insnTest{
		{rule: "addu wraps at 32 bits and sign-extends", insn: special(8, 9, 10, 0, 0x21), regs: r(8, 0x7FFFFFFF, 9, 1), want: r(10, 0xFFFFFFFF_80000000)},
		{rule: "add does not trap on overflow", insn: special(8, 9, 10, 0, 0x20), regs: r(8, 0x7FFFFFFF, 9, 1), want: r(10, 0xFFFFFFFF_80000000)},
		{rule: "addu ignores the upper register word", insn: special(8, 9, 10, 0, 0x21), regs: r(8, 0x12345678_00000001, 9, 2), want: r(10, 3)},
		{rule: "subu sign-extends", insn: special(8, 9, 10, 0, 0x23), regs: r(8, 0, 9, 1), want: r(10, ones)},
		{rule: "addiu sign-extends the immediate", insn: itype(0x09, 8, 10, 0xFFFF), regs: r(8, 5), want: r(10, 4)},
		{rule: "addi does not trap", insn: itype(0x08, 8, 10, 1), regs: r(8, 0x7FFFFFFF), want: r(10, 0xFFFFFFFF_80000000)},
		{rule: "daddiu is 64-bit", insn: itype(0x19, 8, 10, 0xFFFF), regs: r(8, 1<<32), want: r(10, 0xFFFFFFFF)},
		{rule: "daddi does not trap", insn: itype(0x18, 8, 10, 1), regs: r(8, math.MaxInt64), want: r(10, minI64)},
		{rule: "daddu is 64-bit", insn: special(8, 9, 10, 0, 0x2D), regs: r(8, 0xFFFFFFFF, 9, 1), want: r(10, 1<<32)},
		{rule: "dadd does not trap", insn: special(8, 9, 10, 0, 0x2C), regs: r(8, math.MaxInt64, 9, 1), want: r(10, minI64)},
		{rule: "dsubu is 64-bit", insn: special(8, 9, 10, 0, 0x2F), regs: r(8, 0, 9, 1), want: r(10, ones)},
		{rule: "dsub does not trap", insn: special(8, 9, 10, 0, 0x2E), regs: r(8, minI64, 9, 1), want: r(10, math.MaxInt64)},
		{rule: "andi zero-extends the immediate", insn: itype(0x0C, 8, 10, 0xFFFF), regs: r(8, ones), want: r(10, 0xFFFF)},
		{rule: "ori zero-extends the immediate", insn: itype(0x0D, 8, 10, 0x8000), regs: r(8, 1<<32), want: r(10, 1<<32|0x8000)},
		{rule: "xori zero-extends the immediate", insn: itype(0x0E, 8, 10, 0xFFFF), regs: r(8, 0xF0F0), want: r(10, 0x0F0F)},
		{rule: "slti compares signed", insn: itype(0x0A, 8, 10, 1), regs: r(8, ones), want: r(10, 1)},
		{rule: "sltiu compares the sign-extended immediate unsigned", insn: itype(0x0B, 8, 10, 0xFFFF), regs: r(8, 5), want: r(10, 1)},
		{rule: "slt compares 64-bit signed", insn: special(8, 9, 10, 0, 0x2A), regs: r(8, neg(-2), 9, 1), want: r(10, 1)},
		{rule: "sltu compares 64-bit unsigned", insn: special(8, 9, 10, 0, 0x2B), regs: r(8, neg(-2), 9, 1), want: r(10, 0)},
		{rule: "and", insn: special(8, 9, 10, 0, 0x24), regs: r(8, 0xFF00FF, 9, 0x0FF0F0), want: r(10, 0x0F00F0)},
		{rule: "or", insn: special(8, 9, 10, 0, 0x25), regs: r(8, 0xF0, 9, 0x0F), want: r(10, 0xFF)},
		{rule: "xor", insn: special(8, 9, 10, 0, 0x26), regs: r(8, 0xFF, 9, 0x0F), want: r(10, 0xF0)},
		{rule: "nor", insn: special(8, 9, 10, 0, 0x27), want: r(10, ones)},
		{rule: "lui sign-extends", insn: itype(0x0F, 0, 10, 0x8000), want: r(10, 0xFFFFFFFF_80000000)},
		{rule: "writes to r0 are discarded", insn: itype(0x09, 0, 0, 5)},
	})
}

func TestShifts(t *testing.T) {
	runInsnTests(t, []insnTest{
		{rule: "sll sign-extends the 32-bit result", insn: special(0, 9, 10, 1, 0x00), regs: r(9, 0x40000000), want: r(10, 0xFFFFFFFF_80000000)},
		{rule: "srl shifts the low word", insn: special(0, 9, 10, 4, 0x02), regs: r(9, 0xFFFFFFFF_80000000), want: r(10, 0x08000000)},
		{rule: "sra shifts the low word arithmetically", insn: special(0, 9, 10, 4, 0x03), regs: r(9, 0x80000000), want: r(10, 0xFFFFFFFF_F8000000)},
		{rule: "sra by 0 sign-extends the low word", insn: special(0, 9, 10, 0, 0x03), regs: r(9, 0x1_80000000), want: r(10, 0xFFFFFFFF_80000000)},
		{rule: "sllv uses 5 bits of rs", insn: special(8, 9, 10, 0, 0x04), regs: r(8, 33, 9, 1), want: r(10, 2)},
		{rule: "srlv", insn: special(8, 9, 10, 0, 0x06), regs: r(8, 1, 9, 0x80000000), want: r(10, 0x40000000)},
		{rule: "srav", insn: special(8, 9, 10, 0, 0x07), regs: r(8, 31, 9, 0x80000000), want: r(10, ones)},
		{rule: "dsll", insn: special(0, 9, 10, 4, 0x38), regs: r(9, 1), want: r(10, 0x10)},
		{rule: "dsll32 adds 32 to the shift", insn: special(0, 9, 10, 4, 0x3C), regs: r(9, 1), want: r(10, 1<<36)},
		{rule: "dsrl", insn: special(0, 9, 10, 4, 0x3A), regs: r(9, minI64), want: r(10, 1<<59)},
		{rule: "dsrl32", insn: special(0, 9, 10, 0, 0x3E), regs: r(9, minI64), want: r(10, 0x80000000)},
		{rule: "dsra", insn: special(0, 9, 10, 4, 0x3B), regs: r(9, minI64), want: r(10, 0xF8000000_00000000)},
		{rule: "dsra32", insn: special(0, 9, 10, 31, 0x3F), regs: r(9, minI64), want: r(10, ones)},
		{rule: "dsllv uses 6 bits of rs", insn: special(8, 9, 10, 0, 0x14), regs: r(8, 65, 9, 1), want: r(10, 2)},
		{rule: "dsrlv", insn: special(8, 9, 10, 0, 0x16), regs: r(8, 63, 9, minI64), want: r(10, 1)},
		{rule: "dsrav", insn: special(8, 9, 10, 0, 0x17), regs: r(8, 63, 9, minI64), want: r(10, ones)},
	})
}

func TestSpecial2(t *testing.T) {
	runInsnTests(t, []insnTest{
		{rule: "mul keeps the sign-extended low word", insn: rtype(0x1C, 8, 9, 10, 0, 0x02), regs: r(8, 0x10000, 9, 0x8000), want: r(10, 0xFFFFFFFF_80000000)},
		{rule: "clz counts in the low word", insn: rtype(0x1C, 8, 0, 10, 0, 0x20), regs: r(8, 0xFFFFFFFF_0000FFFF), want: r(10, 16)},
		{rule: "clz of zero is 32", insn: rtype(0x1C, 8, 0, 10, 0, 0x20), want: r(10, 32)},
		{rule: "clo counts leading ones of the low word", insn: rtype(0x1C, 8, 0, 10, 0, 0x21), regs: r(8, 0xFFFF0000), want: r(10, 16)},
		{rule: "dclz", insn: rtype(0x1C, 8, 0, 10, 0, 0x24), regs: r(8, 1), want: r(10, 63)},
		{rule: "dclo of all ones is 64", insn: rtype(0x1C, 8, 0, 10, 0, 0x25), regs: r(8, ones), want: r(10, 64)},
		{rule: "unknown SPECIAL2 function is invalid", insn: rtype(0x1C, 0, 0, 0, 0, 0x3F), wantErr: ErrInvalidInstruction},
	})
}

func TestHiLo(t *testing.T) {
	hl := func(hi, lo uint64) *[2]uint64 { return &[2]uint64{hi, lo} }
	runInsnTests(t, []insnTest{
		{rule: "mult is signed 32x32", insn: special(8, 9, 0, 0, 0x18), regs: r(8, neg(-2), 9, 3), hiLo: hl(ones, neg(-6))},
		{rule: "multu sign-extends both halves", insn: special(8, 9, 0, 0, 0x19), regs: r(8, 0xFFFFFFFF, 9, 2), hiLo: hl(1, 0xFFFFFFFF_FFFFFFFE)},
		{rule: "div truncates toward zero", insn: special(8, 9, 0, 0, 0x1A), regs: r(8, neg(-7), 9, 2), hiLo: hl(ones, neg(-3))},
		{rule: "divu", insn: special(8, 9, 0, 0, 0x1B), regs: r(8, 7, 9, 2), hiLo: hl(1, 3)},
		{rule: "div by a zero low word fails", insn: special(8, 9, 0, 0, 0x1A), regs: r(8, 1, 9, 1<<32), wantErr: ErrDivideByZero},
		{rule: "divu by zero fails", insn: special(8, 9, 0, 0, 0x1B), regs: r(8, 1), wantErr: ErrDivideByZero},
		{rule: "dmult is signed 128-bit", insn: special(8, 9, 0, 0, 0x1C), regs: r(8, ones, 9, minI64), hiLo: hl(0, minI64)},
		{rule: "dmult of two minimum values", insn: special(8, 9, 0, 0, 0x1C), regs: r(8, minI64, 9, minI64), hiLo: hl(1<<62, 0)},
		{rule: "dmult negative result", insn: special(8, 9, 0, 0, 0x1C), regs: r(8, neg(-3), 9, 5), hiLo: hl(ones, neg(-15))},
		{rule: "dmultu is unsigned 128-bit", insn: special(8, 9, 0, 0, 0x1D), regs: r(8, ones, 9, ones), hiLo: hl(ones-1, 1)},
		{rule: "ddiv", insn: special(8, 9, 0, 0, 0x1E), regs: r(8, neg(-7), 9, 2), hiLo: hl(ones, neg(-3))},
		{rule: "ddiv overflow wraps", insn: special(8, 9, 0, 0, 0x1E), regs: r(8, minI64, 9, ones), hiLo: hl(0, minI64)},
		{rule: "ddiv by zero fails", insn: special(8, 9, 0, 0, 0x1E), regs: r(8, 1), wantErr: ErrDivideByZero},
		{rule: "ddivu", insn: special(8, 9, 0, 0, 0x1F), regs: r(8, ones, 9, 2), hiLo: hl(1, math.MaxInt64)},
		{rule: "ddivu by zero fails", insn: special(8, 9, 0, 0, 0x1F), wantErr: ErrDivideByZero},
		{rule: "mfhi", insn: special(0, 0, 10, 0, 0x10), hi: 5, want: r(10, 5)},
		{rule: "mflo", insn: special(0, 0, 10, 0, 0x12), lo: 6, want: r(10, 6)},
		{rule: "mthi", insn: special(8, 0, 0, 0, 0x11), regs: r(8, 9), lo: 3, hiLo: hl(9, 3)},
		{rule: "mtlo", insn: special(8, 0, 0, 0, 0x13), regs: r(8, 9), hi: 3, hiLo: hl(3, 9)},
		{rule: "mthi with a non-zero rd field zeroes rd", insn: special(8, 0, 10, 0, 0x11), regs: r(8, 9, 10, 77), want: r(10, 0), hiLo: hl(9, 0)},
	})
}

func TestMoves(t *testing.T) {
	runInsnTests(t, []insnTest{
		{rule: "movz moves when rt is zero", insn: special(8, 9, 10, 0, 0x0A), regs: r(8, 5, 10, 1), want: r(10, 5)},
		{rule: "movz keeps rd otherwise", insn: special(8, 9, 10, 0, 0x0A), regs: r(8, 5, 9, 1, 10, 1), want: r(10, 1)},
		{rule: "movn moves when rt is not zero", insn: special(8, 9, 10, 0, 0x0B), regs: r(8, 5, 9, 1), want: r(10, 5)},
		{rule: "movn keeps rd otherwise", insn: special(8, 9, 10, 0, 0x0B), regs: r(8, 5, 10, 1), want: r(10, 1)},
		{rule: "sync writes rs to rd", insn: special(8, 0, 10, 0, 0x0F), regs: r(8, 5), want: r(10, 5)},
	})
}

func TestLoads(t *testing.T) {
	mem := map[uint64]uint64{0x2000: 0x80818283_84858687, 0x2008: 0x11223344_55667788}
	base := r(8, 0x2000)
	with := func(kv ...uint64) map[uint32]uint64 {
		out := r(kv...)
		out[8] = 0x2000
		return out
	}
	runInsnTests(t, []insnTest{
		{rule: "lb sign-extends", insn: itype(0x20, 8, 10, 0), regs: base, mem: mem, want: r(10, 0xFFFFFFFF_FFFFFF80)},
		{rule: "lb picks the addressed byte", insn: itype(0x20, 8, 10, 3), regs: base, mem: mem, want: r(10, 0xFFFFFFFF_FFFFFF83)},
		{rule: "lbu zero-extends", insn: itype(0x24, 8, 10, 1), regs: base, mem: mem, want: r(10, 0x81)},
		{rule: "lh sign-extends", insn: itype(0x21, 8, 10, 2), regs: base, mem: mem, want: r(10, 0xFFFFFFFF_FFFF8283)},
		{rule: "lhu zero-extends", insn: itype(0x25, 8, 10, 6), regs: base, mem: mem, want: r(10, 0x8687)},
		{rule: "lw sign-extends", insn: itype(0x23, 8, 10, 4), regs: base, mem: mem, want: r(10, 0xFFFFFFFF_84858687)},
		{rule: "lw aligns the address down to 4 bytes", insn: itype(0x23, 8, 10, 6), regs: base, mem: mem, want: r(10, 0xFFFFFFFF_84858687)},
		{rule: "lwu zero-extends", insn: itype(0x27, 8, 10, 4), regs: base, mem: mem, want: r(10, 0x84858687)},
		{rule: "ld", insn: itype(0x37, 8, 10, 8), regs: base, mem: mem, want: r(10, 0x11223344_55667788)},
		{rule: "ld with a negative offset", insn: itype(0x37, 8, 10, 0xFFF8), regs: r(8, 0x2010), mem: mem, want: r(10, 0x11223344_55667788)},
		{rule: "ld aligns the address down to 8 bytes", insn: itype(0x37, 8, 10, 13), regs: base, mem: mem, want: r(10, 0x11223344_55667788)},
		{rule: "lwl merges into the high bytes and sign-extends", insn: itype(0x22, 8, 10, 1), regs: with(10, 0xAABBCCDD), mem: mem, want: r(10, 0xFFFFFFFF_818283DD)},
		{rule: "lwr merges into the low bytes keeping the upper word", insn: itype(0x26, 8, 10, 4), regs: with(10, 0x11111111_AABBCCDD), mem: mem, want: r(10, 0x11111111_AABBCC84)},
		{rule: "lwr of a whole word sign-extends", insn: itype(0x26, 8, 10, 7), regs: with(10, 0x11111111_AABBCCDD), mem: mem, want: r(10, 0xFFFFFFFF_84858687)},
		{rule: "ldl merges into the high bytes", insn: itype(0x1A, 8, 10, 3), regs: with(10, 0xAAAAAAAA_AAAAAAAA), mem: mem, want: r(10, 0x83848586_87AAAAAA)},
		{rule: "ldr merges into the low bytes", insn: itype(0x1B, 8, 10, 3), regs: with(10, 0xAAAAAAAA_AAAAAAAA), mem: mem, want: r(10, 0xAAAAAAAA_80818283)},
		{rule: "ldr at the last byte loads the whole word", insn: itype(0x1B, 8, 10, 7), regs: with(10, 0xAAAAAAAA_AAAAAAAA), mem: mem, want: r(10, 0x80818283_84858687)},
		{rule: "loads from unwritten memory read zero", insn: itype(0x37, 8, 10, 0), regs: r(8, 0x7777_0000, 10, 5), want: r(10, 0)},
	})
}

func TestStores(t *testing.T) {
	mem := map[uint64]uint64{0x2000: 0x80818283_84858687}
	regs := r(8, 0x2000, 9, 0x11223344_55667788)
	runInsnTests(t, []insnTest{
		{rule: "sb replaces one byte", insn: itype(0x28, 8, 9, 2), regs: regs, mem: mem, wantMem: map[uint64]uint64{0x2000: 0x80818883_84858687}},
		{rule: "sh replaces one halfword", insn: itype(0x29, 8, 9, 4), regs: regs, mem: mem, wantMem: map[uint64]uint64{0x2000: 0x80818283_77888687}},
		{rule: "sw replaces one word", insn: itype(0x2B, 8, 9, 4), regs: regs, mem: mem, wantMem: map[uint64]uint64{0x2000: 0x80818283_55667788}},
		{rule: "sd replaces the doubleword and keeps rt", insn: itype(0x3F, 8, 9, 0), regs: regs, mem: mem, want: r(9, 0x11223344_55667788), wantMem: map[uint64]uint64{0x2000: 0x11223344_55667788}},
		{rule: "swl stores the high bytes of rt", insn: itype(0x2A, 8, 9, 1), regs: regs, mem: mem, wantMem: map[uint64]uint64{0x2000: 0x80556677_84858687}},
		{rule: "swr stores the low bytes of rt", insn: itype(0x2E, 8, 9, 5), regs: regs, mem: mem, wantMem: map[uint64]uint64{0x2000: 0x80818283_77888687}},
		{rule: "sdl stores the high bytes of rt", insn: itype(0x2C, 8, 9, 2), regs: regs, mem: mem, wantMem: map[uint64]uint64{0x2000: 0x80811122_33445566}},
		{rule: "sdr stores the low bytes of rt", insn: itype(0x2D, 8, 9, 2), regs: regs, mem: mem, wantMem: map[uint64]uint64{0x2000: 0x66778883_84858687}},
		{rule: "stores allocate memory", insn: itype(0x3F, 8, 9, 0), regs: r(8, 0x5555_0000, 9, 7), wantMem: map[uint64]uint64{0x5555_0000: 7}},
		{rule: "swc1 is invalid", insn: itype(0x39, 8, 9, 0), regs: regs, wantErr: ErrInvalidInstruction},
	})
}

func TestBranchesAndJumps(t *testing.T) {
	const taken = testPC + 4 + 0x40
	runInsnTests(t, []insnTest{
		{rule: "beq taken", insn: itype(4, 8, 9, 0x10), regs: r(8, 1, 9, 1), wantNPC: taken},
		{rule: "beq not taken", insn: itype(4, 8, 9, 0x10), regs: r(8, 1, 9, 2)},
		{rule: "bne taken", insn: itype(5, 8, 9, 0x10), regs: r(8, 1, 9, 2), wantNPC: taken},
		{rule: "blez taken on zero", insn: itype(6, 8, 0, 0x10), wantNPC: taken},
		{rule: "bgtz not taken on negative", insn: itype(7, 8, 0, 0x10), regs: r(8, ones)},
		{rule: "bgtz taken on positive", insn: itype(7, 8, 0, 0x10), regs: r(8, 1), wantNPC: taken},
		{rule: "bltz taken on negative", insn: itype(1, 8, 0, 0x10), regs: r(8, ones), wantNPC: taken},
		{rule: "bgez taken on zero", insn: itype(1, 8, 1, 0x10), wantNPC: taken},
		{rule: "bltzal links even when not taken", insn: itype(1, 8, 0x10, 0x10), regs: r(8, 1), want: r(31, testPC+8)},
		{rule: "bgezal links and branches", insn: itype(1, 0, 0x11, 0x10), want: r(31, testPC+8), wantNPC: taken},
		{rule: "other REGIMM branches are never taken", insn: itype(1, 8, 0x02, 0x10), regs: r(8, ones)},
		{rule: "backward branch", insn: itype(4, 0, 0, 0xFFFF), wantNPC: testPC},
		{rule: "branch in a delay slot fails", insn: itype(4, 0, 0, 1), nextPC: 0x3000, wantErr: ErrBranchInDelaySlot},
		{rule: "j stays in the 256 MiB region of the delay slot", insn: 2<<26 | 0x100, pc: 0x1_2000_0000, wantNPC: 0x1_2000_0400},
		{rule: "jal links", insn: 3<<26 | 0x100, want: r(31, testPC+8), wantNPC: 0x400},
		{rule: "jr", insn: special(8, 0, 0, 0, 0x08), regs: r(8, 0x1234_5678_9ABC), wantNPC: 0x1234_5678_9ABC},
		{rule: "jalr links into rd", insn: special(8, 0, 10, 0, 0x09), regs: r(8, 0x4000), want: r(10, testPC+8), wantNPC: 0x4000},
		{rule: "jump in a delay slot fails", insn: special(8, 0, 0, 0, 0x08), nextPC: 0x3000, wantErr: ErrJumpInDelaySlot},
		{rule: "j in a delay slot fails", insn: 2<<26 | 0x100, nextPC: 0x3000, wantErr: ErrJumpInDelaySlot},
	})
}

func TestInvalidInstructions(t *testing.T) {
	runInsnTests(t, []insnTest{
		{rule: "COP1 is invalid", insn: itype(0x11, 0, 0, 0), wantErr: ErrInvalidInstruction},
		{rule: "break is invalid", insn: special(0, 0, 0, 0, 0x0D), wantErr: ErrInvalidInstruction},
		{rule: "SPECIAL function 0x15 is invalid", insn: special(0, 0, 0, 0, 0x15), wantErr: ErrInvalidInstruction},
		{rule: "teq is invalid", insn: special(0, 0, 0, 0, 0x34), wantErr: ErrInvalidInstruction},
		{rule: "unaligned PC fails", insn: 0, pc: testPC + 2, wantErr: ErrUnalignedPC},
	})
}

func TestUnwrittenMemoryIsNop(t *testing.T) {
	m, th, _ := newTestVM()
	th.Cpu.PC, th.Cpu.NextPC = 0x9999_0000, 0x9999_0004
	mustStep(t, m)
	require.Equal(t, uint64(0x9999_0004), th.Cpu.PC, "executing unwritten memory must be a nop that allocates nothing")
	require.Equal(t, 0, m.mem.PageCount(), "executing unwritten memory must be a nop that allocates nothing")
}

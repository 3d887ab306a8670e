//go:build amd64 && !purego

#include "textflag.h"
#include "go_asm.h"

// The block executor in assembly (see block_asm.go). Each op kind has a handler; a handler does its op,
// then loads the next op's kind and jumps to that op's handler itself, so that the machine predicts each
// jump from the op before. The handlers share the registers:
//
//	SI	the current op (a uint64 of codePage.ops: kind, d, s, t in the low bytes, the immediate above)
//	DI	after the block's last op
//	BX	the guest registers (&Thread.Registers[0])
//	R8	the handler table
//	R9	the asmFrame
//	R10	&Memory.cacheKeys[0]
//	R11	&Memory.cachePages[0]
//	AX, CX, DX, R12, R13	scratch
//
// A handler that leaves its op to Go jumps to slow; the block's end and a taken branch with an empty delay
// slot go to blockExit, which goes on with the next block or returns. asmFrame.pc holds where the block
// goes after its last op: the PC after it, or the target of the block's last branch once taken.

// D, S, T: the byte offset of the op's destination and source registers in the guest registers; IMM: its
// immediate, sign-extended.
#define D(r) MOVQ (SI), r; SHRQ $5, r; ANDL $0xF8, r
#define S(r) MOVQ (SI), r; SHRQ $13, r; ANDL $0xF8, r
#define T(r) MOVQ (SI), r; SHRQ $21, r; ANDL $0xF8, r
#define IMM(r) MOVQ (SI), r; SARQ $32, r

// PCK: the PC of the current op, start + (SI - ops)/2.
#define PCK(r) MOVQ SI, r; SUBQ asmFrame_ops(R9), r; SHRQ $1, r; ADDQ asmFrame_start(R9), r

// SLOTNOP sets the carry flag when the current op's delay slot is a nop (slotNop).
#define SLOTNOP MOVQ (SI), CX; BTQ $15, CX

// TAIL ends every handler: next dispatches the next op, end leaves at the block's end, slow leaves the
// current op to Go.
#define TAIL \
next: \
	ADDQ $8, SI; \
	CMPQ SI, DI; \
	JAE end; \
	MOVBQZX (SI), AX; \
	JMP (R8)(AX*8); \
end: \
	JMP blockExit<>(SB); \
slow: \
	JMP blockSlow<>(SB)

// LOOKUP(page): the page of the address in DX from the lookup cache, or slow. Uses AX and CX.
#define LOOKUP(page) \
	MOVQ DX, AX; \
	SHRQ $const_PageAddrBits, AX; \
	MOVQ AX, CX; \
	ANDL $(const_pageCacheSize-1), CX; \
	CMPQ (R10)(CX*8), AX; \
	JNE slow; \
	MOVQ (R11)(CX*8), page

// EA: DX = regs[s] + imm, a load's or store's address.
#define EA S(CX); MOVQ (BX)(CX*1), DX; IMM(CX); ADDQ CX, DX

// WRITABLE: R12 = the page of the address in DX, if a write there needs nothing but the write
// (Memory.writable): in the lookup cache, no decoded code, its hashes above the word stale already, not
// the word of the reservation. Otherwise slow. Uses AX and CX.
#define WRITABLE \
	LOOKUP(R12); \
	CMPQ page_code(R12), $0; \
	JNE slow; \
	MOVQ DX, CX; \
	SHRQ $6, CX; \
	MOVQ (page_valid+8)(R12), AX; \
	BTQ CX, AX; \
	JCS slow; \
	MOVQ DX, AX; \
	ANDQ $~7, AX; \
	CMPQ AX, asmFrame_ll(R9); \
	JEQ slow

// runBlockAsm(f *asmFrame) runs f's block, and the blocks that follow (see blockExit), until a block that
// cannot follow or an op it leaves to Go.
TEXT ·runBlockAsm(SB), NOSPLIT|NOFRAME, $0-8
	MOVQ f+0(FP), R9
	MOVQ asmFrame_ops(R9), SI
	MOVQ asmFrame_end(R9), DI
	MOVQ asmFrame_regs(R9), BX
	MOVQ asmFrame_keys(R9), R10
	MOVQ asmFrame_pages(R9), R11
	LEAQ handlers<>(SB), R8
	MOVQ DI, AX
	SUBQ SI, AX
	SHRQ $1, AX
	ADDQ asmFrame_start(R9), AX
	MOVQ AX, asmFrame_pc(R9)
	CMPQ SI, DI
	JAE empty
	MOVBQZX (SI), AX
	JMP (R8)(AX*8)
empty:
	JMP blockExit<>(SB)

// blockExit: the current block is over, the ops before SI ran, and asmFrame.pc is where it goes. If a
// block starts there that is decoded and fits the budget, on a page in the lookup cache below the
// executor's limit, it runs next; otherwise the assembly returns.
TEXT blockExit<>(SB), NOSPLIT|NOFRAME, $0-0
	SUBQ asmFrame_ops(R9), SI
	SHRQ $3, SI
	ADDQ asmFrame_done(R9), SI
	MOVQ SI, asmFrame_done(R9)
	MOVQ asmFrame_pc(R9), DX
	TESTQ $3, DX
	JNE ret
	MOVQ DX, CX
	SHRQ $const_PageAddrBits, CX
	MOVQ asmFrame_code(R9), R12
	CMPQ CX, asmFrame_codeIdx(R9)
	JEQ samepage
	CMPQ CX, asmFrame_codeLimit(R9)
	JCC ret
	MOVQ CX, AX
	ANDL $(const_pageCacheSize-1), AX
	CMPQ (R10)(AX*8), CX
	JNE ret
	MOVQ (R11)(AX*8), R13
	MOVQ page_code(R13), R12
	TESTQ R12, R12
	JEQ ret // no decoded code yet
	MOVQ R13, asmFrame_page(R9)
	MOVQ R12, asmFrame_code(R9)
	MOVQ CX, asmFrame_codeIdx(R9)
samepage:
	MOVQ DX, CX
	ANDL $(const_PageSize-1), CX
	SHRQ $2, CX
	MOVWQZX codePage_run(R12)(CX*2), R13
	TESTQ R13, R13
	JEQ ret // not decoded yet
	CMPQ R13, $const_noBlock
	JEQ ret
	MOVQ asmFrame_budget(R9), AX
	SUBQ SI, AX
	CMPQ R13, AX
	JHI ret
	LEAQ codePage_ops(R12)(CX*8), SI
	LEAQ (SI)(R13*8), DI
	MOVQ SI, asmFrame_ops(R9)
	MOVQ DI, asmFrame_end(R9)
	MOVQ DX, asmFrame_start(R9)
	LEAQ (DX)(R13*4), AX
	MOVQ AX, asmFrame_pc(R9)
	MOVBQZX (SI), AX
	JMP (R8)(AX*8)
ret:
	MOVQ $0, asmFrame_slow(R9)
	RET

// blockSlow: the ops before SI ran; Go runs the op at SI.
TEXT blockSlow<>(SB), NOSPLIT|NOFRAME, $0-0
	SUBQ asmFrame_ops(R9), SI
	SHRQ $3, SI
	MOVQ SI, asmFrame_exec(R9)
	ADDQ SI, asmFrame_done(R9)
	MOVQ $1, asmFrame_slow(R9)
	RET

// hGo leaves its op to Go.
TEXT hGo<>(SB), NOSPLIT|NOFRAME, $0-0
	JMP blockSlow<>(SB)

TEXT hNop<>(SB), NOSPLIT|NOFRAME, $0-0
	TAIL

// The 32-bit shifts by the immediate (sll, srl, sra), sign-extended.
#define SHIFT32(op) \
	T(CX); MOVL (BX)(CX*1), AX; IMM(CX); op CX, AX; MOVLQSX AX, AX; \
	D(CX); MOVQ AX, (BX)(CX*1)

TEXT hSll<>(SB), NOSPLIT|NOFRAME, $0-0
	SHIFT32(SHLL)
	TAIL

TEXT hSrl<>(SB), NOSPLIT|NOFRAME, $0-0
	SHIFT32(SHRL)
	TAIL

TEXT hSra<>(SB), NOSPLIT|NOFRAME, $0-0
	SHIFT32(SARL)
	TAIL

TEXT hMovz<>(SB), NOSPLIT|NOFRAME, $0-0
	T(CX)
	CMPQ (BX)(CX*1), $0
	JNE next
	S(CX); MOVQ (BX)(CX*1), AX
	D(CX); MOVQ AX, (BX)(CX*1)
	TAIL

TEXT hMovn<>(SB), NOSPLIT|NOFRAME, $0-0
	T(CX)
	CMPQ (BX)(CX*1), $0
	JEQ next
	S(CX); MOVQ (BX)(CX*1), AX
	D(CX); MOVQ AX, (BX)(CX*1)
	TAIL

TEXT hMfhi<>(SB), NOSPLIT|NOFRAME, $0-0
	MOVQ asmFrame_cpu(R9), AX
	MOVQ Cpu_HI(AX), AX
	D(CX); MOVQ AX, (BX)(CX*1)
	TAIL

TEXT hMflo<>(SB), NOSPLIT|NOFRAME, $0-0
	MOVQ asmFrame_cpu(R9), AX
	MOVQ Cpu_LO(AX), AX
	D(CX); MOVQ AX, (BX)(CX*1)
	TAIL

// The 64-bit shifts by rs (dsllv, dsrlv, dsrav): the machine takes the count modulo 64, as the VM does.
#define SHIFTV(op) \
	T(CX); MOVQ (BX)(CX*1), AX; S(CX); MOVQ (BX)(CX*1), CX; op CX, AX; \
	D(CX); MOVQ AX, (BX)(CX*1)

TEXT hDsllv<>(SB), NOSPLIT|NOFRAME, $0-0
	SHIFTV(SHLQ)
	TAIL

TEXT hDsrlv<>(SB), NOSPLIT|NOFRAME, $0-0
	SHIFTV(SHRQ)
	TAIL

TEXT hDsrav<>(SB), NOSPLIT|NOFRAME, $0-0
	SHIFTV(SARQ)
	TAIL

TEXT hDmultu<>(SB), NOSPLIT|NOFRAME, $0-0
	S(CX); MOVQ (BX)(CX*1), AX
	T(CX); MULQ (BX)(CX*1)
	MOVQ asmFrame_cpu(R9), CX
	MOVQ DX, Cpu_HI(CX)
	MOVQ AX, Cpu_LO(CX)
	TAIL

// rd = rs op rt, on 32 bits and sign-extended (addu, subu) or on 64 (the rest).
#define ALU32(op) \
	S(CX); MOVL (BX)(CX*1), AX; T(CX); op (BX)(CX*1), AX; MOVLQSX AX, AX; \
	D(CX); MOVQ AX, (BX)(CX*1)
#define ALU64(op) \
	S(CX); MOVQ (BX)(CX*1), AX; T(CX); op (BX)(CX*1), AX; \
	D(CX); MOVQ AX, (BX)(CX*1)

TEXT hAddu<>(SB), NOSPLIT|NOFRAME, $0-0
	ALU32(ADDL)
	TAIL

TEXT hSubu<>(SB), NOSPLIT|NOFRAME, $0-0
	ALU32(SUBL)
	TAIL

TEXT hAnd<>(SB), NOSPLIT|NOFRAME, $0-0
	ALU64(ANDQ)
	TAIL

TEXT hOr<>(SB), NOSPLIT|NOFRAME, $0-0
	ALU64(ORQ)
	TAIL

TEXT hXor<>(SB), NOSPLIT|NOFRAME, $0-0
	ALU64(XORQ)
	TAIL

TEXT hNor<>(SB), NOSPLIT|NOFRAME, $0-0
	S(CX); MOVQ (BX)(CX*1), AX
	T(CX); ORQ (BX)(CX*1), AX
	NOTQ AX
	D(CX); MOVQ AX, (BX)(CX*1)
	TAIL

// rd = rs < rt (signed: SETLT, unsigned: SETCS).
#define SETLESS(set) \
	S(CX); MOVQ (BX)(CX*1), AX; T(CX); XORL DX, DX; CMPQ AX, (BX)(CX*1); set DX; \
	D(CX); MOVQ DX, (BX)(CX*1)

TEXT hSlt<>(SB), NOSPLIT|NOFRAME, $0-0
	SETLESS(SETLT)
	TAIL

TEXT hSltu<>(SB), NOSPLIT|NOFRAME, $0-0
	SETLESS(SETCS)
	TAIL

TEXT hDaddu<>(SB), NOSPLIT|NOFRAME, $0-0
	ALU64(ADDQ)
	TAIL

TEXT hDsubu<>(SB), NOSPLIT|NOFRAME, $0-0
	ALU64(SUBQ)
	TAIL

// The 64-bit shifts by the immediate (dsll, dsrl, dsra; the immediate is below 64).
#define SHIFT64(op) \
	T(CX); MOVQ (BX)(CX*1), AX; IMM(CX); op CX, AX; \
	D(CX); MOVQ AX, (BX)(CX*1)

TEXT hDsll<>(SB), NOSPLIT|NOFRAME, $0-0
	SHIFT64(SHLQ)
	TAIL

TEXT hDsrl<>(SB), NOSPLIT|NOFRAME, $0-0
	SHIFT64(SHRQ)
	TAIL

TEXT hDsra<>(SB), NOSPLIT|NOFRAME, $0-0
	SHIFT64(SARQ)
	TAIL

TEXT hAddiu<>(SB), NOSPLIT|NOFRAME, $0-0
	S(CX); MOVL (BX)(CX*1), AX
	IMM(CX); ADDL CX, AX; MOVLQSX AX, AX
	D(CX); MOVQ AX, (BX)(CX*1)
	TAIL

// rt = rs < imm (signed: SETLT, unsigned: SETCS), the immediate sign-extended.
#define SETLESSI(set) \
	S(CX); MOVQ (BX)(CX*1), AX; IMM(CX); XORL DX, DX; CMPQ AX, CX; set DX; \
	D(CX); MOVQ DX, (BX)(CX*1)

TEXT hSlti<>(SB), NOSPLIT|NOFRAME, $0-0
	SETLESSI(SETLT)
	TAIL

TEXT hSltiu<>(SB), NOSPLIT|NOFRAME, $0-0
	SETLESSI(SETCS)
	TAIL

// rt = rs op imm (andi, ori, xori: the immediate is zero-extended; daddiu: sign-extended).
#define ALUI(op) \
	S(CX); MOVQ (BX)(CX*1), AX; IMM(CX); op CX, AX; \
	D(CX); MOVQ AX, (BX)(CX*1)

TEXT hAndi<>(SB), NOSPLIT|NOFRAME, $0-0
	ALUI(ANDQ)
	TAIL

TEXT hOri<>(SB), NOSPLIT|NOFRAME, $0-0
	ALUI(ORQ)
	TAIL

TEXT hXori<>(SB), NOSPLIT|NOFRAME, $0-0
	ALUI(XORQ)
	TAIL

TEXT hLi<>(SB), NOSPLIT|NOFRAME, $0-0
	IMM(AX)
	D(CX); MOVQ AX, (BX)(CX*1)
	TAIL

TEXT hDaddiu<>(SB), NOSPLIT|NOFRAME, $0-0
	ALUI(ADDQ)
	TAIL

// Loads. Memory is big-endian bytes in order, so a load reads the naturally aligned bytes holding the
// address (as selectSubWord does) and swaps them.
#define LOADTO(page) EA; LOOKUP(page)

TEXT hLb<>(SB), NOSPLIT|NOFRAME, $0-0
	LOADTO(R12)
	ANDL $(const_PageSize-1), DX
	MOVBQSX (R12)(DX*1), AX
	D(CX); MOVQ AX, (BX)(CX*1)
	TAIL

TEXT hLh<>(SB), NOSPLIT|NOFRAME, $0-0
	LOADTO(R12)
	ANDL $(const_PageSize-2), DX
	MOVWQZX (R12)(DX*1), AX
	ROLW $8, AX
	MOVWQSX AX, AX
	D(CX); MOVQ AX, (BX)(CX*1)
	TAIL

TEXT hLw<>(SB), NOSPLIT|NOFRAME, $0-0
	LOADTO(R12)
	ANDL $(const_PageSize-4), DX
	MOVL (R12)(DX*1), AX
	BSWAPL AX
	MOVLQSX AX, AX
	D(CX); MOVQ AX, (BX)(CX*1)
	TAIL

TEXT hLbu<>(SB), NOSPLIT|NOFRAME, $0-0
	LOADTO(R12)
	ANDL $(const_PageSize-1), DX
	MOVBQZX (R12)(DX*1), AX
	D(CX); MOVQ AX, (BX)(CX*1)
	TAIL

TEXT hLhu<>(SB), NOSPLIT|NOFRAME, $0-0
	LOADTO(R12)
	ANDL $(const_PageSize-2), DX
	MOVWQZX (R12)(DX*1), AX
	ROLW $8, AX
	D(CX); MOVQ AX, (BX)(CX*1)
	TAIL

TEXT hLwu<>(SB), NOSPLIT|NOFRAME, $0-0
	LOADTO(R12)
	ANDL $(const_PageSize-4), DX
	MOVL (R12)(DX*1), AX
	BSWAPL AX
	D(CX); MOVQ AX, (BX)(CX*1)
	TAIL

TEXT hLd<>(SB), NOSPLIT|NOFRAME, $0-0
	LOADTO(R12)
	ANDL $(const_PageSize-8), DX
	MOVQ (R12)(DX*1), AX
	BSWAPQ AX
	D(CX); MOVQ AX, (BX)(CX*1)
	TAIL

// Stores, when WRITABLE holds; the bytes are written as the loads read them.
TEXT hSb<>(SB), NOSPLIT|NOFRAME, $0-0
	EA; WRITABLE
	ANDL $(const_PageSize-1), DX
	T(CX); MOVQ (BX)(CX*1), AX
	MOVB AX, (R12)(DX*1)
	TAIL

TEXT hSh<>(SB), NOSPLIT|NOFRAME, $0-0
	EA; WRITABLE
	ANDL $(const_PageSize-2), DX
	T(CX); MOVQ (BX)(CX*1), AX
	ROLW $8, AX
	MOVW AX, (R12)(DX*1)
	TAIL

TEXT hSw<>(SB), NOSPLIT|NOFRAME, $0-0
	EA; WRITABLE
	ANDL $(const_PageSize-4), DX
	T(CX); MOVQ (BX)(CX*1), AX
	BSWAPL AX
	MOVL AX, (R12)(DX*1)
	TAIL

TEXT hSd<>(SB), NOSPLIT|NOFRAME, $0-0
	EA; WRITABLE
	ANDL $(const_PageSize-8), DX
	T(CX); MOVQ (BX)(CX*1), AX
	BSWAPQ AX
	MOVQ AX, (R12)(DX*1)
	TAIL

// Branches. A taken one sets asmFrame.pc to its target, PC+4+imm; with an empty delay slot it then
// leaves the block after the slot, otherwise the slot runs next and the block ends after it. A branch not
// taken skips an empty slot.
#define TAKEN \
	PCK(AX); ADDQ $4, AX; IMM(CX); ADDQ CX, AX; \
	JMP taken
#define BRANCHTAIL \
taken: \
	MOVQ AX, asmFrame_pc(R9); \
	SLOTNOP; \
	JCC next; \
	ADDQ $16, SI; \
	JMP blockExit<>(SB); \
nottaken: \
	SLOTNOP; \
	JCC next; \
	ADDQ $8, SI; \
	JMP next; \
	TAIL

TEXT hBeq<>(SB), NOSPLIT|NOFRAME, $0-0
	S(CX); MOVQ (BX)(CX*1), AX
	T(CX); CMPQ AX, (BX)(CX*1)
	JNE nottaken
	TAKEN
	BRANCHTAIL

TEXT hBne<>(SB), NOSPLIT|NOFRAME, $0-0
	S(CX); MOVQ (BX)(CX*1), AX
	T(CX); CMPQ AX, (BX)(CX*1)
	JEQ nottaken
	TAKEN
	BRANCHTAIL

TEXT hBlez<>(SB), NOSPLIT|NOFRAME, $0-0
	S(CX); CMPQ (BX)(CX*1), $0
	JGT nottaken
	TAKEN
	BRANCHTAIL

TEXT hBgtz<>(SB), NOSPLIT|NOFRAME, $0-0
	S(CX); CMPQ (BX)(CX*1), $0
	JLE nottaken
	TAKEN
	BRANCHTAIL

TEXT hBltz<>(SB), NOSPLIT|NOFRAME, $0-0
	S(CX); CMPQ (BX)(CX*1), $0
	JGE nottaken
	TAKEN
	BRANCHTAIL

TEXT hBgez<>(SB), NOSPLIT|NOFRAME, $0-0
	S(CX); CMPQ (BX)(CX*1), $0
	JLT nottaken
	TAKEN
	BRANCHTAIL

TEXT hNever<>(SB), NOSPLIT|NOFRAME, $0-0
	JMP nottaken
	BRANCHTAIL

// Jumps: always taken, to the target in AX.
TEXT hJ<>(SB), NOSPLIT|NOFRAME, $0-0
	PCK(AX); ADDQ $4, AX
	ANDQ $~0x0FFFFFFF, AX
	IMM(CX); ORQ CX, AX
	JMP taken
	BRANCHTAIL

TEXT hJal<>(SB), NOSPLIT|NOFRAME, $0-0
	PCK(AX)
	LEAQ 8(AX), CX
	MOVQ CX, (const_regRA*8)(BX)
	ADDQ $4, AX
	ANDQ $~0x0FFFFFFF, AX
	IMM(CX); ORQ CX, AX
	JMP taken
	BRANCHTAIL

TEXT hJr<>(SB), NOSPLIT|NOFRAME, $0-0
	S(CX); MOVQ (BX)(CX*1), AX
	JMP taken
	BRANCHTAIL

TEXT hJalr<>(SB), NOSPLIT|NOFRAME, $0-0
	S(CX); MOVQ (BX)(CX*1), AX // the target, read before the link is written
	PCK(DX); ADDQ $8, DX
	D(CX); MOVQ DX, (BX)(CX*1)
	JMP taken
	BRANCHTAIL

// handlers is indexed by op kind, in the order of the kinds (block.go).
DATA handlers<>+(const_opNop*8)(SB)/8, $hNop<>(SB)
DATA handlers<>+(const_opSll*8)(SB)/8, $hSll<>(SB)
DATA handlers<>+(const_opSrl*8)(SB)/8, $hSrl<>(SB)
DATA handlers<>+(const_opSra*8)(SB)/8, $hSra<>(SB)
DATA handlers<>+(const_opSllv*8)(SB)/8, $hGo<>(SB)
DATA handlers<>+(const_opSrlv*8)(SB)/8, $hGo<>(SB)
DATA handlers<>+(const_opSrav*8)(SB)/8, $hGo<>(SB)
DATA handlers<>+(const_opMovz*8)(SB)/8, $hMovz<>(SB)
DATA handlers<>+(const_opMovn*8)(SB)/8, $hMovn<>(SB)
DATA handlers<>+(const_opMfhi*8)(SB)/8, $hMfhi<>(SB)
DATA handlers<>+(const_opMflo*8)(SB)/8, $hMflo<>(SB)
DATA handlers<>+(const_opMthi*8)(SB)/8, $hGo<>(SB)
DATA handlers<>+(const_opMtlo*8)(SB)/8, $hGo<>(SB)
DATA handlers<>+(const_opDsllv*8)(SB)/8, $hDsllv<>(SB)
DATA handlers<>+(const_opDsrlv*8)(SB)/8, $hDsrlv<>(SB)
DATA handlers<>+(const_opDsrav*8)(SB)/8, $hDsrav<>(SB)
DATA handlers<>+(const_opMult*8)(SB)/8, $hGo<>(SB)
DATA handlers<>+(const_opMultu*8)(SB)/8, $hGo<>(SB)
DATA handlers<>+(const_opDmult*8)(SB)/8, $hGo<>(SB)
DATA handlers<>+(const_opDmultu*8)(SB)/8, $hDmultu<>(SB)
DATA handlers<>+(const_opAddu*8)(SB)/8, $hAddu<>(SB)
DATA handlers<>+(const_opSubu*8)(SB)/8, $hSubu<>(SB)
DATA handlers<>+(const_opAnd*8)(SB)/8, $hAnd<>(SB)
DATA handlers<>+(const_opOr*8)(SB)/8, $hOr<>(SB)
DATA handlers<>+(const_opXor*8)(SB)/8, $hXor<>(SB)
DATA handlers<>+(const_opNor*8)(SB)/8, $hNor<>(SB)
DATA handlers<>+(const_opSlt*8)(SB)/8, $hSlt<>(SB)
DATA handlers<>+(const_opSltu*8)(SB)/8, $hSltu<>(SB)
DATA handlers<>+(const_opDaddu*8)(SB)/8, $hDaddu<>(SB)
DATA handlers<>+(const_opDsubu*8)(SB)/8, $hDsubu<>(SB)
DATA handlers<>+(const_opDsll*8)(SB)/8, $hDsll<>(SB)
DATA handlers<>+(const_opDsrl*8)(SB)/8, $hDsrl<>(SB)
DATA handlers<>+(const_opDsra*8)(SB)/8, $hDsra<>(SB)
DATA handlers<>+(const_opAddiu*8)(SB)/8, $hAddiu<>(SB)
DATA handlers<>+(const_opSlti*8)(SB)/8, $hSlti<>(SB)
DATA handlers<>+(const_opSltiu*8)(SB)/8, $hSltiu<>(SB)
DATA handlers<>+(const_opAndi*8)(SB)/8, $hAndi<>(SB)
DATA handlers<>+(const_opOri*8)(SB)/8, $hOri<>(SB)
DATA handlers<>+(const_opXori*8)(SB)/8, $hXori<>(SB)
DATA handlers<>+(const_opLi*8)(SB)/8, $hLi<>(SB)
DATA handlers<>+(const_opDaddiu*8)(SB)/8, $hDaddiu<>(SB)
DATA handlers<>+(const_opLb*8)(SB)/8, $hLb<>(SB)
DATA handlers<>+(const_opLh*8)(SB)/8, $hLh<>(SB)
DATA handlers<>+(const_opLw*8)(SB)/8, $hLw<>(SB)
DATA handlers<>+(const_opLbu*8)(SB)/8, $hLbu<>(SB)
DATA handlers<>+(const_opLhu*8)(SB)/8, $hLhu<>(SB)
DATA handlers<>+(const_opLwu*8)(SB)/8, $hLwu<>(SB)
DATA handlers<>+(const_opLd*8)(SB)/8, $hLd<>(SB)
DATA handlers<>+(const_opSb*8)(SB)/8, $hSb<>(SB)
DATA handlers<>+(const_opSh*8)(SB)/8, $hSh<>(SB)
DATA handlers<>+(const_opSw*8)(SB)/8, $hSw<>(SB)
DATA handlers<>+(const_opSd*8)(SB)/8, $hSd<>(SB)
DATA handlers<>+(const_opMul*8)(SB)/8, $hGo<>(SB)
DATA handlers<>+(const_opClz*8)(SB)/8, $hGo<>(SB)
DATA handlers<>+(const_opClo*8)(SB)/8, $hGo<>(SB)
DATA handlers<>+(const_opBeq*8)(SB)/8, $hBeq<>(SB)
DATA handlers<>+(const_opBne*8)(SB)/8, $hBne<>(SB)
DATA handlers<>+(const_opBlez*8)(SB)/8, $hBlez<>(SB)
DATA handlers<>+(const_opBgtz*8)(SB)/8, $hBgtz<>(SB)
DATA handlers<>+(const_opBltz*8)(SB)/8, $hBltz<>(SB)
DATA handlers<>+(const_opBgez*8)(SB)/8, $hBgez<>(SB)
DATA handlers<>+(const_opNever*8)(SB)/8, $hNever<>(SB)
DATA handlers<>+(const_opJ*8)(SB)/8, $hJ<>(SB)
DATA handlers<>+(const_opJal*8)(SB)/8, $hJal<>(SB)
DATA handlers<>+(const_opJr*8)(SB)/8, $hJr<>(SB)
DATA handlers<>+(const_opJalr*8)(SB)/8, $hJalr<>(SB)
GLOBL handlers<>(SB), NOPTR|RODATA, $((const_opJalr+1)*8)

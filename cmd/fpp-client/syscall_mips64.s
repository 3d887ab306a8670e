#include "textflag.h"

// func rawSyscall3(num, a1, a2, a3 uintptr) (r1, errno uintptr)
//
// One system call, without the layers of syscall.RawSyscall: inside the VM each preimage word is a read,
// so each instruction here is paid for tens of thousands of times per claim.
TEXT ·rawSyscall3(SB),NOSPLIT,$0-48
	MOVV	num+0(FP), R2
	MOVV	a1+8(FP), R4
	MOVV	a2+16(FP), R5
	MOVV	a3+24(FP), R6
	SYSCALL
	BNE	R7, failed
	MOVV	R2, r1+32(FP)
	MOVV	R0, errno+40(FP)
	RET
failed:
	MOVV	R0, r1+32(FP)
	MOVV	R2, errno+40(FP)
	RET

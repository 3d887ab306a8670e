package onchain

import (
	"fmt"

	"github.com/faultproof/faultproof/vm"
)

// Names of the instructions the VM implements, for the step classes of the differential tests.
var (
	opNames = map[uint32]string{
		0x02: "j", 0x03: "jal", 0x04: "beq", 0x05: "bne", 0x06: "blez", 0x07: "bgtz",
		0x08: "addi", 0x09: "addiu", 0x0a: "slti", 0x0b: "sltiu", 0x0c: "andi", 0x0d: "ori", 0x0e: "xori", 0x0f: "lui",
		0x18: "daddi", 0x19: "daddiu", 0x1a: "ldl", 0x1b: "ldr",
		0x20: "lb", 0x21: "lh", 0x22: "lwl", 0x23: "lw", 0x24: "lbu", 0x25: "lhu", 0x26: "lwr", 0x27: "lwu",
		0x28: "sb", 0x29: "sh", 0x2a: "swl", 0x2b: "sw", 0x2c: "sdl", 0x2d: "sdr", 0x2e: "swr",
		0x30: "ll", 0x34: "lld", 0x37: "ld", 0x38: "sc", 0x3c: "scd", 0x3f: "sd",
	}
	specialNames = map[uint32]string{
		0x00: "sll", 0x02: "srl", 0x03: "sra", 0x04: "sllv", 0x06: "srlv", 0x07: "srav",
		0x08: "jr", 0x09: "jalr", 0x0a: "movz", 0x0b: "movn", 0x0c: "syscall", 0x0f: "sync",
		0x10: "mfhi", 0x11: "mthi", 0x12: "mflo", 0x13: "mtlo", 0x14: "dsllv", 0x16: "dsrlv", 0x17: "dsrav",
		0x18: "mult", 0x19: "multu", 0x1a: "div", 0x1b: "divu", 0x1c: "dmult", 0x1d: "dmultu", 0x1e: "ddiv", 0x1f: "ddivu",
		0x20: "add", 0x21: "addu", 0x22: "sub", 0x23: "subu", 0x24: "and", 0x25: "or", 0x26: "xor", 0x27: "nor",
		0x2a: "slt", 0x2b: "sltu", 0x2c: "dadd", 0x2d: "daddu", 0x2e: "dsub", 0x2f: "dsubu",
		0x30: "tge", 0x31: "tgeu", 0x32: "tlt", 0x33: "tltu", 0x34: "teq", 0x36: "tne",
		0x38: "dsll", 0x3a: "dsrl", 0x3b: "dsra", 0x3c: "dsll32", 0x3e: "dsrl32", 0x3f: "dsra32",
	}
	regimmNames   = map[uint32]string{0x00: "bltz", 0x01: "bgez", 0x10: "bltzal", 0x11: "bgezal"}
	special2Names = map[uint32]string{0x02: "mul", 0x20: "clz", 0x21: "clo", 0x24: "dclz", 0x25: "dclo"}
	special3Names = map[uint32]string{
		0x00: "ext", 0x01: "dextm", 0x02: "dextu", 0x03: "dext", 0x04: "ins", 0x05: "dinsm", 0x06: "dinsu", 0x07: "dins",
		0x3b: "rdhwr",
	}
	bshflNames  = map[uint32]string{0x02: "wsbh", 0x10: "seb", 0x18: "seh"}
	dbshflNames = map[uint32]string{0x02: "dsbh", 0x05: "dshd"}

	// syscallNames are the Linux mips64 n64 syscalls Go programs make that the VM knows.
	syscallNames = map[uint64]string{
		5000: "read", 5001: "write", 5002: "open", 5003: "close", 5005: "fstat", 5008: "lseek", 5009: "mmap",
		5010: "mprotect", 5011: "munmap", 5012: "brk", 5013: "rt_sigaction", 5014: "rt_sigprocmask",
		5015: "ioctl", 5016: "pread64", 5023: "sched_yield", 5026: "mincore", 5027: "madvise",
		5034: "nanosleep", 5036: "setitimer", 5038: "getpid", 5055: "clone", 5058: "exit", 5061: "uname",
		5070: "fcntl", 5087: "readlink", 5095: "getrlimit", 5100: "getuid", 5102: "getgid",
		5129: "sigaltstack", 5178: "gettid", 5194: "futex", 5196: "sched_getaffinity", 5205: "exit_group",
		5208: "epoll_ctl", 5216: "timer_create", 5217: "timer_settime", 5220: "timer_delete",
		5222: "clock_gettime", 5225: "tgkill", 5247: "openat", 5257: "readlinkat", 5272: "epoll_pwait",
		5284: "eventfd2", 5285: "epoll_create1", 5287: "pipe2", 5297: "prlimit64", 5313: "getrandom",
	}
	fdNames     = map[uint64]string{0: "stdin", 1: "stdout", 2: "stderr", 3: "hint read", 4: "hint write", 5: "pre-image read", 6: "pre-image key write"}
	keyTypeName = map[byte]string{1: "local", 2: "keccak256", 3: "generic", 4: "sha256", 5: "blob", 6: "precompile"}
)

// insnName names an instruction word.
func insnName(insn uint32) string {
	op, funct, rt, sa := insn>>26, insn&0x3f, (insn>>16)&0x1f, (insn>>6)&0x1f
	lookup := func(m map[uint32]string, k uint32, what string) string {
		if n, ok := m[k]; ok {
			return n
		}
		return fmt.Sprintf("%s %#x", what, k)
	}
	switch op {
	case 0x00:
		if insn == 0 {
			return "nop"
		}
		return lookup(specialNames, funct, "special")
	case 0x01:
		return lookup(regimmNames, rt, "regimm")
	case 0x1c:
		return lookup(special2Names, funct, "special2")
	case 0x1f:
		switch funct {
		case 0x20:
			return lookup(bshflNames, sa, "bshfl")
		case 0x24:
			return lookup(dbshflNames, sa, "dbshfl")
		}
		return lookup(special3Names, funct, "special3")
	}
	return lookup(opNames, op, "opcode")
}

// stepClass names what the next step of s does: a scheduler action, a syscall (with its file
// descriptor or futex operation, and for pre-image reads the key type and part), or an instruction.
func stepClass(s *vm.State) string {
	t := s.CurrentThread()
	switch {
	case t.Exited:
		return "sched: pop exited thread"
	case s.StepsSinceLastContextSwitch >= vm.SchedQuantum:
		return "sched: preempt (quantum)"
	}
	pc := t.Cpu.PC
	insn := uint32(s.Memory.GetWord(pc&^7) >> (32 - (pc&4)*8))
	name := insnName(insn)
	if name != "syscall" {
		return "insn: " + name
	}
	num, a0, a1 := t.Registers[2], t.Registers[4], t.Registers[5]
	sys, ok := syscallNames[num]
	if !ok {
		sys = fmt.Sprint(num)
	}
	switch sys {
	case "read", "write":
		fd, ok := fdNames[a0]
		if !ok {
			fd = fmt.Sprintf("fd %d", a0)
		}
		if sys == "read" && a0 == vm.FdPreimageRead {
			part := "offset 0"
			switch {
			case s.PreimageOffset >= 8:
				part = "data part"
			case s.PreimageOffset > 0:
				part = "inside the length prefix"
			}
			return fmt.Sprintf("syscall: read (pre-image read, %s key, %s)", keyTypeName[s.PreimageKey[0]], part)
		}
		return fmt.Sprintf("syscall: %s (%s)", sys, fd)
	case "futex":
		switch a1 {
		case 128:
			return "syscall: futex (wait)"
		case 129:
			return "syscall: futex (wake)"
		}
		return fmt.Sprintf("syscall: futex (op %d)", a1)
	}
	return "syscall: " + sys
}

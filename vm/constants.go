package vm

import "github.com/faultproof/faultproof/preimage"

// Memory layout.
const (
	// PageAddrBits is the number of address bits inside a page.
	PageAddrBits = 12
	// PageSize is the size of a memory page in bytes.
	PageSize = 1 << PageAddrBits
	// PageKeyBits is the number of address bits that select a page.
	PageKeyBits = 64 - PageAddrBits
	// MemProofLeafCount is the number of 32-byte nodes in a memory proof: the
	// leaf holding the word plus one sibling per tree level.
	MemProofLeafCount = 60
	// MemProofSize is the size of a memory proof in bytes.
	MemProofSize = MemProofLeafCount * 32
	// memTreeDepth is the depth of the memory merkle tree (leaves are 32 bytes).
	memTreeDepth = 64 - 5

	pageAddrMask = PageSize - 1
	addrMask     = ^uint64(7) // aligns an address down to its 64-bit word
)

// Address space constants of the multithreaded64 VM.
const (
	// HeapStart is where anonymous mmap allocations start.
	HeapStart uint64 = 0x0000_1000_0000_0000
	// HeapEnd bounds anonymous mmap allocations.
	HeapEnd uint64 = 0x0000_6000_0000_0000
	// ProgramBreak is the value brk always returns.
	ProgramBreak uint64 = 0x0000_4000_0000_0000
	// HighMemoryStart is the initial stack pointer.
	HighMemoryStart uint64 = 0x0000_7FFF_FFFF_F000
	// lastLoadableAddr is the last address an ELF segment may occupy (48 bits).
	lastLoadableAddr uint64 = 1<<48 - 1
)

// Scheduler and clock constants.
const (
	// SchedQuantum is the number of steps a thread runs before it is preempted.
	SchedQuantum = 100_000
	// HZ is the number of steps per emulated second for clock_gettime.
	HZ = 10_000_000
)

// VM status, stored in the top byte of a state hash.
const (
	StatusValid      = 0
	StatusInvalid    = 1
	StatusPanic      = 2
	StatusUnfinished = 3
)

// Registers used by the syscall ABI.
const (
	regV0 = 2  // syscall number and first return value
	regA0 = 4  // first argument
	regA1 = 5  // second argument
	regA2 = 6  // third argument
	regA3 = 7  // error flag on return
	regSP = 29 // stack pointer
	regRA = 31 // return address
)

// File descriptors the VM knows: the standard three, the hint and preimage channels at the numbers of the
// preimage ABI, and the one an eventfd call returns.
const (
	FdStdin         = 0
	FdStdout        = 1
	FdStderr        = 2
	FdHintRead      = preimage.HintReadFd
	FdHintWrite     = preimage.HintWriteFd
	FdPreimageRead  = preimage.PreimageReadFd
	FdPreimageWrite = preimage.PreimageWriteFd
	fdEventFd       = 100
)

// Linux mips64 n64 syscall numbers that the VM implements.
const (
	sysRead         = 5000
	sysWrite        = 5001
	sysOpen         = 5002
	sysClose        = 5003
	sysStat         = 5004
	sysFstat        = 5005
	sysLseek        = 5008
	sysMmap         = 5009
	sysMprotect     = 5010
	sysMunmap       = 5011
	sysBrk          = 5012
	sysRtSigaction  = 5013
	sysRtSigprocmsk = 5014
	sysIoctl        = 5015
	sysPread64      = 5016
	sysSchedYield   = 5023
	sysMincore      = 5026
	sysMadvise      = 5027
	sysNanosleep    = 5034
	sysSetitimer    = 5036
	sysGetpid       = 5038
	sysClone        = 5055
	sysExit         = 5058
	sysUname        = 5061
	sysFcntl        = 5070
	sysReadlink     = 5087
	sysGetrlimit    = 5095
	sysGetuid       = 5100
	sysGetgid       = 5102
	sysSigaltstack  = 5129
	sysGettid       = 5178
	sysFutex        = 5194
	sysGetaffinity  = 5196
	sysExitGroup    = 5205
	sysEpollCtl     = 5208
	sysTimerCreate  = 5216
	sysTimerSettime = 5217
	sysTimerDelete  = 5220
	sysClockGettime = 5222
	sysTgkill       = 5225
	sysOpenat       = 5247
	sysReadlinkat   = 5257
	sysEpollPwait   = 5272
	sysEventfd2     = 5284
	sysEpollCreate1 = 5285
	sysPipe2        = 5287
	sysPrlimit64    = 5297
	sysGetrandom    = 5313
)

// Syscall results.
const (
	sysErrorSignal = ^uint64(0) // value of a3 when a syscall fails
	errnoEBADF     = 0x9
	errnoEAGAIN    = 0xb
	errnoEINVAL    = 0x16
)

// Syscall argument values.
const (
	futexWaitPrivate = 128
	futexWakePrivate = 129

	clockRealtime  = 0
	clockMonotonic = 1

	efdNonblock = 0x80

	// validCloneFlags is the only flag set clone accepts: the one the Go
	// runtime uses to start an OS thread (CLONE_VM|CLONE_FS|CLONE_FILES|
	// CLONE_SIGHAND|CLONE_SYSVSEM|CLONE_THREAD).
	validCloneFlags = 0x100 | 0x200 | 0x400 | 0x800 | 0x40000 | 0x10000
)

// Load-linked reservation status.
const (
	LLStatusNone        = 0
	LLStatusActive32bit = 1
	LLStatusActive64bit = 2
)

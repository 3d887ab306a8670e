// Package vm is a MIPS64 fault-proof virtual machine that is state- and
// proof-compatible with Cannon's "multithreaded64-5" VM (state version 8),
// the VM whose on-chain twin is the MIPS64 contract of the OP Stack. It also
// runs the older 64-bit multithreaded versions that Cannon releases of the
// last year wrote (multithreaded64-3 and -4, versions 6 and 7) by their own
// rules: a state's version byte selects them (version.go).
//
// Given the same program and pre-image oracle it produces the same states,
// the same state hashes, the same step counts and the same step witnesses as
// the Cannon that made the state's version. The package contains:
//
//   - Memory: the paged, merkleized 64-bit memory (memory.go, merkle.go);
//   - ELF loading, the initial stack and symbol metadata (program.go);
//   - State and Thread with Cannon's binary/JSON encodings and witness
//     hashing (state.go, thread.go, serialize.go);
//   - the interpreter: instructions, syscalls and thread scheduling
//     (instructions.go, syscalls.go, mips.go), and Run's fast path, which
//     executes the common instructions of a thread's batch inline and
//     leaves everything else to the reference step (run_fast.go);
//   - the pre-image oracle the VM talks to (oracle.go), over the channels
//     and file descriptors of package preimage, its only dependency here;
//   - step witnesses for on-chain proofs (witness.go);
//   - Cannon's run statistics and --debug call stacks (stats.go, debug.go);
//   - ProbeSyscall, which asks the VM's own dispatch what it does with a
//     syscall number (syscall_probe.go).
//
// Tools that read the VM or a program but are not the VM live beside it:
// onchain (steps checked by the MIPS64 contract in an EVM), guestprof
// (pprof profiles of a guest, in steps), syscallcheck (the static scan of
// the syscalls an ELF can make, which tests hold against ProbeSyscall) and
// vmtest (builds the test guest programs of testdata/guest). The CLI
// (faultproof vm) is in cmd/faultproof.
//
// A VM is not safe for concurrent use.
package vm

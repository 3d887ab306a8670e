package main

import "runtime/debug"

// Inside the VM every instruction of the garbage collector is a step, and memory costs nothing until it
// is touched. The program collects only when its heap reaches vmMemoryLimit: a claim's working set is a
// few hundred MiB, so most claims never collect.
const vmMemoryLimit = 1 << 30

func init() {
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(vmMemoryLimit)
}

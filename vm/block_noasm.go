//go:build !amd64 || purego

package vm

// useAsm is false where there is no assembly block executor: runOps runs every block.
var useAsm = false

// asmBuilt tells whether this build has the assembly block executor.
const asmBuilt = false

func runBlockAsm(*asmFrame) { panic("no assembly block executor on this platform") }

//go:build !amd64 || purego

package vm

// useAsm is false where there is no assembly block executor: runOps runs every block.
var useAsm = false

func runBlockAsm(*asmFrame) { panic("no assembly block executor on this platform") }

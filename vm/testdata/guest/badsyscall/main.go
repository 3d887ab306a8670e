// Command badsyscall is a guest program for the vm tests: after printing a
// line it makes the getppid syscall, which the VM (like Cannon) does not
// implement, so the run fails with an unrecognized syscall: the program
// never exits.
//
// The go:debug directive stops the Go 1.25+ runtime from naming its memory
// mappings with prctl(PR_SET_VMA), a syscall Cannon does not implement (the
// VM would stop with an unrecognized syscall).
//
//go:debug decoratemappings=0
package main

import (
	"fmt"
	"os"
	"syscall"
)

func main() {
	fmt.Println("calling getppid")
	syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
	fmt.Println("getppid returned")
	os.Exit(0)
}

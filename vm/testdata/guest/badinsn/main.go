// Command badinsn is a guest program for the vm tests: after printing a
// line it executes an instruction word the VM (like Cannon) does not
// implement, BREAK (0x0000000d), so the run fails with an invalid
// instruction: the program never exits.
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
)

func main() {
	fmt.Println("executing an invalid instruction")
	invalid()
	fmt.Println("the invalid instruction was executed")
	os.Exit(0)
}

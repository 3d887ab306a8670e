// Command exit3 is a guest program for the vm tests: it prints one line
// and exits with code 3.
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
	fmt.Println("exiting with code 3")
	os.Exit(3)
}

// Command panic is a guest program for the vm tests: it panics, so the Go
// runtime prints the panic and a stack trace to stderr and exits with code 2.
//
// The go:debug directive stops the Go 1.25+ runtime from naming its memory
// mappings with prctl(PR_SET_VMA), a syscall Cannon does not implement (the
// VM would stop with an unrecognized syscall).
//
//go:debug decoratemappings=0
package main

import "fmt"

func main() {
	fmt.Println("about to panic")
	panic("boom from the guest")
}

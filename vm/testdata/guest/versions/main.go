// Command versions is a guest program for the state version tests: it makes the syscalls whose results
// differ between Cannon's state versions (getrandom, a failing open, an eventfd read) and prints what
// they returned, so that each version's rules show in its output and its final state.
//
//go:debug decoratemappings=0
package main

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

func main() {
	var buf [8]byte
	n, _, errno := syscall.RawSyscall(syscall.SYS_GETRANDOM, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0)
	fmt.Printf("getrandom: n=%d errno=%d bytes=%x\n", n, uintptr(errno), buf)

	path := []byte("/nowhere\x00")
	r, _, errno := syscall.RawSyscall(syscall.SYS_OPEN, uintptr(unsafe.Pointer(&path[0])), 0, 0)
	fmt.Printf("open: r=%#x errno=%#x\n", r, uintptr(errno))

	r, _, errno = syscall.RawSyscall(syscall.SYS_READ, 100, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
	fmt.Printf("read fd 100: r=%#x errno=%#x\n", r, uintptr(errno))
	os.Exit(0)
}

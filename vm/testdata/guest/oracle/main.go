// Command oracle is a guest program for the vm tests: it sends a hint over
// fd 4, reads the hint ack from fd 3, requests a pre-image by key over fd 6
// and reads it back from fd 5, then prints it.
//
// The go:debug directive stops the Go 1.25+ runtime from naming its memory
// mappings with prctl(PR_SET_VMA), a syscall Cannon does not implement (the
// VM would stop with an unrecognized syscall).
//
//go:debug decoratemappings=0
package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

func main() {
	hints := os.NewFile(4, "hint-w")
	hintAck := os.NewFile(3, "hint-r")
	keyW := os.NewFile(6, "preimage-w")
	dataR := os.NewFile(5, "preimage-r")

	hint := []byte("fetch-greeting 0x01")
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(hint)))
	if _, err := hints.Write(append(hdr[:], hint...)); err != nil {
		panic(err)
	}
	var ack [1]byte
	if _, err := io.ReadFull(hintAck, ack[:]); err != nil {
		panic(err)
	}

	var key [32]byte
	key[0] = 2 // keccak256 key type
	for i := 1; i < 32; i++ {
		key[i] = byte(i)
	}
	if _, err := keyW.Write(key[:]); err != nil {
		panic(err)
	}
	var lenBuf [8]byte
	if _, err := io.ReadFull(dataR, lenBuf[:]); err != nil {
		panic(err)
	}
	data := make([]byte, binary.BigEndian.Uint64(lenBuf[:]))
	if _, err := io.ReadFull(dataR, data); err != nil {
		panic(err)
	}
	fmt.Printf("preimage=%q\n", data)
	os.Exit(0)
}

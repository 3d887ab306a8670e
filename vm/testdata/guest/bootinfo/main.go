// Command bootinfo is a guest program for the command-line tests. It reads
// its inputs the way the fault proof program does, so that a real pre-image
// host can serve (and verify) every answer: the five boot-info local keys
// (L1 head, agreed output root, claimed output root, claim block number,
// chain ID), then, after hinting it, the pre-image of the L1 head hash as a
// keccak256 key. It prints what it read and exits with code 0.
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

var (
	hintR = os.NewFile(3, "hint-r")
	hintW = os.NewFile(4, "hint-w")
	dataR = os.NewFile(5, "preimage-r")
	keyW  = os.NewFile(6, "preimage-w")
)

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// get requests the pre-image of key and reads it back.
func get(key [32]byte) []byte {
	_, err := keyW.Write(key[:])
	must(err)
	var n [8]byte
	_, err = io.ReadFull(dataR, n[:])
	must(err)
	data := make([]byte, binary.BigEndian.Uint64(n[:]))
	_, err = io.ReadFull(dataR, data)
	must(err)
	return data
}

// hint sends a length-prefixed hint and waits for its acknowledgement.
func hint(h string) {
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(h)))
	_, err := hintW.Write(append(msg, h...))
	must(err)
	var ack [1]byte
	_, err = io.ReadFull(hintR, ack[:])
	must(err)
}

func local(i uint64) (k [32]byte) {
	k[0] = 1 // local key type
	binary.BigEndian.PutUint64(k[24:], i)
	return k
}

func main() {
	l1Head := get(local(1))
	outputRoot := get(local(2))
	claim := get(local(3))
	block := get(local(4))
	chainID := get(local(5))
	if len(l1Head) != 32 || len(block) != 8 || len(chainID) != 8 {
		panic(fmt.Sprintf("unexpected boot info sizes %d, %d, %d", len(l1Head), len(block), len(chainID)))
	}
	fmt.Printf("l1head=%x\noutput=%x\nclaim=%x\nblock=%d\nchain=%d\n",
		l1Head, outputRoot, claim, binary.BigEndian.Uint64(block), binary.BigEndian.Uint64(chainID))

	hint(fmt.Sprintf("l1-block-header 0x%x", l1Head))
	key := [32]byte(l1Head)
	key[0] = 2 // keccak256 key type
	header := get(key)
	fmt.Printf("header=%q\n", header)
	os.Exit(0)
}

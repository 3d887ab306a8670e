// Command hashes is a guest program for the vm tests: it chains SHA-256,
// SHA-512, SHA3-256 and Keccak-256 (golang.org/x/crypto/sha3) over inputs of
// several sizes and prints the final digests. It exits with code 0.
//
// The go:debug directive stops the Go 1.25+ runtime from naming its memory
// mappings with prctl(PR_SET_VMA), a syscall Cannon does not implement (the
// VM would stop with an unrecognized syscall).
//
//go:debug decoratemappings=0
package main

import (
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"fmt"
	"os"

	legacy "golang.org/x/crypto/sha3"
)

func main() {
	buf := make([]byte, 1024)
	for i := range buf {
		buf[i] = byte(i*7 + i>>8)
	}
	s256 := sha256.Sum256(nil)
	s512 := sha512.Sum512(nil)
	s3 := sha3.Sum256(nil)
	var k256 [32]byte
	keccak := legacy.NewLegacyKeccak256()
	for i := 0; i < 40; i++ {
		in := buf[:(i*37)%len(buf)]
		h := sha256.New()
		h.Write(s256[:])
		h.Write(in)
		copy(s256[:], h.Sum(nil))

		h5 := sha512.New()
		h5.Write(s512[:])
		h5.Write(in)
		copy(s512[:], h5.Sum(nil))

		s3 = sha3.Sum256(append(s3[:], in...))

		keccak.Reset()
		keccak.Write(k256[:])
		keccak.Write(in)
		copy(k256[:], keccak.Sum(nil))
	}
	// Known answer: keccak256("") as Ethereum uses it.
	keccak.Reset()
	empty := keccak.Sum(nil)
	fmt.Printf("sha256=%x\nsha512=%x\nsha3-256=%x\nkeccak256=%x\nkeccak256(\"\")=%x\n", s256, s512[:32], s3, k256, empty)
	os.Exit(0)
}

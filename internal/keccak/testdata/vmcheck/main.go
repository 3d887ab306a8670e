// Command vmcheck runs inside the VM (TestPermuteInsideTheVM): it compares the mips64 assembly permutations
// (the full one, and the digest lanes of the hashing one) with the generic Go one on pseudo-random states and Sum256 with digests computed natively, prints a
// checksum of the states and exits 0 if all agree, 1 if not.
//
//go:debug decoratemappings=0
package main

import (
	"encoding/hex"
	"fmt"
	"os"

	"github.com/faultproof/faultproof/internal/keccak"
)

func main() {
	ok := true
	var sum uint64
	x := uint64(0x9e3779b97f4a7c15)
	for n := 0; n < 200; n++ {
		var a, b [25]uint64
		for i := range a {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			a[i] = x
		}
		b, c := a, a
		keccak.Permute(&a)
		keccak.PermuteGeneric(&b)
		keccak.PermuteDigest(&c)
		if a != b {
			fmt.Printf("state %d differs\n", n)
			ok = false
		}
		if [4]uint64(c[:4]) != [4]uint64(b[:4]) {
			fmt.Printf("digest lanes of state %d differ\n", n)
			ok = false
		}
		sum ^= a[n%25]
	}
	for _, c := range []struct{ in, want string }{
		{"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
		{"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"},
	} {
		if got := keccak.Sum256([]byte(c.in)); hex.EncodeToString(got[:]) != c.want {
			fmt.Printf("keccak256(%q) = %x\n", c.in, got)
			ok = false
		}
	}
	fmt.Printf("checksum %016x\n", sum)
	if !ok {
		os.Exit(1)
	}
}

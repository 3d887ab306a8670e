// Command maps is a guest program for the vm tests: it fills maps with many
// entries (integer, string and struct keys), grows, deletes, overwrites and
// iterates them, and prints checksums that do not depend on the iteration
// order. It exits with code 0.
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
	"strconv"
)

type key struct {
	a uint32
	b string
}

func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return x
}

func main() {
	const n = 4_000
	ints := make(map[uint64]uint64)
	for i := uint64(0); i < n; i++ {
		ints[mix(i)] = i
	}
	// Delete every third entry and overwrite every fifth.
	for i := uint64(0); i < n; i += 3 {
		delete(ints, mix(i))
	}
	for i := uint64(0); i < n; i += 5 {
		ints[mix(i)] = i * 7
	}
	count := len(ints)
	var isum, ixor uint64
	for k, v := range ints {
		isum += k ^ v
		ixor ^= k + v
	}

	strs := make(map[string]int, 16)
	for i := 0; i < 800; i++ {
		strs["key-"+strconv.Itoa(i*31)] += i
		strs[strconv.FormatUint(mix(uint64(i)), 36)] = len(strs)
	}
	var ssum uint64
	for k, v := range strs {
		ssum += uint64(len(k))*uint64(v) + uint64(k[len(k)-1])
	}

	structs := map[key][]int{}
	for i := 0; i < 1000; i++ {
		k := key{uint32(i % 97), strconv.Itoa(i % 113)}
		structs[k] = append(structs[k], i)
	}
	var stsum uint64
	for k, v := range structs {
		stsum += uint64(k.a) * uint64(len(v))
		for _, x := range v {
			stsum += uint64(x)
		}
	}

	// Clear a map and reuse it.
	clear(ints)
	for i := uint64(0); i < 1000; i++ {
		ints[i] = i * i
	}
	fmt.Printf("ints=%d/%d/%d strs=%d/%d structs=%d/%d reused=%d\n",
		count, isum, ixor, len(strs), ssum, len(structs), stsum, len(ints))
	os.Exit(0)
}

// Command preimages is a guest program for the on-chain cross-check: it reads pre-images of every key
// type the oracle contract has a loader for. Local key 1 holds a keccak256 key whose pre-image lists
// 32-byte keys; the program reads each listed pre-image in reads of odd sizes, so that reads start
// and end inside the 8-byte length prefix and inside parts, prints the total size and exits with 0.
//
// The go:debug directive stops the Go 1.25+ runtime from naming its memory mappings with
// prctl(PR_SET_VMA), a syscall the VM does not implement.
//
//go:debug decoratemappings=0
package main

import (
	"encoding/binary"
	"fmt"
	"os"
)

var (
	dataR = os.NewFile(5, "preimage-r")
	keyW  = os.NewFile(6, "preimage-w")
)

// chunks are the read sizes, used in turn.
var chunks = []int{3, 6, 1, 7, 13, 32, 100, 2, 40}

// get requests the pre-image of key and reads it with single read syscalls of odd sizes, which may
// end inside the length prefix or run from it into the data.
func get(key []byte, next *int) []byte {
	if _, err := keyW.Write(key); err != nil {
		panic(err)
	}
	var all []byte
	size := -1
	for size < 0 || len(all) < 8+size {
		n := chunks[*next%len(chunks)]
		*next++
		if size >= 0 {
			n = min(n, 8+size-len(all))
		}
		buf := make([]byte, n)
		k, err := dataR.Read(buf)
		if k == 0 {
			panic(fmt.Sprintf("read %d bytes of the pre-image, then %v", len(all), err))
		}
		all = append(all, buf[:k]...)
		if size < 0 && len(all) >= 8 {
			size = int(binary.BigEndian.Uint64(all))
		}
	}
	return all[8:]
}

func main() {
	next := 0
	local := make([]byte, 32)
	local[0] = 1
	local[31] = 1
	manifestKey := get(local, &next)
	manifest := get(manifestKey, &next)
	total := 0
	for i := 0; i+32 <= len(manifest); i += 32 {
		data := get(manifest[i:i+32], &next)
		fmt.Printf("key type %d: %d bytes\n", manifest[i], len(data))
		total += len(data)
	}
	fmt.Printf("read %d pre-images, %d bytes\n", len(manifest)/32, total)
}

// Command program is the toy fault proof program of game/toychain: it decides a claim about the toy chain
// the way the fault proof program decides one about an OP Stack chain, from the same five local keys,
// reading every kind of pre-image the PreimageOracle serves, in a few million VM steps instead of hundreds
// of millions. Exit 0: the claim is right; 1: it is not.
//
// The agreed output root's pre-image gives the agreed block and chain state; the L1 head's pre-image lists
// each block's one record (a pre-image key); each block folds its record's pre-image into the state; the
// output root of block n is keccak256(n ++ state). A claim at or before the agreed block is right if it is
// the agreed output (as the fault proof program decides claims behind the agreed block).
//
//go:debug decoratemappings=0
package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"

	"github.com/faultproof/faultproof/game/internal/keccak"
)

var (
	dataR = os.NewFile(5, "preimage-r")
	keyW  = os.NewFile(6, "preimage-w")
)

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// get reads the pre-image of a key.
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

func local(i uint64) []byte {
	var k [32]byte
	k[0] = 1
	binary.BigEndian.PutUint64(k[24:], i)
	return get(k)
}

func keccakKey(h [32]byte) [32]byte {
	h[0] = 2
	return h
}

func main() {
	var agreed, claim [32]byte
	copy(agreed[:], local(2))
	copy(claim[:], local(3))
	claimBlock := binary.BigEndian.Uint64(local(4))
	_ = local(5) // the chain ID: one toy chain
	out := get(keccakKey(agreed))
	if len(out) != 40 {
		panic("agreed output pre-image is not 40 bytes")
	}
	block := binary.BigEndian.Uint64(out[:8])
	state := out[8:]
	if claimBlock <= block {
		exit(claim == agreed)
	}
	var head [32]byte
	copy(head[:], local(1))
	records := get(keccakKey(head))
	for n := block + 1; n <= claimBlock; n++ {
		if int(n)*33 > len(records) {
			panic("no record for the block")
		}
		var key [32]byte
		copy(key[:], records[(n-1)*33+1:n*33])
		state = fold(state, get(key))
	}
	root := keccak.Sum256(append(binary.BigEndian.AppendUint64(nil, claimBlock), state...))
	exit(bytes.Equal(root[:], claim[:]))
}

func fold(state, value []byte) []byte {
	h := keccak.Sum256(append(append([]byte{}, state...), value...))
	return h[:]
}

func exit(ok bool) {
	if ok {
		os.Exit(0)
	}
	os.Exit(1)
}

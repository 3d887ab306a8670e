// Package keccak is keccak256 as a sponge over keccak-f[1600] whose state can be seen between blocks: the
// large-preimage proposal commits to it after each block, and the toy program of game/toychain hashes with
// it (a guest program without go-ethereum).
package keccak

import (
	"encoding/binary"
	"math/bits"
)

// BlockSize is the rate of keccak256 in bytes: the size of one large-preimage leaf's input.
const BlockSize = 136

// State is the keccak-f[1600] state: 25 lanes, lane x+5y at index x+5y (as LibKeccak holds it).
type State [25]uint64

// keccakRoundConstants are keccak-f[1600]'s iota constants.
var keccakRoundConstants = [24]uint64{
	0x0000000000000001, 0x0000000000008082, 0x800000000000808a, 0x8000000080008000,
	0x000000000000808b, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
	0x000000000000008a, 0x0000000000000088, 0x0000000080008009, 0x000000008000000a,
	0x000000008000808b, 0x800000000000008b, 0x8000000000008089, 0x8000000000008003,
	0x8000000000008002, 0x8000000000000080, 0x000000000000800a, 0x800000008000000a,
	0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
}

// keccakRotations are the rho offsets of lane x+5y.
var keccakRotations = [25]int{
	0, 1, 62, 28, 27,
	36, 44, 6, 55, 20,
	3, 10, 43, 25, 39,
	41, 45, 15, 21, 8,
	18, 2, 61, 56, 14,
}

// Permute applies keccak-f[1600].
func (s *State) Permute() {
	var c, d [5]uint64
	var b [25]uint64
	for round := range 24 {
		// theta
		for x := range 5 {
			c[x] = s[x] ^ s[x+5] ^ s[x+10] ^ s[x+15] ^ s[x+20]
		}
		for x := range 5 {
			d[x] = c[(x+4)%5] ^ bits.RotateLeft64(c[(x+1)%5], 1)
		}
		for i := range 25 {
			s[i] ^= d[i%5]
		}
		// rho and pi: lane (x, y) moves to (y, 2x+3y)
		for x := range 5 {
			for y := range 5 {
				b[y+5*((2*x+3*y)%5)] = bits.RotateLeft64(s[x+5*y], keccakRotations[x+5*y])
			}
		}
		// chi
		for y := range 5 {
			for x := range 5 {
				s[x+5*y] = b[x+5*y] ^ (^b[(x+1)%5+5*y] & b[(x+2)%5+5*y])
			}
		}
		// iota
		s[0] ^= keccakRoundConstants[round]
	}
}

// Absorb XORs one 136-byte block into the state (little-endian lanes) and permutes.
func (s *State) Absorb(block []byte) {
	for i := range BlockSize / 8 {
		s[i] ^= binary.LittleEndian.Uint64(block[i*8:])
	}
	s.Permute()
}

// Squeeze returns the keccak256 digest of what was absorbed.
func (s *State) Squeeze() (h [32]byte) {
	for i := range 4 {
		binary.LittleEndian.PutUint64(h[i*8:], s[i])
	}
	return h
}

// Pad pads data with keccak256's multi-rate padding to whole blocks (always at least one pad byte).
func Pad(data []byte) []byte {
	n := (len(data)/BlockSize + 1) * BlockSize
	out := make([]byte, n)
	copy(out, data)
	out[len(data)] ^= 0x01
	out[n-1] ^= 0x80
	return out
}

// Sum256 is keccak256(data).
func Sum256(data []byte) [32]byte {
	var s State
	p := Pad(data)
	for i := 0; i < len(p); i += BlockSize {
		s.Absorb(p[i : i+BlockSize])
	}
	return s.Squeeze()
}

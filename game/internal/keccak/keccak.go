// Package keccak is keccak256 as a sponge over keccak-f[1600] whose state can be seen between blocks: the
// large-preimage proposal commits to it after each block, and the toy program of game/toychain hashes with
// it (a guest program without go-ethereum).
package keccak

import (
	"encoding/binary"

	"github.com/faultproof/faultproof/internal/keccak"
)

// BlockSize is the rate of keccak256 in bytes: the size of one large-preimage leaf's input.
const BlockSize = keccak.Rate

// State is the keccak-f[1600] state: 25 lanes, lane x+5y at index x+5y (as LibKeccak holds it).
type State [25]uint64

// Permute applies keccak-f[1600] (the program's permutation, internal/keccak).
func (s *State) Permute() { keccak.Permute((*[25]uint64)(s)) }

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

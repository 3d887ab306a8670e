package contracts

import (
	"encoding/binary"
	"math/bits"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// KeccakBlockSize is the rate of keccak256 in bytes: the size of one large-preimage leaf's input.
const KeccakBlockSize = 136

// StateMatrix is the keccak-f[1600] state as LibKeccak holds it: 25 lanes, lane x+5y at index x+5y.
// The large-preimage proposal commits to the state after each absorbed block.
type StateMatrix [25]uint64

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
func (s *StateMatrix) Permute() {
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
func (s *StateMatrix) Absorb(block []byte) {
	for i := range KeccakBlockSize / 8 {
		s[i] ^= binary.LittleEndian.Uint64(block[i*8:])
	}
	s.Permute()
}

// Squeeze returns the keccak256 digest of what was absorbed.
func (s *StateMatrix) Squeeze() common.Hash {
	var h common.Hash
	for i := range 4 {
		binary.LittleEndian.PutUint64(h[i*8:], s[i])
	}
	return h
}

// Commitment is the hash the proposal stores for a state: keccak256(abi.encode(state)), each lane a
// 32-byte word.
func (s *StateMatrix) Commitment() common.Hash {
	var buf [25 * 32]byte
	for i, lane := range s {
		binary.BigEndian.PutUint64(buf[i*32+24:], lane)
	}
	return crypto.Keccak256Hash(buf[:])
}

// KeccakPad pads data with keccak256's multi-rate padding to whole blocks (always at least one pad byte).
func KeccakPad(data []byte) []byte {
	n := (len(data)/KeccakBlockSize + 1) * KeccakBlockSize
	out := make([]byte, n)
	copy(out, data)
	out[len(data)] ^= 0x01
	out[n-1] ^= 0x80
	return out
}

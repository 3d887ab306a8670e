// Package keccak is Keccak-256 (Ethereum's keccak256, the legacy padding) written for the fault proof
// program's hot paths inside the VM, where every instruction is a step: the permutation runs on 25 lanes
// without a sponge object, and callers that hash many inputs of one shape (a blob's 4096 field-element
// keys) build the lanes themselves and call Permute.
//
// It gives the same digests as op-geth's crypto.Keccak256 (tested); op-geth keeps hashing everything else.
package keccak

import "encoding/binary"

// Rate is the number of input bytes one permutation absorbs.
const Rate = 136

// rc are the round constants of Keccak-f[1600] (iota).
var rc = [24]uint64{
	0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
	0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
	0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
	0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
	0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
	0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
}

// Permute applies Keccak-f[1600] to the state a (lane x+5y at index x+5y, each lane little-endian).
func Permute(a *[25]uint64) { permute(a) }

// PermuteDigest applies Keccak-f[1600] to a for a final digest: only lanes 0..3 (what Digest reads) are
// certain to be right afterwards. Inside the VM it skips most of the last round.
func PermuteDigest(a *[25]uint64) { permuteDigest(a) }

// Sum256 returns the Keccak-256 digest of data.
func Sum256(data []byte) (h [32]byte) {
	var a [25]uint64
	for len(data) >= Rate {
		for i := range Rate / 8 {
			a[i] ^= binary.LittleEndian.Uint64(data[8*i:])
		}
		permute(&a)
		data = data[Rate:]
	}
	var last [Rate]byte
	copy(last[:], data)
	last[len(data)] = 0x01
	last[Rate-1] |= 0x80
	for i := range Rate / 8 {
		a[i] ^= binary.LittleEndian.Uint64(last[8*i:])
	}
	permuteDigest(&a)
	Digest(&a, &h)
	return h
}

// Digest writes the 32-byte digest held in the first four lanes of a permuted state into h.
func Digest(a *[25]uint64, h *[32]byte) {
	binary.LittleEndian.PutUint64(h[0:], a[0])
	binary.LittleEndian.PutUint64(h[8:], a[1])
	binary.LittleEndian.PutUint64(h[16:], a[2])
	binary.LittleEndian.PutUint64(h[24:], a[3])
}

// PermuteGeneric is the portable Go permutation, which Permute uses except on mips64; exported for the
// test that compares the two inside the VM.
func PermuteGeneric(a *[25]uint64) { permuteGeneric(a) }

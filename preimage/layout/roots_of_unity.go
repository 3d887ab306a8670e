package layout

import (
	"math/bits"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/ethereum/go-ethereum/params"
)

// primitiveRootOfUnity generates the multiplicative subgroup of order 2^32 of the BLS12-381 scalar field,
// the largest power of two dividing its order (the EIP-4844 and consensus-specs choice).
const primitiveRootOfUnity = "10238227357739495823651030575849232062558860180284477541189508159991286009131"

// log2FieldElements is log2 of the number of field elements in a blob (4096 = 2^12).
const log2FieldElements = 12

// rootsOfUnity holds z_0..z_4095 as 32-byte big-endian values. Computed on first use: most program runs
// read no blob.
var rootsOfUnity = sync.OnceValue(computeRootsOfUnity)

// RootsOfUnity is the table of RootOfUnity, z_0..z_4095, shared: callers must not modify it. The
// program's blob reader builds its field-element keys from it.
func RootsOfUnity() *[params.BlobTxFieldElementsPerBlob][32]byte { return rootsOfUnity() }

// RootOfUnity returns the point at which the blob polynomial takes the value of field element i: the
// 4096-th roots of unity ω^k in bit-reversed order, z_i = ω^reverse12(i), as a 32-byte big-endian field
// element. The order is the one blobs are laid out in (consensus-specs bit_reversal_permutation), so that
// a KZG point-evaluation proof at z_i proves element i. It panics unless 0 <= i < 4096.
func RootOfUnity(i int) [32]byte {
	return rootsOfUnity()[i]
}

func computeRootsOfUnity() *[params.BlobTxFieldElementsPerBlob][32]byte {
	var omega fr.Element
	if _, err := omega.SetString(primitiveRootOfUnity); err != nil {
		panic(err) // a constant: cannot happen
	}
	// Order 2^32 -> order 2^12: square 32-12 times.
	for range 32 - log2FieldElements {
		omega.Square(&omega)
	}
	var out [params.BlobTxFieldElementsPerBlob][32]byte
	power := fr.One()
	for k := range params.BlobTxFieldElementsPerBlob {
		out[BitReversed(k)] = power.Bytes()
		power.Mul(&power, &omega)
	}
	return &out
}

// BitReversed is the consensus-specs bit-reversal permutation of the 4096 positions of a blob (its low
// 12 bits reversed): field element i is the value at ω^BitReversed(i), and the trusted setup's Lagrange
// points, in natural order, go to blob order by it. It is its own inverse.
func BitReversed(i int) int {
	return int(bits.Reverse16(uint16(i)) >> (16 - log2FieldElements))
}

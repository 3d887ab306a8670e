package layout

import (
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"
)

// blsModulus is the BLS12-381 scalar field order (consensus-specs BLS_MODULUS).
var blsModulus, _ = new(big.Int).SetString("52435875175126190479447740508185965837690552500527637822603658699938581184513", 10)

func bigOf(b [32]byte) *big.Int { return new(big.Int).SetBytes(b[:]) }

func TestModulusMatchesFieldImplementation(t *testing.T) {
	require.Equal(t, 0, blsModulus.Cmp(fr.Modulus()))
	require.Equal(t, "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", blsModulus.Text(16))
}

// TestRootsOfUnityMath recomputes the table with math/big, from the generator and from the
// consensus-specs definition (7 is the primitive root; ω = 7^((r-1)/4096)).
func TestRootsOfUnityMath(t *testing.T) {
	g, ok := new(big.Int).SetString(primitiveRootOfUnity, 10)
	require.True(t, ok)
	omega := new(big.Int).Exp(g, big.NewInt(1<<20), blsModulus)

	specExp := new(big.Int).Sub(blsModulus, big.NewInt(1))
	specExp.Div(specExp, big.NewInt(params.BlobTxFieldElementsPerBlob))
	require.Equal(t, 0, omega.Cmp(new(big.Int).Exp(big.NewInt(7), specExp, blsModulus)), "generator^(2^20) is the spec's ω")

	// g has order exactly 2^32, ω exactly 4096.
	one := big.NewInt(1)
	minusOne := new(big.Int).Sub(blsModulus, one)
	require.Equal(t, 0, new(big.Int).Exp(g, new(big.Int).Lsh(one, 31), blsModulus).Cmp(minusOne))
	require.Equal(t, 0, new(big.Int).Exp(omega, big.NewInt(2048), blsModulus).Cmp(minusOne))

	power := big.NewInt(1)
	seen := make(map[string]bool)
	for k := 0; k < params.BlobTxFieldElementsPerBlob; k++ {
		// reverse the 12-bit k by hand, independently of BitReversed
		rev := 0
		for b := 0; b < 12; b++ {
			if k&(1<<b) != 0 {
				rev |= 1 << (11 - b)
			}
		}
		z := RootOfUnity(rev)
		require.Equal(t, 0, bigOf(z).Cmp(power), "z_%d = ω^%d", rev, k)
		require.Equal(t, 0, new(big.Int).Exp(bigOf(z), big.NewInt(4096), blsModulus).Cmp(one), "z_%d^4096 = 1", rev)
		require.False(t, seen[string(z[:])], "z_%d repeats", rev)
		seen[string(z[:])] = true
		power.Mul(power, omega).Mod(power, blsModulus)
	}
	require.Equal(t, 0, power.Cmp(one), "ω^4096 = 1")
}

func TestRootsOfUnityFirstPoints(t *testing.T) {
	one := big.NewInt(1)
	minusOne := new(big.Int).Sub(blsModulus, one)
	require.Equal(t, 0, bigOf(RootOfUnity(0)).Cmp(one), "z_0 = ω^0 = 1")
	require.Equal(t, 0, bigOf(RootOfUnity(1)).Cmp(minusOne), "z_1 = ω^2048 = -1")
	// z_2 = ω^1024 is a square root of -1, and z_3 = ω^3072 its negation.
	z2 := bigOf(RootOfUnity(2))
	require.Equal(t, 0, new(big.Int).Exp(z2, big.NewInt(2), blsModulus).Cmp(minusOne))
	require.Equal(t, 0, new(big.Int).Sub(blsModulus, z2).Cmp(bigOf(RootOfUnity(3))))
}

func TestBitReversed(t *testing.T) {
	for _, c := range [][2]int{{0, 0}, {1, 2048}, {2, 1024}, {3, 3072}, {4095, 4095}, {0x001, 0x800}, {0xabc, 0x3d5}} {
		require.Equal(t, c[1], BitReversed(c[0]), "reverse(%#x)", c[0])
		require.Equal(t, c[0], BitReversed(c[1]))
	}
}

// TestRootsOfUnityAgainstKZG evaluates a blob's polynomial at z_i with the KZG library: the claim must be
// field element i, which is what makes a point-evaluation proof at z_i prove that element.
func TestRootsOfUnityAgainstKZG(t *testing.T) {
	blob := testBlob(42)
	commitment, err := kzg4844.BlobToCommitment(blob)
	require.NoError(t, err)
	for _, i := range []int{0, 1, 2, 3, 1000, 2048, 4095} {
		point := kzg4844.Point(RootOfUnity(i))
		proof, claim, err := kzg4844.ComputeProof(blob, point)
		require.NoError(t, err)
		require.Equal(t, blob[i*32:(i+1)*32], claim[:], "element %d", i)
		require.NoError(t, kzg4844.VerifyProof(commitment, point, claim, proof))
	}
}

func BenchmarkRootsOfUnity(b *testing.B) {
	for b.Loop() {
		computeRootsOfUnity()
	}
}

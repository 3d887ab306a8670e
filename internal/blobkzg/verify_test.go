package blobkzg

import (
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"
)

// randomBlob is a blob of random canonical field elements.
func randomBlob(rng *rand.Rand) *kzg4844.Blob {
	b := new(kzg4844.Blob)
	for i := range params.BlobTxFieldElementsPerBlob {
		var e fr.Element
		e.SetUint64(rng.Uint64()).Mul(&e, &e) // any canonical element; rng keeps the test varied
		v := e.Bytes()
		copy(b[i*32:], v[:])
	}
	return b
}

// opening is one input of VerifyProof.
type opening struct {
	name       string
	commitment kzg4844.Commitment
	point      kzg4844.Point
	claim      kzg4844.Claim
	proof      kzg4844.Proof
}

// openings are valid openings of random blobs at random points, and each spoiled in the ways a caller
// can spoil one: another value, another point, another proof, non-canonical scalars, bytes that are no
// point, the point at infinity.
func openings(t testing.TB) []opening {
	rng := rand.New(rand.NewPCG(5, 6))
	var out []opening
	for i := range 2 {
		blob := randomBlob(rng)
		commitment, err := kzg4844.BlobToCommitment(blob)
		require.NoError(t, err)
		var z fr.Element
		z.SetUint64(rng.Uint64())
		point := kzg4844.Point(z.Bytes())
		proof, claim, err := kzg4844.ComputeProof(blob, point)
		require.NoError(t, err)
		valid := opening{"valid", commitment, point, claim, proof}
		out = append(out, valid)

		o := valid
		o.name, o.claim[31] = "other value", o.claim[31]^1
		out = append(out, o)
		o = valid
		o.name, o.point[31] = "other point", o.point[31]^1
		out = append(out, o)
		o = valid
		o.name, o.proof = "commitment as proof", kzg4844.Proof(valid.commitment)
		out = append(out, o)
		o = valid
		o.name = "value is the modulus"
		fr.Modulus().FillBytes(o.claim[:])
		out = append(out, o)
		o = valid
		o.name = "point above the modulus"
		for j := range o.point {
			o.point[j] = 0xff
		}
		out = append(out, o)
		o = valid
		o.name, o.commitment[47] = "commitment off the curve", o.commitment[47]^1
		out = append(out, o)
		o = valid
		o.name, o.proof[0] = "proof without the compression flag", o.proof[0]&0x7f
		out = append(out, o)
		o = valid
		o.name = "proof at infinity"
		o.proof = kzg4844.Proof{0: 0xc0}
		out = append(out, o)
		if i == 0 {
			// The zero blob: commitment at infinity, every value zero, the proof at infinity.
			zero := new(kzg4844.Blob)
			c, err := kzg4844.BlobToCommitment(zero)
			require.NoError(t, err)
			p, y, err := kzg4844.ComputeProof(zero, point)
			require.NoError(t, err)
			out = append(out, opening{"zero blob", c, point, y, p})
		}
	}
	return out
}

// TestVerifyProofMatchesKZG: VerifyProof accepts exactly what op-geth's kzg4844.VerifyProof accepts.
func TestVerifyProofMatchesKZG(t *testing.T) {
	var valid int
	for i, o := range openings(t) {
		want := kzg4844.VerifyProof(o.commitment, o.point, o.claim, o.proof)
		got := VerifyProof(o.commitment, o.point, o.claim, o.proof)
		require.Equal(t, want == nil, got == nil, "opening %d (%s): kzg4844 says %v, VerifyProof %v", i, o.name, want, got)
		if got == nil {
			valid++
		}
	}
	require.Equal(t, 3, valid, "the two valid openings and the zero blob's verify")
}

// FuzzVerifyProofMatchesKZG spoils the openings' bytes at random.
func FuzzVerifyProofMatchesKZG(f *testing.F) {
	for _, o := range openings(f) {
		f.Add(o.commitment[:], o.point[:], o.claim[:], o.proof[:])
	}
	f.Fuzz(func(t *testing.T, c, z, y, p []byte) {
		var o opening
		copy(o.commitment[:], c)
		copy(o.point[:], z)
		copy(o.claim[:], y)
		copy(o.proof[:], p)
		want := kzg4844.VerifyProof(o.commitment, o.point, o.claim, o.proof)
		got := VerifyProof(o.commitment, o.point, o.claim, o.proof)
		require.Equal(t, want == nil, got == nil, "kzg4844 says %v, VerifyProof %v", want, got)
	})
}

// BenchmarkVerifyProof is one verification, the set-up loaded.
func BenchmarkVerifyProof(b *testing.B) {
	var o opening
	for _, x := range openings(b) {
		if x.name == "valid" {
			o = x
			break
		}
	}
	for b.Loop() {
		require.NoError(b, VerifyProof(o.commitment, o.point, o.claim, o.proof))
	}
}

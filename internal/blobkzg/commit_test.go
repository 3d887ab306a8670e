package blobkzg

import (
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"
)

// TestBlobToCommitmentMatchesKZG compares the commitment with op-geth's KZG library on blobs of random
// canonical field elements, a zero blob and a blob of ones.
func TestBlobToCommitmentMatchesKZG(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	blobs := []*kzg4844.Blob{new(kzg4844.Blob), new(kzg4844.Blob)}
	for i := range params.BlobTxFieldElementsPerBlob {
		blobs[1][i*32+31] = 1
	}
	for range 2 {
		b := new(kzg4844.Blob)
		for i := range params.BlobTxFieldElementsPerBlob {
			for j := 1; j < 32; j++ { // byte 0 stays below the modulus's first byte
				b[i*32+j] = byte(rng.Uint32())
			}
			b[i*32] = byte(rng.Uint32()) & 0x3f
		}
		blobs = append(blobs, b)
	}
	for i, b := range blobs {
		want, err := kzg4844.BlobToCommitment(b)
		require.NoError(t, err)
		got, err := BlobToCommitment(b)
		require.NoError(t, err)
		require.Equal(t, want, got, "blob %d: commitment %x, want %x", i, got, want)
	}
	bad := new(kzg4844.Blob)
	fr.Modulus().FillBytes(bad[32:64]) // element 1 is the modulus itself
	_, err := BlobToCommitment(bad)
	require.Error(t, err, "a non-canonical field element was committed to")
}

// BenchmarkBlobToCommitment is the native commitment check of one blob (the set-up is loaded once).
func BenchmarkBlobToCommitment(b *testing.B) {
	blob := new(kzg4844.Blob)
	for i := range params.BlobTxFieldElementsPerBlob {
		blob[i*32+31] = byte(i)
	}
	for b.Loop() {
		_, err := BlobToCommitment(blob)
		require.NoError(b, err)
	}
}

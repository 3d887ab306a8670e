package l1

import (
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"
	"github.com/faultproof/faultproof/preimage/layout"
	"github.com/stretchr/testify/require"
)

// TestBlobKeyerMatchesFieldElementKey checks the lane-level keys against keccak256(commitment ++ z_i)
// for every field element.
func TestBlobKeyerMatchesFieldElementKey(t *testing.T) {
	var commitment kzg4844.Commitment
	for i := range commitment {
		commitment[i] = byte(i*13 + 7)
	}
	keyer := newBlobKeyer(&commitment)
	var got [32]byte
	for i := range params.BlobTxFieldElementsPerBlob {
		keyer.key(i, &got)
		want, _ := layout.FieldElementKey(&commitment, i)
		require.Equal(t, want.PreimageKey(), got, "field element %d: key %x, want %x", i, got, want.PreimageKey())
	}
}

// BenchmarkBlobKeys computes the 4096 keys of one blob.
func BenchmarkBlobKeys(b *testing.B) {
	var commitment kzg4844.Commitment
	var key [32]byte
	rootLanes()
	for b.Loop() {
		keyer := newBlobKeyer(&commitment)
		for i := range params.BlobTxFieldElementsPerBlob {
			keyer.key(i, &key)
		}
	}
}

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
		got, err := blobToCommitment(b)
		require.NoError(t, err)
		require.Equal(t, want, got, "blob %d: commitment %x, want %x", i, got, want)
	}
	bad := new(kzg4844.Blob)
	copy(bad[32:], blsModulusBytes)
	_, err := blobToCommitment(bad)
	require.Error(t, err, "a non-canonical field element was committed to")
}

// BenchmarkBlobToCommitment is the native commitment check of one blob (the set-up is loaded once).
func BenchmarkBlobToCommitment(b *testing.B) {
	blob := new(kzg4844.Blob)
	for i := range params.BlobTxFieldElementsPerBlob {
		blob[i*32+31] = byte(i)
	}
	for b.Loop() {
		_, err := blobToCommitment(blob)
		require.NoError(b, err)
	}
}

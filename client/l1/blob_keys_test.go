package l1

import (
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

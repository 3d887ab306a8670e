package crosscheck

import (
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ethereum-optimism/optimism/op-service/eth"

	"github.com/faultproof/faultproof/derive"
)

// TestBlobEncodingMatchesOpService encodes with each side and decodes with the other, and feeds both
// decoders the same corrupted blobs.
func TestBlobEncodingMatchesOpService(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 200; i++ {
		n := rng.Intn(derive.MaxBlobDataSize + 1)
		if i < 20 {
			n = i * 13
		}
		data := make([]byte, n)
		rng.Read(data)

		ours, err := derive.EncodeBlob(data)
		require.NoError(t, err)
		var theirs eth.Blob
		require.NoError(t, theirs.FromData(data))
		require.Equal(t, theirs[:], ours[:], "same encoding of %d bytes", n)

		// Corrupt one byte: both decoders accept or both reject, with the same data.
		corrupt := *ours
		pos := rng.Intn(len(corrupt))
		corrupt[pos] ^= byte(1 << rng.Intn(8))
		got, ourErr := derive.DecodeBlob(&corrupt)
		var tb eth.Blob
		copy(tb[:], corrupt[:])
		want, theirErr := tb.ToData()
		require.Equal(t, theirErr == nil, ourErr == nil, "byte %d flipped: op-service %v, ours %v", pos, theirErr, ourErr)
		if ourErr == nil {
			require.Equal(t, []byte(want), got)
		}
	}
}

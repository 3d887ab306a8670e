package keccak

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"
)

// TestSum256MatchesOpGeth compares digests with op-geth's keccak256 for every length across the padding
// and block boundaries and for random data.
func TestSum256MatchesOpGeth(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 3*Rate+1; n++ {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		if got, want := Sum256(data), crypto.Keccak256Hash(data); got != want {
			require.FailNow(t, fmt.Sprintf("length %d: got %x, want %x", n, got, want))
		}
	}
	if got, want := Sum256(nil), crypto.Keccak256Hash(nil); got != want {
		require.FailNow(t, fmt.Sprintf("empty input: got %x, want %x", got, want))
	}
}

// TestPermuteKnownAnswer checks Keccak-f[1600] on the zero state against the Keccak team's known answer
// (the first lane after one and after two permutations).
func TestPermuteKnownAnswer(t *testing.T) {
	var a [25]uint64
	Permute(&a)
	require.Equal(t, uint64(0xF1258F7940E1DDE7), a[0], "after one permutation: lane 0 %#x, lane 24 %#x", a[0], a[24])
	require.Equal(t, uint64(0xEAF1FF7B5CECA249), a[24], "after one permutation: lane 0 %#x, lane 24 %#x", a[0], a[24])
	Permute(&a)
	require.Equal(t, uint64(0x2D5C954DF96ECB3C), a[0], "after two permutations: lane 0 %#x", a[0])
}

func TestDigest(t *testing.T) {
	var a [25]uint64
	var h [32]byte
	a[0], a[3] = 0x0807060504030201, 0xff
	Digest(&a, &h)
	require.Equal(t, []byte{1, 2, 3, 4, 5, 6, 7, 8, 0}, h[:9], "digest %x", h)
	require.Equal(t, byte(0xff), h[24], "digest %x", h)
}

func BenchmarkSum256(b *testing.B) {
	data := make([]byte, 80)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		Sum256(data)
	}
}

func BenchmarkPermute(b *testing.B) {
	var a [25]uint64
	for b.Loop() {
		Permute(&a)
	}
}

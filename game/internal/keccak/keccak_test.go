package keccak

import (
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"
)

// Sum256 is keccak256 at lengths around the block boundaries.
func TestSum256(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, n := range []int{0, 1, 31, 135, 136, 137, 271, 272, 273, 1000} {
		data := make([]byte, n)
		rng.Read(data)
		got, want := Sum256(data), crypto.Keccak256Hash(data)
		require.Equal(t, want, common.Hash(got), "%d bytes: %x, want %s", n, got, want)
	}
}

package kvstore

import (
	"crypto/sha256"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/preimage"
)

func TestCheckValue(t *testing.T) {
	v := []byte("a value")
	keccak := preimage.KeccakKeyOf(v).PreimageKey()
	sha := preimage.Sha256Key(sha256.Sum256(v)).PreimageKey()
	blob := preimage.BlobKey(common.Hash{1}).PreimageKey()
	precompile := preimage.PrecompileKey(common.Hash{2}).PreimageKey()
	for _, tc := range []struct {
		name  string
		key   [32]byte
		value []byte
		ok    bool
	}{
		{"keccak256", keccak, v, true},
		{"keccak256 wrong", keccak, []byte("another"), false},
		{"keccak256 empty", keccak, nil, false},
		{"sha256", sha, v, true},
		{"sha256 torn", sha, v[:3], false},
		{"blob field element", blob, make([]byte, 32), true},
		{"blob field element short", blob, make([]byte, 31), false},
		{"blob field element empty", blob, nil, false},
		{"precompile ok", precompile, []byte{1, 0xaa}, true},
		{"precompile failed", precompile, []byte{0}, true},
		{"precompile empty", precompile, nil, false},
		{"precompile bad status", precompile, []byte{2}, false},
		{"local", preimage.LocalIndexKey(1).PreimageKey(), []byte("anything"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckValue(tc.key, tc.value)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrCorrupt)
			}
		})
	}
	// An unknown key type is not a corrupt value.
	err := CheckValue([32]byte{7}, v)
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrCorrupt)
}

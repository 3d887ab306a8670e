package preimage

import (
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"
)

func TestKeyGoldenBytes(t *testing.T) {
	tests := []struct {
		name string
		key  Key
		want string
	}{
		{"local index 1 is big-endian in the last 8 bytes", LocalIndexKey(1), "0x0100000000000000000000000000000000000000000000000000000000000001"},
		{"local index 0x0102030405060708", LocalIndexKey(0x0102030405060708), "0x0100000000000000000000000000000000000000000000000102030405060708"},
		{"keccak256 of 'hello' with type byte 2", KeccakKeyOf([]byte("hello")), "0x028aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8"},
		{"sha256 of 'hello' with type byte 4", Sha256KeyOf([]byte("hello")), "0x04f24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"},
		{"blob key overwrites byte 0 with 5", BlobKey(common.HexToHash("0xff11111111111111111111111111111111111111111111111111111111111111")), "0x0511111111111111111111111111111111111111111111111111111111111111"},
		{"precompile key overwrites byte 0 with 6", PrecompileKey(common.HexToHash("0xff22222222222222222222222222222222222222222222222222222222222222")), "0x0622222222222222222222222222222222222222222222222222222222222222"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.key.PreimageKey()
			require.Equal(t, tt.want, common.Hash(got).Hex())
		})
	}
}

func TestValidateKey(t *testing.T) {
	tests := []struct {
		name string
		typ  byte
		ok   bool
	}{
		{"type 0 is illegal", 0, false},
		{"type 1 local", 1, true},
		{"type 2 keccak256", 2, true},
		{"type 3 global generic is reserved", 3, false},
		{"type 4 sha256", 4, true},
		{"type 5 blob", 5, true},
		{"type 6 precompile", 6, true},
		{"type 7 is reserved", 7, false},
		{"type 128 is reserved", 128, false},
		{"type 255 is application use", 255, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var k [32]byte
			k[0] = tt.typ
			err := ValidateKey(k)
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrUnsupportedKeyType)
			}
		})
	}
	t.Run("local key with non-zero padding", func(t *testing.T) {
		k := LocalIndexKey(1).PreimageKey()
		k[5] = 1
		require.Error(t, ValidateKey(k))
	})
}

func TestVerify(t *testing.T) {
	data := []byte("some preimage")
	tests := []struct {
		name    string
		key     [32]byte
		value   []byte
		wantErr error
	}{
		{"keccak256 match", KeccakKeyOf(data).PreimageKey(), data, nil},
		{"keccak256 mismatch", KeccakKeyOf(data).PreimageKey(), []byte("other"), ErrPreimageMismatch},
		{"sha256 match", Sha256KeyOf(data).PreimageKey(), data, nil},
		{"sha256 mismatch", Sha256KeyOf(data).PreimageKey(), []byte("other"), ErrPreimageMismatch},
		{"sha256 key does not accept the keccak preimage", Sha256KeyOf(data).PreimageKey(), nil, ErrPreimageMismatch},
		{"local is not verifiable", LocalIndexKey(3).PreimageKey(), []byte("x"), nil},
		{"blob is verified as a whole elsewhere", BlobKey{}.PreimageKey(), []byte("x"), nil},
		{"precompile is not verifiable", PrecompileKey{}.PreimageKey(), []byte("x"), nil},
		{"type 3 rejected", [32]byte{3}, nil, ErrUnsupportedKeyType},
		{"type 7 rejected", [32]byte{7}, nil, ErrUnsupportedKeyType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.key, tt.value)
			if tt.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.wantErr)
			}
		})
	}
}

func TestWithVerification(t *testing.T) {
	good := []byte("good")
	get := WithVerification(func(key [32]byte) ([]byte, error) {
		if key == KeccakKeyOf(good).PreimageKey() {
			return []byte("evil"), nil
		}
		if key == Sha256KeyOf(good).PreimageKey() {
			return good, nil
		}
		return nil, errors.New("not found")
	})
	_, err := get(KeccakKeyOf(good).PreimageKey())
	require.ErrorIs(t, err, ErrPreimageMismatch)
	v, err := get(Sha256KeyOf(good).PreimageKey())
	require.NoError(t, err)
	require.Equal(t, good, v)
	_, err = get(KeccakKeyOf([]byte("absent")).PreimageKey())
	require.EqualError(t, err, "not found")
}

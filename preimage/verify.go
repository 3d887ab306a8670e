package preimage

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/faultproof/faultproof/internal/keccak"
)

// ErrPreimageMismatch is returned when a preimage does not hash to its key.
var ErrPreimageMismatch = errors.New("preimage does not match its key")

// Verify checks a preimage against its key. Keccak256 and sha256 keys are checked by hashing (bytes 1..31
// must match: byte 0 is the type). Local, blob and precompile preimages cannot be checked from the key
// alone: blobs are checked as a whole against their KZG commitment by the reader of the blob, local keys
// are trusted inputs, and precompile results are trusted as on chain.
func Verify(key [32]byte, value []byte) error { return verify(&key, value) }

// verify is Verify without copying the key (a byte array is copied byte by byte on mips64).
func verify(key *[32]byte, value []byte) error {
	var sum [32]byte
	switch t := KeyType(key[0]); t {
	case Keccak256KeyType:
		sum = keccak.Sum256(value)
	case Sha256KeyType:
		sum = sha256.Sum256(value)
	case LocalKeyType, BlobKeyType, PrecompileKeyType:
		return nil
	default:
		return fmt.Errorf("%w %d (%s) in key %x", ErrUnsupportedKeyType, byte(t), t, *key)
	}
	if !bytes.Equal(sum[1:], key[1:]) {
		return fmt.Errorf("%w: key %x, %d-byte preimage hashes to %x", ErrPreimageMismatch, *key, len(value), sum)
	}
	return nil
}

// GetterFunc fetches the preimage of a key; it is what a server serves from.
type GetterFunc func(key [32]byte) ([]byte, error)

// WithVerification wraps a getter so that every answer is checked against its key before it is served.
func WithVerification(get GetterFunc) GetterFunc {
	return func(key [32]byte) ([]byte, error) {
		value, err := get(key)
		if err != nil {
			return nil, err
		}
		if err := Verify(key, value); err != nil {
			return nil, err
		}
		return value, nil
	}
}

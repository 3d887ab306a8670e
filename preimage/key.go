// Package preimage is the preimage-oracle ABI shared by the fault proof program, the host that serves it and
// the VM that runs it: 32-byte typed keys, the length-prefixed preimage channel, the hint channel and its
// acknowledgement, the file descriptors they travel on, and the checks that bind an answer to its key.
//
// It is byte-compatible with Optimism's op-preimage package and Cannon, so that our client, host and VM can
// each be exchanged for theirs.
package preimage

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// KeyType is the first byte of a preimage key; it says how the other 31 bytes were made.
type KeyType byte

const (
	// LocalKeyType keys carry a program-instance input (boot info) by index.
	LocalKeyType KeyType = 1
	// Keccak256KeyType keys are keccak256(preimage) with the first byte replaced.
	Keccak256KeyType KeyType = 2
	// GlobalGenericKeyType is reserved by the spec and rejected by every implementation.
	GlobalGenericKeyType KeyType = 3
	// Sha256KeyType keys are sha256(preimage) with the first byte replaced.
	Sha256KeyType KeyType = 4
	// BlobKeyType keys are keccak256(commitment ++ z) of an EIP-4844 blob field element.
	BlobKeyType KeyType = 5
	// PrecompileKeyType keys are keccak256(address ++ requiredGas ++ input) of an accelerated precompile call.
	PrecompileKeyType KeyType = 6
)

func (t KeyType) String() string {
	switch t {
	case LocalKeyType:
		return "local"
	case Keccak256KeyType:
		return "keccak256"
	case GlobalGenericKeyType:
		return "global-generic"
	case Sha256KeyType:
		return "sha256"
	case BlobKeyType:
		return "blob"
	case PrecompileKeyType:
		return "precompile"
	default:
		return fmt.Sprintf("unknown(%d)", byte(t))
	}
}

// Key is anything that can be turned into the 32 bytes sent on the preimage channel.
type Key interface {
	PreimageKey() [32]byte
}

// typed sets the type byte of a hash-derived key.
func typed(t KeyType, h [32]byte) [32]byte {
	h[0] = byte(t)
	return h
}

// LocalIndexKey is a local key: type byte, 23 zero bytes, then the index as a big-endian uint64.
type LocalIndexKey uint64

func (k LocalIndexKey) PreimageKey() (out [32]byte) {
	out[0] = byte(LocalKeyType)
	binary.BigEndian.PutUint64(out[24:], uint64(k))
	return out
}

// Keccak256Key is the keccak256 hash of a preimage; its key overwrites the first byte with the type.
type Keccak256Key common.Hash

func (k Keccak256Key) PreimageKey() [32]byte { return typed(Keccak256KeyType, k) }
func (k Keccak256Key) String() string        { return common.Hash(k).String() }

// Sha256Key is the sha256 hash of a preimage, e.g. an EIP-4844 versioned hash whose preimage is the
// 48-byte KZG commitment.
type Sha256Key common.Hash

func (k Sha256Key) PreimageKey() [32]byte { return typed(Sha256KeyType, k) }
func (k Sha256Key) String() string        { return common.Hash(k).String() }

// BlobKey is keccak256(commitment ++ z) for the blob field element evaluated at z; its preimage is the
// 32-byte field element.
type BlobKey common.Hash

func (k BlobKey) PreimageKey() [32]byte { return typed(BlobKeyType, k) }
func (k BlobKey) String() string        { return common.Hash(k).String() }

// PrecompileKey is keccak256(address ++ requiredGas ++ input); its preimage is a status byte followed by
// the precompile's return data.
type PrecompileKey common.Hash

func (k PrecompileKey) PreimageKey() [32]byte { return typed(PrecompileKeyType, k) }
func (k PrecompileKey) String() string        { return common.Hash(k).String() }

// RawKey is a key already in its wire form.
type RawKey [32]byte

func (k RawKey) PreimageKey() [32]byte { return k }

// KeccakKeyOf returns the keccak256 key of data.
func KeccakKeyOf(data []byte) Keccak256Key { return Keccak256Key(crypto.Keccak256Hash(data)) }

// Sha256KeyOf returns the sha256 key of data.
func Sha256KeyOf(data []byte) Sha256Key { return Sha256Key(sha256.Sum256(data)) }

// ErrUnsupportedKeyType is returned for keys whose type byte no implementation serves.
var ErrUnsupportedKeyType = fmt.Errorf("unsupported preimage key type")

// ValidateKey checks that a key's type is one the protocol serves (1, 2, 4, 5, 6) and, for local keys,
// that the 23 padding bytes are zero.
func ValidateKey(k [32]byte) error { return validateKey(&k) }

func validateKey(k *[32]byte) error {
	switch t := KeyType(k[0]); t {
	case Keccak256KeyType, Sha256KeyType, BlobKeyType, PrecompileKeyType:
		return nil
	case LocalKeyType:
		for _, b := range k[1:24] {
			if b != 0 {
				return fmt.Errorf("malformed local key %x: bytes 1..23 must be zero", *k)
			}
		}
		return nil
	default:
		return fmt.Errorf("%w %d (%s) in key %x", ErrUnsupportedKeyType, byte(t), t, *k)
	}
}

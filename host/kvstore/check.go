package kvstore

import (
	"errors"
	"fmt"

	"github.com/faultproof/faultproof/preimage"
)

// ErrCorrupt is returned for a stored value that cannot be what was written under its key: unreadable
// (e.g. a file torn by a crash), or failing the check of CheckValue.
var ErrCorrupt = errors.New("corrupt value")

// fieldElementSize is the size of a blob key's preimage: one field element of the blob.
const fieldElementSize = 32

// CheckValue checks a value read from a store against its key, as far as the key allows. Keccak256 and
// sha256 preimages must hash to their key. Blob and precompile preimages cannot be checked by key (the
// program checks a whole blob against its KZG commitment), but their shape can: a blob key's preimage is
// one 32-byte field element, a precompile result starts with a status byte 0 or 1. Errors wrap ErrCorrupt.
func CheckValue(key [32]byte, value []byte) error {
	switch preimage.KeyType(key[0]) {
	case preimage.BlobKeyType:
		if len(value) != fieldElementSize {
			return fmt.Errorf("%w: blob field element of %d bytes, want %d", ErrCorrupt, len(value), fieldElementSize)
		}
		return nil
	case preimage.PrecompileKeyType:
		if len(value) == 0 || value[0] > 1 {
			return fmt.Errorf("%w: precompile result without a status byte 0 or 1", ErrCorrupt)
		}
		return nil
	}
	if err := preimage.Verify(key, value); err != nil {
		if errors.Is(err, preimage.ErrPreimageMismatch) {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return err
	}
	return nil
}

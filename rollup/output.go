package rollup

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Output is a version-0 L2 output: what an output root commits to.
type Output struct {
	StateRoot                common.Hash
	MessagePasserStorageRoot common.Hash
	BlockHash                common.Hash
}

// outputV0Len is the encoded size: a 32-byte zero version and three hashes.
const outputV0Len = 128

// Marshal encodes the output as version(32 zero bytes) ++ stateRoot ++ messagePasserStorageRoot ++ blockHash.
func (o Output) Marshal() []byte {
	out := make([]byte, outputV0Len)
	copy(out[32:], o.StateRoot[:])
	copy(out[64:], o.MessagePasserStorageRoot[:])
	copy(out[96:], o.BlockHash[:])
	return out
}

// Root is keccak256 of the encoding: the value claimed and disputed on L1.
func (o Output) Root() common.Hash { return crypto.Keccak256Hash(o.Marshal()) }

// UnmarshalOutput decodes a version-0 output.
func UnmarshalOutput(data []byte) (*Output, error) {
	if len(data) != outputV0Len {
		return nil, fmt.Errorf("output encoding is %d bytes, want %d", len(data), outputV0Len)
	}
	if common.BytesToHash(data[:32]) != (common.Hash{}) {
		return nil, fmt.Errorf("unsupported output version %x", data[:32])
	}
	return &Output{
		StateRoot:                common.BytesToHash(data[32:64]),
		MessagePasserStorageRoot: common.BytesToHash(data[64:96]),
		BlockHash:                common.BytesToHash(data[96:128]),
	}, nil
}

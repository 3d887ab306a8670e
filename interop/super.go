package interop

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// SuperRootVersionV1 is the first byte of a version-1 super root.
const SuperRootVersionV1 byte = 1

const (
	chainOutputLen   = 32 + 32 // chain ID as a 32-byte big-endian word, then the output root
	superV1HeaderLen = 1 + 8   // version, timestamp
	// SuperV1MinLen is the shortest version-1 super root: one chain.
	SuperV1MinLen = superV1HeaderLen + chainOutputLen
)

var (
	// ErrInvalidSuperRoot is returned for an encoding that is not a super root.
	ErrInvalidSuperRoot = errors.New("invalid super root")
	// ErrSuperRootVersion is returned for a super root or prestate of an unknown version.
	ErrSuperRootVersion = errors.New("unknown super root version")
)

// ChainOutput is one chain's output root in a super root.
type ChainOutput struct {
	ChainID uint64
	Output  common.Hash
}

// SuperV1 is the state of every chain of a dependency set at one timestamp: the output root of each
// chain's block at that time, sorted by chain ID.
type SuperV1 struct {
	Timestamp uint64
	Chains    []ChainOutput
}

// NewSuperV1 returns the super root of the given outputs, sorted by chain ID.
func NewSuperV1(timestamp uint64, chains ...ChainOutput) *SuperV1 {
	s := &SuperV1{Timestamp: timestamp, Chains: slices.Clone(chains)}
	slices.SortFunc(s.Chains, func(a, b ChainOutput) int {
		switch {
		case a.ChainID < b.ChainID:
			return -1
		case a.ChainID > b.ChainID:
			return 1
		}
		return 0
	})
	return s
}

// Marshal encodes the super root: 0x01 ++ timestamp(8, big-endian) ++ for each chain, chain ID as a
// 32-byte big-endian word ++ output root.
func (s *SuperV1) Marshal() []byte {
	out := make([]byte, superV1HeaderLen, superV1HeaderLen+len(s.Chains)*chainOutputLen)
	out[0] = SuperRootVersionV1
	binary.BigEndian.PutUint64(out[1:], s.Timestamp)
	for _, c := range s.Chains {
		var id common.Hash
		binary.BigEndian.PutUint64(id[24:], c.ChainID)
		out = append(out, id[:]...)
		out = append(out, c.Output[:]...)
	}
	return out
}

// Root is keccak256 of the encoding: the value claimed and disputed on L1.
func (s *SuperV1) Root() common.Hash { return crypto.Keccak256Hash(s.Marshal()) }

// ChainIDs lists the chains in the super root, in its order.
func (s *SuperV1) ChainIDs() []uint64 {
	ids := make([]uint64, len(s.Chains))
	for i, c := range s.Chains {
		ids[i] = c.ChainID
	}
	return ids
}

// UnmarshalSuperRoot decodes a version-1 super root. The chains must be in strictly increasing chain ID
// order, as every encoder writes them, and each chain ID must fit 64 bits (every OP chain's does).
func UnmarshalSuperRoot(data []byte) (*SuperV1, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrInvalidSuperRoot)
	}
	if data[0] != SuperRootVersionV1 {
		return nil, fmt.Errorf("%w %d", ErrSuperRootVersion, data[0])
	}
	if len(data) < SuperV1MinLen || (len(data)-superV1HeaderLen)%chainOutputLen != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a version byte, a timestamp and whole chain outputs", ErrInvalidSuperRoot, len(data))
	}
	s := &SuperV1{Timestamp: binary.BigEndian.Uint64(data[1:9])}
	for rest := data[superV1HeaderLen:]; len(rest) > 0; rest = rest[chainOutputLen:] {
		if common.BytesToHash(rest[:24]) != (common.Hash{}) {
			return nil, fmt.Errorf("%w: chain ID %x does not fit 64 bits", ErrInvalidSuperRoot, rest[:32])
		}
		id := binary.BigEndian.Uint64(rest[24:32])
		if n := len(s.Chains); n > 0 && s.Chains[n-1].ChainID >= id {
			return nil, fmt.Errorf("%w: chain %d after chain %d: chains must be sorted by ID, each once", ErrInvalidSuperRoot, id, s.Chains[n-1].ChainID)
		}
		s.Chains = append(s.Chains, ChainOutput{ChainID: id, Output: common.BytesToHash(rest[32:64])})
	}
	return s, nil
}

package derive

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/faultproof/faultproof/rollup"
)

// L1BlockRef identifies an L1 block and its place in the chain.
type L1BlockRef struct {
	Hash       common.Hash
	Number     uint64
	ParentHash common.Hash
	Time       uint64
}

// ID is the block's hash and number.
func (r L1BlockRef) ID() rollup.BlockID { return rollup.BlockID{Hash: r.Hash, Number: r.Number} }

func (r L1BlockRef) String() string { return fmt.Sprintf("%s:%d", r.Hash.TerminalString(), r.Number) }

// L1BlockRefOf is the reference of an L1 header.
func L1BlockRefOf(h *types.Header) L1BlockRef {
	return L1BlockRef{Hash: h.Hash(), Number: h.Number.Uint64(), ParentHash: h.ParentHash, Time: h.Time}
}

// L2BlockRef identifies an L2 block, its L1 origin (epoch) and its position in that epoch.
type L2BlockRef struct {
	Hash           common.Hash
	Number         uint64
	ParentHash     common.Hash
	Time           uint64
	L1Origin       rollup.BlockID
	SequenceNumber uint64 // distance to the first block of the epoch
}

// ID is the block's hash and number.
func (r L2BlockRef) ID() rollup.BlockID { return rollup.BlockID{Hash: r.Hash, Number: r.Number} }

func (r L2BlockRef) String() string {
	return fmt.Sprintf("%s:%d (origin %d, seq %d)", r.Hash.TerminalString(), r.Number, r.L1Origin.Number, r.SequenceNumber)
}

package derive

import (
	"fmt"

	"github.com/ethereum/go-ethereum/core/types"

	"github.com/faultproof/faultproof/rollup"
)

// L2BlockRefOf is an L2 block's reference: its L1 origin and sequence number come from its L1 attributes
// deposit (the genesis block's origin is the rollup's L1 genesis).
func L2BlockRefOf(cfg *rollup.Config, b *types.Block) (L2BlockRef, error) {
	ref := L2BlockRef{Hash: b.Hash(), Number: b.NumberU64(), ParentHash: b.ParentHash(), Time: b.Time()}
	if ref.Number == cfg.Genesis.L2.Number {
		if ref.Hash != cfg.Genesis.L2.Hash {
			return L2BlockRef{}, fmt.Errorf("l2 block %d is %s, the rollup genesis is %s", ref.Number, ref.Hash, cfg.Genesis.L2.Hash)
		}
		ref.L1Origin = cfg.Genesis.L1
		return ref, nil
	}
	info, err := L1InfoFromL2Block(cfg, b)
	if err != nil {
		return L2BlockRef{}, err
	}
	ref.L1Origin = rollup.BlockID{Hash: info.BlockHash, Number: info.Number}
	ref.SequenceNumber = info.SequenceNumber
	return ref, nil
}

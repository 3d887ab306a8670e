package devnet

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"

	"github.com/faultproof/faultproof/rollup"
)

// L1BlockRef is op-node's reference to an L1 block (numbers and times are plain JSON numbers).
type L1BlockRef struct {
	Hash       common.Hash `json:"hash"`
	Number     uint64      `json:"number"`
	ParentHash common.Hash `json:"parentHash"`
	Time       uint64      `json:"timestamp"`
}

// L2BlockRef is op-node's reference to an L2 block: with its L1 origin and its position in the epoch.
type L2BlockRef struct {
	Hash           common.Hash    `json:"hash"`
	Number         uint64         `json:"number"`
	ParentHash     common.Hash    `json:"parentHash"`
	Time           uint64         `json:"timestamp"`
	L1Origin       rollup.BlockID `json:"l1origin"`
	SequenceNumber uint64         `json:"sequenceNumber"`
}

// SyncStatus is op-node's optimism_syncStatus answer.
type SyncStatus struct {
	CurrentL1          L1BlockRef `json:"current_l1"`
	CurrentL1Finalized L1BlockRef `json:"current_l1_finalized"`
	HeadL1             L1BlockRef `json:"head_l1"`
	SafeL1             L1BlockRef `json:"safe_l1"`
	FinalizedL1        L1BlockRef `json:"finalized_l1"`
	UnsafeL2           L2BlockRef `json:"unsafe_l2"`
	SafeL2             L2BlockRef `json:"safe_l2"`
	FinalizedL2        L2BlockRef `json:"finalized_l2"`
	PendingSafeL2      L2BlockRef `json:"pending_safe_l2"`
	CrossUnsafeL2      L2BlockRef `json:"cross_unsafe_l2"`
	LocalSafeL2        L2BlockRef `json:"local_safe_l2"`
}

// OutputResponse is op-node's optimism_outputAtBlock answer.
type OutputResponse struct {
	Version               common.Hash `json:"version"`
	OutputRoot            common.Hash `json:"outputRoot"`
	BlockRef              L2BlockRef  `json:"blockRef"`
	WithdrawalStorageRoot common.Hash `json:"withdrawalStorageRoot"`
	StateRoot             common.Hash `json:"stateRoot"`
	Status                *SyncStatus `json:"syncStatus"`
}

// rollupAPI is the part of op-node's optimism namespace a fault proof tool asks: outputs, the sync status
// and the rollup config. The devnet is fully derived: everything is at the head.
type rollupAPI struct {
	b      RollupBackend
	l1, l2 *execNode
}

func l1Ref(b *types.Block) L1BlockRef {
	return L1BlockRef{Hash: b.Hash(), Number: b.NumberU64(), ParentHash: b.ParentHash(), Time: b.Time()}
}

// l2Ref is L2 block n's reference, with the L1 origin and sequence number the sequencer gave it.
func (a *rollupAPI) l2Ref(n uint64) L2BlockRef {
	b := a.l2.blocks[n]
	ref := L2BlockRef{Hash: b.Hash(), Number: n, ParentHash: b.ParentHash(), Time: b.Time(), L1Origin: a.b.Rollup().Genesis.L1}
	if n > 0 {
		info := a.b.Batch(n)
		ref.L1Origin = rollupBlockID(a.l1.blocks[info.L1Origin])
		ref.SequenceNumber = info.SeqNumber
	}
	return ref
}

func (a *rollupAPI) syncStatus() *SyncStatus {
	l1, l2 := l1Ref(a.l1.head()), a.l2Ref(a.l2.head().NumberU64())
	return &SyncStatus{
		CurrentL1: l1, CurrentL1Finalized: l1, HeadL1: l1, SafeL1: l1, FinalizedL1: l1,
		UnsafeL2: l2, SafeL2: l2, FinalizedL2: l2, PendingSafeL2: l2, CrossUnsafeL2: l2, LocalSafeL2: l2,
	}
}

// SyncStatus is optimism_syncStatus.
func (a *rollupAPI) SyncStatus() *SyncStatus { return a.syncStatus() }

// RollupConfig is optimism_rollupConfig.
func (a *rollupAPI) RollupConfig() *rollup.Config { return a.b.Rollup() }

// OutputAtBlock is optimism_outputAtBlock: the version-0 output of an L2 block, computed from the served
// state (the L2ToL1MessagePasser's storage root in it).
func (a *rollupAPI) OutputAtBlock(number hexutil.Uint64) (*OutputResponse, error) {
	if uint64(number) >= uint64(len(a.l2.blocks)) {
		return nil, fmt.Errorf("failed to get L2 block ref with sync status: L2 block %d not found (head %d)", number, a.l2.head().NumberU64())
	}
	b := a.l2.blocks[number]
	st, err := a.l2.state(b)
	if err != nil {
		return nil, err
	}
	out := Output{StateRoot: b.Root(), MessagePasserStorageRoot: st.GetStorageRoot(params.OptimismL2ToL1MessagePasser), BlockHash: b.Hash()}
	return &OutputResponse{
		OutputRoot: out.Root(), BlockRef: a.l2Ref(uint64(number)), WithdrawalStorageRoot: out.MessagePasserStorageRoot,
		StateRoot: out.StateRoot, Status: a.syncStatus(),
	}, nil
}

package derive

import (
	"github.com/ethereum/go-ethereum/core/types"
)

// BatchProvider is the stage before the batch stage: it hands out the batches decoded from channels, tagged
// implicitly with its current L1 origin, which is the batches' L1 inclusion block.
type BatchProvider interface {
	// Origin is the L1 block whose data is being read.
	Origin() L1BlockRef
	// NextBatch returns the next decoded batch; io.EOF when the data of the current L1 origin is used up
	// (advance L1 first), ErrNotEnoughData after progress without a batch.
	NextBatch() (*BatchData, error)
	// FlushChannel drops the rest of the channel being read (Holocene: after an invalid batch).
	FlushChannel()
}

// SafeL2Fetcher reads the safe L2 chain, for the span batch checks that look behind the safe head: the
// parent of a span batch that overlaps the safe chain, and the overlapped blocks themselves.
//
// Both methods are only called with numbers of blocks at or below the safe head and at or above the L2
// genesis. An error is a failure to read the chain, not a verdict on the batch: the batch stage keeps the
// batch and returns the error, so the same call can be repeated.
type SafeL2Fetcher interface {
	L2BlockRefByNumber(n uint64) (L2BlockRef, error)
	PayloadByNumber(n uint64) (*types.Block, error)
}

// SingularBatchProvider is what the batch stages offer the next stage (payload attributes derivation):
// BatchQueue before Holocene, BatchStage from Holocene, and BatchMux, which switches between them.
type SingularBatchProvider interface {
	Origin() L1BlockRef
	// NextBatch returns the batch of the L2 block after parent. lastInSpan says whether it is the last
	// block of its span batch (always true for singular batches and, from Holocene, for every batch).
	NextBatch(parent L2BlockRef) (batch *SingularBatch, lastInSpan bool, err error)
	Reset(base L1BlockRef)
}

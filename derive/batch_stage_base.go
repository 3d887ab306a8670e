package derive

import (
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/rollup"
)

// batchStageBase is what the pre-Holocene BatchQueue and the Holocene BatchStage share: the L1 blocks from
// the current epoch on, the blocks of the span batch being handed out, and empty batch generation.
type batchStageBase struct {
	cfg  *rollup.Config
	log  log.Logger
	prev BatchProvider
	l2   SafeL2Fetcher

	// origin is the previous stage's origin as last seen.
	origin L1BlockRef
	// l1Blocks are consecutive L1 blocks: the epoch of the next L2 block first (the safe head's L1 origin,
	// or the one after it once all empty batches of the safe head's epoch are generated), then every L1
	// block read since, up to origin. Blocks are dropped from the front as the safe head's origin advances,
	// so there are at most about a sequencing window of them.
	l1Blocks []L1BlockRef
	// span holds the batches of the blocks after the safe head of the span batch being handed out.
	span []*SingularBatch
}

// Origin is the L1 block being read.
func (s *batchStageBase) Origin() L1BlockRef { return s.prev.Origin() }

// reset restarts from base, the L1 origin the pipeline restarts reading at. base is kept as the first L1
// block: when derivation starts at the safe head's own L1 origin it is the current epoch; otherwise the
// safe head is ahead, and the block is dropped when the next origin arrives.
func (s *batchStageBase) reset(base L1BlockRef) {
	s.origin = base
	s.l1Blocks = append(s.l1Blocks[:0], base)
	s.span = nil
}

// behind reports whether the previous stage reads L1 blocks before the safe head's L1 origin (after a
// reset, while the pipeline replays the channels that may still be open at the safe head).
func (s *batchStageBase) behind(parent L2BlockRef) bool {
	return s.prev.Origin().Number < parent.L1Origin.Number
}

// updateOrigins records a new origin of the previous stage and drops the L1 blocks before the safe head's
// L1 origin.
func (s *batchStageBase) updateOrigins(parent L2BlockRef) {
	behind := s.behind(parent)
	if cur := s.prev.Origin(); cur != s.origin {
		s.origin = cur
		if behind {
			// Replaying old L1 blocks: none of them is needed. The safe head's origin comes later.
			s.l1Blocks = s.l1Blocks[:0]
		} else {
			s.l1Blocks = append(s.l1Blocks, cur)
		}
		s.log.Debug("Batch stage origin advanced", "origin", cur, "behind", behind)
	}
	// Before Holocene this only happens once the whole span batch of the previous blocks is derived: the
	// span is handed out from a stored list, and NextBatch returns from it before updating the origins.
	if len(s.l1Blocks) > 0 && parent.L1Origin.Number > s.l1Blocks[0].Number {
		for i, b := range s.l1Blocks {
			if b.Number == parent.L1Origin.Number {
				n := copy(s.l1Blocks, s.l1Blocks[i:])
				clear(s.l1Blocks[n:])
				s.l1Blocks = s.l1Blocks[:n]
				break
			}
		}
		// Not found: the safe head's origin is still to be read.
	}
}

// nextFromSpan hands out the next block of the current span batch if it follows parent. A parent that does
// not fit means the previous block of the span did not make it into the chain: the rest is dropped.
func (s *batchStageBase) nextFromSpan(parent L2BlockRef) (*SingularBatch, bool) {
	if len(s.span) == 0 {
		return nil, false
	}
	if s.span[0].Timestamp != parent.Time+s.cfg.BlockTime {
		s.log.Warn("Dropping the rest of a span batch that does not follow the safe head", "parent", parent,
			"next_timestamp", s.span[0].Timestamp)
		s.span = nil
		return nil, false
	}
	return s.popSpan(parent), true
}

// popSpan hands out the first block of the span, on parent: the span's parent check was verified
// against the block before the span, and each later block is on the previous one.
func (s *batchStageBase) popSpan(parent L2BlockRef) *SingularBatch {
	b := s.span[0]
	s.span[0] = nil
	s.span = s.span[1:]
	if len(s.span) == 0 {
		s.span = nil
	}
	b.ParentHash = parent.Hash
	return b
}

// checkEpoch requires the first buffered L1 block to be the safe head's L1 origin or the block after it.
func (s *batchStageBase) checkEpoch(parent L2BlockRef) error {
	epoch := s.l1Blocks[0]
	if parent.L1Origin != epoch.ID() && parent.L1Origin.Number+1 != epoch.Number {
		return fmt.Errorf("%w: buffered L1 epoch %s does not match the safe head's L1 origin %s", ErrReset, epoch,
			parent.L1Origin)
	}
	return nil
}

// nextEmptyBatch generates the batch of the block after parent when the sequencing window of the current
// epoch has passed without one (derivation.md "Batch Queue"): once every batch that can be read from L1
// block epoch + sequence_window_size is known (outOfData: the previous stage has nothing more at the current
// origin) and the next epoch's L1 block is known. The empty batch keeps the current epoch while its
// timestamp is before the next epoch's L1 time, and always as the first block of the epoch; otherwise the
// epoch advances, and the next call generates the batch on the next epoch. io.EOF: no batch now.
func (s *batchStageBase) nextEmptyBatch(outOfData bool, parent L2BlockRef) (*SingularBatch, error) {
	epoch := s.l1Blocks[0]
	expiry := epoch.Number + s.cfg.SeqWindowSize
	expired := (expiry == s.origin.Number && outOfData) || expiry < s.origin.Number
	if !expired || len(s.l1Blocks) < 2 {
		return nil, io.EOF
	}
	next := s.l1Blocks[1]
	nextTime := parent.Time + s.cfg.BlockTime
	firstOfEpoch := epoch.Number == parent.L1Origin.Number+1
	if nextTime < next.Time || firstOfEpoch {
		s.log.Info("Generating an empty batch", "epoch", epoch, "timestamp", nextTime, "parent", parent)
		return &SingularBatch{ParentHash: parent.Hash, EpochNum: epoch.Number, EpochHash: epoch.Hash, Timestamp: nextTime}, nil
	}
	// Every empty batch the epoch can take is generated: the next ones are on the next epoch.
	s.log.Debug("Advancing the batch stage epoch", "next_epoch", next, "next_timestamp", nextTime)
	n := copy(s.l1Blocks, s.l1Blocks[1:])
	clear(s.l1Blocks[n:])
	s.l1Blocks = s.l1Blocks[:n]
	return nil, io.EOF
}

// spanFromData derives a span batch's blocks. A span batch that cannot be derived (a transaction of a
// type span batches do not carry, or one that does not decode) or that arrives before Delta is dropped
// alone, as op-node's channel reader does: the rest of the channel is still read.
func (s *batchStageBase) spanFromData(raw *RawSpanBatch) (*SpanBatch, bool) {
	if origin := s.prev.Origin(); !s.cfg.IsDelta(origin.Time) {
		s.log.Warn("Dropping span batch before Delta", "origin", origin)
		return nil, false
	}
	span, err := DeriveSpanBatch(s.cfg, raw)
	if err != nil {
		s.log.Warn("Dropping span batch that cannot be derived", "origin", s.prev.Origin(), "err", err)
		return nil, false
	}
	return span, true
}

package derive

import (
	"errors"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/rollup"
)

// BatchStage is the batch stage from Holocene (holocene/derivation.md "Span Batches", "Batch Queue"): batches
// must arrive in order, so nothing is buffered but the span batch being handed out. Each singular batch,
// read directly or split from a span batch, is checked as it comes: a valid one is handed out at once, a
// past one is skipped, and an invalid one is dropped with the rest of its span batch and of its channel. A
// span batch is checked as a whole first (CheckHoloceneSpanBatch); a past span batch is skipped, an invalid
// one dropped with the rest of its channel. Empty batches are generated as before Holocene.
type BatchStage struct {
	batchStageBase

	// pending is a span batch whose check met an error of the L2 source, with its inclusion block: it is
	// checked again on the next call instead of reading a new batch.
	pending          *SpanBatch
	pendingInclusion L1BlockRef
}

var _ SingularBatchProvider = (*BatchStage)(nil)

// NewBatchStage reads batches from prev; l2 reads the safe chain for span batches that overlap it. Each
// verdict is logged to logger at debug level with the rule that decided it. Reset must be called before
// NextBatch.
func NewBatchStage(cfg *rollup.Config, logger log.Logger, prev BatchProvider, l2 SafeL2Fetcher) *BatchStage {
	return &BatchStage{batchStageBase: batchStageBase{cfg: cfg, log: logger, prev: prev, l2: l2}}
}

// Reset restarts from base (see batchStageBase.reset).
func (s *BatchStage) Reset(base L1BlockRef) {
	s.reset(base)
	s.pending = nil
}

// FlushSpan drops the rest of the span batch being handed out, for the engine's deposit-only replacement
// of an invalid payload (holocene/derivation.md "Engine Queue"), which also flushes the channel.
func (s *BatchStage) FlushSpan() {
	s.span = nil
	s.pending = nil
}

// FlushChannel drops the rest of the span batch being handed out and of the channel being read.
func (s *BatchStage) FlushChannel() {
	s.FlushSpan()
	s.prev.FlushChannel()
}

// NextBatch returns the batch of the L2 block after parent (the safe head). From Holocene every block is
// final as soon as it is derived, so lastInSpan is always true. io.EOF: nothing more can be derived until
// the next L1 block; ErrNotEnoughData: call again.
func (s *BatchStage) NextBatch(parent L2BlockRef) (*SingularBatch, bool, error) {
	// Nothing is buffered across L1 blocks, so the L1 blocks can always follow the safe head.
	s.updateOrigins(parent)

	// Batches read from L1 blocks up to the safe head's L1 origin are all past or invalid: a batch cannot
	// name the L1 block that includes it, nor a later one, as its L1 origin. Read and skip them.
	if s.behind(parent) || parent.L1Origin.Number == s.origin.Number {
		if _, err := s.prev.NextBatch(); err != nil {
			return nil, false, err
		}
		return nil, false, ErrNotEnoughData
	}
	if len(s.l1Blocks) < 2 {
		// The safe head's origin and the block after it have been read: derivation did not start at
		// the safe head.
		return nil, false, fmt.Errorf("%w: batch stage holds %d L1 blocks at origin %s for parent %s", ErrCritical,
			len(s.l1Blocks), s.origin, parent)
	}
	if err := s.checkEpoch(parent); err != nil {
		return nil, false, err
	}

	b, err := s.candidate(parent)
	if errors.Is(err, io.EOF) {
		// The previous stage has nothing more at this origin: maybe the window has passed.
		empty, err := s.nextEmptyBatch(true, parent)
		return empty, true, err
	} else if err != nil {
		return nil, false, err
	}

	v := CheckSingularBatch(s.cfg, s.l1Blocks, parent, b, s.origin)
	s.log.Debug("Batch verdict", "kind", "singular", "timestamp", b.Timestamp, "inclusion", s.origin,
		"parent", parent, "validity", v.Validity, "rule", v.Rule)
	switch v.Validity {
	case BatchAccept:
		return b, true, nil
	case BatchPast:
		return nil, false, ErrNotEnoughData
	case BatchDrop:
		s.log.Warn("Dropping invalid batch and the rest of its channel", "timestamp", b.Timestamp, "rule", v.Rule)
		s.FlushChannel()
		return nil, false, ErrNotEnoughData
	case BatchUndecided:
		// Not reachable with two L1 blocks or more; the batch is skipped, as op-node does.
		return nil, false, ErrNotEnoughData
	default:
		return nil, false, fmt.Errorf("%w: batch validity %s in the Holocene batch stage", ErrCritical, v.Validity)
	}
}

// candidate is the next singular batch to check: the next block of the current span batch, or the next
// batch read, split first if it is a span batch that passes the whole-span checks.
func (s *BatchStage) candidate(parent L2BlockRef) (*SingularBatch, error) {
	if b, ok := s.nextFromSpan(parent); ok {
		return b, nil
	}
	span, inclusion := s.pending, s.pendingInclusion
	s.pending = nil
	if span == nil {
		data, err := s.prev.NextBatch()
		if err != nil {
			return nil, err
		}
		if sb, ok := data.Singular(); ok {
			return sb, nil
		}
		raw, ok := data.Span()
		if !ok {
			s.log.Warn("Dropping batch of unknown type", "origin", s.origin)
			return nil, ErrNotEnoughData
		}
		if span, ok = s.spanFromData(raw); !ok {
			return nil, ErrNotEnoughData
		}
		inclusion = s.origin
	}

	v, err := CheckHoloceneSpanBatch(s.cfg, s.l1Blocks, parent, span, inclusion, s.l2)
	if err != nil {
		s.pending, s.pendingInclusion = span, inclusion
		return nil, err
	}
	s.log.Debug("Batch verdict", "kind", "span", "timestamp", span.Timestamp(), "inclusion", inclusion,
		"parent", parent, "validity", v.Validity, "rule", v.Rule)
	switch v.Validity {
	case BatchAccept:
	case BatchPast:
		return nil, ErrNotEnoughData
	case BatchDrop:
		s.log.Warn("Dropping invalid span batch and the rest of its channel", "timestamp", span.Timestamp(), "rule", v.Rule)
		s.FlushChannel()
		return nil, ErrNotEnoughData
	case BatchUndecided:
		// op-node: the span was read, so it is skipped, without dropping the rest of its channel (a span
		// from the L2 genesis, or whose last L1 origin is not among the stage's L1 blocks).
		s.log.Warn("Skipping undecided span batch", "timestamp", span.Timestamp(), "rule", v.Rule)
		return nil, ErrNotEnoughData
	default:
		return nil, fmt.Errorf("%w: span batch validity %s in the Holocene batch stage", ErrCritical, v.Validity)
	}
	blocks, err := bvSpanSingulars(span, s.l1Blocks, parent)
	if err != nil {
		// The whole-span checks do not cover every block (holocene/derivation.md "Span Batches").
		s.log.Warn("Dropping span batch whose blocks cannot be split, and the rest of its channel", "err", err)
		s.FlushChannel()
		return nil, ErrNotEnoughData
	}
	if len(blocks) == 0 { // not after the prefix rules, which require a block after the safe head
		return nil, ErrNotEnoughData
	}
	s.span = blocks
	return s.popSpan(parent), nil
}

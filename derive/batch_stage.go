package derive

import (
	"errors"
	"fmt"
	"io"
	"slices"

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

// NewBatchStage reads batches from prev; l2 reads the safe chain for span batches that overlap it. Reset
// must be called before NextBatch.
func NewBatchStage(cfg *rollup.Config, prev BatchProvider, l2 SafeL2Fetcher) *BatchStage {
	return &BatchStage{batchStageBase: newBatchStageBase(cfg, nil, prev, l2)}
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

	v := JudgeSingularBatch(s.cfg, s.l1Blocks, parent, b, s.origin)
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

	v, err := JudgeHoloceneSpanBatch(s.cfg, s.l1Blocks, parent, span, inclusion, s.l2)
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
		// Only for an L1 origin the stage no longer holds, outside the sequencing window of any batch
		// it reads; skipped, as op-node does.
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

// BatchMux is the batch stage of the pipeline: the BatchQueue before Holocene and the BatchStage from
// Holocene, by the L1 origin being read. Reset picks the stage by the time of the L1 block it resets to.
// When the previous stage moves to the first L1 block at or after Holocene, the queue is replaced by the
// Holocene stage, which keeps the L1 blocks the queue had gathered (the first Holocene channel may hold
// batches for epochs read before Holocene) but none of its batches (holocene/derivation.md "Activation").
//
// op-node swaps the stages the same way, but through the pipeline, which only reports the earliest fork
// that activates between two L1 origins: where an earlier fork activates in the same L1 step as
// Holocene, op-node keeps its pre-Holocene stages. Here the switch depends on Holocene alone.
type BatchMux struct {
	cfg  *rollup.Config
	log  log.Logger
	prev BatchProvider
	l2   SafeL2Fetcher

	queue *BatchQueue // active before Holocene
	stage *BatchStage // active from Holocene
}

var _ SingularBatchProvider = (*BatchMux)(nil)

// NewBatchMux reads batches from prev; l2 reads the safe chain for span batches that overlap it. Reset
// must be called before NextBatch.
func NewBatchMux(cfg *rollup.Config, prev BatchProvider, l2 SafeL2Fetcher) *BatchMux {
	return newBatchStage(cfg, nil, prev, l2)
}

// newBatchStage is the pipeline's batch stage, a BatchMux logging to logger.
func newBatchStage(cfg *rollup.Config, logger log.Logger, prev BatchProvider, l2 SafeL2Fetcher) *BatchMux {
	if logger == nil {
		logger = log.Root()
	}
	return &BatchMux{cfg: cfg, log: logger, prev: prev, l2: l2}
}

// Origin is the L1 block being read.
func (m *BatchMux) Origin() L1BlockRef { return m.prev.Origin() }

// SetLogger sets the logger of the mux and of its stages; each verdict is logged at debug level with the
// rule that decided it.
func (m *BatchMux) SetLogger(logger log.Logger) {
	m.log = logger
	if m.queue != nil {
		m.queue.SetLogger(logger)
	}
	if m.stage != nil {
		m.stage.SetLogger(logger)
	}
}

// Reset restarts from base with the stage of base's fork.
func (m *BatchMux) Reset(base L1BlockRef) {
	if m.cfg.IsHolocene(base.Time) {
		m.queue = nil
		if m.stage == nil {
			m.log.Info("Batch stage: Holocene stage at reset", "base", base)
			m.stage = &BatchStage{batchStageBase: newBatchStageBase(m.cfg, m.log, m.prev, m.l2)}
		}
		m.stage.Reset(base)
		return
	}
	m.stage = nil
	if m.queue == nil {
		m.log.Info("Batch stage: pre-Holocene queue at reset", "base", base)
		m.queue = &BatchQueue{batchStageBase: newBatchStageBase(m.cfg, m.log, m.prev, m.l2)}
	}
	m.queue.Reset(base)
}

// NextBatch returns the batch of the L2 block after parent from the active stage, switching to the Holocene
// stage first if the L1 origin has reached Holocene.
func (m *BatchMux) NextBatch(parent L2BlockRef) (*SingularBatch, bool, error) {
	if m.queue != nil && m.cfg.IsHolocene(m.prev.Origin().Time) {
		m.log.Info("Batch stage: switching to the Holocene stage", "origin", m.prev.Origin())
		st := &BatchStage{batchStageBase: newBatchStageBase(m.cfg, m.log, m.prev, m.l2)}
		st.origin = m.queue.origin
		st.l1Blocks = slices.Clone(m.queue.l1Blocks)
		m.queue, m.stage = nil, st
	}
	switch {
	case m.stage != nil:
		return m.stage.NextBatch(parent)
	case m.queue != nil:
		return m.queue.NextBatch(parent)
	}
	return nil, false, fmt.Errorf("%w: batch stage used before reset", ErrReset)
}

// FlushSpan drops the rest of the current span batch (Holocene: the engine replaced one of its blocks with
// a deposit-only block; the caller flushes the channel). Before Holocene there is nothing to flush: an
// invalid payload there does not touch the batch stage.
func (m *BatchMux) FlushSpan() {
	if m.stage != nil {
		m.stage.FlushSpan()
	}
}

// FlushChannel drops the rest of the current span batch and channel (Holocene only, as FlushSpan).
func (m *BatchMux) FlushChannel() {
	if m.stage != nil {
		m.stage.FlushChannel()
	}
}

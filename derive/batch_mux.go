package derive

import (
	"fmt"
	"slices"

	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/rollup"
)

// BatchMux is the batch stage of the pipeline: the BatchQueue before Holocene and the BatchStage from
// Holocene. Reset picks the stage by the time of the L1 block it resets to; TransformHolocene, which the
// pipeline calls when its L1 origin moves into Holocene (see HoloceneTransform), replaces the queue by the
// Holocene stage, which keeps the L1 blocks the queue had gathered (the first Holocene channel may hold
// batches for epochs read before Holocene) but none of its batches (holocene/derivation.md "Activation").
type BatchMux struct {
	cfg  *rollup.Config
	log  log.Logger
	prev BatchProvider
	l2   SafeL2Fetcher

	queue *BatchQueue // active before Holocene
	stage *BatchStage // active from Holocene
}

var _ SingularBatchProvider = (*BatchMux)(nil)

// NewBatchMux reads batches from prev; l2 reads the safe chain for span batches that overlap it. Each
// verdict is logged to logger at debug level with the rule that decided it. Reset must be called before
// NextBatch.
func NewBatchMux(cfg *rollup.Config, logger log.Logger, prev BatchProvider, l2 SafeL2Fetcher) *BatchMux {
	return &BatchMux{cfg: cfg, log: logger, prev: prev, l2: l2}
}

// Origin is the L1 block being read.
func (m *BatchMux) Origin() L1BlockRef { return m.prev.Origin() }

// Reset restarts from base with the stage of base's fork.
func (m *BatchMux) Reset(base L1BlockRef) {
	if m.cfg.IsHolocene(base.Time) {
		m.queue = nil
		if m.stage == nil {
			m.log.Info("Batch stage: Holocene stage at reset", "base", base)
			m.stage = NewBatchStage(m.cfg, m.log, m.prev, m.l2)
		}
		m.stage.Reset(base)
		return
	}
	m.stage = nil
	if m.queue == nil {
		m.log.Info("Batch stage: pre-Holocene queue at reset", "base", base)
		m.queue = NewBatchQueue(m.cfg, m.log, m.prev, m.l2)
	}
	m.queue.Reset(base)
}

// TransformHolocene replaces the pre-Holocene queue by the Holocene stage.
func (m *BatchMux) TransformHolocene() {
	if m.queue == nil {
		return
	}
	m.log.Info("Batch stage: switching to the Holocene stage", "origin", m.prev.Origin())
	st := NewBatchStage(m.cfg, m.log, m.prev, m.l2)
	st.origin = m.queue.origin
	st.l1Blocks = slices.Clone(m.queue.l1Blocks)
	m.queue, m.stage = nil, st
}

// Holocene reports whether the Holocene stage is active.
func (m *BatchMux) Holocene() bool { return m.stage != nil }

// NextBatch returns the batch of the L2 block after parent from the active stage.
func (m *BatchMux) NextBatch(parent L2BlockRef) (*SingularBatch, bool, error) {
	switch {
	case m.stage != nil:
		return m.stage.NextBatch(parent)
	case m.queue != nil:
		return m.queue.NextBatch(parent)
	}
	return nil, false, fmt.Errorf("%w: batch stage used before reset", ErrReset)
}

// FlushChannel drops the rest of the current span batch and channel: the engine replaced one of its blocks
// with a deposit-only block (holocene/derivation.md "Engine Queue"). Only the Holocene stage does this.
// op-node: its pre-Holocene queue panics on a flush, which its pipeline asks for where it kept the queue past
// Holocene (see HoloceneTransform); ErrCritical here, a failure of op-program alike.
func (m *BatchMux) FlushChannel() error {
	if m.stage == nil {
		return fmt.Errorf("%w: channel flush with the pre-Holocene batch queue", ErrCritical)
	}
	m.stage.FlushChannel()
	return nil
}

package derive

import (
	"errors"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/rollup"
)

// BatchQueue is the batch stage before Holocene (derivation.md "Batch Queue", delta/span-batches.md "Batch
// Queue"): it buffers the batches read from L1 in inclusion order, with their inclusion blocks, until one
// is valid for the next L2 block; it splits accepted span batches into singular batches; and it generates
// empty batches when the sequencing window of an epoch passes without a batch.
//
// Memory: like op-node, the queue keeps every batch that is not dropped: future batches (after the next
// timestamp) until the safe head reaches them, undecided ones until L1 decides. It does not cap their
// number: dropping a buffered batch that could still become valid would change the chain. What it holds is
// bounded by the batch data read from L1 since the safe head's epoch.
type BatchQueue struct {
	batchStageBase

	// batches in the order they were read from L1.
	batches []*bqEntry
}

// bqEntry is a buffered batch: a singular batch or a derived span batch, and its L1 inclusion block.
type bqEntry struct {
	singular  *SingularBatch
	span      *SpanBatch
	inclusion L1BlockRef
}

var _ SingularBatchProvider = (*BatchQueue)(nil)

// NewBatchQueue reads batches from prev; l2 reads the safe chain for span batches that overlap it. Each
// verdict is logged to logger at debug level with the rule that decided it. Reset must be called before
// NextBatch.
func NewBatchQueue(cfg *rollup.Config, logger log.Logger, prev BatchProvider, l2 SafeL2Fetcher) *BatchQueue {
	return &BatchQueue{batchStageBase: batchStageBase{cfg: cfg, log: logger, prev: prev, l2: l2}}
}

// Reset restarts from base (see batchStageBase.reset), dropping every buffered batch.
func (q *BatchQueue) Reset(base L1BlockRef) {
	q.reset(base)
	clear(q.batches)
	q.batches = nil
}

// NextBatch returns the batch of the L2 block after parent (the safe head), and whether it is the last one
// of its span batch. io.EOF: nothing more can be derived until the next L1 block; ErrNotEnoughData: call
// again.
func (q *BatchQueue) NextBatch(parent L2BlockRef) (*SingularBatch, bool, error) {
	// The rest of an accepted span batch comes first, before the L1 blocks are updated: before Holocene
	// the span is valid as a whole, and its blocks are checked against the L1 blocks it was accepted with.
	if b, ok := q.nextFromSpan(parent); ok {
		return b, len(q.span) == 0, nil
	}
	q.updateOrigins(parent)

	behind := q.behind(parent)
	outOfData := false
	data, err := q.prev.NextBatch()
	switch {
	case errors.Is(err, io.EOF):
		outOfData = true
	case err != nil:
		return nil, false, err
	case !behind:
		if err := q.add(data, parent); err != nil {
			return nil, false, err
		}
	}
	// While the previous stage reads L1 blocks before the safe head's origin, their batches are read and
	// discarded: they can only be for blocks at or before the safe head.
	if behind {
		if outOfData {
			return nil, false, io.EOF
		}
		return nil, false, ErrNotEnoughData
	}

	e, err := q.deriveNext(outOfData, parent)
	if errors.Is(err, io.EOF) {
		if outOfData {
			return nil, false, io.EOF
		}
		return nil, false, ErrNotEnoughData
	} else if err != nil {
		return nil, false, err
	}
	if e.singular != nil {
		return e.singular, true, nil
	}
	span, err := bvSpanSingulars(e.span, q.l1Blocks, parent)
	if err != nil {
		// The full span batch checks passed, which cover everything this needs.
		return nil, false, fmt.Errorf("%w: accepted span batch: %w", ErrCritical, err)
	}
	if len(span) == 0 {
		return nil, false, fmt.Errorf("%w: accepted span batch has no block after the safe head", ErrCritical)
	}
	q.span = span
	b := q.popSpan(parent)
	return b, len(q.span) == 0, nil
}

// add buffers a batch read at the current origin, unless it can already be dropped.
func (q *BatchQueue) add(data *BatchData, parent L2BlockRef) error {
	if len(q.l1Blocks) == 0 {
		return fmt.Errorf("%w: batch queue has no L1 origin to add a batch at", ErrCritical)
	}
	e := &bqEntry{inclusion: q.origin}
	if sb, ok := data.Singular(); ok {
		e.singular = sb
	} else if raw, ok := data.Span(); ok {
		if e.span, ok = q.spanFromData(raw); !ok {
			return nil
		}
	} else {
		q.log.Warn("Dropping batch of unknown type", "origin", q.origin)
		return nil
	}
	v, err := q.check(e, parent)
	if err == nil && v.Validity == BatchDrop {
		q.logVerdict(e, v, parent)
		return nil
	}
	// An error of the L2 source leaves the batch undecided: it is checked again in deriveNext.
	q.batches = append(q.batches, e)
	return nil
}

func (q *BatchQueue) check(e *bqEntry, parent L2BlockRef) (BatchVerdict, error) {
	if e.singular != nil {
		return CheckSingularBatch(q.cfg, q.l1Blocks, parent, e.singular, e.inclusion), nil
	}
	return CheckSpanBatch(q.cfg, q.l1Blocks, parent, e.span, e.inclusion, q.l2)
}

func (q *BatchQueue) logVerdict(e *bqEntry, v BatchVerdict, parent L2BlockRef) {
	kind, ts := "singular", uint64(0)
	if e.singular != nil {
		ts = e.singular.Timestamp
	} else {
		kind, ts = "span", e.span.Timestamp()
	}
	q.log.Debug("Batch verdict", "kind", kind, "timestamp", ts, "inclusion", e.inclusion, "parent", parent,
		"validity", v.Validity, "rule", v.Rule)
}

// deriveNext finds the first buffered batch, in inclusion order, that is valid on parent, dropping the
// invalid ones on the way; without one, it may generate an empty batch. io.EOF: no batch yet.
func (q *BatchQueue) deriveNext(outOfData bool, parent L2BlockRef) (*bqEntry, error) {
	if len(q.l1Blocks) == 0 {
		return nil, fmt.Errorf("%w: batch queue has no L1 origin to derive from", ErrCritical)
	}
	if err := q.checkEpoch(parent); err != nil {
		return nil, err
	}
	kept := q.batches[:0] // filtered in place: kept never gets ahead of the loop
	for i, e := range q.batches {
		v, err := q.check(e, parent)
		if err != nil {
			q.batches = append(kept, q.batches[i:]...)
			q.clearTail()
			return nil, err
		}
		q.logVerdict(e, v, parent)
		switch v.Validity {
		case BatchFuture:
			kept = append(kept, e)
		case BatchDrop:
		case BatchPast:
			// Past only comes with Holocene inclusion blocks, which the queue only reads when op-node's
			// pipeline missed the Holocene activation (see HoloceneTransform). op-node: its queue does
			// not know the verdict and fails (op-program stops without a verdict).
			q.batches = append(kept, q.batches[i:]...)
			q.clearTail()
			return nil, fmt.Errorf("%w: past batch in the pre-Holocene batch queue", ErrCritical)
		case BatchAccept:
			q.batches = append(kept, q.batches[i+1:]...)
			q.clearTail()
			return e, nil
		case BatchUndecided:
			// The batch waits for more L1 blocks, and every later one behind it. op-node: where no L1
			// block can decide (see RuleSpanNoParent) the queue stalls until a reset.
			q.batches = append(kept, q.batches[i:]...)
			q.clearTail()
			return nil, io.EOF
		default:
			return nil, fmt.Errorf("%w: unknown batch validity %d", ErrCritical, v.Validity)
		}
	}
	q.batches = kept
	q.clearTail()
	b, err := q.nextEmptyBatch(outOfData, parent)
	if err != nil {
		return nil, err
	}
	return &bqEntry{singular: b, inclusion: q.origin}, nil
}

// clearTail releases the entries past the end of the filtered slice.
func (q *BatchQueue) clearTail() {
	clear(q.batches[len(q.batches):cap(q.batches)])
}

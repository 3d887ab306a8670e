package derive

import (
	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/rollup"
)

// DataProvider is the stage before the frame queue (L1 retrieval).
type DataProvider interface {
	Origin() L1BlockRef
	NextData() ([]byte, error)
}

// FrameQueue holds the frames of one batcher transaction at a time (specs: derivation.md "Frame Queue",
// holocene/derivation.md "Frame Queue"). A transaction whose data does not parse is dropped whole. From
// Holocene the frames are pruned on arrival so that, per channel, they are ordered and contiguous.
type FrameQueue struct {
	cfg    *rollup.Config
	log    log.Logger
	prev   DataProvider
	frames []Frame
}

// NewFrameQueue reads frames from prev.
func NewFrameQueue(cfg *rollup.Config, logger log.Logger, prev DataProvider) *FrameQueue {
	return &FrameQueue{cfg: cfg, log: logger, prev: prev}
}

// Origin is the L1 block being read.
func (q *FrameQueue) Origin() L1BlockRef { return q.prev.Origin() }

// NextFrame returns the next frame; io.EOF when the current L1 block has no more data, ErrNotEnoughData
// when a transaction gave no frames.
func (q *FrameQueue) NextFrame() (Frame, error) {
	if len(q.frames) == 0 {
		data, err := q.prev.NextData()
		if err != nil {
			return Frame{}, err
		}
		frames, err := ParseFrames(data)
		if err != nil {
			q.log.Warn("Dropping batcher transaction whose frames do not parse", "origin", q.Origin(), "err", err)
			return Frame{}, ErrNotEnoughData
		}
		if q.cfg.IsHolocene(q.Origin().Time) {
			frames = pruneHoloceneFrames(frames)
		}
		q.frames = frames
		if len(q.frames) == 0 {
			return Frame{}, ErrNotEnoughData
		}
	}
	f := q.frames[0]
	q.frames = q.frames[1:]
	return f, nil
}

// Reset drops the queued frames.
func (q *FrameQueue) Reset() { q.frames = nil }

// pruneHoloceneFrames applies Holocene's frame queue rules to the frames of one transaction, comparing each
// frame with the one kept before it (holocene/derivation.md "Frame Queue"):
//   - a non-first frame is dropped unless it is the next frame of the previous frame's open channel;
//   - a first frame of the previous frame's channel is dropped (out of order);
//   - a first frame after an unclosed channel's frame drops that frame, and is then compared with the frame
//     kept before it, and so on (op-node: the pair is checked again after a backward drop, so a first frame
//     can meet, and be dropped as a duplicate of, the closed channel before the dropped one).
func pruneHoloceneFrames(frames []Frame) []Frame {
	kept := make([]Frame, 0, len(frames))
	for _, f := range frames {
		for {
			if len(kept) == 0 {
				kept = append(kept, f)
				break
			}
			prev := kept[len(kept)-1]
			if f.FrameNumber > 0 {
				if f.ID == prev.ID && !prev.IsLast && f.FrameNumber == prev.FrameNumber+1 {
					kept = append(kept, f)
				}
				break // else out of order: dropped
			}
			if f.ID == prev.ID {
				break // the channel again from its first frame: out of order, dropped
			}
			if prev.IsLast {
				kept = append(kept, f)
				break
			}
			kept = kept[:len(kept)-1] // the unclosed channel's frame goes; compare again
		}
	}
	return kept
}

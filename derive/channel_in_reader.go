package derive

import (
	"errors"
	"io"

	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/rollup"
)

// ChannelProvider is the stage before the channel reader (the channel bank).
type ChannelProvider interface {
	Origin() L1BlockRef
	NextChannel() ([]byte, error)
	FlushChannel()
}

// ChannelInReader decompresses channels and hands out their batches (specs: derivation.md "Channel Reader
// (Batch Decoding)"). A channel that cannot be read further is left for the next one; span batches before
// Delta (by the L1 origin's time) are dropped.
type ChannelInReader struct {
	cfg    *rollup.Config
	log    log.Logger
	prev   ChannelProvider
	reader *ChannelReader
}

// NewChannelInReader reads channels from prev.
func NewChannelInReader(cfg *rollup.Config, logger log.Logger, prev ChannelProvider) *ChannelInReader {
	return &ChannelInReader{cfg: cfg, log: logger, prev: prev}
}

// Origin is the L1 block being read.
func (r *ChannelInReader) Origin() L1BlockRef { return r.prev.Origin() }

// NextBatch returns the next batch: io.EOF when the current L1 block has no more data, ErrNotEnoughData
// after progress without a batch.
func (r *ChannelInReader) NextBatch() (*BatchData, error) {
	if r.reader == nil {
		data, err := r.prev.NextChannel()
		if err != nil {
			return nil, err
		}
		reader, err := NewChannelReader(r.cfg, data, r.Origin().Time)
		if err != nil {
			r.log.Warn("Dropping channel that cannot be read", "origin", r.Origin(), "err", err)
			return nil, ErrNotEnoughData
		}
		r.reader = reader
	}
	batch, err := r.reader.NextBatch()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			r.log.Warn("Stopping at an unreadable batch, going to the next channel", "origin", r.Origin(), "err", err)
		}
		r.reader = nil
		return nil, ErrNotEnoughData
	}
	if batch.Type() == SpanBatchType && !r.cfg.IsDelta(r.Origin().Time) {
		r.log.Warn("Dropping span batch before Delta", "origin", r.Origin())
		return nil, ErrNotEnoughData
	}
	return batch, nil
}

// FlushChannel drops the rest of the current channel and the channel being assembled (Holocene: after an
// invalid batch).
func (r *ChannelInReader) FlushChannel() {
	r.reader = nil
	r.prev.FlushChannel()
}

// Reset drops the channel being read.
func (r *ChannelInReader) Reset() { r.reader = nil }

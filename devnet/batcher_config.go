package devnet

import "fmt"

// BatcherConfig shapes what the batcher posts. The zero value is the default batcher: every L1 block, the L2
// blocks built since the previous one go in one channel, cut in about three frames posted over two L1
// blocks; singular batches for blocks whose L1 origin is before Delta, then span batches (two if there
// are four blocks or more); calldata, and from Ecotone every other channel in blobs.
type BatcherConfig struct {
	// Batches picks singular or span batches (span batches only for blocks whose L1 origin is after Delta:
	// derivation drops them before).
	Batches BatchTypes
	// DA picks calldata or blobs (blobs only from Ecotone, by the L1 block's time).
	DA DataAvailability
	// ChannelEvery is the number of L1 blocks between two openings of channels (0: 1): the blocks built
	// in between go in the channels opened together.
	ChannelEvery uint64
	// Channels is the number of channels the blocks opened together are split into (0: 1), each posted
	// after the one before it, several in one L1 block.
	Channels int
	// FramesPerChannel is the number of frames a channel is cut in, about (0: 3).
	FramesPerChannel int
	// FrameSpread is the number of L1 blocks the frames of the newest channel are posted over (0: 2).
	// Older channels post all their frames before a newer one starts (Holocene drops a channel that another
	// channel's frames interrupt), and channels complete before the Holocene activation.
	FrameSpread int
}

// BatchTypes are the batch types the batcher uses.
type BatchTypes string

const (
	// BatchesDefault: singular batches before Delta, then span batches, two if four blocks or more.
	BatchesDefault BatchTypes = ""
	// BatchesSingular: singular batches only.
	BatchesSingular BatchTypes = "singular"
	// BatchesSpan: one span batch per channel from Delta.
	BatchesSpan BatchTypes = "span"
	// BatchesMixed: from Delta, channels in turn hold singular batches, one span batch, and singular
	// batches followed by a span batch.
	BatchesMixed BatchTypes = "mixed"
)

// DataAvailability is where the batcher posts frames.
type DataAvailability string

const (
	// DAAlternate: calldata; from Ecotone every other channel in blobs.
	DAAlternate DataAvailability = ""
	// DACalldata: calldata only.
	DACalldata DataAvailability = "calldata"
	// DABlobs: blobs from Ecotone (calldata before).
	DABlobs DataAvailability = "blobs"
)

func (c BatcherConfig) withDefaults() (BatcherConfig, error) {
	switch c.Batches {
	case BatchesDefault, BatchesSingular, BatchesSpan, BatchesMixed:
	default:
		return c, fmt.Errorf("batch types %q: want %q, %q, %q or empty (default)", c.Batches, BatchesSingular, BatchesSpan, BatchesMixed)
	}
	switch c.DA {
	case DAAlternate, DACalldata, DABlobs:
	default:
		return c, fmt.Errorf("data availability %q: want %q, %q or empty (alternate)", c.DA, DACalldata, DABlobs)
	}
	if c.ChannelEvery == 0 {
		c.ChannelEvery = 1
	}
	if c.Channels == 0 {
		c.Channels = 1
	}
	if c.FramesPerChannel == 0 {
		c.FramesPerChannel = 3
	}
	if c.FrameSpread == 0 {
		c.FrameSpread = 2
	}
	switch {
	case c.Channels < 0 || c.Channels > 8:
		return c, fmt.Errorf("channels per opening %d: want 1 to 8", c.Channels)
	case c.FramesPerChannel < 0 || c.FramesPerChannel > 64:
		return c, fmt.Errorf("frames per channel %d: want 1 to 64", c.FramesPerChannel)
	case c.FrameSpread < 0 || c.FrameSpread > 8:
		return c, fmt.Errorf("frame spread %d: want 1 to 8 L1 blocks", c.FrameSpread)
	case c.ChannelEvery > 8:
		return c, fmt.Errorf("channel every %d L1 blocks: want 1 to 8", c.ChannelEvery)
	}
	return c, nil
}

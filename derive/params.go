package derive

// Protocol constants of the batch submission wire format (specs/protocol/derivation.md and
// delta/span-batches.md).
const (
	// DerivationVersion0 is the version byte of a batcher transaction whose payload is frames.
	DerivationVersion0 = 0

	// MaxFrameLen caps frame_data_length.
	MaxFrameLen = 1_000_000

	// FrameV0OverheadSize is the fixed part of an encoded frame: channel_id (16) + frame_number (2) +
	// frame_data_length (4) + is_last (1).
	FrameV0OverheadSize = 16 + 2 + 4 + 1

	// FrameOverhead is what the channel bank adds per buffered frame when it sizes a channel.
	FrameOverhead = 200

	// MaxSpanBatchElementCount bounds the number of blocks, and the number of transactions in total,
	// of a span batch (MAX_SPAN_BATCH_ELEMENT_COUNT).
	MaxSpanBatchElementCount = 10_000_000
)

package derive

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/andybalholm/brotli"
	"github.com/ethereum/go-ethereum/rlp"
)

// Errors of the channel encoder.
var (
	ErrTooManyRLPBytes    = errors.New("batch would exceed MAX_RLP_BYTES_PER_CHANNEL")
	ErrChannelOutClosed   = errors.New("channel is closed")
	ErrChannelOutNotDone  = errors.New("channel is not closed yet")
	ErrMaxFrameSizeSmall  = errors.New("max frame size leaves no room for frame data")
	ErrTooManyFrames      = errors.New("channel needs more than 65536 frames")
	ErrUnknownCompression = errors.New("unknown compression algorithm")
)

// BrotliLevel is the brotli quality the encoder uses (op-node's default "brotli" algorithm is level 10).
const BrotliLevel = 10

// ChannelOut encodes batches into a channel, the batcher side of ChannelReader: each batch as an RLP byte
// string, the stream compressed with zlib (legacy format) or brotli (Fjord format, after the version byte).
// The decompressed size is kept within MAX_RLP_BYTES_PER_CHANNEL so that derivation reads every batch.
// Once closed, the compressed channel is split into frames.
type ChannelOut struct {
	id          ChannelID
	algo        CompressionAlgo
	maxRLPBytes uint64
	rlpBytes    uint64

	out    bytes.Buffer
	w      io.WriteCloser
	closed bool
}

// NewChannelOut starts an empty channel. maxRLPBytes is the chain's MAX_RLP_BYTES_PER_CHANNEL at the time
// the channel will be derived (rollup.Config.MaxRLPBytesPerChannel). Brotli channels are only valid once
// Fjord is active on L1.
func NewChannelOut(id ChannelID, algo CompressionAlgo, maxRLPBytes uint64) (*ChannelOut, error) {
	co := &ChannelOut{id: id, algo: algo, maxRLPBytes: maxRLPBytes}
	switch algo {
	case Zlib:
		w, err := zlib.NewWriterLevel(&co.out, zlib.BestCompression)
		if err != nil {
			return nil, err
		}
		co.w = w
	case Brotli:
		co.out.WriteByte(ChannelVersionBrotli)
		co.w = brotli.NewWriterLevel(&co.out, BrotliLevel)
	default:
		return nil, fmt.Errorf("%w: %v", ErrUnknownCompression, algo)
	}
	return co, nil
}

// ID is the channel's id.
func (co *ChannelOut) ID() ChannelID { return co.id }

// Compression is the channel's compression format.
func (co *ChannelOut) Compression() CompressionAlgo { return co.algo }

// InputBytes is the size of the RLP-encoded batches added so far (before compression).
func (co *ChannelOut) InputBytes() uint64 { return co.rlpBytes }

// AddBatch appends a batch. ErrTooManyRLPBytes means the batch does not fit: close this channel and put the
// batch in a new one.
func (co *ChannelOut) AddBatch(b *BatchData) error {
	if co.closed {
		return ErrChannelOutClosed
	}
	enc, err := rlp.EncodeToBytes(b)
	if err != nil {
		return err
	}
	if co.rlpBytes+uint64(len(enc)) > co.maxRLPBytes {
		return fmt.Errorf("%w: %d + %d bytes, limit %d", ErrTooManyRLPBytes, co.rlpBytes, len(enc), co.maxRLPBytes)
	}
	if _, err := co.w.Write(enc); err != nil {
		return err
	}
	co.rlpBytes += uint64(len(enc))
	return nil
}

// Close ends the compressed stream; no batch can be added afterwards.
func (co *ChannelOut) Close() error {
	if co.closed {
		return ErrChannelOutClosed
	}
	co.closed = true
	return co.w.Close()
}

// Data is the channel's data, as a channel bank reassembles it from the frames. The channel must be closed.
func (co *ChannelOut) Data() ([]byte, error) {
	if !co.closed {
		return nil, ErrChannelOutNotDone
	}
	return co.out.Bytes(), nil
}

// Frames splits the closed channel into frames whose encodings are at most maxFrameSize bytes each.
func (co *ChannelOut) Frames(maxFrameSize int) ([]Frame, error) {
	data, err := co.Data()
	if err != nil {
		return nil, err
	}
	return SplitChannel(co.id, data, maxFrameSize)
}

// SplitChannel cuts channel data into frames numbered from 0, each encoding to at most maxFrameSize bytes
// (the 23-byte frame overhead included) and carrying at most MaxFrameLen bytes; the last one is closing.
// Empty data gives one empty closing frame.
func SplitChannel(id ChannelID, data []byte, maxFrameSize int) ([]Frame, error) {
	if maxFrameSize <= FrameV0OverheadSize {
		return nil, fmt.Errorf("%w: %d", ErrMaxFrameSizeSmall, maxFrameSize)
	}
	per := min(maxFrameSize-FrameV0OverheadSize, MaxFrameLen)
	count := (len(data) + per - 1) / per
	if count == 0 {
		count = 1
	}
	if count > math.MaxUint16+1 {
		return nil, fmt.Errorf("%w: %d", ErrTooManyFrames, count)
	}
	frames := make([]Frame, count)
	for i := range frames {
		lo := i * per
		hi := min(lo+per, len(data))
		frames[i] = Frame{
			ID:          id,
			FrameNumber: uint16(i),
			Data:        append([]byte{}, data[lo:hi]...),
			IsLast:      i == count-1,
		}
	}
	return frames, nil
}

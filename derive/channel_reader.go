package derive

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"

	"github.com/andybalholm/brotli"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/faultproof/faultproof/rollup"
)

// Errors of channel decompression.
var (
	ErrEmptyChannel          = errors.New("channel is empty")
	ErrUnknownChannelVersion = errors.New("unknown channel version byte")
	ErrBrotliBeforeFjord     = errors.New("brotli channel before Fjord")
	ErrZeroRLPLimit          = errors.New("max RLP bytes per channel is zero")
)

// ChannelReader decompresses a channel and reads its batches (specs/protocol/derivation.md "Channel Format",
// "Channel Reader (Batch Decoding)"; fjord/derivation.md "Brotli Channel Compression").
//
// The channel's first byte selects the format: a zlib header byte (compression method 8 or 15 in its low
// nibble) is the legacy zlib format, at any fork; from Fjord, byte 0x01 is a brotli stream after that
// byte; anything else is an error. The decompressed stream is cut at MAX_RLP_BYTES_PER_CHANNEL and is
// read as successive RLP byte strings, each an encoded batch (batch type byte, then content).
//
// NextBatch returns the batches in order and io.EOF at the end. Any other error means the rest of the
// channel is unreadable: a batch that is not a well-formed RLP string, one that does not fit within the
// limit, one of an unknown type, or one whose content does not decode; the reader then stops (returns
// io.EOF). Batches read before the error stand.
//
// The batches are read through go-ethereum's RLP stream over the decompressor, as op-node reads them: on a
// corrupt or over-long channel, how far reading gets depends on the exact read pattern, and this keeps it
// identical. The stream allocates a batch's declared length once the length is known to fit within the
// limit, so one batch may allocate up to MAX_RLP_BYTES_PER_CHANNEL.
type ChannelReader struct {
	algo   CompressionAlgo
	stream *rlp.Stream
	done   bool
}

// NewChannelReader reads the channel data whose frames the channel bank assembled, with the limits and
// formats of the fork active at l1OriginTime (the timestamp of the L1 block the pipeline is reading).
func NewChannelReader(cfg *rollup.Config, data []byte, l1OriginTime uint64) (*ChannelReader, error) {
	return NewBatchReader(data, cfg.MaxRLPBytesPerChannel(l1OriginTime), cfg.IsFjord(l1OriginTime))
}

// NewBatchReader is NewChannelReader with the fork-dependent parameters given directly: the decompressed
// size limit and whether the Fjord (brotli) format is allowed.
func NewBatchReader(data []byte, maxRLPBytes uint64, fjord bool) (*ChannelReader, error) {
	if maxRLPBytes == 0 {
		return nil, ErrZeroRLPLimit
	}
	in := bufio.NewReader(bytes.NewReader(data))
	head, err := in.Peek(1)
	if err != nil {
		return nil, ErrEmptyChannel
	}
	var (
		algo CompressionAlgo
		dec  io.Reader
	)
	switch {
	case isZlibHeaderByte(head[0]):
		zr, err := zlib.NewReader(in)
		if err != nil {
			return nil, fmt.Errorf("zlib channel: %w", err)
		}
		algo, dec = Zlib, zr
	case head[0] == ChannelVersionBrotli:
		if !fjord {
			return nil, ErrBrotliBeforeFjord
		}
		if _, err := in.Discard(1); err != nil {
			return nil, fmt.Errorf("brotli channel: %w", err)
		}
		algo, dec = Brotli, brotli.NewReader(in)
	default:
		return nil, fmt.Errorf("%w: %#02x", ErrUnknownChannelVersion, head[0])
	}
	// The stream refuses values that would end beyond maxRLPBytes decompressed bytes, before allocating
	// them, and ends cleanly (io.EOF) when the limit falls exactly after a batch.
	return &ChannelReader{algo: algo, stream: rlp.NewStream(dec, maxRLPBytes)}, nil
}

// Compression is the channel's compression format.
func (r *ChannelReader) Compression() CompressionAlgo { return r.algo }

// NextBatch reads the next batch; see ChannelReader for the errors.
func (r *ChannelReader) NextBatch() (*BatchData, error) {
	if r.done {
		return nil, io.EOF
	}
	raw, err := r.stream.Bytes()
	if err != nil {
		r.done = true
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("read batch: %w", err)
	}
	var b BatchData
	if err := b.UnmarshalBinary(raw); err != nil {
		r.done = true
		return nil, err
	}
	return &b, nil
}

package derive

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// ChannelIDLength is the length of a channel_id.
const ChannelIDLength = 16

// ChannelID is the opaque channel_id of a frame. Batchers pick it at random; derivation only compares it.
type ChannelID [ChannelIDLength]byte

func (id ChannelID) String() string { return hex.EncodeToString(id[:]) }

// Frame is a chunk of a channel's data:
//
//	frame = channel_id ++ frame_number ++ frame_data_length ++ frame_data ++ is_last
//
// with big-endian uint16 frame_number and uint32 frame_data_length, and is_last a single byte 0 or 1.
type Frame struct {
	ID          ChannelID
	FrameNumber uint16
	Data        []byte
	IsLast      bool
}

// Errors of frame and batcher transaction parsing.
var (
	ErrEmptyBatcherTx      = errors.New("batcher transaction is empty")
	ErrUnknownDerivVersion = errors.New("unknown batcher transaction version")
	ErrNoFrames            = errors.New("batcher transaction holds no frame")
	ErrFrameTruncated      = errors.New("frame is truncated")
	ErrFrameTooLarge       = errors.New("frame_data_length exceeds the maximum frame length")
	ErrInvalidIsLast       = errors.New("is_last is neither 0 nor 1")
	ErrFrameTrailingData   = errors.New("data left after the frame")
)

// EncodedLen is the length of the frame's encoding.
func (f *Frame) EncodedLen() int { return FrameV0OverheadSize + len(f.Data) }

// AppendBinary appends the frame's encoding to b.
func (f *Frame) AppendBinary(b []byte) ([]byte, error) {
	if len(f.Data) > MaxFrameLen {
		return b, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, len(f.Data))
	}
	b = append(b, f.ID[:]...)
	b = binary.BigEndian.AppendUint16(b, f.FrameNumber)
	b = binary.BigEndian.AppendUint32(b, uint32(len(f.Data)))
	b = append(b, f.Data...)
	if f.IsLast {
		return append(b, 1), nil
	}
	return append(b, 0), nil
}

// MarshalBinary encodes the frame. Frames with more than MaxFrameLen bytes of data are refused: derivation
// would drop them.
func (f *Frame) MarshalBinary() ([]byte, error) {
	return f.AppendBinary(make([]byte, 0, f.EncodedLen()))
}

// UnmarshalBinary decodes exactly one frame; data after it is an error. The frame gets its own copy of the
// frame data.
func (f *Frame) UnmarshalBinary(data []byte) error {
	fr, rest, err := decodeFrame(data)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d bytes", ErrFrameTrailingData, len(rest))
	}
	*f = fr
	return nil
}

// decodeFrame decodes the frame at the start of data and returns the bytes after it.
func decodeFrame(data []byte) (Frame, []byte, error) {
	var f Frame
	const head = ChannelIDLength + 2 + 4
	if len(data) < head {
		return f, nil, fmt.Errorf("%w: %d bytes, need %d for the header", ErrFrameTruncated, len(data), head)
	}
	copy(f.ID[:], data[:ChannelIDLength])
	f.FrameNumber = binary.BigEndian.Uint16(data[ChannelIDLength:])
	n := binary.BigEndian.Uint32(data[ChannelIDLength+2:])
	if n > MaxFrameLen {
		return f, nil, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, n)
	}
	rest := data[head:]
	if uint64(len(rest)) < uint64(n)+1 {
		return f, nil, fmt.Errorf("%w: frame_data_length %d, %d bytes left", ErrFrameTruncated, n, len(rest))
	}
	f.Data = append([]byte{}, rest[:n]...)
	switch rest[n] {
	case 0:
	case 1:
		f.IsLast = true
	default:
		return f, nil, fmt.Errorf("%w: %d", ErrInvalidIsLast, rest[n])
	}
	return f, rest[n+1:], nil
}

// ParseFrames decodes the payload of a batcher transaction: version byte 0, then one or more frames back to
// back. If any frame fails to parse, the whole transaction is rejected and no frame is returned.
func ParseFrames(data []byte) ([]Frame, error) {
	if len(data) == 0 {
		return nil, ErrEmptyBatcherTx
	}
	if data[0] != DerivationVersion0 {
		return nil, fmt.Errorf("%w: %d", ErrUnknownDerivVersion, data[0])
	}
	rest := data[1:]
	if len(rest) == 0 {
		return nil, ErrNoFrames
	}
	var frames []Frame
	for len(rest) > 0 {
		f, r, err := decodeFrame(rest)
		if err != nil {
			return nil, fmt.Errorf("frame %d: %w", len(frames), err)
		}
		frames = append(frames, f)
		rest = r
	}
	return frames, nil
}

// BatcherTxData encodes frames as the payload of a batcher transaction (version byte 0, then the frames).
func BatcherTxData(frames ...Frame) ([]byte, error) {
	if len(frames) == 0 {
		return nil, ErrNoFrames
	}
	size := 1
	for i := range frames {
		size += frames[i].EncodedLen()
	}
	out := make([]byte, 1, size)
	out[0] = DerivationVersion0
	for i := range frames {
		var err error
		if out, err = frames[i].AppendBinary(out); err != nil {
			return nil, fmt.Errorf("frame %d: %w", i, err)
		}
	}
	return out, nil
}

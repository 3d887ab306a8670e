package derive_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/derive"
)

// frameBytes encodes a frame by hand, with a free length field and is_last byte.
func frameBytes(id byte, num uint16, dataLen uint32, data []byte, isLast byte) []byte {
	var b []byte
	b = append(b, bytes.Repeat([]byte{id}, derive.ChannelIDLength)...)
	b = binary.BigEndian.AppendUint16(b, num)
	b = binary.BigEndian.AppendUint32(b, dataLen)
	b = append(b, data...)
	return append(b, isLast)
}

func tx(parts ...[]byte) []byte {
	return append([]byte{derive.DerivationVersion0}, bytes.Join(parts, nil)...)
}

func TestParseFramesSpecRules(t *testing.T) {
	okFrame := frameBytes(0xaa, 3, 4, []byte("data"), 0)
	lastFrame := frameBytes(0xbb, 0, 0, nil, 1)
	maxFrame := frameBytes(0xcc, 1, derive.MaxFrameLen, make([]byte, derive.MaxFrameLen), 1)
	tests := []struct {
		name   string
		data   []byte
		frames int
		err    error
	}{
		{"one frame", tx(okFrame), 1, nil},
		{"several frames back to back, any channels", tx(okFrame, lastFrame, okFrame), 3, nil},
		{"is_last 1 closes", tx(lastFrame), 1, nil},
		{"frame_data_length at MaxFrameLen", tx(maxFrame), 1, nil},
		{"empty transaction is invalid", nil, 0, derive.ErrEmptyBatcherTx},
		{"unknown version byte 1 (alt-DA) is not frames", append([]byte{1}, okFrame...), 0, derive.ErrUnknownDerivVersion},
		{"unknown version byte 2", append([]byte{2}, okFrame...), 0, derive.ErrUnknownDerivVersion},
		{"version byte alone carries no frame", tx(), 0, derive.ErrNoFrames},
		{"is_last 2 is invalid", tx(frameBytes(1, 0, 1, []byte{9}, 2)), 0, derive.ErrInvalidIsLast},
		{"is_last 0xff is invalid", tx(frameBytes(1, 0, 0, nil, 0xff)), 0, derive.ErrInvalidIsLast},
		{"frame_data_length above MaxFrameLen", tx(frameBytes(1, 0, derive.MaxFrameLen+1, nil, 0)), 0, derive.ErrFrameTooLarge},
		{"frame_data_length beyond the data", tx(frameBytes(1, 0, 10, []byte("short"), 0)[:16+2+4+5]), 0, derive.ErrFrameTruncated},
		{"missing is_last byte", tx(frameBytes(1, 0, 2, []byte("ab"), 0)[:16+2+4+2]), 0, derive.ErrFrameTruncated},
		{"truncated header", tx(okFrame[:20]), 0, derive.ErrFrameTruncated},
		{"one bad frame drops every frame of the transaction", tx(okFrame, lastFrame, frameBytes(1, 0, 0, nil, 3)), 0, derive.ErrInvalidIsLast},
		{"trailing bytes after the last frame drop the transaction", tx(okFrame, []byte{0}), 0, derive.ErrFrameTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames, err := derive.ParseFrames(tt.data)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				require.Nil(t, frames)
				return
			}
			require.NoError(t, err)
			require.Len(t, frames, tt.frames)
		})
	}
}

func TestParseFramesFields(t *testing.T) {
	frames, err := derive.ParseFrames(tx(frameBytes(0xaa, 0x0102, 4, []byte("data"), 0), frameBytes(0xbb, 7, 0, nil, 1)))
	require.NoError(t, err)
	require.Equal(t, []derive.Frame{
		{ID: derive.ChannelID(bytes.Repeat([]byte{0xaa}, 16)), FrameNumber: 0x0102, Data: []byte("data")},
		{ID: derive.ChannelID(bytes.Repeat([]byte{0xbb}, 16)), FrameNumber: 7, Data: []byte{}, IsLast: true},
	}, frames)
}

func TestFrameRoundTrip(t *testing.T) {
	frames := []derive.Frame{
		{ID: derive.ChannelID{1, 2, 3}, FrameNumber: 0, Data: []byte("hello"), IsLast: false},
		{ID: derive.ChannelID{4}, FrameNumber: 65535, Data: []byte{}, IsLast: true},
		{ID: derive.ChannelID{5}, FrameNumber: 9, Data: make([]byte, derive.MaxFrameLen), IsLast: true},
	}
	for _, f := range frames {
		enc, err := f.MarshalBinary()
		require.NoError(t, err)
		require.Len(t, enc, f.EncodedLen())
		var got derive.Frame
		require.NoError(t, got.UnmarshalBinary(enc))
		require.Equal(t, f, got)
		require.ErrorIs(t, got.UnmarshalBinary(append(enc, 0)), derive.ErrFrameTrailingData)
	}
	payload, err := derive.BatcherTxData(frames...)
	require.NoError(t, err)
	got, err := derive.ParseFrames(payload)
	require.NoError(t, err)
	require.Equal(t, frames, got)

	_, err = (&derive.Frame{Data: make([]byte, derive.MaxFrameLen+1)}).MarshalBinary()
	require.ErrorIs(t, err, derive.ErrFrameTooLarge)
	_, err = derive.BatcherTxData()
	require.ErrorIs(t, err, derive.ErrNoFrames)
}

func TestParseFramesCopiesData(t *testing.T) {
	payload := tx(frameBytes(1, 0, 3, []byte("abc"), 1))
	frames, err := derive.ParseFrames(payload)
	require.NoError(t, err)
	payload[1+16+2+4] = 'X'
	require.Equal(t, []byte("abc"), frames[0].Data)
}

func FuzzParseFrames(f *testing.F) {
	f.Add(tx(frameBytes(0xaa, 3, 4, []byte("data"), 0)))
	f.Add(tx(frameBytes(0xaa, 3, 4, []byte("data"), 1), frameBytes(0xbb, 0, 0, nil, 1)))
	f.Add(tx(frameBytes(1, 0, derive.MaxFrameLen+1, nil, 0)))
	f.Add([]byte{0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		frames, err := derive.ParseFrames(data)
		if err != nil {
			require.Nil(t, frames)
			return
		}
		require.NotEmpty(t, frames)
		// What parses re-encodes to the same bytes: the format has a single encoding.
		again, err := derive.BatcherTxData(frames...)
		require.NoError(t, err)
		require.Equal(t, data, again)
	})
}

// BenchmarkParseFrames parses a batcher transaction of 120 kB (a full calldata transaction) as one frame and
// as 60 frames.
func BenchmarkParseFrames(b *testing.B) {
	_, batches := benchBatches(b, 400)
	data := benchChannel(b, derive.Zlib, batches)
	for _, n := range []int{1, 60} {
		b.Run(fmt.Sprintf("%d frames", n), func(b *testing.B) {
			var frames []derive.Frame
			size := (len(data) + n - 1) / n
			for i := 0; i*size < len(data); i++ {
				end := min(len(data), (i+1)*size)
				frames = append(frames, derive.Frame{ID: derive.ChannelID{1}, FrameNumber: uint16(i), Data: data[i*size : end], IsLast: end == len(data)})
			}
			tx, err := derive.BatcherTxData(frames...)
			require.NoError(b, err)
			b.SetBytes(int64(len(tx)))
			b.ReportAllocs()
			for b.Loop() {
				_, err := derive.ParseFrames(tx)
				require.NoError(b, err)
			}
		})
	}
}

package derive_test

import (
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/rollup"
)

// A channel written by ChannelOut, cut into frames, carried in batcher transactions, reassembled by a
// Channel and read by a ChannelReader gives back the batches.
func TestChannelOutRoundTrip(t *testing.T) {
	cfg := testConfig()
	rng := rand.New(rand.NewSource(9))
	for _, algo := range []derive.CompressionAlgo{derive.Zlib, derive.Brotli} {
		for _, holocene := range []bool{false, true} {
			batches := randomBatches(rng, cfg, 12, true)
			span, err := derive.EncodeSpanBatch(cfg, batches[4:], false)
			require.NoError(t, err)
			data := []*derive.BatchData{derive.NewSingularBatchData(batches[0]), derive.NewSpanBatchData(span)}
			for _, b := range batches[1:4] {
				data = append(data, derive.NewSingularBatchData(b))
			}

			id := derive.ChannelID{byte(algo), 7}
			co, err := derive.NewChannelOut(id, algo, cfg.MaxRLPBytesPerChannel(testFjordTime))
			require.NoError(t, err)
			require.Equal(t, id, co.ID())
			require.Equal(t, algo, co.Compression())
			for _, d := range data {
				require.NoError(t, co.AddBatch(d))
			}
			_, err = co.Data()
			require.ErrorIs(t, err, derive.ErrChannelOutNotDone)
			require.NoError(t, co.Close())
			require.ErrorIs(t, co.AddBatch(data[0]), derive.ErrChannelOutClosed)
			require.ErrorIs(t, co.Close(), derive.ErrChannelOutClosed)

			frames, err := co.Frames(500)
			require.NoError(t, err)
			require.Greater(t, len(frames), 1)

			// Two frames per batcher transaction.
			ch := derive.NewChannel(id, rollup.BlockID{Number: 1}, holocene)
			for i := 0; i < len(frames); i += 2 {
				payload, err := derive.BatcherTxData(frames[i:min(i+2, len(frames))]...)
				require.NoError(t, err)
				parsed, err := derive.ParseFrames(payload)
				require.NoError(t, err)
				for _, f := range parsed {
					require.LessOrEqual(t, f.EncodedLen(), 500)
					require.NoError(t, ch.AddFrame(f))
				}
			}
			require.True(t, ch.IsReady())
			chData, err := ch.Data()
			require.NoError(t, err)
			coData, err := co.Data()
			require.NoError(t, err)
			require.Equal(t, coData, chData)

			r, err := derive.NewChannelReader(cfg, chData, testFjordTime)
			require.NoError(t, err)
			require.Equal(t, algo, r.Compression())
			got, err := readAll(r)
			require.NoError(t, err)
			require.Len(t, got, len(data))
			for i := range data {
				want, err := data[i].MarshalBinary()
				require.NoError(t, err)
				have, err := got[i].MarshalBinary()
				require.NoError(t, err)
				require.Equal(t, want, have, "batch %d", i)
			}
		}
	}
}

func TestChannelOutRLPLimit(t *testing.T) {
	rng := rand.New(rand.NewSource(10))
	batches := randomBatches(rng, testConfig(), 3, false)
	total := uint64(0)
	for _, b := range batches {
		total += uint64(len(rlpString(t, encodeSingular(t, b))))
	}
	co, err := derive.NewChannelOut(derive.ChannelID{}, derive.Zlib, total)
	require.NoError(t, err)
	for _, b := range batches {
		require.NoError(t, co.AddBatch(derive.NewSingularBatchData(b)), "batches up to exactly the limit fit")
	}
	require.Equal(t, total, co.InputBytes())

	co, err = derive.NewChannelOut(derive.ChannelID{}, derive.Brotli, total-1)
	require.NoError(t, err)
	require.NoError(t, co.AddBatch(derive.NewSingularBatchData(batches[0])))
	require.NoError(t, co.AddBatch(derive.NewSingularBatchData(batches[1])))
	require.ErrorIs(t, co.AddBatch(derive.NewSingularBatchData(batches[2])), derive.ErrTooManyRLPBytes)
	require.NoError(t, co.Close())
	data, err := co.Data()
	require.NoError(t, err)
	r, err := derive.NewBatchReader(data, total-1, true)
	require.NoError(t, err)
	got, err := readAll(r)
	require.NoError(t, err)
	require.Len(t, got, 2, "the refused batch is not in the channel")

	_, err = derive.NewChannelOut(derive.ChannelID{}, derive.CompressionAlgo(9), 100)
	require.ErrorIs(t, err, derive.ErrUnknownCompression)
}

func TestSplitChannel(t *testing.T) {
	id := derive.ChannelID{3}
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i)
	}
	tests := []struct {
		name         string
		data         []byte
		maxFrameSize int
		frames       int
		err          error
	}{
		{"fits one frame", data, 1000 + derive.FrameV0OverheadSize, 1, nil},
		{"one byte short needs a second frame", data, 999 + derive.FrameV0OverheadSize, 2, nil},
		{"one data byte per frame", data[:10], derive.FrameV0OverheadSize + 1, 10, nil},
		{"empty channel is one empty closing frame", nil, 100, 1, nil},
		{"frame data is capped at MaxFrameLen", make([]byte, derive.MaxFrameLen+1), 2 * derive.MaxFrameLen, 2, nil},
		{"no room for data", data, derive.FrameV0OverheadSize, 0, derive.ErrMaxFrameSizeSmall},
		{"more than 65536 frames", make([]byte, 65537), derive.FrameV0OverheadSize + 1, 0, derive.ErrTooManyFrames},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames, err := derive.SplitChannel(id, tt.data, tt.maxFrameSize)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Len(t, frames, tt.frames)
			var joined []byte
			for i, f := range frames {
				require.Equal(t, id, f.ID)
				require.Equal(t, uint16(i), f.FrameNumber)
				require.Equal(t, i == len(frames)-1, f.IsLast)
				require.LessOrEqual(t, f.EncodedLen(), tt.maxFrameSize)
				require.LessOrEqual(t, len(f.Data), derive.MaxFrameLen)
				joined = append(joined, f.Data...)
			}
			require.Equal(t, len(tt.data), len(joined))
			require.Equal(t, string(tt.data), string(joined))
		})
	}
	frames, err := derive.SplitChannel(id, make([]byte, 65536), derive.FrameV0OverheadSize+1)
	require.NoError(t, err, "65536 frames is the most a channel can have")
	require.Equal(t, uint16(65535), frames[len(frames)-1].FrameNumber)
}

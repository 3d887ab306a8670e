package derive_test

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"math/rand"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/stretchr/testify/require"

	opderive "github.com/ethereum-optimism/optimism/op-node/rollup/derive"
	"github.com/ethereum-optimism/optimism/op-service/eth"

	"github.com/faultproof/faultproof/derive"
)

// randomBatchData is a mix of singular and span batches, as a batcher would put in a channel.
func randomBatchData(t testing.TB, rng *rand.Rand) []*derive.BatchData {
	var out []*derive.BatchData
	for range 1 + rng.Intn(5) {
		batches := randomBatches(rng, 1+rng.Intn(6), true)
		if rng.Intn(2) == 0 {
			raw, err := derive.EncodeSpanBatch(ourConfig(), batches, rng.Intn(2) == 0)
			require.NoError(t, err)
			out = append(out, derive.NewSpanBatchData(raw))
			continue
		}
		for _, b := range batches {
			out = append(out, derive.NewSingularBatchData(b))
		}
	}
	return out
}

// readOurs reads a channel with our reader: the batches' encodings, whether reading ended with io.EOF
// (not an error), and whether the reader could not be created.
func readOurs(data []byte, limit uint64, fjord bool) (batches [][]byte, cleanEnd bool, newErr error) {
	r, err := derive.NewBatchReader(data, limit, fjord)
	if err != nil {
		return nil, false, err
	}
	for {
		b, err := r.NextBatch()
		if err != nil {
			return batches, errors.Is(err, io.EOF), nil
		}
		enc, err := b.MarshalBinary()
		if err != nil {
			panic(err)
		}
		batches = append(batches, enc)
	}
}

// readOp does the same with op-node's BatchReader, over a bytes.Buffer as op-node's ChannelInReader does.
func readOp(t testing.TB, data []byte, limit uint64, fjord bool) (batches [][]byte, cleanEnd bool, newErr error) {
	defer func() {
		r := recover()
		require.False(t, r != nil, "op-node panicked reading channel %x: %v", data, r)
	}()
	next, err := opderive.BatchReader(bytes.NewBuffer(data), limit, fjord)
	if err != nil {
		return nil, false, err
	}
	for {
		b, err := next()
		if err != nil {
			return batches, err == io.EOF, nil
		}
		enc, err := b.MarshalBinary()
		if err != nil {
			panic(err)
		}
		batches = append(batches, enc)
	}
}

// compareChannel reads data with both readers: same creation outcome, same batches, same kind of end.
func compareChannel(t *testing.T, data []byte, limit uint64, fjord bool) {
	t.Helper()
	ours, ourEOF, ourErr := readOurs(data, limit, fjord)
	op, opEOF, opErr := readOp(t, data, limit, fjord)
	require.Equal(t, opErr == nil, ourErr == nil, "channel %x (limit %d, fjord %v)\nop-node: %v\nours:    %v",
		data, limit, fjord, opErr, ourErr)
	require.Equal(t, len(op), len(ours), "batches read from %x (limit %d, fjord %v)", data, limit, fjord)
	for i := range op {
		require.Equal(t, op[i], ours[i], "batch %d", i)
	}
	require.Equal(t, opEOF, ourEOF, "clean end of %x (limit %d, fjord %v)", data, limit, fjord)
	switch {
	case ourErr != nil:
		channelOutcomes.refused++
	case ourEOF:
		channelOutcomes.clean++
	default:
		channelOutcomes.stopped++
	}
	channelOutcomes.batches += len(ours)
}

// channelOutcomes counts how compared channels ended.
var channelOutcomes struct{ refused, clean, stopped, batches int }

func logChannelOutcomes(t *testing.T) {
	t.Logf("compared channels: %d refused by both readers, %d read to the end, %d stopped on a bad batch alike; "+
		"%d batches read alike", channelOutcomes.refused, channelOutcomes.clean, channelOutcomes.stopped,
		channelOutcomes.batches)
	channelOutcomes = struct{ refused, clean, stopped, batches int }{}
}

// Channels compressed by our ChannelOut read by op-node, channels compressed by op-node's compressor read
// by ours, and damaged channels read by both.
func TestChannelsMatchOpNode(t *testing.T) {
	defer logChannelOutcomes(t)
	rng := rand.New(rand.NewSource(300))
	algos := []struct {
		ours derive.CompressionAlgo
		op   opderive.CompressionAlgo
	}{{derive.Zlib, opderive.Zlib}, {derive.Brotli, opderive.Brotli}}
	const limit = 100_000_000
	for range iterations(40) {
		for _, algo := range algos {
			batches := randomBatchData(t, rng)
			var stream []byte
			for _, b := range batches {
				enc, err := rlp.EncodeToBytes(b)
				require.NoError(t, err)
				stream = append(stream, enc...)
			}

			// ours → op-node, through frames and op-node's channel.
			id := derive.ChannelID{byte(rng.Intn(256)), 1}
			co, err := derive.NewChannelOut(id, algo.ours, limit)
			require.NoError(t, err)
			for _, b := range batches {
				require.NoError(t, co.AddBatch(b))
			}
			require.NoError(t, co.Close())
			ourData, err := co.Data()
			require.NoError(t, err)
			frames, err := co.Frames(100 + rng.Intn(2000))
			require.NoError(t, err)
			opCh := opderive.NewChannel(opderive.ChannelID(id), eth.L1BlockRef{}, true)
			for _, f := range frames {
				require.NoError(t, opCh.AddFrame(toOpFrame(f), eth.L1BlockRef{}))
			}
			require.True(t, opCh.IsReady())
			chData, err := io.ReadAll(opCh.Reader())
			require.NoError(t, err)
			require.Equal(t, ourData, chData)
			op, opEOF, err := readOp(t, chData, limit, true)
			require.NoError(t, err)
			require.True(t, opEOF)
			require.Len(t, op, len(batches))
			for i, b := range batches {
				require.Equal(t, ourMarshal(t, b), op[i], "batch %d", i)
			}

			// op-node → ours
			comp, err := opderive.NewChannelCompressor(algo.op)
			require.NoError(t, err)
			_, err = comp.Write(stream)
			require.NoError(t, err)
			require.NoError(t, comp.Close())
			opData := comp.GetCompressed().Bytes()
			ours, ourEOF, err := readOurs(opData, limit, true)
			require.NoError(t, err)
			require.True(t, ourEOF)
			require.Equal(t, op, ours)

			// Limits that cut the stream anywhere, and a pre-Fjord reader.
			for range 5 {
				cut := uint64(1 + rng.Intn(len(stream)+2))
				compareChannel(t, ourData, cut, true)
				compareChannel(t, opData, cut, true)
			}
			compareChannel(t, ourData, limit, false)

			// Damaged compressed data.
			for range 30 {
				compareChannel(t, mutate(rng, ourData), limit, true)
				compareChannel(t, mutate(rng, opData), limit, rng.Intn(2) == 0)
			}
			// Damaged batch streams, compressed correctly.
			for range 30 {
				bad := mutate(rng, stream)
				compareChannel(t, compress(t, algo.ours, bad), limit, true)
			}
		}
	}
}

// The first byte of a channel selects its format; every value gets the same answer from both readers.
func TestChannelVersionBytesMatchOpNode(t *testing.T) {
	defer logChannelOutcomes(t)
	rng := rand.New(rand.NewSource(301))
	var stream []byte
	for _, b := range randomBatchData(t, rng) {
		enc, err := rlp.EncodeToBytes(b)
		require.NoError(t, err)
		stream = append(stream, enc...)
	}
	for _, body := range [][]byte{compress(t, derive.Zlib, stream), compress(t, derive.Brotli, stream)[1:], stream} {
		for v := 0; v < 256; v++ {
			data := append([]byte{byte(v)}, body...)
			compareChannel(t, data, 100_000_000, true)
			compareChannel(t, data, 10_000_000, false)
		}
	}
	// A zlib header with the dictionary flag and the empty dictionary's id is accepted by Go's zlib, and
	// so by both.
	compareChannel(t, []byte{0x78, 0xbb, 0, 0, 0, 1, 3, 0}, 1000, true)
}

func compress(t testing.TB, algo derive.CompressionAlgo, data []byte) []byte {
	var buf bytes.Buffer
	switch algo {
	case derive.Zlib:
		w := zlib.NewWriter(&buf)
		_, err := w.Write(data)
		require.NoError(t, err)
		require.NoError(t, w.Close())
	case derive.Brotli:
		buf.WriteByte(derive.ChannelVersionBrotli)
		w := brotli.NewWriterLevel(&buf, 5)
		_, err := w.Write(data)
		require.NoError(t, err)
		require.NoError(t, w.Close())
	}
	return buf.Bytes()
}

package derive_test

import (
	"bytes"
	"compress/zlib"
	"io"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/rollup"
)

// threeBatches returns three singular batches and their channel stream (each an RLP string).
func threeBatches(t testing.TB) ([]*derive.SingularBatch, []byte) {
	rng := rand.New(rand.NewSource(1))
	batches := randomBatches(rng, testConfig(), 3, false)
	var stream []byte
	for _, b := range batches {
		stream = append(stream, rlpString(t, encodeSingular(t, b))...)
	}
	return batches, stream
}

func TestChannelReaderSpecRules(t *testing.T) {
	cfg := testConfig()
	batches, stream := threeBatches(t)
	first := rlpString(t, encodeSingular(t, batches[0]))
	last := rlpString(t, encodeSingular(t, batches[2]))
	preFjord, postFjord := uint64(testFjordTime-1), uint64(testFjordTime)

	tests := []struct {
		name   string
		data   []byte
		l1Time uint64
		algo   derive.CompressionAlgo
		want   int   // batches read
		newErr error // error of NewChannelReader
		err    bool  // reading stops on an error rather than io.EOF
	}{
		{name: "zlib before Fjord", data: zlibCompress(t, stream), l1Time: preFjord, algo: derive.Zlib, want: 3},
		{name: "zlib stays valid after Fjord", data: zlibCompress(t, stream), l1Time: postFjord, algo: derive.Zlib, want: 3},
		{name: "brotli after Fjord", data: brotliChannel(t, stream), l1Time: postFjord, algo: derive.Brotli, want: 3},
		{name: "brotli before Fjord is invalid", data: brotliChannel(t, stream), l1Time: preFjord, newErr: derive.ErrBrotliBeforeFjord},
		{name: "empty channel", data: nil, l1Time: postFjord, newErr: derive.ErrEmptyChannel},
		{name: "unknown version byte 2", data: append([]byte{2}, brotliChannel(t, stream)[1:]...), l1Time: postFjord, newErr: derive.ErrUnknownChannelVersion},
		{name: "unknown version byte 0", data: append([]byte{0}, stream...), l1Time: postFjord, newErr: derive.ErrUnknownChannelVersion},
		{name: "zlib CM 15 nibble is zlib, and an invalid zlib header", data: []byte{0x7f, 0x00, 1, 2}, l1Time: postFjord, newErr: errAny},
		{name: "zlib with a dictionary is invalid", data: []byte{0x78, 0xbb, 0, 0, 0, 2}, l1Time: postFjord, newErr: errAny},
		{name: "empty compressed stream has no batch", data: zlibCompress(t, nil), l1Time: preFjord, algo: derive.Zlib, want: 0},
		{
			name: "batch of unknown type stops the channel", l1Time: postFjord, algo: derive.Zlib, want: 1, err: true,
			data: zlibCompress(t, cat(first, rlpString(t, []byte{7, 1, 2}), last)),
		},
		{
			name: "malformed singular batch stops the channel", l1Time: postFjord, algo: derive.Zlib, want: 1, err: true,
			data: zlibCompress(t, cat(first, rlpString(t, []byte{0, 0xc1, 0x80}), last)),
		},
		{
			name: "empty batch stops the channel", l1Time: postFjord, algo: derive.Zlib, want: 1, err: true,
			data: zlibCompress(t, cat(first, rlpString(t, nil), last)),
		},
		{
			name: "data between batches that is not an RLP string stops the channel", l1Time: postFjord, algo: derive.Zlib, want: 1, err: true,
			data: zlibCompress(t, cat(first, []byte{0xc0}, last)),
		},
		{
			name: "non-canonical RLP string stops the channel", l1Time: postFjord, algo: derive.Zlib, want: 1, err: true,
			data: zlibCompress(t, cat(first, []byte{0x81, 0x00}, last)),
		},
		{
			name: "truncated compressed data: batches before the cut stand", l1Time: postFjord, algo: derive.Zlib, want: 1, err: true,
			data: truncateAfter(t, cat(first, last), len(first)+10),
		},
		{
			name: "data after the zlib stream is ignored", l1Time: postFjord, algo: derive.Zlib, want: 3,
			data: cat(zlibCompress(t, stream), []byte("trailing")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := derive.NewChannelReader(cfg, tt.data, tt.l1Time)
			if tt.newErr != nil {
				require.Error(t, err)
				if tt.newErr != errAny {
					require.ErrorIs(t, err, tt.newErr)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.algo, r.Compression())
			got, err := readAll(r)
			require.Len(t, got, tt.want)
			for i, b := range got {
				sb, ok := b.Singular()
				require.True(t, ok)
				requireSameBatch(t, batches[i], sb)
			}
			if tt.err {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			// A stopped reader stays stopped.
			_, err = r.NextBatch()
			require.ErrorIs(t, err, io.EOF)
		})
	}
}

// errAny marks a test expecting some error.
var errAny = io.ErrNoProgress

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// truncateAfter compresses data with zlib and cuts the compressed stream so that about n decompressed bytes
// are still recoverable (a sync flush after n bytes makes the cut point exact).
func truncateAfter(t *testing.T, data []byte, n int) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	_, err := w.Write(data[:n])
	require.NoError(t, err)
	require.NoError(t, w.Flush())
	cut := buf.Len()
	_, err = w.Write(data[n:])
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()[:cut]
}

// The limit is on the decompressed stream: every batch that ends within MAX_RLP_BYTES_PER_CHANNEL bytes is
// read, the one that would end beyond it and everything after are not.
func TestChannelReaderRLPLimit(t *testing.T) {
	batches, stream := threeBatches(t)
	l0 := len(rlpString(t, encodeSingular(t, batches[0])))
	l1 := len(rlpString(t, encodeSingular(t, batches[1])))
	for _, tc := range []struct {
		name  string
		limit uint64
		want  int
	}{
		{"limit ends exactly after the second batch", uint64(l0 + l1), 2},
		{"limit one byte short of the second batch", uint64(l0 + l1 - 1), 1},
		{"limit one byte into the third batch", uint64(l0 + l1 + 1), 2},
		{"limit covers everything", uint64(len(stream)), 3},
		{"limit of one byte", 1, 0},
	} {
		for _, data := range [][]byte{zlibCompress(t, stream), brotliChannel(t, stream)} {
			r, err := derive.NewBatchReader(data, tc.limit, true)
			require.NoError(t, err)
			got, _ := readAll(r)
			require.Len(t, got, tc.want, tc.name)
		}
	}
	_, err := derive.NewBatchReader(zlibCompress(t, stream), 0, true)
	require.ErrorIs(t, err, derive.ErrZeroRLPLimit)
}

// MAX_RLP_BYTES_PER_CHANNEL follows Fjord by the L1 origin time: 10 MB before, 100 MB after.
func TestChannelReaderForkLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("compresses 12 MB")
	}
	cfg := testConfig()
	large := &derive.SingularBatch{Transactions: []hexutil.Bytes{make([]byte, 6_000_000)}}
	enc := rlpString(t, encodeSingular(t, large))
	data := zlibCompress(t, cat(enc, enc))
	for _, tc := range []struct {
		l1Time uint64
		want   int
	}{{testFjordTime - 1, 1}, {testFjordTime, 2}} {
		r, err := derive.NewChannelReader(cfg, data, tc.l1Time)
		require.NoError(t, err)
		got, err := readAll(r)
		require.Len(t, got, tc.want)
		if tc.want == 1 {
			require.Error(t, err, "the batch crossing 10 MB is not read")
		}
	}
	require.Equal(t, uint64(rollup.MaxRLPBytesPerChannelBedrock), cfg.MaxRLPBytesPerChannel(testFjordTime-1))
}

func FuzzChannelReader(f *testing.F) {
	_, stream := threeBatches(f)
	f.Add(zlibCompress(f, stream))
	f.Add(brotliChannel(f, stream))
	f.Add(zlibCompress(f, []byte{0x83, 1, 2, 3}))
	f.Add([]byte{0x78, 0x9c})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		for _, fjord := range []bool{false, true} {
			r, err := derive.NewBatchReader(data, 1<<20, fjord)
			if err != nil {
				continue
			}
			for {
				b, err := r.NextBatch()
				if err != nil {
					break
				}
				// Whatever decodes re-encodes and decodes to the same batch.
				enc, err := b.MarshalBinary()
				require.NoError(t, err)
				var again derive.BatchData
				require.NoError(t, again.UnmarshalBinary(enc))
				enc2, err := again.MarshalBinary()
				require.NoError(t, err)
				require.Equal(t, enc, enc2)
			}
		}
	})
}

// BenchmarkChannelReader reads every batch of a channel of 400 blocks, zlib and brotli; bytes/s are of the
// compressed channel.
func BenchmarkChannelReader(b *testing.B) {
	_, batches := benchBatches(b, 400)
	for _, algo := range []derive.CompressionAlgo{derive.Zlib, derive.Brotli} {
		data := benchChannel(b, algo, batches)
		b.Run(algo.String(), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				r, err := derive.NewBatchReader(data, 100_000_000, true)
				require.NoError(b, err)
				got, err := readAll(r)
				require.NoError(b, err, "%d batches", len(got))
				require.Len(b, got, len(batches), "%d batches, %v", len(got), err)
			}
		})
	}
}

package derive_test

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"math/big"
	"math/rand"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/derive/derivetest"
	"github.com/faultproof/faultproof/rollup"
)

const testFjordTime = 1000

var testChainID = big.NewInt(901)

func u64p(v uint64) *uint64 { return &v }

// testConfig is a chain with span batches from genesis and Fjord at testFjordTime.
func testConfig() *rollup.Config {
	return &rollup.Config{
		BlockTime:    2,
		Genesis:      rollup.Genesis{L2Time: 100},
		L2ChainID:    testChainID,
		RegolithTime: u64p(0), CanyonTime: u64p(0), DeltaTime: u64p(0), EcotoneTime: u64p(0),
		FjordTime: u64p(testFjordTime),
	}
}

// randomBatches makes n consecutive singular batches (timestamps blockTime apart from genesis+2*start,
// epochs staying or advancing by one) with random transactions of every kind.
func randomBatches(rng *rand.Rand, cfg *rollup.Config, n int, postExec bool) []*derive.SingularBatch {
	out := make([]*derive.SingularBatch, n)
	epoch := uint64(rng.Intn(1000))
	ts := cfg.Genesis.L2Time + cfg.BlockTime*uint64(rng.Intn(1000))
	parent := randomHash(rng)
	epochHash := randomHash(rng)
	for i := range out {
		if i > 0 && rng.Intn(3) == 0 {
			epoch++
			epochHash = randomHash(rng)
		}
		b := &derive.SingularBatch{ParentHash: parent, EpochNum: epoch, EpochHash: epochHash, Timestamp: ts}
		for range rng.Intn(5) {
			kind := rng.Intn(derivetest.NumKinds)
			if kind == derivetest.PostExec && !postExec {
				kind = derivetest.DynamicFee
			}
			b.Transactions = append(b.Transactions, derivetest.RandomTx(rng, cfg.L2ChainID, kind))
		}
		out[i] = b
		parent = randomHash(rng)
		ts += cfg.BlockTime
	}
	return out
}

func randomHash(rng *rand.Rand) common.Hash {
	var h common.Hash
	rng.Read(h[:])
	return h
}

// rlpString wraps a batch encoding as it appears in a channel.
func rlpString(t testing.TB, b []byte) []byte {
	enc, err := rlp.EncodeToBytes(b)
	require.NoError(t, err)
	return enc
}

func zlibCompress(t testing.TB, data []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	_, err := w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func brotliChannel(t testing.TB, data []byte) []byte {
	buf := bytes.NewBuffer([]byte{derive.ChannelVersionBrotli})
	w := brotli.NewWriterLevel(buf, 6)
	_, err := w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// encodeBatch is BatchData.MarshalBinary of a singular batch.
func encodeSingular(t testing.TB, b *derive.SingularBatch) []byte {
	enc, err := derive.NewSingularBatchData(b).MarshalBinary()
	require.NoError(t, err)
	return enc
}

// readAll reads a channel's batches until the reader stops; err is the first non-EOF error.
func readAll(r *derive.ChannelReader) (batches []*derive.BatchData, err error) {
	for {
		b, e := r.NextBatch()
		if e != nil {
			if !errors.Is(e, io.EOF) {
				err = e
			}
			return
		}
		batches = append(batches, b)
	}
}

func txsOf(ss ...string) []hexutil.Bytes {
	out := make([]hexutil.Bytes, len(ss))
	for i, s := range ss {
		out[i] = hexutil.Bytes(s)
	}
	return out
}

// requireSameBatch compares singular batches, an empty transaction list equal to none.
func requireSameBatch(t testing.TB, want, got *derive.SingularBatch) {
	t.Helper()
	w, g := *want, *got
	if len(w.Transactions) == 0 {
		w.Transactions = nil
	}
	if len(g.Transactions) == 0 {
		g.Transactions = nil
	}
	require.Equal(t, w, g)
}

// benchBatches are the blocks of a busy batcher channel for the benchmarks: n consecutive blocks with up to
// four transactions of every kind each.
func benchBatches(b *testing.B, n int) (*rollup.Config, []*derive.SingularBatch) {
	b.Helper()
	cfg := testConfig()
	return cfg, randomBatches(rand.New(rand.NewSource(7)), cfg, n, false)
}

// benchChannel is the compressed channel of batches, as singular batches.
func benchChannel(b *testing.B, algo derive.CompressionAlgo, batches []*derive.SingularBatch) []byte {
	b.Helper()
	co, err := derive.NewChannelOut(derive.ChannelID{1}, algo, 100_000_000)
	require.NoError(b, err)
	for _, sb := range batches {
		require.NoError(b, co.AddBatch(derive.NewSingularBatchData(sb)))
	}
	require.NoError(b, co.Close())
	data, err := co.Data()
	require.NoError(b, err)
	return data
}

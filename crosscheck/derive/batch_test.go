package derive_test

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	opderive "github.com/ethereum-optimism/optimism/op-node/rollup/derive"

	"github.com/faultproof/faultproof/derive"
)

// opDecode runs op-node's batch decoder, turning a panic into a test failure that shows the input.
func opDecode(t testing.TB, data []byte) (bd *opderive.BatchData, err error) {
	t.Helper()
	defer func() {
		r := recover()
		require.False(t, r != nil, "op-node panicked decoding %x: %v", data, r)
	}()
	bd = new(opderive.BatchData)
	return bd, bd.UnmarshalBinary(data)
}

func opDeriveSpan(t testing.TB, bd *opderive.BatchData, data []byte) (sb *opderive.SpanBatch, err error) {
	t.Helper()
	defer func() {
		r := recover()
		require.False(t, r != nil, "op-node panicked deriving %x: %v", data, r)
	}()
	return opderive.DeriveSpanBatch(bd, opConfig())
}

func opMarshal(t testing.TB, bd *opderive.BatchData) []byte {
	t.Helper()
	enc, err := bd.MarshalBinary()
	require.NoError(t, err)
	return enc
}

func ourMarshal(t testing.TB, bd *derive.BatchData) []byte {
	t.Helper()
	enc, err := bd.MarshalBinary()
	require.NoError(t, err)
	return enc
}

// opSpanBatch encodes batches as a span batch with op-node's encoder.
func opSpanBatch(t testing.TB, batches []*derive.SingularBatch, originChanged bool) []byte {
	t.Helper()
	sb := opderive.NewSpanBatch(genesisTime, chainID)
	for i, b := range batches {
		seq := uint64(1)
		if i == 0 && originChanged {
			seq = 0
		}
		require.NoError(t, sb.AppendSingularBatch(toOpSingular(b), seq))
	}
	raw, err := sb.ToRawSpanBatch()
	require.NoError(t, err)
	return opMarshal(t, opderive.NewBatchData(raw))
}

func TestSingularBatchesMatchOpNode(t *testing.T) {
	defer logBatchOutcomes(t)
	rng := rand.New(rand.NewSource(200))
	for range iterations(300) {
		b := randomBatches(rng, 1, true)[0]

		// ours → op-node
		enc := ourMarshal(t, derive.NewSingularBatchData(b))
		bd, err := opDecode(t, enc)
		require.NoError(t, err)
		require.EqualValues(t, opderive.SingularBatchType, bd.GetBatchType())
		opb, err := opderive.GetSingularBatch(bd)
		require.NoError(t, err)
		requireSameSingular(t, b, opb)

		// op-node → ours
		opEnc := opMarshal(t, opderive.NewBatchData(toOpSingular(b)))
		require.Equal(t, opEnc, enc, "both encode the same bytes")
		var d derive.BatchData
		require.NoError(t, d.UnmarshalBinary(opEnc))
		ours, ok := d.Singular()
		require.True(t, ok)
		requireSameSingular(t, ours, opb)

		compareDamaged(t, rng, enc, 30)
	}
}

func TestSpanBatchesMatchOpNode(t *testing.T) {
	defer logBatchOutcomes(t)
	rng := rand.New(rand.NewSource(201))
	ourCfg := ourConfig()
	for range iterations(200) {
		batches := randomBatches(rng, 1+rng.Intn(10), true)
		originChanged := rng.Intn(2) == 0

		// ours → op-node
		raw, err := derive.EncodeSpanBatch(ourCfg, batches, originChanged)
		require.NoError(t, err)
		enc := ourMarshal(t, derive.NewSpanBatchData(raw))
		bd, err := opDecode(t, enc)
		require.NoError(t, err)
		require.EqualValues(t, opderive.SpanBatchType, bd.GetBatchType())
		opsb, err := opDeriveSpan(t, bd, enc)
		require.NoError(t, err)
		require.Len(t, opsb.Batches, len(batches))
		for i, b := range batches {
			require.Equal(t, b.Timestamp, opsb.Batches[i].Timestamp)
			require.Equal(t, b.EpochNum, uint64(opsb.Batches[i].EpochNum))
			requireSameTxs(t, b.Transactions, opsb.Batches[i].Transactions)
		}

		// op-node → ours
		opEnc := opSpanBatch(t, batches, originChanged)
		require.Equal(t, opEnc, enc, "both encode the same bytes")
		var d derive.BatchData
		require.NoError(t, d.UnmarshalBinary(opEnc))
		ourRaw, ok := d.Span()
		require.True(t, ok)
		sb, err := derive.DeriveSpanBatch(ourCfg, ourRaw)
		require.NoError(t, err)
		requireSameSpan(t, sb, opsb)
		require.Equal(t, originChanged, sb.OriginChangedBit)

		compareDamaged(t, rng, enc, 50)
	}
}

// Span batches with transactions the encoders refuse but a batcher can post: each is decoded and derived
// by both, with the same outcome.
func TestUnusualSpanBatchTxsMatchOpNode(t *testing.T) {
	defer logBatchOutcomes(t)
	rng := rand.New(rand.NewSource(202))
	raw, err := derive.EncodeSpanBatch(ourConfig(), randomBatches(rng, 3, true), true)
	require.NoError(t, err)
	enc := ourMarshal(t, derive.NewSpanBatchData(raw))
	// Replace bytes by values that are meaningful as tx types or RLP prefixes: every byte, or a sample of
	// them for long batches and in -short mode.
	positions := rng.Perm(len(enc) - 1)
	positions = positions[:min(len(positions), iterations(3000))]
	for _, p := range positions {
		i := p + 1
		for _, v := range []byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x7d, 0x7e, 0x7f, 0x80, 0xbf, 0xc0, 0xf7, 0xf8} {
			if enc[i] == v {
				continue
			}
			bad := append([]byte{}, enc...)
			bad[i] = v
			compareBatch(t, bad)
		}
	}
}

// batchOutcomes counts how compared inputs ended, to show what the comparisons exercised.
var batchOutcomes struct{ decodeErr, singularOK, deriveErr, spanOK int }

func logBatchOutcomes(t *testing.T) {
	t.Logf("compared inputs: %d rejected by both decoders, %d singular batches decoded alike, "+
		"%d span batches rejected by both at derivation, %d span batches derived alike",
		batchOutcomes.decodeErr, batchOutcomes.singularOK, batchOutcomes.deriveErr, batchOutcomes.spanOK)
	batchOutcomes = struct{ decodeErr, singularOK, deriveErr, spanOK int }{}
}

// compareDamaged decodes n damaged copies of a batch encoding with both decoders.
func compareDamaged(t *testing.T, rng *rand.Rand, enc []byte, n int) {
	t.Helper()
	for range n {
		compareBatch(t, mutate(rng, enc))
	}
}

// compareBatch decodes data with both decoders: both fail or both succeed with the same batch; span
// batches are then derived by both, again with the same outcome and the same blocks.
func compareBatch(t *testing.T, data []byte) {
	t.Helper()
	var d derive.BatchData
	ourErr := d.UnmarshalBinary(data)
	bd, opErr := opDecode(t, data)
	require.Equal(t, opErr == nil, ourErr == nil, "decoding %x\nop-node: %v\nours:    %v", data, opErr, ourErr)
	if ourErr != nil {
		batchOutcomes.decodeErr++
		return
	}
	require.EqualValues(t, bd.GetBatchType(), d.Type())
	// Decoded batches re-encode to the same bytes (trailing data and non-minimal varints dropped alike).
	require.Equal(t, opMarshal(t, bd), ourMarshal(t, &d), "re-encoding %x", data)
	switch d.Type() {
	case derive.SingularBatchType:
		ours, _ := d.Singular()
		opb, err := opderive.GetSingularBatch(bd)
		require.NoError(t, err)
		requireSameSingular(t, ours, opb)
		batchOutcomes.singularOK++
	case derive.SpanBatchType:
		raw, _ := d.Span()
		sb, ourErr := derive.DeriveSpanBatch(ourConfig(), raw)
		opsb, opErr := opDeriveSpan(t, bd, data)
		require.Equal(t, opErr == nil, ourErr == nil, "deriving %x\nop-node: %v\nours:    %v", data, opErr, ourErr)
		if ourErr == nil {
			requireSameSpan(t, sb, opsb)
			batchOutcomes.spanOK++
		} else {
			batchOutcomes.deriveErr++
		}
	default:
		require.FailNow(t, fmt.Sprintf("unexpected batch type %v", d.Type()))
	}
}

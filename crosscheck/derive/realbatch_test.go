package derive_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	opderive "github.com/ethereum-optimism/optimism/op-node/rollup/derive"

	"github.com/faultproof/faultproof/derive"
)

// TestRealSpanBatchMatchesOpNode decodes the raw span batch op-node's derivation produced on a real chain
// (kona keeps it as a test vector: rust/kona/crates/protocol/protocol/src/batch/testdata/raw_batch.hex in
// the optimism module, binary despite its name) with ours and op-node's decoders: the same batch, and
// re-encoding gives the original bytes. A non-minimal block_count varint, which a byzantine batcher could
// post, decodes to the same batch in both.
func TestRealSpanBatchMatchesOpNode(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(optimismDir(t), "rust", "kona", "crates", "protocol", "protocol", "src", "batch", "testdata", "raw_batch.hex"))
	require.NoError(t, err)
	enc := append([]byte{byte(derive.SpanBatchType)}, raw...)

	var ours derive.BatchData
	require.NoError(t, ours.UnmarshalBinary(enc))
	span, ok := ours.Span()
	require.True(t, ok)
	require.Equal(t, enc, ourMarshal(t, &ours), "re-encoded bytes")
	bd, err := opDecode(t, enc)
	require.NoError(t, err)
	require.Equal(t, enc, opMarshal(t, bd))
	opsb, err := opDeriveSpan(t, bd, enc)
	require.NoError(t, err)
	sb, err := derive.DeriveSpanBatch(ourConfig(), span)
	require.NoError(t, err)
	requireSameSpan(t, sb, opsb)
	require.Positive(t, span.BlockCount())
	t.Logf("real span batch: %d bytes, %d blocks, %d transactions", len(raw), span.BlockCount(), span.TxCount())

	// The same batch with block_count as a two-byte longer varint.
	prefixLen := 0
	{
		// rel_timestamp and l1_origin_num varints, then parent_check and l1_origin_check (20 bytes each).
		p := raw
		for i := 0; i < 2; i++ {
			for p[0]&0x80 != 0 {
				p = p[1:]
				prefixLen++
			}
			p = p[1:]
			prefixLen++
		}
		prefixLen += 40
	}
	count := raw[prefixLen:]
	n := 0
	for count[n]&0x80 != 0 {
		n++
	}
	n++ // length of the minimal block_count varint
	long := append([]byte{byte(derive.SpanBatchType)}, raw[:prefixLen]...)
	long = append(long, count[:n-1]...)
	long = append(long, count[n-1]|0x80, 0x80, 0x00)
	long = append(long, count[n:]...)
	var ourLong derive.BatchData
	require.NoError(t, ourLong.UnmarshalBinary(long))
	longSpan, _ := ourLong.Span()
	require.Equal(t, span.BlockCount(), longSpan.BlockCount())
	require.Equal(t, enc, ourMarshal(t, &ourLong), "re-encoded minimally")
	opLong, err := opDecode(t, long)
	require.NoError(t, err)
	require.Equal(t, enc, opMarshal(t, opLong))
}

// TestRealBatcherTransactionFrames parses the frames of a real calldata batcher transaction (kona's vector:
// rust/kona/crates/protocol/derive/testdata/raw_batcher_tx.hex, binary, an EIP-2718 transaction) with ours
// and op-node's frame parsers: the same frames, whose data is the 119,823 bytes kona expects.
func TestRealBatcherTransactionFrames(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(optimismDir(t), "rust", "kona", "crates", "protocol", "derive", "testdata", "raw_batcher_tx.hex"))
	require.NoError(t, err)
	var tx types.Transaction
	require.NoError(t, tx.UnmarshalBinary(raw))
	require.Len(t, tx.Data(), 119823)
	ours, err := derive.ParseFrames(tx.Data())
	require.NoError(t, err)
	op, err := opderive.ParseFrames(tx.Data())
	require.NoError(t, err)
	requireSameFrames(t, ours, op)
	total := 0
	for _, f := range ours {
		total += len(f.Data)
	}
	t.Logf("real batcher transaction %s: %d frame(s), %d bytes of channel data, first frame of channel %x number %d last %v",
		tx.Hash(), len(ours), total, ours[0].ID, ours[0].FrameNumber, ours[0].IsLast)

	// A whole channel in one frame: both readers get the same batches out of it, under the Bedrock and the
	// Fjord size limits.
	require.Len(t, ours, 1)
	require.True(t, ours[0].IsLast)
	for _, fjord := range []bool{false, true} {
		limit := uint64(10_000_000)
		if fjord {
			limit = 100_000_000
		}
		compareChannel(t, ours[0].Data, limit, fjord)
		batches, clean, err := readOurs(ours[0].Data, limit, fjord)
		require.NoError(t, err)
		require.True(t, clean)
		require.NotEmpty(t, batches)
		t.Logf("fjord %v: %d batches read by both", fjord, len(batches))
	}
}

// optimismDir is the directory of this module's optimism dependency in the module cache, where Optimism's
// test vectors are read from.
func optimismDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/ethereum-optimism/optimism").Output()
	require.NoError(t, err, "go list -m github.com/ethereum-optimism/optimism")
	return strings.TrimSpace(string(out))
}

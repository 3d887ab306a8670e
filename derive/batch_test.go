package derive_test

import (
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/derive"
)

func TestSingularBatchRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	for _, b := range randomBatches(rng, testConfig(), 20, true) {
		enc := encodeSingular(t, b)
		require.Equal(t, byte(derive.SingularBatchType), enc[0])
		var d derive.BatchData
		require.NoError(t, d.UnmarshalBinary(enc))
		require.Equal(t, derive.SingularBatchType, d.Type())
		got, ok := d.Singular()
		require.True(t, ok)
		_, isSpan := d.Span()
		require.False(t, isSpan)
		requireSameBatch(t, b, got)
		require.Equal(t, b.Epoch(), got.Epoch())

		// In a channel a batch is an RLP string.
		wrapped, err := rlp.EncodeToBytes(derive.NewSingularBatchData(b))
		require.NoError(t, err)
		require.Equal(t, rlpString(t, enc), wrapped)
		var d2 derive.BatchData
		require.NoError(t, rlp.DecodeBytes(wrapped, &d2))
		got2, _ := d2.Singular()
		requireSameBatch(t, b, got2)
	}
}

// The wire layout of a singular batch: 0x00 ++ rlp([parent_hash, epoch_number, epoch_hash, timestamp,
// transaction_list]).
func TestSingularBatchLayout(t *testing.T) {
	b := &derive.SingularBatch{
		ParentHash: common.Hash{1}, EpochNum: 0x0102, EpochHash: common.Hash{2}, Timestamp: 7,
		Transactions: txsOf("\x02abc", "\xf8"),
	}
	want := append([]byte{0}, mustRLP(t, []any{
		common.Hash{1}, uint64(0x0102), common.Hash{2}, uint64(7), []any{[]byte("\x02abc"), []byte{0xf8}},
	})...)
	require.Equal(t, want, encodeSingular(t, b))
}

func TestBatchDataSpecRules(t *testing.T) {
	list := func(items ...any) []byte { return append([]byte{0}, mustRLP(t, items)...) }
	h := common.Hash{9}
	valid := list(h, uint64(1), h, uint64(2), []any{[]byte{2, 1}})
	tests := []struct {
		name string
		data []byte
		err  error // nil: decodes
	}{
		{"valid singular batch", valid, nil},
		{"extra content after a complete batch is ignored", append(append([]byte{}, valid...), 0xde, 0xad), nil},
		{"empty transaction list", list(h, uint64(1), h, uint64(2), []any{}), nil},
		{"empty input", nil, derive.ErrEmptyBatch},
		{"unknown batch type 2", append([]byte{2}, valid[1:]...), derive.ErrUnknownBatchType},
		{"unknown batch type 0x7f", append([]byte{0x7f}, valid[1:]...), derive.ErrUnknownBatchType},
		{"type byte only", []byte{0}, errAny},
		{"too few fields", list(h, uint64(1), h, uint64(2)), errAny},
		{"too many fields", list(h, uint64(1), h, uint64(2), []any{}, uint64(3)), errAny},
		{"short parent hash", list(h[:31], uint64(1), h, uint64(2), []any{}), errAny},
		{"epoch number with a leading zero", list(h, []byte{0, 1}, h, uint64(2), []any{}), errAny},
		{"timestamp over 64 bits", list(h, uint64(1), h, make([]byte, 9), []any{}), errAny},
		{"transaction list is a string", list(h, uint64(1), h, uint64(2), []byte{1}), errAny},
		{"transaction that is a list", list(h, uint64(1), h, uint64(2), []any{[]any{}}), errAny},
		{"batch longer than its data", valid[:len(valid)-1], errAny},
		{"content is not a list", append([]byte{0}, mustRLP(t, []byte("abc"))...), errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d derive.BatchData
			err := d.UnmarshalBinary(tt.data)
			switch tt.err {
			case nil:
				require.NoError(t, err)
			case errAny:
				require.Error(t, err)
			default:
				require.ErrorIs(t, err, tt.err)
			}
		})
	}
}

func TestBatchDataEmpty(t *testing.T) {
	_, err := (&derive.BatchData{}).MarshalBinary()
	require.Error(t, err)
	_, err = derive.NewSpanBatchData(&derive.RawSpanBatch{}).MarshalBinary()
	require.Error(t, err, "a span batch that was not built does not encode")
	require.Equal(t, "singular", derive.SingularBatchType.String())
	require.Equal(t, "span", derive.SpanBatchType.String())
}

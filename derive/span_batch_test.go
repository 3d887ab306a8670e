package derive_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"math/rand"
	"runtime"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/derive/derivetest"
)

func TestSpanBatchRoundTrip(t *testing.T) {
	cfg := testConfig()
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 40; i++ {
		batches := randomBatches(rng, cfg, 1+rng.Intn(12), true)
		originChanged := rng.Intn(2) == 0
		raw, err := derive.EncodeSpanBatch(cfg, batches, originChanged)
		require.NoError(t, err)
		enc, err := derive.NewSpanBatchData(raw).MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, byte(derive.SpanBatchType), enc[0])

		var d derive.BatchData
		require.NoError(t, d.UnmarshalBinary(enc))
		require.Equal(t, derive.SpanBatchType, d.Type())
		got, ok := d.Span()
		require.True(t, ok)
		again, err := derive.NewSpanBatchData(got).MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, enc, again, "decoding and encoding again gives the same bytes")

		sb, err := derive.DeriveSpanBatch(cfg, got)
		require.NoError(t, err)
		require.Len(t, sb.Blocks, len(batches))
		require.Equal(t, originChanged, sb.OriginChangedBit)
		require.True(t, sb.CheckParentHash(batches[0].ParentHash))
		require.True(t, sb.CheckOriginHash(batches[len(batches)-1].EpochHash))
		require.Equal(t, batches[0].Timestamp, sb.Timestamp())
		require.Equal(t, batches[len(batches)-1].Timestamp, sb.LastTimestamp())
		for j, b := range batches {
			blk := sb.Blocks[j]
			require.Equal(t, b.Timestamp, blk.Timestamp)
			require.Equal(t, b.EpochNum, blk.EpochNum)
			require.Equal(t, len(b.Transactions), len(blk.Transactions))
			for k := range b.Transactions {
				require.Equal(t, b.Transactions[k], blk.Transactions[k], "block %d tx %d", j, k)
			}
			if j > 0 {
				require.Equal(t, b.EpochNum != batches[j-1].EpochNum, sb.OriginBit(j))
			}
		}
	}
}

// Hand-made span batches, section by section (delta/span-batches.md).
type spanParts struct {
	relTimestamp, l1OriginNum, parentCheck, l1OriginCheck []byte
	blockCount, originBits, blockTxCounts                 []byte
	creationBits, yParityBits, sigs, tos, datas           []byte
	nonces, gases, protectedBits, trailing                []byte
}

func (p spanParts) encode() []byte {
	return bytes.Join([][]byte{{byte(derive.SpanBatchType)},
		p.relTimestamp, p.l1OriginNum, p.parentCheck, p.l1OriginCheck,
		p.blockCount, p.originBits, p.blockTxCounts,
		p.creationBits, p.yParityBits, p.sigs, p.tos, p.datas, p.nonces, p.gases, p.protectedBits,
		p.trailing}, nil)
}

func uv(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

// testTxs are two signed transactions: a protected legacy transfer and a dynamic-fee contract creation.
func testTxs(t testing.TB) (legacy, creation *types.Transaction) {
	key := derivetest.Key(rand.New(rand.NewSource(3)))
	to := common.Address{0x11}
	var err error
	legacy, err = types.SignNewTx(key, types.NewEIP155Signer(testChainID), &types.LegacyTx{
		Nonce: 5, GasPrice: big.NewInt(7), Gas: 21000, To: &to, Value: big.NewInt(1), Data: []byte{1, 2},
	})
	require.NoError(t, err)
	creation, err = types.SignNewTx(key, types.LatestSignerForChainID(testChainID), &types.DynamicFeeTx{
		ChainID: testChainID, Nonce: 300, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2), Gas: 1_000_000,
		Data: []byte{0x60, 0x00},
	})
	require.NoError(t, err)
	return legacy, creation
}

func sigOf(tx *types.Transaction) []byte {
	_, r, s := tx.RawSignatureValues()
	var b [64]byte
	r.FillBytes(b[:32])
	s.FillBytes(b[32:])
	return b[:]
}

func yParityOf(tx *types.Transaction) uint64 {
	v, _, _ := tx.RawSignatureValues()
	if tx.Type() == types.LegacyTxType {
		return (v.Uint64() - 35) % 2
	}
	return v.Uint64()
}

// txDataOf is the tx_datas element of a legacy or dynamic-fee transaction, written from the spec:
// rlp_encode(value, gasPrice, data) and 0x02 ++ rlp_encode(value, max_priority_fee_per_gas,
// max_fee_per_gas, data, access_list).
func txDataOf(t testing.TB, tx *types.Transaction) []byte {
	switch tx.Type() {
	case types.LegacyTxType:
		return mustRLP(t, []any{tx.Value(), tx.GasPrice(), tx.Data()})
	case types.DynamicFeeTxType:
		return append([]byte{2}, mustRLP(t, []any{tx.Value(), tx.GasTipCap(), tx.GasFeeCap(), tx.Data(), tx.AccessList()})...)
	}
	require.FailNow(t, fmt.Sprintf("no tx_data for type %d", tx.Type()))
	return nil
}

// validParts is a span batch of two blocks with one transaction each: the legacy one, then the creation.
// Block 0 changed its origin, block 1 did not: origin_bits = 0b01.
func validParts(t testing.TB) spanParts {
	legacy, creation := testTxs(t)
	return spanParts{
		relTimestamp: uv(10), l1OriginNum: uv(77),
		parentCheck: bytes.Repeat([]byte{0xaa}, 20), l1OriginCheck: bytes.Repeat([]byte{0xbb}, 20),
		blockCount: uv(2), originBits: []byte{0b01}, blockTxCounts: uv(1, 1),
		creationBits: []byte{0b10}, yParityBits: []byte{byte(yParityOf(legacy) | yParityOf(creation)<<1)},
		sigs: append(sigOf(legacy), sigOf(creation)...), tos: common.Address{0x11}.Bytes(),
		datas:  append(txDataOf(t, legacy), txDataOf(t, creation)...),
		nonces: uv(5, 300), gases: uv(21000, 1_000_000), protectedBits: []byte{1},
	}
}

func TestSpanBatchValidParts(t *testing.T) {
	cfg := testConfig()
	legacy, creation := testTxs(t)
	var d derive.BatchData
	require.NoError(t, d.UnmarshalBinary(validParts(t).encode()))
	raw, _ := d.Span()
	require.Equal(t, uint64(2), raw.BlockCount())
	require.Equal(t, uint64(2), raw.TxCount())
	require.Equal(t, uint64(10), raw.RelTimestamp())
	require.Equal(t, uint64(77), raw.L1OriginNum())
	sb, err := derive.DeriveSpanBatch(cfg, raw)
	require.NoError(t, err)
	l, _ := legacy.MarshalBinary()
	c, _ := creation.MarshalBinary()
	require.Equal(t, []derive.SpanBatchElement{
		{Timestamp: cfg.Genesis.L2Time + 10, EpochNum: 77, Transactions: []hexutil.Bytes{l}},
		{Timestamp: cfg.Genesis.L2Time + 10 + cfg.BlockTime, EpochNum: 77, Transactions: []hexutil.Bytes{c}},
	}, sb.Blocks)
	require.True(t, sb.OriginChangedBit)
}

// How Derivation works with Span Batches: timestamps and L1 origins of the blocks.
func TestSpanBatchDeriveBlocks(t *testing.T) {
	tests := []struct {
		name       string
		rel, l1    uint64
		count      uint64
		originBits []byte
		epochs     []uint64
	}{
		{"one block keeps l1_origin_num", 5, 100, 1, []byte{0}, []uint64{100}},
		{"origin_bits[0] does not move the first block", 5, 100, 1, []byte{1}, []uint64{100}},
		{"each set bit after the first advances the origin", 0, 100, 4, []byte{0b1010}, []uint64{98, 99, 99, 100}},
		{"all bits set", 0, 100, 4, []byte{0b1111}, []uint64{97, 98, 99, 100}},
		{"nine blocks span two bitlist bytes", 0, 9, 9, []byte{0b1, 0b11111111}, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"origins wrap modulo 2^64 like op-node", 0, 0, 2, []byte{0b10}, []uint64{1<<64 - 1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counts := make([]uint64, tt.count)
			p := spanParts{
				relTimestamp: uv(tt.rel), l1OriginNum: uv(tt.l1),
				parentCheck: make([]byte, 20), l1OriginCheck: make([]byte, 20),
				blockCount: uv(tt.count), originBits: tt.originBits, blockTxCounts: uv(counts...),
			}
			var d derive.BatchData
			require.NoError(t, d.UnmarshalBinary(p.encode()))
			raw, _ := d.Span()
			sb, err := raw.Derive(3, 1000, testChainID)
			require.NoError(t, err)
			for i, blk := range sb.Blocks {
				require.Equal(t, 1000+tt.rel+3*uint64(i), blk.Timestamp)
				require.Equal(t, tt.epochs[i], blk.EpochNum, "block %d", i)
				require.Empty(t, blk.Transactions)
			}
		})
	}
}

func TestSpanBatchDecodeSpecRules(t *testing.T) {
	overflow := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}
	tests := []struct {
		name string
		edit func(p *spanParts)
		err  error // nil: decodes
	}{
		{"valid", func(p *spanParts) {}, nil},
		{"non-minimal uvarint is accepted", func(p *spanParts) { p.relTimestamp = []byte{0x8a, 0x00} }, nil},
		{"bytes after the batch are ignored", func(p *spanParts) { p.trailing = []byte{1, 2, 3} }, nil},
		{"empty content", func(p *spanParts) { *p = spanParts{} }, derive.ErrSpanBatchTruncated},
		{"rel_timestamp overflows 64 bits", func(p *spanParts) { p.relTimestamp = overflow }, derive.ErrUvarintOverflow},
		{"rel_timestamp longer than 10 bytes", func(p *spanParts) { p.relTimestamp = bytes.Repeat([]byte{0x80}, 11) }, derive.ErrUvarintOverflow},
		{"l1_origin_num overflows 64 bits", func(p *spanParts) { p.l1OriginNum = overflow }, derive.ErrUvarintOverflow},
		{"parent_check truncated", func(p *spanParts) {
			*p = spanParts{relTimestamp: uv(1), l1OriginNum: uv(1), parentCheck: make([]byte, 19)}
		}, derive.ErrSpanBatchTruncated},
		{"l1_origin_check truncated", func(p *spanParts) {
			*p = spanParts{relTimestamp: uv(1), l1OriginNum: uv(1), parentCheck: make([]byte, 20), l1OriginCheck: make([]byte, 3)}
		}, derive.ErrSpanBatchTruncated},
		{"block_count 0: empty span batches are invalid", func(p *spanParts) { p.blockCount = uv(0) }, derive.ErrEmptySpanBatch},
		{"block_count above MAX_SPAN_BATCH_ELEMENT_COUNT", func(p *spanParts) { p.blockCount = uv(derive.MaxSpanBatchElementCount + 1) }, derive.ErrSpanBatchTooLarge},
		{"block_count overflows 64 bits", func(p *spanParts) { p.blockCount = overflow }, derive.ErrUvarintOverflow},
		{"block_count larger than the data", func(p *spanParts) { p.blockCount = uv(derive.MaxSpanBatchElementCount) }, derive.ErrSpanBatchTruncated},
		{"origin_bits with a bit beyond block_count", func(p *spanParts) { p.originBits = []byte{0b101} }, derive.ErrBitlistPadding},
		{"origin_bits missing", func(p *spanParts) {
			*p = spanParts{relTimestamp: uv(1), l1OriginNum: uv(1), parentCheck: make([]byte, 20), l1OriginCheck: make([]byte, 20), blockCount: uv(9), originBits: []byte{0}}
		}, derive.ErrSpanBatchTruncated},
		{"block_tx_count above MAX_SPAN_BATCH_ELEMENT_COUNT", func(p *spanParts) { p.blockTxCounts = uv(derive.MaxSpanBatchElementCount+1, 0) }, derive.ErrSpanBatchTooLarge},
		{"total tx count above MAX_SPAN_BATCH_ELEMENT_COUNT", func(p *spanParts) {
			p.blockTxCounts = uv(derive.MaxSpanBatchElementCount/2+1, derive.MaxSpanBatchElementCount/2)
		}, derive.ErrSpanBatchTooLarge},
		{"total tx count at the bound but no data", func(p *spanParts) {
			p.blockTxCounts = uv(derive.MaxSpanBatchElementCount/2, derive.MaxSpanBatchElementCount/2)
		}, derive.ErrSpanBatchTruncated},
		{"block_tx_counts overflow", func(p *spanParts) { p.blockTxCounts = overflow }, derive.ErrUvarintOverflow},
		{"contract_creation_bits with a padding bit", func(p *spanParts) { p.creationBits = []byte{0b110} }, derive.ErrBitlistPadding},
		{"y_parity_bits with a padding bit", func(p *spanParts) { p.yParityBits[0] |= 0x80 }, derive.ErrBitlistPadding},
		{"tx_sigs truncated", func(p *spanParts) { *p = cut(*p, 64+63) }, derive.ErrSpanBatchTruncated},
		{"tx_tos: without the creation bit a second recipient is read", func(p *spanParts) { p.creationBits = []byte{0} }, errAny},
		{"tx_datas element is an RLP string", func(p *spanParts) { p.datas = append([]byte{0x82, 1, 2}, p.datas...) }, derive.ErrTxDataNotList},
		{"tx_datas type byte without payload", func(p *spanParts) { p.datas = []byte{2}; p.nonces, p.gases, p.protectedBits = nil, nil, nil }, io.ErrUnexpectedEOF},
		{"tx_datas type byte followed by a byte value", func(p *spanParts) { p.datas = append([]byte{2, 0x05}, p.datas...) }, derive.ErrTxDataNotList},
		{"tx_datas list truncated", func(p *spanParts) { p.datas = p.datas[:10]; p.nonces, p.gases, p.protectedBits = nil, nil, nil }, rlp.ErrValueTooLarge},
		{"tx_datas non-canonical list size", func(p *spanParts) { p.datas = append([]byte{0xf8, 0x01, 0x00}, p.datas...) }, rlp.ErrCanonSize},
		{"tx_nonces overflow", func(p *spanParts) { p.nonces = append(uv(5), overflow...) }, derive.ErrUvarintOverflow},
		{"tx_gases truncated", func(p *spanParts) { p.gases = uv(21000); p.protectedBits = nil }, derive.ErrSpanBatchTruncated},
		{"protected_bits missing", func(p *spanParts) { p.protectedBits = nil }, derive.ErrSpanBatchTruncated},
		{"protected_bits with a padding bit", func(p *spanParts) { p.protectedBits = []byte{0b11} }, derive.ErrBitlistPadding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validParts(t)
			tt.edit(&p)
			var d derive.BatchData
			err := d.UnmarshalBinary(p.encode())
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

// cut keeps the first n bytes of the txs section (after the fixed prefix and payload head).
func cut(p spanParts, n int) spanParts {
	txs := bytes.Join([][]byte{p.creationBits, p.yParityBits, p.sigs, p.tos, p.datas, p.nonces, p.gases, p.protectedBits}, nil)
	p.creationBits = txs[:n]
	p.yParityBits, p.sigs, p.tos, p.datas, p.nonces, p.gases, p.protectedBits = nil, nil, nil, nil, nil, nil, nil
	return p
}

// Every strict prefix of a valid span batch fails to decode: no field is optional.
func TestSpanBatchTruncatedEverywhere(t *testing.T) {
	enc := validParts(t).encode()
	for n := 0; n < len(enc); n++ {
		var d derive.BatchData
		require.Error(t, d.UnmarshalBinary(enc[:n]), "prefix of %d bytes", n)
	}
}

// Large declared counts must not allocate before the data is there.
func TestSpanBatchDecodeBoundedAllocation(t *testing.T) {
	p := validParts(t)
	p.blockTxCounts = uv(derive.MaxSpanBatchElementCount/2, derive.MaxSpanBatchElementCount/2)
	// Both bitlists are there; tx_sigs would need 640 MB.
	p.creationBits = make([]byte, derive.MaxSpanBatchElementCount/8)
	p.yParityBits = make([]byte, derive.MaxSpanBatchElementCount/8)
	enc := p.encode()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var d derive.BatchData
	require.ErrorIs(t, d.UnmarshalBinary(enc), derive.ErrSpanBatchTruncated)
	runtime.ReadMemStats(&after)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "allocated for data that is not there")
}

// Transaction-level checks happen when the span batch is derived.
func TestSpanBatchDeriveSpecRules(t *testing.T) {
	cfg := testConfig()
	legacy, creation := testTxs(t)
	legacyData, creationData := txDataOf(t, legacy), txDataOf(t, creation)
	postExec := append([]byte{0x7d}, mustRLP(t, []any{uint64(1), []byte("x")})...)
	tests := []struct {
		name string
		edit func(p *spanParts)
		err  error // nil: derives
	}{
		{"valid", func(p *spanParts) {}, nil},
		{"blob transaction (type 3) is not supported", func(p *spanParts) {
			p.datas = append(legacyData, append([]byte{3}, creationData[1:]...)...)
		}, derive.ErrUnsupportedTxType},
		{"deposit transaction (type 0x7e) is not supported", func(p *spanParts) {
			p.datas = append(legacyData, append([]byte{0x7e}, creationData[1:]...)...)
		}, derive.ErrUnsupportedTxType},
		{"type byte 0 is not legacy", func(p *spanParts) {
			// Counted as legacy for protected_bits (as op-node does), then refused.
			p.datas = append(legacyData, append([]byte{0}, creationData[1:]...)...)
			p.protectedBits = []byte{0b01}
		}, derive.ErrUnsupportedTxType},
		{"legacy tx_data with a missing field", func(p *spanParts) {
			p.datas = append(mustRLP(t, []any{uint64(1), uint64(2)}), creationData...)
		}, errAny},
		{"dynamic-fee tx_data with a non-canonical integer", func(p *spanParts) {
			p.datas = append(legacyData, append([]byte{2}, mustRLP(t, []any{[]byte{0, 1}, uint64(1), uint64(1), []byte{}, []any{}})...)...)
		}, errAny},
		{"set-code transaction without recipient", func(p *spanParts) {
			p.datas = append(legacyData, append([]byte{4}, mustRLP(t, []any{uint64(0), uint64(1), uint64(1), []byte{}, []any{}, []any{}})...)...)
		}, derive.ErrSetCodeNoTo},
		{"post-exec transaction derives to its tx_data", func(p *spanParts) {
			p.datas = append(legacyData, postExec...)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validParts(t)
			tt.edit(&p)
			var d derive.BatchData
			require.NoError(t, d.UnmarshalBinary(p.encode()), "decodes: the check is at derivation")
			raw, _ := d.Span()
			sb, err := derive.DeriveSpanBatch(cfg, raw)
			if tt.err == nil {
				require.NoError(t, err)
				if tt.name == "post-exec transaction derives to its tx_data" {
					require.Equal(t, hexutil.Bytes(postExec), sb.Blocks[1].Transactions[0])
				}
				return
			}
			require.Error(t, err)
			if tt.err != errAny {
				require.ErrorIs(t, err, tt.err)
			}
		})
	}
}

func mustRLP(t testing.TB, v any) []byte {
	b, err := rlp.EncodeToBytes(v)
	require.NoError(t, err)
	return b
}

// The protected bit and y-parity give back v; the chain ID comes from the config.
func TestSpanBatchRecoversSignatures(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	cfg := testConfig()
	for kind := 0; kind < derivetest.PostExec; kind++ {
		for range 10 {
			raw := derivetest.RandomTx(rng, cfg.L2ChainID, kind)
			batch := &derive.SingularBatch{Timestamp: cfg.Genesis.L2Time, Transactions: []hexutil.Bytes{raw}}
			rsb, err := derive.EncodeSpanBatch(cfg, []*derive.SingularBatch{batch}, false)
			require.NoError(t, err)
			sb, err := derive.DeriveSpanBatch(cfg, rsb)
			require.NoError(t, err)
			require.Equal(t, hexutil.Bytes(raw), sb.Blocks[0].Transactions[0])
			var tx types.Transaction
			require.NoError(t, tx.UnmarshalBinary(sb.Blocks[0].Transactions[0]))
			_, err = types.Sender(types.LatestSignerForChainID(cfg.L2ChainID), &tx)
			require.NoError(t, err, "kind %d", kind)
		}
	}
	// Another chain ID gives other transactions (and other senders).
	raw := derivetest.RandomTx(rng, cfg.L2ChainID, derivetest.DynamicFee)
	rsb, err := derive.EncodeSpanBatch(cfg, []*derive.SingularBatch{{Timestamp: cfg.Genesis.L2Time, Transactions: []hexutil.Bytes{raw}}}, false)
	require.NoError(t, err)
	sb, err := rsb.Derive(cfg.BlockTime, cfg.Genesis.L2Time, big.NewInt(5))
	require.NoError(t, err)
	require.NotEqual(t, hexutil.Bytes(raw), sb.Blocks[0].Transactions[0])
}

func TestSpanBatchEncoderRefuses(t *testing.T) {
	cfg := testConfig()
	rng := rand.New(rand.NewSource(5))
	good := func() []*derive.SingularBatch { return randomBatches(rand.New(rand.NewSource(6)), cfg, 3, true) }
	otherChain := derivetest.RandomTx(rng, big.NewInt(5), derivetest.DynamicFee)
	blob, err := types.SignNewTx(derivetest.Key(rng), types.LatestSignerForChainID(cfg.L2ChainID), &types.BlobTx{
		ChainID: uint256.MustFromBig(cfg.L2ChainID), GasFeeCap: uint256.NewInt(1), GasTipCap: uint256.NewInt(1),
		BlobFeeCap: uint256.NewInt(1), BlobHashes: []common.Hash{{1}},
	})
	require.NoError(t, err)
	blobRaw, _ := blob.MarshalBinary()
	tests := []struct {
		name string
		edit func(bs []*derive.SingularBatch) []*derive.SingularBatch
	}{
		{"no batches", func(bs []*derive.SingularBatch) []*derive.SingularBatch { return nil }},
		{"timestamps with a gap", func(bs []*derive.SingularBatch) []*derive.SingularBatch { bs[2].Timestamp += cfg.BlockTime; return bs }},
		{"timestamps out of order", func(bs []*derive.SingularBatch) []*derive.SingularBatch { bs[0], bs[1] = bs[1], bs[0]; return bs }},
		{"first timestamp before genesis", func(bs []*derive.SingularBatch) []*derive.SingularBatch {
			return []*derive.SingularBatch{{Timestamp: cfg.Genesis.L2Time - 1}}
		}},
		{"L1 origin jumps by two", func(bs []*derive.SingularBatch) []*derive.SingularBatch {
			bs[2].EpochNum = bs[1].EpochNum + 2
			return bs
		}},
		{"L1 origin goes back", func(bs []*derive.SingularBatch) []*derive.SingularBatch {
			bs[2].EpochNum = bs[1].EpochNum - 1
			return bs
		}},
		{"transaction for another chain", func(bs []*derive.SingularBatch) []*derive.SingularBatch {
			bs[1].Transactions = append(bs[1].Transactions, otherChain)
			return bs
		}},
		{"blob transaction", func(bs []*derive.SingularBatch) []*derive.SingularBatch {
			bs[1].Transactions = append(bs[1].Transactions, blobRaw)
			return bs
		}},
		{"empty transaction", func(bs []*derive.SingularBatch) []*derive.SingularBatch {
			bs[1].Transactions = append(bs[1].Transactions, hexutil.Bytes{})
			return bs
		}},
		{"post-exec payload that is not one RLP list", func(bs []*derive.SingularBatch) []*derive.SingularBatch {
			bs[1].Transactions = append(bs[1].Transactions, hexutil.Bytes{0x7d, 0x01})
			return bs
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := good()
			bs[0].EpochNum, bs[1].EpochNum, bs[2].EpochNum = 10, 10, 11
			_, err := derive.EncodeSpanBatch(cfg, bs, true)
			require.NoError(t, err)
			_, err = derive.EncodeSpanBatch(cfg, tt.edit(bs), true)
			require.Error(t, err)
		})
	}
}

func FuzzSpanBatch(f *testing.F) {
	cfg := testConfig()
	rng := rand.New(rand.NewSource(7))
	for range 4 {
		raw, err := derive.EncodeSpanBatch(cfg, randomBatches(rng, cfg, 1+rng.Intn(4), true), true)
		require.NoError(f, err)
		enc, err := derive.NewSpanBatchData(raw).MarshalBinary()
		require.NoError(f, err)
		f.Add(enc[1:])
	}
	f.Add(validParts(f).encode()[1:])
	f.Fuzz(func(t *testing.T, content []byte) {
		if len(content) > 1<<16 {
			return
		}
		var d derive.BatchData
		if err := d.UnmarshalBinary(append([]byte{byte(derive.SpanBatchType)}, content...)); err != nil {
			return
		}
		raw, ok := d.Span()
		require.True(t, ok)
		// Re-encoding is canonical; decoding it again gives the same batch.
		enc, err := derive.NewSpanBatchData(raw).MarshalBinary()
		require.NoError(t, err)
		var again derive.BatchData
		require.NoError(t, again.UnmarshalBinary(enc))
		raw2, _ := again.Span()
		enc2, err := derive.NewSpanBatchData(raw2).MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, enc, enc2)

		sb, err := derive.DeriveSpanBatch(cfg, raw)
		if err != nil {
			return
		}
		require.Len(t, sb.Blocks, int(raw.BlockCount()))
		// A derived batch re-encodes (when its transactions are canonical) to one that derives the same.
		raw3, err := sb.ToRaw(cfg.BlockTime, cfg.Genesis.L2Time, cfg.L2ChainID)
		if err != nil {
			return
		}
		sb3, err := derive.DeriveSpanBatch(cfg, raw3)
		require.NoError(t, err)
		require.Equal(t, sb.Blocks, sb3.Blocks)
	})
}

// BenchmarkSpanBatch decodes a span batch of 400 blocks (the batch's bytes as the channel reader hands them
// out) and derives its blocks and transactions.
func BenchmarkSpanBatch(b *testing.B) {
	cfg, batches := benchBatches(b, 400)
	raw, err := derive.EncodeSpanBatch(cfg, batches, false)
	require.NoError(b, err)
	enc, err := derive.NewSpanBatchData(raw).MarshalBinary()
	require.NoError(b, err)
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		b.ReportAllocs()
		for b.Loop() {
			var bd derive.BatchData
			require.NoError(b, bd.UnmarshalBinary(enc))
		}
	})
	b.Run("derive", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		b.ReportAllocs()
		for b.Loop() {
			var bd derive.BatchData
			require.NoError(b, bd.UnmarshalBinary(enc))
			r, _ := bd.Span()
			_, err := derive.DeriveSpanBatch(cfg, r)
			require.NoError(b, err)
		}
	})
}

package l1

import (
	"fmt"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/trie"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/preimage"
)

func newStackTrie() *trie.StackTrie { return trie.NewStackTrie(nil) }

func hintsOf(typ string, h common.Hash) string { return typ + " " + h.Hex() }

func TestHeaderByHash(t *testing.T) {
	b := testBlock(t, 100, 4)
	host := newFakeHost()
	host.putBlock(t, b)
	o := NewOracle(host, host)

	header, err := o.HeaderByHash(b.hash())
	require.NoError(t, err)
	require.Equal(t, b.hash(), header.Hash())
	require.Equal(t, b.header.TxHash, header.TxHash)
	require.Equal(t, *b.header.RequestsHash, *header.RequestsHash)
	require.Equal(t, []string{"l1-block-header " + b.hash().Hex()}, host.hints)
	require.Equal(t, [][32]byte{preimage.Keccak256Key(b.hash()).PreimageKey()}, host.gets)

	// Cached: no hint, no request.
	host.reset()
	again, err := o.HeaderByHash(b.hash())
	require.NoError(t, err)
	require.Same(t, header, again)
	require.Empty(t, host.hints)
	require.Empty(t, host.gets)
}

func TestTransactionsByHash(t *testing.T) {
	for _, n := range []int{0, 1, 4, 9, 130} {
		b := testBlock(t, 100, n)
		host := newFakeHost()
		host.putBlock(t, b)
		o := NewOracle(host, host)

		header, txs, err := o.TransactionsByHash(b.hash())
		require.NoError(t, err)
		require.Equal(t, b.hash(), header.Hash())
		require.Len(t, txs, n)
		for i, tx := range txs {
			require.Equal(t, b.txs[i].Hash(), tx.Hash(), "tx %d", i)
			require.Equal(t, b.txs[i].Type(), tx.Type(), "tx %d", i)
		}
		require.Equal(t, []string{
			hintsOf(preimage.HintL1BlockHeader, b.hash()),
			hintsOf(preimage.HintL1Transactions, b.hash()),
		}, host.hints)

		host.reset()
		_, again, err := o.TransactionsByHash(b.hash())
		require.NoError(t, err)
		require.Equal(t, txs, again)
		require.Empty(t, host.hints)
		require.Empty(t, host.gets)
	}
}

func TestReceiptsByHash(t *testing.T) {
	b := testBlock(t, 12345, 9)
	host := newFakeHost()
	host.putBlock(t, b)
	o := NewOracle(host, host)

	header, receipts, err := o.ReceiptsByHash(b.hash())
	require.NoError(t, err)
	require.Equal(t, b.hash(), header.Hash())
	require.Equal(t, []string{
		hintsOf(preimage.HintL1BlockHeader, b.hash()),
		hintsOf(preimage.HintL1Transactions, b.hash()),
		hintsOf(preimage.HintL1Receipts, b.hash()),
	}, host.hints)

	require.Len(t, receipts, len(b.receipts))
	var prevGas uint64
	logIndex := uint(0)
	for i, r := range receipts {
		want := b.receipts[i]
		require.Equal(t, want.Type, r.Type)
		require.Equal(t, want.Status, r.Status)
		require.Equal(t, want.CumulativeGasUsed, r.CumulativeGasUsed)
		require.Equal(t, want.Bloom, r.Bloom)
		require.Equal(t, want.CumulativeGasUsed-prevGas, r.GasUsed)
		prevGas = want.CumulativeGasUsed
		require.Equal(t, b.txs[i].Hash(), r.TxHash)
		require.Equal(t, b.hash(), r.BlockHash)
		require.Equal(t, uint64(12345), r.BlockNumber.Uint64())
		require.Equal(t, uint(i), r.TransactionIndex)
		require.Len(t, r.Logs, len(want.Logs))
		for j, l := range r.Logs {
			require.Equal(t, want.Logs[j].Address, l.Address)
			require.Equal(t, want.Logs[j].Topics, l.Topics)
			require.Equal(t, want.Logs[j].Data, l.Data)
			require.Equal(t, uint64(12345), l.BlockNumber)
			require.Equal(t, b.hash(), l.BlockHash)
			require.Equal(t, b.header.Time, l.BlockTimestamp)
			require.Equal(t, r.TxHash, l.TxHash)
			require.Equal(t, uint(i), l.TxIndex)
			require.Equal(t, logIndex, l.Index)
			logIndex++
		}
	}
	require.NotZero(t, logIndex, "the block has logs")
	// The decoded receipts commit to the header's root.
	require.Equal(t, header.ReceiptHash, types.DeriveSha(receipts, newStackTrie()))

	host.reset()
	_, again, err := o.ReceiptsByHash(b.hash())
	require.NoError(t, err)
	require.Equal(t, receipts, again)
	require.Empty(t, host.hints)
	require.Empty(t, host.gets)
}

func TestReceiptsAfterTransactionsHintOnlyReceipts(t *testing.T) {
	b := testBlock(t, 7, 5)
	host := newFakeHost()
	host.putBlock(t, b)
	o := NewOracle(host, host)

	_, _, err := o.TransactionsByHash(b.hash())
	require.NoError(t, err)
	host.reset()
	_, _, err = o.ReceiptsByHash(b.hash())
	require.NoError(t, err)
	require.Equal(t, []string{hintsOf(preimage.HintL1Receipts, b.hash())}, host.hints)
}

func TestL1Errors(t *testing.T) {
	b := testBlock(t, 1, 6)
	other := testBlock(t, 2, 1)
	headerKey := preimage.Keccak256Key(b.hash()).PreimageKey()
	otherRLP, err := rlp.EncodeToBytes(other.header)
	require.NoError(t, err)

	tests := []struct {
		name    string
		tamper  func(h *fakeHost)
		read    func(o *Oracle) error
		wantErr string
	}{
		{
			name:    "missing header",
			tamper:  func(h *fakeHost) { delete(h.store, headerKey) },
			read:    func(o *Oracle) error { _, err := o.HeaderByHash(b.hash()); return err },
			wantErr: common.Bytes2Hex(headerKey[:]),
		},
		{
			name:    "header that is not rlp",
			tamper:  func(h *fakeHost) { h.lies[headerKey] = []byte{0x01, 0x02} },
			read:    func(o *Oracle) error { _, err := o.HeaderByHash(b.hash()); return err },
			wantErr: "decode",
		},
		{
			name:    "another block's header",
			tamper:  func(h *fakeHost) { h.lies[headerKey] = otherRLP },
			read:    func(o *Oracle) error { _, err := o.HeaderByHash(b.hash()); return err },
			wantErr: "decodes to a header with hash " + other.hash().Hex(),
		},
		{
			name: "missing transaction trie root",
			tamper: func(h *fakeHost) {
				delete(h.store, preimage.Keccak256Key(b.header.TxHash).PreimageKey())
			},
			read:    func(o *Oracle) error { _, _, err := o.TransactionsByHash(b.hash()); return err },
			wantErr: fmt.Sprintf("%x", preimage.Keccak256Key(b.header.TxHash).PreimageKey()),
		},
		{
			name: "missing receipt trie root",
			tamper: func(h *fakeHost) {
				delete(h.store, preimage.Keccak256Key(b.header.ReceiptHash).PreimageKey())
			},
			read:    func(o *Oracle) error { _, _, err := o.ReceiptsByHash(b.hash()); return err },
			wantErr: "l1 receipts of " + b.hash().Hex(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := newFakeHost()
			host.putBlock(t, b)
			tt.tamper(host)
			err := tt.read(NewOracle(host, host))
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestReceiptsMustMatchTransactions(t *testing.T) {
	// A block whose receipt trie holds one receipt fewer than it has transactions.
	b := testBlock(t, 3, 4)
	short := &block{header: types.CopyHeader(b.header), txs: b.txs, receipts: b.receipts[:3]}
	short.header.ReceiptHash = types.DeriveSha(short.receipts, newStackTrie())
	host := newFakeHost()
	host.putBlock(t, short)
	_, _, err := NewOracle(host, host).ReceiptsByHash(short.hash())
	require.ErrorContains(t, err, "3 receipts for 4 transactions")

	// One whose receipt types do not match the transactions'.
	swapped := &block{header: types.CopyHeader(b.header), txs: b.txs,
		receipts: types.Receipts{b.receipts[1], b.receipts[0], b.receipts[2], b.receipts[3]}}
	swapped.header.ReceiptHash = types.DeriveSha(swapped.receipts, newStackTrie())
	host = newFakeHost()
	host.putBlock(t, swapped)
	_, _, err = NewOracle(host, host).ReceiptsByHash(swapped.hash())
	require.ErrorContains(t, err, "receipt 0 has type 1, its transaction 0")
}

func TestHeaderHintGolden(t *testing.T) {
	host := newFakeHost()
	_, err := NewOracle(host, host).HeaderByHash(common.HexToHash("0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"))
	require.ErrorContains(t, err, "no preimage for key 02112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
	require.Equal(t, []string{"l1-block-header 0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}, host.hints)
}

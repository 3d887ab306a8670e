package layout

import (
	"bytes"
	"fmt"

	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
)

// Block lays out a block the caller built or checked: its transactions as a list trie checked against the
// header's root (List), then its header (Header), last: a host that finds a block's header stored finds
// its transactions too.
func Block(put Put, b *types.Block) error {
	txs, err := TransactionValues(b.Transactions())
	if err != nil {
		return fmt.Errorf("transactions of block %d (%s): %w", b.NumberU64(), b.Hash(), err)
	}
	if err := List(put, fmt.Sprintf("transactions of block %d (%s)", b.NumberU64(), b.Hash()), txs, b.TxHash()); err != nil {
		return err
	}
	enc, err := rlp.EncodeToBytes(b.Header())
	if err != nil {
		return fmt.Errorf("header of block %d: %w", b.NumberU64(), err)
	}
	Header(put, b.Hash(), enc)
	return nil
}

// Receipts lays out the receipts of the block with header h as a list trie checked against the header's
// receipt root (List), each in the encoding that trie holds (ReceiptValues).
func Receipts(put Put, h *types.Header, rs types.Receipts) error {
	return List(put, fmt.Sprintf("receipts of block %d (%s)", h.Number, h.Hash()), ReceiptValues(rs), h.ReceiptHash)
}

// TransactionValues encodes transactions as a transaction trie holds them (the canonical encoding,
// types.Transaction.MarshalBinary).
func TransactionValues(txs types.Transactions) ([][]byte, error) {
	out := make([][]byte, len(txs))
	for i, tx := range txs {
		enc, err := tx.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("transaction %d: %w", i, err)
		}
		out[i] = enc
	}
	return out, nil
}

// ReceiptValues encodes receipts as a receipt trie holds them (types.Receipts.EncodeIndex: the consensus
// encoding, where before Canyon a deposit receipt has no deposit nonce). A receipt of a type op-geth
// cannot encode comes out as its type byte alone, which no header's receipt root commits to.
func ReceiptValues(rs types.Receipts) [][]byte {
	out := make([][]byte, len(rs))
	for i := range rs {
		var buf bytes.Buffer
		rs.EncodeIndex(i, &buf)
		out[i] = buf.Bytes()
	}
	return out
}

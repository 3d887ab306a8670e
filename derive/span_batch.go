package derive

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/faultproof/faultproof/rollup"
)

// Errors of span batch decoding.
var (
	ErrEmptySpanBatch     = errors.New("span batch has no blocks")
	ErrSpanBatchTooLarge  = errors.New("span batch exceeds MAX_SPAN_BATCH_ELEMENT_COUNT")
	errSpanBatchNoChainID = errors.New("span batch derivation needs the L2 chain ID")
)

// RawSpanBatch is a span batch (batch type 1, delta/span-batches.md) in its wire form:
//
//	prefix  = rel_timestamp ++ l1_origin_num ++ parent_check ++ l1_origin_check
//	payload = block_count ++ origin_bits ++ block_tx_counts ++ txs
//
// with uvarint numbers, 20-byte checks, standard bitlists and the column-wise txs section. Decoding checks
// the format and the MAX_SPAN_BATCH_ELEMENT_COUNT bounds (blocks, transactions per block and in total);
// Derive checks the transactions and turns the batch into its blocks. Build one to encode with
// SpanBatch.ToRaw.
type RawSpanBatch struct {
	relTimestamp  uint64
	l1OriginNum   uint64
	parentCheck   [20]byte
	l1OriginCheck [20]byte

	blockCount    uint64
	originBits    spanBitlist
	blockTxCounts []uint64
	txs           *spanBatchTxs
}

// RelTimestamp is the first block's timestamp minus the L2 genesis timestamp.
func (b *RawSpanBatch) RelTimestamp() uint64 { return b.relTimestamp }

// L1OriginNum is the last block's L1 origin number.
func (b *RawSpanBatch) L1OriginNum() uint64 { return b.l1OriginNum }

// ParentCheck is the first 20 bytes of the first block's parent hash.
func (b *RawSpanBatch) ParentCheck() [20]byte { return b.parentCheck }

// L1OriginCheck is the first 20 bytes of the last block's L1 origin hash.
func (b *RawSpanBatch) L1OriginCheck() [20]byte { return b.l1OriginCheck }

// BlockCount is the number of L2 blocks.
func (b *RawSpanBatch) BlockCount() uint64 { return b.blockCount }

// TxCount is the number of transactions of all blocks.
func (b *RawSpanBatch) TxCount() uint64 { return b.txs.count }

// decode reads prefix ++ payload from data (the bytes after the batch type). Bytes after the txs section
// are ignored.
func (b *RawSpanBatch) decode(data []byte) error {
	c := &spanCursor{buf: data}
	var err error
	// prefix
	if b.relTimestamp, err = c.uvarint("rel_timestamp"); err != nil {
		return err
	}
	if b.l1OriginNum, err = c.uvarint("l1_origin_num"); err != nil {
		return err
	}
	check, err := c.take(20, "parent_check")
	if err != nil {
		return err
	}
	copy(b.parentCheck[:], check)
	if check, err = c.take(20, "l1_origin_check"); err != nil {
		return err
	}
	copy(b.l1OriginCheck[:], check)

	// payload
	if b.blockCount, err = c.uvarint("block_count"); err != nil {
		return err
	}
	if b.blockCount > MaxSpanBatchElementCount {
		return fmt.Errorf("%w: %d blocks", ErrSpanBatchTooLarge, b.blockCount)
	}
	if b.blockCount == 0 {
		return ErrEmptySpanBatch
	}
	if b.originBits, err = readSpanBitlist(c, b.blockCount, "origin_bits"); err != nil {
		return err
	}
	b.blockTxCounts = make([]uint64, 0, c.minAlloc(b.blockCount))
	total := uint64(0)
	for i := uint64(0); i < b.blockCount; i++ {
		n, err := c.uvarint("block_tx_counts")
		if err != nil {
			return err
		}
		if n > MaxSpanBatchElementCount {
			return fmt.Errorf("%w: %d transactions in block %d", ErrSpanBatchTooLarge, n, i)
		}
		b.blockTxCounts = append(b.blockTxCounts, n)
		total += n // at most 10^7 blocks of at most 10^7 each: cannot overflow
	}
	if total > MaxSpanBatchElementCount {
		return fmt.Errorf("%w: %d transactions", ErrSpanBatchTooLarge, total)
	}
	b.txs = new(spanBatchTxs)
	return b.txs.decode(c, total)
}

func (b *RawSpanBatch) encode(buf *bytes.Buffer) error {
	if b.txs == nil || b.blockCount == 0 || uint64(len(b.blockTxCounts)) != b.blockCount ||
		b.originBits.n != b.blockCount {
		return errors.New("span batch is not built")
	}
	buf.Write(binary.AppendUvarint(nil, b.relTimestamp))
	buf.Write(binary.AppendUvarint(nil, b.l1OriginNum))
	buf.Write(b.parentCheck[:])
	buf.Write(b.l1OriginCheck[:])
	buf.Write(binary.AppendUvarint(nil, b.blockCount))
	buf.Write(b.originBits.bytes)
	for _, n := range b.blockTxCounts {
		buf.Write(binary.AppendUvarint(nil, n))
	}
	b.txs.encode(buf)
	return nil
}

// DeriveSpanBatch derives a span batch's blocks with the chain's block time, genesis time and chain ID.
func DeriveSpanBatch(cfg *rollup.Config, b *RawSpanBatch) (*SpanBatch, error) {
	return b.Derive(cfg.BlockTime, cfg.Genesis.L2Time, cfg.L2ChainID)
}

// Derive computes the blocks of the span (delta/span-batches.md "How Derivation works with Span Batches"):
//
//   - block i has timestamp genesisTimestamp + rel_timestamp + i*blockTime;
//   - the last block's L1 origin is l1_origin_num, and block i's origin is block i-1's plus origin_bits[i],
//     so the first block's is l1_origin_num - sum(origin_bits[1:]);
//   - the transactions are rebuilt from the columns, with v recovered from y_parity, protected_bits and
//     chainID.
//
// Numbers wrap modulo 2^64, as in op-node; the batch queue's checks then see the wrapped values. An error
// means the batch is invalid: a tx_data of an unsupported type or that does not decode as its type, or a
// set-code transaction without recipient. Such a batch is dropped alone: unlike a batch that fails to
// decode, it does not end the reading of its channel (op-node's channel reader carries on with the next
// batch).
func (b *RawSpanBatch) Derive(blockTime, genesisTimestamp uint64, chainID *big.Int) (*SpanBatch, error) {
	if b.blockCount == 0 || b.txs == nil {
		return nil, ErrEmptySpanBatch
	}
	if chainID == nil {
		return nil, errSpanBatchNoChainID
	}
	txs, err := b.txs.fullTxs(chainID)
	if err != nil {
		return nil, err
	}
	out := &SpanBatch{
		ParentCheck:      b.parentCheck,
		L1OriginCheck:    b.l1OriginCheck,
		OriginChangedBit: b.originBits.bit(0),
		Blocks:           make([]SpanBatchElement, b.blockCount),
	}
	// First block's origin: l1_origin_num minus the set origin bits after bit 0.
	epoch := b.l1OriginNum - b.originBits.count()
	if b.originBits.bit(0) {
		epoch++
	}
	next := 0
	for i := range out.Blocks {
		if i > 0 && b.originBits.bit(uint64(i)) {
			epoch++
		}
		n := int(b.blockTxCounts[i])
		blk := &out.Blocks[i]
		blk.Timestamp = genesisTimestamp + b.relTimestamp + uint64(i)*blockTime
		blk.EpochNum = epoch
		if n > 0 {
			blk.Transactions = make([]hexutil.Bytes, n)
			for j := range n {
				blk.Transactions[j] = txs[next+j]
			}
			next += n
		}
	}
	return out, nil
}

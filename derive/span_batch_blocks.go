package derive

import (
	"bytes"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/faultproof/faultproof/rollup"
)

// SpanBatch is a span batch in derived form: its blocks with timestamps, L1 origin numbers and full signed
// transactions. A span batch carries neither the parent hash of every block nor the L1 origin hashes, only
// the two truncated checks; the batch queue resolves them against the L1 and L2 chains.
type SpanBatch struct {
	ParentCheck   [20]byte // span_start.parent_hash[:20]
	L1OriginCheck [20]byte // span_end.l1_origin.hash[:20]
	// OriginChangedBit is origin_bits[0]: whether the first block changed its L1 origin from its parent's.
	// The other origin bits follow from the blocks' epoch numbers.
	OriginChangedBit bool
	Blocks           []SpanBatchElement
}

// SpanBatchElement is one block of a span batch.
type SpanBatchElement struct {
	Timestamp    uint64
	EpochNum     uint64 // L1 origin number
	Transactions []hexutil.Bytes
}

// Timestamp is the first block's timestamp (span_start.timestamp).
func (b *SpanBatch) Timestamp() uint64 { return b.Blocks[0].Timestamp }

// LastTimestamp is the last block's timestamp (span_end.timestamp).
func (b *SpanBatch) LastTimestamp() uint64 { return b.Blocks[len(b.Blocks)-1].Timestamp }

// StartEpochNum is the first block's L1 origin number.
func (b *SpanBatch) StartEpochNum() uint64 { return b.Blocks[0].EpochNum }

// LastEpochNum is the last block's L1 origin number (l1_origin_num).
func (b *SpanBatch) LastEpochNum() uint64 { return b.Blocks[len(b.Blocks)-1].EpochNum }

// OriginBit is origin_bits[i]: whether block i changed its L1 origin.
func (b *SpanBatch) OriginBit(i int) bool {
	if i == 0 {
		return b.OriginChangedBit
	}
	return b.Blocks[i].EpochNum != b.Blocks[i-1].EpochNum
}

// CheckParentHash reports whether h (the hash of the block before the span) matches parent_check.
func (b *SpanBatch) CheckParentHash(h common.Hash) bool { return bytes.Equal(b.ParentCheck[:], h[:20]) }

// CheckOriginHash reports whether h (the hash of the last block's L1 origin) matches l1_origin_check.
func (b *SpanBatch) CheckOriginHash(h common.Hash) bool {
	return bytes.Equal(b.L1OriginCheck[:], h[:20])
}

// NewSpanBatch groups consecutive singular batches into a span batch, for a batcher. originChanged says
// whether the first batch is the first L2 block of its epoch (its sequence number is 0). Timestamps and
// origins are checked by ToRaw.
func NewSpanBatch(batches []*SingularBatch, originChanged bool) (*SpanBatch, error) {
	if len(batches) == 0 {
		return nil, ErrEmptySpanBatch
	}
	out := &SpanBatch{OriginChangedBit: originChanged, Blocks: make([]SpanBatchElement, len(batches))}
	copy(out.ParentCheck[:], batches[0].ParentHash[:20])
	copy(out.L1OriginCheck[:], batches[len(batches)-1].EpochHash[:20])
	for i, sb := range batches {
		out.Blocks[i] = SpanBatchElement{Timestamp: sb.Timestamp, EpochNum: sb.EpochNum, Transactions: sb.Transactions}
	}
	return out, nil
}

// EncodeSpanBatch builds the span batch of consecutive singular batches for the chain cfg (see NewSpanBatch
// and ToRaw).
func EncodeSpanBatch(cfg *rollup.Config, batches []*SingularBatch, originChanged bool) (*RawSpanBatch, error) {
	sb, err := NewSpanBatch(batches, originChanged)
	if err != nil {
		return nil, err
	}
	return sb.ToRaw(cfg.BlockTime, cfg.Genesis.L2Time, cfg.L2ChainID)
}

// ToRaw encodes the span batch. Only what the format can represent is accepted, so the result derives back
// to the same blocks: one block or more, consecutive timestamps (blockTime apart) from genesisTimestamp on,
// L1 origins that stay or advance by one from block to block, at most MAX_SPAN_BATCH_ELEMENT_COUNT blocks
// and transactions, and transactions signed for chainID (legacy, EIP-2930, EIP-1559 or EIP-7702) or
// op-node post-exec transactions.
func (b *SpanBatch) ToRaw(blockTime, genesisTimestamp uint64, chainID *big.Int) (*RawSpanBatch, error) {
	n := uint64(len(b.Blocks))
	if n == 0 {
		return nil, ErrEmptySpanBatch
	}
	if n > MaxSpanBatchElementCount {
		return nil, fmt.Errorf("%w: %d blocks", ErrSpanBatchTooLarge, n)
	}
	if chainID == nil {
		return nil, errSpanBatchNoChainID
	}
	first := b.Blocks[0]
	if first.Timestamp < genesisTimestamp {
		return nil, fmt.Errorf("first block timestamp %d is before genesis %d", first.Timestamp, genesisTimestamp)
	}
	raw := &RawSpanBatch{
		relTimestamp:  first.Timestamp - genesisTimestamp,
		l1OriginNum:   b.Blocks[n-1].EpochNum,
		parentCheck:   b.ParentCheck,
		l1OriginCheck: b.L1OriginCheck,
		blockCount:    n,
		originBits:    newSpanBitlist(n),
		blockTxCounts: make([]uint64, n),
	}
	if b.OriginChangedBit {
		raw.originBits.set(0)
	}
	var txs spanTxsBuilder
	total := uint64(0)
	for i, blk := range b.Blocks {
		if i > 0 {
			prev := b.Blocks[i-1]
			if blk.Timestamp != prev.Timestamp+blockTime || blk.Timestamp < prev.Timestamp {
				return nil, fmt.Errorf("block %d: timestamp %d does not follow %d by the block time %d",
					i, blk.Timestamp, prev.Timestamp, blockTime)
			}
			switch blk.EpochNum {
			case prev.EpochNum:
			case prev.EpochNum + 1:
				raw.originBits.set(uint64(i))
			default:
				return nil, fmt.Errorf("block %d: L1 origin %d does not follow %d", i, blk.EpochNum, prev.EpochNum)
			}
		}
		raw.blockTxCounts[i] = uint64(len(blk.Transactions))
		total += raw.blockTxCounts[i]
		if total > MaxSpanBatchElementCount {
			return nil, fmt.Errorf("%w: more than %d transactions", ErrSpanBatchTooLarge, total)
		}
		for j, tx := range blk.Transactions {
			if err := txs.add(tx, chainID); err != nil {
				return nil, fmt.Errorf("block %d transaction %d: %w", i, j, err)
			}
		}
	}
	raw.txs = txs.finish()
	return raw, nil
}

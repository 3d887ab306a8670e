package derive

import (
	"bytes"
	"fmt"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/faultproof/faultproof/rollup"
)

// BatchValidity is the verdict of the batch checks on a batch for the next L2 block (specs/protocol/
// derivation.md "Batch Queue", delta/span-batches.md "Batch Queue", holocene/derivation.md "Batch Queue").
type BatchValidity int

const (
	// BatchDrop: the batch is invalid, now and later (unless L1 reorgs); it is discarded.
	BatchDrop BatchValidity = iota
	// BatchAccept: the batch is valid for the next L2 block.
	BatchAccept
	// BatchUndecided: the L1 blocks known so far do not decide; check again with more.
	BatchUndecided
	// BatchFuture (before Holocene): the batch may be valid later, once the safe head has caught up.
	BatchFuture
	// BatchPast (Holocene): the batch holds no L2 block after the safe head; it is discarded silently,
	// without dropping the rest of its channel.
	BatchPast
)

func (v BatchValidity) String() string {
	switch v {
	case BatchDrop:
		return "drop"
	case BatchAccept:
		return "accept"
	case BatchUndecided:
		return "undecided"
	case BatchFuture:
		return "future"
	case BatchPast:
		return "past"
	}
	return fmt.Sprintf("batch-validity(%d)", int(v))
}

// BatchRule names the rule that decided a verdict, for logs and tests.
type BatchRule string

// The rules, in the words of the specs. The verdicts are op-node v1.19.6's: where they differ from the
// specs' (and where the specs say nothing), the rule's comment says so with "op-node:". The spec texts
// that op-node does not follow are listed at RuleMisalignedTimestamp, RuleSpanNoParent, the
// RuleSpanOrigin* rules, bvCheckTransactions (types > 2), bvSpanBlocks (activation blocks, first-block
// drift exemption).
const (
	RuleValid BatchRule = "valid"

	// Inputs.
	RuleNoBatch    BatchRule = "no batch"
	RuleEmptySpan  BatchRule = "span batch has no blocks"
	RuleNoL1Blocks BatchRule = "no L1 blocks" // op-node: undecided; the stages never pass none

	// Timestamps against the safe head.
	RuleFutureTimestamp BatchRule = "batch.timestamp > next_timestamp"  // future; Holocene: drop
	RuleOldTimestamp    BatchRule = "batch.timestamp < next_timestamp"  // drop
	RulePastTimestamp   BatchRule = "batch.timestamp <= safe_head.time" // Holocene: past
	// RuleMisalignedTimestamp (Holocene): safe_head.time < batch.timestamp < next_timestamp. The specs make
	// only timestamps at or before the safe head's past, so this would stay a drop (which flushes the
	// channel). op-node: past, like every timestamp before next_timestamp; we follow op-node.
	RuleMisalignedTimestamp BatchRule = "safe_head.time < batch.timestamp < next_timestamp"
	RuleSpanNoNewBlock      BatchRule = "span_end.timestamp < next_timestamp" // drop; Holocene: past
	RuleSpanMisaligned      BatchRule = "span_start.timestamp not aligned with the safe chain"
	// RuleSpanNoParent: the span starts at the L2 genesis (rel_timestamp 0), so prev_l2_block does not exist.
	// The specs drop it. op-node: it asks its L2 source for block genesis-1 (underflowing at genesis 0),
	// fails, and answers undecided; we follow op-node. Before Holocene the undecided batch stays first in
	// the queue and stalls it for good (op-program then reaches the L1 head on the safe head it has); from
	// Holocene the stage skips it.
	RuleSpanNoParent BatchRule = "no prev_l2_block in the safe chain"

	// Parent.
	RuleParentHash  BatchRule = "batch.parent_hash != safe_l2_head.hash"
	RuleParentCheck BatchRule = "batch.parent_check != prev_l2_block.hash[:20]"

	// Sequencing window and L1 origin.
	RuleSeqWindow        BatchRule = "epoch_num + sequence_window_size < inclusion_block_number"
	RuleEpochTooOld      BatchRule = "epoch_num < epoch.number"
	RuleNextEpochUnknown BatchRule = "epoch_num == epoch.number+1, next_epoch unknown" // undecided
	RuleEpochTooNew      BatchRule = "epoch_num > epoch.number+1"
	RuleEpochHash        BatchRule = "batch.epoch_hash != batch_origin.hash"
	RuleSpanBeforeDelta  BatchRule = "batch_origin.timestamp < delta_time"
	RuleSpanOriginCheck  BatchRule = "l1_origin_check does not match the L1 chain at end_epoch_num"
	// The L1 origin of the span's last block (end_epoch_num) is not among the L1 blocks the stage holds, the
	// only ones whose hashes it has to check l1_origin_check. op-node: undecided in every case (see
	// RuleSpanNoParent for what the stages do with it); we follow op-node. The specs would drop the span
	// where the answer is already known, as the rules' comments say.
	//
	// RuleSpanOriginUnknown: end_epoch_num is past the known L1 blocks. Specs: undecided before Holocene;
	// from Holocene the origin is "not part of the canonical L1 chain": drop.
	RuleSpanOriginUnknown BatchRule = "end_epoch_num after the known L1 blocks"
	// RuleSpanOriginTooOld: end_epoch_num is older than the safe head's L1 origin, so the last block, which
	// is after the safe head, goes back in L1 origin. Specs: drop.
	RuleSpanOriginTooOld BatchRule = "end_epoch_num < safe_head.l1_origin.number"
	// RuleSpanOriginPopped: end_epoch_num is the safe head's L1 origin after the stage moved past it (all
	// empty batches of that epoch generated). Not reachable through the stages (such a batch is outside its
	// sequencing window).
	RuleSpanOriginPopped BatchRule = "end_epoch_num no longer buffered"
	// RuleSpanOriginPoppedHash: as RuleSpanOriginPopped, and l1_origin_check does not match the safe head's
	// L1 origin hash, which is known. Specs: drop.
	RuleSpanOriginPoppedHash BatchRule = "l1_origin_check does not match the safe head's L1 origin"
	RuleSpanEpochTooNew      BatchRule = "start_epoch_num > prev_l2_block.l1_origin.number + 1"
	RuleSpanEpochTooOld      BatchRule = "start_epoch_num < prev_l2_block.l1_origin.number"

	// Per L2 block.
	RuleBlockEpochTooOld      BatchRule = "block l1_origin.number < safe_head.l1_origin.number"
	RuleBlockOriginNotFound   BatchRule = "block L1 origin not among the known L1 blocks" // op-node: drop
	RuleTimestampBeforeOrigin BatchRule = "timestamp < batch_origin.time"
	RuleActivationBlockTxs    BatchRule = "user transactions in a fork activation block" // op-node: singular batches only
	RuleDriftNextEpochUnknown BatchRule = "drift exceeded, empty, next_epoch unknown"    // undecided
	RuleDriftCouldAdoptNext   BatchRule = "drift exceeded, empty, timestamp >= next_epoch.time"
	RuleDriftWithTransactions BatchRule = "drift exceeded with transactions"
	RuleEmptyTransaction      BatchRule = "empty transaction"
	RuleDepositTransaction    BatchRule = "deposit transaction"
	RuleSetCodeBeforeIsthmus  BatchRule = "set-code transaction before Isthmus"
	RulePostExecBeforeLagoon  BatchRule = "post-exec transaction before Lagoon" // op-node (SDM)
	RuleOverlapTxCount        BatchRule = "overlapped block's transaction count differs"
	RuleOverlapTransaction    BatchRule = "overlapped block's transaction differs"
	RuleOverlapOrigin         BatchRule = "overlapped block's L1 origin differs"
)

// BatchVerdict is a validity with the rule that decided it.
type BatchVerdict struct {
	Validity BatchValidity
	Rule     BatchRule
}

func (v BatchVerdict) String() string { return fmt.Sprintf("%s (%s)", v.Validity, v.Rule) }

func bvVerdict(v BatchValidity, r BatchRule) BatchVerdict { return BatchVerdict{Validity: v, Rule: r} }

// CheckSingularBatch decides whether batch, first fully read in L1 block inclusionBlock, is the batch of
// the L2 block after l2SafeHead. l1Blocks are the consecutive L1 blocks the batch stage knows, starting at
// the epoch of the next L2 block: the safe head's L1 origin, or the block after it once every empty batch
// the safe head's epoch could take has been generated. A single L1 block may leave the verdict undecided.
//
// The rules are those of derivation.md "Batch Queue", in their order, with Holocene's changes when the
// inclusion block is at or after Holocene (future batches are dropped; batches at or before the safe head
// are past) and the fork activation block rule of Jovian (also enforced by op-node at Karst and at Lagoon,
// op-node's interop). The verdict carries the rule that decided it.
func CheckSingularBatch(cfg *rollup.Config, l1Blocks []L1BlockRef, l2SafeHead L2BlockRef, batch *SingularBatch,
	inclusionBlock L1BlockRef) BatchVerdict {
	if batch == nil {
		return bvVerdict(BatchDrop, RuleNoBatch)
	}
	if len(l1Blocks) == 0 {
		return bvVerdict(BatchUndecided, RuleNoL1Blocks)
	}
	epoch := l1Blocks[0]
	holocene := cfg.IsHolocene(inclusionBlock.Time)
	next := l2SafeHead.Time + cfg.BlockTime

	if batch.Timestamp > next {
		if holocene {
			return bvVerdict(BatchDrop, RuleFutureTimestamp)
		}
		return bvVerdict(BatchFuture, RuleFutureTimestamp)
	}
	if batch.Timestamp < next {
		// op-node: from Holocene every timestamp before the next one is past (see RuleMisalignedTimestamp).
		if holocene {
			if batch.Timestamp <= l2SafeHead.Time {
				return bvVerdict(BatchPast, RulePastTimestamp)
			}
			return bvVerdict(BatchPast, RuleMisalignedTimestamp)
		}
		return bvVerdict(BatchDrop, RuleOldTimestamp)
	}
	if batch.ParentHash != l2SafeHead.Hash {
		return bvVerdict(BatchDrop, RuleParentHash)
	}
	if bvWindowExpired(batch.EpochNum, cfg.SeqWindowSize, inclusionBlock.Number) {
		return bvVerdict(BatchDrop, RuleSeqWindow)
	}

	origin := epoch
	switch {
	case batch.EpochNum < epoch.Number:
		return bvVerdict(BatchDrop, RuleEpochTooOld)
	case batch.EpochNum == epoch.Number:
	case batch.EpochNum == epoch.Number+1:
		if len(l1Blocks) < 2 {
			return bvVerdict(BatchUndecided, RuleNextEpochUnknown)
		}
		origin = l1Blocks[1]
	default:
		return bvVerdict(BatchDrop, RuleEpochTooNew)
	}
	if batch.EpochHash != origin.Hash {
		return bvVerdict(BatchDrop, RuleEpochHash)
	}
	if batch.Timestamp < origin.Time {
		return bvVerdict(BatchDrop, RuleTimestampBeforeOrigin)
	}
	if len(batch.Transactions) > 0 && bvActivationBlockNoUserTxs(cfg, batch.Timestamp) {
		return bvVerdict(BatchDrop, RuleActivationBlockTxs)
	}
	if batch.Timestamp > origin.Time+cfg.MaxSequencerDriftAt(origin.Time) {
		if len(batch.Transactions) > 0 {
			return bvVerdict(BatchDrop, RuleDriftWithTransactions)
		}
		// An empty batch may exceed the drift to keep L2 time >= L1 time, if it could not have adopted
		// the next L1 origin. A batch that adopts the next origin is always allowed to.
		if origin.Number == epoch.Number {
			if len(l1Blocks) < 2 {
				return bvVerdict(BatchUndecided, RuleDriftNextEpochUnknown)
			}
			if batch.Timestamp >= l1Blocks[1].Time {
				return bvVerdict(BatchDrop, RuleDriftCouldAdoptNext)
			}
		}
	}
	if r, ok := bvCheckTransactions(cfg, batch.Timestamp, batch.Transactions); !ok {
		return bvVerdict(BatchDrop, r)
	}
	return bvVerdict(BatchAccept, RuleValid)
}

// bvWindowExpired is epochNum + seqWindowSize < inclusion, without overflow.
func bvWindowExpired(epochNum, seqWindowSize, inclusion uint64) bool {
	return inclusion > epochNum && inclusion-epochNum > seqWindowSize
}

// bvActivationBlockNoUserTxs reports whether the L2 block at timestamp t is the activation block of a fork
// whose activation block must hold deposits only: Jovian (jovian/derivation.md "Activation Block Rules"),
// Lagoon (op-node's interop; interop/derivation.md "Activation Block") and Karst (op-node; the Karst specs
// are not final and say nothing of it).
func bvActivationBlockNoUserTxs(cfg *rollup.Config, t uint64) bool {
	return cfg.IsActivationBlock(rollup.Jovian, t) || cfg.IsActivationBlock(rollup.Karst, t) ||
		cfg.IsActivationBlock(rollup.Lagoon, t)
}

// Transaction type bytes the batch checks know besides legacy, EIP-2930 and EIP-1559 transactions.
const (
	bvSetCodeTxType  = types.SetCodeTxType // 4, from Isthmus
	bvPostExecTxType = 0x7D                // op-node's post-exec transactions (SDM), from Lagoon
	bvDepositTxType  = types.DepositTxType // 0x7E, never in a batch
)

// bvCheckTransactions applies the transaction rules to the transactions of the L2 block at timestamp t: no
// empty transaction, no deposit, no set-code transaction before Isthmus (isthmus/derivation.md
// "Activation", by the block's own timestamp also in span batches), no post-exec transaction before Lagoon.
//
// op-node: these are the only type rules. The specs also drop "any transaction of a future type > 2"
// (derivation.md "Batch Queue"); op-node v1.19.6 accepts blob transactions (type 3), every type it does not
// know (0x05..0x7c, 0x7f) and first bytes that are no type (0x80..0xbf, 0xff), and leaves them to the engine,
// which refuses the payload (dropped before Holocene, replaced by a deposit-only block from Holocene). We do
// what op-node does. Post-exec transactions (0x7d) belong to Lagoon, which the specs do not describe yet.
func bvCheckTransactions(cfg *rollup.Config, t uint64, txs []hexutil.Bytes) (BatchRule, bool) {
	for _, tx := range txs {
		if len(tx) == 0 {
			return RuleEmptyTransaction, false
		}
		switch tx[0] {
		case bvDepositTxType:
			return RuleDepositTransaction, false
		case bvSetCodeTxType:
			if !cfg.IsIsthmus(t) {
				return RuleSetCodeBeforeIsthmus, false
			}
		case bvPostExecTxType:
			if !cfg.IsLagoon(t) {
				return RulePostExecBeforeLagoon, false
			}
		}
	}
	return RuleValid, true
}

// CheckSpanBatch decides whether a span batch, first fully read in L1 block inclusionBlock, holds the batch
// of the L2 block after l2SafeHead, with the rules of delta/span-batches.md "Batch Queue" as op-node applies
// them: the checks on the whole span, on each block after the safe head and on the blocks that overlap the
// safe chain (read through l2). With an inclusion block at or after Holocene, future spans are dropped and spans without a
// block after the safe head are past. l1Blocks are as for CheckSingularBatch.
//
// The Holocene batch stage does not run these checks but CheckHoloceneSpanBatch, and checks the blocks one
// by one as singular batches. The verdict carries the rule that decided it; an error is a failure of l2: no
// verdict.
func CheckSpanBatch(cfg *rollup.Config, l1Blocks []L1BlockRef, l2SafeHead L2BlockRef, batch *SpanBatch,
	inclusionBlock L1BlockRef, l2 SafeL2Fetcher) (BatchVerdict, error) {
	v, parent, err := bvSpanPrefix(cfg, l1Blocks, l2SafeHead, batch, inclusionBlock, l2)
	if err != nil || v.Validity != BatchAccept {
		return v, err
	}
	if v := bvSpanBlocks(cfg, l1Blocks, l2SafeHead, parent, batch); v.Validity != BatchAccept {
		return v, nil
	}
	return bvSpanOverlap(batch, parent, l2SafeHead, l2)
}

// CheckHoloceneSpanBatch is the check of a span batch by the Holocene batch stage (holocene/derivation.md
// "Span Batches"): the rules on the whole span (as CheckSpanBatch: Delta activation, timestamps, parent
// check, sequencing window, L1 origin range and l1_origin_check) and the match of the blocks that overlap
// the safe chain, but not the rules per block after the safe head, which the stage applies to each block as
// a singular batch.
//
// The Holocene specs list only the L1 origin check, the parent check and the timestamp rules; op-node
// v1.19.6 also keeps the other whole-span rules of Delta and the overlap match, and so does this function:
// the specs do not say they are dropped. The verdict and error are as for CheckSpanBatch.
func CheckHoloceneSpanBatch(cfg *rollup.Config, l1Blocks []L1BlockRef, l2SafeHead L2BlockRef, batch *SpanBatch,
	inclusionBlock L1BlockRef, l2 SafeL2Fetcher) (BatchVerdict, error) {
	v, parent, err := bvSpanPrefix(cfg, l1Blocks, l2SafeHead, batch, inclusionBlock, l2)
	if err != nil || v.Validity != BatchAccept {
		return v, err
	}
	return bvSpanOverlap(batch, parent, l2SafeHead, l2)
}

// bvSpanPrefix applies the rules on the span as a whole, up to the L1 origin checks, and returns the L2
// block before the span (prev_l2_block).
func bvSpanPrefix(cfg *rollup.Config, l1Blocks []L1BlockRef, safe L2BlockRef, batch *SpanBatch,
	inclusion L1BlockRef, l2 SafeL2Fetcher) (BatchVerdict, L2BlockRef, error) {
	if batch == nil || len(batch.Blocks) == 0 {
		return bvVerdict(BatchDrop, RuleEmptySpan), L2BlockRef{}, nil
	}
	if len(l1Blocks) == 0 {
		return bvVerdict(BatchUndecided, RuleNoL1Blocks), L2BlockRef{}, nil
	}
	epoch := l1Blocks[0]
	holocene := cfg.IsHolocene(inclusion.Time)
	start := batch.StartEpochNum()

	origin := epoch
	if start == epoch.Number+1 {
		if len(l1Blocks) < 2 {
			return bvVerdict(BatchUndecided, RuleNextEpochUnknown), L2BlockRef{}, nil
		}
		origin = l1Blocks[1]
	}
	if !cfg.IsDelta(origin.Time) {
		return bvVerdict(BatchDrop, RuleSpanBeforeDelta), L2BlockRef{}, nil
	}

	next := safe.Time + cfg.BlockTime
	if batch.Timestamp() > next {
		if holocene {
			return bvVerdict(BatchDrop, RuleFutureTimestamp), L2BlockRef{}, nil
		}
		return bvVerdict(BatchFuture, RuleFutureTimestamp), L2BlockRef{}, nil
	}
	if batch.LastTimestamp() < next {
		if holocene {
			return bvVerdict(BatchPast, RuleSpanNoNewBlock), L2BlockRef{}, nil
		}
		return bvVerdict(BatchDrop, RuleSpanNoNewBlock), L2BlockRef{}, nil
	}

	parent := safe
	if batch.Timestamp() < next {
		// The span overlaps the safe chain: it must start at a block of it.
		if batch.Timestamp() > safe.Time || cfg.BlockTime == 0 || (safe.Time-batch.Timestamp())%cfg.BlockTime != 0 {
			return bvVerdict(BatchDrop, RuleSpanMisaligned), L2BlockRef{}, nil
		}
		back := (safe.Time-batch.Timestamp())/cfg.BlockTime + 1 // blocks from the parent to the safe head
		if safe.Number < cfg.Genesis.L2.Number || back > safe.Number-cfg.Genesis.L2.Number {
			return bvVerdict(BatchUndecided, RuleSpanNoParent), L2BlockRef{}, nil // op-node
		}
		var err error
		if parent, err = l2.L2BlockRefByNumber(safe.Number - back); err != nil {
			return BatchVerdict{}, L2BlockRef{}, fmt.Errorf("span batch parent, L2 block %d: %w", safe.Number-back, err)
		}
	}
	if !batch.CheckParentHash(parent.Hash) {
		return bvVerdict(BatchDrop, RuleParentCheck), parent, nil
	}
	if bvWindowExpired(start, cfg.SeqWindowSize, inclusion.Number) {
		return bvVerdict(BatchDrop, RuleSeqWindow), parent, nil
	}
	if start > parent.L1Origin.Number+1 {
		return bvVerdict(BatchDrop, RuleSpanEpochTooNew), parent, nil
	}

	end := batch.LastEpochNum()
	found := false
	for _, b := range l1Blocks {
		if b.Number == end {
			if !batch.CheckOriginHash(b.Hash) {
				return bvVerdict(BatchDrop, RuleSpanOriginCheck), parent, nil
			}
			found = true
			break
		}
	}
	if !found {
		// op-node: undecided, whichever side of the known L1 blocks end_epoch_num is on; the rule names it.
		switch {
		case end >= l1Blocks[0].Number:
			return bvVerdict(BatchUndecided, RuleSpanOriginUnknown), parent, nil
		case end < safe.L1Origin.Number:
			return bvVerdict(BatchUndecided, RuleSpanOriginTooOld), parent, nil
		case end == safe.L1Origin.Number && !batch.CheckOriginHash(safe.L1Origin.Hash):
			return bvVerdict(BatchUndecided, RuleSpanOriginPoppedHash), parent, nil
		default:
			return bvVerdict(BatchUndecided, RuleSpanOriginPopped), parent, nil
		}
	}
	if start < parent.L1Origin.Number {
		return bvVerdict(BatchDrop, RuleSpanEpochTooOld), parent, nil
	}
	return bvVerdict(BatchAccept, RuleValid), parent, nil
}

// bvSpanBlocks applies the rules per block to the blocks after the safe head (delta/span-batches.md "Max
// Sequencer time-drift & other L1 origin checks" and the transaction rules).
//
// op-node: not the fork activation block rule (RuleActivationBlockTxs), which v1.19.6 applies to singular
// batches only, so before Holocene a span batch may carry user transactions in a Jovian, Karst or Lagoon
// activation block (jovian/derivation.md: "if the batch for the activation block contains any transactions,
// it must be DROPped"). We follow op-node. From Holocene each block of a span is checked as a singular batch,
// with the rule.
func bvSpanBlocks(cfg *rollup.Config, l1Blocks []L1BlockRef, safe, parent L2BlockRef, batch *SpanBatch) BatchVerdict {
	originIdx := 0
	for i := range batch.Blocks {
		blk := &batch.Blocks[i]
		if blk.Timestamp <= safe.Time {
			continue
		}
		if blk.EpochNum < safe.L1Origin.Number {
			return bvVerdict(BatchDrop, RuleBlockEpochTooOld)
		}
		found := false
		for j := originIdx; j < len(l1Blocks); j++ {
			if l1Blocks[j].Number == blk.EpochNum {
				originIdx, found = j, true
				break
			}
		}
		if !found {
			return bvVerdict(BatchDrop, RuleBlockOriginNotFound)
		}
		origin := l1Blocks[originIdx]
		if blk.Timestamp < origin.Time {
			return bvVerdict(BatchDrop, RuleTimestampBeforeOrigin)
		}
		if blk.Timestamp > origin.Time+cfg.MaxSequencerDriftAt(origin.Time) {
			if len(blk.Transactions) > 0 {
				return bvVerdict(BatchDrop, RuleDriftWithTransactions)
			}
			// An empty block that adopts a new L1 origin may exceed the drift. op-node: a block adopts a
			// new origin if its origin is after the previous block's, for the first block after
			// prev_l2_block's; the specs read origin_bits[i], which for the first block is the batcher's
			// word and can disagree. We follow op-node.
			advanced := blk.EpochNum == parent.L1Origin.Number+1
			if i > 0 {
				advanced = blk.EpochNum > batch.Blocks[i-1].EpochNum
			}
			if !advanced {
				if originIdx+1 >= len(l1Blocks) {
					return bvVerdict(BatchUndecided, RuleDriftNextEpochUnknown)
				}
				if blk.Timestamp >= l1Blocks[originIdx+1].Time {
					return bvVerdict(BatchDrop, RuleDriftCouldAdoptNext)
				}
			}
		}
		if r, ok := bvCheckTransactions(cfg, blk.Timestamp, blk.Transactions); !ok {
			return bvVerdict(BatchDrop, r)
		}
	}
	return bvVerdict(BatchAccept, RuleValid)
}

// bvSpanOverlap checks the blocks of the span that are already in the safe chain, from the block after
// parent to the safe head: the same L1 origin and the same transactions after the deposits.
func bvSpanOverlap(batch *SpanBatch, parent, safe L2BlockRef, l2 SafeL2Fetcher) (BatchVerdict, error) {
	if parent.Number >= safe.Number {
		return bvVerdict(BatchAccept, RuleValid), nil
	}
	for i := uint64(0); i < safe.Number-parent.Number; i++ {
		n := parent.Number + 1 + i
		if i >= uint64(len(batch.Blocks)) { // impossible after the prefix rules: the span reaches past the safe head
			return bvVerdict(BatchDrop, RuleSpanNoNewBlock), nil
		}
		blk, err := l2.PayloadByNumber(n)
		if err != nil {
			return BatchVerdict{}, fmt.Errorf("overlapped L2 block %d: %w", n, err)
		}
		ref, err := l2.L2BlockRefByNumber(n)
		if err != nil {
			return BatchVerdict{}, fmt.Errorf("overlapped L2 block %d: %w", n, err)
		}
		txs := blk.Transactions()
		deposits := 0
		for _, tx := range txs {
			if tx.Type() == types.DepositTxType {
				deposits++
			}
		}
		want := batch.Blocks[i].Transactions
		if len(txs)-deposits != len(want) {
			return bvVerdict(BatchDrop, RuleOverlapTxCount), nil
		}
		// Deposits come first in an L2 block.
		for j := range want {
			enc, err := txs[deposits+j].MarshalBinary()
			if err != nil {
				return BatchVerdict{}, fmt.Errorf("overlapped L2 block %d transaction %d: %w", n, deposits+j, err)
			}
			if !bytes.Equal(enc, want[j]) {
				return bvVerdict(BatchDrop, RuleOverlapTransaction), nil
			}
		}
		if ref.L1Origin.Number != batch.Blocks[i].EpochNum {
			return bvVerdict(BatchDrop, RuleOverlapOrigin), nil
		}
	}
	return bvVerdict(BatchAccept, RuleValid), nil
}

// bvSpanSingulars turns the blocks of an accepted span batch after the safe head into singular batches,
// with the L1 origin hashes from l1Blocks. The parent hashes are left for the stage to set as the blocks
// are derived. An error means the span batch is invalid (from Holocene the whole-span checks do not cover
// every block: holocene/derivation.md "Span Batches").
func bvSpanSingulars(batch *SpanBatch, l1Blocks []L1BlockRef, safe L2BlockRef) ([]*SingularBatch, error) {
	var out []*SingularBatch
	originIdx := 0
	for i := range batch.Blocks {
		blk := &batch.Blocks[i]
		if blk.Timestamp <= safe.Time {
			continue
		}
		if blk.EpochNum < safe.L1Origin.Number {
			return nil, fmt.Errorf("block at %d has L1 origin %d, before the safe head's %d",
				blk.Timestamp, blk.EpochNum, safe.L1Origin.Number)
		}
		found := false
		for j := originIdx; j < len(l1Blocks); j++ {
			if l1Blocks[j].Number == blk.EpochNum {
				originIdx, found = j, true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("block at %d has L1 origin %d, not among the known L1 blocks", blk.Timestamp, blk.EpochNum)
		}
		out = append(out, &SingularBatch{
			EpochNum:     blk.EpochNum,
			EpochHash:    l1Blocks[originIdx].Hash,
			Timestamp:    blk.Timestamp,
			Transactions: blk.Transactions,
		})
	}
	return out, nil
}

package derive_test

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/derive/derivetest"
	"github.com/faultproof/faultproof/rollup"
)

// The singular and span batch tables share one situation: the safe head is L2 block 10 (time 120, L1 origin
// 2 at time 120), so next_timestamp is 122; the stage knows L1 blocks 2, 3 (time 130) and 4 (time 140), and
// the batch was read from L1 block 4. The sequencing window is 4 blocks and the drift 30 seconds.

var (
	btDynTx      = btTx(1, derivetest.DynamicFee)
	btLegacyTx   = btTx(2, derivetest.LegacyProtected)
	btAccessTx   = btTx(3, derivetest.AccessList)
	btSetCodeTx  = btTx(4, derivetest.SetCode)
	btPostExecTx = btTx(5, derivetest.PostExec)
	btDepositTx  = hexutil.Bytes{types7E, 0xc0}
	btWrongHash  = common.Hash{0xba, 0xd}
)

const types7E = 0x7E

// btWithL1Time is L1 block n with another time.
func btWithL1Time(n, time uint64) derive.L1BlockRef {
	b := btL1(n)
	b.Time = time
	return b
}

type btSingularCase struct {
	name      string
	cfg       func(*rollup.Config) // changes to btConfig
	l1        []derive.L1BlockRef  // default: L1 blocks 2..4
	safe      *derive.L2BlockRef   // default: btL2(10)
	inclusion uint64               // default: 4
	batch     *derive.SingularBatch
	want      derive.BatchValidity
	rule      derive.BatchRule
}

func btTypedTx(first byte) hexutil.Bytes { return hexutil.Bytes{first, 0xc0} }

func btSafeAt(n, time, origin uint64) *derive.L2BlockRef {
	return &derive.L2BlockRef{Hash: btL2Hash(n), Number: n, ParentHash: btL2Hash(n - 1), Time: time, L1Origin: btL1(origin).ID()}
}

func TestCheckSingularBatchRules(t *testing.T) {
	h10 := btL2Hash(10)
	h25 := btL2Hash(25)
	h14 := btL2Hash(14)
	fjordAt := func(ts uint64) func(*rollup.Config) { return func(c *rollup.Config) { c.FjordTime = btU64(ts) } }
	cases := []btSingularCase{
		{name: "valid: same epoch", batch: btSingular(h10, 122, 2), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "valid: with transactions of types legacy, 1 and 2", batch: btSingular(h10, 122, 2, btLegacyTx, btAccessTx, btDynTx),
			want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "valid: epoch advances to next_epoch", safe: btSafeAt(14, 128, 2), batch: btSingular(h14, 130, 3),
			want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "no L1 blocks: undecided (op-node)", l1: []derive.L1BlockRef{}, batch: btSingular(h10, 122, 2),
			want: derive.BatchUndecided, rule: derive.RuleNoL1Blocks},
		{name: "no batch", want: derive.BatchDrop, rule: derive.RuleNoBatch},

		{name: "batch.timestamp > next_timestamp -> future", batch: btSingular(h10, 124, 2),
			want: derive.BatchFuture, rule: derive.RuleFutureTimestamp},
		{name: "batch.timestamp < next_timestamp -> drop", batch: btSingular(h10, 120, 2),
			want: derive.BatchDrop, rule: derive.RuleOldTimestamp},
		{name: "batch.timestamp < next_timestamp, misaligned -> drop", batch: btSingular(h10, 121, 2),
			want: derive.BatchDrop, rule: derive.RuleOldTimestamp},
		{name: "batch.parent_hash != safe_l2_head.hash -> drop", batch: btSingular(btWrongHash, 122, 2),
			want: derive.BatchDrop, rule: derive.RuleParentHash},
		{name: "epoch_num + sequence_window_size < inclusion_block_number -> drop", inclusion: 7,
			batch: btSingular(h10, 122, 2), want: derive.BatchDrop, rule: derive.RuleSeqWindow},
		{name: "epoch_num + sequence_window_size == inclusion_block_number -> valid", inclusion: 6,
			batch: btSingular(h10, 122, 2), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "epoch_num < epoch.number -> drop", l1: btL1s(3, 4), batch: btSingular(h10, 122, 2),
			want: derive.BatchDrop, rule: derive.RuleEpochTooOld},
		{name: "epoch_num == epoch.number+1, next_epoch unknown -> undecided", l1: btL1s(2, 2),
			batch: btSingular(h10, 122, 3), want: derive.BatchUndecided, rule: derive.RuleNextEpochUnknown},
		{name: "epoch_num > epoch.number+1 -> drop", batch: btSingular(h10, 122, 4),
			want: derive.BatchDrop, rule: derive.RuleEpochTooNew},
		{name: "epoch_hash != batch_origin.hash -> drop",
			batch: &derive.SingularBatch{ParentHash: h10, EpochNum: 2, EpochHash: btWrongHash, Timestamp: 122},
			want:  derive.BatchDrop, rule: derive.RuleEpochHash},
		{name: "epoch_hash != next_epoch.hash -> drop",
			safe:  btSafeAt(14, 128, 2),
			batch: &derive.SingularBatch{ParentHash: h14, EpochNum: 3, EpochHash: btL1(2).Hash, Timestamp: 130},
			want:  derive.BatchDrop, rule: derive.RuleEpochHash},
		{name: "timestamp < batch_origin.time -> drop", batch: btSingular(h10, 122, 3),
			want: derive.BatchDrop, rule: derive.RuleTimestampBeforeOrigin},

		// Sequencer drift: origin 2 (time 120) allows timestamps up to 150.
		{name: "drift: timestamp == origin.time + max_sequencer_drift -> valid", safe: btSafeAt(25, 148, 2),
			batch: btSingular(h25, 150, 2, btDynTx), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "drift exceeded with transactions -> drop", safe: btSafeAt(25, 150, 2),
			batch: btSingular(h25, 152, 2, btDynTx), want: derive.BatchDrop, rule: derive.RuleDriftWithTransactions},
		{name: "drift exceeded, empty, next_epoch unknown -> undecided", safe: btSafeAt(25, 150, 2), l1: btL1s(2, 2),
			batch: btSingular(h25, 152, 2), want: derive.BatchUndecided, rule: derive.RuleDriftNextEpochUnknown},
		{name: "drift exceeded, empty, timestamp >= next_epoch.time -> drop", safe: btSafeAt(25, 150, 2),
			batch: btSingular(h25, 152, 2), want: derive.BatchDrop, rule: derive.RuleDriftCouldAdoptNext},
		{name: "drift exceeded, empty, timestamp < next_epoch.time -> valid", safe: btSafeAt(25, 150, 2),
			l1: []derive.L1BlockRef{btL1(2), btWithL1Time(3, 153)}, batch: btSingular(h25, 152, 2),
			want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "drift exceeded, empty, adopting next_epoch -> valid", safe: btSafeAt(25, 160, 2),
			batch: btSingular(h25, 162, 3), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "drift exceeded, adopting next_epoch with transactions -> drop", safe: btSafeAt(25, 160, 2),
			batch: btSingular(h25, 162, 3, btDynTx), want: derive.BatchDrop, rule: derive.RuleDriftWithTransactions},
		{name: "Fjord: max_sequencer_drift is 1800", cfg: fjordAt(0), safe: btSafeAt(25, 150, 2),
			batch: btSingular(h25, 152, 2, btDynTx), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "Fjord: drift by the L1 origin's time, before Fjord", cfg: fjordAt(121), safe: btSafeAt(25, 150, 2),
			batch: btSingular(h25, 152, 2, btDynTx), want: derive.BatchDrop, rule: derive.RuleDriftWithTransactions},
		{name: "Fjord: drift by the L1 origin's time, at Fjord", cfg: fjordAt(120), safe: btSafeAt(25, 150, 2),
			batch: btSingular(h25, 152, 2, btDynTx), want: derive.BatchAccept, rule: derive.RuleValid},

		// Transactions.
		{name: "empty transaction -> drop", batch: btSingular(h10, 122, 2, btDynTx, hexutil.Bytes{}),
			want: derive.BatchDrop, rule: derive.RuleEmptyTransaction},
		{name: "deposit transaction -> drop", batch: btSingular(h10, 122, 2, btDepositTx),
			want: derive.BatchDrop, rule: derive.RuleDepositTransaction},
		{name: "set-code transaction before Isthmus -> drop", batch: btSingular(h10, 122, 2, btSetCodeTx),
			want: derive.BatchDrop, rule: derive.RuleSetCodeBeforeIsthmus},
		{name: "set-code transaction from Isthmus -> valid", cfg: func(c *rollup.Config) { c.IsthmusTime = btU64(122) },
			batch: btSingular(h10, 122, 2, btSetCodeTx), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "post-exec transaction before Lagoon -> drop (op-node)", batch: btSingular(h10, 122, 2, btPostExecTx),
			want: derive.BatchDrop, rule: derive.RulePostExecBeforeLagoon},
		{name: "post-exec transaction from Lagoon -> valid (op-node)", cfg: func(c *rollup.Config) { c.LagoonTime = btU64(0) },
			batch: btSingular(h10, 122, 2, btPostExecTx), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "blob transaction (type 3): left to the engine (op-node; specs: drop as a future type > 2)",
			batch: btSingular(h10, 122, 2, btTypedTx(3)), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "unknown type 5: left to the engine (op-node; specs: drop as a future type > 2)",
			batch: btSingular(h10, 122, 2, btTypedTx(5)), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "unknown type 0x7f: left to the engine (op-node; specs: drop as a future type > 2)",
			batch: btSingular(h10, 122, 2, btTypedTx(0x7f)), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "first byte 0x80, not a type: left to the engine", batch: btSingular(h10, 122, 2, btTypedTx(0x80)),
			want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "first byte 0xff, not a type: left to the engine", batch: btSingular(h10, 122, 2, btTypedTx(0xff)),
			want: derive.BatchAccept, rule: derive.RuleValid},

		// Fork activation blocks.
		{name: "Jovian activation block with user transactions -> drop", cfg: func(c *rollup.Config) { c.JovianTime = btU64(122) },
			batch: btSingular(h10, 122, 2, btDynTx), want: derive.BatchDrop, rule: derive.RuleActivationBlockTxs},
		{name: "Jovian activation block, empty -> valid", cfg: func(c *rollup.Config) { c.JovianTime = btU64(122) },
			batch: btSingular(h10, 122, 2), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "Jovian activation time between blocks: the next block is the activation block",
			cfg:   func(c *rollup.Config) { c.JovianTime = btU64(121) },
			batch: btSingular(h10, 122, 2, btDynTx), want: derive.BatchDrop, rule: derive.RuleActivationBlockTxs},
		{name: "after the Jovian activation block -> valid", cfg: func(c *rollup.Config) { c.JovianTime = btU64(120) },
			batch: btSingular(h10, 122, 2, btDynTx), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "Jovian at genesis: no activation block", cfg: func(c *rollup.Config) { c.JovianTime = btU64(0) },
			batch: btSingular(h10, 122, 2, btDynTx), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "Karst activation block with user transactions -> drop (op-node)", cfg: func(c *rollup.Config) { c.KarstTime = btU64(122) },
			batch: btSingular(h10, 122, 2, btDynTx), want: derive.BatchDrop, rule: derive.RuleActivationBlockTxs},
		{name: "Lagoon (interop) activation block with user transactions -> drop", cfg: func(c *rollup.Config) { c.LagoonTime = btU64(122) },
			batch: btSingular(h10, 122, 2, btDynTx), want: derive.BatchDrop, rule: derive.RuleActivationBlockTxs},
		{name: "Isthmus activation block with user transactions -> valid", cfg: func(c *rollup.Config) { c.IsthmusTime = btU64(122) },
			batch: btSingular(h10, 122, 2, btDynTx), want: derive.BatchAccept, rule: derive.RuleValid},
	}
	btRunSingular(t, "pre-Holocene", cases, nil)

	holocene := func(c *rollup.Config) { c.HoloceneTime = btU64(140) } // inclusion block 4 has time 140
	btRunSingular(t, "Holocene", []btSingularCase{
		{name: "valid", batch: btSingular(h10, 122, 2), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "batch.timestamp > next_timestamp -> drop", batch: btSingular(h10, 124, 2),
			want: derive.BatchDrop, rule: derive.RuleFutureTimestamp},
		{name: "batch.timestamp == safe_head.timestamp -> past", batch: btSingular(h10, 120, 2),
			want: derive.BatchPast, rule: derive.RulePastTimestamp},
		{name: "batch.timestamp < safe_head.timestamp -> past", batch: btSingular(h10, 100, 0),
			want: derive.BatchPast, rule: derive.RulePastTimestamp},
		{name: "safe_head.timestamp < batch.timestamp < next_timestamp -> past (op-node; specs: drop)",
			batch: btSingular(h10, 121, 2), want: derive.BatchPast, rule: derive.RuleMisalignedTimestamp},
		{name: "other rules unchanged: parent hash", batch: btSingular(btWrongHash, 122, 2),
			want: derive.BatchDrop, rule: derive.RuleParentHash},
		{name: "Holocene by inclusion block: before, future stays future", inclusion: 3,
			batch: btSingular(h10, 124, 2), want: derive.BatchFuture, rule: derive.RuleFutureTimestamp},
	}, holocene)
}

func btRunSingular(t *testing.T, group string, cases []btSingularCase, base func(*rollup.Config)) {
	for _, c := range cases {
		t.Run(group+"/"+c.name, func(t *testing.T) {
			cfg := btConfig()
			if base != nil {
				base(cfg)
			}
			if c.cfg != nil {
				c.cfg(cfg)
			}
			l1 := c.l1
			if l1 == nil {
				l1 = btL1s(2, 4)
			}
			safe := btL2(10)
			if c.safe != nil {
				safe = *c.safe
			}
			inclusion := btL1(4)
			if c.inclusion != 0 {
				inclusion = btL1(c.inclusion)
			}
			v := derive.CheckSingularBatch(cfg, l1, safe, c.batch, inclusion)
			require.Equal(t, c.want, v.Validity, "verdict %s", v)
			require.Equal(t, c.rule, v.Rule)
		})
	}
}

// btBlock is a span batch element.
func btBlock(ts, epoch uint64, txs ...hexutil.Bytes) derive.SpanBatchElement {
	return derive.SpanBatchElement{Timestamp: ts, EpochNum: epoch, Transactions: txs}
}

// btSpanOf builds a derived span batch with the parent check of parent and the L1 origin check of the last
// block's epoch.
func btSpanOf(parent common.Hash, originBit bool, blocks ...derive.SpanBatchElement) *derive.SpanBatch {
	s := &derive.SpanBatch{OriginChangedBit: originBit, Blocks: blocks}
	copy(s.ParentCheck[:], parent[:20])
	end := btL1(blocks[len(blocks)-1].EpochNum).Hash
	copy(s.L1OriginCheck[:], end[:20])
	return s
}

type btSpanCase struct {
	name      string
	cfg       func(*rollup.Config)
	l1        []derive.L1BlockRef // default: L1 blocks 2..4
	safe      *derive.L2BlockRef  // default: btL2(10)
	inclusion uint64              // default: 4
	fail      bool                // the L2 source fails
	batch     *derive.SpanBatch
	want      derive.BatchValidity
	rule      derive.BatchRule
	wantErr   bool
	// holocene is the verdict of CheckHoloceneSpanBatch (no rules per block) where it differs.
	holocene *derive.BatchVerdict
}

func TestCheckSpanBatchRules(t *testing.T) {
	h8, h9, h10, h14 := btL2Hash(8), btL2Hash(9), btL2Hash(10), btL2Hash(14)
	tx9, tx10 := btTx(9, derivetest.DynamicFee), btTx(10, derivetest.DynamicFee)
	drift := func(d uint64) func(*rollup.Config) { return func(c *rollup.Config) { c.MaxSequencerDrift = d } }
	accept := &derive.BatchVerdict{Validity: derive.BatchAccept, Rule: derive.RuleValid}
	originCheck := func(s *derive.SpanBatch, h common.Hash) *derive.SpanBatch {
		copy(s.L1OriginCheck[:], h[:20])
		return s
	}
	var fromGenesis []derive.SpanBatchElement
	for n := uint64(0); n <= 11; n++ {
		fromGenesis = append(fromGenesis, btBlock(btGenesisTime+2*n, n/5))
	}
	cases := []btSpanCase{
		{name: "valid: one block", batch: btSpanOf(h10, false, btBlock(122, 2, btDynTx)),
			want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "valid: blocks across an epoch", batch: btSpanOf(h10, false,
			btBlock(122, 2), btBlock(124, 2, btDynTx), btBlock(126, 2), btBlock(128, 2), btBlock(130, 3, btLegacyTx)),
			want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "valid: overlapping the safe chain", batch: btSpanOf(h8, false,
			btBlock(118, 1, tx9), btBlock(120, 2, tx10), btBlock(122, 2, btDynTx)),
			want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "empty span -> drop", batch: &derive.SpanBatch{}, want: derive.BatchDrop, rule: derive.RuleEmptySpan},
		{name: "no L1 blocks -> undecided (op-node)", l1: []derive.L1BlockRef{}, batch: btSpanOf(h10, false, btBlock(122, 2)),
			want: derive.BatchUndecided, rule: derive.RuleNoL1Blocks},

		// Whole span.
		{name: "batch_origin: start epoch == epoch.number+1, next_epoch unknown -> undecided", l1: btL1s(2, 2),
			batch: btSpanOf(h10, true, btBlock(122, 3)), want: derive.BatchUndecided, rule: derive.RuleNextEpochUnknown},
		{name: "batch_origin.timestamp < span_batch_upgrade_timestamp -> drop",
			cfg:   func(c *rollup.Config) { c.DeltaTime = btU64(121) },
			batch: btSpanOf(h10, false, btBlock(122, 2)), want: derive.BatchDrop, rule: derive.RuleSpanBeforeDelta},
		{name: "Delta by the batch_origin's time: next_epoch at Delta -> valid", safe: btSafeAt(14, 128, 2),
			cfg:   func(c *rollup.Config) { c.DeltaTime = btU64(130) },
			batch: btSpanOf(h14, true, btBlock(130, 3)), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "span_start.timestamp > next_timestamp -> future", batch: btSpanOf(h10, false, btBlock(124, 2)),
			want: derive.BatchFuture, rule: derive.RuleFutureTimestamp},
		{name: "span_end.timestamp < next_timestamp -> drop", batch: btSpanOf(h8, false, btBlock(118, 1, tx9), btBlock(120, 2, tx10)),
			want: derive.BatchDrop, rule: derive.RuleSpanNoNewBlock},
		{name: "no prev_l2_block: start between safe head and next -> drop", batch: btSpanOf(h10, false, btBlock(121, 2), btBlock(123, 2)),
			want: derive.BatchDrop, rule: derive.RuleSpanMisaligned},
		{name: "no prev_l2_block: start not on a block time -> drop", batch: btSpanOf(h9, false, btBlock(119, 1), btBlock(121, 2), btBlock(123, 2)),
			want: derive.BatchDrop, rule: derive.RuleSpanMisaligned},
		{name: "no prev_l2_block: start at L2 genesis -> undecided (op-node; specs: drop)",
			batch: btSpanOf(btL2Hash(0), false, fromGenesis...), want: derive.BatchUndecided, rule: derive.RuleSpanNoParent},
		{name: "prev_l2_block unreadable -> error", fail: true,
			batch: btSpanOf(h8, false, btBlock(118, 1, tx9), btBlock(120, 2, tx10), btBlock(122, 2)), wantErr: true},
		{name: "parent_check != prev_l2_block.hash[:20] -> drop", batch: btSpanOf(btWrongHash, false, btBlock(122, 2)),
			want: derive.BatchDrop, rule: derive.RuleParentCheck},
		{name: "parent_check of an overlapping span -> drop", batch: btSpanOf(h9, false, btBlock(118, 1, tx9), btBlock(120, 2, tx10), btBlock(122, 2)),
			want: derive.BatchDrop, rule: derive.RuleParentCheck},
		{name: "start_epoch_num + sequence_window_size < inclusion_block_number -> drop", inclusion: 7,
			batch: btSpanOf(h10, false, btBlock(122, 2)), want: derive.BatchDrop, rule: derive.RuleSeqWindow},
		{name: "start_epoch_num + sequence_window_size == inclusion_block_number -> valid", inclusion: 6,
			batch: btSpanOf(h10, false, btBlock(122, 2)), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "start_epoch_num > prev_l2_block.l1_origin.number + 1 -> drop", batch: btSpanOf(h10, false, btBlock(122, 4)),
			want: derive.BatchDrop, rule: derive.RuleSpanEpochTooNew},
		{name: "l1_origin_check does not match -> drop", batch: originCheck(btSpanOf(h10, false, btBlock(122, 2)), btWrongHash),
			want: derive.BatchDrop, rule: derive.RuleSpanOriginCheck},
		{name: "end_epoch_num after the known L1 blocks -> undecided",
			batch: btSpanOf(h10, false, btBlock(122, 2), btBlock(124, 3), btBlock(126, 4), btBlock(128, 5)),
			want:  derive.BatchUndecided, rule: derive.RuleSpanOriginUnknown},
		{name: "end_epoch_num < safe_head.l1_origin.number -> undecided (op-node; specs: drop)",
			batch: btSpanOf(h9, false, btBlock(120, 1), btBlock(122, 1)), want: derive.BatchUndecided, rule: derive.RuleSpanOriginTooOld},
		{name: "end_epoch_num is the safe head's origin, no longer buffered -> undecided (op-node)", l1: btL1s(3, 4),
			batch: btSpanOf(h10, false, btBlock(122, 2)), want: derive.BatchUndecided, rule: derive.RuleSpanOriginPopped},
		{name: "end_epoch_num is the safe head's origin, no longer buffered, wrong hash -> undecided (op-node; specs: drop)",
			l1: btL1s(3, 4), batch: originCheck(btSpanOf(h10, false, btBlock(122, 2)), btWrongHash),
			want: derive.BatchUndecided, rule: derive.RuleSpanOriginPoppedHash},
		{name: "start_epoch_num < prev_l2_block.l1_origin.number -> drop", batch: btSpanOf(h9, false, btBlock(120, 0), btBlock(122, 2)),
			want: derive.BatchDrop, rule: derive.RuleSpanEpochTooOld},

		// Per block after the safe head.
		{name: "block l1_origin.number < safe_head.l1_origin.number -> drop",
			batch: btSpanOf(h9, false, btBlock(120, 1, tx10), btBlock(122, 1), btBlock(124, 2)),
			want:  derive.BatchDrop, rule: derive.RuleBlockEpochTooOld, holocene: &derive.BatchVerdict{Validity: derive.BatchDrop, Rule: derive.RuleOverlapOrigin}},
		{name: "block L1 origin not among the known L1 blocks -> drop (op-node)", l1: btL1s(3, 4),
			batch: btSpanOf(h10, false, btBlock(122, 2), btBlock(124, 3)), want: derive.BatchDrop, rule: derive.RuleBlockOriginNotFound, holocene: accept},
		{name: "block timestamp < block origin.time -> drop", batch: btSpanOf(h10, true, btBlock(122, 3)),
			want: derive.BatchDrop, rule: derive.RuleTimestampBeforeOrigin, holocene: accept},
		{name: "later block timestamp < its origin.time -> drop", batch: btSpanOf(h10, false, btBlock(122, 2), btBlock(124, 3)),
			want: derive.BatchDrop, rule: derive.RuleTimestampBeforeOrigin, holocene: accept},
		{name: "Jovian activation block with user transactions -> valid (op-node: singular batches only; specs: drop)",
			cfg:   func(c *rollup.Config) { c.JovianTime = btU64(124) },
			batch: btSpanOf(h10, false, btBlock(122, 2), btBlock(124, 2, btDynTx)), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "Jovian activation block, empty -> valid", cfg: func(c *rollup.Config) { c.JovianTime = btU64(124) },
			batch: btSpanOf(h10, false, btBlock(122, 2, btDynTx), btBlock(124, 2), btBlock(126, 2, btDynTx)), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "drift exceeded with transactions -> drop", cfg: drift(2),
			batch: btSpanOf(h10, false, btBlock(122, 2, btDynTx), btBlock(124, 2, btDynTx)), want: derive.BatchDrop, rule: derive.RuleDriftWithTransactions, holocene: accept},
		{name: "drift exceeded, empty, timestamp < next_epoch.time -> valid", cfg: drift(2),
			batch: btSpanOf(h10, false, btBlock(122, 2, btDynTx), btBlock(124, 2)), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "drift exceeded, empty, next_epoch unknown -> undecided", cfg: drift(2), l1: btL1s(2, 2),
			batch: btSpanOf(h10, false, btBlock(122, 2, btDynTx), btBlock(124, 2)), want: derive.BatchUndecided, rule: derive.RuleDriftNextEpochUnknown, holocene: accept},
		{name: "drift exceeded, empty, timestamp >= next_epoch.time -> drop", cfg: drift(2), l1: []derive.L1BlockRef{btL1(2), btWithL1Time(3, 124)},
			batch: btSpanOf(h10, false, btBlock(122, 2), btBlock(124, 2)), want: derive.BatchDrop, rule: derive.RuleDriftCouldAdoptNext, holocene: accept},
		{name: "drift exceeded, empty, block advances the origin -> valid", cfg: drift(0),
			l1:    []derive.L1BlockRef{btL1(2), btWithL1Time(3, 123), btWithL1Time(4, 124)},
			batch: btSpanOf(h10, false, btBlock(122, 2), btBlock(124, 3)), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "drift exceeded, empty, block keeps the origin -> drop", cfg: drift(0),
			l1:    []derive.L1BlockRef{btL1(2), btWithL1Time(3, 123), btWithL1Time(4, 124)},
			batch: btSpanOf(h10, false, btBlock(122, 2), btBlock(124, 3), btBlock(126, 3)), want: derive.BatchDrop, rule: derive.RuleDriftCouldAdoptNext, holocene: accept},
		{name: "drift exceeded, first block, origin_bits[0] == 0 -> drop", cfg: drift(1), l1: []derive.L1BlockRef{btL1(2), btWithL1Time(3, 122)},
			batch: btSpanOf(h10, false, btBlock(122, 2)), want: derive.BatchDrop, rule: derive.RuleDriftCouldAdoptNext, holocene: accept},
		{name: "drift exceeded, first block keeps the parent's origin, origin_bits[0] == 1 -> drop (op-node; specs: exempt)", cfg: drift(1),
			l1: []derive.L1BlockRef{btL1(2), btWithL1Time(3, 122)}, batch: btSpanOf(h10, true, btBlock(122, 2)),
			want: derive.BatchDrop, rule: derive.RuleDriftCouldAdoptNext, holocene: accept},
		{name: "drift exceeded, first block adopts the next origin, origin_bits[0] == 0 -> valid (op-node; specs: drop)", cfg: drift(1),
			l1: []derive.L1BlockRef{btL1(2), btWithL1Time(3, 120), btWithL1Time(4, 122)}, batch: btSpanOf(h10, false, btBlock(122, 3)),
			want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "empty transaction -> drop", batch: btSpanOf(h10, false, btBlock(122, 2, hexutil.Bytes{})),
			want: derive.BatchDrop, rule: derive.RuleEmptyTransaction, holocene: accept},
		{name: "deposit transaction -> drop", batch: btSpanOf(h10, false, btBlock(122, 2), btBlock(124, 2, btDepositTx)),
			want: derive.BatchDrop, rule: derive.RuleDepositTransaction, holocene: accept},
		{name: "type 3 after the safe head: left to the engine (op-node; specs: drop as a future type > 2)",
			batch: btSpanOf(h10, false, btBlock(122, 2, btTypedTx(3), btTypedTx(0x42))), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "set-code before Isthmus, by the block's timestamp -> drop", cfg: func(c *rollup.Config) { c.IsthmusTime = btU64(124) },
			batch: btSpanOf(h10, false, btBlock(122, 2, btSetCodeTx), btBlock(124, 2)), want: derive.BatchDrop, rule: derive.RuleSetCodeBeforeIsthmus, holocene: accept},
		{name: "set-code from Isthmus, by the block's timestamp -> valid", cfg: func(c *rollup.Config) { c.IsthmusTime = btU64(124) },
			batch: btSpanOf(h10, false, btBlock(122, 2), btBlock(124, 2, btSetCodeTx)), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "blocks at or before the safe head are not checked per block",
			batch: btSpanOf(h8, false, btBlock(118, 1, tx9), btBlock(120, 2, tx10), btBlock(122, 2)),
			cfg:   drift(0), want: derive.BatchAccept, rule: derive.RuleValid},

		// Overlap with the safe chain.
		{name: "overlapped block's transactions differ -> drop", batch: btSpanOf(h8, false, btBlock(118, 1, btDynTx), btBlock(120, 2, tx10), btBlock(122, 2)),
			want: derive.BatchDrop, rule: derive.RuleOverlapTransaction},
		{name: "overlapped block's transaction count differs -> drop", batch: btSpanOf(h8, false, btBlock(118, 1, tx9), btBlock(120, 2), btBlock(122, 2)),
			want: derive.BatchDrop, rule: derive.RuleOverlapTxCount},
		{name: "overlapped block's L1 origin differs -> drop", batch: btSpanOf(h8, false, btBlock(118, 2, tx9), btBlock(120, 2, tx10), btBlock(122, 2)),
			want: derive.BatchDrop, rule: derive.RuleOverlapOrigin},
		{name: "overlapped block unreadable -> error", fail: true, batch: btSpanOf(h8, false, btBlock(118, 1, tx9), btBlock(120, 2, tx10), btBlock(122, 2)),
			wantErr: true},
	}
	btRunSpan(t, "pre-Holocene", cases, nil)

	btRunSpan(t, "Holocene", []btSpanCase{
		{name: "valid", batch: btSpanOf(h10, false, btBlock(122, 2, btDynTx)), want: derive.BatchAccept, rule: derive.RuleValid},
		{name: "span_start.timestamp > next_timestamp -> drop", batch: btSpanOf(h10, false, btBlock(124, 2)),
			want: derive.BatchDrop, rule: derive.RuleFutureTimestamp},
		{name: "span_end.timestamp < next_timestamp -> past", batch: btSpanOf(h8, false, btBlock(118, 1, tx9), btBlock(120, 2, tx10)),
			want: derive.BatchPast, rule: derive.RuleSpanNoNewBlock},
		{name: "span_end.timestamp < next_timestamp, misaligned -> past", batch: btSpanOf(h8, false, btBlock(119, 1), btBlock(121, 2)),
			want: derive.BatchPast, rule: derive.RuleSpanNoNewBlock},
		{name: "end_epoch_num after the known L1 blocks -> undecided (op-node; specs: drop, not on the canonical chain)",
			batch: btSpanOf(h10, false, btBlock(122, 2), btBlock(124, 3), btBlock(126, 4), btBlock(128, 5)),
			want:  derive.BatchUndecided, rule: derive.RuleSpanOriginUnknown},
		{name: "parent check -> drop", batch: btSpanOf(btWrongHash, false, btBlock(122, 2)), want: derive.BatchDrop, rule: derive.RuleParentCheck},
		{name: "overlap still checked -> drop", batch: btSpanOf(h8, false, btBlock(118, 1, btDynTx), btBlock(120, 2, tx10), btBlock(122, 2)),
			want: derive.BatchDrop, rule: derive.RuleOverlapTransaction},
		{name: "Holocene by inclusion block: before, future stays future", inclusion: 3,
			batch: btSpanOf(h10, false, btBlock(124, 2)), want: derive.BatchFuture, rule: derive.RuleFutureTimestamp},
	}, func(c *rollup.Config) { c.HoloceneTime = btU64(140) })
}

func btRunSpan(t *testing.T, group string, cases []btSpanCase, base func(*rollup.Config)) {
	for _, c := range cases {
		t.Run(group+"/"+c.name, func(t *testing.T) {
			cfg := btConfig()
			if base != nil {
				base(cfg)
			}
			if c.cfg != nil {
				c.cfg(cfg)
			}
			l1 := c.l1
			if l1 == nil {
				l1 = btL1s(2, 4)
			}
			safe := btL2(10)
			if c.safe != nil {
				safe = *c.safe
			}
			inclusion := btL1(4)
			if c.inclusion != 0 {
				inclusion = btL1(c.inclusion)
			}
			chain := newBTChain(10)
			chain.fail = c.fail
			v, err := derive.CheckSpanBatch(cfg, l1, safe, c.batch, inclusion, chain)
			hv, herr := derive.CheckHoloceneSpanBatch(cfg, l1, safe, c.batch, inclusion, chain)
			if c.wantErr {
				require.ErrorIs(t, err, errBTChain)
				require.ErrorIs(t, herr, errBTChain)
				return
			}
			require.NoError(t, err)
			require.NoError(t, herr)
			require.Equal(t, c.want, v.Validity, "verdict %s", v)
			require.Equal(t, c.rule, v.Rule)

			want := derive.BatchVerdict{Validity: c.want, Rule: c.rule}
			if c.holocene != nil {
				want = *c.holocene
			}
			require.Equal(t, want, hv, "Holocene stage check")
		})
	}
}

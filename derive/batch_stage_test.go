package derive_test

import (
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/derive/derivetest"
	"github.com/faultproof/faultproof/rollup"
)

func TestBatchStageInOrder(t *testing.T) {
	out, src := btScenario(t, btHoloceneConfig(), btNewStage, 6, func(src *btSource) {
		src.post(3, btSingularData(btSingular(btL2Hash(10), 122, 2, btDynTx)),
			btSingularData(btSingular(btL2Hash(11), 124, 2)), btSingularData(btSingular(btL2Hash(12), 126, 2, btAccessTx)))
	})
	want := []btWant{{122, 2, 1, true, 3}, {124, 2, 0, true, 3}, {126, 2, 1, true, 3}}
	btRequireOut(t, append(want, btEmpties(128, 130)...), out)
	require.Zero(t, src.flushes)
}

// TestBatchStageFutureBatchDropsChannel: no reordering from Holocene; a future batch is invalid, and the
// rest of its channel goes with it.
func TestBatchStageFutureBatchDropsChannel(t *testing.T) {
	out, src := btScenario(t, btHoloceneConfig(), btNewStage, 6, func(src *btSource) {
		src.post(3, btSingularData(btSingular(btL2Hash(11), 124, 2, btDynTx)), btSingularData(btSingular(btL2Hash(10), 122, 2, btDynTx)))
		src.post(3, btSingularData(btSingular(btL2Hash(10), 122, 2, btLegacyTx)), btSingularData(btSingular(btL2Hash(11), 124, 2, btAccessTx)))
	})
	want := []btWant{{122, 2, 1, true, 3}, {124, 2, 1, true, 3}}
	btRequireOut(t, append(want, btEmpties(126, 130)...), out)
	require.Equal(t, 1, src.flushes)
	require.Equal(t, btLegacyTx, out[0].batch.Transactions[0])
}

// TestBatchStagePastBatchSkipped: past batches are skipped without dropping the channel.
func TestBatchStagePastBatchSkipped(t *testing.T) {
	cfg := btHoloceneConfig()
	tx9, tx10 := btTx(9, derivetest.DynamicFee), btTx(10, derivetest.DynamicFee)
	out, src := btScenario(t, cfg, btNewStage, 6, func(src *btSource) {
		src.post(3,
			btSingularData(btSingular(btL2Hash(9), 120, 2, btDynTx)),                                           // past
			btSpan(t, cfg, false, btSingular(btL2Hash(8), 118, 1, tx9), btSingular(btL2Hash(9), 120, 2, tx10)), // past span
			btSingularData(btSingular(btL2Hash(10), 122, 2, btDynTx)))
	})
	btRequireOut(t, append([]btWant{{122, 2, 1, true, 3}}, btEmpties(124, 130)...), out)
	require.Zero(t, src.flushes)
}

// TestBatchStageMisalignedBatchSkipped: a batch between the safe head's timestamp and the next one is past
// (RuleMisalignedTimestamp, op-node; the specs would drop it and its channel): skipped, and the next batch
// of its channel is read.
func TestBatchStageMisalignedBatchSkipped(t *testing.T) {
	out, src := btScenario(t, btHoloceneConfig(), btNewStage, 6, func(src *btSource) {
		src.post(3, btSingularData(btSingular(btL2Hash(10), 121, 2, btDynTx)), btSingularData(btSingular(btL2Hash(10), 122, 2, btLegacyTx)))
	})
	require.Zero(t, src.flushes)
	btRequireOut(t, append([]btWant{{122, 2, 1, true, 3}}, btEmpties(124, 130)...), out)
	require.Equal(t, btLegacyTx, out[0].batch.Transactions[0])
}

// TestBatchStageSpanBatchPartialValidity: from Holocene the valid blocks of a span batch before an invalid
// one stay; the invalid one drops the rest of the span and of the channel.
func TestBatchStageSpanBatchPartialValidity(t *testing.T) {
	cfg := btHoloceneConfig()
	out, src := btScenario(t, cfg, btNewStage, 6, func(src *btSource) {
		src.post(3, btSpan(t, cfg, false,
			btSingular(btL2Hash(10), 122, 2, btDynTx), btSingular(btL2Hash(11), 124, 2, btLegacyTx),
			btSingular(btL2Hash(12), 126, 3, btDynTx), // before L1 block 3's time
			btSingular(btL2Hash(13), 128, 3, btDynTx)),
			btSingularData(btSingular(btL2Hash(12), 126, 2, btDynTx))) // same channel: dropped
		src.post(3, btSingularData(btSingular(btL2Hash(12), 126, 2, btAccessTx)))
	})
	want := []btWant{{122, 2, 1, true, 3}, {124, 2, 1, true, 3}, {126, 2, 1, true, 3}}
	btRequireOut(t, append(want, btEmpties(128, 130)...), out)
	require.Equal(t, btAccessTx, out[2].batch.Transactions[0])
	require.Equal(t, 1, src.flushes)
}

func TestBatchStageSpanBatchOverlap(t *testing.T) {
	cfg := btHoloceneConfig()
	tx9, tx10 := btTx(9, derivetest.DynamicFee), btTx(10, derivetest.DynamicFee)
	out, src := btScenario(t, cfg, btNewStage, 6, func(src *btSource) {
		src.post(3, btSpan(t, cfg, false,
			btSingular(btL2Hash(8), 118, 1, tx9), btSingular(btL2Hash(9), 120, 2, tx10),
			btSingular(btL2Hash(10), 122, 2, btLegacyTx), btSingular(btL2Hash(11), 124, 2)))
		// Overlap that does not match the safe chain: dropped with its channel.
		src.post(3, btSpan(t, cfg, false,
			btSingular(btL2Hash(9), 120, 2, btDynTx), btSingular(btL2Hash(10), 122, 2), btSingular(btL2Hash(11), 124, 2),
			btSingular(btL2Hash(12), 126, 2)),
			btSingularData(btSingular(btL2Hash(12), 126, 2, btDynTx)))
	})
	want := []btWant{{122, 2, 1, true, 3}, {124, 2, 0, true, 3}}
	btRequireOut(t, append(want, btEmpties(126, 130)...), out)
	require.Equal(t, 1, src.flushes)
}

// TestBatchStageSpanOriginBehindSafeHead: an overlapping span whose blocks go back in L1 origin is
// dropped with its channel, not a critical error (holocene/derivation.md "Span Batches", the note on
// outdated L1 origins). Span origins never decrease, so the overlapped safe head's block already differs.
func TestBatchStageSpanOriginBehindSafeHead(t *testing.T) {
	cfg := btHoloceneConfig()
	tx9, tx10 := btTx(9, derivetest.DynamicFee), btTx(10, derivetest.DynamicFee)
	out, src := btScenario(t, cfg, btNewStage, 6, func(src *btSource) {
		src.post(3, btSpan(t, cfg, false,
			btSingular(btL2Hash(8), 118, 1, tx9), btSingular(btL2Hash(9), 120, 1, tx10),
			btSingular(btL2Hash(10), 122, 1, btDynTx), btSingular(btL2Hash(11), 124, 2, btDynTx)))
	})
	require.Equal(t, 1, src.flushes)
	btRequireOut(t, btEmpties(122, 130), out)
}

// TestBatchStagesOnUndecidedSpan: a span batch from the L2 genesis (RuleSpanNoParent) is undecided forever.
// Before Holocene it stays first in the queue, which derives nothing more, not even empty batches (op-node:
// the queue stalls until a reset); from Holocene the stage skips it and reads on in its channel.
func TestBatchStagesOnUndecidedSpan(t *testing.T) {
	var fromGenesis []*derive.SingularBatch
	for n := uint64(0); n <= 11; n++ {
		fromGenesis = append(fromGenesis, btSingular(btL2Hash(n-1), btGenesisTime+2*n, n/5))
	}
	post := func(cfg *rollup.Config) func(src *btSource) {
		return func(src *btSource) {
			src.post(3, btSpan(t, cfg, false, fromGenesis...), btSingularData(btSingular(btL2Hash(10), 122, 2, btLegacyTx)))
		}
	}
	out, src := btScenario(t, btConfig(), btNewQueue, 10, post(btConfig()))
	require.Empty(t, out, "the queue stalls")
	require.Equal(t, 10, src.idx, "every L1 block is read")

	cfg := btHoloceneConfig()
	out, src = btScenario(t, cfg, btNewStage, 10, post(cfg))
	require.Zero(t, src.flushes)
	btRequireOut(t, append([]btWant{{122, 2, 1, true, 3}}, btEmpties(124, 170)...), out)
}

func TestBatchStageEmptyBatches(t *testing.T) {
	out, _ := btScenario(t, btHoloceneConfig(), btNewStage, 10, func(*btSource) {})
	btRequireOut(t, btEmpties(122, 170), out)
}

func TestBatchStageTooFewL1Blocks(t *testing.T) {
	src := newBTSource(btL1s(0, 6))
	src.resetTo(3)
	st := derive.NewBatchStage(btHoloceneConfig(), btLog, src, newBTChain(10))
	st.Reset(btL1(3))
	_, _, err := st.NextBatch(btL2(10))
	require.ErrorIs(t, err, derive.ErrCritical)
}

func TestBatchStageFlushSpan(t *testing.T) {
	cfg := btHoloceneConfig()
	src := newBTSource(btL1s(0, 6))
	src.post(3, btSpan(t, cfg, false, btSingular(btL2Hash(10), 122, 2, btDynTx), btSingular(btL2Hash(11), 124, 2, btDynTx)),
		btSingularData(btSingular(btL2Hash(11), 124, 2, btLegacyTx)))
	src.resetTo(3)
	chain := newBTChain(10)
	st := derive.NewBatchStage(cfg, btLog, src, chain)
	st.Reset(btL1(2))
	b := btNext(t, st, btL2(10))
	require.Equal(t, uint64(122), b.Timestamp)
	safe := chain.add(btL2(10), b)
	// The engine replaced the block with a deposit-only one: the rest of the span goes. (The pipeline
	// flushes the channel; here the next batch of the channel is read.)
	st.FlushSpan()
	b = btNext(t, st, safe)
	require.Equal(t, []hexutil.Bytes{btLegacyTx}, b.Transactions)
}

// btNext calls NextBatch until it returns a batch.
func btNext(t *testing.T, st derive.SingularBatchProvider, parent derive.L2BlockRef) *derive.SingularBatch {
	t.Helper()
	for range 100 {
		b, _, err := st.NextBatch(parent)
		if err == nil {
			return b
		}
		require.ErrorIs(t, err, derive.ErrNotEnoughData)
	}
	require.FailNow(t, "no batch")
	return nil
}

func TestBatchStageL2SourceErrorRetries(t *testing.T) {
	cfg := btHoloceneConfig()
	tx9, tx10 := btTx(9, derivetest.DynamicFee), btTx(10, derivetest.DynamicFee)
	src := newBTSource(btL1s(0, 6))
	src.post(3, btSpan(t, cfg, false,
		btSingular(btL2Hash(8), 118, 1, tx9), btSingular(btL2Hash(9), 120, 2, tx10), btSingular(btL2Hash(10), 122, 2, btLegacyTx)))
	src.resetTo(3)
	chain := newBTChain(10)
	chain.fail = true
	st := derive.NewBatchStage(cfg, btLog, src, chain)
	st.Reset(btL1(2))
	_, _, err := st.NextBatch(btL2(10))
	require.ErrorIs(t, err, errBTChain)
	chain.fail = false
	b := btNext(t, st, btL2(10))
	require.Equal(t, []hexutil.Bytes{btLegacyTx}, b.Transactions)
}

// TestBatchMuxHoloceneSwitch: the queue's future batches are dropped at Holocene activation, its L1 blocks
// kept; afterwards batches are checked in order.
func TestBatchMuxHoloceneSwitch(t *testing.T) {
	cfg := btConfig()
	cfg.HoloceneTime = btU64(btL1(4).Time)
	out, src := btScenario(t, cfg, btNewMux, 7, func(src *btSource) {
		src.post(3, btSingularData(btSingular(btL2Hash(11), 124, 2, btDynTx))) // future, buffered by the queue
		src.post(4, btSingularData(btSingular(btL2Hash(10), 122, 2, btDynTx)), // by the Holocene stage
			btSingularData(btSingular(btL2Hash(12), 126, 2, btDynTx))) // future: dropped with the channel
		src.post(5, btSingularData(btSingular(btL2Hash(11), 124, 2, btLegacyTx)))
	})
	want := []btWant{{122, 2, 1, true, 4}, {124, 2, 1, true, 5}}
	btRequireOut(t, append(want, btEmpties(126, 140)...), out)
	require.Equal(t, btLegacyTx, out[1].batch.Transactions[0])
	require.Equal(t, 1, src.flushes)

	// Without Holocene the queue keeps the future batch.
	out, _ = btScenario(t, btConfig(), btNewMux, 7, func(src *btSource) {
		src.post(3, btSingularData(btSingular(btL2Hash(11), 124, 2, btDynTx)))
		src.post(4, btSingularData(btSingular(btL2Hash(10), 122, 2, btDynTx)))
	})
	require.Equal(t, []hexutil.Bytes{btDynTx}, out[1].batch.Transactions)
	require.Equal(t, uint64(4), out[1].at)
}

// TestBatchMuxResetPicksStage: a reset to an L1 block at or after Holocene starts the Holocene stage, one
// before it the queue; a reset back before Holocene goes back to the queue.
func TestBatchMuxResetPicksStage(t *testing.T) {
	cfg := btConfig()
	cfg.HoloceneTime = btU64(btL1(2).Time)
	future := func(src *btSource) {
		src.post(3, btSingularData(btSingular(btL2Hash(11), 124, 2, btDynTx)), btSingularData(btSingular(btL2Hash(10), 122, 2, btDynTx)))
	}
	_, src := btScenario(t, cfg, btNewMux, 6, future)
	require.Equal(t, 1, src.flushes, "Holocene stage from the reset")

	cfg.HoloceneTime = btU64(btL1(3).Time + 1)
	out, src := btScenario(t, cfg, btNewMux, 6, future)
	require.Zero(t, src.flushes, "queue from the reset")
	require.Len(t, out[1].batch.Transactions, 1)

	// One mux, reset on both sides of Holocene.
	cfg.HoloceneTime = btU64(btL1(3).Time)
	src = newBTSource(btL1s(0, 6))
	src.cfg = cfg
	future(src)
	chain := newBTChain(10)
	m := derive.NewBatchMux(cfg, btLog, src, chain)
	src.resetTo(3)
	m.Reset(btL1(3))
	m.Reset(btL1(2))
	src.resetTo(2)
	out, _ = btRun(t, m, src, chain, btL2(10))
	require.Equal(t, 1, src.flushes, "switched to Holocene at L1 block 3")
	require.Empty(t, out[1].batch.Transactions)
}

func TestBatchMuxBeforeReset(t *testing.T) {
	src := newBTSource(btL1s(0, 3))
	m := derive.NewBatchMux(btConfig(), btLog, src, newBTChain(10))
	_, _, err := m.NextBatch(btL2(10))
	require.ErrorIs(t, err, derive.ErrReset)
	require.ErrorIs(t, m.FlushChannel(), derive.ErrCritical, "no Holocene stage to flush")
	require.Zero(t, src.flushes)
	require.Equal(t, btL1(0), m.Origin())
}

// TestBatchStagesIgnoreBadSpanData: a span batch that cannot be derived, or read before Delta, is dropped
// alone.
func TestBatchStagesIgnoreBadSpanData(t *testing.T) {
	for name, cfgOf := range map[string]func() *rollup.Config{"queue": btConfig, "stage": btHoloceneConfig} {
		t.Run(name, func(t *testing.T) {
			cfg := cfgOf()
			cfg.DeltaTime = btU64(btL1(4).Time)
			out, src := btScenario(t, cfg, btNewMux, 6, func(src *btSource) {
				src.post(3, btSpan(t, cfg, false, btSingular(btL2Hash(10), 122, 2, btDynTx)),
					btSingularData(btSingular(btL2Hash(10), 122, 2, btLegacyTx)))
			})
			require.Equal(t, []hexutil.Bytes{btLegacyTx}, out[0].batch.Transactions)
			require.Zero(t, src.flushes)
		})
	}
}

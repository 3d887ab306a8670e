package derive_test

import (
	"errors"
	"io"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/derive/derivetest"
	"github.com/faultproof/faultproof/rollup"
)

// The stage scenarios start at the fixture's safe head, L2 block 10 (time 120, L1 origin 2), with the
// pipeline reset to L1 block 2 and L1 blocks up to 14 to read.

// btWant is an expected derived batch: timestamp, epoch, transaction count, lastInSpan and the L1 block
// being read when it was derived.
type btWant struct {
	ts, epoch uint64
	txs       int
	last      bool
	at        uint64
}

func btRequireOut(t *testing.T, want []btWant, got []btOut) {
	t.Helper()
	var g []btWant
	for _, o := range got {
		g = append(g, btWant{ts: o.batch.Timestamp, epoch: o.batch.EpochNum, txs: len(o.batch.Transactions), last: o.last, at: o.at})
	}
	require.Equal(t, want, g)
}

// btEmpties are the empty batches the fixture generates from timestamp from up to (not including) to,
// the batches of epoch e derived at L1 block e + sequencing window.
func btEmpties(from, to uint64) []btWant {
	var out []btWant
	for ts := from; ts < to; ts += btBlockTime {
		e := (ts - btGenesisTime) / btL1Spacing
		out = append(out, btWant{ts: ts, epoch: e, last: true, at: e + btSeqWindow})
	}
	return out
}

type btStageCtor func(cfg *rollup.Config, src *btSource, chain *btChain) derive.SingularBatchProvider

func btNewQueue(cfg *rollup.Config, src *btSource, chain *btChain) derive.SingularBatchProvider {
	return derive.NewBatchQueue(cfg, btLog, src, chain)
}

func btNewStage(cfg *rollup.Config, src *btSource, chain *btChain) derive.SingularBatchProvider {
	return derive.NewBatchStage(cfg, btLog, src, chain)
}

func btNewMux(cfg *rollup.Config, src *btSource, chain *btChain) derive.SingularBatchProvider {
	return derive.NewBatchMux(cfg, btLog, src, chain)
}

// btScenario runs a stage from the fixture's safe head over L1 blocks 2..last with the batches post
// places, and returns what it derived.
func btScenario(t *testing.T, cfg *rollup.Config, ctor btStageCtor, last uint64, post func(src *btSource)) ([]btOut, *btSource) {
	t.Helper()
	src := newBTSource(btL1s(0, last))
	src.cfg = cfg
	post(src)
	src.resetTo(2)
	chain := newBTChain(10)
	stage := ctor(cfg, src, chain)
	stage.Reset(btL1(2))
	out, _ := btRun(t, stage, src, chain, btL2(10))
	return out, src
}

func TestBatchQueueInOrder(t *testing.T) {
	out, _ := btScenario(t, btConfig(), btNewQueue, 6, func(src *btSource) {
		src.post(3, btSingularData(btSingular(btL2Hash(10), 122, 2, btDynTx)),
			btSingularData(btSingular(btL2Hash(11), 124, 2)), btSingularData(btSingular(btL2Hash(12), 126, 2, btLegacyTx, btAccessTx)))
	})
	want := []btWant{{122, 2, 1, true, 3}, {124, 2, 0, true, 3}, {126, 2, 2, true, 3}}
	btRequireOut(t, append(want, btEmpties(128, 130)...), out)
}

func TestBatchQueueReordersFutureBatches(t *testing.T) {
	out, _ := btScenario(t, btConfig(), btNewQueue, 6, func(src *btSource) {
		src.post(3, btSingularData(btSingular(btL2Hash(12), 126, 2)), btSingularData(btSingular(btL2Hash(11), 124, 2, btDynTx)))
		src.post(4, btSingularData(btSingular(btL2Hash(10), 122, 2, btDynTx)))
	})
	want := []btWant{{122, 2, 1, true, 4}, {124, 2, 1, true, 4}, {126, 2, 0, true, 4}}
	btRequireOut(t, append(want, btEmpties(128, 130)...), out)
}

func TestBatchQueueDropsInvalidBatches(t *testing.T) {
	out, _ := btScenario(t, btConfig(), btNewQueue, 6, func(src *btSource) {
		src.post(3,
			btSingularData(btSingular(btWrongHash, 122, 2, btDynTx)),              // wrong parent
			btSingularData(btSingular(btL2Hash(9), 120, 2, btDynTx)),              // old
			btSingularData(btSingular(btL2Hash(10), 122, 2, btSetCodeTx)),         // set-code before Isthmus
			btSingularData(btSingular(btL2Hash(10), 122, 2, btLegacyTx)),          // valid
			btSingularData(btSingular(btL2Hash(11), 124, 2, btTypedTx(0x7E))),     // deposit
			btSingularData(btSingular(btL2Hash(11), 124, 3, btDynTx)),             // before its origin's time
			btSingularData(btSingular(btL2Hash(11), 124, 2, btDynTx, btAccessTx)), // valid
		)
	})
	want := []btWant{{122, 2, 1, true, 3}, {124, 2, 2, true, 3}}
	btRequireOut(t, append(want, btEmpties(126, 130)...), out)
}

// TestBatchQueueHoloceneBatches: the queue kept past Holocene (op-node's pipeline missed the activation,
// see derive.HoloceneTransform) judges batches by Holocene's rules: a future batch is dropped, and a past
// one is a verdict the queue does not know, a critical error (op-node: "unknown batch validity type").
func TestBatchQueueHoloceneBatches(t *testing.T) {
	out, _ := btScenario(t, btHoloceneConfig(), btNewQueue, 6, func(src *btSource) {
		src.post(3, btSingularData(btSingular(btL2Hash(11), 124, 2, btDynTx)), btSingularData(btSingular(btL2Hash(10), 122, 2, btLegacyTx)),
			btSingularData(btSingular(btL2Hash(11), 124, 2, btAccessTx)))
	})
	btRequireOut(t, append([]btWant{{122, 2, 1, true, 3}, {124, 2, 1, true, 3}}, btEmpties(126, 130)...), out)
	require.Equal(t, btAccessTx, out[1].batch.Transactions[0], "the future batch was dropped, not kept")

	src := newBTSource(btL1s(0, 6))
	src.post(3, btSingularData(btSingular(btL2Hash(9), 120, 2, btDynTx)))
	src.resetTo(2)
	q := derive.NewBatchQueue(btHoloceneConfig(), btLog, src, newBTChain(10))
	q.Reset(btL1(2))
	var err error
	for range 20 {
		if _, _, err = q.NextBatch(btL2(10)); errors.Is(err, io.EOF) {
			src.advance()
		} else if !errors.Is(err, derive.ErrNotEnoughData) {
			break
		}
	}
	require.ErrorIs(t, err, derive.ErrCritical)
}

// TestBatchQueueEmptyBatches checks empty batch generation: nothing before the whole sequencing window of
// the epoch is read, then empty batches on the epoch until the next epoch's L1 time, the first block of
// each epoch on that epoch.
func TestBatchQueueEmptyBatches(t *testing.T) {
	for name, ctor := range map[string]btStageCtor{"queue": btNewQueue, "mux": btNewMux} {
		t.Run(name, func(t *testing.T) {
			out, _ := btScenario(t, btConfig(), ctor, 10, func(*btSource) {})
			btRequireOut(t, btEmpties(122, 170), out)
		})
	}
	// An epoch whose next L1 block comes late gets more blocks: L2 time >= L1 time.
	cfg := btConfig()
	src := newBTSource([]derive.L1BlockRef{btL1(0), btL1(1), btL1(2), btWithL1Time(3, 160), btWithL1Time(4, 170),
		btWithL1Time(5, 180), btWithL1Time(6, 190), btWithL1Time(7, 200)})
	src.resetTo(2)
	chain := newBTChain(10)
	q := derive.NewBatchQueue(cfg, btLog, src, chain)
	q.Reset(btL1(2))
	out, _ := btRun(t, q, src, chain, btL2(10))
	var want []btWant
	for ts := uint64(122); ts < 160; ts += 2 {
		want = append(want, btWant{ts: ts, epoch: 2, last: true, at: 6})
	}
	for ts := uint64(160); ts < 170; ts += 2 {
		want = append(want, btWant{ts: ts, epoch: 3, last: true, at: 7})
	}
	btRequireOut(t, want, out)
}

// TestBatchQueueEmptyBatchFirstOfEpoch: when the next L1 block's time is already reached, an epoch still
// gets its one block.
func TestBatchQueueEmptyBatchFirstOfEpoch(t *testing.T) {
	cfg := btConfig()
	// L1 block 3 at 121: epoch 2's only L2 block is at 122, after it; epoch 3 still gets the block at 124.
	src := newBTSource([]derive.L1BlockRef{btL1(0), btL1(1), btL1(2), btWithL1Time(3, 121), btWithL1Time(4, 123),
		btWithL1Time(5, 150), btWithL1Time(6, 160), btWithL1Time(7, 170), btWithL1Time(8, 180)})
	src.resetTo(2)
	chain := newBTChain(10)
	q := derive.NewBatchQueue(cfg, btLog, src, chain)
	q.Reset(btL1(2))
	out, _ := btRun(t, q, src, chain, btL2(10))
	btRequireOut(t, []btWant{
		{122, 3, 0, true, 7}, // epoch 2 had its block (10), and 122 >= 121: epoch 3
		{124, 4, 0, true, 8}, // 124 >= 123: epoch 4, then until 150
		{126, 4, 0, true, 8},
		{128, 4, 0, true, 8},
	}, out[:4])
}

func TestBatchQueueSpanBatch(t *testing.T) {
	cfg := btConfig()
	out, _ := btScenario(t, cfg, btNewQueue, 6, func(src *btSource) {
		src.post(3, btSpan(t, cfg, false,
			btSingular(btL2Hash(10), 122, 2, btDynTx), btSingular(btL2Hash(11), 124, 2),
			btSingular(btL2Hash(12), 126, 2, btLegacyTx, btDynTx)))
	})
	want := []btWant{{122, 2, 1, false, 3}, {124, 2, 0, false, 3}, {126, 2, 2, true, 3}}
	btRequireOut(t, append(want, btEmpties(128, 130)...), out)
}

func TestBatchQueueSpanBatchOverlap(t *testing.T) {
	cfg := btConfig()
	tx9, tx10 := btTx(9, derivetest.DynamicFee), btTx(10, derivetest.DynamicFee)
	out, _ := btScenario(t, cfg, btNewQueue, 6, func(src *btSource) {
		// Overlapping with different transactions: dropped. Then one that matches the safe chain.
		src.post(3, btSpan(t, cfg, false,
			btSingular(btL2Hash(8), 118, 1, btDynTx), btSingular(btL2Hash(9), 120, 2, tx10), btSingular(btL2Hash(10), 122, 2)))
		src.post(3, btSpan(t, cfg, false,
			btSingular(btL2Hash(8), 118, 1, tx9), btSingular(btL2Hash(9), 120, 2, tx10),
			btSingular(btL2Hash(10), 122, 2, btLegacyTx), btSingular(btL2Hash(11), 124, 2)))
	})
	want := []btWant{{122, 2, 1, false, 3}, {124, 2, 0, true, 3}}
	btRequireOut(t, append(want, btEmpties(126, 130)...), out)
}

// TestBatchQueueSpanBatchAtomic: before Holocene a span batch is valid or invalid as a whole.
func TestBatchQueueSpanBatchAtomic(t *testing.T) {
	cfg := btConfig()
	out, _ := btScenario(t, cfg, btNewQueue, 6, func(src *btSource) {
		src.post(3, btSpan(t, cfg, false,
			btSingular(btL2Hash(10), 122, 2, btDynTx), btSingular(btL2Hash(11), 124, 2, btLegacyTx),
			btSingular(btL2Hash(12), 126, 3, btDynTx))) // before L1 block 3's time: the whole span is dropped
		src.post(3, btSingularData(btSingular(btL2Hash(11), 124, 2, btAccessTx))) // future, kept for later
	})
	btRequireOut(t, append(btEmpties(122, 124), btWant{124, 2, 1, true, 6}, btWant{126, 2, 0, true, 6}, btWant{128, 2, 0, true, 6}), out)
}

// TestBatchQueueSpanRestDroppedOnParentMismatch: the rest of a span batch is dropped when the next parent
// does not follow its previous block (the engine did not take it).
func TestBatchQueueSpanRestDroppedOnParentMismatch(t *testing.T) {
	cfg := btConfig()
	src := newBTSource(btL1s(0, 6))
	src.post(3, btSpan(t, cfg, false,
		btSingular(btL2Hash(10), 122, 2), btSingular(btL2Hash(11), 124, 2), btSingular(btL2Hash(12), 126, 2)))
	src.resetTo(3)
	chain := newBTChain(10)
	q := derive.NewBatchQueue(cfg, btLog, src, chain)
	q.Reset(btL1(2))
	var b *derive.SingularBatch
	var last bool
	var err error
	for b == nil {
		b, last, err = q.NextBatch(btL2(10))
		if err != nil {
			require.ErrorIs(t, err, derive.ErrNotEnoughData)
		}
	}
	require.Equal(t, uint64(122), b.Timestamp)
	require.False(t, last)
	// The block at 122 is not applied: asking again on L2 block 10 drops the rest of the span.
	b, _, err = q.NextBatch(btL2(10))
	require.Nil(t, b)
	require.True(t, errors.Is(err, io.EOF) || errors.Is(err, derive.ErrNotEnoughData), "err %v", err)
}

// TestBatchQueueReplayBehindSafeHead: after a reset to an L1 block before the safe head's origin, the
// batches of the L1 blocks before it are read and discarded.
func TestBatchQueueReplayBehindSafeHead(t *testing.T) {
	for name, ctor := range map[string]btStageCtor{"queue": btNewQueue, "stage": btNewStage} {
		t.Run(name, func(t *testing.T) {
			cfg := btConfig()
			if name == "stage" {
				cfg = btHoloceneConfig()
			}
			src := newBTSource(btL1s(0, 7))
			src.post(0, btSingularData(btSingular(btL2Hash(10), 122, 2, btDynTx)))
			src.post(1, btSingularData(btSingular(btL2Hash(10), 122, 2, btDynTx)))
			src.post(3, btSingularData(btSingular(btL2Hash(11), 124, 2, btLegacyTx)))
			chain := newBTChain(10)
			stage := ctor(cfg, src, chain)
			stage.Reset(btL1(0))
			out, _ := btRun(t, stage, src, chain, btL2(10))
			require.Equal(t, 3, src.read)
			// The batch at 122 was read behind the safe head's origin: the block at 122 is empty.
			if name == "queue" {
				btRequireOut(t, []btWant{{122, 2, 0, true, 6}, {124, 2, 1, true, 6}, {126, 2, 0, true, 6}, {128, 2, 0, true, 6}}, out[:4])
			} else {
				// Holocene: the batch at 124 is a future batch at L1 block 3, dropped.
				btRequireOut(t, btEmpties(122, 130), out[:4])
			}
		})
	}
}

func TestBatchQueueResetOnEpochMismatch(t *testing.T) {
	cfg := btConfig()
	src := newBTSource(btL1s(0, 6))
	src.resetTo(2)
	q := derive.NewBatchQueue(cfg, btLog, src, newBTChain(10))
	q.Reset(btL1(2))
	parent := btL2(10)
	parent.L1Origin.Hash = btWrongHash
	_, _, err := q.NextBatch(parent)
	require.ErrorIs(t, err, derive.ErrReset)
}

// TestBatchQueueL2SourceError: an L2 source failure is returned, and the batch is checked again when the
// call is repeated.
func TestBatchQueueL2SourceError(t *testing.T) {
	cfg := btConfig()
	tx9, tx10 := btTx(9, derivetest.DynamicFee), btTx(10, derivetest.DynamicFee)
	src := newBTSource(btL1s(0, 6))
	src.post(3, btSpan(t, cfg, false,
		btSingular(btL2Hash(8), 118, 1, tx9), btSingular(btL2Hash(9), 120, 2, tx10), btSingular(btL2Hash(10), 122, 2, btLegacyTx)))
	src.resetTo(3)
	chain := newBTChain(10)
	chain.fail = true
	q := derive.NewBatchQueue(cfg, btLog, src, chain)
	q.Reset(btL1(2))
	var err error
	for range 10 {
		if _, _, err = q.NextBatch(btL2(10)); !errors.Is(err, derive.ErrNotEnoughData) {
			break
		}
	}
	require.ErrorIs(t, err, errBTChain)
	chain.fail = false
	b, last, err := q.NextBatch(btL2(10))
	require.NoError(t, err)
	require.True(t, last)
	require.Equal(t, uint64(122), b.Timestamp)
	require.Equal(t, []hexutil.Bytes{btLegacyTx}, b.Transactions)
}

// TestBatchQueueFutureBatchAfterSpan: a future batch read first waits in the queue, in inclusion order,
// until a span batch read later has brought the safe head up to it; the span's blocks are handed out first,
// only its last one marked last.
func TestBatchQueueFutureBatchAfterSpan(t *testing.T) {
	cfg := btConfig()
	out, _ := btScenario(t, cfg, btNewQueue, 9, func(src *btSource) {
		src.post(4, btSingularData(btSingular(btL2Hash(12), 126, 2, btDynTx)))
		src.post(5, btSpan(t, cfg, false, btSingular(btL2Hash(10), 122, 2), btSingular(btL2Hash(11), 124, 2, btLegacyTx)))
	})
	want := []btWant{{122, 2, 0, false, 5}, {124, 2, 1, true, 5}, {126, 2, 1, true, 5}}
	btRequireOut(t, append(want, btEmpties(128, 160)...), out)
	require.Equal(t, btLegacyTx, out[1].batch.Transactions[0])
	require.Equal(t, btDynTx, out[2].batch.Transactions[0])
}

package derive

import (
	"errors"
	"fmt"
	"io"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/rollup"
)

// The pipeline's own work, as op-node's pipeline_test.go tests its own: the reset walk-back, the loop that
// pulls attributes through every stage and advances L1, the Holocene stage switch, and what happens to a
// payload the engine refuses. The world: L1 blocks 12 s apart with a batcher posting calldata, an L2 chain
// of 2-second blocks (6 per L1 block, block n on L1 origin n/6) built from the pipeline's own attributes.

const (
	plL1Spacing = 12
	plGenesis   = 1_000
)

func plU64(v uint64) *uint64 { return &v }

// plWorld is an L1 chain with batcher data and the L2 chain built on it.
type plWorld struct {
	t      *testing.T
	cfg    *rollup.Config
	l1     *fakeL1
	heads  []*types.Header
	nonce  uint64
	blocks map[common.Hash]*types.Block
	byNum  map[uint64]*types.Block
}

func newPLWorld(t *testing.T, l1Blocks int, change func(cfg *rollup.Config)) *plWorld {
	w := &plWorld{t: t, l1: newFakeL1(), blocks: map[common.Hash]*types.Block{}, byNum: map[uint64]*types.Block{}}
	parent := common.Hash{}
	for i := range l1Blocks {
		h := &types.Header{ParentHash: parent, Number: big.NewInt(int64(i)), Time: plGenesis + uint64(i)*plL1Spacing,
			Difficulty: common.Big0, BaseFee: big.NewInt(1_000_000_000), MixDigest: crypto.Keccak256Hash([]byte{byte(i)})}
		w.l1.headers[h.Hash()] = h
		parent = h.Hash()
		w.heads = append(w.heads, h)
	}
	genesis := types.NewBlockWithHeader(&types.Header{Number: common.Big0, Time: plGenesis, Difficulty: common.Big0})
	w.blocks[genesis.Hash()], w.byNum[0] = genesis, genesis
	w.cfg = &rollup.Config{
		BlockTime: 2, SeqWindowSize: 4, MaxSequencerDrift: 60, ChannelTimeoutBedrock: 2,
		L1ChainID: l1Chain, L2ChainID: big.NewInt(901), BatchInboxAddress: inbox,
		Genesis: rollup.Genesis{
			L1: L1BlockRefOf(w.heads[0]).ID(), L2: rollup.BlockID{Hash: genesis.Hash()}, L2Time: plGenesis,
			SystemConfig: rollup.SystemConfig{BatcherAddr: crypto.PubkeyToAddress(batcherK.PublicKey), GasLimit: 30_000_000},
		},
		RegolithTime: plU64(0), CanyonTime: plU64(0), DeltaTime: plU64(0),
	}
	if change != nil {
		change(w.cfg)
	}
	return w
}

func (w *plWorld) l1Ref(n int) L1BlockRef { return L1BlockRefOf(w.heads[n]) }

// origin is the L1 origin of L2 block n.
func (w *plWorld) origin(n uint64) L1BlockRef { return w.l1Ref(int(n / 6)) }

// post adds a batcher transaction with frames to L1 block n.
func (w *plWorld) post(n int, frames ...Frame) {
	data, err := BatcherTxData(frames...)
	require.NoError(w.t, err)
	h := w.heads[n].Hash()
	w.l1.txs[h] = append(w.l1.txs[h], calldataTx(batcherK, w.nonce, inbox, data))
	w.nonce++
}

// channel is the zlib channel data of batches.
func (w *plWorld) channel(batches ...*SingularBatch) []byte {
	co, err := NewChannelOut(ChannelID{byte(len(batches)), byte(w.nonce)}, Zlib, w.cfg.MaxRLPBytesPerChannel(0))
	require.NoError(w.t, err)
	for _, b := range batches {
		require.NoError(w.t, co.AddBatch(NewSingularBatchData(b)))
	}
	require.NoError(w.t, co.Close())
	data, err := co.Data()
	require.NoError(w.t, err)
	return data
}

// batch is the batch of L2 block n with transactions txs, on parent hash parent.
func (w *plWorld) batch(n uint64, parent common.Hash, txs ...hexutil.Bytes) *SingularBatch {
	o := w.origin(n)
	return &SingularBatch{ParentHash: parent, EpochNum: o.Number, EpochHash: o.Hash, Timestamp: plGenesis + 2*n, Transactions: txs}
}

// build makes the L2 block of attrs on parent (no execution: the transactions as they are).
func (w *plWorld) build(parent L2BlockRef, txs [][]byte, time uint64) L2BlockRef {
	var body []*types.Transaction
	for _, enc := range txs {
		var tx types.Transaction
		require.NoError(w.t, tx.UnmarshalBinary(enc))
		body = append(body, &tx)
	}
	h := &types.Header{Number: new(big.Int).SetUint64(parent.Number + 1), ParentHash: parent.Hash, Time: time, Difficulty: common.Big0}
	b := types.NewBlockWithHeader(h).WithBody(types.Body{Transactions: body})
	w.blocks[b.Hash()], w.byNum[b.NumberU64()] = b, b
	ref, err := L2BlockRefOf(w.cfg, b)
	require.NoError(w.t, err)
	return ref
}

// extend builds empty L2 blocks on the world's chain up to number n, each with its L1 info deposit.
func (w *plWorld) extend(n uint64) L2BlockRef {
	ref, err := L2BlockRefOf(w.cfg, w.byNum[0])
	require.NoError(w.t, err)
	for ref.Number < n {
		num := ref.Number + 1
		seq := uint64(0)
		if w.origin(num).Number == ref.L1Origin.Number {
			seq = ref.SequenceNumber + 1
		}
		dep, err := L1InfoDepositBytes(w.cfg, nil, w.cfg.Genesis.SystemConfig, seq, w.heads[num/6], plGenesis+2*num)
		require.NoError(w.t, err)
		ref = w.build(ref, [][]byte{dep}, plGenesis+2*num)
	}
	return ref
}

// The L2 chain as the pipeline reads it.
func (w *plWorld) L2BlockRefByHash(h common.Hash) (L2BlockRef, error) {
	b, ok := w.blocks[h]
	if !ok {
		return L2BlockRef{}, fmt.Errorf("no L2 block %s", h)
	}
	return L2BlockRefOf(w.cfg, b)
}

func (w *plWorld) L2BlockRefByNumber(n uint64) (L2BlockRef, error) {
	b, err := w.PayloadByNumber(n)
	if err != nil {
		return L2BlockRef{}, err
	}
	return L2BlockRefOf(w.cfg, b)
}

func (w *plWorld) PayloadByNumber(n uint64) (*types.Block, error) {
	b, ok := w.byNum[n]
	if !ok {
		return nil, fmt.Errorf("no L2 block %d", n)
	}
	return b, nil
}

func (w *plWorld) SystemConfigByL2Hash(h common.Hash) (rollup.SystemConfig, error) {
	if _, ok := w.blocks[h]; !ok {
		return rollup.SystemConfig{}, fmt.Errorf("no L2 block %s", h)
	}
	return w.cfg.Genesis.SystemConfig, nil
}

// pipeline is a pipeline over the world with the L1 head at L1 block head.
func (w *plWorld) pipeline(head int) *Pipeline {
	p, err := NewPipeline(w.cfg, nil, log.New(), w.l1, w.l1, w, w.heads[head].Hash())
	require.NoError(w.t, err)
	return p
}

// derive runs the attributes loop from safe: it builds each block from its attributes until io.EOF.
func (w *plWorld) derive(p *Pipeline, safe L2BlockRef) ([]*DerivedAttributes, L2BlockRef) {
	var out []*DerivedAttributes
	for range 1000 {
		attrs, err := p.NextAttributes(safe)
		if errors.Is(err, io.EOF) {
			return out, safe
		}
		require.NoError(w.t, err)
		require.Equal(w.t, safe, attrs.Parent)
		out = append(out, attrs)
		safe = w.build(safe, attrs.Attributes.Transactions, attrs.Attributes.Timestamp)
	}
	require.FailNow(w.t, "the pipeline does not reach the L1 head")
	return nil, safe
}

func TestPipelineResetWalkBack(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout uint64 // channel timeout
		safe    uint64 // safe head: L2 block number
		want    uint64 // the L1 block derivation restarts at
	}{
		// Back to the first L2 block whose L1 origin is a channel timeout before the safe head's.
		{"timeout 2, safe head on L1 origin 3", 2, 20, 1},
		{"timeout 1, safe head on L1 origin 3", 1, 20, 2},
		{"timeout 2, safe head first of its epoch", 2, 18, 1},
		// Never before the L2 genesis, nor the L1 genesis.
		{"timeout 10 reaches genesis", 10, 20, 0},
		{"safe head at genesis", 2, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newPLWorld(t, 8, func(c *rollup.Config) { c.ChannelTimeoutBedrock = tc.timeout })
			safe := w.extend(tc.safe)
			p := w.pipeline(7)
			require.NoError(t, p.Reset(safe))
			require.Equal(t, w.l1Ref(int(tc.want)), p.Origin())
			require.Equal(t, p.Origin(), p.batches.Origin(), "every stage starts at the base")
		})
	}

	t.Run("an L2 parent that cannot be read needs a reset", func(t *testing.T) {
		w := newPLWorld(t, 8, nil)
		safe := w.extend(20)
		delete(w.blocks, safe.ParentHash)
		require.ErrorIs(t, w.pipeline(7).Reset(safe), ErrReset)
	})
	t.Run("a safe head whose L1 origin is not canonical needs a reset", func(t *testing.T) {
		w := newPLWorld(t, 8, nil)
		safe := w.extend(20)
		safe.L1Origin.Hash = common.Hash{1}
		require.ErrorIs(t, w.pipeline(7).Reset(safe), ErrReset)
	})
}

// TestPipelineAttributesLoop: after the reset walk-back a channel opened before the safe head's L1 origin
// is read whole; its batches become attributes (the L1 info deposit, then the batch's transactions) on the
// safe head, derived from the L1 block that completed the channel; io.EOF at the L1 head.
func TestPipelineAttributesLoop(t *testing.T) {
	w := newPLWorld(t, 6, nil)
	safe := w.extend(12) // L1 origin 2
	tx := plUserTx(t, w, 0)
	b13 := w.batch(13, safe.Hash, tx)
	h13 := plHashAfter(t, w, safe, b13)
	b14 := w.batch(14, h13)
	data := w.channel(b13, b14)
	id := ChannelID{7}
	w.post(1, Frame{ID: id, FrameNumber: 0, Data: data[:len(data)/2]}) // before the safe head's origin
	w.post(3, Frame{ID: id, FrameNumber: 1, Data: data[len(data)/2:], IsLast: true})

	p := w.pipeline(5)
	require.NoError(t, p.Reset(safe))
	require.Equal(t, uint64(0), p.Origin().Number, "walked back past L1 block 1")
	out, head := w.derive(p, safe)
	require.Len(t, out, 2)
	for i, a := range out {
		n := uint64(13 + i)
		require.Equal(t, plGenesis+2*n, a.Attributes.Timestamp)
		require.Equal(t, w.l1Ref(3), a.DerivedFrom)
		require.True(t, a.LastInSpan)
		require.True(t, a.Attributes.NoTxPool)
		require.Equal(t, uint64(30_000_000), *a.Attributes.GasLimit)
		require.Equal(t, w.heads[2].MixDigest, a.Attributes.Random)
		require.Equal(t, byte(types.DepositTxType), a.Attributes.Transactions[0][0], "the L1 info deposit first")
	}
	require.Equal(t, []hexutil.Bytes{out[0].Attributes.Transactions[0], tx}, plBytes(out[0].Attributes.Transactions))
	require.Len(t, out[1].Attributes.Transactions, 1)
	require.Equal(t, uint64(14), head.Number)
	require.Equal(t, w.l1Ref(5), p.Origin(), "the L1 head is reached")
}

// plUserTx is a signed L2 transaction.
func plUserTx(t *testing.T, w *plWorld, nonce uint64) hexutil.Bytes {
	tx := types.MustSignNewTx(batcherK, types.LatestSignerForChainID(w.cfg.L2ChainID),
		&types.DynamicFeeTx{ChainID: w.cfg.L2ChainID, Nonce: nonce, Gas: 21000, To: &inbox})
	enc, err := tx.MarshalBinary()
	require.NoError(t, err)
	return enc
}

// plHashAfter is the hash of the block the pipeline derives from batch b on safe (the L1 info deposit and
// b's transactions, no execution).
func plHashAfter(t *testing.T, w *plWorld, safe L2BlockRef, b *SingularBatch) common.Hash {
	seq := uint64(0)
	if b.EpochNum == safe.L1Origin.Number {
		seq = safe.SequenceNumber + 1
	}
	dep, err := L1InfoDepositBytes(w.cfg, nil, w.cfg.Genesis.SystemConfig, seq, w.heads[b.EpochNum], b.Timestamp)
	require.NoError(t, err)
	var body []*types.Transaction
	for _, enc := range append([]hexutil.Bytes{dep}, b.Transactions...) {
		var tx types.Transaction
		require.NoError(t, tx.UnmarshalBinary(enc))
		body = append(body, &tx)
	}
	h := &types.Header{Number: new(big.Int).SetUint64(safe.Number + 1), ParentHash: safe.Hash, Time: b.Timestamp, Difficulty: common.Big0}
	return types.NewBlockWithHeader(h).WithBody(types.Body{Transactions: body}).Hash()
}

func plBytes(txs [][]byte) []hexutil.Bytes {
	out := make([]hexutil.Bytes, len(txs))
	for i, tx := range txs {
		out[i] = tx
	}
	return out
}

// TestPipelineHoloceneTransform: the pipeline switches its channel bank and batch stage to Holocene's when
// its L1 origin moves into Holocene, unless an earlier fork activates in the same L1 step (op-node).
func TestPipelineHoloceneTransform(t *testing.T) {
	for _, tc := range []struct {
		name     string
		granite  func(h uint64) *uint64
		holocene bool // the stages are Holocene's after the step
	}{
		{"Holocene alone", func(uint64) *uint64 { return plU64(0) }, true},
		{"Granite in the same L1 step", func(h uint64) *uint64 { return plU64(h - 5) }, false},
		{"Granite at the same time", func(h uint64) *uint64 { return plU64(h) }, false},
		{"Granite one L1 block earlier", func(h uint64) *uint64 { return plU64(h - plL1Spacing) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := uint64(plGenesis + 3*plL1Spacing)
			w := newPLWorld(t, 6, func(c *rollup.Config) {
				c.FjordTime, c.GraniteTime, c.HoloceneTime = plU64(0), tc.granite(h), plU64(h)
			})
			require.Equal(t, tc.holocene, HoloceneTransform(w.cfg, w.l1Ref(2), w.l1Ref(3)))
			p := w.pipeline(5)
			safe := w.extend(0)
			require.NoError(t, p.Reset(safe))
			require.False(t, p.batches.Holocene())
			w.derive(p, safe)
			require.Equal(t, tc.holocene, p.batches.Holocene(), "batch stage")
			require.Equal(t, tc.holocene, p.bank.holocene, "channel bank")
		})
	}
	t.Run("a reset picks the stages of its base", func(t *testing.T) {
		w := newPLWorld(t, 6, func(c *rollup.Config) { c.FjordTime, c.GraniteTime, c.HoloceneTime = plU64(0), plU64(0), plU64(0) })
		p := w.pipeline(5)
		require.NoError(t, p.Reset(w.extend(0)))
		require.True(t, p.batches.Holocene())
		require.True(t, p.bank.holocene)
	})
}

// TestPipelineInvalidPayload: what derivation does with a payload the engine refuses (op-node's engine
// controller).
func TestPipelineInvalidPayload(t *testing.T) {
	userTx := func(w *plWorld, nonce uint64) hexutil.Bytes { return plUserTx(t, w, nonce) }
	// setup posts one channel with the batches of blocks 1 and 2 in L1 block 1 and derives block 1's
	// attributes; holocene is Holocene's time (nil: never), granite Granite's.
	setup := func(t *testing.T, holocene, granite *uint64) (*plWorld, *Pipeline, *DerivedAttributes) {
		w := newPLWorld(t, 6, func(c *rollup.Config) { c.FjordTime, c.GraniteTime, c.HoloceneTime = plU64(0), granite, holocene })
		safe := w.extend(0)
		b1 := w.batch(1, safe.Hash, userTx(w, 0))
		b2 := w.batch(2, plHashAfter(t, w, safe, b1), userTx(w, 1))
		w.post(1, Frame{ID: ChannelID{1}, Data: w.channel(b1, b2), IsLast: true})
		p := w.pipeline(5)
		require.NoError(t, p.Reset(safe))
		attrs, err := p.NextAttributes(safe)
		require.NoError(t, err)
		require.Len(t, attrs.Attributes.Transactions, 2)
		return w, p, attrs
	}

	t.Run("before Holocene: dropped", func(t *testing.T) {
		_, p, attrs := setup(t, nil, nil)
		repl, err := p.InvalidPayload(attrs)
		require.NoError(t, err)
		require.Nil(t, repl)
	})
	t.Run("derived from a Holocene L1 block: deposits only, the rest of the channel flushed", func(t *testing.T) {
		w, p, attrs := setup(t, plU64(0), plU64(0))
		repl, err := p.InvalidPayload(attrs)
		require.NoError(t, err)
		require.Equal(t, attrs.Attributes.Transactions[:1], repl.Transactions)
		require.Equal(t, attrs.Attributes.Timestamp, repl.Timestamp)
		safe := w.build(attrs.Parent, repl.Transactions, repl.Timestamp)
		out, _ := w.derive(p, safe)
		require.NotEmpty(t, out)
		for _, a := range out {
			require.Len(t, a.Attributes.Transactions, 1, "block 2's batch went with the channel: empty batches only")
		}
	})
	t.Run("L2 block before Holocene, derived from an L1 block at Holocene: deposits only (op-node)", func(t *testing.T) {
		// Holocene between L1 blocks 0 and 1: L2 block 1 (time 1002) is before it, L1 block 1 (1012) after.
		holocene := uint64(plGenesis + 10)
		_, p, attrs := setup(t, &holocene, plU64(0))
		require.Less(t, attrs.Attributes.Timestamp, holocene)
		require.GreaterOrEqual(t, attrs.DerivedFrom.Time, holocene)
		repl, err := p.InvalidPayload(attrs)
		require.NoError(t, err)
		require.Equal(t, attrs.Attributes.Transactions[:1], repl.Transactions)
	})
	t.Run("deposits only: no replacement", func(t *testing.T) {
		_, p, attrs := setup(t, plU64(0), plU64(0))
		attrs.Attributes.Transactions = attrs.Attributes.Transactions[:1]
		_, err := p.InvalidPayload(attrs)
		require.ErrorIs(t, err, ErrCritical)
	})
	t.Run("pre-Holocene queue kept past Holocene: no replacement (op-node panics)", func(t *testing.T) {
		_, p, attrs := setup(t, plU64(plGenesis+5), plU64(plGenesis+1))
		require.False(t, p.batches.Holocene())
		require.True(t, p.cfg.IsHolocene(attrs.DerivedFrom.Time))
		_, err := p.InvalidPayload(attrs)
		require.ErrorIs(t, err, ErrCritical)
	})
}

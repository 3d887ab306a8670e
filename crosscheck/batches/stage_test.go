package batches_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/ethereum-optimism/optimism/op-core/forks"
	oprollup "github.com/ethereum-optimism/optimism/op-node/rollup"
	opderive "github.com/ethereum-optimism/optimism/op-node/rollup/derive"
	"github.com/ethereum-optimism/optimism/op-service/eth"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/rollup"
)

// A stream scenario: an L1 chain, and the channels of encoded batches a batcher posts in each L1 block, with
// faults. The sequencer follows the safe chain op-node derives (it rebuilds on the safe head when the two
// part), and the batcher posts its new blocks as singular or span batches. op-node's BatchMux and ours
// read the same bytes from genesis on, each over its own copy of the derived L2 chain, and must derive the
// same batches.

type stream struct {
	p        *chainParams
	l1       []eth.L1BlockRef
	channels map[uint64][][][]byte // by L1 block number: channels of encoded batches
	batches  int

	// The sequencer and batcher.
	unsafe   []seqBlock // from the safe head on
	nextPost uint64     // number of the next block to post
	posted   [][]byte
}

// seqBlock is a block of the sequencer's chain.
type seqBlock struct {
	ref eth.L2BlockRef
	txs []hexutil.Bytes
}

func newStream(rng *rand.Rand) *stream {
	bt := []uint64{1, 2, 2}[rng.Intn(3)]
	l1 := randomL1(rng, 45, int(bt)*[]int{3, 6, 10}[rng.Intn(3)])
	p := &chainParams{
		blockTime: bt,
		seqWindow: uint64(3 + rng.Intn(4)),
		drift:     uint64(6 + rng.Intn(40)),
		genesisL1: l1[0].ID(),
		genesisL2: hashOf("l2 genesis", rng.Uint64()),
	}
	// Forks activate at L1 block times, each in its own L1 step, so that op-node's pipeline reports
	// Holocene's activation (it reports one fork per L1 step).
	at := func(k int) *uint64 { return u64p(l1[k].Time) }
	switch rng.Intn(3) {
	case 0:
		p.forks.delta = u64p(0)
	case 1:
		p.forks.delta = at(2 + rng.Intn(8))
	}
	if p.forks.delta != nil {
		switch rng.Intn(3) {
		case 0:
			p.forks.holocene = u64p(0)
		case 1:
			p.forks.holocene = at(12 + rng.Intn(20))
		}
	}
	if p.forks.holocene != nil {
		p.forks.fjord, p.forks.granite = u64p(0), u64p(0)
		if rng.Intn(2) == 0 {
			p.forks.isthmus = u64p(0)
		}
	}
	return &stream{p: p, l1: l1, channels: map[uint64][][][]byte{}, nextPost: 1}
}

// post generates what the batcher posts in L1 block k, the sequencer following safe (with the transactions
// of the safe chain's blocks in chain).
func (s *stream) post(rng *rand.Rand, pool *txPool, k int, safe eth.L2BlockRef, chain *l2Chain) {
	ours := s.p.ours()
	l1, bt := s.l1, s.p.blockTime
	// Follow the safe head.
	if off := int(safe.Number) - int(s.unsafeBase()); len(s.unsafe) == 0 || off < 0 || off >= len(s.unsafe) || s.unsafe[off].ref != safe {
		s.unsafe = []seqBlock{{ref: safe, txs: chain.txs[safe.Number]}}
	} else {
		s.unsafe = s.unsafe[off:]
	}
	s.nextPost = max(s.nextPost, safe.Number+1)
	if s.nextPost > s.unsafe[len(s.unsafe)-1].ref.Number+1 {
		s.nextPost = safe.Number + 1
	}
	// Build blocks up to the L1 block's time, on L1 origins up to the previous L1 block.
	lag := uint64(rng.Intn(3)) * bt
	for {
		parent := s.unsafe[len(s.unsafe)-1].ref
		ts := parent.Time + bt
		if ts+lag > l1[k].Time {
			break
		}
		epoch := int(parent.L1Origin.Number)
		drift := ours.MaxSequencerDriftAt(l1[epoch].Time)
		if epoch+1 < k && l1[epoch+1].Time <= ts && (rng.Intn(10) < 7 || ts > l1[epoch].Time+drift) {
			epoch++
		}
		var txs []hexutil.Bytes
		if ts <= l1[epoch].Time+ours.MaxSequencerDriftAt(l1[epoch].Time) || rng.Intn(20) == 0 {
			for _, tx := range pool.signedTxs(rng, rng.Intn(3)) {
				if tx[0] != 0x04 || ours.IsIsthmus(ts) || rng.Intn(10) == 0 {
					txs = append(txs, tx)
				}
			}
		}
		if ours.IsActivationBlock(rollup.Karst, ts) || ours.IsActivationBlock(rollup.Jovian, ts) {
			txs = nil
		}
		seqNum := uint64(0)
		if uint64(epoch) == parent.L1Origin.Number {
			seqNum = parent.SequenceNumber + 1
		}
		ref := eth.L2BlockRef{Hash: blockHash(parent.Hash, ts, l1[epoch].ID(), txs), Number: parent.Number + 1,
			ParentHash: parent.Hash, Time: ts, L1Origin: l1[epoch].ID(), SequenceNumber: seqNum}
		s.unsafe = append(s.unsafe, seqBlock{ref: ref, txs: txs})
	}
	if rng.Intn(5) == 0 {
		return // the batcher is late
	}
	base := s.unsafeBase()
	block := func(n uint64) (seqBlock, bool) {
		if n < base || n-base >= uint64(len(s.unsafe)) {
			return seqBlock{}, false
		}
		return s.unsafe[n-base], true
	}
	for range 1 + rng.Intn(3) {
		var ch [][]byte
		for range 1 + rng.Intn(4) {
			first := s.nextPost
			if rng.Intn(12) == 0 && first > base+1 {
				first -= 1 + uint64(rng.Intn(int(min(3, first-base-1)))) // overlap
			}
			maxEpoch := uint64(k - 1)
			span := ours.IsDelta(l1[k].Time) && rng.Intn(2) == 0
			n := uint64(1)
			if span {
				n = 1 + uint64(rng.Intn(5))
			}
			var blocks []*derive.SingularBatch
			for i := first; i < first+n; i++ {
				b, ok := block(i)
				if !ok || b.ref.L1Origin.Number > maxEpoch || i == 0 {
					break
				}
				blocks = append(blocks, &derive.SingularBatch{ParentHash: b.ref.ParentHash, EpochNum: b.ref.L1Origin.Number,
					EpochHash: b.ref.L1Origin.Hash, Timestamp: b.ref.Time, Transactions: b.txs})
			}
			if len(blocks) == 0 {
				break
			}
			s.nextPost = max(s.nextPost, first+uint64(len(blocks)))
			mutateBatches(rng, blocks, pool, span)
			var enc []byte
			var err error
			if span {
				parent, _ := block(first - 1)
				originChanged := blocks[0].EpochNum != parent.ref.L1Origin.Number
				raw, rerr := derive.EncodeSpanBatch(ours, blocks, originChanged)
				if rerr != nil {
					continue // not encodable after mutation
				}
				enc, err = derive.NewSpanBatchData(raw).MarshalBinary()
			} else {
				enc, err = derive.NewSingularBatchData(blocks[0]).MarshalBinary()
			}
			if err != nil {
				panic(err)
			}
			switch r := rng.Intn(30); {
			case r == 0: // lost
				continue
			case r == 1 && len(ch) > 0: // swapped with the previous batch
				ch = append(ch[:len(ch)-1], enc, ch[len(ch)-1])
			case r == 2 && len(s.posted) > 0: // an old batch again, then this one
				ch = append(ch, s.posted[rng.Intn(len(s.posted))], enc)
			default:
				ch = append(ch, enc)
			}
			s.posted = append(s.posted, enc)
		}
		if len(ch) > 0 {
			s.channels[uint64(k)] = append(s.channels[uint64(k)], ch)
			s.batches += len(ch)
		}
	}
}

func (s *stream) unsafeBase() uint64 {
	if len(s.unsafe) == 0 {
		return 0
	}
	return s.unsafe[0].ref.Number
}

// mutateBatches spoils some batches: a wrong parent or epoch hash, or an invalid transaction.
func mutateBatches(rng *rand.Rand, blocks []*derive.SingularBatch, pool *txPool, span bool) {
	for _, b := range blocks {
		switch rng.Intn(60) {
		case 0:
			b.ParentHash = hashOf("bad parent", rng.Uint64())
		case 1:
			b.EpochHash = hashOf("bad epoch", rng.Uint64())
		case 2:
			if !span {
				b.Transactions = append(append([]hexutil.Bytes(nil), b.Transactions...), hexutil.Bytes{0x7E, 0xc0})
			}
		case 3:
			b.Transactions = append(append([]hexutil.Bytes(nil), b.Transactions...), pool.signed[4]) // set-code
		case 4:
			b.Timestamp++ // misaligned (a span batch then fails to encode)
		}
	}
}

// derived is one batch a stage derived.
type derived struct {
	ts, epoch  uint64
	epochHash  common.Hash
	parentHash common.Hash
	txs        string
	last       bool
	at         uint64
}

func (d derived) String() string {
	return fmt.Sprintf("{ts %d epoch %d %x parent %x txs %.16s last %v at %d}", d.ts, d.epoch, d.epochHash[:4], d.parentHash[:4], d.txs, d.last, d.at)
}

func derivedOf(b *derive.SingularBatch, last bool, at uint64) derived {
	return derived{ts: b.Timestamp, epoch: b.EpochNum, epochHash: b.EpochHash, parentHash: b.ParentHash,
		txs: fmt.Sprint(b.Transactions), last: last, at: at}
}

// cursor walks the stream's channels from an L1 block.
type cursor struct {
	s            *stream
	idx, ch, pos int
	flushes      int
	flushLog     []string
}

func (c *cursor) next() ([]byte, bool) {
	chs := c.s.channels[uint64(c.idx)]
	for c.ch < len(chs) && c.pos >= len(chs[c.ch]) {
		c.ch, c.pos = c.ch+1, 0
	}
	if c.ch >= len(chs) {
		return nil, false
	}
	b := chs[c.ch][c.pos]
	c.pos++
	return b, true
}

func (c *cursor) flush() {
	c.flushes++
	c.flushLog = append(c.flushLog, fmt.Sprintf("L1 %d ch %d pos %d", c.idx, c.ch, c.pos))
	c.ch, c.pos = c.ch+1, 0
}

func (c *cursor) advance() bool {
	if c.idx+1 >= len(c.s.l1) {
		return false
	}
	c.idx, c.ch, c.pos = c.idx+1, 0, 0
	return true
}

// ourSource is the stream as faultproof's BatchProvider.
type ourSource struct{ cursor }

func (s *ourSource) Origin() derive.L1BlockRef { return ourL1(s.s.l1[s.idx]) }
func (s *ourSource) FlushChannel()             { s.flush() }
func (s *ourSource) NextBatch() (*derive.BatchData, error) {
	enc, ok := s.next()
	if !ok {
		return nil, io.EOF
	}
	var bd derive.BatchData
	if err := bd.UnmarshalBinary(enc); err != nil {
		return nil, derive.ErrNotEnoughData
	}
	return &bd, nil
}

// opSource is the stream as op-node's NextBatchProvider, doing what its ChannelInReader does with batches.
type opSource struct {
	cursor
	cfg *oprollup.Config
}

func (s *opSource) Origin() eth.L1BlockRef { return s.s.l1[s.idx] }
func (s *opSource) FlushChannel()          { s.flush() }
func (s *opSource) NextBatch(context.Context) (opderive.Batch, error) {
	enc, ok := s.next()
	if !ok {
		return nil, io.EOF
	}
	var bd opderive.BatchData
	if err := bd.UnmarshalBinary(enc); err != nil {
		return nil, opderive.NotEnoughData
	}
	switch bd.GetBatchType() {
	case opderive.SingularBatchType:
		return opderive.GetSingularBatch(&bd)
	case opderive.SpanBatchType:
		if !s.cfg.IsDelta(s.Origin().Time) {
			return nil, opderive.NotEnoughData
		}
		sb, err := opderive.DeriveSpanBatch(&bd, s.cfg)
		if err != nil {
			return nil, opderive.NotEnoughData
		}
		return sb, nil
	}
	return nil, opderive.NotEnoughData
}

// ruleLog records the rules of our stage's verdicts.
type ruleLog struct{ rules []string }

func (h *ruleLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *ruleLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *ruleLog) WithGroup(string) slog.Handler            { return h }
func (h *ruleLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "rule" {
			h.rules = append(h.rules, a.Value.String())
		}
		return true
	})
	return nil
}

const maxSteps = 100_000

// ourRunner drives our BatchMux as the pipeline does.
type ourRunner struct {
	src   *ourSource
	m     *derive.BatchMux
	chain *l2Chain
	safe  eth.L2BlockRef
	out   []derived
	rules *ruleLog
}

func newOurRunner(s *stream) *ourRunner {
	r := &ourRunner{src: &ourSource{cursor{s: s}}, chain: newL2Chain(s.p, s.l1)}
	r.rules = &ruleLog{}
	r.m = derive.NewBatchMux(s.p.ours(), log.NewLogger(r.rules), r.src, ourFetcher{r.chain})
	r.m.Reset(ourL1(s.l1[0]))
	r.safe = r.chain.head()
	return r
}

// toEOF derives until the current L1 block is used up.
func (r *ourRunner) toEOF(t *testing.T) {
	for range maxSteps {
		b, last, err := r.m.NextBatch(ourL2(r.safe))
		switch {
		case err == nil:
			r.out = append(r.out, derivedOf(b, last, uint64(r.src.idx)))
			r.safe = r.chain.add(r.safe, b.Timestamp, eth.BlockID{Hash: b.EpochHash, Number: b.EpochNum}, b.Transactions)
		case errors.Is(err, derive.ErrNotEnoughData):
		case errors.Is(err, io.EOF):
			return
		default:
			require.FailNow(t, fmt.Sprintf("ours: %v", err))
		}
	}
	require.FailNow(t, "ours: no progress")
}

// advance moves to the next L1 block, switching to the Holocene stage as derive.Pipeline does.
func (r *ourRunner) advance() {
	prev := r.src.Origin()
	r.src.advance()
	if derive.HoloceneTransform(r.src.s.p.ours(), prev, r.src.Origin()) {
		r.m.TransformHolocene()
	}
}

// opRunner drives op-node's BatchMux as its pipeline does.
type opRunner struct {
	cfg   *oprollup.Config
	src   *opSource
	m     *opderive.BatchMux
	chain *l2Chain
	safe  eth.L2BlockRef
	out   []derived
	err   error
}

func newOpRunner(t *testing.T, s *stream) *opRunner {
	cfg := s.p.op()
	r := &opRunner{cfg: cfg, src: &opSource{cursor: cursor{s: s}, cfg: cfg}, chain: newL2Chain(s.p, s.l1)}
	r.m = opderive.NewBatchMux(quiet, cfg, r.src, opFetcher{r.chain})
	err := r.m.Reset(context.Background(), s.l1[0], eth.SystemConfig{})
	require.False(t, err != io.EOF, "op-node reset: %v", err)
	r.safe = r.chain.head()
	return r
}

func (r *opRunner) toEOF() {
	if r.err != nil {
		return
	}
	for range maxSteps {
		b, last, err := r.m.NextBatch(context.Background(), r.safe)
		switch {
		case err == nil:
			r.out = append(r.out, derived{ts: b.Timestamp, epoch: uint64(b.EpochNum), epochHash: b.EpochHash, parentHash: b.ParentHash,
				txs: fmt.Sprint(b.Transactions), last: last, at: uint64(r.src.idx)})
			r.safe = r.chain.add(r.safe, b.Timestamp, b.Epoch(), b.Transactions)
		case errors.Is(err, opderive.NotEnoughData):
		case errors.Is(err, io.EOF):
			return
		default:
			r.err = err // e.g. a critical error
			return
		}
	}
	r.err = errors.New("op-node: no progress")
}

// advance moves to the next L1 block, transforming the stages at a fork activation as op-node's pipeline
// does when its origin changes.
func (r *opRunner) advance() {
	old := r.src.Origin()
	r.src.advance()
	if f := r.cfg.IsActivationBlock(old.Time, r.src.Origin().Time); f != forks.None {
		r.m.Transform(f)
	}
}

// runBoth runs both stages over the stream in lockstep, L1 block by L1 block; post(k, safe, chain) adds
// what is posted in L1 block k just before the stages read it, with op-node's safe head and chain.
func runBoth(t *testing.T, s *stream, post func(k int, safe eth.L2BlockRef, chain *l2Chain)) (*ourRunner, *opRunner) {
	our, op := newOurRunner(s), newOpRunner(t, s)
	for k := 0; ; k++ {
		our.toEOF(t)
		op.toEOF()
		if k+1 >= len(s.l1) {
			return our, op
		}
		post(k+1, op.safe, op.chain)
		our.advance()
		op.advance()
	}
}

// TestHoloceneNextToAnotherForkFollowsOpNode: op-node's pipeline reports only the earliest fork activating
// between two L1 origins, so with Granite and Holocene in the same L1 step its BatchMux keeps the
// pre-Holocene queue (derive.HoloceneTransform). Ours does the same.
func TestHoloceneNextToAnotherForkFollowsOpNode(t *testing.T) {
	for _, granite := range []string{"at genesis", "with Holocene"} {
		t.Run(granite, func(t *testing.T) {
			rng := rand.New(rand.NewSource(7))
			s := newStream(rng)
			s.p.blockTime, s.p.seqWindow = 2, 4
			s.p.forks = forkTimes{delta: u64p(0), fjord: u64p(0), granite: u64p(0), holocene: u64p(s.l1[3].Time)}
			if granite == "with Holocene" {
				s.p.forks.granite = s.p.forks.holocene
			}
			tx := newTxPool(8).signed[3]
			genesis := eth.L2BlockRef{Hash: s.p.genesisL2, Time: genesisTime, L1Origin: s.l1[0].ID()}
			b1 := &derive.SingularBatch{ParentHash: genesis.Hash, EpochNum: 0, EpochHash: s.l1[0].Hash, Timestamp: genesisTime + 2,
				Transactions: []hexutil.Bytes{tx}}
			h1 := blockHash(genesis.Hash, b1.Timestamp, s.l1[0].ID(), b1.Transactions)
			b2 := &derive.SingularBatch{ParentHash: h1, EpochNum: 0, EpochHash: s.l1[0].Hash, Timestamp: genesisTime + 4}
			our, op := runBoth(t, s, func(k int, _ eth.L2BlockRef, _ *l2Chain) {
				if k == 3 { // the first Holocene L1 block: a future batch, then the next one, in one channel
					e2, _ := derive.NewSingularBatchData(b2).MarshalBinary()
					e1, _ := derive.NewSingularBatchData(b1).MarshalBinary()
					s.channels[3] = [][][]byte{{e2, e1}}
				}
			})
			require.NoError(t, op.err)
			requireSameDerived(t, op.out, our.out)
			require.Equal(t, op.src.flushes, our.src.flushes)
			if granite == "at genesis" {
				// The Holocene stage: the future batch is invalid and drops the rest of its channel.
				require.Equal(t, "[]", our.out[0].txs)
				require.Equal(t, 1, our.src.flushes)
				return
			}
			// The pre-Holocene queue stays: it drops the future batch alone (Holocene rules) and takes the next.
			require.Equal(t, fmt.Sprint(b1.Transactions), our.out[0].txs)
			require.Zero(t, our.src.flushes)
		})
	}
}

func TestBatchStagesMatchOpNode(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	pool := newTxPool(6)
	results, verdicts := tally{}, tally{}
	batchesIn, batchesOut, empty := 0, 0, 0
	for i := range iterations(1000) {
		s := newStream(rng)
		our, op := runBoth(t, s, func(k int, safe eth.L2BlockRef, chain *l2Chain) { s.post(rng, pool, k, safe, chain) })
		ours, rules, ourFlushes := our.out, our.rules, our.src.flushes
		opOut, opErr, opFlushes := op.out, op.err, op.src.flushes
		for _, r := range rules.rules {
			verdicts[r]++
		}
		for _, d := range ours {
			if d.txs == "[]" {
				empty++
			}
		}
		batchesIn += s.batches
		batchesOut += len(op.out)
		kind := "pre-Holocene"
		if s.p.forks.holocene != nil {
			kind = "Holocene from genesis"
			if *s.p.forks.holocene > 0 {
				kind = "Holocene activation"
			}
		}
		first := len(ours)
		for j := range min(len(ours), len(opOut)) {
			if ours[j] != opOut[j] {
				first = j
				break
			}
		}
		if opErr == nil && first == len(opOut) && len(ours) == len(opOut) && ourFlushes == opFlushes {
			results[kind+": same batches"]++
			continue
		}
		msg := fmt.Sprintf("stream %d (forks%s bt=%d sws=%d drift=%d): first difference at %d; op-node error %v; flushes ours %d op-node %d",
			i, s.p.forks, s.p.blockTime, s.p.seqWindow, s.p.drift, first, opErr, ourFlushes, opFlushes)
		for j := max(0, first-2); j < first+3; j++ {
			var o, p string
			if j < len(ours) {
				o = ours[j].String()
			}
			if j < len(opOut) {
				p = opOut[j].String()
			}
			msg += fmt.Sprintf("\n%d ours %s\n%d op   %s", j, o, j, p)
		}
		require.FailNow(t, msg)
	}
	t.Logf("%d streams, %d batches posted, %d batches derived by op-node (%d without transactions by ours)",
		iterations(1000), batchesIn, batchesOut, empty)
	verdicts.log(t, "our verdicts")
	results.log(t, "streams")
}

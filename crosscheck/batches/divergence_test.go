package batches_test

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/stretchr/testify/require"

	opderive "github.com/ethereum-optimism/optimism/op-node/rollup/derive"
	"github.com/ethereum-optimism/optimism/op-service/eth"

	"github.com/faultproof/faultproof/derive"
)

// The inputs on which the specs and op-node v1.19.6 disagree. faultproof follows op-node (derive/doc.go); each
// case is one such input, judged by both. The world: L1 blocks every 10 s from genesisTime, an L2 chain with
// a block every 2 s whose block n has L1 origin n/5, a sequencing window of 4 and a drift of 30 s.

// dvWorld is that world with the given forks, drift and L1 block times (nil: every 10 s).
func dvWorld(forks forkTimes, drift uint64, l1Times map[int]uint64) (*chainParams, []eth.L1BlockRef, *l2Chain) {
	l1 := make([]eth.L1BlockRef, 12)
	for i := range l1 {
		t := uint64(genesisTime + 10*i)
		if v, ok := l1Times[i]; ok {
			t = v
		}
		l1[i] = eth.L1BlockRef{Hash: hashOf("dv l1", i, t), Number: uint64(i), Time: t}
		if i > 0 {
			l1[i].ParentHash = l1[i-1].Hash
		}
	}
	p := &chainParams{blockTime: 2, seqWindow: 4, drift: drift, forks: forks, genesisL1: l1[0].ID(), genesisL2: hashOf("dv l2 genesis")}
	chain := newL2Chain(p, l1)
	pool := newTxPool(11)
	for n := 1; n <= 20; n++ {
		chain.add(chain.head(), genesisTime+2*uint64(n), l1[n/5].ID(), []hexutil.Bytes{pool.signed[n%len(pool.signed)]})
	}
	return p, l1, chain
}

// dvSpan is a span batch of the blocks of chain from..to (their epochs and transactions), with the parent
// check of block from-1 (or a wrong one at genesis) and the L1 origin check of the last block's epoch.
func dvSpan(l1 []eth.L1BlockRef, chain *l2Chain, from, to int, originBit bool) *derive.SpanBatch {
	s := &derive.SpanBatch{OriginChangedBit: originBit}
	for n := from; n <= to; n++ {
		ts := uint64(genesisTime + 2*n)
		epoch := uint64(n / 5)
		var txs []hexutil.Bytes
		if n < len(chain.txs) {
			epoch, txs = chain.refs[n].L1Origin.Number, chain.txs[n]
		}
		s.Blocks = append(s.Blocks, derive.SpanBatchElement{Timestamp: ts, EpochNum: epoch, Transactions: txs})
	}
	parent := hashOf("no parent")
	if from > 0 {
		parent = chain.refs[from-1].Hash
	}
	copy(s.ParentCheck[:], parent[:20])
	end := l1[s.LastEpochNum()].Hash
	copy(s.L1OriginCheck[:], end[:20])
	return s
}

type dvCase struct {
	name string
	// spec is what the specs say, op what op-node v1.19.6 does, rule our rule for the input.
	spec, op string
	rule     derive.BatchRule

	forks   forkTimes
	drift   uint64
	l1Times map[int]uint64
	safe    int    // L2 safe head number
	window  [2]int // the L1 blocks the stage holds, first and last
	inc     int    // inclusion block
	single  func(l1 []eth.L1BlockRef, chain *l2Chain) *derive.SingularBatch
	span    func(l1 []eth.L1BlockRef, chain *l2Chain) *derive.SpanBatch
	edit    func(l1 []eth.L1BlockRef, s *derive.SpanBatch) // applied to span
	opWant  opderive.BatchValidity
	ourWant derive.BatchValidity
}

// dvCases are the divergences of issue 17 and their neighbours.
func dvCases() []dvCase {
	holocene := forkTimes{delta: u64p(0), fjord: u64p(0), granite: u64p(0), holocene: u64p(0)}
	delta := forkTimes{delta: u64p(0)}
	singular := func(txs ...hexutil.Bytes) func(l1 []eth.L1BlockRef, chain *l2Chain) *derive.SingularBatch {
		return func(l1 []eth.L1BlockRef, chain *l2Chain) *derive.SingularBatch {
			return &derive.SingularBatch{ParentHash: chain.refs[10].Hash, EpochNum: 2, EpochHash: l1[2].Hash,
				Timestamp: genesisTime + 22, Transactions: txs}
		}
	}
	spanOf := func(from, to int, bit bool) func(l1 []eth.L1BlockRef, chain *l2Chain) *derive.SpanBatch {
		return func(l1 []eth.L1BlockRef, chain *l2Chain) *derive.SpanBatch { return dvSpan(l1, chain, from, to, bit) }
	}
	var cases []dvCase
	for _, typ := range []byte{0x03, 0x05, 0x7c, 0x7f} {
		cases = append(cases, dvCase{
			name: fmt.Sprintf("singular batch with a transaction of type %#x", typ),
			spec: "drop (future type > 2)", op: "accept (left to the engine)", rule: derive.RuleValid,
			forks: delta, safe: 10, window: [2]int{2, 4}, inc: 4, single: singular(hexutil.Bytes{typ, 0xc0}),
			opWant: opderive.BatchAccept, ourWant: derive.BatchAccept,
		})
	}
	cases = append(cases,
		dvCase{
			name: "span batch with a transaction of type 0x05 after the safe head",
			spec: "drop (future type > 2)", op: "accept", rule: derive.RuleValid,
			forks: delta, safe: 10, window: [2]int{2, 4}, inc: 4, span: spanOf(11, 12, false),
			edit: func(_ []eth.L1BlockRef, s *derive.SpanBatch) {
				s.Blocks[1].Transactions = []hexutil.Bytes{{0x05, 0xc0}}
			},
			opWant: opderive.BatchAccept, ourWant: derive.BatchAccept,
		},
		dvCase{
			name: "Holocene singular batch with safe.time < timestamp < next_timestamp",
			spec: "drop (not at or before the safe head)", op: "past", rule: derive.RuleMisalignedTimestamp,
			forks: holocene, safe: 10, window: [2]int{2, 4}, inc: 4,
			single: func(l1 []eth.L1BlockRef, chain *l2Chain) *derive.SingularBatch {
				b := singular()(l1, chain)
				b.Timestamp--
				return b
			},
			opWant: opderive.BatchPast, ourWant: derive.BatchPast,
		},
		dvCase{
			name: "span batch from the L2 genesis (no prev_l2_block)",
			spec: "drop", op: "undecided (the parent lookup fails)", rule: derive.RuleSpanNoParent,
			forks: delta, safe: 10, window: [2]int{2, 4}, inc: 4, span: spanOf(0, 11, false),
			opWant: opderive.BatchUndecided, ourWant: derive.BatchUndecided,
		},
		dvCase{
			name: "Holocene span batch from the L2 genesis",
			spec: "drop", op: "undecided", rule: derive.RuleSpanNoParent,
			forks: holocene, safe: 10, window: [2]int{2, 4}, inc: 4, span: spanOf(0, 11, false),
			opWant: opderive.BatchUndecided, ourWant: derive.BatchUndecided,
		},
		dvCase{
			name: "span batch whose last L1 origin is older than the safe head's",
			spec: "drop", op: "undecided (the origin is not among the stage's L1 blocks)", rule: derive.RuleSpanOriginTooOld,
			forks: delta, safe: 12, window: [2]int{2, 4}, inc: 4, span: spanOf(9, 13, false),
			edit: func(l1 []eth.L1BlockRef, s *derive.SpanBatch) {
				for i := range s.Blocks {
					s.Blocks[i].EpochNum = 1
				}
				copy(s.L1OriginCheck[:], l1[1].Hash[:20])
			},
			opWant: opderive.BatchUndecided, ourWant: derive.BatchUndecided,
		},
		dvCase{
			name: "span batch ending on the safe head's L1 origin, no longer buffered, wrong origin hash",
			spec: "drop (l1_origin_check)", op: "undecided", rule: derive.RuleSpanOriginPoppedHash,
			forks: delta, safe: 10, window: [2]int{3, 4}, inc: 4, span: spanOf(11, 11, false),
			edit:   func(_ []eth.L1BlockRef, s *derive.SpanBatch) { s.L1OriginCheck = [20]byte{0xba, 0xd} },
			opWant: opderive.BatchUndecided, ourWant: derive.BatchUndecided,
		},
		dvCase{
			name: "Holocene span batch whose last L1 origin is after the known L1 blocks",
			spec: "drop (l1_origin_check not on the canonical chain)", op: "undecided", rule: derive.RuleSpanOriginUnknown,
			forks: holocene, safe: 10, window: [2]int{2, 4}, inc: 4, span: spanOf(11, 25, false),
			opWant: opderive.BatchUndecided, ourWant: derive.BatchUndecided,
		},
		dvCase{
			// The first block keeps its parent's origin but the batcher set origin_bits[0].
			name: "span batch, first block past the drift, origin_bits[0] = 1 but the origin is the parent's",
			spec: "exempt (origin bit 1): accept", op: "not exempt (origin == parent's): drop", rule: derive.RuleDriftCouldAdoptNext,
			forks: delta, drift: 4, safe: 14, window: [2]int{2, 4}, inc: 4, span: spanOf(15, 15, true),
			edit: func(l1 []eth.L1BlockRef, s *derive.SpanBatch) {
				s.Blocks[0].EpochNum, s.Blocks[0].Transactions = 2, nil
				copy(s.L1OriginCheck[:], l1[2].Hash[:20])
			},
			opWant: opderive.BatchDrop, ourWant: derive.BatchDrop,
		},
		dvCase{
			// The first block adopts the next origin but the batcher left origin_bits[0] clear.
			name: "span batch, first block past the drift, origin_bits[0] = 0 but the origin advanced",
			spec: "not exempt (origin bit 0): drop", op: "exempt (origin == parent's + 1): accept", rule: derive.RuleValid,
			forks: delta, drift: 4, l1Times: map[int]uint64{3: genesisTime + 25, 4: genesisTime + 30},
			safe: 14, window: [2]int{2, 4}, inc: 4, span: spanOf(15, 15, false),
			edit:   func(_ []eth.L1BlockRef, s *derive.SpanBatch) { s.Blocks[0].Transactions = nil },
			opWant: opderive.BatchAccept, ourWant: derive.BatchAccept,
		},
		dvCase{
			name: "span batch (pre-Holocene) with user transactions in the Jovian activation block",
			spec: "drop", op: "accept (the rule is only applied to singular batches)", rule: derive.RuleValid,
			forks: forkTimes{delta: u64p(0), jovian: u64p(genesisTime + 24)}, safe: 10, window: [2]int{2, 4}, inc: 4,
			span: spanOf(11, 12, false), opWant: opderive.BatchAccept, ourWant: derive.BatchAccept,
		},
	)
	return cases
}

func TestDivergencesFollowOpNode(t *testing.T) {
	for _, c := range dvCases() {
		t.Run(c.name, func(t *testing.T) {
			drift := c.drift
			if drift == 0 {
				drift = 30
			}
			p, l1, chain := dvWorld(c.forks, drift, c.l1Times)
			win, inc, safe := l1[c.window[0]:c.window[1]+1], l1[c.inc], chain.refs[c.safe]
			var got derive.BatchVerdict
			var want opderive.BatchValidity
			if c.single != nil {
				b := c.single(l1, chain)
				got = derive.CheckSingularBatch(p.ours(), ourL1s(win), ourL2(safe), b, ourL1(inc))
				want = opCheckSingular(p.op(), win, safe, b, inc)
			} else {
				s := c.span(l1, chain)
				if c.edit != nil {
					c.edit(l1, s)
				}
				var err error
				got, err = derive.CheckSpanBatch(p.ours(), ourL1s(win), ourL2(safe), s, ourL1(inc), ourFetcher{chain})
				require.NoError(t, err)
				want = opCheckSpan(p.op(), win, safe, s, inc, chain)
			}
			require.Equal(t, c.opWant, want, "op-node's verdict (the case is built wrongly)")
			require.Equal(t, int(want), int(got.Validity), "ours %s; specs: %s; op-node: %s", got, c.spec, c.op)
			require.Equal(t, c.ourWant, got.Validity)
			require.Equal(t, c.rule, got.Rule)
		})
	}
}

// TestDivergenceList checks that every case says what the specs and op-node do, has a name of its own and
// builds exactly one batch, and prints the cases as a markdown list (for docs/trust.md's table).
func TestDivergenceList(t *testing.T) {
	names := map[string]bool{}
	for _, c := range dvCases() {
		require.NotEmpty(t, c.name)
		require.False(t, names[c.name], "two cases named %q", c.name)
		names[c.name] = true
		require.NotEmpty(t, c.spec, c.name)
		require.NotEmpty(t, c.op, c.name)
		require.NotEqual(t, c.spec, c.op, "%s: a divergence", c.name)
		require.NotEmpty(t, string(c.rule), c.name)
		require.True(t, (c.single == nil) != (c.span == nil), "%s: one singular or one span batch", c.name)
		t.Logf("- %s: specs %s; op-node %s; faultproof: as op-node (rule %q)", c.name, c.spec, c.op, c.rule)
	}
}

// The verdicts above decide what the stages do: before Holocene an undecided batch stays first in the queue
// and stalls it (no batch, not even an empty one, until a reset: op-program reaches the L1 head and judges
// the claim on the safe head it has); from Holocene the stage skips it without flushing its channel.
func TestUndecidedSpanBatchStagesFollowOpNode(t *testing.T) {
	for _, holocene := range []bool{false, true} {
		t.Run(fmt.Sprintf("holocene=%v", holocene), func(t *testing.T) {
			rng := rand.New(rand.NewSource(21))
			s := newStream(rng)
			s.p.blockTime, s.p.seqWindow = 2, 4
			s.p.forks = forkTimes{delta: u64p(0)}
			if holocene {
				s.p.forks = forkTimes{delta: u64p(0), fjord: u64p(0), granite: u64p(0), holocene: u64p(0)}
			}
			// A span batch from the L2 genesis (rel_timestamp 0), then the batch of block 1.
			genesisSpan := []*derive.SingularBatch{
				{ParentHash: hashOf("none"), EpochNum: 0, EpochHash: s.l1[0].Hash, Timestamp: genesisTime},
				{EpochNum: 0, EpochHash: s.l1[0].Hash, Timestamp: genesisTime + 2},
				{EpochNum: 0, EpochHash: s.l1[0].Hash, Timestamp: genesisTime + 4},
			}
			raw, err := derive.EncodeSpanBatch(s.p.ours(), genesisSpan, false)
			require.NoError(t, err)
			spanEnc, err := derive.NewSpanBatchData(raw).MarshalBinary()
			require.NoError(t, err)
			tx := newTxPool(22).signed[3]
			b1 := &derive.SingularBatch{ParentHash: s.p.genesisL2, EpochNum: 0, EpochHash: s.l1[0].Hash, Timestamp: genesisTime + 2,
				Transactions: []hexutil.Bytes{tx}}
			b1Enc, err := derive.NewSingularBatchData(b1).MarshalBinary()
			require.NoError(t, err)
			our, op := runBoth(t, s, func(k int, _ eth.L2BlockRef, _ *l2Chain) {
				if k == 1 {
					s.channels[1] = [][][]byte{{spanEnc, b1Enc}}
				}
			})
			require.NoError(t, op.err)
			requireSameDerived(t, op.out, our.out)
			require.Equal(t, op.src.flushes, our.src.flushes, "channel flushes")
			if holocene {
				require.NotEmpty(t, op.out)
				require.Equal(t, fmt.Sprint(b1.Transactions), op.out[0].txs, "the span is skipped, the next batch taken")
			} else {
				require.Empty(t, op.out, "the queue stalls on the undecided span")
			}
		})
	}
}

// requireSameDerived compares derived batches and names the first difference.
func requireSameDerived(t *testing.T, op, ours []derived) {
	t.Helper()
	for i := range min(len(op), len(ours)) {
		require.Equal(t, op[i].String(), ours[i].String(), "batch %d", i)
	}
	require.Equal(t, len(op), len(ours), "batches derived by op-node and ours")
}

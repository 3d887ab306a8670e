package batches_test

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	oprollup "github.com/ethereum-optimism/optimism/op-node/rollup"
	opderive "github.com/ethereum-optimism/optimism/op-node/rollup/derive"
	"github.com/ethereum-optimism/optimism/op-service/eth"

	"github.com/faultproof/faultproof/derive"
)

var quiet = log.NewLogger(log.DiscardHandler())

// tally counts outcomes by name.
type tally map[string]int

func (t tally) log(tb testing.TB, what string) {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		tb.Logf("%s: %6d  %s", what, t[k], k)
	}
}

// randomParams draws a chain: block time, sequencing window, drift, and forks off, at genesis, or at a
// time among the first L2 blocks (so that cases fall on both sides of each activation).
func randomParams(rng *rand.Rand, l1 []eth.L1BlockRef) *chainParams {
	p := &chainParams{
		blockTime: []uint64{1, 2, 2, 3}[rng.Intn(4)],
		seqWindow: uint64(2 + rng.Intn(5)),
		drift:     uint64(2 + rng.Intn(40)),
		genesisL1: l1[0].ID(),
		genesisL2: hashOf("l2 genesis", rng.Uint64()),
	}
	when := func() *uint64 {
		switch rng.Intn(4) {
		case 0:
			return nil
		case 1:
			return u64p(0)
		default:
			return u64p(genesisTime + uint64(rng.Intn(200)))
		}
	}
	p.forks = forkTimes{delta: when(), fjord: when(), granite: when(), holocene: when(), isthmus: when(),
		jovian: when(), karst: when(), lagoon: when()}
	if rng.Intn(5) < 3 {
		p.forks.delta = u64p(0) // most span cases after Delta
	}
	return p
}

// randomChain builds an L2 chain of n blocks on l1: L1 origins advance when allowed, mostly.
func randomChain(rng *rand.Rand, p *chainParams, l1 []eth.L1BlockRef, pool *txPool, n int) *l2Chain {
	c := newL2Chain(p, l1)
	epoch := 0
	for range n {
		head := c.head()
		ts := head.Time + p.blockTime
		if epoch+1 < len(l1) && l1[epoch+1].Time <= ts && rng.Intn(10) < 7 {
			epoch++
		}
		c.add(head, ts, l1[epoch].ID(), pool.signedTxs(rng, rng.Intn(3)))
	}
	return c
}

// l1Window picks the L1 blocks the batch stage holds for safe head safe, and an inclusion block.
func l1Window(rng *rand.Rand, p *chainParams, l1 []eth.L1BlockRef, safe eth.L2BlockRef) ([]eth.L1BlockRef, eth.L1BlockRef) {
	start := int(safe.L1Origin.Number)
	if rng.Intn(7) == 0 && start+1 < len(l1) {
		start++ // all empty batches of the safe head's epoch generated
	}
	k := 1 + rng.Intn(int(p.seqWindow)+3)
	end := min(start+k, len(l1))
	win := l1[start:end]
	inc := start + rng.Intn(int(p.seqWindow)+4)
	if rng.Intn(3) == 0 {
		inc = end - 1 // the usual: the current origin
	}
	inc = min(inc, len(l1)-1)
	return win, l1[inc]
}

func TestCheckSingularBatchMatchesOpNode(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	pool := newTxPool(2)
	outcomes := tally{}
	cases := 0
	for range iterations(10000) {
		l1 := randomL1(rng, 40, []int{2, 6, 14, 30}[rng.Intn(4)])
		p := randomParams(rng, l1)
		ours, op := p.ours(), p.op()
		chain := randomChain(rng, p, l1, pool, 60)
		for range 6 {
			cases++
			n := 2 + rng.Intn(50)
			safe := chain.refs[n]
			if rng.Intn(3) == 0 {
				// Around the drift limit of the safe head's origin.
				origin := l1[safe.L1Origin.Number]
				safe.Time = origin.Time + p.drift + uint64(rng.Intn(int(3*p.blockTime))) - p.blockTime
			}
			win, inc := l1Window(rng, p, l1, safe)
			next := safe.Time + p.blockTime
			ts := next
			switch r := rng.Intn(10); {
			case r == 0:
				ts = next + p.blockTime
			case r == 1:
				ts = next - p.blockTime
			case r == 2 && p.blockTime > 1:
				ts = next - 1
			case r == 3 && p.blockTime > 1:
				ts = next + 1
			case r == 4:
				ts = safe.Time - p.blockTime
			}
			parent := safe.Hash
			if rng.Intn(10) == 0 {
				parent = chain.refs[n-1].Hash
			}
			epoch := int(win[0].Number) + []int{-1, 0, 0, 0, 1, 1, 1, 2}[rng.Intn(8)]
			epoch = max(epoch, 0)
			epochHash := hashOf("wrong", rng.Uint64())
			if epoch < len(l1) && rng.Intn(8) > 0 {
				epochHash = l1[epoch].Hash
			}
			txs := pool.txs(rng, rng.Intn(4), 25)
			b := &derive.SingularBatch{ParentHash: parent, EpochNum: uint64(epoch), EpochHash: epochHash, Timestamp: ts, Transactions: txs}

			got := derive.CheckSingularBatch(ours, ourL1s(win), ourL2(safe), b, ourL1(inc))
			want := opCheckSingular(op, win, safe, b, inc)
			outcomes[fmt.Sprintf("%-9s %s", got.Validity, got.Rule)]++
			if int(got.Validity) == int(want) {
				continue
			}
			require.FailNow(t, fmt.Sprintf("case %d: ours %s, op-node %d\nforks%s bt=%d sws=%d drift=%d\nsafe %+v\nl1 %v\ninclusion %v\nbatch ts=%d epoch=%d txs=%x", cases, got, want, p.forks, p.blockTime, p.seqWindow, p.drift, safe, win, inc, ts, epoch, txs))
		}
	}
	t.Logf("%d singular batch cases", cases)
	outcomes.log(t, "verdict")
}

func opCheckSingular(cfg *oprollup.Config, win []eth.L1BlockRef, safe eth.L2BlockRef, b *derive.SingularBatch, inc eth.L1BlockRef) opderive.BatchValidity {
	ob := &opderive.SingularBatch{ParentHash: b.ParentHash, EpochNum: oprollup.Epoch(b.EpochNum), EpochHash: b.EpochHash,
		Timestamp: b.Timestamp, Transactions: b.Transactions}
	return opderive.CheckBatch(context.Background(), cfg, quiet, win, safe,
		&opderive.BatchWithL1InclusionBlock{Batch: ob, L1InclusionBlock: inc}, nil)
}

func TestCheckSpanBatchMatchesOpNode(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	pool := newTxPool(4)
	outcomes := tally{}
	cases := 0
	for range iterations(10000) {
		l1 := randomL1(rng, 40, []int{2, 6, 14, 30}[rng.Intn(4)])
		p := randomParams(rng, l1)
		ours, op := p.ours(), p.op()
		chain := randomChain(rng, p, l1, pool, 60)
		for range 6 {
			cases++
			n := 1 + rng.Intn(50)
			safe := chain.refs[n]
			win, inc := l1Window(rng, p, l1, safe)
			span := randomSpan(rng, p, chain, l1, pool, n)
			got, err := derive.CheckSpanBatch(ours, ourL1s(win), ourL2(safe), span, ourL1(inc), ourFetcher{chain})
			require.NoError(t, err, "case %d", cases)
			want := opCheckSpan(op, win, safe, span, inc, chain)
			outcomes[fmt.Sprintf("%-9s %s", got.Validity, got.Rule)]++
			if int(got.Validity) == int(want) {
				continue
			}
			require.FailNow(t, fmt.Sprintf("case %d: ours %s, op-node %d\nforks%s bt=%d sws=%d drift=%d\nsafe %+v\nl1 %v\ninclusion %v\nspan %s", cases, got, want, p.forks, p.blockTime, p.seqWindow, p.drift, safe, win, inc, spanString(span)))
		}
	}
	t.Logf("%d span batch cases", cases)
	outcomes.log(t, "verdict")
}

func spanString(s *derive.SpanBatch) string {
	out := fmt.Sprintf("parent_check=%x origin_check=%x bit0=%v", s.ParentCheck[:4], s.L1OriginCheck[:4], s.OriginChangedBit)
	for _, b := range s.Blocks {
		out += fmt.Sprintf(" [%d e%d %d txs]", b.Timestamp, b.EpochNum, len(b.Transactions))
	}
	return out
}

// randomSpan builds a span batch around safe head n: overlapping the safe chain or not, mostly consistent
// with it and the L1 chain, with some of every kind of fault.
func randomSpan(rng *rand.Rand, p *chainParams, chain *l2Chain, l1 []eth.L1BlockRef, pool *txPool, n int) *derive.SpanBatch {
	start := n + 1 + []int{-3, -2, -1, 0, 0, 0, 0, 1}[rng.Intn(8)]
	start = max(start, 0)
	if rng.Intn(40) == 0 {
		start = 0 // from genesis: no parent
	}
	count := 1 + rng.Intn(5)
	if start+count <= n && rng.Intn(2) == 0 {
		count = n + 1 - start + rng.Intn(3) // reach past the safe head
	}
	off := uint64(0)
	if p.blockTime > 1 && rng.Intn(12) == 0 {
		off = 1
	}
	s := &derive.SpanBatch{}
	var parentOrigin uint64
	if start > 0 {
		parent := chain.refs[start-1]
		parentOrigin = parent.L1Origin.Number
		copy(s.ParentCheck[:], parent.Hash[:20])
	}
	if start == 0 || rng.Intn(12) == 0 {
		h := hashOf("wrong parent", rng.Uint64())
		copy(s.ParentCheck[:], h[:20])
	}
	epoch := int(parentOrigin)
	for i := range count {
		num := start + i
		ts := uint64(genesisTime) + uint64(num)*p.blockTime + off
		var txs []hexutil.Bytes
		if num < len(chain.refs) && num <= n {
			epoch = int(chain.refs[num].L1Origin.Number)
			if rng.Intn(15) == 0 {
				epoch += []int{-1, 1}[rng.Intn(2)]
			}
			txs = chain.txs[num]
			if rng.Intn(12) == 0 {
				txs = pool.signedTxs(rng, rng.Intn(3))
			}
		} else {
			if epoch+1 < len(l1) && l1[epoch+1].Time <= ts+uint64(rng.Intn(3)) && rng.Intn(3) > 0 {
				epoch++
			}
			if rng.Intn(25) == 0 {
				epoch += []int{-1, 1, 2}[rng.Intn(3)]
			}
			txs = pool.txs(rng, rng.Intn(3), 15)
		}
		epoch = max(epoch, 0)
		s.Blocks = append(s.Blocks, derive.SpanBatchElement{Timestamp: ts, EpochNum: uint64(epoch), Transactions: txs})
	}
	end := int(s.Blocks[len(s.Blocks)-1].EpochNum)
	h := hashOf("wrong origin", rng.Uint64())
	if end < len(l1) && rng.Intn(10) > 0 {
		h = l1[end].Hash
	}
	copy(s.L1OriginCheck[:], h[:20])
	s.OriginChangedBit = start > 0 && s.Blocks[0].EpochNum == parentOrigin+1
	if rng.Intn(10) == 0 {
		s.OriginChangedBit = !s.OriginChangedBit
	}
	return s
}

func opSpan(s *derive.SpanBatch) *opderive.SpanBatch {
	out := &opderive.SpanBatch{ParentCheck: s.ParentCheck, L1OriginCheck: s.L1OriginCheck, GenesisTimestamp: genesisTime, ChainID: chainID}
	for _, b := range s.Blocks {
		out.Batches = append(out.Batches, &opderive.SpanBatchElement{EpochNum: oprollup.Epoch(b.EpochNum), Timestamp: b.Timestamp,
			Transactions: b.Transactions})
	}
	return out
}

func opCheckSpan(cfg *oprollup.Config, win []eth.L1BlockRef, safe eth.L2BlockRef, s *derive.SpanBatch, inc eth.L1BlockRef, chain *l2Chain) opderive.BatchValidity {
	return opderive.CheckBatch(context.Background(), cfg, quiet, win, safe,
		&opderive.BatchWithL1InclusionBlock{Batch: opSpan(s), L1InclusionBlock: inc}, opFetcher{chain})
}

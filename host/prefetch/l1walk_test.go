package prefetch_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/consensus/beacon"
	"github.com/ethereum/go-ethereum/consensus/ethash"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/devnet/devnettest"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/host/prefetch"
	"github.com/faultproof/faultproof/host/sources/wire"
	"github.com/faultproof/faultproof/preimage"
)

// walkBlocks is the length of the walk tests' L1: the head is that many blocks past genesis.
const walkBlocks = 300

// emptyL1 makes walkBlocks empty L1 blocks on the test L1's genesis. Blocks from fork on have the
// coinbase salt, so that two salts make two forks of one chain.
func emptyL1(t *testing.T, fork uint64, salt byte) []*types.Block {
	t.Helper()
	l1, err := devnettest.L1()
	require.NoError(t, err)
	g := l1.Genesis
	_, blocks, _ := core.GenerateChainWithGenesis(g, beacon.New(ethash.NewFaker()), walkBlocks, func(i int, b *core.BlockGen) {
		n := uint64(i + 1)
		b.SetParentBeaconRoot(common.Hash{0xbe, byte(n), byte(n >> 8)})
		if n >= fork {
			b.SetCoinbase(common.Address{salt})
		}
	})
	return append([]*types.Block{g.ToBlock()}, blocks...)
}

type walkEnv struct {
	blocks []*types.Block
	srv    *devnet.Server
	kv     *recordingKV
	p      *prefetch.Prefetcher
}

// newWalkEnv serves blocks as the L1, with the test L2, to a prefetcher with a memory store.
func newWalkEnv(t *testing.T, blocks []*types.Block) *walkEnv {
	t.Helper()
	l1, err := devnettest.L1()
	require.NoError(t, err)
	l2, err := devnettest.L2()
	require.NoError(t, err)
	chain := &devnettest.Chain{L1: &devnettest.L1Chain{Genesis: l1.Genesis, Config: l1.Config, Blocks: blocks}, L2: l2}
	srv, err := devnet.Serve(context.Background(), chain, "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })

	e := &walkEnv{blocks: blocks, srv: srv, kv: &recordingKV{KV: kvstore.NewMem()}}
	stats := prefetch.NewStats()
	e.p, err = prefetch.New(log.NewLogger(log.DiscardHandler()), e.kv, servedSources(t, srv, stats),
		prefetch.Config{Stats: stats, Retry: prefetch.RetryPolicy{MaxAttempts: 2, Clock: &hookClock{}}})
	require.NoError(t, err)
	return e
}

// walk does what the program does to find L1 block to from the head: it asks for the head's header, then
// for each parent's by the hash in its child, each after its hint. It returns the L1 round trips taken.
func (e *walkEnv) walk(t *testing.T, to uint64) int {
	t.Helper()
	before := e.srv.L1().RoundTrips()
	hash := e.blocks[len(e.blocks)-1].Hash()
	for {
		require.NoError(t, e.p.Hint(hint(preimage.HintL1BlockHeader, hash[:])))
		v, err := e.p.GetPreimage(context.Background(), preimage.Keccak256Key(hash).PreimageKey())
		require.NoError(t, err)
		var h types.Header
		require.NoError(t, rlp.DecodeBytes(v, &h))
		require.Equal(t, hash, h.Hash())
		require.Equal(t, e.blocks[h.Number.Uint64()].Hash(), hash, "l1 block %d is not the canonical one", h.Number)
		if h.Number.Uint64() == to {
			return e.srv.L1().RoundTrips() - before
		}
		hash = h.ParentHash
	}
}

// checkStore checks that every value stored is the header of a block of the chain, under its hash, and
// that none of the headers in never was ever written.
func (e *walkEnv) checkStore(t *testing.T, never []*types.Header) {
	t.Helper()
	canonical := map[common.Hash]bool{}
	for _, b := range e.blocks {
		canonical[b.Hash()] = true
	}
	for _, k := range e.kv.keys() {
		v, err := e.kv.Get(k)
		require.NoError(t, err)
		require.NoError(t, preimage.Verify(k, v))
		var h types.Header
		require.NoError(t, rlp.DecodeBytes(v, &h), "stored %s", k)
		require.True(t, canonical[h.Hash()], "stored l1 block %d %s is not on the chain", h.Number, h.Hash())
	}
	for _, h := range never {
		require.NotContains(t, e.kv.keys(), common.Hash(preimage.Keccak256Key(h.Hash()).PreimageKey()), "l1 block %d %s was stored", h.Number, h.Hash())
	}
}

// batchedTrips is how many requests a walk back over n blocks below the head takes when every batch
// chains: one for the head, then batches of one header by hash and WalkFirstAhead by number, twice as
// many each time, up to WalkMaxAhead.
func batchedTrips(n int) int {
	trips, got, ahead := 1, 0, prefetch.WalkFirstAhead
	for got < n {
		got += 1 + ahead
		ahead = min(2*ahead, prefetch.WalkMaxAhead)
		trips++
	}
	return trips
}

func TestL1WalkInBatches(t *testing.T) {
	e := newWalkEnv(t, emptyL1(t, walkBlocks+1, 0))
	trips := e.walk(t, 0)
	t.Logf("walk back over %d blocks: %d round trips", walkBlocks, trips)
	require.Equal(t, batchedTrips(walkBlocks), trips)
	require.Less(t, trips, walkBlocks/prefetch.WalkFirstAhead, "one request per header or so")
	e.checkStore(t, nil)
	require.Len(t, e.kv.keys(), walkBlocks+1, "every header of the chain, once")
	require.Zero(t, e.walk(t, walkBlocks-1), "what is stored is not fetched again")
}

// TestL1WalkDropsHeadersThatDoNotChain: headers asked for by number that are not the parents of the
// headers before them are never stored, whether a node lies about one or has gone over to another fork;
// the walk still finds every header, by hash.
func TestL1WalkDropsHeadersThatDoNotChain(t *testing.T) {
	const fork, lie = 200, 120
	blocks := emptyL1(t, walkBlocks+1, 0)
	other := emptyL1(t, fork, 1)
	require.Equal(t, blocks[fork-1].Hash(), other[fork-1].Hash())
	require.NotEqual(t, blocks[fork].Hash(), other[fork].Hash())
	e := newWalkEnv(t, blocks)

	// The node answers by number from the other fork above the fork point, and with a wrong header at lie.
	var lied *types.Header
	e.srv.L1().SetTamper(func(a *devnet.Answer) {
		if a.Name != "eth_getBlockByNumber" || a.Result == nil {
			return
		}
		var params []json.RawMessage
		var n hexutil.Uint64
		if json.Unmarshal(a.Params, &params) != nil || json.Unmarshal(params[0], &n) != nil {
			t.Errorf("params %s", a.Params)
			return
		}
		var h *types.Header
		switch {
		case n >= fork:
			h = other[n].Header()
		case n == lie:
			h = types.CopyHeader(blocks[n].Header())
			h.Extra = []byte("another header")
			lied = h
		default:
			return
		}
		var err error
		a.Result, err = json.Marshal(wire.Block{Header: h})
		require.NoError(t, err)
	})
	trips := e.walk(t, 0)
	t.Logf("walk back over %d blocks, %d of them answered from another fork, one lie: %d round trips", walkBlocks, walkBlocks-fork+1, trips)
	require.NotNil(t, lied, "the lie was told")
	var never []*types.Header
	for _, b := range other[fork:] {
		never = append(never, b.Header())
	}
	e.checkStore(t, append(never, lied))
	require.Len(t, e.kv.keys(), walkBlocks+1)
	// Above the fork, one header per request (the guess of the next one fails each time); below it,
	// batches again, which start from a single guess after the fork point and after the lie.
	require.LessOrEqual(t, trips, walkBlocks-fork+1+batchedTrips(fork)+2*4)
}

func TestL1WalkNodeWithoutBatches(t *testing.T) {
	e := newWalkEnv(t, emptyL1(t, walkBlocks+1, 0))
	e.srv.L1().RefuseBatches()
	trips := e.walk(t, 0)
	require.Equal(t, walkBlocks+1+prefetch.WalkMaxFailures, trips, "one request per header, after the batches that failed")
	require.Equal(t, prefetch.WalkMaxFailures*prefetch.WalkFirstAhead, e.srv.L1().Requests("eth_getBlockByNumber"))
	e.checkStore(t, nil)
	require.Len(t, e.kv.keys(), walkBlocks+1)
}

func TestL1WalkBatchFailsOnce(t *testing.T) {
	e := newWalkEnv(t, emptyL1(t, walkBlocks+1, 0))
	head := e.blocks[walkBlocks]
	// The head alone, then the first batch fails: its header comes alone, and batches go on.
	require.NoError(t, e.p.Hint(hint(preimage.HintL1BlockHeader, head.Hash().Bytes())))
	_, err := e.p.GetPreimage(context.Background(), preimage.Keccak256Key(head.Hash()).PreimageKey())
	require.NoError(t, err)
	e.srv.L1().Inject("", devnet.Fail502)
	trips := e.walk(t, 0)
	require.Equal(t, 1, e.srv.L1().Injected())
	// The head is stored: the walk starts at its parent, fetched alone after the failed batch; the next
	// batch is the first one of a walk from there.
	require.Equal(t, 2+batchedTrips(walkBlocks-1)-1, trips)
	e.checkStore(t, nil)
}

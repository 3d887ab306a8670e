package prefetch_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/trie"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client"
	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/host/prefetch"
	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// prefetchInterop is a small interop devnet: two chains, Lagoon at block 1, a missing message executed
// on chain 901 at block 4, which consolidation replaces.
var prefetchInterop = sync.OnceValues(func() (*devnet.Interop, error) {
	return devnet.NewInterop(devnet.Config{L2Blocks: 8, Forks: devnet.AllForksAtGenesis(), Interop: &devnet.InteropConfig{
		LagoonAt: 1, Invalid: []devnet.InvalidMessage{{Kind: devnet.InvalidMissing, Chain: 0, Block: 4}},
	}})
})

// interopEnv is an online prefetcher of a super-root claim over the devnet's server: one --l2 per chain.
type interopEnv struct {
	x   *devnet.Interop
	srv *devnet.Server
	kv  *recordingKV
	p   host.Prefetcher
	pre []byte // the agreed prestate: the super root at the devnet's third block
}

func newInteropEnv(t *testing.T, rebuild bool) *interopEnv {
	t.Helper()
	x, err := prefetchInterop()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv, err := devnet.ServeInterop(ctx, x, "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	e := &interopEnv{x: x, srv: srv, kv: &recordingKV{KV: kvstore.NewMem()}}
	super, err := x.SuperRoot(x.GenesisTime() + 2*3)
	require.NoError(t, err)
	e.pre = super.Marshal()
	ic := &host.InteropConfig{AgreedPrestate: e.pre, DepSet: x.DependencySet()}
	for _, d := range x.Chains() {
		ic.Chains = append(ic.Chains, &rollup.ChainConfigs{Rollup: d.Rollup(), L2: d.L2ChainConfig(), L1: d.L1ChainConfig()})
	}
	if rebuild {
		ic.Rebuild = func(_ context.Context, oracle preimage.Oracle, hinter preimage.Hinter, chain *rollup.ChainConfigs, size int, l1Head, agreed common.Hash) (*prefetch.RebuiltBlock, error) {
			r, err := client.RebuildOptimisticBlock(log.Root(), oracle, hinter, client.RebuildRequest{Chain: chain, DependencySetSize: size, L1Head: l1Head, Agreed: agreed})
			if err != nil {
				return nil, err
			}
			return &prefetch.RebuiltBlock{Block: r.Block, Receipts: r.Receipts, State: r.State}, nil
		}
	}
	cfg := &host.Config{Interop: ic, L1Head: x.L1Head().Hash(), L1URL: srv.L1URL(), L1BeaconURL: srv.BeaconURL(), L2URLs: srv.L2URLs()}
	e.p, err = host.NewOnlinePrefetcher(ctx, log.NewLogger(log.DiscardHandler()), cfg, e.kv)
	require.NoError(t, err)
	return e
}

// get sends the hint and reads the key.
func (e *interopEnv) get(t *testing.T, typ string, data []byte, key preimage.Key) ([]byte, error) {
	t.Helper()
	require.NoError(t, e.p.Hint(hint(typ, data)))
	return e.p.GetPreimage(context.Background(), key.PreimageKey())
}

// TestInteropAgreedPrestateAndOutputs: agreed-pre-state serves the configured prestate for its hash
// only; l2-output (op-program) and l2-output-root (kona) serve each chain's output at the prestate's
// timestamp, from that chain's node, and refuse a root that is not it.
func TestInteropAgreedPrestateAndOutputs(t *testing.T) {
	e := newInteropEnv(t, false)
	root := crypto.Keccak256Hash(e.pre)
	v, err := e.get(t, preimage.HintAgreedPreState, root.Bytes(), preimage.Keccak256Key(root))
	require.NoError(t, err)
	require.Equal(t, e.pre, v)
	_, err = e.get(t, preimage.HintAgreedPreState, common.Hash{1}.Bytes(), preimage.Keccak256Key(common.Hash{1}))
	require.ErrorContains(t, err, "but the agreed prestate is")

	pre, err := interop.UnmarshalPreState(e.pre)
	require.NoError(t, err)
	for i, c := range pre.Super.Chains {
		d := e.x.Chains()[i]
		for _, typ := range []string{preimage.HintL2Output, preimage.HintL2OutputRoot} {
			v, err := e.get(t, typ, cat(c.Output.Bytes(), u64(c.ChainID)), preimage.Keccak256Key(c.Output))
			require.NoError(t, err, typ)
			out, err := l2.UnmarshalOutput(v)
			require.NoError(t, err)
			require.Equal(t, d.L2Block(3).Hash(), out.BlockHash, "chain %d's block at the prestate's timestamp", c.ChainID)
		}
		// A root that is not the chain's output at that time.
		other := common.Hash{byte(i + 1)}
		_, err := e.get(t, preimage.HintL2OutputRoot, cat(other.Bytes(), u64(c.ChainID)), preimage.Keccak256Key(other))
		require.ErrorContains(t, err, "not the requested")
	}
	_, err = e.get(t, preimage.HintL2Output, cat(common.Hash{2}.Bytes(), u64(999)), preimage.Keccak256Key(common.Hash{2}))
	require.ErrorContains(t, err, "chain 999: no rollup config")
}

// TestInteropL2HintsByChain: hints that name a chain are fetched from that chain's node; a chain without
// a node, or a hint without a chain when there are several, is refused.
func TestInteropL2HintsByChain(t *testing.T) {
	e := newInteropEnv(t, false)
	for _, d := range e.x.Chains() {
		b := d.L2Block(5)
		id := d.Rollup().ChainID()
		v, err := e.get(t, preimage.HintL2BlockHeader, cat(b.Hash().Bytes(), u64(id)), preimage.Keccak256Key(b.Hash()))
		require.NoError(t, err)
		require.Equal(t, b.Hash(), crypto.Keccak256Hash(v))
		_, err = e.get(t, preimage.HintL2Receipts, cat(b.Hash().Bytes(), u64(id)), preimage.Keccak256Key(b.ReceiptHash()))
		require.NoError(t, err)

		// kona's account and storage proof, by hash and by number: the message passer's slot 0.
		for _, block := range [][]byte{b.Hash().Bytes(), u64(b.NumberU64())} {
			require.NoError(t, e.p.Hint(hint(preimage.HintL2AccountStorageProof, cat(block, params.OptimismL2ToL1MessagePasser.Bytes(), common.Hash{}.Bytes(), u64(id)))))
			_, err = e.p.GetPreimage(context.Background(), preimage.Keccak256Key(b.Root()).PreimageKey())
			require.NoError(t, err, "the state root node is the first of the account proof")
		}
		// op-program's account proof by hash, kona's old form by number.
		for _, block := range [][]byte{b.Hash().Bytes(), u64(b.NumberU64())} {
			require.NoError(t, e.p.Hint(hint(preimage.HintL2AccountProof, cat(block, params.OptimismL2ToL1MessagePasser.Bytes(), u64(id)))))
		}
	}
	other := e.x.Chains()[1].L2Block(6) // not fetched yet
	_, err := e.get(t, preimage.HintL2BlockHeader, cat(other.Hash().Bytes(), u64(12345)), preimage.Keccak256Key(other.Hash()))
	require.ErrorIs(t, err, prefetch.ErrNoL2Source)
	_, err = e.get(t, preimage.HintL2BlockHeader, other.Hash().Bytes(), preimage.Keccak256Key(other.Hash()))
	require.ErrorIs(t, err, prefetch.ErrNoL2Source, "a hint without a chain ID, with two chains")
	require.NoError(t, e.p.Hint(hint(preimage.HintL2AccountStorageProof, make([]byte, 50))), "hints are read when a key is missed")
	_, err = e.p.GetPreimage(context.Background(), preimage.Keccak256Key{0xaa}.PreimageKey())
	require.ErrorContains(t, err, "want 92 (block hash) or 68 (block number)")
}

// TestInteropBlockData: l2-block-data stores nothing for a block the node has, or for a chain that did
// not move; for the optimistic block consolidation replaced, which the node does not have, the host
// rebuilds it from L1 and stores its header, transactions and receipts, which the program then reads
// from the store. Without a rebuilder, or for a block the rebuild does not make, the hint fails.
func TestInteropBlockData(t *testing.T) {
	x, err := prefetchInterop()
	require.NoError(t, err)
	var r devnet.Replacement
	for _, r = range x.Replacements() {
		if r.Round == 0 {
			break
		}
	}
	require.NotZero(t, r.Optimistic, "the devnet replaces a block")
	var d *devnet.Devnet
	for _, c := range x.Chains() {
		if c.Rollup().ChainID() == r.Chain {
			d = c
		}
	}
	agreed := d.L2Block(r.Block - 1).Hash()
	data := func(agreed, block common.Hash) []byte { return cat(agreed.Bytes(), block.Bytes(), u64(r.Chain)) }

	e := newInteropEnv(t, true)
	before := len(e.kv.keys())
	require.NoError(t, e.p.Hint(hint(preimage.HintL2BlockData, data(agreed, agreed))), "a chain that did not move")
	require.NoError(t, e.p.Hint(hint(preimage.HintL2BlockData, data(agreed, r.Replacement))), "the node's block")
	require.Len(t, e.kv.keys(), before, "nothing stored for blocks the node has")

	// On another agreed block, the rebuild makes another block.
	require.ErrorContains(t, e.p.Hint(hint(preimage.HintL2BlockData, data(d.L2Block(r.Block-2).Hash(), r.Optimistic))), "not "+r.Optimistic.Hex())
	require.ErrorContains(t, e.p.Hint(hint(preimage.HintL2BlockData, make([]byte, 40))), "want 72")

	require.NoError(t, e.p.Hint(hint(preimage.HintL2BlockData, data(agreed, r.Optimistic))))
	oracle := l2.NewChainOracle(storeOracle{e.kv}, nopHinter{}, r.Chain)
	block, err := oracle.BlockByHash(r.Optimistic)
	require.NoError(t, err, "the rebuilt block is in the store")
	require.Equal(t, agreed, block.ParentHash())
	receipts, err := oracle.ReceiptsByHash(r.Optimistic)
	require.NoError(t, err)
	require.Equal(t, block.ReceiptHash(), types.DeriveSha(receipts, trie.NewStackTrie(nil)))
	var msgs int
	for _, rc := range receipts {
		for _, l := range rc.Logs {
			if m, _ := interop.ExecutingMessageFromLog(l); m != nil {
				msgs++
			}
		}
	}
	require.NotZero(t, msgs, "the rebuilt block holds the executing messages consolidation checks")
	// Its output is the devnet's optimistic one, and its state, which op-program's consolidation reads, is
	// stored: the message passer's storage root read from it is the one its header commits to.
	chain, err := l2.NewChain(d.Rollup(), d.L2ChainConfig(), oracle, r.Optimistic)
	require.NoError(t, err)
	out, err := chain.OutputAt(r.Optimistic)
	require.NoError(t, err)
	idx := slices.IndexFunc(x.Chains(), func(c *devnet.Devnet) bool { return c == d })
	want, err := x.OptimisticBlock(idx, d.L2Block(r.Block).Time()-1)
	require.NoError(t, err)
	require.Equal(t, want.OutputRoot, out.Root())
	sdb, err := chain.StateAt(block.Root())
	require.NoError(t, err)
	require.Equal(t, *block.Header().WithdrawalsHash, sdb.GetStorageRoot(params.OptimismL2ToL1MessagePasser), "the rebuilt block's state is in the store")

	norebuild := newInteropEnv(t, false)
	require.ErrorContains(t, norebuild.p.Hint(hint(preimage.HintL2BlockData, data(agreed, r.Optimistic))), "cannot rebuild")
}

// storeOracle reads a store as the program's oracle does, checking each value against its key.
type storeOracle struct{ kv kvstore.KV }

func (o storeOracle) Get(key preimage.Key) ([]byte, error) {
	k := key.PreimageKey()
	v, err := o.kv.Get(common.Hash(k))
	if err != nil {
		return nil, err
	}
	return v, preimage.Verify(k, v)
}

type nopHinter struct{}

func (nopHinter) Hint(preimage.Hint) error { return nil }

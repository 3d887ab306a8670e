package prefetch

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/devnet/devnettest"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/host/sources"
	"github.com/faultproof/faultproof/preimage"
)

// mockChain answers as the sources do, in process and without checking (the routes check), from a test
// chain: devnettest's L1 (blocks, receipts, blobs) or its L2 (blocks, state, code, proofs, outputs,
// execution witnesses).
type mockChain struct {
	blocks   map[common.Hash]*types.Block
	receipts map[common.Hash]types.Receipts // the L1's
	blobs    []devnettest.BlobRef           // the L1's
	l2       *devnet.L2Builder              // nil for the L1
	db       map[[32]byte][]byte            // the L2's preimages, as debug_dbGet reads them
}

func newL1Mock(c *devnettest.L1Chain) mockChain {
	m := mockChain{blocks: map[common.Hash]*types.Block{}, receipts: map[common.Hash]types.Receipts{}, blobs: c.Blobs}
	for n, b := range c.Blocks {
		m.blocks[b.Hash()] = b
		m.receipts[b.Hash()] = c.Receipts[n]
	}
	return m
}

func newL2Mock(b *devnet.L2Builder) (mockChain, error) {
	db, err := b.Preimages()
	if err != nil {
		return mockChain{}, err
	}
	m := mockChain{blocks: map[common.Hash]*types.Block{}, l2: b, db: db}
	for n := uint64(0); n <= b.Head().NumberU64(); n++ {
		m.blocks[b.Block(n).Hash()] = b.Block(n)
	}
	return m, nil
}

func (m mockChain) block(hash common.Hash) (*types.Block, error) {
	if blk, ok := m.blocks[hash]; ok {
		return blk, nil
	}
	return nil, fmt.Errorf("block %s: %w", hash, sources.ErrNotFound)
}

// state opens the L2 state at root.
func (m mockChain) state(root common.Hash) (*state.StateDB, error) {
	if m.l2 == nil {
		return nil, errors.New("no L1 state")
	}
	return m.l2.StateAt(root)
}

func (m mockChain) HeaderByHash(_ context.Context, hash common.Hash) (*types.Header, error) {
	blk, err := m.block(hash)
	if err != nil {
		return nil, err
	}
	return blk.Header(), nil
}

func (m mockChain) BlockHashByNumber(_ context.Context, n uint64) (common.Hash, error) {
	if m.l2 != nil && n <= m.l2.Head().NumberU64() {
		return m.l2.Block(n).Hash(), nil
	}
	return common.Hash{}, fmt.Errorf("block %d: %w", n, sources.ErrNotFound)
}

func (m mockChain) BlockByHash(_ context.Context, hash common.Hash) (*sources.Block, error) {
	blk, err := m.block(hash)
	if err != nil {
		return nil, err
	}
	enc, err := rlp.EncodeToBytes(blk.Header())
	if err != nil {
		return nil, err
	}
	txs := make([][]byte, len(blk.Transactions()))
	for i, tx := range blk.Transactions() {
		if txs[i], err = tx.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	return &sources.Block{Header: blk.Header(), HeaderRLP: enc, Transactions: txs}, nil
}

func (m mockChain) ReceiptsByHash(_ context.Context, hash common.Hash) (*sources.Receipts, error) {
	blk, err := m.block(hash)
	if err != nil {
		return nil, err
	}
	rs, ok := m.receipts[hash]
	if !ok {
		return nil, fmt.Errorf("receipts of %s: %w", hash, sources.ErrNotFound)
	}
	enc := make([][]byte, len(rs))
	for i := range rs {
		var buf bytes.Buffer
		rs.EncodeIndex(i, &buf)
		enc[i] = buf.Bytes()
	}
	return &sources.Receipts{Header: blk.Header(), Encoded: enc}, nil
}

func (m mockChain) ReceiptsOf(ctx context.Context, header *types.Header) (*sources.Receipts, error) {
	return m.ReceiptsByHash(ctx, header.Hash())
}

func (m mockChain) dbGet(key []byte) ([]byte, error) {
	// Trie nodes and code by hash, code also under 'c' ++ hash.
	if len(key) == 33 && key[0] == 'c' {
		key = key[1:]
	}
	if len(key) == 32 {
		if v, ok := m.db[preimage.Keccak256Key(common.Hash(key)).PreimageKey()]; ok {
			return v, nil
		}
	}
	return nil, fmt.Errorf("database key %x: %w", key, sources.ErrNotFound)
}

func (m mockChain) CodeByHash(_ context.Context, hash common.Hash) ([]byte, error) {
	return m.dbGet(append([]byte{'c'}, hash[:]...))
}

func (m mockChain) NodeByHash(_ context.Context, hash common.Hash) ([]byte, error) {
	return m.dbGet(hash[:])
}

// proofList collects proof nodes as trie.Prove writes them.
type proofList [][]byte

func (l *proofList) Put(_ []byte, value []byte) error {
	*l = append(*l, common.CopyBytes(value))
	return nil
}
func (l *proofList) Delete([]byte) error { return nil }

func (m mockChain) GetProof(_ context.Context, addr common.Address, slots []common.Hash, blockHash common.Hash) (*sources.AccountProof, error) {
	blk, err := m.block(blockHash)
	if err != nil {
		return nil, err
	}
	st, err := m.state(blk.Root())
	if err != nil {
		return nil, err
	}
	tr, err := st.Database().OpenTrie(blk.Root())
	if err != nil {
		return nil, err
	}
	var acc proofList
	if err := tr.Prove(crypto.Keccak256(addr[:]), &acc); err != nil {
		return nil, err
	}
	p := &sources.AccountProof{Address: addr, Nonce: st.GetNonce(addr), Balance: st.GetBalance(addr).ToBig(),
		CodeHash: st.GetCodeHash(addr), StorageHash: st.GetStorageRoot(addr), AccountProof: acc}
	for _, slot := range slots {
		var sp proofList
		if p.StorageHash != (common.Hash{}) && p.StorageHash != types.EmptyRootHash {
			str, err := st.Database().OpenStorageTrie(blk.Root(), addr, p.StorageHash, tr)
			if err != nil {
				return nil, err
			}
			if err := str.Prove(crypto.Keccak256(slot[:]), &sp); err != nil {
				return nil, err
			}
		}
		p.StorageProof = append(p.StorageProof, sources.StorageProof{Key: slot, Value: st.GetState(addr, slot).Big(), Proof: sp})
	}
	return p, nil
}

func (m mockChain) OutputAt(_ context.Context, blockHash common.Hash) (*l2.Output, *types.Header, error) {
	blk, err := m.block(blockHash)
	if err != nil {
		return nil, nil, err
	}
	st, err := m.state(blk.Root())
	if err != nil {
		return nil, nil, err
	}
	return &l2.Output{StateRoot: blk.Root(), MessagePasserStorageRoot: st.GetStorageRoot(params.OptimismL2ToL1MessagePasser),
		BlockHash: blockHash}, blk.Header(), nil
}

func (m mockChain) ExecutePayload(_ context.Context, parent common.Hash, _ json.RawMessage) (*sources.ExecutionWitness, error) {
	p, err := m.block(parent)
	if err != nil {
		return nil, err
	}
	if m.l2 == nil || p.NumberU64() >= m.l2.Head().NumberU64() {
		return nil, fmt.Errorf("no block on %s", parent)
	}
	w, err := m.l2.ExecutionWitness(p.NumberU64() + 1)
	if err != nil {
		return nil, err
	}
	out := &sources.ExecutionWitness{}
	for _, s := range w.State {
		out.State = append(out.State, []byte(s))
	}
	for _, c := range w.Codes {
		out.Codes = append(out.Codes, []byte(c))
	}
	return out, nil
}

func (m mockChain) BlobsByHashes(_ context.Context, ts uint64, vhs []common.Hash) ([]*sources.Blob, error) {
	var out []*sources.Blob
	for _, vh := range vhs {
		for _, ref := range m.blobs {
			if ref.VersionedHash == vh {
				out = append(out, &sources.Blob{VersionedHash: vh, Commitment: ref.Commitment, Blob: ref.Blob})
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("blobs at %d: %w", ts, sources.ErrNotFound)
	}
	return out, nil
}

// routeFixture is the test chains and their mock sources, made once per fuzzing process.
type routeFixture struct {
	l1   *devnettest.L1Chain
	l2   *devnet.L2Builder
	src  Sources
	seed []string // a real hint for every route
}

var (
	routeFixtureOnce sync.Once
	routeFix         *routeFixture
	routeFixErr      error
)

func loadRouteFixture() (*routeFixture, error) {
	routeFixtureOnce.Do(func() {
		f := &routeFixture{}
		if f.l1, routeFixErr = devnettest.L1(); routeFixErr != nil {
			return
		}
		if f.l2, routeFixErr = devnettest.L2(); routeFixErr != nil {
			return
		}
		l1 := newL1Mock(f.l1)
		l2, err := newL2Mock(f.l2)
		if err != nil {
			routeFixErr = err
			return
		}
		f.src = Sources{L1: l1, Blobs: l1, L2: l2, L2Experimental: l2}
		f.seed, routeFixErr = f.seedHints()
		routeFix = f
	})
	return routeFix, routeFixErr
}

// seedHints is a real hint of every route (and both forms where a route takes two), as the program sends
// them for the test chains.
func (f *routeFixture) seedHints() ([]string, error) {
	h := func(typ string, parts ...[]byte) string {
		return preimage.TypedHint{Type: typ, Data: bytes.Join(parts, nil)}.Hint()
	}
	u64 := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	b := f.l2
	chainID := b.Config().ChainID.Uint64()
	l1b, l2b := f.l1.Blocks[1], b.Block(3)
	ref := f.l1.Blobs[0]
	ts := f.l1.Blocks[ref.Block].Time()

	// Precompile calls: a real ecrecover, a failing point evaluation, a BLS G1 addition of the generator to
	// itself and an empty pairing.
	key, _ := crypto.HexToECDSA("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
	msg := crypto.Keccak256([]byte("fuzz"))
	sig, err := crypto.Sign(msg, key)
	if err != nil {
		return nil, err
	}
	ecInput := bytes.Join([][]byte{msg, common.LeftPadBytes([]byte{sig[64] + 27}, 32), sig[:64]}, nil)
	addr := func(b byte) []byte { return common.BytesToAddress([]byte{b}).Bytes() }
	g1 := common.FromHex("0x0000000000000000000000000000000017f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb0000000000000000000000000000000008b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1")

	attrs, err := json.Marshal(b.Attributes(4))
	if err != nil {
		return nil, err
	}
	witness, err := json.Marshal(map[string]any{"parentBlockHash": b.Block(3).Hash(), "payloadAttributes": json.RawMessage(attrs),
		"chainID": strconv.FormatUint(chainID, 10)})
	if err != nil {
		return nil, err
	}
	st, err := b.StateAt(l2b.Root())
	if err != nil {
		return nil, err
	}
	var someCode common.Hash // of a contract the block calls
	for _, tx := range l2b.Transactions() {
		if to := tx.To(); to != nil && st.GetCodeSize(*to) > 0 {
			someCode = st.GetCodeHash(*to)
		}
	}
	someNode := l2b.Root()
	output := func() common.Hash {
		o, _, err := f.src.L2.OutputAt(context.Background(), b.Head().Hash())
		if err != nil {
			return common.Hash{}
		}
		return o.Root()
	}()
	return []string{
		h(preimage.HintL1BlockHeader, l1b.Hash().Bytes()),
		h(preimage.HintL1Transactions, f.l1.Blocks[ref.Block].Hash().Bytes()),
		h(preimage.HintL1Receipts, l1b.Hash().Bytes()),
		h(preimage.HintL1Blob, ref.VersionedHash[:], u64(ts)),
		h(preimage.HintL1Blob, ref.VersionedHash[:], u64(uint64(ref.Index)), u64(ts)),
		h(preimage.HintL1PrecompileV2, addr(0x01), u64(params.EcrecoverGas), ecInput),
		h(preimage.HintL1PrecompileV2, addr(0x0a), u64(params.BlobTxPointEvaluationPrecompileGas), make([]byte, 192)),
		h(preimage.HintL1PrecompileV2, addr(0x0b), u64(params.Bls12381G1AddGas), g1, g1),
		h(preimage.HintL1PrecompileV2, addr(0x08), u64(45000), nil),
		h(preimage.HintL1Precompile, addr(0x01), ecInput),
		h(preimage.HintL2BlockHeader, l2b.Hash().Bytes()),
		h(preimage.HintL2Transactions, l2b.Hash().Bytes(), u64(chainID)),
		h(preimage.HintL2Receipts, l2b.Hash().Bytes()),
		h(preimage.HintL2Code, someCode[:]),
		h(preimage.HintL2StateNode, someNode[:], u64(chainID)),
		h(preimage.HintL2Output, output[:]),
		h(preimage.HintL2AccountProof, l2b.Hash().Bytes(), params.OptimismL2ToL1MessagePasser[:], u64(chainID)),
		h(preimage.HintL2PayloadWitness, witness),
		h(preimage.HintL2PayloadWitness, b.Block(3).Hash().Bytes(), attrs, u64(chainID)),
		h(preimage.HintL2BlockData, make([]byte, 72)),
		h(preimage.HintAgreedPreState, []byte{1}),
		"l1-unknown 0x00",
	}, nil
}

// FuzzHintRoutes sends any hint to the host's routes, over mock sources that serve the test chains: parsing
// and handling must not panic, and whatever a route stores must be what its key says it is, as the host
// checks it on serving (StoredCheck, with the hint as the program's last hint).
//
// The seeds are a real hint of every route. For a long run:
//
//	go test ./host/prefetch -run '^$' -fuzz FuzzHintRoutes -fuzztime 30m
func FuzzHintRoutes(f *testing.F) {
	fix, err := loadRouteFixture()
	require.NoError(f, err)
	for _, h := range fix.seed {
		f.Add(h)
	}
	logger := log.NewLogger(log.DiscardHandler())
	f.Fuzz(func(t *testing.T, hint string) {
		kv := kvstore.NewMem()
		p, err := New(logger, kv, fix.src, Config{
			L2Head: fix.l2.Head().Hash(), L2ChainID: fix.l2.Config().ChainID.Uint64(), Rollup: fix.l2.Rollup(),
			Retry: RetryPolicy{MaxAttempts: 1},
		})
		require.NoError(t, err)
		if err := p.Hint(hint); err != nil {
			return // refused as it comes: malformed, or interop
		}
		typ, data, err := preimage.ParseHint(hint)
		require.NoError(t, err, "hint accepted but does not parse")
		b := &batch{}
		if err := p.route(context.Background(), typ, data, b); err != nil {
			return
		}
		if err := p.commit(b); err != nil {
			return
		}
		check := NewStoredCheck(kv)
		for _, it := range b.items {
			v, err := kv.Get(common.Hash(it.key))
			require.NoError(t, err, "route stored %x but it is not there", it.key)
			require.NoError(t, check.Check(it.key, v, hint), "route of %s stored a value its check refuses", typ)
		}
	})
}

// TestHintRouteSeedsStore checks that the fuzzer's seeds reach the routes' storing paths: each route
// stores something from its seed, so the fuzzer starts from real data, not from error paths.
func TestHintRouteSeedsStore(t *testing.T) {
	fix, err := loadRouteFixture()
	require.NoError(t, err)
	stored := map[string]int{}
	for _, hint := range fix.seed {
		typ, data, err := preimage.ParseHint(hint)
		require.NoError(t, err)
		p, err := New(log.NewLogger(log.DiscardHandler()), kvstore.NewMem(), fix.src, Config{
			L2Head: fix.l2.Head().Hash(), L2ChainID: fix.l2.Config().ChainID.Uint64(), Rollup: fix.l2.Rollup(),
		})
		require.NoError(t, err)
		b := &batch{}
		if err := p.route(context.Background(), typ, data, b); err == nil {
			stored[typ] += len(b.items)
		}
	}
	for _, typ := range []string{
		preimage.HintL1BlockHeader, preimage.HintL1Transactions, preimage.HintL1Receipts, preimage.HintL1Blob,
		preimage.HintL1PrecompileV2, preimage.HintL1Precompile, preimage.HintL2BlockHeader, preimage.HintL2Transactions,
		preimage.HintL2Code, preimage.HintL2StateNode, preimage.HintL2Output, preimage.HintL2AccountProof,
		preimage.HintL2PayloadWitness,
	} {
		require.NotEqual(t, 0, stored[typ], "the seed of %s stores nothing", typ)
	}
}

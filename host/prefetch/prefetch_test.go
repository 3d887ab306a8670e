package prefetch_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client/l1"
	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/devnet/devnettest"
	"github.com/faultproof/faultproof/host"
	"github.com/faultproof/faultproof/host/kvstore"
	"github.com/faultproof/faultproof/host/prefetch"
	"github.com/faultproof/faultproof/host/sources"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
)

// fakeClock records the waits between attempts and does not wait.
type fakeClock struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	return ctx.Err()
}

// recordingKV is a store (memory unless a test picks another) that remembers the order of writes.
type recordingKV struct {
	kvstore.KV
	mu   sync.Mutex
	puts []common.Hash
}

func (r *recordingKV) Put(k common.Hash, v []byte) error {
	r.mu.Lock()
	r.puts = append(r.puts, k)
	r.mu.Unlock()
	return r.KV.Put(k, v)
}

// keys returns the distinct keys written, sorted.
func (r *recordingKV) keys() []common.Hash {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[common.Hash]bool{}
	var out []common.Hash
	for _, k := range r.puts {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][:], out[j][:]) < 0 })
	return out
}

type env struct {
	opts envOpts
	l1   *devnettest.L1Chain
	l2   *devnet.L2Builder
	srv  *devnet.Server
	// The nodes: l2Node is srv's L2 endpoint (its L1 endpoint with l2FromL1); exp is the L2 endpoint of a
	// second server of the same chains, an experimental node of its own.
	l1Node, l2Node, beacon, exp *devnet.Endpoint
	kv                          *recordingKV
	clock                       *fakeClock
	p                           *prefetch.Prefetcher
}

type envOpts struct {
	experimental bool
	// l2FromL1 serves the L1 chain as the L2 source (for receipts of every transaction type).
	l2FromL1    bool
	maxAttempts int
	// l1Kind is the --l1.rpckind (standard if empty).
	l1Kind sources.RPCKind
	// blobInbox makes the test L1's blob transactions batch inbox transactions.
	blobInbox bool
	// store, if set, is the store under the recording (a memory store otherwise).
	store kvstore.KV
	// logger, if set, receives the prefetcher's log.
	logger log.Logger
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	chain, srv := devnettest.Serve(t)
	var store kvstore.KV = kvstore.NewMem()
	if o.store != nil {
		store = o.store
	}
	e := &env{opts: o, l1: chain.L1, l2: chain.L2, srv: srv, l1Node: srv.L1(), l2Node: srv.L2(), beacon: srv.Beacon(),
		kv: &recordingKV{KV: store}, clock: &fakeClock{}}
	if o.l2FromL1 {
		e.l2Node = srv.L1()
	}
	if o.experimental {
		_, exp := devnettest.Serve(t)
		e.exp = exp.L2()
	}
	e.restart(t)
	return e
}

// restart gives e a new prefetcher over the same nodes and store, with new clients (whose caches are
// empty), as a host started again on the same datadir would have.
func (e *env) restart(t *testing.T) {
	t.Helper()
	o := e.opts
	stats := prefetch.NewStats()
	opts := sources.Options{OnRequest: stats.CountRPC, Timeout: 20 * time.Second}
	dial := func(url string) *sources.L2Client {
		rc, err := sources.Dial(context.Background(), url)
		require.NoError(t, err)
		c := sources.NewL2Client(rc, opts)
		t.Cleanup(c.Close)
		return c
	}
	rc, err := sources.Dial(context.Background(), e.l1Node.URL())
	require.NoError(t, err)
	l1c := sources.NewL1Client(rc, o.l1Kind, opts)
	t.Cleanup(l1c.Close)
	bc, err := sources.NewBeaconClient(e.beacon.URL(), opts)
	require.NoError(t, err)
	src := prefetch.Sources{L1: l1c, Blobs: bc, L2: dial(e.l2Node.URL())}
	if o.experimental {
		src.L2Experimental = dial(e.exp.URL())
	}
	if o.maxAttempts == 0 {
		o.maxAttempts = 4
	}
	rollupCfg := e.l2.Rollup()
	if o.blobInbox {
		r := *rollupCfg
		r.BatchInboxAddress = devnettest.BlobTxTo
		rollupCfg = &r
	}
	logger := o.logger
	if logger == nil {
		logger = log.NewLogger(log.DiscardHandler())
	}
	e.p, err = prefetch.New(logger, e.kv, src, prefetch.Config{
		L2Head: e.l2.Head().Hash(), L2ChainID: e.l2.Config().ChainID.Uint64(), Rollup: rollupCfg, Stats: stats,
		Retry: prefetch.RetryPolicy{MaxAttempts: o.maxAttempts, Clock: e.clock},
	})
	require.NoError(t, err)
}

// failHTTP makes the next n requests to a node fail with HTTP 500.
func failHTTP(node *devnet.Endpoint, n int) {
	node.Inject("", slices.Repeat([]devnet.RequestFault{devnet.Fail500}, n)...)
}

// flipBlobByte changes a byte of the blobs served whose commitment is in only (of every blob with none),
// keeping their commitments.
func flipBlobByte(only ...kzg4844.Commitment) devnet.Tamper {
	return devnettest.TamperBlobs(func(c kzg4844.Commitment, b *kzg4844.Blob) {
		if len(only) == 0 || slices.Contains(only, c) {
			b[40] ^= 1
		}
	})
}

func hint(typ string, data []byte) string { return preimage.TypedHint{Type: typ, Data: data}.Hint() }

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// get hints and then asks for key, failing the test on error.
func (e *env) get(t *testing.T, h string, key preimage.Key) []byte {
	t.Helper()
	if h != "" {
		require.NoError(t, e.p.Hint(h), "hint %s", h)
	}
	v, err := e.p.GetPreimage(context.Background(), key.PreimageKey())
	require.NoError(t, err, "get %x", key.PreimageKey())
	require.NoError(t, preimage.Verify(key.PreimageKey(), v))
	return v
}

// keySet is a set of store keys.
type keySet map[common.Hash]bool

func (s keySet) add(k preimage.Key) { s[common.Hash(k.PreimageKey())] = true }
func (s keySet) addNode(v []byte)   { s.add(preimage.KeccakKeyOf(v)) }
func (s keySet) addList(vals [][]byte) {
	if len(vals) > 0 {
		_, nodes := layout.ListNodes(vals)
		addAll(s, nodes)
	}
}

func addAll(s keySet, nodes [][]byte) {
	for _, n := range nodes {
		s.addNode(n)
	}
}

// checkStored asserts the store holds exactly want and every value matches its key.
func (e *env) checkStored(t *testing.T, want keySet) {
	t.Helper()
	got := e.kv.keys()
	require.Len(t, got, len(want), "keys stored")
	for _, k := range got {
		require.True(t, want[k], "unexpected key %s stored", k)
		v, err := e.kv.Get(k)
		require.NoError(t, err)
		require.NoError(t, preimage.Verify(k, v), "stored value of %s", k)
	}
}

func encodeTxs(t *testing.T, txs types.Transactions) [][]byte {
	out := make([][]byte, len(txs))
	for i, tx := range txs {
		enc, err := tx.MarshalBinary()
		require.NoError(t, err)
		out[i] = enc
	}
	return out
}

func headerRLP(t *testing.T, h *types.Header) []byte {
	enc, err := rlp.EncodeToBytes(h)
	require.NoError(t, err)
	return enc
}

func TestL1BlockHeader(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := e.l1.Blocks[2]
	v := e.get(t, hint(preimage.HintL1BlockHeader, b.Hash().Bytes()), preimage.Keccak256Key(b.Hash()))
	require.Equal(t, headerRLP(t, b.Header()), v, "header RLP")
	want := keySet{}
	want.add(preimage.Keccak256Key(b.Hash()))
	e.checkStored(t, want)
	// A second request is served from the store.
	before := e.l1Node.Requests("eth_getBlockByHash")
	e.get(t, "", preimage.Keccak256Key(b.Hash()))
	require.Equal(t, before, e.l1Node.Requests("eth_getBlockByHash"), "stored header fetched again")
	s := e.p.Stats().Snapshot()
	require.Equal(t, uint64(1), s.RPCCalls["eth_getBlockByHash"], "stats %+v", s)
	require.Equal(t, uint64(1), s.Preimages, "stats %+v", s)
	require.Equal(t, uint64(len(v)), s.Bytes, "stats %+v", s)
	require.Equal(t, uint64(1), s.Hints[preimage.HintL1BlockHeader], "stats %+v", s)
}

func TestL1TransactionsAndReceipts(t *testing.T) {
	e := newEnv(t, envOpts{})
	want := keySet{}
	for _, n := range []int{1, devnettest.ManyTxBlock, 4} {
		b := e.l1.Blocks[n]
		txs := encodeTxs(t, b.Transactions())
		if len(txs) > 0 {
			e.get(t, hint(preimage.HintL1Transactions, b.Hash().Bytes()), preimage.Keccak256Key(b.TxHash()))
		} else {
			e.get(t, hint(preimage.HintL1Transactions, b.Hash().Bytes()), preimage.Keccak256Key(b.Hash()))
		}
		want.add(preimage.Keccak256Key(b.Hash()))
		want.addList(txs)
		e.checkStored(t, want)

		recs := make([][]byte, len(e.l1.Receipts[n]))
		for i := range recs {
			var buf bytes.Buffer
			e.l1.Receipts[n].EncodeIndex(i, &buf)
			recs[i] = buf.Bytes()
		}
		if len(recs) == 0 {
			continue
		}
		e.get(t, hint(preimage.HintL1Receipts, b.Hash().Bytes()), preimage.Keccak256Key(b.ReceiptHash()))
		want.addList(recs)
		e.checkStored(t, want)
	}
}

// adapter lets the program's oracles read through the prefetcher, as the host's server would serve them.
type adapter struct {
	p *prefetch.Prefetcher
}

func (a adapter) Get(key preimage.Key) ([]byte, error) {
	k := key.PreimageKey()
	v, err := a.p.GetPreimage(context.Background(), k)
	if err != nil {
		return nil, err
	}
	return v, preimage.Verify(k, v)
}

func (a adapter) Hint(h preimage.Hint) error { return a.p.Hint(h.Hint()) }

// TestProgramReadsL1 reads every L1 block, its transactions, receipts and blobs with the program's own L1
// oracle over the prefetcher.
func TestProgramReadsL1(t *testing.T) {
	e := newEnv(t, envOpts{})
	o := l1.NewOracle(adapter{e.p}, adapter{e.p})
	for n, b := range e.l1.Blocks {
		h, txs, err := o.TransactionsByHash(b.Hash())
		require.NoError(t, err, "block %d txs", n)
		require.Equal(t, b.Hash(), h.Hash(), "block %d", n)
		require.Len(t, txs, len(b.Transactions()), "block %d", n)
		_, rs, err := o.ReceiptsByHash(b.Hash())
		require.NoError(t, err, "block %d receipts", n)
		require.Len(t, rs, len(b.Transactions()), "block %d receipts", n)
	}
	for _, ref := range e.l1.Blobs {
		blob, err := o.GetBlob(l1.BlobRef{L1Timestamp: e.l1.Blocks[ref.Block].Time(), VersionedHash: ref.VersionedHash})
		require.NoError(t, err, "blob %s", ref.VersionedHash)
		require.Equal(t, ref.Blob, blob, "blob %s", ref.VersionedHash)
	}
}

func blobKeys(ref devnettest.BlobRef) keySet {
	want := keySet{}
	want.add(preimage.Sha256Key(ref.VersionedHash))
	for i := range params.BlobTxFieldElementsPerBlob {
		key, in := layout.FieldElementKey(&ref.Commitment, i)
		want.add(key)
		want.addNode(in[:])
	}
	return want
}

func TestL1Blob(t *testing.T) {
	for _, tc := range []struct {
		name    string
		legacy  bool
		sidecar bool
	}{{"blobs endpoint", false, false}, {"legacy hint over sidecars", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOpts{})
			if tc.sidecar {
				e.beacon.Drop("blobs")
			}
			ref := e.l1.Blobs[1]
			ts := e.l1.Blocks[ref.Block].Time()
			data := cat(ref.VersionedHash[:], u64(ts))
			if tc.legacy {
				data = cat(ref.VersionedHash[:], u64(uint64(ref.Index)), u64(ts))
			}
			v := e.get(t, hint(preimage.HintL1Blob, data), preimage.Sha256Key(ref.VersionedHash))
			require.Equal(t, ref.Commitment[:], v, "commitment")
			e.checkStored(t, blobKeys(ref))
			checkFieldElements(t, e, ref)
			require.Equal(t, tc.sidecar, e.beacon.Requests("blob_sidecars") > 0, "sidecars asked %d times", e.beacon.Requests("blob_sidecars"))
		})
	}
}

func TestL1BlobLyingBeacon(t *testing.T) {
	e := newEnv(t, envOpts{maxAttempts: 2})
	e.beacon.Drop("blobs")
	e.beacon.SetTamper(flipBlobByte())
	ref := e.l1.Blobs[0]
	require.NoError(t, e.p.Hint(hint(preimage.HintL1Blob, cat(ref.VersionedHash[:], u64(e.l1.Blocks[ref.Block].Time())))))
	_, err := e.p.GetPreimage(context.Background(), preimage.Sha256Key(ref.VersionedHash).PreimageKey())
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "corrupt blob")
	require.ErrorIs(t, err, prefetch.ErrRetriesExhausted, "corrupt blob")
	e.checkStored(t, keySet{})
}

// onMessage is a log handler that calls f when a record with message msg is logged.
type onMessage struct {
	msg string
	f   func()
}

func (h onMessage) Enabled(context.Context, slog.Level) bool { return true }
func (h onMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.f()
	}
	return nil
}
func (h onMessage) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h onMessage) WithGroup(string) slog.Handler      { return h }

// TestL1BlobTrustRPCStillChecked: --l1.trustrpc concerns the L1 execution RPC only (op-program's meaning).
// A beacon node's sidecar whose blob does not match its commitment is refused with it too; before, the flag
// turned this only KZG check off and the host stored the blob.
func TestL1BlobTrustRPCStillChecked(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.beacon.Drop("blobs")
	e.beacon.SetTamper(flipBlobByte())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := e.l2
	cfg := &host.Config{
		Rollup: b.Rollup(), L2Head: b.Head().Hash(), L1URL: e.l1Node.URL(), L1BeaconURL: e.beacon.URL(), L1TrustRPC: true,
		L2URLs: []string{e.l2Node.URL()},
	}
	kv := &recordingKV{KV: kvstore.NewMem()}
	// The first failure is enough: stop at its retry rather than wait out the backoff.
	p, err := host.NewOnlinePrefetcher(ctx, log.NewLogger(onMessage{"Prefetch failed, retrying", cancel}), cfg, kv)
	require.NoError(t, err)
	defer p.(io.Closer).Close()
	ref := e.l1.Blobs[2]
	require.NoError(t, p.Hint(hint(preimage.HintL1Blob, cat(ref.VersionedHash[:], u64(e.l1.Blocks[ref.Block].Time())))))
	fe, _ := layout.FieldElementKey(&ref.Commitment, 1)
	_, err = p.GetPreimage(ctx, fe.PreimageKey())
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "tampered blob with --l1.trustrpc")
	require.Empty(t, kv.keys(), "preimages stored from a tampered blob")
}

func TestPrecompiles(t *testing.T) {
	e := newEnv(t, envOpts{})
	// ecrecover of a real signature.
	key, _ := crypto.HexToECDSA("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291")
	msg := crypto.Keccak256([]byte("faultproof"))
	sig, _ := crypto.Sign(msg, key)
	input := cat(msg, common.LeftPadBytes([]byte{sig[64] + 27}, 32), sig[:64])
	ecrecover := common.BytesToAddress([]byte{0x01})
	want := keySet{}

	data := cat(ecrecover[:], u64(3000), input)
	v := e.get(t, hint(preimage.HintL1PrecompileV2, data), preimage.PrecompileKey(crypto.Keccak256Hash(data)))
	wantAddr := crypto.PubkeyToAddress(key.PublicKey)
	require.Equal(t, byte(1), v[0], "ecrecover answer %x", v)
	require.Equal(t, wantAddr, common.BytesToAddress(v[1:]), "ecrecover answer %x", v)
	stored := e.get(t, "", preimage.Keccak256Key(crypto.Keccak256Hash(data)))
	require.Equal(t, data, stored, "call preimage")
	want.add(preimage.PrecompileKey(crypto.Keccak256Hash(data)))
	want.add(preimage.Keccak256Key(crypto.Keccak256Hash(data)))

	// The program's own reader agrees.
	o := l1.NewOracle(adapter{e.p}, adapter{e.p})
	out, ok, err := o.Precompile(ecrecover, 3000, input)
	require.NoError(t, err, "program precompile")
	require.True(t, ok, "program precompile")
	require.Equal(t, wantAddr, common.BytesToAddress(out), "program precompile")

	// A failing KZG point evaluation: status 0.
	kzg := common.BytesToAddress([]byte{0x0a})
	bad := cat(kzg[:], u64(50000), make([]byte, 192))
	v = e.get(t, hint(preimage.HintL1PrecompileV2, bad), preimage.PrecompileKey(crypto.Keccak256Hash(bad)))
	require.Equal(t, byte(0), v[0], "bad point evaluation answer %x", v)
	want.add(preimage.PrecompileKey(crypto.Keccak256Hash(bad)))
	want.add(preimage.Keccak256Key(crypto.Keccak256Hash(bad)))

	// Legacy hint: address ++ input.
	legacy := cat(ecrecover[:], input)
	v = e.get(t, hint(preimage.HintL1Precompile, legacy), preimage.PrecompileKey(crypto.Keccak256Hash(legacy)))
	require.Equal(t, byte(1), v[0], "legacy answer %x", v)
	want.add(preimage.PrecompileKey(crypto.Keccak256Hash(legacy)))
	want.add(preimage.Keccak256Key(crypto.Keccak256Hash(legacy)))
	e.checkStored(t, want)

	// sha256 is not accelerated: a permanent error, not retried.
	sha := common.BytesToAddress([]byte{0x02})
	call := cat(sha[:], u64(100), []byte("x"))
	_ = e.p.Hint(hint(preimage.HintL1PrecompileV2, call))
	_, err = e.p.GetPreimage(context.Background(), preimage.PrecompileKey(crypto.Keccak256Hash(call)).PreimageKey())
	require.ErrorIs(t, err, prefetch.ErrUnknownPrecompile, "sha256")
	require.Zero(t, e.p.Stats().Snapshot().Retries, "unsupported precompile retried")
	e.checkStored(t, want)
}

func TestL2BlocksAndChainID(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := e.l2
	want := keySet{}
	for _, n := range []uint64{0, 1, 13, 15, devnettest.L2Blocks} {
		blk := b.Block(n)
		typ := preimage.HintL2BlockHeader
		data := blk.Hash().Bytes()
		if n%2 == 1 {
			typ = preimage.HintL2Transactions
			data = cat(data, u64(b.Config().ChainID.Uint64()))
		}
		e.get(t, hint(typ, data), preimage.Keccak256Key(blk.Hash()))
		want.add(preimage.Keccak256Key(blk.Hash()))
		want.addList(encodeTxs(t, blk.Transactions()))
		e.checkStored(t, want)
	}
	// Another chain's hint is refused at once.
	blk := b.Block(2)
	_ = e.p.Hint(hint(preimage.HintL2BlockHeader, cat(blk.Hash().Bytes(), u64(10))))
	_, err := e.p.GetPreimage(context.Background(), preimage.Keccak256Key(blk.Hash()).PreimageKey())
	require.ErrorIs(t, err, prefetch.ErrNoL2Source, "other chain")
	require.Zero(t, e.p.Stats().Snapshot().Retries, "other chain")
	e.checkStored(t, want)
}

// TestProgramReadsL2 reads blocks, state and output with the program's L2 oracle over the prefetcher.
func TestProgramReadsL2(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := e.l2
	o := l2.NewOracle(adapter{e.p}, adapter{e.p})
	for n := uint64(0); n <= devnettest.L2Blocks; n++ {
		blk, err := o.BlockByHash(b.Block(n).Hash())
		require.NoError(t, err, "L2 block %d", n)
		require.Equal(t, b.Block(n).Hash(), blk.Hash(), "L2 block %d", n)
	}
	head := b.Head()
	node, err := o.NodeByHash(head.Root())
	require.NoError(t, err, "state root")
	require.Equal(t, head.Root(), crypto.Keccak256Hash(node), "state root")
	code, err := o.CodeByHash(crypto.Keccak256Hash(devnet.StorageCode))
	require.NoError(t, err, "code")
	require.Equal(t, []byte(devnet.StorageCode), code, "code")
	st, err := b.StateAt(head.Root())
	require.NoError(t, err)
	want := &l2.Output{StateRoot: head.Root(), MessagePasserStorageRoot: st.GetStorageRoot(params.OptimismL2ToL1MessagePasser), BlockHash: head.Hash()}
	out, err := o.OutputByRoot(want.Root())
	require.NoError(t, err, "output")
	require.Equal(t, want, out, "output")
}

func TestL2CodeStateNodeOutput(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := e.l2
	head := b.Head()
	codeHash := crypto.Keccak256Hash(devnet.StorageCode)
	want := keySet{}

	e.get(t, hint(preimage.HintL2Code, codeHash[:]), preimage.Keccak256Key(codeHash))
	want.add(preimage.Keccak256Key(codeHash))
	e.get(t, hint(preimage.HintL2StateNode, cat(head.Root().Bytes(), u64(901))), preimage.Keccak256Key(head.Root()))
	want.add(preimage.Keccak256Key(head.Root()))
	e.checkStored(t, want)

	st, err := b.StateAt(head.Root())
	require.NoError(t, err)
	out := &l2.Output{StateRoot: head.Root(), MessagePasserStorageRoot: st.GetStorageRoot(params.OptimismL2ToL1MessagePasser), BlockHash: head.Hash()}
	root := out.Root()
	v := e.get(t, hint(preimage.HintL2Output, root[:]), preimage.Keccak256Key(root))
	require.Equal(t, out.Marshal(), v, "output encoding")
	want.add(preimage.Keccak256Key(root))
	e.checkStored(t, want)

	// A root that is not the head's output: a permanent error, asked once.
	e.l2Node.ResetRequests()
	other := common.Hash{0x0b, 0xad}
	_ = e.p.Hint(hint(preimage.HintL2Output, other[:]))
	_, err = e.p.GetPreimage(context.Background(), preimage.Keccak256Key(other).PreimageKey())
	require.ErrorContains(t, err, "not the requested", "wrong output root")
	require.Equal(t, 1, e.l2Node.Requests("eth_getProof"), "eth_getProof asked")
	e.checkStored(t, want)
}

func TestL2OutputBadProof(t *testing.T) {
	e := newEnv(t, envOpts{maxAttempts: 2})
	e.l2Node.SetTamper(devnettest.Edit("eth_getProof", func(m *map[string]any) { (*m)["storageHash"] = common.Hash{0x51}.Hex() }))
	root := common.Hash{0x01}
	_ = e.p.Hint(hint(preimage.HintL2Output, root[:]))
	_, err := e.p.GetPreimage(context.Background(), preimage.Keccak256Key(root).PreimageKey())
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "bad proof")
	e.checkStored(t, keySet{})
}

func TestL2Receipts(t *testing.T) {
	e := newEnv(t, envOpts{l2FromL1: true})
	b := e.l1.Blocks[1]
	recs := make([][]byte, len(e.l1.Receipts[1]))
	for i := range recs {
		var buf bytes.Buffer
		e.l1.Receipts[1].EncodeIndex(i, &buf)
		recs[i] = buf.Bytes()
	}
	e.get(t, hint(preimage.HintL2Receipts, b.Hash().Bytes()), preimage.Keccak256Key(b.ReceiptHash()))
	want := keySet{}
	want.addList(recs)
	e.checkStored(t, want)
}

// accountProofNodes is every node of the proof of addr (and its slot 0) at block n.
func accountProofNodes(t *testing.T, e *env, n uint64, addr common.Address) [][]byte {
	blk := e.l2.Block(n)
	c, err := sources.Dial(context.Background(), e.l2Node.URL())
	require.NoError(t, err)
	defer c.Close()
	p, err := sources.NewL2Client(c, sources.Options{}).GetProof(context.Background(), addr, []common.Hash{{}}, blk.Hash())
	require.NoError(t, err)
	nodes := append([][]byte{}, p.AccountProof...)
	return append(nodes, p.StorageProof[0].Proof...)
}

func TestL2AccountProofBulk(t *testing.T) {
	for _, experimental := range []bool{false, true} {
		t.Run(fmt.Sprintf("experimental=%v", experimental), func(t *testing.T) {
			e := newEnv(t, envOpts{experimental: experimental})
			head := e.l2.Head()
			mp := params.OptimismL2ToL1MessagePasser
			nodes := accountProofNodes(t, e, head.NumberU64(), mp)
			e.l2Node.ResetRequests()

			require.NoError(t, e.p.Hint(hint(preimage.HintL2AccountProof, cat(head.Hash().Bytes(), mp[:], u64(901)))))
			// The program then walks to the account from the state root.
			e.get(t, hint(preimage.HintL2StateNode, head.Root().Bytes()), preimage.Keccak256Key(head.Root()))
			want := keySet{}
			addAll(want, nodes)
			e.checkStored(t, want)
			// The deepest node of the path is there without another request.
			e.get(t, hint(preimage.HintL2StateNode, crypto.Keccak256(nodes[len(nodes)-1])), preimage.KeccakKeyOf(nodes[len(nodes)-1]))

			proofNode, dbNode := e.l2Node, e.l2Node
			if experimental {
				proofNode = e.exp
			}
			require.Equal(t, 1, proofNode.Requests("eth_getProof"))
			require.Zero(t, dbNode.Requests("debug_dbGet"))
			// The bulk hint is used once: a later miss goes node by node.
			other := crypto.Keccak256Hash(devnet.StorageCode)
			e.get(t, hint(preimage.HintL2Code, other[:]), preimage.Keccak256Key(other))
			require.Equal(t, 1, proofNode.Requests("eth_getProof"), "after bulk")
			require.Equal(t, 1, e.l2Node.Requests("debug_dbGet"), "after bulk")
		})
	}
}

func TestL2AccountProofBadProofFallsBack(t *testing.T) {
	e := newEnv(t, envOpts{})
	head := e.l2.Head()
	mp := params.OptimismL2ToL1MessagePasser
	e.l2Node.SetTamper(devnettest.Edit("eth_getProof", func(m *map[string]any) { (*m)["balance"] = "0x1" }))
	_ = e.p.Hint(hint(preimage.HintL2AccountProof, cat(head.Hash().Bytes(), mp[:], u64(901))))
	e.get(t, hint(preimage.HintL2StateNode, head.Root().Bytes()), preimage.Keccak256Key(head.Root()))
	// Nothing from the bad proof, just the node fetched by hash.
	want := keySet{}
	want.add(preimage.Keccak256Key(head.Root()))
	e.checkStored(t, want)
	require.Equal(t, 1, e.l2Node.Requests("debug_dbGet"), "fallback to debug_dbGet")
}

func TestL2PayloadWitness(t *testing.T) {
	for _, tc := range []struct {
		experimental bool
		form         string // op-program's JSON object, or kona's parent hash ++ JSON attributes [++ chain ID]
	}{{false, "op-program"}, {true, "op-program"}, {true, "kona"}, {true, "kona with chain ID"}} {
		experimental := tc.experimental
		t.Run(fmt.Sprintf("experimental=%v/%s", experimental, tc.form), func(t *testing.T) {
			e := newEnv(t, envOpts{experimental: experimental})
			b := e.l2
			const n = 12
			attrs, err := json.Marshal(b.Attributes(n))
			require.NoError(t, err)
			hintJSON, _ := json.Marshal(map[string]any{
				"parentBlockHash": b.Block(n - 1).Hash(), "payloadAttributes": json.RawMessage(attrs), "chainID": "901",
			})
			switch tc.form {
			case "kona":
				hintJSON = cat(b.Block(n-1).Hash().Bytes(), attrs)
			case "kona with chain ID":
				hintJSON = cat(b.Block(n-1).Hash().Bytes(), attrs, u64(901))
			}
			require.NoError(t, e.p.Hint(hint(preimage.HintL2PayloadWitness, hintJSON)))
			parentRoot := b.Block(n - 1).Root()
			e.get(t, hint(preimage.HintL2StateNode, parentRoot[:]), preimage.Keccak256Key(parentRoot))
			if !experimental {
				want := keySet{}
				want.add(preimage.Keccak256Key(parentRoot))
				e.checkStored(t, want)
				return
			}
			w, err := b.ExecutionWitness(n)
			require.NoError(t, err)
			want := keySet{}
			for _, v := range append(append([]hexutil.Bytes{}, w.State...), w.Codes...) {
				want.addNode(v)
			}
			e.checkStored(t, want)
			require.Equal(t, 1, e.exp.Requests("debug_executePayload"))
			require.Zero(t, e.l2Node.Requests("debug_dbGet"))
		})
	}
	// Kona's form naming another chain is refused; trailing bytes that are no chain ID, or no attributes,
	// are malformed. Each time the node is then fetched by itself.
	for i, bad := range []func(b *devnet.L2Builder) []byte{
		func(b *devnet.L2Builder) []byte {
			attrs, _ := json.Marshal(b.Attributes(12))
			return cat(b.Block(11).Hash().Bytes(), attrs, u64(10))
		},
		func(b *devnet.L2Builder) []byte {
			attrs, _ := json.Marshal(b.Attributes(12))
			return cat(b.Block(11).Hash().Bytes(), attrs, []byte{1, 2, 3})
		},
		func(b *devnet.L2Builder) []byte { return b.Block(11).Hash().Bytes() },
	} {
		e := newEnv(t, envOpts{experimental: true})
		require.NoError(t, e.p.Hint(hint(preimage.HintL2PayloadWitness, bad(e.l2))))
		parentRoot := e.l2.Block(11).Root()
		e.get(t, hint(preimage.HintL2StateNode, parentRoot[:]), preimage.Keccak256Key(parentRoot))
		require.Zero(t, e.exp.Requests("debug_executePayload"), "bad hint %d", i)
		require.Equal(t, 1, e.l2Node.Requests("debug_dbGet"), "bad hint %d", i)
	}
}

func TestRetriesThenSuccess(t *testing.T) {
	e := newEnv(t, envOpts{maxAttempts: 5})
	b := e.l1.Blocks[1]
	failHTTP(e.l1Node, 3)
	e.get(t, hint(preimage.HintL1BlockHeader, b.Hash().Bytes()), preimage.Keccak256Key(b.Hash()))
	s := e.p.Stats().Snapshot()
	require.Equal(t, uint64(3), s.Retries, "stats %+v", s)
	require.Equal(t, uint64(4), s.RPCCalls["eth_getBlockByHash"], "stats %+v", s)
	want := []time.Duration{prefetch.DefaultInitialBackoff, 2 * prefetch.DefaultInitialBackoff, 4 * prefetch.DefaultInitialBackoff}
	require.Equal(t, want, e.clock.waits)

	// The beacon fails too, then answers.
	failHTTP(e.beacon, 2)
	ref := e.l1.Blobs[0]
	e.get(t, hint(preimage.HintL1Blob, cat(ref.VersionedHash[:], u64(e.l1.Blocks[ref.Block].Time()))), preimage.Sha256Key(ref.VersionedHash))
	require.Equal(t, 2, e.beacon.Injected())
}

func TestRetriesExhausted(t *testing.T) {
	e := newEnv(t, envOpts{maxAttempts: 3})
	b := e.l1.Blocks[1]
	failHTTP(e.l1Node, 1000)
	h := hint(preimage.HintL1BlockHeader, b.Hash().Bytes())
	_ = e.p.Hint(h)
	key := preimage.Keccak256Key(b.Hash()).PreimageKey()
	_, err := e.p.GetPreimage(context.Background(), key)
	require.ErrorIs(t, err, prefetch.ErrRetriesExhausted)
	// The error names key, hint and cause.
	require.ErrorContains(t, err, common.Hash(key).Hex())
	require.ErrorContains(t, err, h)
	require.ErrorContains(t, err, "500")
	s := e.p.Stats().Snapshot()
	require.Equal(t, uint64(2), s.Retries, "stats %+v", s)
	require.Equal(t, uint64(1), s.Failures, "stats %+v", s)
	require.Equal(t, uint64(3), s.RPCCalls["eth_getBlockByHash"], "stats %+v", s)
	e.checkStored(t, keySet{})
}

func TestLyingHeaderNothingStored(t *testing.T) {
	e := newEnv(t, envOpts{maxAttempts: 2})
	e.l1Node.SetTamper(devnettest.Edit("eth_getBlockByHash", func(m *map[string]any) { (*m)["timestamp"] = "0x1" }))
	b := e.l1.Blocks[1]
	for _, typ := range []string{preimage.HintL1BlockHeader, preimage.HintL1Transactions, preimage.HintL1Receipts} {
		_ = e.p.Hint(hint(typ, b.Hash().Bytes()))
		_, err := e.p.GetPreimage(context.Background(), preimage.Keccak256Key(b.Hash()).PreimageKey())
		require.ErrorIs(t, err, sources.ErrInvalidResponse, typ)
	}
	e.checkStored(t, keySet{})
}

func TestMissWithoutHint(t *testing.T) {
	e := newEnv(t, envOpts{})
	_, err := e.p.GetPreimage(context.Background(), preimage.Keccak256Key{0x01}.PreimageKey())
	require.ErrorIs(t, err, prefetch.ErrNoHint)
}

func TestUnknownAndInteropHints(t *testing.T) {
	e := newEnv(t, envOpts{})
	require.NoError(t, e.p.Hint("made-up-hint 0x01"), "unknown hint refused when received")
	_, err := e.p.GetPreimage(context.Background(), preimage.Keccak256Key{0x01}.PreimageKey())
	require.ErrorIs(t, err, prefetch.ErrUnknownHint)
	require.ErrorContains(t, err, "made-up-hint")
	require.Error(t, e.p.Hint("malformed"), "malformed hint")
	// Interop hints on a single-chain claim: a block the node does not have cannot be rebuilt, and there
	// is no agreed prestate.
	err = e.p.Hint(hint(preimage.HintL2BlockData, cat(common.Hash{1}.Bytes(), common.Hash{2}.Bytes(), u64(e.l2.Config().ChainID.Uint64()))))
	require.ErrorContains(t, err, "cannot rebuild", "block data")
	_ = e.p.Hint(hint(preimage.HintAgreedPreState, common.Hash{1}.Bytes()))
	_, err = e.p.GetPreimage(context.Background(), preimage.Keccak256Key{0x01}.PreimageKey())
	require.ErrorContains(t, err, "not a super-root claim", "agreed prestate")
	// A hint that does not provide the key.
	b := e.l1.Blocks[1]
	_ = e.p.Hint(hint(preimage.HintL1BlockHeader, b.Hash().Bytes()))
	_, err = e.p.GetPreimage(context.Background(), preimage.Keccak256Key{0x02}.PreimageKey())
	require.ErrorContains(t, err, "did not provide", "unrelated key")
	// Malformed hint data is permanent.
	_ = e.p.Hint(hint(preimage.HintL1BlockHeader, []byte{1, 2, 3}))
	_, err = e.p.GetPreimage(context.Background(), preimage.Keccak256Key{0x03}.PreimageKey())
	require.Error(t, err, "short hint")
	require.True(t, prefetch.IsPermanent(err), "short hint: %v", err)
	require.Zero(t, e.p.Stats().Snapshot().Retries, "permanent errors were retried")
}

// TestConcurrentUse: four goroutines hint and read every L1 header through one prefetcher at once; each
// read is right or a clean miss, and the prefetcher serves every header afterwards (with -race it also
// checks the locking).
// TestConcurrentUse: four goroutines hint and read every L1 header through one prefetcher at once; each
// read is right or a clean miss, and the prefetcher serves every header afterwards (with -race it also
// checks the locking).
func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	// readHeader hints block b's header and reads it: the header itself, or (when another goroutine's hint
	// came last) the error that the hint fetched did not provide it.
	readHeader := func(b *types.Block) (bool, error) {
		if err := e.p.Hint(hint(preimage.HintL1BlockHeader, b.Hash().Bytes())); err != nil {
			return false, err
		}
		v, err := e.p.GetPreimage(ctx, preimage.Keccak256Key(b.Hash()).PreimageKey())
		switch {
		case err == nil && crypto.Keccak256Hash(v) != b.Hash():
			return false, fmt.Errorf("block %d: the value read is not its header", b.NumberU64())
		case err != nil && !strings.Contains(err.Error(), "did not provide"):
			return false, fmt.Errorf("block %d: %w", b.NumberU64(), err)
		}
		return err == nil, nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(e.l1.Blocks))
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for n := range e.l1.Blocks {
				if _, err := readHeader(e.l1.Blocks[(n+i)%len(e.l1.Blocks)]); err != nil {
					errs <- err
				}
				_ = e.p.Stats().Snapshot()
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	var problems []string
	for err := range errs {
		problems = append(problems, err.Error())
	}
	require.Empty(t, problems, "reads while four goroutines share the prefetcher")
	// Afterwards, one at a time, every header is served.
	for _, b := range e.l1.Blocks {
		ok, err := readHeader(b)
		require.NoError(t, err)
		require.True(t, ok, "block %d", b.NumberU64())
	}
	require.Zero(t, e.p.Stats().Snapshot().Failures)
}

func TestOnlinePrefetcher(t *testing.T) {
	e := newEnv(t, envOpts{experimental: true})
	b := e.l2
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logger := log.NewLogger(log.DiscardHandler())
	cfg := &host.Config{
		Rollup: b.Rollup(), L2Head: b.Head().Hash(), L1URL: e.l1Node.URL(), L1BeaconURL: e.beacon.URL(), L1RPCKind: "debug_geth",
		L2URLs: []string{e.l1Node.URL(), e.l2Node.URL()}, L2Experimental: []string{e.exp.URL()},
	}
	kv := kvstore.NewMem()
	p, err := host.NewOnlinePrefetcher(ctx, logger, cfg, kv)
	require.NoError(t, err)
	l1b, l2b := e.l1.Blocks[1], b.Block(3)
	for _, c := range []struct {
		hint string
		key  common.Hash
	}{
		{hint(preimage.HintL1Receipts, l1b.Hash().Bytes()), l1b.ReceiptHash()},
		{hint(preimage.HintL2BlockHeader, l2b.Hash().Bytes()), l2b.Hash()},
	} {
		require.NoError(t, p.Hint(c.hint))
		_, err := p.GetPreimage(ctx, preimage.Keccak256Key(c.key).PreimageKey())
		require.NoError(t, err, c.hint)
	}
	require.Equal(t, 1, e.l1Node.Requests("debug_getRawReceipts"), "--l1.rpckind debug_geth used")
	require.NoError(t, p.(io.Closer).Close())

	for name, mutate := range map[string]func(c *host.Config){
		"L1 is the L2":     func(c *host.Config) { c.L1URL = e.l2Node.URL() },
		"no L2 of chain":   func(c *host.Config) { c.L2URLs = []string{e.l1Node.URL()} },
		"bad rpc kind":     func(c *host.Config) { c.L1RPCKind = "carrier-pigeon" },
		"bad beacon URL":   func(c *host.Config) { c.L1BeaconURL = "ftp://x" },
		"L1 unreachable":   func(c *host.Config) { c.L1URL = "http://127.0.0.1:1" },
		"experimental off": func(c *host.Config) { c.L2Experimental = []string{e.l1Node.URL()} },
	} {
		bad := *cfg
		mutate(&bad)
		_, err := host.NewOnlinePrefetcher(ctx, logger, &bad, kv)
		require.Error(t, err, name)
	}
}

// TestL2PayloadWitnessFaults: an experimental node that does not serve debug_executePayload, fails it, or
// answers with nodes that are not the block's, never stops a run nor gets anything unverified stored: the
// node is then fetched by itself with debug_dbGet.
func TestL2PayloadWitnessFaults(t *testing.T) {
	for _, fault := range []string{"unsupported", "failing", "wrong nodes"} {
		t.Run(fault, func(t *testing.T) {
			e := newEnv(t, envOpts{experimental: true, maxAttempts: 2})
			switch fault {
			case "unsupported":
				e.exp.Drop("debug_executePayload")
			case "failing":
				e.exp.Inject("debug_executePayload", slices.Repeat([]devnet.RequestFault{devnet.FailRPC}, 1000)...)
			case "wrong nodes":
				e.exp.SetTamper(devnettest.Replace("debug_executePayload", json.RawMessage(`{"state":["0x01020304","0xc0"],"codes":["0x6000"],"keys":[]}`)))
			}
			b := e.l2
			attrs, _ := json.Marshal(b.Attributes(12))
			hintJSON, _ := json.Marshal(map[string]any{"parentBlockHash": b.Block(11).Hash(), "payloadAttributes": json.RawMessage(attrs)})
			require.NoError(t, e.p.Hint(hint(preimage.HintL2PayloadWitness, hintJSON)))
			parentRoot := b.Block(11).Root()
			e.get(t, hint(preimage.HintL2StateNode, parentRoot[:]), preimage.Keccak256Key(parentRoot))
			require.Equal(t, 1, e.l2Node.Requests("debug_dbGet"), "the node fetched by itself")
			require.Positive(t, e.exp.Requests("debug_executePayload"), "the experimental node was asked")
			// Whatever was stored is stored under its own hash (the wrong nodes included, harmlessly).
			for _, k := range e.kv.keys() {
				v, err := e.kv.Get(k)
				require.NoError(t, err)
				if preimage.KeyType(k[0]) == preimage.Keccak256KeyType {
					require.Equal(t, k, common.Hash(preimage.Keccak256Key(crypto.Keccak256Hash(v)).PreimageKey()), "value under %x does not hash to its key", k)
				}
			}
		})
	}
}

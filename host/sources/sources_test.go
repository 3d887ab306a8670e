package sources_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/trie"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/host/sources"
	"github.com/faultproof/faultproof/host/sources/testnode"
)

func l1Node(t *testing.T) (*testnode.L1Chain, *testnode.Node) {
	t.Helper()
	c, err := testnode.L1()
	require.NoError(t, err)
	n, err := testnode.NewNode(testnode.L1Backend{C: c})
	require.NoError(t, err)
	t.Cleanup(n.Close)
	return c, n
}

func l2Node(t *testing.T) (*testnode.L2Backend, *testnode.Node) {
	t.Helper()
	b, err := testnode.L2()
	require.NoError(t, err)
	be, err := testnode.NewL2Backend(b)
	require.NoError(t, err)
	n, err := testnode.NewNode(be)
	require.NoError(t, err)
	t.Cleanup(n.Close)
	return be, n
}

// counter records OnRequest calls.
type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counter) hook(method string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[method]++
}

func (c *counter) get(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[method]
}

func dialL1(t *testing.T, url string, kind sources.RPCKind, cnt *counter) *sources.L1Client {
	t.Helper()
	rc, err := sources.Dial(context.Background(), url)
	require.NoError(t, err)
	opts := sources.Options{}
	if cnt != nil {
		opts.OnRequest = cnt.hook
	}
	c := sources.NewL1Client(rc, kind, opts)
	t.Cleanup(c.Close)
	return c
}

func dialL2(t *testing.T, url string) *sources.L2Client {
	t.Helper()
	rc, err := sources.Dial(context.Background(), url)
	require.NoError(t, err)
	c := sources.NewL2Client(rc, sources.Options{})
	t.Cleanup(c.Close)
	return c
}

func TestL1HeadersAndBlocks(t *testing.T) {
	chain, node := l1Node(t)
	c := dialL1(t, node.URL, sources.RPCKindStandard, nil)
	ctx := context.Background()
	id, err := c.ChainID(ctx)
	require.NoError(t, err, "chain ID %d", id)
	require.Equal(t, uint64(testnode.L1ChainID), id, "chain ID %d, %v", id, err)
	for n, b := range chain.Blocks {
		h, err := c.HeaderByHash(ctx, b.Hash())
		require.NoError(t, err, "block %d header", n)
		require.Equal(t, b.Hash(), h.Hash(), "block %d: header hash %s", n, h.Hash())
		blk, err := c.BlockByHash(ctx, b.Hash())
		require.NoError(t, err, "block %d", n)
		require.Equal(t, b.Hash(), crypto.Keccak256Hash(blk.HeaderRLP), "block %d: hash %s, %d txs", n, blk.Hash(), len(blk.Transactions))
		require.Len(t, blk.Transactions, len(b.Transactions()), "block %d: hash %s, %d txs", n, blk.Hash(), len(blk.Transactions))
		for i, tx := range b.Transactions() {
			enc, _ := tx.MarshalBinary()
			require.Equal(t, string(blk.Transactions[i]), string(enc), "block %d tx %d encoding differs", n, i)
		}
	}
	_, err = c.HeaderByHash(ctx, common.Hash{0xde, 0xad})
	require.ErrorIs(t, err, sources.ErrNotFound, "unknown block: %v, want ErrNotFound", err)
}

// setJSON rewrites one field of a JSON object.
func setJSON(t *testing.T, raw json.RawMessage, f func(m map[string]any)) json.RawMessage {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return raw
	}
	f(m)
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return out
}

func TestL1LyingNode(t *testing.T) {
	chain, node := l1Node(t)
	c := dialL1(t, node.URL, sources.RPCKindStandard, nil)
	ctx := context.Background()
	b := chain.Blocks[1]

	// A header field changed: the header no longer hashes to the requested hash.
	node.SetTamper(func(method string, _ []any, res json.RawMessage) json.RawMessage {
		if method != "eth_getBlockByHash" {
			return res
		}
		return setJSON(t, res, func(m map[string]any) { m["gasUsed"] = "0x1" })
	})
	_, err := c.HeaderByHash(ctx, b.Hash())
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "tampered header: %v", err)
	// Another block's header and body served under this hash.
	other, _ := testnode.BlockJSON(chain.Blocks[2], true)
	otherJSON, _ := json.Marshal(other)
	node.SetTamper(func(method string, _ []any, res json.RawMessage) json.RawMessage {
		if method == "eth_getBlockByHash" {
			return otherJSON
		}
		return res
	})
	_, err = c.BlockByHash(ctx, b.Hash())
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "other block: %v", err)
	// Transactions dropped: the header is right, the list is not.
	node.SetTamper(func(method string, _ []any, res json.RawMessage) json.RawMessage {
		if method != "eth_getBlockByHash" {
			return res
		}
		return setJSON(t, res, func(m map[string]any) {
			txs := m["transactions"].([]any)
			m["transactions"] = txs[:len(txs)-1]
		})
	})
	_, err = c.BlockByHash(ctx, b.Hash())
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "dropped transaction: %v", err)
	// A receipt's status flipped.
	node.SetTamper(func(method string, _ []any, res json.RawMessage) json.RawMessage {
		if method != "eth_getBlockReceipts" {
			return res
		}
		var rs []map[string]any
		_ = json.Unmarshal(res, &rs)
		rs[0]["status"] = "0x0"
		out, _ := json.Marshal(rs)
		return out
	})
	_, err = c.ReceiptsByHash(ctx, b.Hash())
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "tampered receipt: %v", err)
}

func TestL1ReceiptsByKind(t *testing.T) {
	chain, _ := l1Node(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		kind        sources.RPCKind
		unsupported []string
		wantMethod  string
	}{
		{"standard", sources.RPCKindStandard, nil, "eth_getBlockReceipts"},
		{"alchemy maps to block receipts", sources.RPCKindAlchemy, nil, "eth_getBlockReceipts"},
		{"debug_geth", sources.RPCKindDebugGeth, nil, "debug_getRawReceipts"},
		{"basic", sources.RPCKindBasic, nil, "eth_getTransactionReceipt"},
		{"standard falls back per transaction", sources.RPCKindStandard, []string{"eth_getBlockReceipts"}, "eth_getTransactionReceipt"},
		{"debug_geth falls back to block receipts", sources.RPCKindDebugGeth, []string{"debug_getRawReceipts"}, "eth_getBlockReceipts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node, err := testnode.NewNode(testnode.L1Backend{C: chain})
			require.NoError(t, err)
			defer node.Close()
			for _, m := range tc.unsupported {
				node.Unsupported(m)
			}
			cnt := &counter{}
			c := dialL1(t, node.URL, tc.kind, cnt)
			for n, b := range chain.Blocks {
				r, err := c.ReceiptsByHash(ctx, b.Hash())
				require.NoError(t, err, "block %d", n)
				require.Equal(t, b.Hash(), r.Header.Hash(), "block %d: %d receipts", n, len(r.Encoded))
				require.Len(t, r.Encoded, len(b.Transactions()), "block %d: %d receipts", n, len(r.Encoded))
			}
			require.NotEqual(t, 0, cnt.get(tc.wantMethod), "no %s requests: %v", tc.wantMethod, cnt.m)
			require.False(t, tc.wantMethod == "eth_getTransactionReceipt" && node.Requests("eth_getTransactionReceipt") < testnode.ManyTxCount, "only %d receipt requests", node.Requests("eth_getTransactionReceipt"))
			// An unsupported method is asked once, then remembered.
			for _, m := range tc.unsupported {
				got := node.Requests(m)
				require.Equal(t, 1, got, "%s asked %d times, want 1", m, got)
			}
		})
	}
}

// TestL1ReceiptsKnownHeader: receipts of a block whose header the client has (fetched before, or given
// with ReceiptsOf) cost no block request, with every RPC kind but basic, whose per-transaction receipts
// need the block's transaction hashes. The receipts are still checked against the header.
func TestL1ReceiptsKnownHeader(t *testing.T) {
	chain, node := l1Node(t)
	ctx := context.Background()
	for _, kind := range []sources.RPCKind{sources.RPCKindStandard, sources.RPCKindDebugGeth, sources.RPCKindBasic} {
		t.Run(string(kind), func(t *testing.T) {
			perReceipts := 0
			if kind == sources.RPCKindBasic {
				perReceipts = 1
			}
			cnt := &counter{}
			c := dialL1(t, node.URL, kind, cnt)
			for n, b := range chain.Blocks {
				_, err := c.HeaderByHash(ctx, b.Hash())
				require.NoError(t, err)
				before := cnt.get("eth_getBlockByHash")
				r, err := c.ReceiptsByHash(ctx, b.Hash())
				require.NoError(t, err, "block %d", n)
				got := cnt.get("eth_getBlockByHash") - before
				require.Equal(t, perReceipts, got, "block %d after its header: %d block requests, %d receipts", n, got, len(r.Encoded))
				require.Len(t, r.Encoded, len(b.Transactions()), "block %d after its header: %d block requests, %d receipts", n, got, len(r.Encoded))
			}
			// A new client knows no header: ReceiptsOf is given it.
			cnt2 := &counter{}
			c2 := dialL1(t, node.URL, kind, cnt2)
			for n, b := range chain.Blocks {
				r, err := c2.ReceiptsOf(ctx, b.Header())
				require.NoError(t, err, "block %d", n)
				require.Equal(t, b.Hash(), r.Header.Hash(), "block %d: %d receipts", n, len(r.Encoded))
				require.Len(t, r.Encoded, len(b.Transactions()), "block %d: %d receipts", n, len(r.Encoded))
			}
			got := cnt2.get("eth_getBlockByHash")
			require.Equal(t, perReceipts*len(chain.Blocks), got, "ReceiptsOf: %d block requests", got)
		})
	}
	// Receipts that do not match the given header's root are refused.
	node.SetTamper(func(method string, _ []any, res json.RawMessage) json.RawMessage {
		if method != "eth_getBlockReceipts" {
			return res
		}
		var rs []map[string]any
		_ = json.Unmarshal(res, &rs)
		rs[0]["status"] = "0x0"
		out, _ := json.Marshal(rs)
		return out
	})
	c := dialL1(t, node.URL, sources.RPCKindStandard, nil)
	_, err := c.ReceiptsOf(ctx, chain.Blocks[1].Header())
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "tampered receipts: %v", err)
}

func TestParseRPCKind(t *testing.T) {
	k, err := sources.ParseRPCKind("")
	require.NoError(t, err, "empty: %v", k)
	require.Equal(t, sources.RPCKindStandard, k, "empty: %v %v", k, err)
	k, err = sources.ParseRPCKind("debug_geth")
	require.NoError(t, err, "debug_geth: %v", k)
	require.Equal(t, sources.RPCKindDebugGeth, k, "debug_geth: %v %v", k, err)
	_, err = sources.ParseRPCKind("bogus")
	require.Error(t, err, "bogus kind accepted")
}

func beaconFor(t *testing.T) (*testnode.L1Chain, *testnode.Beacon) {
	t.Helper()
	chain, err := testnode.L1()
	require.NoError(t, err)
	b, err := testnode.NewBeacon(chain)
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return chain, b
}

func TestBeaconBlobs(t *testing.T) {
	chain, beacon := beaconFor(t)
	ctx := context.Background()
	for _, disableBlobs := range []bool{false, true} {
		if disableBlobs {
			beacon.DisableBlobsEndpoint()
		}
		c, err := sources.NewBeaconClient(beacon.URL+"/", sources.Options{})
		require.NoError(t, err)
		for _, ref := range chain.Blobs {
			ts := chain.Blocks[ref.Block].Time()
			blob, err := c.BlobByHash(ctx, ts, ref.VersionedHash)
			require.NoError(t, err, "blob %s (blobs endpoint disabled: %v)", ref.VersionedHash, disableBlobs)
			require.Equal(t, *ref.Blob, *blob.Blob, "blob %s differs", ref.VersionedHash)
			require.Equal(t, ref.Commitment, blob.Commitment, "blob %s differs", ref.VersionedHash)
		}
		_, err = c.BlobByHash(ctx, chain.Blocks[1].Time(), common.Hash{0x01, 0x02})
		require.ErrorIs(t, err, sources.ErrNotFound, "unknown blob: %v", err)
	}
	require.Equal(t, 2, beacon.Requests("genesis"), "genesis/spec asked %d/%d times, want once per client", beacon.Requests("genesis"), beacon.Requests("spec"))
	require.Equal(t, 2, beacon.Requests("spec"), "genesis/spec asked %d/%d times, want once per client", beacon.Requests("genesis"), beacon.Requests("spec"))
	require.NotEqual(t, 0, beacon.Requests("blob_sidecars"), "sidecars never asked")
}

// TestBeaconBlobsByHashes: the blobs of one block come in one request, in the order asked, each checked;
// hashes the node does not have are left out.
func TestBeaconBlobsByHashes(t *testing.T) {
	chain, beacon := beaconFor(t)
	ctx := context.Background()
	var refs []testnode.BlobRef
	for _, ref := range chain.Blobs {
		if ref.Block == 1 {
			refs = append(refs, ref)
		}
	}
	ts := chain.Blocks[1].Time()
	for _, endpoint := range []string{"blobs", "blob_sidecars"} {
		if endpoint == "blob_sidecars" {
			beacon.DisableBlobsEndpoint()
		}
		c, err := sources.NewBeaconClient(beacon.URL, sources.Options{})
		require.NoError(t, err)
		before := beacon.Requests(endpoint)
		blobs, err := c.BlobsByHashes(ctx, ts, []common.Hash{refs[1].VersionedHash, {0x01, 0x02}, refs[0].VersionedHash, refs[1].VersionedHash})
		require.NoError(t, err, "%s", endpoint)
		require.Len(t, blobs, 2, "%s: wrong blobs", endpoint)
		require.Equal(t, refs[1].VersionedHash, blobs[0].VersionedHash, "%s: wrong blobs", endpoint)
		require.Equal(t, refs[0].VersionedHash, blobs[1].VersionedHash, "%s: wrong blobs", endpoint)
		require.Equal(t, *refs[1].Blob, *blobs[0].Blob, "%s: wrong blobs", endpoint)
		require.Equal(t, *refs[0].Blob, *blobs[1].Blob, "%s: wrong blobs", endpoint)
		require.Equal(t, refs[0].Commitment, blobs[1].Commitment, "%s: wrong blobs", endpoint)
		got := beacon.Requests(endpoint) - before
		require.Equal(t, 1, got, "%s: %d requests", endpoint, got)
		_, err = c.BlobsByHashes(ctx, ts, []common.Hash{{0x01, 0x02}})
		require.ErrorIs(t, err, sources.ErrNotFound, "%s: unknown blob: %v", endpoint, err)
	}
}

func TestBeaconLyingBlob(t *testing.T) {
	chain, beacon := beaconFor(t)
	beacon.DisableBlobsEndpoint()
	ref := chain.Blobs[0]
	ts := chain.Blocks[ref.Block].Time()
	// The sidecar keeps its commitment but carries a different blob.
	beacon.SetTamper(func(_ uint64, scs []testnode.Sidecar) []testnode.Sidecar {
		for i := range scs {
			scs[i].Blob[100] ^= 1
		}
		return scs
	})
	ctx := context.Background()
	c, _ := sources.NewBeaconClient(beacon.URL, sources.Options{})
	_, err := c.BlobByHash(ctx, ts, ref.VersionedHash)
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "corrupt blob: %v", err)
}

func TestBeaconErrors(t *testing.T) {
	chain, beacon := beaconFor(t)
	ctx := context.Background()
	c, _ := sources.NewBeaconClient(beacon.URL, sources.Options{})
	beacon.FailHTTP(1)
	var statusErr *sources.HTTPStatusError
	_, err := c.BlobByHash(ctx, chain.Blocks[1].Time(), chain.Blobs[0].VersionedHash)
	require.ErrorAs(t, err, &statusErr, "500: %v", err)
	require.Equal(t, 500, statusErr.Status, "500: %v", err)
	_, err = c.BlobByHash(ctx, testnode.L1GenesisTime-1, chain.Blobs[0].VersionedHash)
	require.Error(t, err, "timestamp before genesis accepted")
	_, err = sources.NewBeaconClient("ftp://x", sources.Options{})
	require.Error(t, err, "ftp URL accepted")
}

func TestL2BlocksAllForks(t *testing.T) {
	be, node := l2Node(t)
	c := dialL2(t, node.URL)
	ctx := context.Background()
	for n := uint64(0); n <= testnode.L2Blocks; n++ {
		b := be.B.Block(n)
		blk, err := c.BlockByHash(ctx, b.Hash())
		require.NoError(t, err, "L2 block %d", n)
		require.Len(t, blk.Transactions, len(b.Transactions()), "L2 block %d: %d txs", n, len(blk.Transactions))
	}
}

func TestL2CodeAndNodes(t *testing.T) {
	be, node := l2Node(t)
	c := dialL2(t, node.URL)
	ctx := context.Background()
	code := testStorageCode()
	h := crypto.Keccak256Hash(code)
	got, err := c.CodeByHash(ctx, h)
	require.NoError(t, err, "code: %x", got)
	require.Equal(t, string(code), string(got), "code: %x, %v", got, err)
	be.LegacyCode[h] = true // only under the bare hash now
	node.ResetRequests()
	if got, err = c.CodeByHash(ctx, h); err != nil || string(got) != string(code) {
		require.FailNow(t, fmt.Sprintf("legacy code: %x, %v", got, err))
	}
	require.Equal(t, 2, node.Requests("debug_dbGet"), "legacy code took %d requests, want 2", node.Requests("debug_dbGet"))
	root := be.B.Head().Root()
	nd, err := c.NodeByHash(ctx, root)
	require.NoError(t, err, "state root node")
	require.Equal(t, root, crypto.Keccak256Hash(nd), "state root node: %v", err)
	node.SetTamper(func(method string, _ []any, res json.RawMessage) json.RawMessage {
		if method == "debug_dbGet" {
			return json.RawMessage(`"0x1234"`)
		}
		return res
	})
	_, err = c.NodeByHash(ctx, root)
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "wrong node: %v", err)
	_, err = c.CodeByHash(ctx, h)
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "wrong code: %v", err)
}

// testStorageCode is devnet's storage contract, deployed at genesis.
func testStorageCode() []byte { return common.CopyBytes(devnet.StorageCode) }

func TestL2Proofs(t *testing.T) {
	be, node := l2Node(t)
	c := dialL2(t, node.URL)
	ctx := context.Background()
	head := be.B.Head()
	st, err := be.B.StateAt(head.Root())
	require.NoError(t, err)
	mp := params.OptimismL2ToL1MessagePasser
	p, err := c.GetProof(ctx, mp, []common.Hash{{}, {31: 9}}, head.Hash())
	require.NoError(t, err)
	require.Equal(t, st.GetStorageRoot(mp), p.StorageHash, "proof: storage root %s, values %v %v", p.StorageHash, p.StorageProof[0].Value, p.StorageProof[1].Value)
	require.Equal(t, uint64(1), p.StorageProof[1].Value.Uint64(), "proof: storage root %s, values %v %v", p.StorageHash, p.StorageProof[0].Value, p.StorageProof[1].Value)
	require.Equal(t, 0, p.StorageProof[0].Value.Sign(), "proof: storage root %s, values %v %v", p.StorageHash, p.StorageProof[0].Value, p.StorageProof[1].Value)
	// An absent account proves absence.
	p, err = c.GetProof(ctx, common.Address{0x99, 0x99}, []common.Hash{{}}, head.Hash())
	require.NoError(t, err, "absent account")
	require.Equal(t, types.EmptyRootHash, p.StorageHash, "absent account: %v", err)
	out, hdr, err := c.OutputAt(ctx, head.Hash())
	require.NoError(t, err)
	require.Equal(t, head.Root(), out.StateRoot, "output %+v", out)
	require.Equal(t, head.Hash(), out.BlockHash, "output %+v", out)
	require.Equal(t, st.GetStorageRoot(mp), out.MessagePasserStorageRoot, "output %+v", out)
	require.NotNil(t, hdr.WithdrawalsHash, "Isthmus header withdrawals root %v, storage root %s", hdr.WithdrawalsHash, out.MessagePasserStorageRoot)
	require.Equal(t, out.MessagePasserStorageRoot, *hdr.WithdrawalsHash, "Isthmus header withdrawals root %v, storage root %s", hdr.WithdrawalsHash, out.MessagePasserStorageRoot)

	for name, f := range map[string]func(m map[string]any){
		"balance":      func(m map[string]any) { m["balance"] = "0x12345" },
		"storage hash": func(m map[string]any) { m["storageHash"] = common.Hash{1}.Hex() },
		"proof node": func(m map[string]any) {
			p := m["accountProof"].([]any)
			m["accountProof"] = p[:len(p)-1]
		},
		"slot value": func(m map[string]any) {
			sp := m["storageProof"].([]any)
			sp[1].(map[string]any)["value"] = "0x2"
		},
	} {
		node.SetTamper(func(method string, _ []any, res json.RawMessage) json.RawMessage {
			if method != "eth_getProof" {
				return res
			}
			return setJSON(t, res, f)
		})
		_, err := c.GetProof(ctx, mp, []common.Hash{{}, {31: 9}}, head.Hash())
		require.ErrorIs(t, err, sources.ErrInvalidResponse, "lying proof (%s): %v", name, err)
	}
}

func TestL2ExecutePayload(t *testing.T) {
	be, node := l2Node(t)
	c := dialL2(t, node.URL)
	attrs, err := json.Marshal(be.B.Attributes(5))
	require.NoError(t, err)
	w, err := c.ExecutePayload(context.Background(), be.B.Block(4).Hash(), attrs)
	require.NoError(t, err)
	require.NotEmpty(t, w.State, "empty witness")
}

func TestDepositReceiptRoundTrip(t *testing.T) {
	// A post-Canyon deposit receipt survives JSON (as an L2 node sends it) with its trie encoding.
	nonce, version := uint64(7), uint64(1)
	r := &types.Receipt{Type: types.DepositTxType, Status: 1, CumulativeGasUsed: 50_000, Logs: []*types.Log{},
		DepositNonce: &nonce, DepositReceiptVersion: &version, TxHash: common.Hash{1}, GasUsed: 50_000}
	r.Bloom = types.CreateBloom(r)
	enc, err := json.Marshal(r)
	require.NoError(t, err)
	var back types.Receipt
	require.NoError(t, json.Unmarshal(enc, &back))
	want := types.DeriveSha(types.Receipts{r}, trie.NewStackTrie(nil))
	got := types.DeriveSha(types.Receipts{&back}, trie.NewStackTrie(nil))
	require.Equal(t, want, got, "deposit receipt root %s after JSON, want %s", got, want)
}

package sources_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/trie"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/devnet/devnettest"
	"github.com/faultproof/faultproof/host/sources"
)

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
	chain, srv := devnettest.Serve(t)
	c := dialL1(t, srv.L1URL(), sources.RPCKindStandard, nil)
	ctx := context.Background()
	id, err := c.ChainID(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(devnettest.L1ChainID), id)
	for n, b := range chain.L1.Blocks {
		h, err := c.HeaderByHash(ctx, b.Hash())
		require.NoError(t, err, "block %d header", n)
		require.Equal(t, b.Hash(), h.Hash(), "block %d header", n)
		blk, err := c.BlockByHash(ctx, b.Hash())
		require.NoError(t, err, "block %d", n)
		require.Equal(t, b.Hash(), crypto.Keccak256Hash(blk.HeaderRLP), "block %d", n)
		require.Len(t, blk.Transactions, len(b.Transactions()), "block %d", n)
		for i, tx := range b.Transactions() {
			enc, err := tx.MarshalBinary()
			require.NoError(t, err)
			require.Equal(t, enc, blk.Transactions[i], "block %d tx %d encoding", n, i)
		}
	}
	_, err = c.HeaderByHash(ctx, common.Hash{0xde, 0xad})
	require.ErrorIs(t, err, sources.ErrNotFound, "unknown block")
}

func TestL1LyingNode(t *testing.T) {
	chain, srv := devnettest.Serve(t)
	c := dialL1(t, srv.L1URL(), sources.RPCKindStandard, nil)
	ctx := context.Background()
	b := chain.L1.Blocks[1]

	// A header field changed: the header no longer hashes to the requested hash.
	srv.L1().SetTamper(devnettest.Edit("eth_getBlockByHash", func(m *map[string]any) { (*m)["gasUsed"] = "0x1" }))
	_, err := c.HeaderByHash(ctx, b.Hash())
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "tampered header")

	// Another block's header and body served under this hash.
	srv.L1().SetTamper(nil)
	var other json.RawMessage
	rc, err := rpc.Dial(srv.L1URL())
	require.NoError(t, err)
	defer rc.Close()
	require.NoError(t, rc.CallContext(ctx, &other, "eth_getBlockByHash", chain.L1.Blocks[2].Hash(), true))
	srv.L1().SetTamper(devnettest.Replace("eth_getBlockByHash", other))
	_, err = c.BlockByHash(ctx, b.Hash())
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "other block")

	// Transactions dropped: the header is right, the list is not.
	srv.L1().SetTamper(devnettest.Edit("eth_getBlockByHash", func(m *map[string]any) {
		txs := (*m)["transactions"].([]any)
		(*m)["transactions"] = txs[:len(txs)-1]
	}))
	_, err = c.BlockByHash(ctx, b.Hash())
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "dropped transaction")

	// A receipt's status flipped.
	srv.L1().SetTamper(flipReceiptStatus)
	_, err = c.ReceiptsByHash(ctx, b.Hash())
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "tampered receipt")
}

// flipReceiptStatus fails the first receipt of every eth_getBlockReceipts answer.
var flipReceiptStatus = devnettest.Edit("eth_getBlockReceipts", func(rs *[]map[string]any) { (*rs)[0]["status"] = "0x0" })

func TestL1ReceiptsByKind(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		kind       sources.RPCKind
		dropped    []string
		wantMethod string
	}{
		{"standard", sources.RPCKindStandard, nil, "eth_getBlockReceipts"},
		{"alchemy maps to block receipts", sources.RPCKindAlchemy, nil, "eth_getBlockReceipts"},
		{"debug_geth", sources.RPCKindDebugGeth, nil, "debug_getRawReceipts"},
		{"basic", sources.RPCKindBasic, nil, "eth_getTransactionReceipt"},
		{"standard falls back per transaction", sources.RPCKindStandard, []string{"eth_getBlockReceipts"}, "eth_getTransactionReceipt"},
		{"debug_geth falls back to block receipts", sources.RPCKindDebugGeth, []string{"debug_getRawReceipts"}, "eth_getBlockReceipts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chain, srv := devnettest.Serve(t)
			for _, m := range tc.dropped {
				srv.L1().Drop(m)
			}
			cnt := &counter{}
			c := dialL1(t, srv.L1URL(), tc.kind, cnt)
			for n, b := range chain.L1.Blocks {
				r, err := c.ReceiptsByHash(ctx, b.Hash())
				require.NoError(t, err, "block %d", n)
				require.Equal(t, b.Hash(), r.Header.Hash(), "block %d", n)
				require.Len(t, r.Encoded, len(b.Transactions()), "block %d", n)
			}
			require.Positive(t, cnt.get(tc.wantMethod), "%s requests: %v", tc.wantMethod, cnt.m)
			if tc.wantMethod == "eth_getTransactionReceipt" {
				require.GreaterOrEqual(t, srv.L1().Requests("eth_getTransactionReceipt"), devnettest.ManyTxCount)
			}
			// A method the node does not have is asked once, then remembered.
			for _, m := range tc.dropped {
				require.Equal(t, 1, srv.L1().Requests(m), "%s asked", m)
			}
		})
	}
}

// TestL1ReceiptsKnownHeader: receipts of a block whose header the client has (fetched before, or given
// with ReceiptsOf) cost no block request, with every RPC kind but basic, whose per-transaction receipts
// need the block's transaction hashes. The receipts are still checked against the header.
func TestL1ReceiptsKnownHeader(t *testing.T) {
	chain, srv := devnettest.Serve(t)
	ctx := context.Background()
	for _, kind := range []sources.RPCKind{sources.RPCKindStandard, sources.RPCKindDebugGeth, sources.RPCKindBasic} {
		t.Run(string(kind), func(t *testing.T) {
			perReceipts := 0
			if kind == sources.RPCKindBasic {
				perReceipts = 1
			}
			cnt := &counter{}
			c := dialL1(t, srv.L1URL(), kind, cnt)
			for n, b := range chain.L1.Blocks {
				_, err := c.HeaderByHash(ctx, b.Hash())
				require.NoError(t, err)
				before := cnt.get("eth_getBlockByHash")
				r, err := c.ReceiptsByHash(ctx, b.Hash())
				require.NoError(t, err, "block %d", n)
				require.Equal(t, perReceipts, cnt.get("eth_getBlockByHash")-before, "block %d after its header: block requests", n)
				require.Len(t, r.Encoded, len(b.Transactions()), "block %d", n)
			}
			// A new client knows no header: ReceiptsOf is given it.
			cnt2 := &counter{}
			c2 := dialL1(t, srv.L1URL(), kind, cnt2)
			for n, b := range chain.L1.Blocks {
				r, err := c2.ReceiptsOf(ctx, b.Header())
				require.NoError(t, err, "block %d", n)
				require.Equal(t, b.Hash(), r.Header.Hash(), "block %d", n)
				require.Len(t, r.Encoded, len(b.Transactions()), "block %d", n)
			}
			require.Equal(t, perReceipts*len(chain.L1.Blocks), cnt2.get("eth_getBlockByHash"), "ReceiptsOf: block requests")
		})
	}
	// Receipts that do not match the given header's root are refused.
	srv.L1().SetTamper(flipReceiptStatus)
	c := dialL1(t, srv.L1URL(), sources.RPCKindStandard, nil)
	_, err := c.ReceiptsOf(ctx, chain.L1.Blocks[1].Header())
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "tampered receipts")
}

func TestParseRPCKind(t *testing.T) {
	k, err := sources.ParseRPCKind("")
	require.NoError(t, err)
	require.Equal(t, sources.RPCKindStandard, k)
	k, err = sources.ParseRPCKind("debug_geth")
	require.NoError(t, err)
	require.Equal(t, sources.RPCKindDebugGeth, k)
	_, err = sources.ParseRPCKind("bogus")
	require.Error(t, err, "bogus kind")
}

func TestBeaconBlobs(t *testing.T) {
	chain, srv := devnettest.Serve(t)
	ctx := context.Background()
	for _, dropBlobs := range []bool{false, true} {
		if dropBlobs {
			srv.Beacon().Drop("blobs")
		}
		c, err := sources.NewBeaconClient(srv.BeaconURL()+"/", sources.Options{})
		require.NoError(t, err)
		for _, ref := range chain.L1.Blobs {
			ts := chain.L1.Blocks[ref.Block].Time()
			blob, err := c.BlobByHash(ctx, ts, ref.VersionedHash)
			require.NoError(t, err, "blob %s (blobs endpoint dropped: %v)", ref.VersionedHash, dropBlobs)
			require.Equal(t, ref.Blob, blob.Blob, "blob %s", ref.VersionedHash)
			require.Equal(t, ref.Commitment, blob.Commitment, "blob %s", ref.VersionedHash)
		}
		_, err = c.BlobByHash(ctx, chain.L1.Blocks[1].Time(), common.Hash{0x01, 0x02})
		require.ErrorIs(t, err, sources.ErrNotFound, "unknown blob")
	}
	require.Equal(t, 2, srv.Beacon().Requests("genesis"), "genesis asked once per client")
	require.Equal(t, 2, srv.Beacon().Requests("spec"), "spec asked once per client")
	require.Positive(t, srv.Beacon().Requests("blob_sidecars"), "sidecars never asked")
}

// TestBeaconBlobsByHashes: the blobs of one block come in one request, in the order asked, each checked;
// hashes the node does not have are left out.
func TestBeaconBlobsByHashes(t *testing.T) {
	chain, srv := devnettest.Serve(t)
	ctx := context.Background()
	var refs []devnettest.BlobRef
	for _, ref := range chain.L1.Blobs {
		if ref.Block == 1 {
			refs = append(refs, ref)
		}
	}
	ts := chain.L1.Blocks[1].Time()
	for _, endpoint := range []string{"blobs", "blob_sidecars"} {
		if endpoint == "blob_sidecars" {
			srv.Beacon().Drop("blobs")
		}
		c, err := sources.NewBeaconClient(srv.BeaconURL(), sources.Options{})
		require.NoError(t, err)
		before := srv.Beacon().Requests(endpoint)
		blobs, err := c.BlobsByHashes(ctx, ts, []common.Hash{refs[1].VersionedHash, {0x01, 0x02}, refs[0].VersionedHash, refs[1].VersionedHash})
		require.NoError(t, err, endpoint)
		require.Len(t, blobs, 2, endpoint)
		require.Equal(t, refs[1].VersionedHash, blobs[0].VersionedHash, endpoint)
		require.Equal(t, refs[0].VersionedHash, blobs[1].VersionedHash, endpoint)
		require.Equal(t, refs[1].Blob, blobs[0].Blob, endpoint)
		require.Equal(t, refs[0].Blob, blobs[1].Blob, endpoint)
		require.Equal(t, refs[0].Commitment, blobs[1].Commitment, endpoint)
		require.Equal(t, 1, srv.Beacon().Requests(endpoint)-before, "%s: requests", endpoint)
		_, err = c.BlobsByHashes(ctx, ts, []common.Hash{{0x01, 0x02}})
		require.ErrorIs(t, err, sources.ErrNotFound, "%s: unknown blob", endpoint)
	}
}

// flipBlobByte changes a byte of every blob served, keeping its commitment.
var flipBlobByte = devnettest.TamperBlobs(func(_ kzg4844.Commitment, b *kzg4844.Blob) { b[100] ^= 1 })

func TestBeaconLyingBlob(t *testing.T) {
	chain, srv := devnettest.Serve(t)
	srv.Beacon().Drop("blobs")
	ref := chain.L1.Blobs[0]
	ts := chain.L1.Blocks[ref.Block].Time()
	// The sidecar keeps its commitment but carries a different blob.
	srv.Beacon().SetTamper(flipBlobByte)
	c, err := sources.NewBeaconClient(srv.BeaconURL(), sources.Options{})
	require.NoError(t, err)
	_, err = c.BlobByHash(context.Background(), ts, ref.VersionedHash)
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "corrupt blob")
}

func TestBeaconErrors(t *testing.T) {
	chain, srv := devnettest.Serve(t)
	ctx := context.Background()
	c, err := sources.NewBeaconClient(srv.BeaconURL(), sources.Options{})
	require.NoError(t, err)
	srv.Beacon().Inject("", devnet.Fail500)
	var statusErr *sources.HTTPStatusError
	_, err = c.BlobByHash(ctx, chain.L1.Blocks[1].Time(), chain.L1.Blobs[0].VersionedHash)
	require.ErrorAs(t, err, &statusErr)
	require.Equal(t, 500, statusErr.Status)
	_, err = c.BlobByHash(ctx, devnettest.L1GenesisTime-1, chain.L1.Blobs[0].VersionedHash)
	require.Error(t, err, "timestamp before genesis")
	_, err = sources.NewBeaconClient("ftp://x", sources.Options{})
	require.Error(t, err, "ftp URL")
}

func TestL2BlocksAllForks(t *testing.T) {
	chain, srv := devnettest.Serve(t)
	c := dialL2(t, srv.L2URL())
	ctx := context.Background()
	for n := uint64(0); n <= devnettest.L2Blocks; n++ {
		b := chain.L2.Block(n)
		blk, err := c.BlockByHash(ctx, b.Hash())
		require.NoError(t, err, "L2 block %d", n)
		require.Len(t, blk.Transactions, len(b.Transactions()), "L2 block %d", n)
	}
}

func TestL2CodeAndNodes(t *testing.T) {
	chain, srv := devnettest.Serve(t)
	c := dialL2(t, srv.L2URL())
	ctx := context.Background()
	code := common.CopyBytes(devnet.StorageCode) // deployed at genesis
	h := crypto.Keccak256Hash(code)
	got, err := c.CodeByHash(ctx, h)
	require.NoError(t, err)
	require.Equal(t, code, got)

	// A node whose database holds the code only under the bare hash, as before the 'c' prefix.
	codeJSON, err := json.Marshal(hexutil.Bytes(code))
	require.NoError(t, err)
	srv.L2().SetTamper(func(a *devnet.Answer) {
		var keys []string
		if a.Name != "debug_dbGet" || json.Unmarshal(a.Params, &keys) != nil {
			return
		}
		switch keys[0] {
		case hexutil.Encode(append([]byte{'c'}, h[:]...)):
			a.Result, a.Error = nil, &devnet.RPCError{Code: -32000, Message: "not found"}
		case h.Hex():
			a.Result, a.Error = codeJSON, nil
		}
	})
	srv.L2().ResetRequests()
	got, err = c.CodeByHash(ctx, h)
	require.NoError(t, err, "legacy code")
	require.Equal(t, code, got, "legacy code")
	require.Equal(t, 2, srv.L2().Requests("debug_dbGet"), "legacy code requests")

	root := chain.L2.Head().Root()
	nd, err := c.NodeByHash(ctx, root)
	require.NoError(t, err, "state root node")
	require.Equal(t, root, crypto.Keccak256Hash(nd))
	srv.L2().SetTamper(devnettest.Replace("debug_dbGet", json.RawMessage(`"0x1234"`)))
	_, err = c.NodeByHash(ctx, root)
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "wrong node")
	_, err = c.CodeByHash(ctx, h)
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "wrong code")
}

func TestL2Proofs(t *testing.T) {
	chain, srv := devnettest.Serve(t)
	c := dialL2(t, srv.L2URL())
	ctx := context.Background()
	head := chain.L2.Head()
	st, err := chain.L2.StateAt(head.Root())
	require.NoError(t, err)
	mp := params.OptimismL2ToL1MessagePasser
	p, err := c.GetProof(ctx, mp, []common.Hash{{}, {31: 9}}, head.Hash())
	require.NoError(t, err)
	require.Equal(t, st.GetStorageRoot(mp), p.StorageHash)
	require.Zero(t, p.StorageProof[0].Value.Sign())
	require.Equal(t, uint64(1), p.StorageProof[1].Value.Uint64())
	// An absent account proves absence.
	p, err = c.GetProof(ctx, common.Address{0x99, 0x99}, []common.Hash{{}}, head.Hash())
	require.NoError(t, err, "absent account")
	require.Equal(t, types.EmptyRootHash, p.StorageHash, "absent account")
	out, hdr, err := c.OutputAt(ctx, head.Hash())
	require.NoError(t, err)
	require.Equal(t, head.Root(), out.StateRoot)
	require.Equal(t, head.Hash(), out.BlockHash)
	require.Equal(t, st.GetStorageRoot(mp), out.MessagePasserStorageRoot)
	require.NotNil(t, hdr.WithdrawalsHash, "Isthmus header withdrawals root")
	require.Equal(t, out.MessagePasserStorageRoot, *hdr.WithdrawalsHash, "Isthmus header withdrawals root")

	for name, f := range map[string]func(m *map[string]any){
		"balance":      func(m *map[string]any) { (*m)["balance"] = "0x12345" },
		"storage hash": func(m *map[string]any) { (*m)["storageHash"] = common.Hash{1}.Hex() },
		"proof node": func(m *map[string]any) {
			p := (*m)["accountProof"].([]any)
			(*m)["accountProof"] = p[:len(p)-1]
		},
		"slot value": func(m *map[string]any) {
			sp := (*m)["storageProof"].([]any)
			sp[1].(map[string]any)["value"] = "0x2"
		},
	} {
		srv.L2().SetTamper(devnettest.Edit("eth_getProof", f))
		_, err := c.GetProof(ctx, mp, []common.Hash{{}, {31: 9}}, head.Hash())
		require.ErrorIs(t, err, sources.ErrInvalidResponse, "lying proof (%s)", name)
	}
}

func TestL2ExecutePayload(t *testing.T) {
	chain, srv := devnettest.Serve(t)
	c := dialL2(t, srv.L2URL())
	attrs, err := json.Marshal(chain.L2.Attributes(5))
	require.NoError(t, err)
	w, err := c.ExecutePayload(context.Background(), chain.L2.Block(4).Hash(), attrs)
	require.NoError(t, err)
	require.NotEmpty(t, w.State, "witness")
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
	require.Equal(t, want, got, "deposit receipt root after JSON")
}

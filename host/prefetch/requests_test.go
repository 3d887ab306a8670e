package prefetch_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client/l1"
	"github.com/faultproof/faultproof/host/sources"
	"github.com/faultproof/faultproof/host/sources/testnode"
	"github.com/faultproof/faultproof/preimage"
)

// requests counts the L1 node's requests by method since the last call.
type requests struct {
	node *testnode.Node
	last map[string]int
}

func newRequests(node *testnode.Node) *requests { return &requests{node: node, last: map[string]int{}} }

// delta returns how many requests of method were made since the last delta for it.
func (r *requests) delta(method string) int {
	n := r.node.Requests(method)
	d := n - r.last[method]
	r.last[method] = n
	return d
}

// receiptsMethod is the request that brings a block's receipts with each RPC kind.
var receiptsMethod = map[sources.RPCKind]string{
	sources.RPCKindStandard:  "eth_getBlockReceipts",
	sources.RPCKindDebugGeth: "debug_getRawReceipts",
	sources.RPCKindBasic:     "eth_getTransactionReceipt",
}

// TestL1ReceiptsDoNotRefetchHeader follows the program's hints for an L1 block (header, transactions,
// receipts, as derivation's traversal does) and counts the node's requests: the receipts hint must not ask
// for the block again, since its header is stored already. Per-transaction receipts (basic) need the
// block's transaction hashes and still ask once.
func TestL1ReceiptsDoNotRefetchHeader(t *testing.T) {
	for _, kind := range []sources.RPCKind{sources.RPCKindStandard, sources.RPCKindDebugGeth, sources.RPCKindBasic} {
		t.Run(string(kind), func(t *testing.T) {
			e := newEnv(t, envOpts{l1Kind: kind})
			req := newRequests(e.l1Node)
			for _, n := range []int{1, testnode.ManyTxBlock} {
				b := e.l1.Blocks[n]
				e.get(t, hint(preimage.HintL1BlockHeader, b.Hash().Bytes()), preimage.Keccak256Key(b.Hash()))
				got := req.delta("eth_getBlockByHash")
				require.Equal(t, 1, got, "block %d header: %d block requests", n, got)
				e.get(t, hint(preimage.HintL1Transactions, b.Hash().Bytes()), preimage.Keccak256Key(b.TxHash()))
				got = req.delta("eth_getBlockByHash")
				require.Equal(t, 1, got, "block %d transactions: %d block requests", n, got)
				e.get(t, hint(preimage.HintL1Receipts, b.Hash().Bytes()), preimage.Keccak256Key(b.ReceiptHash()))
				want := 0
				if kind == sources.RPCKindBasic {
					want = 1
				}
				got = req.delta("eth_getBlockByHash")
				require.Equal(t, want, got, "block %d receipts: %d block requests, want %d", n, got, want)
				require.NotEqual(t, 0, req.delta(receiptsMethod[kind]), "block %d receipts: no %s request", n, receiptsMethod[kind])
			}
		})
	}
}

// TestL1ReceiptsUseStoredHeader restarts the prefetcher (its clients' header caches are empty) on a store
// that holds a block's header: the receipts hint reads the header from the store instead of asking for
// it. A stored header that does not match its key is not used: the block is asked for.
func TestL1ReceiptsUseStoredHeader(t *testing.T) {
	e := newEnv(t, envOpts{})
	b, other := e.l1.Blocks[1], e.l1.Blocks[testnode.ManyTxBlock]
	req := newRequests(e.l1Node)
	e.get(t, hint(preimage.HintL1BlockHeader, b.Hash().Bytes()), preimage.Keccak256Key(b.Hash()))
	got := req.delta("eth_getBlockByHash")
	require.Equal(t, 1, got, "header: %d block requests", got)
	e.restart(t)
	e.get(t, hint(preimage.HintL1Receipts, b.Hash().Bytes()), preimage.Keccak256Key(b.ReceiptHash()))
	got = req.delta("eth_getBlockByHash")
	require.Equal(t, 0, got, "stored header: %d block requests", got)
	got = req.delta("eth_getBlockReceipts")
	require.Equal(t, 1, got, "%d receipts requests", got)

	// A corrupt header in the store (here: another block's) is ignored and the block fetched.
	require.NoError(t, e.kv.Put(common.Hash(preimage.Keccak256Key(other.Hash()).PreimageKey()), headerRLP(t, b.Header())))
	e.restart(t)
	e.get(t, hint(preimage.HintL1Receipts, other.Hash().Bytes()), preimage.Keccak256Key(other.ReceiptHash()))
	got = req.delta("eth_getBlockByHash")
	require.Equal(t, 1, got, "corrupt stored header: %d block requests, want 1", got)
	require.NotEqual(t, uint64(0), e.p.Stats().Snapshot().Corrupt, "corrupt header not counted")
}

// TestL1ReceiptsOfCheckedAgainstGivenHeader: receipts fetched for a known header are still checked
// against its receipts root.
func TestL1ReceiptsOfCheckedAgainstGivenHeader(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := e.l1.Blocks[1]
	e.get(t, hint(preimage.HintL1BlockHeader, b.Hash().Bytes()), preimage.Keccak256Key(b.Hash()))
	e.restart(t)
	e.l1Node.SetTamper(func(method string, _ []any, res json.RawMessage) json.RawMessage {
		if method != "eth_getBlockReceipts" {
			return res
		}
		var rs []map[string]any
		_ = json.Unmarshal(res, &rs)
		rs[0]["status"] = "0x0"
		out, _ := json.Marshal(rs)
		return out
	})
	_ = e.p.Hint(hint(preimage.HintL1Receipts, b.Hash().Bytes()))
	_, err := e.p.GetPreimage(context.Background(), preimage.Keccak256Key(b.ReceiptHash()).PreimageKey())
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "tampered receipts: %v", err)
}

// TestL1BlobsOneRequestPerBlock: after the transactions of an L1 block with two blobs for the batch inbox,
// the first blob hint fetches both blobs in one beacon request and the second needs none. Each blob is
// stored exactly as when fetched alone.
func TestL1BlobsOneRequestPerBlock(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sidecars bool
		inbox    bool // the blob transactions go to the batch inbox
		want     int  // beacon requests for the block's two blobs
	}{
		{"blobs endpoint", false, true, 1},
		{"sidecars", true, true, 1},
		{"not for the inbox", false, false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOpts{blobInbox: tc.inbox})
			endpoint := "blobs"
			if tc.sidecars {
				e.beacon.DisableBlobsEndpoint()
				endpoint = "blob_sidecars"
			}
			blk := e.l1.Blocks[1]
			e.get(t, hint(preimage.HintL1Transactions, blk.Hash().Bytes()), preimage.Keccak256Key(blk.TxHash()))
			var refs []testnode.BlobRef
			for _, ref := range e.l1.Blobs {
				if ref.Block == 1 {
					refs = append(refs, ref)
				}
			}
			require.Len(t, refs, 2, "%d blobs in block 1", len(refs))
			want := keySet{}
			want.add(preimage.Keccak256Key(blk.Hash()))
			want.addList(encodeTxs(t, blk.Transactions()))
			// The second blob first: the order of the hints does not matter.
			for _, ref := range []testnode.BlobRef{refs[1], refs[0]} {
				v := e.get(t, hint(preimage.HintL1Blob, cat(ref.VersionedHash[:], u64(blk.Time()))), preimage.Sha256Key(ref.VersionedHash))
				require.Equal(t, ref.Commitment[:], v, "commitment differs")
				for k := range blobKeys(ref) {
					want[k] = true
				}
				e.checkStored(t, want)
				checkFieldElements(t, e, ref)
			}
			got := e.beacon.Requests(endpoint)
			require.Equal(t, tc.want, got, "%d %s requests, want %d", got, endpoint, tc.want)
			// The program reads both back.
			o := l1.NewOracle(adapter{e.p}, adapter{e.p})
			for _, ref := range refs {
				blob, err := o.GetBlob(l1.BlobRef{L1Timestamp: blk.Time(), VersionedHash: ref.VersionedHash})
				require.NoError(t, err, "blob %s", ref.VersionedHash)
				require.Equal(t, *ref.Blob, *blob, "blob %s: %v", ref.VersionedHash, err)
			}
		})
	}
}

func checkFieldElements(t *testing.T, e *env, ref testnode.BlobRef) {
	t.Helper()
	for i := range params.BlobTxFieldElementsPerBlob {
		key, _ := l1.FieldElementKey(&ref.Commitment, i)
		fe, err := e.kv.Get(common.Hash(key.PreimageKey()))
		require.NoError(t, err, "blob %s field element %d: %x", ref.VersionedHash, i, fe)
		require.Equal(t, ref.Blob[i*32:i*32+32], fe, "blob %s field element %d: %x, %v", ref.VersionedHash, i, fe, err)
	}
}

// TestL1BlobsTogetherBadOther: a beacon node that serves a bad blob for the other blob of the block
// still serves the one asked for (asked again alone), and the bad one is refused when its turn comes.
func TestL1BlobsTogetherBadOther(t *testing.T) {
	e := newEnv(t, envOpts{blobInbox: true, maxAttempts: 1})
	e.beacon.DisableBlobsEndpoint()
	good, bad := e.l1.Blobs[0], e.l1.Blobs[1]
	e.beacon.SetTamper(func(_ uint64, scs []testnode.Sidecar) []testnode.Sidecar {
		for i := range scs {
			if scs[i].Commitment == bad.Commitment {
				scs[i].Blob[40] ^= 1
			}
		}
		return scs
	})
	blk := e.l1.Blocks[1]
	e.get(t, hint(preimage.HintL1Transactions, blk.Hash().Bytes()), preimage.Keccak256Key(blk.TxHash()))
	e.get(t, hint(preimage.HintL1Blob, cat(good.VersionedHash[:], u64(blk.Time()))), preimage.Sha256Key(good.VersionedHash))
	checkFieldElements(t, e, good)
	got := e.beacon.Requests("blob_sidecars")
	require.Equal(t, 2, got, "%d sidecar requests, want 2 (together, then alone)", got)
	_ = e.p.Hint(hint(preimage.HintL1Blob, cat(bad.VersionedHash[:], u64(blk.Time()))))
	_, err := e.p.GetPreimage(context.Background(), preimage.Sha256Key(bad.VersionedHash).PreimageKey())
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "bad blob: %v", err)
	_, err = e.kv.Get(common.Hash(preimage.Sha256Key(bad.VersionedHash).PreimageKey()))
	require.Error(t, err, "bad blob stored")
}

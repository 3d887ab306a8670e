package prefetch_test

import (
	"context"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client/l1"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/devnet/devnettest"
	"github.com/faultproof/faultproof/host/sources"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
)

// requests counts a node's requests by method since the last call.
type requests struct {
	node *devnet.Endpoint
	last map[string]int
}

func newRequests(node *devnet.Endpoint) *requests {
	return &requests{node: node, last: map[string]int{}}
}

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
			for _, n := range []int{1, devnettest.ManyTxBlock} {
				b := e.l1.Blocks[n]
				e.get(t, hint(preimage.HintL1BlockHeader, b.Hash().Bytes()), preimage.Keccak256Key(b.Hash()))
				require.Equal(t, 1, req.delta("eth_getBlockByHash"), "block %d header: block requests", n)
				e.get(t, hint(preimage.HintL1Transactions, b.Hash().Bytes()), preimage.Keccak256Key(b.TxHash()))
				require.Equal(t, 1, req.delta("eth_getBlockByHash"), "block %d transactions: block requests", n)
				e.get(t, hint(preimage.HintL1Receipts, b.Hash().Bytes()), preimage.Keccak256Key(b.ReceiptHash()))
				want := 0
				if kind == sources.RPCKindBasic {
					want = 1
				}
				require.Equal(t, want, req.delta("eth_getBlockByHash"), "block %d receipts: block requests", n)
				require.Positive(t, req.delta(receiptsMethod[kind]), "block %d receipts: %s requests", n, receiptsMethod[kind])
			}
		})
	}
}

// TestL1ReceiptsUseStoredHeader restarts the prefetcher (its clients' header caches are empty) on a store
// that holds a block's header: the receipts hint reads the header from the store instead of asking for
// it. A stored header that does not match its key is not used: the block is asked for.
func TestL1ReceiptsUseStoredHeader(t *testing.T) {
	e := newEnv(t, envOpts{})
	b, other := e.l1.Blocks[1], e.l1.Blocks[devnettest.ManyTxBlock]
	req := newRequests(e.l1Node)
	e.get(t, hint(preimage.HintL1BlockHeader, b.Hash().Bytes()), preimage.Keccak256Key(b.Hash()))
	require.Equal(t, 1, req.delta("eth_getBlockByHash"), "header: block requests")
	e.restart(t)
	e.get(t, hint(preimage.HintL1Receipts, b.Hash().Bytes()), preimage.Keccak256Key(b.ReceiptHash()))
	require.Zero(t, req.delta("eth_getBlockByHash"), "stored header: block requests")
	require.Equal(t, 1, req.delta("eth_getBlockReceipts"), "receipts requests")

	// A corrupt header in the store (here: another block's) is ignored and the block fetched.
	require.NoError(t, e.kv.Put(common.Hash(preimage.Keccak256Key(other.Hash()).PreimageKey()), headerRLP(t, b.Header())))
	e.restart(t)
	e.get(t, hint(preimage.HintL1Receipts, other.Hash().Bytes()), preimage.Keccak256Key(other.ReceiptHash()))
	require.Equal(t, 1, req.delta("eth_getBlockByHash"), "corrupt stored header: block requests")
	require.Positive(t, e.p.Stats().Snapshot().Corrupt, "corrupt header counted")
}

// TestL1ReceiptsOfCheckedAgainstGivenHeader: receipts fetched for a known header are still checked
// against its receipts root.
func TestL1ReceiptsOfCheckedAgainstGivenHeader(t *testing.T) {
	e := newEnv(t, envOpts{})
	b := e.l1.Blocks[1]
	e.get(t, hint(preimage.HintL1BlockHeader, b.Hash().Bytes()), preimage.Keccak256Key(b.Hash()))
	e.restart(t)
	e.l1Node.SetTamper(devnettest.Edit("eth_getBlockReceipts", func(rs *[]map[string]any) { (*rs)[0]["status"] = "0x0" }))
	_ = e.p.Hint(hint(preimage.HintL1Receipts, b.Hash().Bytes()))
	_, err := e.p.GetPreimage(context.Background(), preimage.Keccak256Key(b.ReceiptHash()).PreimageKey())
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "tampered receipts")
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
				e.beacon.Drop("blobs")
				endpoint = "blob_sidecars"
			}
			blk := e.l1.Blocks[1]
			e.get(t, hint(preimage.HintL1Transactions, blk.Hash().Bytes()), preimage.Keccak256Key(blk.TxHash()))
			var refs []devnettest.BlobRef
			for _, ref := range e.l1.Blobs {
				if ref.Block == 1 {
					refs = append(refs, ref)
				}
			}
			require.Len(t, refs, 2, "blobs in block 1")
			want := keySet{}
			want.add(preimage.Keccak256Key(blk.Hash()))
			want.addList(encodeTxs(t, blk.Transactions()))
			// The second blob first: the order of the hints does not matter.
			for _, ref := range []devnettest.BlobRef{refs[1], refs[0]} {
				v := e.get(t, hint(preimage.HintL1Blob, cat(ref.VersionedHash[:], u64(blk.Time()))), preimage.Sha256Key(ref.VersionedHash))
				require.Equal(t, ref.Commitment[:], v, "commitment")
				for k := range blobKeys(ref) {
					want[k] = true
				}
				e.checkStored(t, want)
				checkFieldElements(t, e, ref)
			}
			require.Equal(t, tc.want, e.beacon.Requests(endpoint), "%s requests", endpoint)
			// The program reads both back.
			o := l1.NewOracle(adapter{e.p}, adapter{e.p})
			for _, ref := range refs {
				blob, err := o.GetBlob(l1.BlobRef{L1Timestamp: blk.Time(), VersionedHash: ref.VersionedHash})
				require.NoError(t, err, "blob %s", ref.VersionedHash)
				require.Equal(t, ref.Blob, blob, "blob %s", ref.VersionedHash)
			}
		})
	}
}

func checkFieldElements(t *testing.T, e *env, ref devnettest.BlobRef) {
	t.Helper()
	for i := range params.BlobTxFieldElementsPerBlob {
		key, _ := layout.FieldElementKey(&ref.Commitment, i)
		fe, err := e.kv.Get(common.Hash(key.PreimageKey()))
		require.NoError(t, err, "blob %s field element %d", ref.VersionedHash, i)
		require.Equal(t, ref.Blob[i*32:i*32+32], fe, "blob %s field element %d", ref.VersionedHash, i)
	}
}

// TestL1BlobsTogetherBadOther: a beacon node that serves a bad blob for the other blob of the block
// still serves the one asked for (asked again alone), and the bad one is refused when its turn comes.
func TestL1BlobsTogetherBadOther(t *testing.T) {
	e := newEnv(t, envOpts{blobInbox: true, maxAttempts: 1})
	e.beacon.Drop("blobs")
	good, bad := e.l1.Blobs[0], e.l1.Blobs[1]
	e.beacon.SetTamper(flipBlobByte(bad.Commitment))
	blk := e.l1.Blocks[1]
	e.get(t, hint(preimage.HintL1Transactions, blk.Hash().Bytes()), preimage.Keccak256Key(blk.TxHash()))
	e.get(t, hint(preimage.HintL1Blob, cat(good.VersionedHash[:], u64(blk.Time()))), preimage.Sha256Key(good.VersionedHash))
	checkFieldElements(t, e, good)
	require.Equal(t, 2, e.beacon.Requests("blob_sidecars"), "sidecar requests: together, then alone")
	_ = e.p.Hint(hint(preimage.HintL1Blob, cat(bad.VersionedHash[:], u64(blk.Time()))))
	_, err := e.p.GetPreimage(context.Background(), preimage.Sha256Key(bad.VersionedHash).PreimageKey())
	require.ErrorIs(t, err, sources.ErrInvalidResponse, "bad blob")
	_, err = e.kv.Get(common.Hash(preimage.Sha256Key(bad.VersionedHash).PreimageKey()))
	require.Error(t, err, "bad blob stored")
}

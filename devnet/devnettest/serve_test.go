package devnettest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet/devnettest"
	"github.com/faultproof/faultproof/host/sources/wire"
)

// TestChains checks what the host's tests rely on in the test chains.
func TestChains(t *testing.T) {
	c, err := devnettest.Chains()
	require.NoError(t, err)
	require.Len(t, c.L1.Blocks, 5)
	require.Len(t, c.L1.Blocks[devnettest.ManyTxBlock].Transactions(), devnettest.ManyTxCount)
	require.Empty(t, c.L1.Blocks[4].Transactions())
	require.Len(t, c.L1.Blobs, 3)
	for i, ref := range c.L1.Blobs {
		blob, commitment, block, ok := c.Blob(ref.VersionedHash)
		require.True(t, ok)
		require.Equal(t, ref.Blob, blob)
		require.Equal(t, ref.Commitment, commitment)
		require.Equal(t, ref.Block, block)
		require.Equal(t, ref.VersionedHash, c.L1.Blocks[ref.Block].Transactions()[3].BlobHashes()[ref.Index], "blob %d", i)
	}
	require.Nil(t, c.L1Block(5))
	require.Equal(t, c.L1.Blocks[0].Hash(), c.L1Genesis().ToBlock().Hash())
	require.Equal(t, uint64(devnettest.L2Blocks), c.L2.Head().NumberU64())
	require.NotNil(t, c.L2Block(devnettest.L2Blocks))
	require.Nil(t, c.L2Block(devnettest.L2Blocks+1))
}

func beaconGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return body
}

func TestServeAndTamper(t *testing.T) {
	c, s := devnettest.Serve(t)
	ctx := context.Background()
	rc, err := rpc.Dial(s.L1URL())
	require.NoError(t, err)
	defer rc.Close()
	var id hexutil.Uint64
	require.NoError(t, rc.CallContext(ctx, &id, "eth_chainId"))
	require.Equal(t, hexutil.Uint64(devnettest.L1ChainID), id)

	// Edit and Replace change the answers of their method only.
	s.L1().SetTamper(devnettest.Edit("eth_getBlockByNumber", func(m *map[string]any) { (*m)["gasUsed"] = "0x7" }))
	var blk map[string]any
	require.NoError(t, rc.CallContext(ctx, &blk, "eth_getBlockByNumber", "0x1", false))
	require.Equal(t, "0x7", blk["gasUsed"])
	require.Equal(t, c.L1.Blocks[1].Hash().Hex(), blk["hash"])
	s.L1().SetTamper(devnettest.Replace("eth_chainId", json.RawMessage(`"0x5"`)))
	require.NoError(t, rc.CallContext(ctx, &id, "eth_chainId"))
	require.Equal(t, hexutil.Uint64(5), id)
	require.NoError(t, rc.CallContext(ctx, &blk, "eth_getBlockByNumber", "0x1", false))
	require.Equal(t, hexutil.EncodeUint64(c.L1.Blocks[1].GasUsed()), blk["gasUsed"])

	// TamperBlobs changes the blobs of both endpoints, and keeps the sidecars' commitments.
	s.Beacon().SetTamper(devnettest.TamperBlobs(func(commitment kzg4844.Commitment, b *kzg4844.Blob) {
		if commitment == c.L1.Blobs[1].Commitment {
			b[0] ^= 1
		}
	}))
	var sidecars wire.BlockResponse[[]wire.BlobSidecar]
	require.NoError(t, json.Unmarshal(beaconGet(t, s.BeaconURL()+"/eth/v1/beacon/blob_sidecars/1"), &sidecars))
	require.Len(t, sidecars.Data, 2)
	require.Equal(t, c.L1.Blobs[0].Blob, sidecars.Data[0].Blob)
	require.NotEqual(t, c.L1.Blobs[1].Blob, sidecars.Data[1].Blob)
	require.Equal(t, c.L1.Blobs[1].Commitment, sidecars.Data[1].KZGCommitment)
	var blobs wire.BlockResponse[[]*kzg4844.Blob]
	require.NoError(t, json.Unmarshal(beaconGet(t, s.BeaconURL()+"/eth/v1/beacon/blobs/1"), &blobs))
	require.Len(t, blobs.Data, 2)
	require.Equal(t, c.L1.Blobs[0].Blob, blobs.Data[0])
	require.NotEqual(t, c.L1.Blobs[1].Blob, blobs.Data[1])
}

package sources_test

import (
	"context"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/devnet/devnettest"
	"github.com/faultproof/faultproof/host/sources"
)

func TestHeaderAndAncestors(t *testing.T) {
	chain, srv := devnettest.Serve(t)
	cnt := &counter{}
	c := dialL1(t, srv.L1URL(), sources.RPCKindStandard, cnt)
	ctx := context.Background()
	blocks := chain.L1.Blocks
	top := uint64(len(blocks) - 1)

	// One round trip: the header by hash, the ones below by number, highest first; as many as there are.
	h, below, err := c.HeaderAndAncestors(ctx, blocks[top].Hash(), top, 10)
	require.NoError(t, err)
	require.Equal(t, blocks[top].Hash(), h.Hash())
	require.Len(t, below, int(top))
	for i, b := range below {
		require.Equal(t, blocks[top-1-uint64(i)].Hash(), b.Hash())
	}
	require.Equal(t, 1, srv.L1().RoundTrips())
	require.Equal(t, 1, cnt.get("eth_getBlockByHash"))
	require.Equal(t, int(top), cnt.get("eth_getBlockByNumber"), "each call is counted")

	// The header must hash to the hash asked for; the ones by number are not checked here.
	srv.L1().Inject("", devnet.RequestFault{Tamper: devnettest.Edit("eth_getBlockByHash", func(v *map[string]any) { (*v)["gasUsed"] = "0x1" })})
	_, _, err = c.HeaderAndAncestors(ctx, blocks[2].Hash(), 2, 1)
	require.ErrorIs(t, err, sources.ErrInvalidResponse)
	// A block the node does not have.
	_, _, err = c.HeaderAndAncestors(ctx, common.Hash{1}, 2, 1)
	require.ErrorIs(t, err, sources.ErrNotFound)
	// The list ends before the first number the node has no block at.
	_, below, err = c.HeaderAndAncestors(ctx, blocks[2].Hash(), top+5, 3)
	require.NoError(t, err)
	require.Empty(t, below)

	// A node that refuses batches, or fails one: ErrBatchFailed.
	srv.L1().Inject("", devnet.Fail500)
	_, _, err = c.HeaderAndAncestors(ctx, blocks[2].Hash(), 2, 1)
	require.ErrorIs(t, err, sources.ErrBatchFailed)
	srv.L1().RefuseBatches()
	_, _, err = c.HeaderAndAncestors(ctx, blocks[2].Hash(), 2, 1)
	require.ErrorIs(t, err, sources.ErrBatchFailed)
}

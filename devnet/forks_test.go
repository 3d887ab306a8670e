package devnet_test

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/rollup"
)

// TestDefaultDevnetUnchanged pins the default devnet, which the demo's disputes and step counts (README)
// are about, and the faulty batcher of --invalid-batch: the configurable devnet makes the same chains.
func TestDefaultDevnetUnchanged(t *testing.T) {
	d := testDevnet(t)
	require.EqualValues(t, 14, d.L1Head().NumberU64())
	require.Equal(t, common.HexToHash("0xde8ebb0cec88f2f55b505b73b9f20e98a7d3b0db9a92914654baedfe8ab8642d"), d.L1Head().Hash())
	require.Equal(t, common.HexToHash("0x6801215c6294674b6c225f95c89b91c2f3413ddd02ff4ac9227811c413c346db"), d.L2Head().Hash())
	require.Equal(t, common.HexToHash("0x0f308929349b222ab49018befc9cba9ae6dc4d354823e0c5cc66b5105df88d13"), d.OutputRoot(70))
	require.Equal(t, common.HexToHash("0x1473585db73ea0466a18268e3e0fb2d16c24f7c34775419fc34c2e7fd6e5eda8"), d.OutputRoot(45))
	for n := uint64(1); n <= d.L2Head().NumberU64(); n++ {
		require.True(t, d.Batch(n).Sequenced, "block %d", n)
		require.Equal(t, d.Batch(n).LastL1, d.Batch(n).DerivedFrom, "block %d is safe when its channel completes", n)
	}
	if testing.Short() {
		return
	}
	inv, err := devnet.New(devnet.Config{L2Blocks: 57, InvalidBatchAt: []uint64{47, 55}})
	require.NoError(t, err)
	require.Equal(t, common.HexToHash("0xae2472d19027e92a9c457b3d074892128c38347c7bca1fc8624f0b78c4ce22be"), inv.L1Head().Hash())
	require.Equal(t, common.HexToHash("0x8f44594f492500aed6157be84972399cced1cd3097d36d7156efbb2ec87cd854"), inv.L2Head().Hash())
}

func TestParseForks(t *testing.T) {
	heights := func(s devnet.ForkSchedule) map[rollup.Fork]uint64 {
		out := map[rollup.Fork]uint64{}
		for _, fh := range s {
			out[fh.Fork] = fh.Height
		}
		return out
	}
	for _, tc := range []struct {
		in   string
		want map[rollup.Fork]uint64
	}{
		{"default", heights(devnet.DevnetForkHeights)},
		{"", heights(devnet.DevnetForkHeights)},
		{"all-genesis", map[rollup.Fork]uint64{"regolith": 0, "canyon": 0, "delta": 0, "ecotone": 0, "fjord": 0, "granite": 0, "holocene": 0, "isthmus": 0, "jovian": 0, "karst": 0}},
		{"holocene@20", map[rollup.Fork]uint64{"regolith": 0, "canyon": 0, "delta": 0, "ecotone": 0, "fjord": 0, "granite": 0, "holocene": 20}},
		{"Ecotone@12, isthmus@30", map[rollup.Fork]uint64{"regolith": 0, "canyon": 0, "delta": 0, "ecotone": 12, "fjord": 12, "granite": 12, "holocene": 12, "isthmus": 30}},
		{"regolith@3,canyon@3", map[rollup.Fork]uint64{"regolith": 3, "canyon": 3}},
	} {
		got, err := devnet.ParseForks(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, heights(got), tc.in)
		again, err := devnet.ParseForks(devnet.FormatForks(got))
		require.NoError(t, err)
		require.Equal(t, got, again, "FormatForks reads back")
	}
	for _, tc := range []struct{ in, err string }{
		{"holocene", "not <fork>@<block>"},
		{"bedrock@3", "unknown fork"},
		{"canyon@x", "block of canyon"},
		{"canyon@3,canyon@4", "named twice"},
		{"ecotone@9,canyon@10", "before an earlier fork"},
	} {
		_, err := devnet.ParseForks(tc.in)
		require.ErrorContains(t, err, tc.err, tc.in)
	}
	// A schedule op-geth cannot build, and one out of order, are refused when the devnet is made.
	_, err := devnet.New(devnet.Config{L2Blocks: 8, Forks: mustForks("holocene@5,karst@6")})
	require.ErrorContains(t, err, "Isthmus and Jovian activate in the same block 5")
	_, err = devnet.New(devnet.Config{L2Blocks: 8, Forks: devnet.ForkSchedule{{Fork: rollup.Canyon, Height: 1}}})
	require.ErrorContains(t, err, "expected regolith")
}

// TestForksAtGenesis: with every fork at genesis there is no activation block (no upgrade transactions
// anywhere), and the genesis is what op-chain-ops makes for such a chain: the EIP-1559 parameters in the
// extra data (Jovian's format), and the beacon roots and block hash contracts deployed.
func TestForksAtGenesis(t *testing.T) {
	d, err := devnet.New(devnet.Config{L2Blocks: 8, Forks: devnet.AllForksAtGenesis()})
	require.NoError(t, err)
	cfg := d.Rollup()
	for n := uint64(1); n <= 8; n++ {
		for _, f := range rollup.Forks {
			require.True(t, cfg.IsActive(f, d.L2Block(n).Time()))
			require.False(t, cfg.IsActivationBlock(f, d.L2Block(n).Time()), "%s at block %d", f, n)
		}
	}
	g := d.L2Genesis()
	require.Equal(t, eip1559.EncodeJovianExtraData(250, 6, 0), []byte(d.L2Block(0).Extra()))
	require.Equal(t, params.BeaconRootsCode, g.Alloc[params.BeaconRootsAddress].Code)
	require.Equal(t, params.HistoryStorageCode, g.Alloc[params.HistoryStorageAddress].Code)
	require.NotNil(t, d.L2Block(0).Header().WithdrawalsHash, "Isthmus genesis commits to the message passer")
	require.NotNil(t, d.L2Block(0).Header().BlobGasUsed, "Ecotone genesis")

	// Holocene at genesis without Jovian: Holocene's extra data.
	h, err := devnet.New(devnet.Config{L2Blocks: 4, Forks: mustForks("holocene@0")})
	require.NoError(t, err)
	require.Equal(t, eip1559.EncodeHoloceneExtraData(250, 6), []byte(h.L2Block(0).Extra()))
	require.Nil(t, h.L2Genesis().Alloc[params.HistoryStorageAddress].Code)
	require.True(t, h.L2ChainConfig().IsCancun(big.NewInt(0), h.L2Block(0).Time()))
}

// TestForksInOneBlock: the upgrade transactions of every fork that activates in a block go in it, in fork
// order (Ecotone's, then Fjord's), with no sequencer transactions.
func TestForksInOneBlock(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a devnet")
	}
	d, err := devnet.New(devnet.Config{L2Blocks: 24, Forks: mustForks("canyon@8,granite@8,holocene@20,isthmus@20,jovian@21,karst@21")})
	require.NoError(t, err)
	cfg := d.Rollup()
	for n, forks := range map[uint64][]rollup.Fork{8: {rollup.Canyon, rollup.Delta, rollup.Ecotone, rollup.Fjord, rollup.Granite}, 20: {rollup.Holocene, rollup.Isthmus}, 21: {rollup.Jovian, rollup.Karst}} {
		blk := d.L2Block(n)
		for _, f := range forks {
			require.True(t, cfg.IsActivationBlock(f, blk.Time()), "%s at %d", f, n)
		}
		upgrades, err := derive.UpgradeTransactions(cfg, blk.Time(), 0)
		require.NoError(t, err)
		require.NotEmpty(t, upgrades, "block %d", n)
		require.Zero(t, userTxs(blk), "block %d", n)
		txs := blk.Transactions()
		tail := txs[len(txs)-len(upgrades):]
		for i, u := range upgrades {
			enc, err := tail[i].MarshalBinary()
			require.NoError(t, err)
			require.Equal(t, u, enc, "block %d upgrade transaction %d", n, i)
		}
	}
}

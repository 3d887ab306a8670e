package devnet_test

import (
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus/beacon"
	"github.com/ethereum/go-ethereum/consensus/ethash"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/devnet"
)

// l1Channel is a channel as the batcher posted it on L1.
type l1Channel struct {
	frames          map[uint16][]byte // the first frame of each number
	last            int               // the last frame's number (-1: not seen)
	l1Blocks        []uint64          // the L1 blocks with its frames
	blob, calldata  bool
	singular, spans int // batches in it, by type (read once complete)
}

// channelsOnL1 finds the channels on L1 as derivation reads batcher transactions (the batcher of the
// system config as of each L1 block), in the order of their first frames.
func channelsOnL1(t *testing.T, d *devnet.Devnet) ([]derive.ChannelID, map[derive.ChannelID]*l1Channel) {
	t.Helper()
	cfg := d.Rollup()
	signer := types.LatestSignerForChainID(cfg.L1ChainID)
	sysCfg := cfg.Genesis.SystemConfig
	var order []derive.ChannelID
	chans := map[derive.ChannelID]*l1Channel{}
	for n := uint64(1); n <= d.L1Head().NumberU64(); n++ {
		blk := d.L1Block(n)
		require.NoError(t, derive.ProcessSystemConfigUpdates(cfg, &sysCfg, d.L1Receipts(n), blk.Time()))
		for _, tx := range blk.Transactions() {
			if tx.To() == nil || *tx.To() != cfg.BatchInboxAddress {
				continue
			}
			if sender, err := types.Sender(signer, tx); err != nil || sender != sysCfg.BatcherAddr {
				continue
			}
			payloads := [][]byte{tx.Data()}
			if tx.Type() == types.BlobTxType {
				payloads = nil
				for _, h := range tx.BlobHashes() {
					blob, _, _, ok := d.Blob(h)
					require.True(t, ok)
					data, err := derive.DecodeBlob(blob)
					require.NoError(t, err)
					payloads = append(payloads, data)
				}
			}
			for _, p := range payloads {
				frames, err := derive.ParseFrames(p)
				require.NoError(t, err)
				for _, f := range frames {
					ch, ok := chans[f.ID]
					if !ok {
						ch = &l1Channel{frames: map[uint16][]byte{}, last: -1}
						chans[f.ID] = ch
						order = append(order, f.ID)
					}
					if _, dup := ch.frames[f.FrameNumber]; !dup {
						ch.frames[f.FrameNumber] = f.Data
					}
					if f.IsLast {
						ch.last = int(f.FrameNumber)
					}
					if !slices.Contains(ch.l1Blocks, n) {
						ch.l1Blocks = append(ch.l1Blocks, n)
					}
					ch.blob = ch.blob || tx.Type() == types.BlobTxType
					ch.calldata = ch.calldata || tx.Type() != types.BlobTxType
				}
			}
		}
	}
	for _, ch := range chans {
		if ch.last < 0 || len(ch.frames) != ch.last+1 {
			continue
		}
		var data []byte
		for i := 0; i <= ch.last; i++ {
			data = append(data, ch.frames[uint16(i)]...)
		}
		r, err := derive.NewChannelReader(cfg, data, d.L1Block(ch.l1Blocks[len(ch.l1Blocks)-1]).Time())
		require.NoError(t, err)
		for {
			b, err := r.NextBatch()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			if _, ok := b.Singular(); ok {
				ch.singular++
			} else {
				ch.spans++
			}
		}
	}
	return order, chans
}

// openedTogether is the most channels whose first frames are in one L1 block.
func openedTogether(order []derive.ChannelID, chans map[derive.ChannelID]*l1Channel) int {
	per := map[uint64]int{}
	most := 0
	for _, id := range order {
		first := chans[id].l1Blocks[0]
		per[first]++
		most = max(most, per[first])
	}
	return most
}

// TestBatchShapes reads the batcher's channels back from L1 for the configurations that shape them.
func TestBatchShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds devnets")
	}
	named := func(name string) *devnet.Devnet {
		n, err := devnet.Configuration(name)
		require.NoError(t, err)
		d, err := devnet.New(n.Config)
		require.NoError(t, err)
		return d
	}
	t.Run("singular batches in calldata, three channels at a time", func(t *testing.T) {
		order, chans := channelsOnL1(t, named("batches-singular-calldata"))
		for _, id := range order {
			ch := chans[id]
			require.Zero(t, ch.spans)
			require.Positive(t, ch.singular)
			require.False(t, ch.blob)
		}
		require.Equal(t, 3, openedTogether(order, chans))
	})
	t.Run("span batches in blobs, seven frames over three L1 blocks", func(t *testing.T) {
		order, chans := channelsOnL1(t, named("batches-span-blobs"))
		spread := 0
		for _, id := range order {
			ch := chans[id]
			require.Zero(t, ch.singular)
			require.Equal(t, 1, ch.spans)
			require.True(t, ch.blob)
			require.False(t, ch.calldata)
			spread = max(spread, len(ch.l1Blocks))
			if len(ch.l1Blocks) == 3 {
				require.GreaterOrEqual(t, len(ch.frames), 7)
			}
		}
		require.Equal(t, 3, spread, "a channel's frames over three L1 blocks")
	})
	t.Run("mixed batches, calldata and blobs, two channels at a time", func(t *testing.T) {
		order, chans := channelsOnL1(t, named("batches-mixed"))
		var both, blob, calldata bool
		for _, id := range order {
			ch := chans[id]
			both = both || (ch.singular > 0 && ch.spans > 0)
			blob, calldata = blob || ch.blob, calldata || ch.calldata
		}
		require.True(t, both, "a channel with singular and span batches")
		require.True(t, blob && calldata)
		require.Equal(t, 2, openedTogether(order, chans))
	})
}

// TestRandomTransactions imports the random-txs devnet into op-geth and looks at what its transactions
// did: every transaction type a batch may carry, failed calls and contract creations, EIP-7702
// authorizations from Isthmus, and deposits that fail on L2.
func TestRandomTransactions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a devnet")
	}
	n, err := devnet.Configuration("random-txs")
	require.NoError(t, err)
	d, err := devnet.New(n.Config)
	require.NoError(t, err)
	chain, err := core.NewBlockChain(rawdb.NewMemoryDatabase(), d.L2Genesis(), beacon.New(ethash.NewFaker()), core.DefaultConfig().WithStateScheme(rawdb.HashScheme))
	require.NoError(t, err)
	defer chain.Stop()
	var blocks types.Blocks
	for i := uint64(1); i <= d.L2Head().NumberU64(); i++ {
		blocks = append(blocks, d.L2Block(i))
	}
	_, err = chain.InsertChain(blocks)
	require.NoError(t, err)

	types_ := map[uint8]int{}
	var failed, created, failedDeposits, setCodeAfterIsthmus int
	unprotected := 0
	for _, b := range blocks {
		receipts := chain.GetReceiptsByHash(b.Hash())
		require.Len(t, receipts, len(b.Transactions()))
		for i, tx := range b.Transactions() {
			r := receipts[i]
			if tx.Type() == types.DepositTxType {
				if r.Status == types.ReceiptStatusFailed {
					failedDeposits++
				}
				continue
			}
			types_[tx.Type()]++
			if !tx.Protected() {
				unprotected++
			}
			if r.Status == types.ReceiptStatusFailed {
				failed++
			}
			if tx.To() == nil && r.Status == types.ReceiptStatusSuccessful {
				require.NotEqual(t, common.Address{}, r.ContractAddress)
				created++
			}
			if tx.Type() == types.SetCodeTxType {
				require.True(t, d.Rollup().IsIsthmus(b.Time()))
				setCodeAfterIsthmus++
			}
		}
	}
	t.Logf("transactions by type %v, %d unprotected, %d failed, %d contracts created, %d failed deposits", types_, unprotected, failed, created, failedDeposits)
	for _, typ := range []uint8{types.LegacyTxType, types.AccessListTxType, types.DynamicFeeTxType, types.SetCodeTxType} {
		require.Positive(t, types_[typ], "type %d", typ)
	}
	require.Positive(t, unprotected)
	require.Positive(t, failed)
	require.Positive(t, created)
	require.Positive(t, failedDeposits)
	require.Positive(t, setCodeAfterIsthmus)

	// The same seed makes the same chain; another seed another one.
	again, err := devnet.New(n.Config)
	require.NoError(t, err)
	require.Equal(t, d.L2Head().Hash(), again.L2Head().Hash())
	other := n.Config
	other.TxSeed++
	o, err := devnet.New(other)
	require.NoError(t, err)
	require.NotEqual(t, d.L2Block(5).Hash(), o.L2Block(5).Hash())
}

package devnet_test

import (
	"crypto/sha256"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/consensus/beacon"
	"github.com/ethereum/go-ethereum/consensus/ethash"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client/l1"
	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

func TestDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("generates the devnet again")
	}
	d := testDevnet(t)
	again, err := devnet.New(devnet.Config{})
	require.NoError(t, err)
	require.Equal(t, d.L1Head().Hash(), again.L1Head().Hash())
	require.Equal(t, d.L2Head().NumberU64(), again.L2Head().NumberU64())
	for n := uint64(0); n <= d.L2Head().NumberU64(); n++ {
		require.Equal(t, d.L2Block(n).Hash(), again.L2Block(n).Hash(), "l2 block %d", n)
		require.Equal(t, d.OutputRoot(n), again.OutputRoot(n), "output %d", n)
	}
	require.Equal(t, d.Rollup(), again.Rollup())
	require.Equal(t, d.Preimages(), again.Preimages())

	// A faulty batcher's devnet too, reorgs of the sequencer's chain included.
	faults, err := devnet.Configuration("faults-holocene")
	require.NoError(t, err)
	f1, err := devnet.New(faults.Config)
	require.NoError(t, err)
	f2, err := devnet.New(faults.Config)
	require.NoError(t, err)
	require.Equal(t, f1.L1Head().Hash(), f2.L1Head().Hash())
	require.Equal(t, f1.L2Head().Hash(), f2.L2Head().Hash())

	// Another seed: other keys, other chains.
	other, err := devnet.New(devnet.Config{L2Blocks: 8, Seed: 1})
	require.NoError(t, err)
	require.NotEqual(t, d.L2Block(8).Hash(), other.L2Block(8).Hash())
	require.NotEqual(t, d.Rollup().Genesis.SystemConfig.BatcherAddr, other.Rollup().Genesis.SystemConfig.BatcherAddr)
}

func TestShape(t *testing.T) {
	d := testDevnet(t)
	cfg := d.Rollup()
	require.EqualValues(t, devnet.DefaultL2Blocks, d.L2Head().NumberU64())
	require.NoError(t, cfg.Check())
	require.Equal(t, d.L1Block(0).Hash(), cfg.Genesis.L1.Hash)
	require.Equal(t, d.L2Block(0).Hash(), cfg.Genesis.L2.Hash)
	require.Equal(t, d.L1Block(0).Time(), cfg.Genesis.L2Time)
	require.NotNil(t, d.L1ChainConfig().BlobScheduleConfig)

	// Every fork from Regolith to Karst activates at its own block, within the devnet.
	seen := map[uint64]bool{}
	for _, f := range []rollup.Fork{rollup.Regolith, rollup.Canyon, rollup.Delta, rollup.Ecotone, rollup.Fjord,
		rollup.Granite, rollup.Holocene, rollup.Isthmus, rollup.Jovian, rollup.Karst} {
		at := cfg.ActivationTime(f)
		require.NotNil(t, at, f)
		n := forkBlock(t, d, *at)
		require.Greater(t, n, uint64(1), f)
		require.Less(t, n, d.L2Head().NumberU64(), f)
		require.False(t, seen[n], "%s shares its activation block", f)
		seen[n] = true
	}

	// L1 blocks are 12 seconds apart; each L2 block's L1 origin is the newest L1 block not after it (the
	// sequencer never lags), and its output commits to it.
	for n := uint64(1); n <= d.L1Head().NumberU64(); n++ {
		require.Equal(t, d.L1Block(n-1).Time()+devnet.L1BlockTime, d.L1Block(n).Time())
	}
	for n := uint64(1); n <= d.L2Head().NumberU64(); n++ {
		blk := d.L2Block(n)
		info, err := derive.L1InfoFromL2Block(cfg, blk)
		require.NoError(t, err)
		want := (blk.Time() - cfg.Genesis.L2Time) / devnet.L1BlockTime
		require.Equal(t, want, info.Number, "l1 origin of l2 block %d", n)
		require.Equal(t, d.L1Block(want).Hash(), info.BlockHash)
		require.Equal(t, want, d.Batch(n).L1Origin)
		require.Equal(t, info.SequenceNumber, d.Batch(n).SeqNumber)
		out := d.Output(n)
		require.Equal(t, blk.Hash(), out.BlockHash)
		require.Equal(t, blk.Root(), out.StateRoot)
		if cfg.IsIsthmus(blk.Time()) {
			require.Equal(t, out.MessagePasserStorageRoot, *blk.Header().WithdrawalsHash, "isthmus header of block %d", n)
		}
	}
}

// posted is a batch found on L1.
type posted struct {
	l1     uint64
	span   bool
	brotli bool
	blob   bool
}

// TestBatchesOnL1 reads every L2 block's batch back from the L1 batcher transactions with the derive
// codecs, as derivation does: the batcher of the system config as of each L1 block (its own updates
// applied), calldata or blobs, frames assembled into channels, channels decompressed into batches.
func TestBatchesOnL1(t *testing.T) {
	d := testDevnet(t)
	cfg := d.Rollup()
	signer := types.LatestSignerForChainID(cfg.L1ChainID)
	sysCfg := cfg.Genesis.SystemConfig
	channels := map[derive.ChannelID]*derive.Channel{}
	blobOf := map[derive.ChannelID]bool{}
	found := map[uint64]posted{}
	batchers := map[common.Address]bool{}
	ignored := 0

	for n := uint64(1); n <= d.L1Head().NumberU64(); n++ {
		blk := d.L1Block(n)
		require.NoError(t, derive.ProcessSystemConfigUpdates(cfg, &sysCfg, d.L1Receipts(n), blk.Time()))
		for _, tx := range blk.Transactions() {
			if tx.To() == nil || *tx.To() != cfg.BatchInboxAddress {
				continue
			}
			sender, err := types.Sender(signer, tx)
			require.NoError(t, err)
			if sender != sysCfg.BatcherAddr {
				ignored++
				continue
			}
			batchers[sender] = true
			var payloads [][]byte
			if tx.Type() == types.BlobTxType {
				require.True(t, cfg.IsEcotone(blk.Time()), "blob batcher transaction before Ecotone in l1 block %d", n)
				require.Empty(t, tx.Data())
				for _, h := range tx.BlobHashes() {
					blob, _, at, ok := d.Blob(h)
					require.True(t, ok, "blob %s", h)
					require.Equal(t, n, at)
					data, err := derive.DecodeBlob(blob)
					require.NoError(t, err)
					payloads = append(payloads, data)
				}
			} else {
				require.Equal(t, uint8(types.DynamicFeeTxType), tx.Type())
				payloads = [][]byte{tx.Data()}
			}
			for _, p := range payloads {
				frames, err := derive.ParseFrames(p)
				require.NoError(t, err, "l1 block %d", n)
				for _, f := range frames {
					ch, ok := channels[f.ID]
					if !ok {
						require.Zero(t, f.FrameNumber, "first frame of channel %s", f.ID)
						ch = derive.NewChannel(f.ID, rollup.BlockID{Hash: blk.Hash(), Number: n}, cfg.IsHolocene(blk.Time()))
						channels[f.ID] = ch
						blobOf[f.ID] = tx.Type() == types.BlobTxType
					}
					require.NoError(t, ch.AddFrame(f), "frame %d of channel %s in l1 block %d", f.FrameNumber, f.ID, n)
					if ch.IsReady() {
						readChannel(t, d, ch, blk, blobOf[f.ID], found)
						delete(channels, f.ID)
					}
				}
			}
		}
	}
	require.Empty(t, channels, "incomplete channels")
	require.Len(t, batchers, 2, "the batcher changes")
	require.Equal(t, 2, ignored, "spam transactions from another sender")

	var singular, span, blob, brotli int
	for n := uint64(1); n <= d.L2Head().NumberU64(); n++ {
		p, ok := found[n]
		require.True(t, ok, "no batch of l2 block %d", n)
		require.Less(t, p.l1, d.L1Head().NumberU64(), "l2 block %d is batched in the l1 head", n)
		info := d.Batch(n)
		require.Equal(t, info.LastL1, p.l1, "l2 block %d", n)
		require.Equal(t, info.Span, p.span)
		require.Equal(t, info.Blob, p.blob)
		require.Equal(t, info.Brotli, p.brotli)
		// Span batches only for blocks whose L1 origin is after Delta; brotli only from Fjord.
		require.Equal(t, cfg.IsDelta(d.L1Block(info.L1Origin).Time()), p.span, "l2 block %d", n)
		require.False(t, p.brotli && !cfg.IsFjord(d.L1Block(info.FirstL1).Time()))
		require.LessOrEqual(t, info.FirstL1, info.LastL1)
		if info.FirstL1 < info.LastL1 {
			// A channel spread over L1 blocks never straddles the Holocene activation.
			require.Equal(t, cfg.IsHolocene(d.L1Block(info.FirstL1).Time()), cfg.IsHolocene(d.L1Block(info.LastL1).Time()))
		}
		switch {
		case p.span:
			span++
		default:
			singular++
		}
		if p.blob {
			blob++
		}
		if p.brotli {
			brotli++
		}
	}
	require.NotZero(t, singular)
	require.NotZero(t, span)
	require.NotZero(t, blob)
	require.NotZero(t, brotli)
}

// readChannel decodes a complete channel, checks its batches against the L2 blocks and records where each
// was found.
func readChannel(t *testing.T, d *devnet.Devnet, ch *derive.Channel, l1Block *types.Block, blob bool, found map[uint64]posted) {
	cfg := d.Rollup()
	data, err := ch.Data()
	require.NoError(t, err)
	r, err := derive.NewChannelReader(cfg, data, l1Block.Time())
	require.NoError(t, err)
	record := func(n uint64, span bool) {
		_, dup := found[n]
		require.False(t, dup, "l2 block %d batched twice", n)
		found[n] = posted{l1: l1Block.NumberU64(), span: span, brotli: r.Compression() == derive.Brotli, blob: blob}
	}
	for {
		batch, err := r.NextBatch()
		if errors.Is(err, io.EOF) {
			return
		}
		require.NoError(t, err)
		if sb, ok := batch.Singular(); ok {
			n := (sb.Timestamp - cfg.Genesis.L2Time) / cfg.BlockTime
			blk := d.L2Block(n)
			require.Equal(t, blk.ParentHash(), sb.ParentHash, "l2 block %d", n)
			info, err := derive.L1InfoFromL2Block(cfg, blk)
			require.NoError(t, err)
			require.Equal(t, rollup.BlockID{Hash: info.BlockHash, Number: info.Number}, sb.Epoch())
			require.Equal(t, sequencerTxs(t, blk), sb.Transactions, "l2 block %d", n)
			record(n, false)
			continue
		}
		raw, ok := batch.Span()
		require.True(t, ok)
		sb, err := raw.Derive(cfg.BlockTime, cfg.Genesis.L2Time, cfg.L2ChainID)
		require.NoError(t, err)
		first := (sb.Timestamp() - cfg.Genesis.L2Time) / cfg.BlockTime
		require.True(t, sb.CheckParentHash(d.L2Block(first).ParentHash()), "span from l2 block %d", first)
		for i, el := range sb.Blocks {
			n := first + uint64(i)
			blk := d.L2Block(n)
			require.Equal(t, blk.Time(), el.Timestamp)
			info, err := derive.L1InfoFromL2Block(cfg, blk)
			require.NoError(t, err)
			require.Equal(t, info.Number, el.EpochNum, "l2 block %d", n)
			require.Equal(t, info.SequenceNumber == 0, sb.OriginBit(i), "origin bit of l2 block %d", n)
			require.Equal(t, sequencerTxs(t, blk), el.Transactions, "l2 block %d", n)
			if i == len(sb.Blocks)-1 {
				require.True(t, sb.CheckOriginHash(info.BlockHash))
			}
			record(n, true)
		}
	}
}

// sequencerTxs are the encoded non-deposit transactions of an L2 block: what its batch carries.
func sequencerTxs(t *testing.T, blk *types.Block) []hexutil.Bytes {
	var out []hexutil.Bytes
	for _, tx := range blk.Transactions() {
		if tx.Type() == types.DepositTxType {
			continue
		}
		enc, err := tx.MarshalBinary()
		require.NoError(t, err)
		out = append(out, enc)
	}
	return out
}

// TestBlobs reads every blob back through the program's L1 oracle from the devnet's preimages.
func TestBlobs(t *testing.T) {
	d := testDevnet(t)
	cfg := d.Rollup()
	o := &mapOracle{values: d.Preimages()}
	oracle := l1.NewOracle(o, o)
	blocks := d.BlobBlocks()
	require.NotEmpty(t, blocks)
	count := 0
	for n := uint64(0); n <= d.L1Head().NumberU64(); n++ {
		blk := d.L1Block(n)
		index := uint64(0)
		var has bool
		for _, tx := range blk.Transactions() {
			require.Nil(t, tx.BlobTxSidecar(), "a block transaction carries its sidecar")
			for _, h := range tx.BlobHashes() {
				has = true
				want, commitment, at, ok := d.Blob(h)
				require.True(t, ok)
				require.Equal(t, n, at)
				require.Equal(t, h, common.Hash(kzg4844.CalcBlobHashV1(sha256.New(), &commitment)))
				got, err := oracle.GetBlob(l1.BlobRef{L1Timestamp: blk.Time(), Index: index, VersionedHash: h})
				require.NoError(t, err, "blob %d of l1 block %d", index, n)
				require.Equal(t, want, got)
				data, err := derive.DecodeBlob(got)
				require.NoError(t, err)
				_, err = derive.ParseFrames(data)
				require.NoError(t, err)
				require.True(t, cfg.IsEcotone(blk.Time()))
				index++
				count++
			}
		}
		require.Equal(t, has, slices.Contains(blocks, n), "l1 block %d", n)
		if has {
			require.NotZero(t, *blk.BlobGasUsed())
		}
	}
	require.Positive(t, count)
	require.Contains(t, o.hintTypes(), preimage.HintL1Blob)
}

// TestDeposits checks that the deposits made on L1 are the deposit transactions that follow the L1
// attributes deposit in the first L2 block of the L1 block's epoch, and nowhere else; deposit-shaped logs
// of another contract and failed deposit calls are ignored.
func TestDeposits(t *testing.T) {
	d := testDevnet(t)
	cfg := d.Rollup()
	epochStart := map[uint64]uint64{}
	for n := uint64(1); n <= d.L2Head().NumberU64(); n++ {
		if d.Batch(n).SeqNumber == 0 {
			epochStart[d.Batch(n).L1Origin] = n
		}
	}
	total, failedL1, lookalikes := 0, 0, 0
	for k := uint64(1); k <= d.L1Head().NumberU64(); k++ {
		receipts := d.L1Receipts(k)
		for _, r := range receipts {
			for _, lg := range r.Logs {
				if lg.Address != cfg.DepositContractAddress && len(lg.Topics) > 0 && lg.Topics[0] == derive.DepositEventTopic {
					lookalikes++
				}
			}
		}
		for i, tx := range d.L1Block(k).Transactions() {
			if tx.To() != nil && *tx.To() == cfg.DepositContractAddress && receipts[i].Status == types.ReceiptStatusFailed {
				failedL1++
			}
		}
		deps, err := derive.UserDeposits(receipts, cfg.DepositContractAddress)
		require.NoError(t, err)
		n, ok := epochStart[k]
		if !ok {
			require.Empty(t, deps, "deposits in l1 block %d, after the last epoch", k)
			continue
		}
		require.NotEmpty(t, deps, "l1 block %d", k)
		txs := d.L2Block(n).Transactions()
		require.Greater(t, len(txs), len(deps))
		for i, dep := range deps {
			require.Equal(t, types.NewTx(dep).Hash(), txs[1+i].Hash(), "deposit %d of l1 block %d in l2 block %d", i, k, n)
		}
		total += len(deps)
	}
	require.Positive(t, total)
	require.Equal(t, 1, failedL1)
	require.Equal(t, 1, lookalikes)

	// Other blocks hold no user deposits: only the L1 attributes deposit and upgrade transactions.
	for n := uint64(1); n <= d.L2Head().NumberU64(); n++ {
		if d.Batch(n).SeqNumber == 0 {
			continue
		}
		upgrades, err := derive.UpgradeTransactions(cfg, d.L2Block(n).Time(), 0)
		require.NoError(t, err)
		deposits := 0
		for _, tx := range d.L2Block(n).Transactions() {
			if tx.Type() == types.DepositTxType {
				deposits++
			}
		}
		require.Equal(t, 1+len(upgrades), deposits, "l2 block %d", n)
	}
}

// TestSystemConfigChanges checks that the system config updates made on L1 show in the L2 blocks of the
// epochs after them, as derivation reads them back.
func TestSystemConfigChanges(t *testing.T) {
	d := testDevnet(t)
	cfg := d.Rollup()
	// What each L1 block's updates make of the system config.
	sysAt := []rollup.SystemConfig{cfg.Genesis.SystemConfig}
	for k := uint64(1); k <= d.L1Head().NumberU64(); k++ {
		s := sysAt[k-1]
		require.NoError(t, derive.ProcessSystemConfigUpdates(cfg, &s, d.L1Receipts(k), d.L1Block(k).Time()))
		sysAt = append(sysAt, s)
	}
	last := sysAt[len(sysAt)-1]
	first := sysAt[0]
	require.NotEqual(t, first.BatcherAddr, last.BatcherAddr)
	require.NotEqual(t, first.GasLimit, last.GasLimit)
	require.NotEqual(t, first.Scalar, last.Scalar)
	require.NotZero(t, last.EIP1559Params)
	require.NotZero(t, last.OperatorFeeParams)
	require.NotZero(t, last.MinBaseFee)
	require.NotZero(t, last.DAFootprintGasScalar)

	karst := forkBlock(t, d, *cfg.KarstTime)
	gasLimits := map[uint64]bool{}
	for n := uint64(1); n <= d.L2Head().NumberU64(); n++ {
		blk := d.L2Block(n)
		want := sysAt[d.Batch(n).L1Origin]
		got, err := derive.SystemConfigFromL2Block(cfg, blk)
		require.NoError(t, err)
		require.Equal(t, want.BatcherAddr, got.BatcherAddr, "l2 block %d", n)
		require.Equal(t, want.GasLimit, got.GasLimit, "l2 block %d", n)
		if n != karst {
			require.Equal(t, want.GasLimit, blk.GasLimit(), "l2 block %d", n)
		}
		gasLimits[got.GasLimit] = true
		tm := blk.Time()
		info, err := derive.L1InfoFromL2Block(cfg, blk)
		require.NoError(t, err)
		if cfg.IsEcotone(tm) && !cfg.IsActivationBlock(rollup.Ecotone, tm) {
			base, blobBase, err := derive.EcotoneScalars(want.Scalar)
			require.NoError(t, err)
			require.Equal(t, base, info.BaseFeeScalar, "l2 block %d", n)
			require.Equal(t, blobBase, info.BlobBaseFeeScalar, "l2 block %d", n)
		} else {
			require.Equal(t, want.Scalar, info.L1FeeScalar, "l2 block %d", n)
		}
		if cfg.IsHolocene(tm) && want.EIP1559Params != (rollup.Bytes8{}) {
			require.Equal(t, want.EIP1559Params, got.EIP1559Params, "l2 block %d", n)
			require.Equal(t, want.EIP1559Params[:], blk.Extra()[1:9], "l2 block %d", n)
		}
		if cfg.IsIsthmus(tm) && !cfg.IsActivationBlock(rollup.Isthmus, tm) {
			require.Equal(t, want.OperatorFeeParams, got.OperatorFeeParams, "l2 block %d", n)
		}
		if cfg.IsJovian(tm) {
			require.Equal(t, want.MinBaseFee, got.MinBaseFee, "l2 block %d", n)
			// The minimum in a block's extra data bounds its children's base fee.
			if parent := d.L2Block(n - 1); cfg.IsJovian(parent.Time()) {
				prev, err := derive.SystemConfigFromL2Block(cfg, parent)
				require.NoError(t, err)
				require.GreaterOrEqual(t, blk.BaseFee().Uint64(), prev.MinBaseFee, "l2 block %d", n)
			}
			if !cfg.IsActivationBlock(rollup.Jovian, tm) && want.DAFootprintGasScalar != 0 {
				require.Equal(t, want.DAFootprintGasScalar, got.DAFootprintGasScalar, "l2 block %d", n)
			}
		}
	}
	require.Len(t, gasLimits, 3, "the gas limit changes twice")
}

// TestPreimages checks the keys a host needs for every block are there, and that the local keys boot.
func TestPreimages(t *testing.T) {
	d := testDevnet(t)
	pre := d.Preimages()
	for k, v := range pre {
		require.NoError(t, preimage.Verify(k, v))
	}
	has := func(key preimage.Key) bool { _, ok := pre[key.PreimageKey()]; return ok }
	for n := uint64(0); n <= d.L1Head().NumberU64(); n++ {
		require.True(t, has(preimage.Keccak256Key(d.L1Block(n).Hash())), "l1 header %d", n)
		require.True(t, d.L1Block(n).ReceiptHash() == types.EmptyRootHash || has(preimage.Keccak256Key(d.L1Block(n).ReceiptHash())))
	}
	for n := uint64(0); n <= d.L2Head().NumberU64(); n++ {
		blk := d.L2Block(n)
		require.True(t, has(preimage.Keccak256Key(blk.Hash())), "l2 header %d", n)
		require.True(t, has(preimage.Keccak256Key(blk.Root())), "l2 state root %d", n)
		require.True(t, has(preimage.Keccak256Key(d.OutputRoot(n))), "output %d", n)
	}
	precompiles := 0
	for k := range pre {
		if preimage.KeyType(k[0]) == preimage.PrecompileKeyType {
			precompiles++
		}
	}
	require.Positive(t, precompiles)

	local, err := d.LocalPreimages(3, common.Hash{1}, 9)
	require.NoError(t, err)
	require.Equal(t, d.OutputRoot(3).Bytes(), local[preimage.L2OutputRootLocalIndex.PreimageKey()])
	require.Equal(t, d.L1Head().Hash().Bytes(), local[preimage.L1HeadLocalIndex.PreimageKey()])
	_, err = rollup.ParseConfig(local[preimage.RollupConfigLocalIndex.PreimageKey()])
	require.NoError(t, err)
	require.Equal(t, crypto.Keccak256Hash(d.Output(3).Marshal()), d.OutputRoot(3))
}

// TestChainsAreValid imports both chains into new op-geth blockchains, which validate every block in full
// (state, receipts, blob gas, beacon roots, requests, OP fork rules).
func TestChainsAreValid(t *testing.T) {
	d := testDevnet(t)
	for _, c := range []struct {
		name    string
		genesis *core.Genesis
		head    uint64
		block   func(uint64) *types.Block
	}{
		{"l1", d.L1Genesis(), d.L1Head().NumberU64(), d.L1Block},
		{"l2", d.L2Genesis(), d.L2Head().NumberU64(), d.L2Block},
	} {
		t.Run(c.name, func(t *testing.T) {
			chain, err := core.NewBlockChain(rawdb.NewMemoryDatabase(), c.genesis, beacon.New(ethash.NewFaker()), core.DefaultConfig().WithStateScheme(rawdb.HashScheme))
			require.NoError(t, err)
			defer chain.Stop()
			require.Equal(t, c.block(0).Hash(), chain.Genesis().Hash())
			var blocks types.Blocks
			for n := uint64(1); n <= c.head; n++ {
				blocks = append(blocks, c.block(n))
			}
			_, err = chain.InsertChain(blocks)
			require.NoError(t, err)
			require.Equal(t, c.block(c.head).Hash(), chain.CurrentBlock().Hash())
		})
	}
}

// TestL1BlocksPast: the extra L1 blocks are empty and come after the head the devnet would have, which is
// otherwise the same chain.
func TestL1BlocksPast(t *testing.T) {
	const past = 20
	plain, err := devnet.New(devnet.Config{L2Blocks: 8})
	require.NoError(t, err)
	far, err := devnet.New(devnet.Config{L2Blocks: 8, L1BlocksPast: past})
	require.NoError(t, err)
	head := plain.L1Head().NumberU64()
	require.Equal(t, head+past, far.L1Head().NumberU64())
	require.Equal(t, plain.L1Head().Hash(), far.L1Block(head).Hash())
	require.Equal(t, plain.L2Head().Hash(), far.L2Head().Hash())
	for n := head + 1; n <= far.L1Head().NumberU64(); n++ {
		b := far.L1Block(n)
		require.Empty(t, b.Transactions(), "l1 block %d", n)
		require.Equal(t, far.L1Block(n-1).Hash(), b.ParentHash(), "l1 block %d", n)
	}
}

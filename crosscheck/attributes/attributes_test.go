package attributes_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	optypes "github.com/ethereum-optimism/optimism/op-core/types"
	opderive "github.com/ethereum-optimism/optimism/op-node/rollup/derive"
	"github.com/ethereum-optimism/optimism/op-service/eth"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/rollup"
)

// fakeL1 serves op-node's attributes builder the L1 headers and receipts of a scenario.
type fakeL1 struct {
	headers  map[common.Hash]*types.Header
	receipts map[common.Hash]types.Receipts
}

func (f *fakeL1) InfoByHash(_ context.Context, h common.Hash) (eth.BlockInfo, error) {
	hdr, ok := f.headers[h]
	if !ok {
		return nil, fmt.Errorf("unknown L1 block %s", h)
	}
	return eth.HeaderBlockInfo(hdr), nil
}

func (f *fakeL1) FetchReceipts(ctx context.Context, h common.Hash) (eth.BlockInfo, optypes.Receipts, error) {
	info, err := f.InfoByHash(ctx, h)
	if err != nil {
		return nil, nil, err
	}
	return info, optypes.FromGethReceipts(f.receipts[h]), nil
}

// fakeL2 serves the parent block's system config.
type fakeL2 struct{ sysCfg eth.SystemConfig }

func (f *fakeL2) SystemConfigByL2Hash(context.Context, common.Hash) (eth.SystemConfig, error) {
	return f.sysCfg, nil
}

// mixedLog is a deposit or a system config update log (either possibly malformed), or an unrelated log.
func mixedLog(rng *rand.Rand) *types.Log {
	switch rng.Intn(10) {
	case 0, 1, 2:
		return randomDepositLog(rng)
	case 3, 4, 5, 6, 7:
		return randomConfigUpdateLog(rng)
	default:
		return &types.Log{Address: randomAddress(rng), Topics: []common.Hash{randomHash(rng)}, Data: make([]byte, rng.Intn(70))}
	}
}

// TestPayloadAttributesDifferential builds the payload attributes of random L2 blocks with both
// implementations: op-node's FetchingAttributesBuilder.PreparePayloadAttributes over fake L1/L2 fetchers
// (plus the batch transactions its attributes queue appends), and derive.BuildAttributes. Scenarios: the
// same epoch, the next epoch with random deposits and system config updates (some malformed), an epoch that
// conflicts with the parent's L1 origin, an L1 origin newer than the block, unusable system config scalars,
// over random fork schedules with blocks at fork activations.
func TestPayloadAttributesDifferential(t *testing.T) {
	rng := rand.New(rand.NewSource(401))
	l1Cfg := l1ChainConfigAt(50, 150, 250)
	kinds := map[string]int{}
	for i := 0; i < iterations(3000); i++ {
		cfg := randomForkConfig(rng)
		t2 := randomL2Time(rng, cfg)
		if cfg.LagoonTime != nil && rng.Intn(4) == 0 {
			t2 = (*cfg.LagoonTime + 1) &^ 1
		}
		if t2 < blockTime {
			t2 = blockTime
		}
		parentTime := t2 - blockTime

		// L1: the parent's origin, and its child.
		originTime := uint64(rng.Intn(int(t2) + 1))
		if originTime >= 12 {
			originTime -= uint64(rng.Intn(12))
		}
		parentOrigin := randomL1Header(rng, l1Cfg, uint64(1000+rng.Intn(1000)), randomHash(rng), originTime)
		childTime := parentOrigin.Time + uint64(rng.Intn(14))
		child := randomL1Header(rng, l1Cfg, parentOrigin.Number.Uint64()+1, parentOrigin.Hash(), childTime)
		receipts := randomReceipts(rng, child.Hash(), mixedLog)

		sysCfg := randomSysCfg(rng)
		if rng.Intn(2) == 0 {
			sysCfg.Scalar = derive.EncodeEcotoneScalar(rng.Uint32(), rng.Uint32()) // mostly usable scalars
		}
		parent := derive.AttributesParent{
			Hash:           randomHash(rng),
			Number:         parentTime / blockTime,
			Time:           parentTime,
			L1Origin:       rollup.BlockID{Hash: parentOrigin.Hash(), Number: parentOrigin.Number.Uint64()},
			SequenceNumber: uint64(rng.Intn(10)),
		}
		epoch := parentOrigin
		kind := "same epoch"
		switch rng.Intn(8) {
		case 0, 1, 2, 3:
			epoch, kind = child, "next epoch"
		case 4:
			other := randomL1Header(rng, l1Cfg, parentOrigin.Number.Uint64(), randomHash(rng), parentOrigin.Time)
			epoch, kind = other, "conflicting epoch"
		case 5:
			orphan := randomL1Header(rng, l1Cfg, parentOrigin.Number.Uint64()+1, randomHash(rng), childTime)
			epoch, kind = orphan, "unrelated next epoch"
		}
		l1 := &fakeL1{
			headers:  map[common.Hash]*types.Header{parentOrigin.Hash(): parentOrigin, child.Hash(): child, epoch.Hash(): epoch},
			receipts: map[common.Hash]types.Receipts{child.Hash(): receipts},
		}
		batchTxs := make([][]byte, rng.Intn(3))
		for j := range batchTxs {
			batchTxs[j] = randomHash(rng).Bytes()
		}

		depSetSize := 1 + rng.Intn(2)
		builder := opderive.NewFetchingAttributesBuilder(opConfig(cfg), l1Cfg, opDepSet(depSetSize), l1, &fakeL2{sysCfg: opSysCfg(sysCfg)})
		opParent := eth.L2BlockRef{
			Hash: parent.Hash, Number: parent.Number, Time: parent.Time, SequenceNumber: parent.SequenceNumber,
			L1Origin: eth.BlockID{Hash: parent.L1Origin.Hash, Number: parent.L1Origin.Number},
		}
		theirs, theirErr := builder.PreparePayloadAttributes(context.Background(), opParent, eth.BlockID{Hash: epoch.Hash(), Number: epoch.Number.Uint64()})

		in := &derive.AttributesInput{
			Parent:            parent,
			SysCfg:            sysCfg,
			L1Origin:          epoch,
			L1Receipts:        l1.receipts[epoch.Hash()],
			Timestamp:         t2,
			Transactions:      batchTxs,
			DependencySetSize: depSetSize,
		}
		ours, ourSysCfg, ourErr := derive.BuildAttributes(cfg, l1Cfg, in)

		switch {
		case theirErr == nil:
			require.NoError(t, ourErr, "case %d (%s)", i, kind)
			kinds[kind]++
		case errors.Is(theirErr, opderive.ErrReset):
			require.ErrorIs(t, ourErr, derive.ErrAttributesReset, "case %d (%s): op-node: %v", i, kind, theirErr)
			kinds[kind+": reset"]++
			continue
		case errors.Is(theirErr, opderive.ErrCritical):
			require.ErrorIs(t, ourErr, derive.ErrAttributesCritical, "case %d (%s): op-node: %v", i, kind, theirErr)
			kinds[kind+": critical"]++
			continue
		default:
			require.FailNow(t, fmt.Sprintf("case %d: unexpected op-node error %v", i, theirErr))
		}

		require.Equal(t, uint64(theirs.Timestamp), ours.Timestamp, "case %d", i)
		require.Equal(t, common.Hash(theirs.PrevRandao), ours.Random, "case %d", i)
		require.Equal(t, theirs.SuggestedFeeRecipient, ours.SuggestedFeeRecipient, "case %d", i)
		require.Equal(t, theirs.Withdrawals == nil, ours.Withdrawals == nil, "case %d", i)
		if theirs.Withdrawals != nil {
			require.Empty(t, *theirs.Withdrawals)
			require.Empty(t, ours.Withdrawals)
		}
		require.Equal(t, theirs.ParentBeaconBlockRoot, ours.BeaconRoot, "case %d", i)
		require.Equal(t, theirs.NoTxPool, ours.NoTxPool, "case %d", i)
		require.Equal(t, uint64(*theirs.GasLimit), *ours.GasLimit, "case %d", i)
		if theirs.EIP1559Params == nil {
			require.Nil(t, ours.EIP1559Params, "case %d", i)
		} else {
			require.Equal(t, theirs.EIP1559Params[:], ours.EIP1559Params, "case %d", i)
		}
		require.Equal(t, theirs.MinBaseFee, ours.MinBaseFee, "case %d", i)
		// op-node's attributes queue appends the batch transactions.
		require.Len(t, ours.Transactions, len(theirs.Transactions)+len(batchTxs), "case %d", i)
		for j, tx := range theirs.Transactions {
			require.Equal(t, []byte(tx), ours.Transactions[j], "case %d tx %d", i, j)
		}
		for j, tx := range batchTxs {
			require.Equal(t, tx, ours.Transactions[len(theirs.Transactions)+j], "case %d batch tx %d", i, j)
		}

		if cfg.IsActivationBlock(rollup.Karst, t2) {
			kinds["karst activation"]++
		}
		if cfg.IsActivationBlock(rollup.Lagoon, t2) {
			kinds[fmt.Sprintf("lagoon activation, %d chains", depSetSize)]++
		}
		if len(ours.Transactions) > 1+len(batchTxs) && epoch == parentOrigin {
			kinds["upgrade transactions"]++
		}

		wantSysCfg := opSysCfg(sysCfg)
		if epoch != parentOrigin {
			_ = opderive.UpdateSystemConfigWithL1Receipts(&wantSysCfg, receipts, opConfig(cfg), epoch.Time)
		}
		require.Equal(t, fromOpSysCfg(wantSysCfg), ourSysCfg, "case %d", i)
	}
	t.Logf("outcomes: %v", kinds)
	for _, k := range []string{"same epoch", "next epoch", "conflicting epoch: reset", "unrelated next epoch: reset", "next epoch: critical", "karst activation", "upgrade transactions",
		"lagoon activation, 1 chains", "lagoon activation, 2 chains"} {
		require.NotZero(t, kinds[k], k)
	}
}

package attributes_test

import (
	"context"
	"encoding/binary"
	"math/big"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	opderive "github.com/ethereum-optimism/optimism/op-node/rollup/derive"
	"github.com/ethereum-optimism/optimism/op-service/eth"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/rollup"
)

// TestKarstKeepGas rebuilds the blocks around Karst's activation on OP Mainnet's registry config (made-up
// L1 and L2 blocks) with derive and with op-node v1.19.6's attributes code: the activation block's gas
// limit carries the upgrade gas, and on a chain that keeps it (keep_karst_upgrade_gas, as OP Mainnet's
// registry entry says) the next block keeps it too; without the flag both subtract it again.
func TestKarstKeepGas(t *testing.T) {
	registry, _, err := rollup.FromRegistry(10)
	require.NoError(t, err)
	require.True(t, registry.KeepKarstUpgradeGas, "OP Mainnet keeps the Karst upgrade gas")
	_, karstGas, err := derive.KarstUpgradeTransactions()
	require.NoError(t, err)
	l1, err := rollup.L1ChainConfig(registry.L1ChainID.Uint64())
	require.NoError(t, err)

	for _, keep := range []bool{true, false} {
		cfg := *registry
		cfg.KeepKarstUpgradeGas = keep
		karst := *cfg.KarstTime
		require.Zero(t, (karst-cfg.Genesis.L2Time)%cfg.BlockTime, "Karst activates on the block grid")
		rng := rand.New(rand.NewSource(901))

		sysCfg := rollup.SystemConfig{
			BatcherAddr: cfg.Genesis.SystemConfig.BatcherAddr,
			Scalar:      derive.EncodeEcotoneScalar(5227, 1014213),
			GasLimit:    40_000_000,
			MinBaseFee:  1_000_000,
		}
		binary.BigEndian.PutUint32(sysCfg.EIP1559Params[:4], 250)
		binary.BigEndian.PutUint32(sysCfg.EIP1559Params[4:], 4)
		origin := randomL1Header(rng, l1, 24_000_000, randomHash(rng), karst-20)
		parent := derive.AttributesParent{
			Hash:           randomHash(rng),
			Number:         cfg.Genesis.L2.Number + (karst-2-cfg.Genesis.L2Time)/cfg.BlockTime,
			Time:           karst - 2,
			L1Origin:       rollup.BlockID{Hash: origin.Hash(), Number: origin.Number.Uint64()},
			SequenceNumber: 3,
		}

		// The Karst activation block: the upgrade gas is added on top of the system config's gas limit.
		activation := buildBothWays(t, &cfg, origin, parent, sysCfg, opSysCfg(sysCfg))
		require.Equal(t, sysCfg.GasLimit+karstGas, activation.GasLimit(), "keep=%v: activation block gas limit", keep)

		// The system config read back from the activation block, which derives the next block.
		ours, err := derive.SystemConfigFromL2Block(&cfg, activation)
		require.NoError(t, err)
		theirs, err := opderive.PayloadToSystemConfig(opConfig(&cfg), payloadOf(t, &cfg, activation))
		require.NoError(t, err)
		require.Equal(t, fromOpSysCfg(theirs), ours, "keep=%v: system config of the activation block", keep)
		want := sysCfg.GasLimit
		if keep {
			want += karstGas
		}
		require.Equal(t, want, ours.GasLimit, "keep=%v: gas limit read back", keep)

		// The block after it: op-node's builder reads the parent's system config from the activation block.
		next, err := derive.AttributesParentFromBlock(&cfg, activation)
		require.NoError(t, err)
		after := buildBothWays(t, &cfg, origin, next, ours, theirs)
		require.Equal(t, want, after.GasLimit(), "keep=%v: gas limit after the activation block", keep)
		t.Logf("keep_karst_upgrade_gas=%v: system config %d, activation block %d, next block %d (upgrade gas %d)",
			keep, sysCfg.GasLimit, activation.GasLimit(), after.GasLimit(), karstGas)
	}
}

// buildBothWays builds the payload attributes of the block on parent (same epoch, L1 origin origin) with
// derive from the parent's system config sysCfg, and with op-node's FetchingAttributesBuilder, whose L2
// source answers theirSysCfg; requires them to agree, and returns the block they describe.
func buildBothWays(t *testing.T, cfg *rollup.Config, origin *types.Header, parent derive.AttributesParent, sysCfg rollup.SystemConfig, theirSysCfg eth.SystemConfig) *types.Block {
	t.Helper()
	l1, err := rollup.L1ChainConfig(cfg.L1ChainID.Uint64())
	require.NoError(t, err)
	t2 := parent.Time + cfg.BlockTime
	ours, _, err := derive.BuildAttributes(cfg, l1, &derive.AttributesInput{
		Parent: parent, SysCfg: sysCfg, L1Origin: origin, Timestamp: t2,
	})
	require.NoError(t, err)

	fetchL1 := &fakeL1{headers: map[common.Hash]*types.Header{origin.Hash(): origin}, receipts: map[common.Hash]types.Receipts{}}
	builder := opderive.NewFetchingAttributesBuilder(opConfig(cfg), l1, nil, fetchL1, &fakeL2{sysCfg: theirSysCfg})
	opParent := eth.L2BlockRef{
		Hash: parent.Hash, Number: parent.Number, Time: parent.Time, SequenceNumber: parent.SequenceNumber,
		L1Origin: eth.BlockID{Hash: parent.L1Origin.Hash, Number: parent.L1Origin.Number},
	}
	theirs, err := builder.PreparePayloadAttributes(context.Background(), opParent, eth.BlockID{Hash: origin.Hash(), Number: origin.Number.Uint64()})
	require.NoError(t, err)
	require.Equal(t, uint64(*theirs.GasLimit), *ours.GasLimit, "gas limit at %d", t2)
	require.Len(t, ours.Transactions, len(theirs.Transactions))
	for i, tx := range theirs.Transactions {
		require.Equal(t, []byte(tx), ours.Transactions[i], "tx %d at %d", i, t2)
	}

	// The block the attributes describe, as far as the system config read-back looks at it.
	txs := make([]*types.Transaction, len(ours.Transactions))
	for i, raw := range ours.Transactions {
		txs[i] = new(types.Transaction)
		require.NoError(t, txs[i].UnmarshalBinary(raw))
	}
	extra := make([]byte, 17)
	extra[0] = 1 // Jovian: EIP-1559 parameters and the minimum base fee
	copy(extra[1:9], ours.EIP1559Params)
	binary.BigEndian.PutUint64(extra[9:], *ours.MinBaseFee)
	h := &types.Header{
		ParentHash: parent.Hash,
		Number:     new(big.Int).SetUint64(parent.Number + 1),
		Time:       t2,
		GasLimit:   *ours.GasLimit,
		Extra:      extra,
		BaseFee:    big.NewInt(1_000_000),
		MixDigest:  ours.Random,
	}
	return types.NewBlockWithHeader(h).WithBody(types.Body{Transactions: txs})
}

func payloadOf(t *testing.T, cfg *rollup.Config, b *types.Block) *eth.ExecutionPayload {
	payload, err := eth.BlockAsPayload(b, opConfig(cfg))
	require.NoError(t, err)
	return payload
}

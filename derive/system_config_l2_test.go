package derive

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/rollup"
)

// attrL2Block makes an L2 block at time t whose first transaction is the L1 info deposit built from
// sysCfg, with the given gas limit and extra data.
func attrL2Block(t *testing.T, cfg *rollup.Config, sysCfg rollup.SystemConfig, seq, time, gasLimit uint64, extra []byte) *types.Block {
	t.Helper()
	l1 := attrL1Header(33, 1500, attrPtr(0))
	dep, err := L1InfoDeposit(cfg, attrL1Config(), sysCfg, seq, l1, time)
	require.NoError(t, err)
	h := &types.Header{Number: big.NewInt(int64(time / 2)), Time: time, GasLimit: gasLimit, Extra: extra, BaseFee: big.NewInt(1)}
	return types.NewBlockWithHeader(h).WithBody(types.Body{Transactions: []*types.Transaction{types.NewTx(dep), types.NewTx(&types.LegacyTx{})}})
}

func TestSystemConfigFromL2Block(t *testing.T) {
	cfg := attrForkConfig()
	sysCfg := rollup.SystemConfig{
		BatcherAddr:          common.HexToAddress("0xba7c4e7"),
		Overhead:             common.HexToHash("0xbc"),
		Scalar:               common.HexToHash("0x0a6fe0"), // version 0
		GasLimit:             30_000_000,
		EIP1559Params:        rollup.Bytes8{0, 0, 0, 250, 0, 0, 0, 6},
		OperatorFeeParams:    EncodeOperatorFeeParams(5, 6),
		MinBaseFee:           77,
		DAFootprintGasScalar: 0,
	}
	holocene := []byte{0, 0, 0, 0, 250, 0, 0, 0, 6}
	jovian := []byte{1, 0, 0, 0, 250, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 77}
	_, karstGas, err := KarstUpgradeTransactions()
	require.NoError(t, err)

	v1 := EncodeEcotoneScalar(0x0a6fe0, 0)
	tests := []struct {
		name   string
		time   uint64
		gas    uint64
		extra  []byte
		want   func(s *rollup.SystemConfig)
		errSub string
	}{
		{"bedrock", 50, 30_000_000, nil, func(s *rollup.SystemConfig) {}, ""},
		{"bedrock with extra data", 50, 30_000_000, []byte{0}, nil, "before Holocene"},
		{"ecotone activation block keeps the raw scalar", 100, 30_000_000, nil, func(s *rollup.SystemConfig) {}, ""},
		{"ecotone re-encodes the scalar as version 1", 102, 30_000_000, nil, func(s *rollup.SystemConfig) {
			s.Overhead, s.Scalar = common.Hash{}, v1
		}, ""},
		{"holocene", 160, 30_000_000, holocene, func(s *rollup.SystemConfig) {
			s.Overhead, s.Scalar = common.Hash{}, v1
			s.EIP1559Params = rollup.Bytes8{0, 0, 0, 250, 0, 0, 0, 6}
		}, ""},
		{"holocene without extra data", 160, 30_000_000, nil, nil, "Holocene extra data"},
		{"holocene with jovian extra data", 160, 30_000_000, jovian, nil, "Holocene extra data"},
		{"holocene zero elasticity", 160, 30_000_000, []byte{0, 0, 0, 0, 250, 0, 0, 0, 0}, nil, "zero EIP-1559"},
		{"isthmus", 182, 30_000_000, holocene, func(s *rollup.SystemConfig) {
			s.Overhead, s.Scalar = common.Hash{}, v1
			s.EIP1559Params = rollup.Bytes8{0, 0, 0, 250, 0, 0, 0, 6}
			s.OperatorFeeParams = EncodeOperatorFeeParams(5, 6)
		}, ""},
		{"jovian", 202, 30_000_000, jovian, func(s *rollup.SystemConfig) {
			s.Overhead, s.Scalar = common.Hash{}, v1
			s.EIP1559Params = rollup.Bytes8{0, 0, 0, 250, 0, 0, 0, 6}
			s.OperatorFeeParams = EncodeOperatorFeeParams(5, 6)
			s.MinBaseFee = 77
			s.DAFootprintGasScalar = DAFootprintGasScalarDefault // zero in the L1 config, written as the default
		}, ""},
		{"jovian with holocene extra data", 202, 30_000_000, holocene, nil, "Jovian extra data"},
		{"jovian zero denominator", 202, 30_000_000, []byte{1, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 77}, nil, "zero EIP-1559"},
		{"karst activation block: upgrade gas subtracted", 220, 30_000_000 + karstGas, jovian, func(s *rollup.SystemConfig) {
			s.Overhead, s.Scalar = common.Hash{}, v1
			s.EIP1559Params = rollup.Bytes8{0, 0, 0, 250, 0, 0, 0, 6}
			s.OperatorFeeParams = EncodeOperatorFeeParams(5, 6)
			s.MinBaseFee = 77
			s.DAFootprintGasScalar = DAFootprintGasScalarDefault
		}, ""},
		{"karst activation block below the upgrade gas", 220, karstGas - 1, jovian, nil, "below the upgrade gas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			block := attrL2Block(t, cfg, sysCfg, 2, tt.time, tt.gas, tt.extra)
			got, err := SystemConfigFromL2Block(cfg, block)
			if tt.errSub != "" {
				require.ErrorIs(t, err, ErrL2BlockSystemConfig)
				require.ErrorContains(t, err, tt.errSub)
				return
			}
			require.NoError(t, err)
			want := sysCfg
			want.EIP1559Params, want.OperatorFeeParams, want.MinBaseFee = rollup.Bytes8{}, common.Hash{}, 0
			tt.want(&want)
			require.Equal(t, want, got)

			parent, err := AttributesParentFromBlock(cfg, block)
			require.NoError(t, err)
			l1 := attrL1Header(33, 1500, attrPtr(0))
			require.Equal(t, AttributesParent{Hash: block.Hash(), Number: block.NumberU64(), Time: tt.time,
				L1Origin: rollup.BlockID{Hash: l1.Hash(), Number: 33}, SequenceNumber: 2}, parent)
		})
	}

	t.Run("karst upgrade gas kept", func(t *testing.T) {
		keep := attrForkConfig()
		keep.KeepKarstUpgradeGas = true
		got, err := SystemConfigFromL2Block(keep, attrL2Block(t, keep, sysCfg, 0, 220, 30_000_000+karstGas, jovian))
		require.NoError(t, err)
		require.Equal(t, 30_000_000+karstGas, got.GasLimit)
		got, err = SystemConfigFromL2Block(cfg, attrL2Block(t, cfg, sysCfg, 0, 222, 30_000_000+karstGas, jovian))
		require.NoError(t, err)
		require.Equal(t, 30_000_000+karstGas, got.GasLimit, "only the activation block is corrected")
	})

	t.Run("lagoon upgrade gas", func(t *testing.T) {
		lagoon := attrForkConfig()
		lagoon.LagoonTime = attrPtr(240)
		got, err := SystemConfigFromL2Block(lagoon, attrL2Block(t, lagoon, sysCfg, 0, 240, 30_000_000+lagoonGas, jovian))
		require.NoError(t, err)
		require.Equal(t, uint64(30_000_000), got.GasLimit, "the Lagoon activation block's upgrade gas is subtracted")
		_, err = SystemConfigFromL2Block(lagoon, attrL2Block(t, lagoon, sysCfg, 0, 240, lagoonGas-1, jovian))
		require.ErrorContains(t, err, "below the upgrade gas")

		// With Karst in the same block, op-node subtracts only the first fork's (Karst's) gas, and none
		// on a chain that keeps Karst's.
		both := attrForkConfig()
		both.LagoonTime = attrPtr(220)
		got, err = SystemConfigFromL2Block(both, attrL2Block(t, both, sysCfg, 0, 220, 30_000_000+karstGas+lagoonGas, jovian))
		require.NoError(t, err)
		require.Equal(t, 30_000_000+lagoonGas, got.GasLimit)
		both.KeepKarstUpgradeGas = true
		got, err = SystemConfigFromL2Block(both, attrL2Block(t, both, sysCfg, 0, 220, 30_000_000+karstGas+lagoonGas, jovian))
		require.NoError(t, err)
		require.Equal(t, 30_000_000+karstGas+lagoonGas, got.GasLimit)
	})

	t.Run("genesis", func(t *testing.T) {
		g := attrForkConfig()
		g.Genesis.SystemConfig = sysCfg
		g.Genesis.L1 = rollup.BlockID{Hash: common.HexToHash("0x11"), Number: 9}
		block := types.NewBlockWithHeader(&types.Header{Number: big.NewInt(0), GasLimit: 1})
		g.Genesis.L2 = rollup.BlockID{Hash: block.Hash(), Number: 0}
		got, err := SystemConfigFromL2Block(g, block)
		require.NoError(t, err)
		require.Equal(t, sysCfg, got)
		parent, err := AttributesParentFromBlock(g, block)
		require.NoError(t, err)
		require.Equal(t, AttributesParent{Hash: block.Hash(), L1Origin: g.Genesis.L1}, parent)

		g.Genesis.L2.Hash = common.HexToHash("0x22")
		_, err = SystemConfigFromL2Block(g, block)
		require.ErrorIs(t, err, ErrL2BlockSystemConfig)
		_, err = AttributesParentFromBlock(g, block)
		require.ErrorIs(t, err, ErrL2BlockSystemConfig)
	})

	t.Run("no L1 info deposit", func(t *testing.T) {
		h := &types.Header{Number: big.NewInt(51), Time: 102, GasLimit: 1}
		_, err := SystemConfigFromL2Block(cfg, types.NewBlockWithHeader(h))
		require.ErrorIs(t, err, ErrL2BlockSystemConfig)
		_, err = SystemConfigFromL2Block(cfg, types.NewBlockWithHeader(h).WithBody(types.Body{Transactions: []*types.Transaction{types.NewTx(&types.LegacyTx{})}}))
		require.ErrorIs(t, err, ErrL2BlockSystemConfig)
		// The deposit of the wrong form for the block's time.
		block := attrL2Block(t, cfg, sysCfg, 0, 102, 1, nil)
		h.Time = 100
		_, err = SystemConfigFromL2Block(cfg, types.NewBlockWithHeader(h).WithBody(types.Body{Transactions: block.Transactions()}))
		require.ErrorIs(t, err, ErrL2BlockSystemConfig)
		require.ErrorIs(t, err, ErrL1InfoLength)
	})
}

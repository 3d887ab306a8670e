package derive

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/rollup"
)

func TestConfigUpdateEventTopic(t *testing.T) {
	require.Equal(t, "0x1d2b0bda21d56b8bd12d4f94ebacffdfb35f5e226f84b461103bb8beab6353be", ConfigUpdateEventTopic.Hex())
}

// attrABIBytes ABI-encodes a single bytes value (offset, length, padded content), as the event data.
func attrABIBytes(content []byte) []byte {
	out := make([]byte, 64, 64+len(content)+31)
	out[31] = 32
	new(big.Int).SetUint64(uint64(len(content))).FillBytes(out[32:64])
	out = append(out, content...)
	for len(out)%32 != 0 {
		out = append(out, 0)
	}
	return out
}

func attrConfigLog(cfg *rollup.Config, typ SystemConfigUpdateType, data []byte) *types.Log {
	return &types.Log{
		Address: cfg.L1SystemConfigAddress,
		Topics:  []common.Hash{ConfigUpdateEventTopic, ConfigUpdateEventVersion0, typ.Topic()},
		Data:    data,
	}
}

func attrWords(ws ...string) []byte {
	var out []byte
	for _, w := range ws {
		out = append(out, common.HexToHash(w).Bytes()...)
	}
	return out
}

func TestSystemConfigUpdates(t *testing.T) {
	cfg := attrForkConfig()
	base := rollup.SystemConfig{
		BatcherAddr:          common.HexToAddress("0xba7c4e7"),
		Overhead:             common.HexToHash("0xbc"),
		Scalar:               common.HexToHash("0xa6fe0"),
		GasLimit:             30_000_000,
		EIP1559Params:        rollup.Bytes8{0, 0, 0, 250, 0, 0, 0, 6},
		OperatorFeeParams:    common.HexToHash("0x0f"),
		MinBaseFee:           9,
		DAFootprintGasScalar: 3,
	}
	const preEcotone, postEcotone = 50, 150
	v1 := "0x01000000000000000000000000000000000000000000000000000456000007b8"
	tests := []struct {
		name   string
		typ    SystemConfigUpdateType
		data   []byte
		l1Time uint64
		want   func(s *rollup.SystemConfig) // nil: unchanged
		err    error                        // nil: applied or ignored without error
	}{
		{"batcher", SystemConfigUpdateBatcher, attrABIBytes(attrWords("0x1234")), 0,
			func(s *rollup.SystemConfig) { s.BatcherAddr = common.HexToAddress("0x1234") }, nil},
		{"batcher hash with version byte", SystemConfigUpdateBatcher, attrABIBytes(attrWords("0x0100000000000000000000000000000000000000000000000000000000001234")), 0,
			nil, ErrSysCfgMalformedData},
		{"batcher too long", SystemConfigUpdateBatcher, attrABIBytes(attrWords("0x1234", "0x00")), 0, nil, ErrSysCfgMalformedData},
		{"batcher truncated", SystemConfigUpdateBatcher, attrABIBytes(attrWords("0x1234"))[:95], 0, nil, ErrSysCfgMalformedData},
		{"batcher bad pointer", SystemConfigUpdateBatcher, append(attrWords("0x40", "0x20"), attrWords("0x1234")...), 0, nil, ErrSysCfgMalformedData},
		{"batcher bad length", SystemConfigUpdateBatcher, append(attrWords("0x20", "0x14"), attrWords("0x1234")...), 0, nil, ErrSysCfgMalformedData},
		{"batcher pointer high bits", SystemConfigUpdateBatcher, append(attrWords("0x0100000000000000000000000000000000000000000000000000000000000020", "0x20"), attrWords("0x1234")...), 0, nil, ErrSysCfgMalformedData},

		{"fee scalars before ecotone", SystemConfigUpdateFeeScalars, attrABIBytes(attrWords("0x0834", "0xf4240")), preEcotone,
			func(s *rollup.SystemConfig) {
				s.Overhead, s.Scalar = common.HexToHash("0x0834"), common.HexToHash("0xf4240")
			}, nil},
		{"fee scalars before ecotone take any scalar", SystemConfigUpdateFeeScalars, attrABIBytes(attrWords("0x01", "0xff000000000000000000000000000000000000000000000000000000000000ff")), preEcotone,
			func(s *rollup.SystemConfig) {
				s.Overhead = common.HexToHash("0x01")
				s.Scalar = common.HexToHash("0xff000000000000000000000000000000000000000000000000000000000000ff")
			}, nil},
		{"fee scalars after ecotone, version 1", SystemConfigUpdateFeeScalars, attrABIBytes(attrWords("0x0834", v1)), postEcotone,
			func(s *rollup.SystemConfig) { s.Overhead, s.Scalar = common.Hash{}, common.HexToHash(v1) }, nil},
		{"fee scalars after ecotone, version 0", SystemConfigUpdateFeeScalars, attrABIBytes(attrWords("0x07", "0x0a6fe0")), postEcotone,
			func(s *rollup.SystemConfig) { s.Overhead, s.Scalar = common.Hash{}, common.HexToHash("0x0a6fe0") }, nil},
		{"fee scalars after ecotone, version 0 with dirty padding ignored", SystemConfigUpdateFeeScalars, attrABIBytes(attrWords("0x00", "0x0000000000000000000000000000000000000000000000000000000100000001")), postEcotone,
			nil, nil},
		{"fee scalars after ecotone, unknown version ignored", SystemConfigUpdateFeeScalars, attrABIBytes(attrWords("0x00", "0x0200000000000000000000000000000000000000000000000000000000000001")), postEcotone,
			nil, nil},
		{"fee scalars after ecotone, version 1 dirty padding ignored", SystemConfigUpdateFeeScalars, attrABIBytes(attrWords("0x00", "0x0100000000000000000000000000000000000000000000010000000000000001")), postEcotone,
			nil, nil},
		{"fee scalars one word", SystemConfigUpdateFeeScalars, attrABIBytes(attrWords("0x01")), preEcotone, nil, ErrSysCfgMalformedData},

		{"gas limit", SystemConfigUpdateGasLimit, attrABIBytes(attrWords("0x3938700")), 0,
			func(s *rollup.SystemConfig) { s.GasLimit = 60_000_000 }, nil},
		{"gas limit above uint64", SystemConfigUpdateGasLimit, attrABIBytes(attrWords("0x010000000000000000")), 0, nil, ErrSysCfgMalformedData},
		{"gas limit extra word", SystemConfigUpdateGasLimit, append(attrABIBytes(attrWords("0x01")), make([]byte, 32)...), 0, nil, ErrSysCfgMalformedData},

		{"unsafe block signer is not a derivation input", SystemConfigUpdateUnsafeBlockSigner, []byte{1, 2, 3}, 0, nil, nil},

		{"eip-1559 params", SystemConfigUpdateEIP1559Params, attrABIBytes(attrWords("0x0000003200000004")), 0,
			func(s *rollup.SystemConfig) { s.EIP1559Params = rollup.Bytes8{0, 0, 0, 0x32, 0, 0, 0, 4} }, nil},
		{"eip-1559 params zero (defaults)", SystemConfigUpdateEIP1559Params, attrABIBytes(attrWords("0x00")), 0,
			func(s *rollup.SystemConfig) { s.EIP1559Params = rollup.Bytes8{} }, nil},
		{"eip-1559 params upper bytes ignored", SystemConfigUpdateEIP1559Params, attrABIBytes(attrWords("0xff00000000000000000000000000000000000000000000000000000100000002")), 0,
			func(s *rollup.SystemConfig) { s.EIP1559Params = rollup.Bytes8{0, 0, 0, 1, 0, 0, 0, 2} }, nil},
		{"eip-1559 zero denominator", SystemConfigUpdateEIP1559Params, attrABIBytes(attrWords("0x0000000000000004")), 0, nil, ErrSysCfgEIP1559Params},
		{"eip-1559 zero elasticity", SystemConfigUpdateEIP1559Params, attrABIBytes(attrWords("0x0000003200000000")), 0, nil, ErrSysCfgEIP1559Params},
		{"eip-1559 params before holocene are applied", SystemConfigUpdateEIP1559Params, attrABIBytes(attrWords("0x0000000100000001")), preEcotone,
			func(s *rollup.SystemConfig) { s.EIP1559Params = rollup.Bytes8{0, 0, 0, 1, 0, 0, 0, 1} }, nil},

		{"operator fee params stored whole", SystemConfigUpdateOperatorFeeParams, attrABIBytes(attrWords("0xff000000000000000000000000000000000000000000000b0000000000000016")), 0,
			func(s *rollup.SystemConfig) {
				s.OperatorFeeParams = common.HexToHash("0xff000000000000000000000000000000000000000000000b0000000000000016")
			}, nil},
		{"operator fee params short", SystemConfigUpdateOperatorFeeParams, attrABIBytes([]byte{1}), 0, nil, ErrSysCfgMalformedData},

		{"min base fee", SystemConfigUpdateMinBaseFee, attrABIBytes(attrWords("0x3b9aca00")), 0,
			func(s *rollup.SystemConfig) { s.MinBaseFee = 1_000_000_000 }, nil},
		{"min base fee above uint64", SystemConfigUpdateMinBaseFee, attrABIBytes(attrWords("0x010000000000000000")), 0, nil, ErrSysCfgMalformedData},

		{"da footprint gas scalar", SystemConfigUpdateDAFootprintGasScalar, attrABIBytes(attrWords("0xffff")), 0,
			func(s *rollup.SystemConfig) { s.DAFootprintGasScalar = 0xffff }, nil},
		{"da footprint gas scalar above uint16", SystemConfigUpdateDAFootprintGasScalar, attrABIBytes(attrWords("0x010000")), 0, nil, ErrSysCfgMalformedData},

		{"unknown type 8", SystemConfigUpdateType(8), attrABIBytes(attrWords("0x01")), 0, nil, ErrSysCfgUnknownType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := base
			err := ProcessSystemConfigUpdates(cfg, &got, types.Receipts{{Status: types.ReceiptStatusSuccessful, Logs: []*types.Log{attrConfigLog(cfg, tt.typ, tt.data)}}}, tt.l1Time)
			want := base
			if tt.want != nil {
				tt.want(&want)
			}
			require.Equal(t, want, got)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
			} else {
				require.NoError(t, err)
			}
		})
	}
}

func TestSystemConfigUpdateLogRejects(t *testing.T) {
	cfg := attrForkConfig()
	good := func() *types.Log {
		return attrConfigLog(cfg, SystemConfigUpdateGasLimit, attrABIBytes(attrWords("0x01")))
	}
	tests := []struct {
		name string
		edit func(ev *types.Log)
		err  error
	}{
		{"two topics", func(ev *types.Log) { ev.Topics = ev.Topics[:2] }, ErrSysCfgMalformedLog},
		{"four topics", func(ev *types.Log) { ev.Topics = append(ev.Topics, common.Hash{}) }, ErrSysCfgMalformedLog},
		{"other event", func(ev *types.Log) { ev.Topics[0] = DepositEventTopic }, ErrSysCfgMalformedLog},
		{"version 1", func(ev *types.Log) { ev.Topics[1] = common.HexToHash("0x01") }, ErrSysCfgUnknownVersion},
		{"type with high bits", func(ev *types.Log) {
			ev.Topics[2] = common.HexToHash("0x0100000000000000000000000000000000000000000000000000000000000002")
		}, ErrSysCfgUnknownType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := good()
			tt.edit(ev)
			var s rollup.SystemConfig
			require.ErrorIs(t, ProcessSystemConfigUpdateLogEvent(cfg, &s, ev, 0), tt.err)
			require.Zero(t, s.GasLimit)
		})
	}
}

func TestProcessSystemConfigUpdatesFilters(t *testing.T) {
	cfg := attrForkConfig()
	gas := func(v string) *types.Log {
		return attrConfigLog(cfg, SystemConfigUpdateGasLimit, attrABIBytes(attrWords(v)))
	}
	otherAddr := gas("0x07")
	otherAddr.Address = common.HexToAddress("0x0bad")
	otherTopic := gas("0x08")
	otherTopic.Topics[0] = DepositEventTopic
	bad := gas("0x09")
	bad.Data = bad.Data[:10]
	receipts := types.Receipts{
		{Status: types.ReceiptStatusSuccessful, Logs: []*types.Log{gas("0x01"), otherAddr, otherTopic}},
		{Status: types.ReceiptStatusFailed, Logs: []*types.Log{gas("0x02")}},
		{Status: types.ReceiptStatusSuccessful, Logs: []*types.Log{gas("0x03"), bad, {Address: cfg.L1SystemConfigAddress}}},
	}
	var s rollup.SystemConfig
	err := ProcessSystemConfigUpdates(cfg, &s, receipts, 0)
	require.ErrorIs(t, err, ErrSysCfgMalformedData, "the malformed update is reported")
	require.Equal(t, uint64(3), s.GasLimit, "later updates win; failed receipts, other contracts and malformed updates are skipped")
}

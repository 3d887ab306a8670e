package derive_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/rollup"
)

// onlyFieldsOf clears in s the fields an update of type typ may change, so that two configs compared
// after it differ only if the update changed another field.
func onlyFieldsOf(typ derive.SystemConfigUpdateType, s rollup.SystemConfig) rollup.SystemConfig {
	switch typ {
	case derive.SystemConfigUpdateBatcher:
		s.BatcherAddr = common.Address{}
	case derive.SystemConfigUpdateFeeScalars:
		s.Overhead, s.Scalar = common.Hash{}, common.Hash{}
	case derive.SystemConfigUpdateGasLimit:
		s.GasLimit = 0
	case derive.SystemConfigUpdateEIP1559Params:
		s.EIP1559Params = rollup.Bytes8{}
	case derive.SystemConfigUpdateOperatorFeeParams:
		s.OperatorFeeParams = common.Hash{}
	case derive.SystemConfigUpdateMinBaseFee:
		s.MinBaseFee = 0
	case derive.SystemConfigUpdateDAFootprintGasScalar:
		s.DAFootprintGasScalar = 0
	}
	return s
}

// FuzzSystemConfigUpdateLog applies any ConfigUpdate log of the system config contract, at any L1 time.
// A refused log must be refused with one of the system config errors and leave the config as it was (as
// ProcessSystemConfigUpdates applies it); an accepted one may change only the fields of its update type,
// and applying it again changes nothing more. The seeds are the devnet's ConfigUpdate logs. For a long run:
//
//	go test ./derive -run '^$' -fuzz FuzzSystemConfigUpdateLog -fuzztime 30m
func FuzzSystemConfigUpdateLog(f *testing.F) {
	logs, err := loadDevnetLogs()
	require.NoError(f, err)
	for i, ev := range logs.updates {
		f.Add(joinTopics(ev.Topics), ev.Data, logs.l1Times[i])
	}
	cfg := logs.rollup
	f.Fuzz(func(t *testing.T, topics, data []byte, l1Time uint64) {
		ev := &types.Log{Address: cfg.L1SystemConfigAddress, Topics: splitTopics(topics), Data: data}
		before := logs.sysCfg
		before.MinBaseFee, before.DAFootprintGasScalar = 7, 9 // every field set, so that a change shows
		before.OperatorFeeParams = common.Hash{31: 1}
		got := before
		err := derive.ProcessSystemConfigUpdates(cfg, &got, types.Receipts{{Status: types.ReceiptStatusSuccessful, Logs: []*types.Log{ev}}}, l1Time)
		if err != nil {
			for _, known := range []error{derive.ErrSysCfgMalformedLog, derive.ErrSysCfgUnknownVersion, derive.ErrSysCfgUnknownType,
				derive.ErrSysCfgMalformedData, derive.ErrSysCfgEIP1559Params} {
				if errors.Is(err, known) {
					require.Equal(t, before, got, "a refused update changed the config: %+v -> %+v (%v)", before, got, err)
					return
				}
			}
			require.FailNow(t, fmt.Sprintf("refused without a system config error: %v", err))
		}
		if len(ev.Topics) == 0 || ev.Topics[0] != derive.ConfigUpdateEventTopic {
			require.Equal(t, before, got, "a log of another event changed the config")
			return
		}
		typ := derive.SystemConfigUpdateType(ev.Topics[2][31])
		require.Equal(t, onlyFieldsOf(typ, before), onlyFieldsOf(typ, got), "update type %d changed other fields: %+v -> %+v", typ, before, got)
		again := got
		require.NoError(t, derive.ProcessSystemConfigUpdateLogEvent(cfg, &again, ev, l1Time), "an accepted update is refused the second time")
		require.Equal(t, got, again, "applying update type %d twice: %+v, then %+v", typ, got, again)
	})
}

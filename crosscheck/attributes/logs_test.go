package attributes_test

import (
	"encoding/binary"
	"math/big"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"

	optypes "github.com/ethereum-optimism/optimism/op-core/types"
	opderive "github.com/ethereum-optimism/optimism/op-node/rollup/derive"

	"github.com/faultproof/faultproof/derive"
)

func TestLogConstants(t *testing.T) {
	require.Equal(t, opderive.DepositEventABIHash, derive.DepositEventTopic)
	require.Equal(t, opderive.ConfigUpdateEventABIHash, derive.ConfigUpdateEventTopic)
	for i, h := range []common.Hash{
		opderive.SystemConfigUpdateBatcher, opderive.SystemConfigUpdateFeeScalars, opderive.SystemConfigUpdateGasLimit,
		opderive.SystemConfigUpdateUnsafeBlockSigner, opderive.SystemConfigUpdateEIP1559Params,
		opderive.SystemConfigUpdateOperatorFeeParams, opderive.SystemConfigUpdateMinBaseFee,
		opderive.SystemConfigUpdateDAFootprintGasScalar,
	} {
		require.Equal(t, h, derive.SystemConfigUpdateType(i).Topic())
	}
}

func TestSourceHashesDifferential(t *testing.T) {
	rng := rand.New(rand.NewSource(201))
	for i := 0; i < iterations(1000); i++ {
		h, n := randomHash(rng), rng.Uint64()>>uint(rng.Intn(64))
		user := opderive.UserDepositSource{L1BlockHash: h, LogIndex: n}
		info := opderive.L1InfoDepositSource{L1BlockHash: h, SeqNumber: n}
		require.Equal(t, user.SourceHash(), derive.UserDepositSourceHash(h, n))
		require.Equal(t, info.SourceHash(), derive.L1InfoDepositSourceHash(h, n))
		intent := string(h[:rng.Intn(32)])
		upgrade := opderive.UpgradeDepositSource{Intent: intent}
		require.Equal(t, upgrade.SourceHash(), derive.UpgradeDepositSourceHash(intent))
	}
}

// randomDepositLog is a TransactionDeposited log of a random deposit, encoded by op-node, then perhaps
// damaged: data or topics mutated, another emitter or event.
func randomDepositLog(rng *rand.Rand) *types.Log {
	dep := &optypes.DepositTx{
		From:  randomAddress(rng),
		Value: new(big.Int).Rand(rng, new(big.Int).Lsh(big.NewInt(1), uint(rng.Intn(257)))),
		Gas:   rng.Uint64() >> uint(rng.Intn(64)),
		Data:  make([]byte, rng.Intn(3)*rng.Intn(80)),
	}
	rng.Read(dep.Data)
	if rng.Intn(3) != 0 {
		to := randomAddress(rng)
		dep.To = &to
	}
	if rng.Intn(2) == 0 {
		dep.Mint = new(big.Int).Rand(rng, new(big.Int).Lsh(big.NewInt(1), uint(rng.Intn(257))))
	}
	ev, err := opderive.MarshalDepositLogEvent(depositContract, dep)
	if err != nil {
		panic(err)
	}
	switch rng.Intn(12) {
	case 0:
		ev.Data = mutate(rng, ev.Data)
	case 1:
		ev.Topics[rng.Intn(4)][rng.Intn(32)] ^= 1
	case 2:
		ev.Topics = ev.Topics[:rng.Intn(4)]
	case 3:
		ev.Topics = append(ev.Topics, randomHash(rng))
	case 4:
		ev.Address = randomAddress(rng)
	case 5:
		// isCreation byte set to some other value
		if len(ev.Data) > 64+72 {
			ev.Data[64+72] = byte(rng.Intn(256))
		}
	case 6:
		// the length word changed by a little
		n := binary.BigEndian.Uint64(ev.Data[56:64])
		binary.BigEndian.PutUint64(ev.Data[56:64], n+uint64(rng.Intn(70))-35)
	}
	return ev
}

func randomReceipts(rng *rand.Rand, blockHash common.Hash, logFn func(*rand.Rand) *types.Log) types.Receipts {
	var receipts types.Receipts
	var index uint
	for n := rng.Intn(6); n > 0; n-- {
		rec := &types.Receipt{Type: types.DynamicFeeTxType, Status: types.ReceiptStatusSuccessful, CumulativeGasUsed: uint64(len(receipts)) * 21000}
		if rng.Intn(5) == 0 {
			rec.Status = types.ReceiptStatusFailed
		}
		for m := rng.Intn(4); m > 0; m-- {
			ev := logFn(rng)
			if rec.Status == types.ReceiptStatusFailed {
				continue // failed transactions have no logs; keep the emitted ones to test filtering below
			}
			ev.BlockHash = blockHash
			ev.Index = index
			index++
			rec.Logs = append(rec.Logs, ev)
		}
		if rec.Status == types.ReceiptStatusFailed && rng.Intn(2) == 0 {
			// A failed receipt carrying logs (not real, but the status alone must exclude them).
			ev := logFn(rng)
			ev.BlockHash = blockHash
			rec.Logs = append(rec.Logs, ev)
		}
		receipts = append(receipts, rec)
	}
	return receipts
}

// TestUserDepositsDifferential derives the deposits of random receipts with both implementations.
func TestUserDepositsDifferential(t *testing.T) {
	rng := rand.New(rand.NewSource(202))
	var blocks, failed, deposits int
	for i := 0; i < iterations(3000); i++ {
		receipts := randomReceipts(rng, randomHash(rng), randomDepositLog)
		theirs, theirErr := opderive.DeriveDeposits(receipts, depositContract)
		ours, ourErr := derive.DeriveDeposits(receipts, depositContract)
		require.Equal(t, theirErr == nil, ourErr == nil, "case %d: op-node error %v, ours %v", i, theirErr, ourErr)
		require.Len(t, ours, len(theirs), "case %d", i)
		for j := range theirs {
			require.Equal(t, []byte(theirs[j]), ours[j], "case %d deposit %d", i, j)
		}
		blocks++
		deposits += len(ours)
		if ourErr != nil {
			failed++
			require.ErrorIs(t, ourErr, derive.ErrMalformedDeposit)
		}

		// Log by log.
		for _, rec := range receipts {
			for _, ev := range rec.Logs {
				opDep, opErr := opderive.UnmarshalDepositLogEvent(ev)
				dep, err := derive.UnmarshalDepositLogEvent(ev)
				require.Equal(t, opErr == nil, err == nil, "case %d: op-node error %v, ours %v (log %+v)", i, opErr, err, ev)
				if err == nil {
					a, err := opDep.MarshalBinary()
					require.NoError(t, err)
					b, err := types.NewTx(dep).MarshalBinary()
					require.NoError(t, err)
					require.Equal(t, a, b)
				}
			}
		}
	}
	t.Logf("%d blocks, %d with a malformed deposit, %d deposits", blocks, failed, deposits)
	require.NotZero(t, failed)
	require.NotZero(t, deposits)
}

// randomConfigUpdateLog is a ConfigUpdate log of a random type with well-formed or damaged data.
func randomConfigUpdateLog(rng *rand.Rand) *types.Log {
	typ := rng.Intn(9)
	word := func(width int) []byte {
		w := make([]byte, 32)
		rng.Read(w[32-width:])
		return w
	}
	var content []byte
	switch typ {
	case 0:
		content = word(20)
	case 1:
		content = append(word(32), randomScalar(rng).Bytes()...)
	case 2, 6:
		content = word(8)
	case 3:
		content = word(20)
	case 4:
		content = word(8)
		switch rng.Intn(4) {
		case 0:
			copy(content[24:28], []byte{0, 0, 0, 0})
		case 1:
			copy(content[28:32], []byte{0, 0, 0, 0})
		case 2:
			content = make([]byte, 32)
		}
		if rng.Intn(5) == 0 {
			content[rng.Intn(24)] = 1 // upper bytes are not read
		}
	case 5:
		content = word(32)
	case 7:
		content = word(2)
	default:
		content = word(32)
	}
	data := make([]byte, 64, 64+len(content))
	data[31] = 32
	binary.BigEndian.PutUint64(data[56:64], uint64(len(content)))
	data = append(data, content...)
	if rng.Intn(3) == 0 {
		data = mutate(rng, data)
	}
	ev := &types.Log{
		Address: sysCfgContract,
		Topics:  []common.Hash{derive.ConfigUpdateEventTopic, {}, derive.SystemConfigUpdateType(typ).Topic()},
		Data:    data,
	}
	switch rng.Intn(20) {
	case 0:
		ev.Topics[1][31] = 1
	case 1:
		ev.Topics[2][rng.Intn(31)] = 1
	case 2:
		ev.Topics = ev.Topics[:rng.Intn(3)]
	case 3:
		ev.Topics = append(ev.Topics, common.Hash{})
	case 4:
		ev.Address = randomAddress(rng)
	case 5:
		ev.Topics[0] = derive.DepositEventTopic
	}
	return ev
}

// TestSystemConfigUpdatesDifferential applies random ConfigUpdate logs, one by one and as whole blocks of
// receipts, with both implementations, before and after Ecotone.
func TestSystemConfigUpdatesDifferential(t *testing.T) {
	rng := rand.New(rand.NewSource(203))
	var applied, rejected int
	for i := 0; i < iterations(3000); i++ {
		cfg := randomForkConfig(rng)
		l1Time := uint64(rng.Intn(320))
		start := randomSysCfg(rng)

		ev := randomConfigUpdateLog(rng)
		ours := start
		ourErr := derive.ProcessSystemConfigUpdateLogEvent(cfg, &ours, ev, l1Time)
		theirs := opSysCfg(start)
		theirErr := opderive.ProcessSystemConfigUpdateLogEvent(&theirs, ev, opConfig(cfg), l1Time)
		require.Equal(t, theirErr == nil, ourErr == nil, "case %d: op-node error %v, ours %v (log %+v)", i, theirErr, ourErr, ev)
		if ourErr == nil {
			applied++
			require.Equal(t, fromOpSysCfg(theirs), ours, "case %d", i)
		} else {
			rejected++
		}

		receipts := randomReceipts(rng, randomHash(rng), randomConfigUpdateLog)
		ours = start
		ourErr = derive.ProcessSystemConfigUpdates(cfg, &ours, receipts, l1Time)
		theirs = opSysCfg(start)
		theirErr = opderive.UpdateSystemConfigWithL1Receipts(&theirs, receipts, opConfig(cfg), l1Time)
		require.Equal(t, theirErr == nil, ourErr == nil, "case %d: op-node error %v, ours %v", i, theirErr, ourErr)
		require.Equal(t, fromOpSysCfg(theirs), ours, "case %d", i)
	}
	t.Logf("%d single updates applied, %d rejected", applied, rejected)
	require.NotZero(t, applied)
	require.NotZero(t, rejected)
}

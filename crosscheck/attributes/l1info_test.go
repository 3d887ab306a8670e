package attributes_test

import (
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

func TestL1InfoConstants(t *testing.T) {
	require.Equal(t, opderive.L1InfoFuncBedrockBytes4, derive.L1InfoFuncBedrockSelector[:])
	require.Equal(t, opderive.L1InfoFuncEcotoneBytes4, derive.L1InfoFuncEcotoneSelector[:])
	require.Equal(t, opderive.L1InfoFuncIsthmusBytes4, derive.L1InfoFuncIsthmusSelector[:])
	require.Equal(t, opderive.L1InfoFuncJovianBytes4, derive.L1InfoFuncJovianSelector[:])
	require.Equal(t, opderive.L1InfoBedrockLen, derive.L1InfoBedrockLen)
	require.Equal(t, opderive.L1InfoEcotoneLen, derive.L1InfoEcotoneLen)
	require.Equal(t, opderive.L1InfoIsthmusLen, derive.L1InfoIsthmusLen)
	require.Equal(t, opderive.L1InfoJovianLen, derive.L1InfoJovianLen)
	require.Equal(t, opderive.L1InfoDepositerAddress, derive.L1InfoDepositerAddress)
	require.Equal(t, opderive.L1BlockAddress, derive.L1BlockAddress)
	require.Equal(t, uint64(opderive.RegolithSystemTxGas), uint64(derive.RegolithSystemTxGas))
	require.Equal(t, uint64(opderive.DAFootprintGasScalarDefault), uint64(derive.DAFootprintGasScalarDefault))
}

// TestL1InfoDepositDifferential builds the L1 attributes deposit of random L2 blocks (random fork
// schedules, system configs, L1 headers, sequence numbers) with both implementations.
func TestL1InfoDepositDifferential(t *testing.T) {
	rng := rand.New(rand.NewSource(101))
	l1 := l1ChainConfig()
	forms := map[derive.L1InfoForm]int{}
	activations := map[rollup.Fork]int{}
	errs := 0
	for i := 0; i < iterations(3000); i++ {
		cfg := randomForkConfig(rng)
		sysCfg := randomSysCfg(rng)
		header := randomL1Header(rng, l1, rng.Uint64()>>1, randomHash(rng), uint64(rng.Intn(4000)))
		seq := uint64(rng.Intn(3)) * rng.Uint64()
		l2Time := randomL2Time(rng, cfg)
		forms[derive.L1InfoFormAt(cfg, l2Time)]++
		for _, f := range []rollup.Fork{rollup.Ecotone, rollup.Isthmus, rollup.Jovian} {
			if cfg.IsActivationBlock(f, l2Time) {
				activations[f]++
			}
		}

		ours, ourErr := derive.L1InfoDepositBytes(cfg, l1, sysCfg, seq, header, l2Time)
		theirs, theirErr := opderive.L1InfoDepositBytes(opConfig(cfg), l1, opSysCfg(sysCfg), seq, eth.HeaderBlockInfo(header), l2Time)
		require.Equal(t, theirErr == nil, ourErr == nil, "case %d: op-node error %v, ours %v", i, theirErr, ourErr)
		if ourErr != nil {
			errs++
			continue
		}
		require.Equal(t, theirs, ours, "case %d", i)

		// The structured deposit too.
		dep, err := derive.L1InfoDeposit(cfg, l1, sysCfg, seq, header, l2Time)
		require.NoError(t, err)
		opDep, err := opderive.L1InfoDeposit(opConfig(cfg), l1, opSysCfg(sysCfg), seq, eth.HeaderBlockInfo(header), l2Time)
		require.NoError(t, err)
		require.Equal(t, opDep.SourceHash, dep.SourceHash)
		require.Equal(t, opDep.Gas, dep.Gas)
		require.Equal(t, opDep.IsSystemTransaction, dep.IsSystemTransaction)
		var tx types.Transaction
		require.NoError(t, tx.UnmarshalBinary(ours))

		// Decoding the calldata back, in the form of that block.
		opInfo, opErr := opderive.L1BlockInfoFromBytes(opConfig(cfg), l2Time, tx.Data())
		info, err := derive.L1BlockInfoFromBytes(cfg, l2Time, tx.Data())
		require.NoError(t, opErr)
		require.NoError(t, err)
		requireSameInfo(t, opInfo, info)
	}
	t.Logf("forms %v, activation blocks %v, %d errors (unknown scalar versions)", forms, activations, errs)
	require.NotZero(t, errs)
	require.Len(t, activations, 3)
	for f := derive.L1InfoFormBedrock; f <= derive.L1InfoFormJovian; f++ {
		require.NotZero(t, forms[f], "form %s never drawn", f)
	}
}

func requireSameInfo(t *testing.T, op *opderive.L1BlockInfo, ours *derive.L1BlockInfo) {
	t.Helper()
	require.Equal(t, op.Number, ours.Number)
	require.Equal(t, op.Time, ours.Time)
	require.Equal(t, op.BaseFee.String(), ours.BaseFee.String())
	require.Equal(t, op.BlockHash, ours.BlockHash)
	require.Equal(t, op.SequenceNumber, ours.SequenceNumber)
	require.Equal(t, op.BatcherAddr, ours.BatcherAddr)
	require.Equal(t, common.Hash(op.L1FeeOverhead), ours.L1FeeOverhead)
	require.Equal(t, common.Hash(op.L1FeeScalar), ours.L1FeeScalar)
	require.Equal(t, op.BlobBaseFee == nil, ours.BlobBaseFee == nil)
	if op.BlobBaseFee != nil {
		require.Equal(t, op.BlobBaseFee.String(), ours.BlobBaseFee.String())
	}
	require.Equal(t, op.BaseFeeScalar, ours.BaseFeeScalar)
	require.Equal(t, op.BlobBaseFeeScalar, ours.BlobBaseFeeScalar)
	require.Equal(t, op.OperatorFeeScalar, ours.OperatorFeeScalar)
	require.Equal(t, op.OperatorFeeConstant, ours.OperatorFeeConstant)
	require.Equal(t, op.DAFootprintGasScalar, ours.DAFootprintGasScalar)
}

// TestL1BlockInfoFromBytesDifferential decodes valid and mutated calldata of every form with both.
func TestL1BlockInfoFromBytesDifferential(t *testing.T) {
	rng := rand.New(rand.NewSource(102))
	accepted := 0
	for i := 0; i < iterations(5000); i++ {
		cfg := randomForkConfig(rng)
		l2Time := randomL2Time(rng, cfg)
		info := &derive.L1BlockInfo{
			Number: rng.Uint64(), Time: rng.Uint64(), BaseFee: big.NewInt(rng.Int63()), BlockHash: randomHash(rng),
			SequenceNumber: rng.Uint64(), BatcherAddr: randomAddress(rng), L1FeeOverhead: randomHash(rng), L1FeeScalar: randomHash(rng),
			BlobBaseFee: big.NewInt(rng.Int63()), BaseFeeScalar: rng.Uint32(), BlobBaseFeeScalar: rng.Uint32(),
			OperatorFeeScalar: rng.Uint32(), OperatorFeeConstant: rng.Uint64(), DAFootprintGasScalar: uint16(rng.Uint32()),
		}
		data, err := info.Marshal(derive.L1InfoForm(rng.Intn(4)))
		require.NoError(t, err)
		data = mutate(rng, data)

		opInfo, opErr := opderive.L1BlockInfoFromBytes(opConfig(cfg), l2Time, data)
		ours, ourErr := derive.L1BlockInfoFromBytes(cfg, l2Time, data)
		require.Equal(t, opErr == nil, ourErr == nil, "case %d: op-node error %v, ours %v (data %x)", i, opErr, ourErr, data)
		if ourErr == nil {
			accepted++
			requireSameInfo(t, opInfo, ours)
		}
	}
	t.Logf("%d accepted", accepted)
	require.NotZero(t, accepted)
}

// mutate leaves data intact half of the time, else flips, drops or adds bytes.
func mutate(rng *rand.Rand, data []byte) []byte {
	data = append([]byte{}, data...)
	switch rng.Intn(8) {
	case 0, 1, 2, 3:
	case 4:
		if len(data) > 0 {
			data[rng.Intn(len(data))] ^= byte(1 + rng.Intn(255))
		}
	case 5:
		if len(data) > 0 {
			data = data[:rng.Intn(len(data))]
		}
	case 6:
		data = append(data, make([]byte, 1+rng.Intn(40))...)
	default:
		for n := 1 + rng.Intn(3); n > 0 && len(data) > 0; n-- {
			data[rng.Intn(len(data))] = byte(rng.Intn(2))
		}
	}
	return data
}

// TestEcotoneScalarsDifferential compares the decoding of system config scalars.
func TestEcotoneScalarsDifferential(t *testing.T) {
	rng := rand.New(rand.NewSource(103))
	for i := 0; i < iterations(5000); i++ {
		s := randomScalar(rng)
		sys := eth.SystemConfig{Scalar: eth.Bytes32(s)}
		opScalars, opErr := sys.EcotoneScalars()
		base, blob, err := derive.EcotoneScalars(s)
		require.Equal(t, opErr == nil, err == nil, "scalar %x", s)
		if err == nil {
			require.Equal(t, opScalars.BaseFeeScalar, base)
			require.Equal(t, opScalars.BlobBaseFeeScalar, blob)
		}
	}
}

// Package attributes_test checks faultproof's payload attributes derivation (derive: L1 info deposits,
// user deposits, system config updates, network upgrade transactions, payload attributes) against op-node's
// op-node/rollup/derive on seeded random inputs: same bytes out, and the same inputs rejected.
package attributes_test

import (
	"math/big"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"

	oprollup "github.com/ethereum-optimism/optimism/op-node/rollup"
	"github.com/ethereum-optimism/optimism/op-service/eth"

	"github.com/faultproof/faultproof/rollup"
)

const blockTime = 2

var (
	depositContract = common.HexToAddress("0xbEb5Fc579115071764c7423A4f12eDde41f106Ed")
	sysCfgContract  = common.HexToAddress("0x229047fed2591dbec1eF1118d64F7aF3dB9EB290")
)

func u64p(v uint64) *uint64 { return &v }

// iterations scales a loop count down in -short mode.
func iterations(full int) int {
	if testing.Short() {
		return max(1, full/10)
	}
	return full
}

func randomHash(rng *rand.Rand) common.Hash {
	var h common.Hash
	rng.Read(h[:])
	return h
}

func randomAddress(rng *rand.Rand) common.Address {
	var a common.Address
	rng.Read(a[:])
	return a
}

// randomForkConfig schedules the forks Regolith..Karst: a random prefix active at genesis, the rest (or
// some of them) at random increasing times up to about 300, on or off the 2-second block grid, several
// possibly at the same time.
func randomForkConfig(rng *rand.Rand) *rollup.Config {
	cfg := &rollup.Config{
		BlockTime:              blockTime,
		MaxSequencerDrift:      600,
		SeqWindowSize:          3600,
		ChannelTimeoutBedrock:  300,
		L1ChainID:              big.NewInt(900),
		L2ChainID:              big.NewInt(901),
		Genesis:                rollup.Genesis{L2Time: 0},
		BatchInboxAddress:      common.HexToAddress("0xff00000000000000000000000000000000000901"),
		DepositContractAddress: depositContract,
		L1SystemConfigAddress:  sysCfgContract,
		KeepKarstUpgradeGas:    rng.Intn(4) == 0,
	}
	atGenesis := rng.Intn(len(rollup.Forks) + 1)
	scheduled := atGenesis + rng.Intn(len(rollup.Forks)-atGenesis+1)
	t := uint64(0)
	for i, f := range rollup.Forks {
		var at *uint64
		switch {
		case i < atGenesis:
			at = u64p(0)
		case i < scheduled:
			if rng.Intn(3) != 0 {
				t += uint64(rng.Intn(40))
				if rng.Intn(4) != 0 {
					t &^= 1 // mostly on the block grid
				}
			}
			at = u64p(t)
		}
		setForkTime(cfg, f, at)
	}
	if rng.Intn(3) == 0 {
		cfg.PectraBlobScheduleTime = u64p(uint64(1000 + rng.Intn(3000)))
	}
	// Lagoon (interop) is scheduled on its own, like op-node's: after Karst or any time.
	switch rng.Intn(4) {
	case 0:
		cfg.LagoonTime = u64p(0)
	case 1:
		cfg.LagoonTime = u64p(uint64(rng.Intn(400)) &^ 1)
	}
	return cfg
}

func setForkTime(cfg *rollup.Config, f rollup.Fork, at *uint64) {
	switch f {
	case rollup.Regolith:
		cfg.RegolithTime = at
	case rollup.Canyon:
		cfg.CanyonTime = at
	case rollup.Delta:
		cfg.DeltaTime = at
	case rollup.Ecotone:
		cfg.EcotoneTime = at
	case rollup.Fjord:
		cfg.FjordTime = at
	case rollup.Granite:
		cfg.GraniteTime = at
	case rollup.Holocene:
		cfg.HoloceneTime = at
	case rollup.Isthmus:
		cfg.IsthmusTime = at
	case rollup.Jovian:
		cfg.JovianTime = at
	case rollup.Karst:
		cfg.KarstTime = at
	default:
		panic(f)
	}
}

// opConfig mirrors our rollup config as op-node's.
func opConfig(c *rollup.Config) *oprollup.Config {
	return &oprollup.Config{
		Genesis: oprollup.Genesis{
			L1:           eth.BlockID{Hash: c.Genesis.L1.Hash, Number: c.Genesis.L1.Number},
			L2:           eth.BlockID{Hash: c.Genesis.L2.Hash, Number: c.Genesis.L2.Number},
			L2Time:       c.Genesis.L2Time,
			SystemConfig: opSysCfg(c.Genesis.SystemConfig),
		},
		BlockTime:              c.BlockTime,
		MaxSequencerDrift:      c.MaxSequencerDrift,
		SeqWindowSize:          c.SeqWindowSize,
		ChannelTimeoutBedrock:  c.ChannelTimeoutBedrock,
		L1ChainID:              c.L1ChainID,
		L2ChainID:              c.L2ChainID,
		RegolithTime:           c.RegolithTime,
		CanyonTime:             c.CanyonTime,
		DeltaTime:              c.DeltaTime,
		EcotoneTime:            c.EcotoneTime,
		FjordTime:              c.FjordTime,
		GraniteTime:            c.GraniteTime,
		HoloceneTime:           c.HoloceneTime,
		IsthmusTime:            c.IsthmusTime,
		JovianTime:             c.JovianTime,
		KarstTime:              c.KarstTime,
		KeepKarstUpgradeGas:    c.KeepKarstUpgradeGas,
		LagoonTime:             c.LagoonTime,
		BatchInboxAddress:      c.BatchInboxAddress,
		DepositContractAddress: c.DepositContractAddress,
		L1SystemConfigAddress:  c.L1SystemConfigAddress,
		PectraBlobScheduleTime: c.PectraBlobScheduleTime,
	}
}

func opSysCfg(s rollup.SystemConfig) eth.SystemConfig {
	return eth.SystemConfig{
		BatcherAddr:          s.BatcherAddr,
		Overhead:             eth.Bytes32(s.Overhead),
		Scalar:               eth.Bytes32(s.Scalar),
		GasLimit:             s.GasLimit,
		EIP1559Params:        eth.Bytes8(s.EIP1559Params),
		OperatorFeeParams:    eth.Bytes32(s.OperatorFeeParams),
		MinBaseFee:           s.MinBaseFee,
		DAFootprintGasScalar: s.DAFootprintGasScalar,
	}
}

func fromOpSysCfg(s eth.SystemConfig) rollup.SystemConfig {
	return rollup.SystemConfig{
		BatcherAddr:          s.BatcherAddr,
		Overhead:             common.Hash(s.Overhead),
		Scalar:               common.Hash(s.Scalar),
		GasLimit:             s.GasLimit,
		EIP1559Params:        rollup.Bytes8(s.EIP1559Params),
		OperatorFeeParams:    common.Hash(s.OperatorFeeParams),
		MinBaseFee:           s.MinBaseFee,
		DAFootprintGasScalar: s.DAFootprintGasScalar,
	}
}

// randomScalar is a system config scalar: version 0, version 1, version 0 with dirty padding, or random.
func randomScalar(rng *rand.Rand) common.Hash {
	var s common.Hash
	switch rng.Intn(6) {
	case 0, 1:
		s[28], s[29], s[30], s[31] = byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256))
	case 2, 3:
		s[0] = 1
		rng.Read(s[24:])
	case 4:
		rng.Read(s[20:])
		if rng.Intn(2) == 0 {
			s[0] = 1
		}
	default:
		rng.Read(s[:])
	}
	return s
}

func randomSysCfg(rng *rand.Rand) rollup.SystemConfig {
	var eip1559 rollup.Bytes8
	if rng.Intn(3) != 0 {
		rng.Read(eip1559[:])
	}
	var opFee common.Hash
	if rng.Intn(2) == 0 {
		rng.Read(opFee[20:])
	}
	return rollup.SystemConfig{
		BatcherAddr:          randomAddress(rng),
		Overhead:             common.BigToHash(big.NewInt(rng.Int63n(5000))),
		Scalar:               randomScalar(rng),
		GasLimit:             uint64(1_000_000 + rng.Intn(100_000_000)),
		EIP1559Params:        eip1559,
		OperatorFeeParams:    opFee,
		MinBaseFee:           uint64(rng.Intn(3)) * rng.Uint64(),
		DAFootprintGasScalar: uint16(rng.Intn(3) * rng.Intn(1<<16)),
	}
}

// l1ChainConfig is an L1 with Cancun at 1000, Prague at 2000 and Osaka at 3000.
func l1ChainConfig() *params.ChainConfig { return l1ChainConfigAt(1000, 2000, 3000) }

// l1ChainConfigAt is an L1 with the given Cancun, Prague and Osaka times and the default blob schedule
// (BPO forks unscheduled).
func l1ChainConfigAt(cancun, prague, osaka uint64) *params.ChainConfig {
	c := *params.MainnetChainConfig
	c.ChainID = big.NewInt(900)
	c.ShanghaiTime = u64p(0)
	c.CancunTime = u64p(cancun)
	c.PragueTime = u64p(prague)
	c.OsakaTime = u64p(osaka)
	c.BPO1Time, c.BPO2Time, c.BPO3Time, c.BPO4Time, c.BPO5Time = nil, nil, nil, nil, nil
	c.BlobScheduleConfig = params.DefaultBlobSchedule
	return &c
}

// randomL1Header is an L1 header of l1 at the given time: before Cancun without blob fields, after it with
// random excess blob gas and a beacon root (sometimes missing).
func randomL1Header(rng *rand.Rand, l1 *params.ChainConfig, number uint64, parent common.Hash, time uint64) *types.Header {
	h := &types.Header{
		ParentHash: parent,
		Number:     new(big.Int).SetUint64(number),
		Time:       time,
		GasLimit:   30_000_000,
		BaseFee:    new(big.Int).Rand(rng, new(big.Int).Lsh(big.NewInt(1), uint(rng.Intn(80)))),
		MixDigest:  randomHash(rng),
		Coinbase:   randomAddress(rng),
		Root:       randomHash(rng),
	}
	if time >= *l1.CancunTime {
		ebg := uint64(rng.Intn(3)) * uint64(rng.Intn(1<<26))
		h.ExcessBlobGas = &ebg
		h.BlobGasUsed = new(uint64)
		h.WithdrawalsHash = &types.EmptyWithdrawalsHash
		if rng.Intn(5) != 0 {
			root := randomHash(rng)
			h.ParentBeaconRoot = &root
		}
	}
	return h
}

// randomL2Time is an L2 block time in [0, 320) on the block grid; a third of the time the activation block
// of a random scheduled fork.
func randomL2Time(rng *rand.Rand, cfg *rollup.Config) uint64 {
	if rng.Intn(3) == 0 {
		f := rollup.Forks[rng.Intn(len(rollup.Forks))]
		if at := cfg.ActivationTime(f); at != nil && *at > 0 {
			return (*at + blockTime - 1) / blockTime * blockTime
		}
	}
	return uint64(rng.Intn(160)) * blockTime
}

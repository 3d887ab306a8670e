package derive

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/core/types"

	"github.com/faultproof/faultproof/rollup"
)

// Reading the system config back from an L2 block: derivation of the next block starts from the system
// config of its parent, which the parent block records in its L1 attributes deposit (batcher, fee scalars,
// operator fee, DA footprint scalar), its gas limit and, from Holocene, its extra data (EIP-1559 parameters,
// from Jovian the minimum base fee).

// ErrL2BlockSystemConfig wraps the reasons an L2 block does not yield its system config.
var ErrL2BlockSystemConfig = errors.New("cannot read the system config of the L2 block")

// Extra data versions of Holocene and Jovian L2 headers (holocene/exec-engine.md, jovian/exec-engine.md).
const (
	sysCfgHoloceneExtraVersion = 0
	sysCfgJovianExtraVersion   = 1
)

// L1InfoFromL2Block decodes the L1 attributes deposit, the first transaction, of a non-genesis L2 block.
func L1InfoFromL2Block(cfg *rollup.Config, block *types.Block) (*L1BlockInfo, error) {
	txs := block.Transactions()
	if len(txs) == 0 {
		return nil, fmt.Errorf("%w: block %d (%s) has no L1 info deposit", ErrL2BlockSystemConfig, block.NumberU64(), block.Hash())
	}
	if txs[0].Type() != types.DepositTxType {
		return nil, fmt.Errorf("%w: first transaction of block %d (%s) is not a deposit", ErrL2BlockSystemConfig, block.NumberU64(), block.Hash())
	}
	info, err := L1BlockInfoFromBytes(cfg, block.Time(), txs[0].Data())
	if err != nil {
		return nil, fmt.Errorf("%w: block %d (%s): %w", ErrL2BlockSystemConfig, block.NumberU64(), block.Hash(), err)
	}
	return info, nil
}

// SystemConfigFromL2Block is the system config an L2 block was derived with, as op-node's
// PayloadToSystemConfig reads it: the genesis system config for the genesis block (whose hash must be the
// rollup's); else from the L1 attributes deposit the batcher, the overhead and scalar (after the Ecotone
// activation block, the scalar re-encoded as version 1 from the base fee and blob base fee scalars), from
// Isthmus the operator fee parameters, from Jovian the DA footprint gas scalar (where a zero system config
// value was written as its default); the header's gas limit, less the upgrade gas of a Karst activation
// block (unless the rollup keeps it: KeepKarstUpgradeGas) or of a Lagoon activation block; and the
// header's extra data, which must be empty
// before Holocene, carry non-zero EIP-1559 parameters from Holocene and the minimum base fee from Jovian.
func SystemConfigFromL2Block(cfg *rollup.Config, block *types.Block) (rollup.SystemConfig, error) {
	if block.NumberU64() == cfg.Genesis.L2.Number {
		if block.Hash() != cfg.Genesis.L2.Hash {
			return rollup.SystemConfig{}, fmt.Errorf("%w: block %d is %s, not the rollup's genesis %s", ErrL2BlockSystemConfig, block.NumberU64(), block.Hash(), cfg.Genesis.L2.Hash)
		}
		return cfg.Genesis.SystemConfig, nil
	}
	info, err := L1InfoFromL2Block(cfg, block)
	if err != nil {
		return rollup.SystemConfig{}, err
	}
	t := block.Time()
	sys := rollup.SystemConfig{
		BatcherAddr: info.BatcherAddr,
		Overhead:    info.L1FeeOverhead,
		Scalar:      info.L1FeeScalar,
		GasLimit:    block.GasLimit(),
	}
	if cfg.IsEcotone(t) && !cfg.IsActivationBlock(rollup.Ecotone, t) {
		// Whether the scalar came in as version 0 or 1 is lost; version 1 describes the same fees.
		sys.Scalar = EncodeEcotoneScalar(info.BaseFeeScalar, info.BlobBaseFeeScalar)
	}

	strip, err := upgradeGasToStrip(cfg, t)
	if err != nil {
		return rollup.SystemConfig{}, fmt.Errorf("%w: %w", ErrL2BlockSystemConfig, err)
	}
	if sys.GasLimit < strip {
		return rollup.SystemConfig{}, fmt.Errorf("%w: activation block %d has gas limit %d, below the upgrade gas %d", ErrL2BlockSystemConfig, block.NumberU64(), sys.GasLimit, strip)
	}
	sys.GasLimit -= strip

	extra := block.Extra()
	switch {
	case cfg.IsJovian(t):
		if len(extra) != 17 || extra[0] != sysCfgJovianExtraVersion {
			return rollup.SystemConfig{}, fmt.Errorf("%w: Jovian extra data %x is not version 1 of 17 bytes", ErrL2BlockSystemConfig, extra)
		}
		sys.MinBaseFee = binary.BigEndian.Uint64(extra[9:17])
		sys.DAFootprintGasScalar = info.DAFootprintGasScalar
	case cfg.IsHolocene(t):
		if len(extra) != 9 || extra[0] != sysCfgHoloceneExtraVersion {
			return rollup.SystemConfig{}, fmt.Errorf("%w: Holocene extra data %x is not version 0 of 9 bytes", ErrL2BlockSystemConfig, extra)
		}
	default:
		if len(extra) != 0 {
			return rollup.SystemConfig{}, fmt.Errorf("%w: extra data %x before Holocene", ErrL2BlockSystemConfig, extra)
		}
	}
	if cfg.IsHolocene(t) {
		if binary.BigEndian.Uint32(extra[1:5]) == 0 || binary.BigEndian.Uint32(extra[5:9]) == 0 {
			return rollup.SystemConfig{}, fmt.Errorf("%w: extra data %x has a zero EIP-1559 denominator or elasticity", ErrL2BlockSystemConfig, extra)
		}
		copy(sys.EIP1559Params[:], extra[1:9])
	}
	if cfg.IsIsthmus(t) {
		sys.OperatorFeeParams = EncodeOperatorFeeParams(info.OperatorFeeScalar, info.OperatorFeeConstant)
	}
	return sys, nil
}

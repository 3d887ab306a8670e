package derive

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/faultproof/faultproof/rollup"
)

// System config updates (specs/protocol/system-config.md "System Config Updates" and the holocene,
// isthmus and jovian system-config pages): the L1 SystemConfig contract emits
//
//	event ConfigUpdate(uint256 indexed version, uint8 indexed updateType, bytes data)
//
// and derivation applies version-0 updates, log by log, to its copy of the system config. An update that
// cannot be parsed is skipped: it is not applied, and derivation goes on.

var (
	// ConfigUpdateEventTopic is topic 0 of ConfigUpdate logs.
	ConfigUpdateEventTopic = crypto.Keccak256Hash([]byte("ConfigUpdate(uint256,uint8,bytes)"))
	// ConfigUpdateEventVersion0 is the only update version.
	ConfigUpdateEventVersion0 = common.Hash{}
)

// SystemConfigUpdateType is the updateType topic of a ConfigUpdate log.
type SystemConfigUpdateType uint8

// The update types of version 0.
const (
	SystemConfigUpdateBatcher              SystemConfigUpdateType = 0
	SystemConfigUpdateFeeScalars           SystemConfigUpdateType = 1
	SystemConfigUpdateGasLimit             SystemConfigUpdateType = 2
	SystemConfigUpdateUnsafeBlockSigner    SystemConfigUpdateType = 3
	SystemConfigUpdateEIP1559Params        SystemConfigUpdateType = 4
	SystemConfigUpdateOperatorFeeParams    SystemConfigUpdateType = 5
	SystemConfigUpdateMinBaseFee           SystemConfigUpdateType = 6
	SystemConfigUpdateDAFootprintGasScalar SystemConfigUpdateType = 7
)

// Topic is the update type as its log topic.
func (t SystemConfigUpdateType) Topic() common.Hash { return common.Hash{31: byte(t)} }

// Errors of system config updates. All of them mean the update is skipped.
var (
	ErrSysCfgMalformedLog   = errors.New("malformed system config update log")
	ErrSysCfgUnknownVersion = errors.New("unknown system config update version")
	ErrSysCfgUnknownType    = errors.New("unknown system config update type")
	ErrSysCfgMalformedData  = errors.New("malformed system config update data")
	ErrSysCfgEIP1559Params  = errors.New("invalid EIP-1559 parameters")
)

// sysCfgPayload checks the ABI envelope of an update's data, a single dynamic bytes value: offset word 32,
// then a length word of exactly wantLen, then exactly that many bytes. It returns the content.
func sysCfgPayload(data []byte, wantLen uint64) ([]byte, error) {
	if uint64(len(data)) != 64+wantLen {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrSysCfgMalformedData, len(data), 64+wantLen)
	}
	if !l1InfoZero(data[:24]) || binary.BigEndian.Uint64(data[24:32]) != 32 {
		return nil, fmt.Errorf("%w: invalid pointer field", ErrSysCfgMalformedData)
	}
	if !l1InfoZero(data[32:56]) || binary.BigEndian.Uint64(data[56:64]) != wantLen {
		return nil, fmt.Errorf("%w: invalid length field", ErrSysCfgMalformedData)
	}
	return data[64:], nil
}

// sysCfgUintWord reads a 32-byte word holding an unsigned integer of the given byte width: the bytes
// before it must be zero.
func sysCfgUintWord(w []byte, width int, what string) (uint64, error) {
	if !l1InfoZero(w[:32-width]) {
		return 0, fmt.Errorf("%w: %s has non-zero padding", ErrSysCfgMalformedData, what)
	}
	var v uint64
	for _, b := range w[32-width : 32] {
		v = v<<8 | uint64(b)
	}
	return v, nil
}

// sysCfgValidEcotoneScalar reports whether a post-Ecotone fee scalars update may replace the scalar: a
// known version with all-zero padding. Unlike EcotoneScalars, which reads a version-0 scalar with non-zero
// padding (as the pre-Ecotone value carried over) as base fee scalar MaxUint32, an update with such a
// scalar is ignored, as op-node does.
func sysCfgValidEcotoneScalar(scalar common.Hash) bool {
	switch scalar[0] {
	case L1ScalarVersionBedrock:
		return l1InfoZero(scalar[1:28])
	case L1ScalarVersionEcotone:
		return l1InfoZero(scalar[1:24])
	}
	return false
}

// ProcessSystemConfigUpdateLogEvent applies one ConfigUpdate log to sysCfg. On error sysCfg may be
// partly written; ProcessSystemConfigUpdates works on a copy. l1Time is the time of the L1 block holding
// the log: from Ecotone (by that time) the fee scalars update keeps only a valid versioned scalar.
func ProcessSystemConfigUpdateLogEvent(cfg *rollup.Config, sysCfg *rollup.SystemConfig, ev *types.Log, l1Time uint64) error {
	if len(ev.Topics) != 3 {
		return fmt.Errorf("%w: %d topics, want 3", ErrSysCfgMalformedLog, len(ev.Topics))
	}
	if ev.Topics[0] != ConfigUpdateEventTopic {
		return fmt.Errorf("%w: event topic %s is not ConfigUpdate", ErrSysCfgMalformedLog, ev.Topics[0])
	}
	if ev.Topics[1] != ConfigUpdateEventVersion0 {
		return fmt.Errorf("%w: %s", ErrSysCfgUnknownVersion, ev.Topics[1])
	}
	typ := ev.Topics[2]
	if !l1InfoZero(typ[:31]) || typ[31] > byte(SystemConfigUpdateDAFootprintGasScalar) {
		return fmt.Errorf("%w: %s", ErrSysCfgUnknownType, typ)
	}
	switch SystemConfigUpdateType(typ[31]) {
	case SystemConfigUpdateBatcher:
		w, err := sysCfgPayload(ev.Data, 32)
		if err != nil {
			return err
		}
		if !l1InfoZero(w[:12]) {
			return fmt.Errorf("%w: batcher hash is not a version-0 address", ErrSysCfgMalformedData)
		}
		sysCfg.BatcherAddr = common.BytesToAddress(w[12:32])
	case SystemConfigUpdateFeeScalars:
		w, err := sysCfgPayload(ev.Data, 64)
		if err != nil {
			return err
		}
		overhead, scalar := common.BytesToHash(w[:32]), common.BytesToHash(w[32:64])
		if cfg.IsEcotone(l1Time) {
			if !sysCfgValidEcotoneScalar(scalar) {
				return nil // an invalid scalar is ignored: the previous one stays
			}
			sysCfg.Overhead = common.Hash{} // no longer used from Ecotone
			sysCfg.Scalar = scalar
		} else {
			sysCfg.Overhead = overhead
			sysCfg.Scalar = scalar
		}
	case SystemConfigUpdateGasLimit:
		w, err := sysCfgPayload(ev.Data, 32)
		if err != nil {
			return err
		}
		gasLimit, err := sysCfgUintWord(w, 8, "gas limit")
		if err != nil {
			return err
		}
		sysCfg.GasLimit = gasLimit
	case SystemConfigUpdateUnsafeBlockSigner:
		// Not a derivation input (it only gates unsafe-block gossip); the log is accepted as is.
	case SystemConfigUpdateEIP1559Params:
		w, err := sysCfgPayload(ev.Data, 32)
		if err != nil {
			return err
		}
		// Only the low 8 bytes are read: denominator (4 bytes), elasticity (4 bytes). Either both are zero
		// (use the chain defaults) or neither is.
		denom, elasticity := binary.BigEndian.Uint32(w[24:28]), binary.BigEndian.Uint32(w[28:32])
		if (denom == 0) != (elasticity == 0) {
			return fmt.Errorf("%w: denominator %d, elasticity %d", ErrSysCfgEIP1559Params, denom, elasticity)
		}
		copy(sysCfg.EIP1559Params[:], w[24:32])
	case SystemConfigUpdateOperatorFeeParams:
		w, err := sysCfgPayload(ev.Data, 32)
		if err != nil {
			return err
		}
		sysCfg.OperatorFeeParams = common.BytesToHash(w[:32])
	case SystemConfigUpdateMinBaseFee:
		w, err := sysCfgPayload(ev.Data, 32)
		if err != nil {
			return err
		}
		minBaseFee, err := sysCfgUintWord(w, 8, "min base fee")
		if err != nil {
			return err
		}
		sysCfg.MinBaseFee = minBaseFee
	case SystemConfigUpdateDAFootprintGasScalar:
		w, err := sysCfgPayload(ev.Data, 32)
		if err != nil {
			return err
		}
		scalar, err := sysCfgUintWord(w, 2, "DA footprint gas scalar")
		if err != nil {
			return err
		}
		sysCfg.DAFootprintGasScalar = uint16(scalar)
	}
	return nil
}

// ProcessSystemConfigUpdates applies, in log order, the ConfigUpdate logs that the rollup's L1 system config
// contract emitted in the successful receipts of an L1 block at time l1Time. Malformed updates are skipped
// and reported together in the returned error, which is informational: the updates that could be applied
// have been, and derivation must go on with sysCfg.
func ProcessSystemConfigUpdates(cfg *rollup.Config, sysCfg *rollup.SystemConfig, receipts types.Receipts, l1Time uint64) error {
	var errs []error
	for i, rec := range receipts {
		if rec == nil || rec.Status != types.ReceiptStatusSuccessful {
			continue
		}
		for j, ev := range rec.Logs {
			if ev == nil || ev.Address != cfg.L1SystemConfigAddress || len(ev.Topics) == 0 || ev.Topics[0] != ConfigUpdateEventTopic {
				continue
			}
			updated := *sysCfg
			if err := ProcessSystemConfigUpdateLogEvent(cfg, &updated, ev, l1Time); err != nil {
				errs = append(errs, fmt.Errorf("receipt %d, log %d: %w", i, j, err))
				continue
			}
			*sysCfg = updated
		}
	}
	return errors.Join(errs...)
}

package rollup

import (
	"encoding/json"
	"errors"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// PayloadAttributes is what derivation hands the execution engine for one L2 block: the Engine API's
// payload attributes with the OP Stack's fields (forced transactions, gas limit, Holocene's EIP-1559
// parameters, Jovian's minimum base fee).
//
// It has the fields of op-geth's beacon/engine.PayloadAttributes, in the same order and with the same JSON,
// so that (*engine.PayloadAttributes)(a) hands it to op-geth where a caller outside the program needs that.
// It is ours because the program must not link beacon/engine, which brings op-geth's RPC stack (HTTP,
// websocket, telemetry) into the MIPS ELF.
type PayloadAttributes struct {
	Timestamp             uint64
	Random                common.Hash // prevRandao
	SuggestedFeeRecipient common.Address
	Withdrawals           []*types.Withdrawal
	BeaconRoot            *common.Hash // parentBeaconBlockRoot
	SlotNumber            *uint64
	TargetGasLimit        *uint64

	// Transactions are forced into the block, in order: deposits first, then the batch's.
	Transactions [][]byte
	// NoTxPool says the block holds only Transactions (always true for a derived block).
	NoTxPool bool
	// GasLimit is the block's exact gas limit, from the system config.
	GasLimit *uint64
	// EIP1559Params are Holocene's encoded denominator and elasticity (8 bytes), from the system config.
	EIP1559Params []byte
	// MinBaseFee is Jovian's minimum base fee, from the system config.
	MinBaseFee *uint64
}

// payloadAttributesJSON is the Engine API's JSON form (op-geth's): quantities in hex, except minBaseFee,
// which op-geth writes as a decimal number.
type payloadAttributesJSON struct {
	Timestamp             *hexutil.Uint64     `json:"timestamp"`
	Random                *common.Hash        `json:"prevRandao"`
	SuggestedFeeRecipient *common.Address     `json:"suggestedFeeRecipient"`
	Withdrawals           []*types.Withdrawal `json:"withdrawals"`
	BeaconRoot            *common.Hash        `json:"parentBeaconBlockRoot"`
	SlotNumber            *hexutil.Uint64     `json:"slotNumber"`
	TargetGasLimit        *hexutil.Uint64     `json:"targetGasLimit"`
	Transactions          []hexutil.Bytes     `json:"transactions,omitempty"`
	NoTxPool              bool                `json:"noTxPool,omitempty"`
	GasLimit              *hexutil.Uint64     `json:"gasLimit,omitempty"`
	EIP1559Params         *hexutil.Bytes      `json:"eip1559Params,omitempty"`
	MinBaseFee            *uint64             `json:"minBaseFee,omitempty"`
}

// MarshalJSON writes the attributes as op-geth does.
func (a PayloadAttributes) MarshalJSON() ([]byte, error) {
	ts := hexutil.Uint64(a.Timestamp)
	enc := payloadAttributesJSON{
		Timestamp:             &ts,
		Random:                &a.Random,
		SuggestedFeeRecipient: &a.SuggestedFeeRecipient,
		Withdrawals:           a.Withdrawals,
		BeaconRoot:            a.BeaconRoot,
		SlotNumber:            (*hexutil.Uint64)(a.SlotNumber),
		TargetGasLimit:        (*hexutil.Uint64)(a.TargetGasLimit),
		NoTxPool:              a.NoTxPool,
		GasLimit:              (*hexutil.Uint64)(a.GasLimit),
		MinBaseFee:            a.MinBaseFee,
	}
	if len(a.EIP1559Params) > 0 {
		enc.EIP1559Params = (*hexutil.Bytes)(&a.EIP1559Params)
	}
	if a.Transactions != nil {
		enc.Transactions = make([]hexutil.Bytes, len(a.Transactions))
		for i, tx := range a.Transactions {
			enc.Transactions[i] = tx
		}
	}
	return json.Marshal(&enc)
}

// UnmarshalJSON reads the attributes as op-geth does: timestamp, prevRandao and suggestedFeeRecipient are
// required.
func (a *PayloadAttributes) UnmarshalJSON(data []byte) error {
	var dec payloadAttributesJSON
	if err := json.Unmarshal(data, &dec); err != nil {
		return err
	}
	switch {
	case dec.Timestamp == nil:
		return errors.New("payload attributes: missing required field timestamp")
	case dec.Random == nil:
		return errors.New("payload attributes: missing required field prevRandao")
	case dec.SuggestedFeeRecipient == nil:
		return errors.New("payload attributes: missing required field suggestedFeeRecipient")
	}
	*a = PayloadAttributes{
		Timestamp:             uint64(*dec.Timestamp),
		Random:                *dec.Random,
		SuggestedFeeRecipient: *dec.SuggestedFeeRecipient,
		Withdrawals:           dec.Withdrawals,
		BeaconRoot:            dec.BeaconRoot,
		SlotNumber:            (*uint64)(dec.SlotNumber),
		TargetGasLimit:        (*uint64)(dec.TargetGasLimit),
		NoTxPool:              dec.NoTxPool,
		GasLimit:              (*uint64)(dec.GasLimit),
		MinBaseFee:            dec.MinBaseFee,
	}
	if dec.EIP1559Params != nil {
		a.EIP1559Params = *dec.EIP1559Params
	}
	if dec.Transactions != nil {
		a.Transactions = make([][]byte, len(dec.Transactions))
		for i, tx := range dec.Transactions {
			a.Transactions[i] = tx
		}
	}
	return nil
}

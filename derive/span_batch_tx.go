package derive

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"
)

// A span batch keeps, per transaction, only the fields that are not stored column-wise (nonce, gas, to and
// the signature are); tx_datas holds the rest, RLP-encoded like the transaction's EIP-2718 payload
// (delta/span-batches.md; isthmus/derivation.md "Span Batch Updates"):
//
//	legacy: rlp_encode(value, gasPrice, data)
//	1:      0x01 ++ rlp_encode(value, gasPrice, data, accessList)
//	2:      0x02 ++ rlp_encode(value, max_priority_fee_per_gas, max_fee_per_gas, data, access_list)
//	4:      0x04 ++ rlp_encode(value, max_priority_fee_per_gas, max_fee_per_gas, data, access_list,
//	                           authorization_list)
//
// op-node also carries post-exec transactions (types.PostExecTxType, 0x7D; not in the specs), op-geth's
// synthetic, unsigned transactions of op-node's "SDM" feature, which batch validation only accepts from
// Lagoon: 0x7D ++ an RLP list, which is the whole transaction. They have no signature, nonce, gas or
// recipient; the column fields are ignored. op-node v1.19.6 decodes them in span batches whatever the
// fork, so we do too: refusing them at decoding instead would drop different data than op-node on a
// Holocene chain (a batch dropped by validation also drops the rest of its channel there).

// Errors of span batch transactions.
var (
	ErrTxDataNotList     = errors.New("tx_data is not an RLP list")
	ErrTxDataTooLarge    = errors.New("tx_data exceeds the span batch element bound")
	ErrUnsupportedTxType = errors.New("transaction type not supported in span batches")
	ErrSetCodeNoTo       = errors.New("set-code transaction without a recipient")
	ErrChainIDTooLarge   = errors.New("chain ID does not fit in 256 bits")
)

type spanLegacyTxData struct {
	Value    *big.Int
	GasPrice *big.Int
	Data     []byte
}

type spanAccessListTxData struct {
	Value      *big.Int
	GasPrice   *big.Int
	Data       []byte
	AccessList types.AccessList
}

type spanDynamicFeeTxData struct {
	Value      *big.Int
	GasTipCap  *big.Int // max_priority_fee_per_gas
	GasFeeCap  *big.Int // max_fee_per_gas
	Data       []byte
	AccessList types.AccessList
}

type spanSetCodeTxData struct {
	Value             *uint256.Int
	GasTipCap         *uint256.Int
	GasFeeCap         *uint256.Int
	Data              []byte
	AccessList        types.AccessList
	AuthorizationList []types.SetCodeAuthorization
}

// readSpanTxData reads one tx_datas element: an optional type byte (a first byte up to 0x7f is a type; a legacy
// tx_data starts with its list header) followed by one RLP list. typ is 0 for legacy and for a literal 0x00
// type byte (op-node counts both as legacy when it sizes protected_bits; the latter fails derivation).
// The returned bytes share memory with the input.
func readSpanTxData(c *spanCursor) (txData []byte, typ byte, err error) {
	if c.remaining() == 0 {
		return nil, 0, fmt.Errorf("tx_data: %w", ErrSpanBatchTruncated)
	}
	start := 0
	if c.buf[0] <= 0x7f {
		typ, start = c.buf[0], 1
	}
	kind, _, rest, err := rlp.Split(c.buf[start:])
	if err != nil {
		return nil, 0, fmt.Errorf("tx_data: %w", err)
	}
	if kind != rlp.List {
		return nil, 0, ErrTxDataNotList
	}
	n := len(c.buf) - len(rest)
	// op-node reads the list through an RLP stream bounded by MAX_SPAN_BATCH_ELEMENT_COUNT bytes.
	if n-start > MaxSpanBatchElementCount {
		return nil, 0, fmt.Errorf("%w: %d bytes", ErrTxDataTooLarge, n-start)
	}
	txData, err = c.take(uint64(n), "tx_data")
	return txData, typ, err
}

// spanTxEnvelope holds a transaction's column fields.
type spanTxEnvelope struct {
	nonce, gas uint64
	to         *common.Address
	yParity    bool
	protected  bool // legacy only: EIP-155 replay protection
	r, s       [32]byte
}

// spanFullTx rebuilds the signed transaction's EIP-2718 encoding from its tx_data and column fields.
func spanFullTx(txData []byte, env *spanTxEnvelope, chainID *big.Int) ([]byte, error) {
	if len(txData) == 0 {
		return nil, fmt.Errorf("tx_data: %w", ErrSpanBatchTruncated)
	}
	yParity := uint64(0)
	if env.yParity {
		yParity = 1
	}
	r, s := new(big.Int).SetBytes(env.r[:]), new(big.Int).SetBytes(env.s[:])
	var inner types.TxData
	switch typ := txData[0]; {
	case typ > 0x7f:
		var d spanLegacyTxData
		if err := rlp.DecodeBytes(txData, &d); err != nil {
			return nil, fmt.Errorf("legacy tx_data: %w", err)
		}
		var v *big.Int
		if env.protected { // EIP-155: v = 2*chainID + 35 + y_parity
			v = new(big.Int).Lsh(chainID, 1)
			v.Add(v, big.NewInt(int64(35+yParity)))
		} else {
			v = big.NewInt(int64(27 + yParity))
		}
		inner = &types.LegacyTx{
			Nonce: env.nonce, GasPrice: d.GasPrice, Gas: env.gas, To: env.to, Value: d.Value, Data: d.Data,
			V: v, R: r, S: s,
		}
	case typ == types.AccessListTxType:
		var d spanAccessListTxData
		if err := rlp.DecodeBytes(txData[1:], &d); err != nil {
			return nil, fmt.Errorf("access-list tx_data: %w", err)
		}
		inner = &types.AccessListTx{
			ChainID: chainID, Nonce: env.nonce, GasPrice: d.GasPrice, Gas: env.gas, To: env.to,
			Value: d.Value, Data: d.Data, AccessList: d.AccessList,
			V: new(big.Int).SetUint64(yParity), R: r, S: s,
		}
	case typ == types.DynamicFeeTxType:
		var d spanDynamicFeeTxData
		if err := rlp.DecodeBytes(txData[1:], &d); err != nil {
			return nil, fmt.Errorf("dynamic-fee tx_data: %w", err)
		}
		inner = &types.DynamicFeeTx{
			ChainID: chainID, Nonce: env.nonce, GasTipCap: d.GasTipCap, GasFeeCap: d.GasFeeCap, Gas: env.gas,
			To: env.to, Value: d.Value, Data: d.Data, AccessList: d.AccessList,
			V: new(big.Int).SetUint64(yParity), R: r, S: s,
		}
	case typ == types.SetCodeTxType:
		var d spanSetCodeTxData
		if err := rlp.DecodeBytes(txData[1:], &d); err != nil {
			return nil, fmt.Errorf("set-code tx_data: %w", err)
		}
		if env.to == nil {
			return nil, ErrSetCodeNoTo
		}
		id, overflow := uint256.FromBig(chainID)
		if overflow {
			return nil, ErrChainIDTooLarge
		}
		inner = &types.SetCodeTx{
			ChainID: id, Nonce: env.nonce, GasTipCap: d.GasTipCap, GasFeeCap: d.GasFeeCap, Gas: env.gas,
			To: *env.to, Value: d.Value, Data: d.Data, AccessList: d.AccessList, AuthList: d.AuthorizationList,
			V: uint256.NewInt(yParity), R: new(uint256.Int).SetBytes32(env.r[:]),
			S: new(uint256.Int).SetBytes32(env.s[:]),
		}
	case typ == types.PostExecTxType:
		// The tx_data (type byte and one RLP list, as readSpanTxData checked) is the whole transaction.
		return append([]byte{}, txData...), nil
	default:
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedTxType, typ)
	}
	return types.NewTx(inner).MarshalBinary()
}

// spanTxData is the tx_data of a signed transaction (the encoder side of spanFullTx).
func spanTxData(tx *types.Transaction) ([]byte, error) {
	var fields any
	switch tx.Type() {
	case types.LegacyTxType:
		return rlp.EncodeToBytes(&spanLegacyTxData{Value: tx.Value(), GasPrice: tx.GasPrice(), Data: tx.Data()})
	case types.AccessListTxType:
		fields = &spanAccessListTxData{
			Value: tx.Value(), GasPrice: tx.GasPrice(), Data: tx.Data(), AccessList: tx.AccessList(),
		}
	case types.DynamicFeeTxType:
		fields = &spanDynamicFeeTxData{
			Value: tx.Value(), GasTipCap: tx.GasTipCap(), GasFeeCap: tx.GasFeeCap(), Data: tx.Data(),
			AccessList: tx.AccessList(),
		}
	case types.SetCodeTxType:
		value, o1 := uint256.FromBig(tx.Value())
		tip, o2 := uint256.FromBig(tx.GasTipCap())
		feeCap, o3 := uint256.FromBig(tx.GasFeeCap())
		if o1 || o2 || o3 {
			return nil, errors.New("set-code transaction value or fee does not fit in 256 bits")
		}
		fields = &spanSetCodeTxData{
			Value: value, GasTipCap: tip, GasFeeCap: feeCap, Data: tx.Data(), AccessList: tx.AccessList(),
			AuthorizationList: tx.SetCodeAuthorizations(),
		}
	default:
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedTxType, tx.Type())
	}
	payload, err := rlp.EncodeToBytes(fields)
	if err != nil {
		return nil, err
	}
	return append([]byte{tx.Type()}, payload...), nil
}

// Package wire holds the answers of the nodes an online host reads, as Go types: an L1 or L2 execution
// node's JSON-RPC answers (blocks, transactions, receipts, account proofs, execution witnesses) and an L1
// beacon node's REST answers (genesis, spec, blob sidecars, blobs). host/sources decodes them and checks
// what it decoded; devnet's server encodes them. The shapes are geth's, op-geth's and the beacon API's.
//
// A block decodes into its header and raw transaction list, a transaction and a receipt into op-geth's
// types: what geth's RPC adds around them that op-geth's types do not hold (a block's size and uncles, a
// transaction's block and index, a receipt's sender and recipient) is written for a node's clients and not
// read back, so that a node's quirks there cannot fail a fetch.
package wire

import (
	"bytes"
	"encoding/json"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// Block is an eth_getBlockByHash or eth_getBlockByNumber answer: the header's fields (and its hash) beside
// the block's size, transactions, uncle hashes and, from Shanghai, withdrawals. Decoding reads the header
// and the transactions only.
type Block struct {
	Header *types.Header
	// Transactions are transaction objects (Transaction) when the block was asked for in full, else
	// transaction hashes.
	Transactions []json.RawMessage
	Size         hexutil.Uint64
	Uncles       []common.Hash
	Withdrawals  types.Withdrawals // nil: no withdrawals field
}

// MarshalJSON writes the block as geth does: the header's optional fields that are absent are left out.
func (b Block) MarshalJSON() ([]byte, error) {
	fields, err := jsonObject(b.Header)
	if err != nil {
		return nil, err
	}
	dropNull(fields)
	fields["size"] = b.Size
	fields["transactions"] = nonNil(b.Transactions)
	fields["uncles"] = nonNil(b.Uncles)
	if b.Withdrawals != nil {
		fields["withdrawals"] = b.Withdrawals
	}
	return json.Marshal(fields)
}

// UnmarshalJSON reads the header and the raw transaction entries.
func (b *Block) UnmarshalJSON(data []byte) error {
	var h types.Header
	if err := json.Unmarshal(data, &h); err != nil {
		return err
	}
	var body struct {
		Transactions []json.RawMessage `json:"transactions"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return err
	}
	b.Header, b.Transactions = &h, body.Transactions
	return nil
}

// Transaction is a mined transaction as geth's RPC shows it (eth_getTransactionByHash, a full block's
// transactions): its JSON encoding with its block, index and sender, the price it paid, and for deposits
// the nonce and receipt version of its receipt. Decoding reads the transaction only.
type Transaction struct {
	Tx          *types.Transaction
	From        common.Address
	BlockHash   common.Hash
	BlockNumber uint64
	BlockTime   uint64
	Index       uint64
	// BaseFee is the block's base fee (nil before London): an EIP-1559 transaction's gasPrice is what it
	// paid per gas.
	BaseFee *big.Int
	// DepositNonce and DepositReceiptVersion are a deposit's, from its receipt (nil before Regolith and
	// Canyon).
	DepositNonce          *uint64
	DepositReceiptVersion *uint64
}

// effectiveGasPrice is what an EIP-1559 transaction paid per gas in a block with the given base fee.
func effectiveGasPrice(tx *types.Transaction, baseFee *big.Int) *big.Int {
	price := new(big.Int).Add(tx.GasTipCap(), baseFee)
	if tx.GasFeeCapIntCmp(price) < 0 {
		return tx.GasFeeCap()
	}
	return price
}

// MarshalJSON writes the transaction as geth's RPC does; a blob transaction without its sidecar.
func (t Transaction) MarshalJSON() ([]byte, error) {
	tx := t.Tx.WithoutBlobTxSidecar()
	m, err := jsonObject(tx)
	if err != nil {
		return nil, err
	}
	dropNull(m, "maxPriorityFeePerGas", "maxFeePerGas")
	m["from"] = t.From
	m["blockHash"] = t.BlockHash
	m["blockNumber"] = (*hexutil.Big)(new(big.Int).SetUint64(t.BlockNumber))
	m["blockTimestamp"] = hexutil.Uint64(t.BlockTime)
	m["transactionIndex"] = hexutil.Uint64(t.Index)
	switch tx.Type() {
	case types.DynamicFeeTxType, types.BlobTxType, types.SetCodeTxType:
		if t.BaseFee != nil {
			m["gasPrice"] = (*hexutil.Big)(effectiveGasPrice(tx, t.BaseFee))
		}
	case types.DepositTxType:
		zero := (*hexutil.Big)(new(big.Int))
		m["gasPrice"], m["v"], m["r"], m["s"] = zero, zero, zero, zero
		if !tx.IsSystemTx() {
			delete(m, "isSystemTx")
		}
		m["nonce"] = hexutil.Uint64(0)
		if t.DepositNonce != nil {
			m["nonce"] = hexutil.Uint64(*t.DepositNonce)
			if t.DepositReceiptVersion != nil {
				m["depositReceiptVersion"] = hexutil.Uint64(*t.DepositReceiptVersion)
			}
		}
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads the transaction (op-geth's JSON decoding, which checks the signature's shape).
func (t *Transaction) UnmarshalJSON(data []byte) error {
	tx := new(types.Transaction)
	if err := json.Unmarshal(data, tx); err != nil {
		return err
	}
	t.Tx = tx
	return nil
}

// Receipt is a receipt as eth_getBlockReceipts and eth_getTransactionReceipt answer: op-geth's receipt
// JSON (with the fields op-geth derives from the block: hashes, numbers, prices, log positions) and its
// transaction's sender and recipient, keeping only the fields of the transaction's kind. Decoding reads
// the receipt only.
type Receipt struct {
	Receipt *types.Receipt
	From    common.Address
	To      *common.Address // nil for a contract creation
}

// opReceiptFields are the OP Stack's L1-fee fields of a user transaction's receipt.
var opReceiptFields = []string{"l1GasPrice", "l1GasUsed", "l1Fee", "l1FeeScalar", "l1BlobBaseFee", "l1BaseFeeScalar",
	"l1BlobBaseFeeScalar", "operatorFeeScalar", "operatorFeeConstant", "daFootprintGasScalar"}

// MarshalJSON writes the receipt as geth's RPC does: status or post-state root, the blob gas fields of a
// blob transaction (and of an OP Stack user transaction from Jovian, as its DA footprint), the deposit
// fields of a deposit, the L1 fee fields of any other transaction.
func (r Receipt) MarshalJSON() ([]byte, error) {
	rc := r.Receipt
	m, err := jsonObject(rc)
	if err != nil {
		return nil, err
	}
	m["blockHash"] = rc.BlockHash
	m["blockNumber"] = hexutil.Uint64(rc.BlockNumber.Uint64())
	m["transactionHash"] = rc.TxHash
	m["transactionIndex"] = hexutil.Uint64(rc.TransactionIndex)
	m["from"] = r.From
	m["to"] = r.To
	m["type"] = hexutil.Uint(rc.Type)
	if rc.ContractAddress == (common.Address{}) {
		m["contractAddress"] = nil
	}
	if len(rc.PostState) > 0 {
		delete(m, "status")
	} else {
		delete(m, "root")
		m["status"] = hexutil.Uint(rc.Status)
	}
	if rc.Logs == nil {
		m["logs"] = []*types.Log{}
	}
	delete(m, "blobGasUsed")
	delete(m, "blobGasPrice")
	switch rc.Type {
	case types.BlobTxType:
		m["blobGasUsed"] = hexutil.Uint64(rc.BlobGasUsed)
		m["blobGasPrice"] = (*hexutil.Big)(rc.BlobGasPrice)
	case types.DepositTxType:
		for _, k := range opReceiptFields {
			delete(m, k)
		}
	default:
		delete(m, "depositNonce")
		delete(m, "depositReceiptVersion")
		if rc.DAFootprintGasScalar != nil { // Jovian: blob gas used is the DA footprint
			m["blobGasUsed"] = hexutil.Uint64(rc.BlobGasUsed)
		}
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads the receipt (op-geth's JSON decoding).
func (r *Receipt) UnmarshalJSON(data []byte) error {
	rc := new(types.Receipt)
	if err := json.Unmarshal(data, rc); err != nil {
		return err
	}
	r.Receipt = rc
	return nil
}

// StorageProof is one storage slot of an AccountProof.
type StorageProof struct {
	// Key is the slot as asked for when it was 32 bytes, else as a quantity (geth's convention).
	Key   string          `json:"key"`
	Value *hexutil.Big    `json:"value"`
	Proof []hexutil.Bytes `json:"proof"`
}

// AccountProof is an eth_getProof answer (EIP-1186): an account and storage slots in the state after a
// block, with their Merkle proofs (root first).
type AccountProof struct {
	Address      common.Address  `json:"address"`
	AccountProof []hexutil.Bytes `json:"accountProof"`
	Balance      *hexutil.Big    `json:"balance"`
	CodeHash     common.Hash     `json:"codeHash"`
	Nonce        hexutil.Uint64  `json:"nonce"`
	StorageHash  common.Hash     `json:"storageHash"`
	StorageProof []StorageProof  `json:"storageProof"`
}

// ExecutionWitness is a debug_executePayload answer: the state trie nodes and contract code executing a
// payload read, each the preimage of its keccak256 hash (keys, the hashed keys, may be empty).
type ExecutionWitness struct {
	Keys  WitnessValues `json:"keys"`
	Codes WitnessValues `json:"codes"`
	State WitnessValues `json:"state"`
}

// WitnessValues are preimages of a witness: a list of hex byte strings, or (from older nodes) an object
// of them keyed by hash, which decodes in no particular order.
type WitnessValues []hexutil.Bytes

// UnmarshalJSON reads either form; null is no values.
func (w *WitnessValues) UnmarshalJSON(data []byte) error {
	var list []hexutil.Bytes
	if data = bytes.TrimSpace(data); len(data) > 0 && data[0] == '{' {
		var m map[string]hexutil.Bytes
		if err := json.Unmarshal(data, &m); err != nil {
			return err
		}
		for _, v := range m {
			list = append(list, v)
		}
	} else if err := json.Unmarshal(data, &list); err != nil {
		return err
	}
	*w = list
	return nil
}

// nonNil is s, or an empty slice for nil (JSON [] rather than null).
func nonNil[S ~[]E, E any](s S) S {
	if s == nil {
		return S{}
	}
	return s
}

// jsonObject encodes v with its JSON encoding and returns the object's fields.
func jsonObject(v any) (map[string]any, error) {
	enc, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(enc, &raw); err != nil {
		return nil, err
	}
	out := make(map[string]any, len(raw)+8)
	for k, v := range raw {
		out[k] = v
	}
	return out, nil
}

// dropNull removes the given fields when they are JSON null (all null fields if none are given).
func dropNull(m map[string]any, keys ...string) {
	isNull := func(v any) bool { raw, ok := v.(json.RawMessage); return ok && string(raw) == "null" }
	if len(keys) == 0 {
		for k, v := range m {
			if isNull(v) {
				delete(m, k)
			}
		}
		return
	}
	for _, k := range keys {
		if isNull(m[k]) {
			delete(m, k)
		}
	}
}

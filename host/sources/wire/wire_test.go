package wire

import (
	"encoding/json"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/stretchr/testify/require"
)

// fields decodes a JSON object's fields.
func fields(t *testing.T, v any) map[string]json.RawMessage {
	t.Helper()
	enc, err := json.Marshal(v)
	require.NoError(t, err)
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(enc, &m))
	return m
}

func TestBlock(t *testing.T) {
	h := &types.Header{Number: big.NewInt(7), GasLimit: 30_000_000, Time: 1_700_000_084, BaseFee: big.NewInt(7), Difficulty: new(big.Int)}
	tx := types.NewTx(&types.LegacyTx{Nonce: 1, GasPrice: big.NewInt(9), Gas: 21000, To: &common.Address{1}, V: big.NewInt(27), R: big.NewInt(1), S: big.NewInt(1)})
	txJSON, err := json.Marshal(Transaction{Tx: tx, BlockNumber: 7})
	require.NoError(t, err)
	b := Block{Header: h, Size: 600, Transactions: []json.RawMessage{txJSON}}
	m := fields(t, b)
	require.JSONEq(t, `"`+h.Hash().Hex()+`"`, string(m["hash"]))
	require.JSONEq(t, `"0x258"`, string(m["size"]))
	require.JSONEq(t, `[]`, string(m["uncles"]), "no uncles is an empty list")
	require.NotContains(t, m, "withdrawals", "no withdrawals field before Shanghai")
	require.NotContains(t, m, "blobGasUsed", "absent optional header fields are left out")
	m = fields(t, Block{Header: h, Withdrawals: types.Withdrawals{}})
	require.JSONEq(t, `[]`, string(m["withdrawals"]))
	require.JSONEq(t, `[]`, string(m["transactions"]))

	// Decoding reads the header and the transactions; what geth adds around them is not read.
	m = fields(t, b)
	m["size"], m["uncles"] = json.RawMessage(`"big"`), json.RawMessage(`{}`)
	enc, err := json.Marshal(m)
	require.NoError(t, err)
	var back Block
	require.NoError(t, json.Unmarshal(enc, &back))
	require.Equal(t, h.Hash(), back.Header.Hash())
	require.Len(t, back.Transactions, 1)
	var backTx Transaction
	require.NoError(t, json.Unmarshal(back.Transactions[0], &backTx))
	require.Equal(t, tx.Hash(), backTx.Tx.Hash())
	require.Error(t, json.Unmarshal([]byte(`{"number":"0x1","transactions":5}`), &back), "a malformed list")
}

func TestTransaction(t *testing.T) {
	key, err := crypto.GenerateKey()
	require.NoError(t, err)
	signer := types.LatestSignerForChainID(big.NewInt(901))
	dyn := types.MustSignNewTx(key, signer, &types.DynamicFeeTx{ChainID: big.NewInt(901), GasTipCap: big.NewInt(2), GasFeeCap: big.NewInt(100), Gas: 21000, To: &common.Address{2}})
	m := fields(t, Transaction{Tx: dyn, From: common.Address{9}, BlockHash: common.Hash{1}, BlockNumber: 5, BlockTime: 10, Index: 3, BaseFee: big.NewInt(50)})
	require.JSONEq(t, `"0x34"`, string(m["gasPrice"]), "an EIP-1559 transaction paid base fee and tip")
	require.JSONEq(t, `"0x3"`, string(m["transactionIndex"]))
	require.JSONEq(t, `"0x5"`, string(m["blockNumber"]))
	require.JSONEq(t, `"`+common.Address{9}.Hex()+`"`, string(m["from"]))

	nonce, version := uint64(11), uint64(1)
	dep := types.NewTx(&types.DepositTx{SourceHash: common.Hash{3}, From: common.Address{4}, To: &common.Address{5}, Gas: 100_000})
	m = fields(t, Transaction{Tx: dep, DepositNonce: &nonce, DepositReceiptVersion: &version})
	require.JSONEq(t, `"0xb"`, string(m["nonce"]), "a deposit shows its receipt's nonce")
	require.JSONEq(t, `"0x1"`, string(m["depositReceiptVersion"]))
	require.JSONEq(t, `"0x0"`, string(m["gasPrice"]))
	require.NotContains(t, m, "isSystemTx", "only system deposits show the flag")
	m = fields(t, Transaction{Tx: dep})
	require.JSONEq(t, `"0x0"`, string(m["nonce"]), "before Regolith")
	require.NotContains(t, m, "depositReceiptVersion")

	// Decoding reads the transaction only (a deposit's from is one of its fields).
	m = fields(t, Transaction{Tx: dyn})
	m["blockHash"], m["blockNumber"], m["transactionIndex"] = json.RawMessage(`"some"`), json.RawMessage(`[]`), json.RawMessage(`{}`)
	enc, err := json.Marshal(m)
	require.NoError(t, err)
	var back Transaction
	require.NoError(t, json.Unmarshal(enc, &back))
	require.Equal(t, dyn.Hash(), back.Tx.Hash())
}

func TestReceipt(t *testing.T) {
	base := func(typ uint8) *types.Receipt {
		return &types.Receipt{Type: typ, Status: 1, CumulativeGasUsed: 21000, GasUsed: 21000, Logs: nil, TxHash: common.Hash{1},
			BlockHash: common.Hash{2}, BlockNumber: big.NewInt(3), TransactionIndex: 4, EffectiveGasPrice: big.NewInt(5),
			BlobGasUsed: 131072, BlobGasPrice: big.NewInt(6), L1Fee: big.NewInt(7), L1GasUsed: big.NewInt(8), L1GasPrice: big.NewInt(9)}
	}
	m := fields(t, Receipt{Receipt: base(types.BlobTxType), From: common.Address{1}, To: &common.Address{2}})
	require.JSONEq(t, `"0x20000"`, string(m["blobGasUsed"]))
	require.JSONEq(t, `"0x6"`, string(m["blobGasPrice"]))
	require.JSONEq(t, `"0x3"`, string(m["type"]))
	require.JSONEq(t, `"0x1"`, string(m["status"]))
	require.JSONEq(t, `[]`, string(m["logs"]), "no logs is an empty list")
	require.JSONEq(t, `null`, string(m["contractAddress"]))
	require.NotContains(t, m, "root")

	m = fields(t, Receipt{Receipt: base(types.DynamicFeeTxType), To: &common.Address{2}})
	require.NotContains(t, m, "blobGasUsed", "before Jovian, only blob transactions")
	require.Contains(t, m, "l1Fee")

	dep := base(types.DepositTxType)
	nonce := uint64(3)
	dep.DepositNonce = &nonce
	m = fields(t, Receipt{Receipt: dep})
	require.NotContains(t, m, "l1Fee", "a deposit pays no L1 fee")
	require.JSONEq(t, `"0x3"`, string(m["depositNonce"]))

	// Decoding reads the receipt only, and gives its consensus encoding back.
	m = fields(t, Receipt{Receipt: base(types.DynamicFeeTxType)})
	m["from"] = json.RawMessage(`17`)
	enc, err := json.Marshal(m)
	require.NoError(t, err)
	var back Receipt
	require.NoError(t, json.Unmarshal(enc, &back))
	want, err := base(types.DynamicFeeTxType).MarshalBinary()
	require.NoError(t, err)
	got, err := back.Receipt.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestAccountProofFields(t *testing.T) {
	p := AccountProof{Address: common.Address{1}, AccountProof: []hexutil.Bytes{{0xc0}}, Balance: (*hexutil.Big)(big.NewInt(2)),
		Nonce: 3, StorageProof: []StorageProof{{Key: "0x1", Value: (*hexutil.Big)(big.NewInt(4)), Proof: []hexutil.Bytes{}}}}
	enc, err := json.Marshal(p)
	require.NoError(t, err)
	require.JSONEq(t, `{"address":"0x0100000000000000000000000000000000000000","accountProof":["0xc0"],"balance":"0x2",
		"codeHash":"0x0000000000000000000000000000000000000000000000000000000000000000","nonce":"0x3",
		"storageHash":"0x0000000000000000000000000000000000000000000000000000000000000000",
		"storageProof":[{"key":"0x1","value":"0x4","proof":[]}]}`, string(enc), "EIP-1186's field names")
}

func TestWitnessValues(t *testing.T) {
	var w ExecutionWitness
	require.NoError(t, json.Unmarshal([]byte(`{"state":["0x01","0x0203"],"codes":{"0xaa":"0x60"},"keys":null}`), &w))
	require.Equal(t, WitnessValues{{0x01}, {0x02, 0x03}}, w.State)
	require.Equal(t, WitnessValues{{0x60}}, w.Codes, "older nodes key the values by hash")
	require.Nil(t, w.Keys)
	require.Error(t, json.Unmarshal([]byte(`{"state":["0xzz"]}`), &w))
	require.Error(t, json.Unmarshal([]byte(`{"state":{"a":5}}`), &w))
}

func TestBeaconShapes(t *testing.T) {
	var q QuotedUint64
	require.NoError(t, json.Unmarshal([]byte(`"12"`), &q))
	require.Equal(t, QuotedUint64(12), q)
	require.NoError(t, json.Unmarshal([]byte(`13`), &q), "a bare number")
	require.Equal(t, QuotedUint64(13), q)
	require.Error(t, json.Unmarshal([]byte(`"0x1"`), &q))
	enc, err := json.Marshal(QuotedUint64(14))
	require.NoError(t, err)
	require.Equal(t, `"14"`, string(enc))

	enc, err = json.Marshal(BlockResponse[[]BlobSidecar]{Version: "fulu", Finalized: true, Data: []BlobSidecar{{
		Index: 1, Blob: new(kzg4844.Blob), SignedBlockHeader: SignedBeaconBlockHeader{Message: BeaconBlockHeader{Slot: 5}},
	}}})
	require.NoError(t, err)
	var m struct {
		Data []map[string]json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal(enc, &m))
	for _, k := range []string{"index", "blob", "kzg_commitment", "kzg_proof", "signed_block_header", "kzg_commitment_inclusion_proof"} {
		require.Contains(t, m.Data[0], k, "the beacon API's field names")
	}
	require.Contains(t, string(m.Data[0]["signed_block_header"]), `"message":{"slot":"5","proposer_index":"0"`)
	require.Contains(t, string(enc), `"execution_optimistic":false,"finalized":true`)
}

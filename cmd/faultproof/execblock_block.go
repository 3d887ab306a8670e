package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/trie"

	"github.com/faultproof/faultproof/rollup"
)

// rpcBlock is a block read from the JSON of eth_getBlockByNumber(N, true): its header, checked against the
// JSON's hash, and its transactions' consensus encodings, checked against the header's transactions root.
type rpcBlock struct {
	header *types.Header
	txs    [][]byte
}

func readBlockFile(path string) (*rpcBlock, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read block: %w", err)
	}
	b, err := decodeBlockJSON(data)
	if err != nil {
		return nil, fmt.Errorf("--%s %s: %w", execBlockFlag.Name, path, err)
	}
	return b, nil
}

// decodeBlockJSON reads a block object with full transactions. Everything it returns is checked against
// the block's hash, so a field lost or misread on the way fails here and not as a wrong rebuild.
func decodeBlockJSON(data []byte) (*rpcBlock, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return nil, errors.New("no block (empty or null JSON)")
	}
	var h types.Header
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("block header: %w", err)
	}
	var body struct {
		Hash         *common.Hash        `json:"hash"`
		Transactions *[]json.RawMessage  `json:"transactions"`
		Withdrawals  []*types.Withdrawal `json:"withdrawals"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return nil, fmt.Errorf("block body: %w", err)
	}
	if h.Number.Sign() < 0 || !h.Number.IsUint64() {
		return nil, fmt.Errorf("block number %v does not fit 64 bits", h.Number)
	}
	if h.Number.Sign() == 0 {
		return nil, errors.New("block 0 is the genesis block: it has no parent to be built on")
	}
	if body.Hash != nil && *body.Hash != h.Hash() {
		return nil, fmt.Errorf("the header hashes to %s, but the block's hash field says %s: a header field is missing or wrong", h.Hash(), *body.Hash)
	}
	if body.Transactions == nil {
		return nil, errors.New("missing field 'transactions'")
	}
	if len(body.Withdrawals) > 0 {
		return nil, fmt.Errorf("%d withdrawals: %w", len(body.Withdrawals), errWithdrawals)
	}
	list := make(types.Transactions, len(*body.Transactions))
	txs := make([][]byte, len(list))
	for i, raw := range *body.Transactions {
		if raw = bytes.TrimSpace(raw); len(raw) > 0 && raw[0] == '"' {
			return nil, fmt.Errorf("transaction %d is only a hash: fetch the block with its transactions (eth_getBlockByNumber(N, true))", i)
		}
		tx := new(types.Transaction)
		if err := json.Unmarshal(raw, tx); err != nil {
			return nil, fmt.Errorf("transaction %d: %w", i, err)
		}
		var named struct {
			Hash *common.Hash `json:"hash"`
		}
		if err := json.Unmarshal(raw, &named); err == nil && named.Hash != nil && *named.Hash != tx.Hash() {
			return nil, fmt.Errorf("transaction %d hashes to %s, but its hash field says %s: a field is missing or wrong", i, tx.Hash(), *named.Hash)
		}
		enc, err := tx.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("transaction %d: encode: %w", i, err)
		}
		list[i], txs[i] = tx, enc
	}
	if root := types.DeriveSha(list, trie.NewStackTrie(nil)); root != h.TxHash {
		return nil, fmt.Errorf("the %d transactions have root %s, but the header's transactionsRoot is %s", len(list), root, h.TxHash)
	}
	return &rpcBlock{header: &h, txs: txs}, nil
}

// attributesFromBlock returns the payload attributes that make op-geth's engine build b again: what the
// sequencer (or derivation) gave the engine is all in the header and the transaction list.
//   - prevRandao, fee recipient, gas limit and parent beacon root are header fields as they were given;
//   - the transactions are the block's, deposits included, forced in order (noTxPool);
//   - withdrawals are the empty list from Canyon (there are none on the OP Stack);
//   - from Holocene, extraData holds the EIP-1559 denominator and elasticity the block was built with
//     (version 0: version byte, denominator u32, elasticity u32, big-endian); given back as eip1559Params
//     they give the same extraData, even where the attributes had zeros (the chain's defaults);
//   - from Jovian, extraData is version 1 and appends the minimum base fee as a u64.
//
// Karst changed neither layout (op-geth's eip1559 package, op-node's PayloadToSystemConfig).
func attributesFromBlock(l2cfg *params.ChainConfig, b *rpcBlock) (*rollup.PayloadAttributes, error) {
	h := b.header
	gasLimit := h.GasLimit
	attrs := &rollup.PayloadAttributes{
		Timestamp:             h.Time,
		Random:                h.MixDigest,
		SuggestedFeeRecipient: h.Coinbase,
		BeaconRoot:            h.ParentBeaconRoot,
		Transactions:          b.txs,
		NoTxPool:              true,
		GasLimit:              &gasLimit,
	}
	if err := normalizeWithdrawals(l2cfg, h.Number.Uint64(), attrs); err != nil {
		return nil, err
	}
	if err := eip1559.ValidateOptimismExtraData(l2cfg, h.Time, h.Extra); err != nil {
		return nil, fmt.Errorf("extraData %#x of a %s block: %w", h.Extra, forkName(l2cfg, h.Time), err)
	}
	if l2cfg.IsHolocene(h.Time) {
		d, e, minBaseFee := eip1559.DecodeOptimismExtraData(l2cfg, h.Time, h.Extra)
		attrs.EIP1559Params = eip1559.EncodeHolocene1559Params(d, e)
		attrs.MinBaseFee = minBaseFee // nil before Jovian
	}
	return attrs, nil
}

// forkName names the extraData rules in force at time t, for error messages.
func forkName(l2cfg *params.ChainConfig, t uint64) string {
	switch {
	case l2cfg.IsJovian(t):
		return "Jovian"
	case l2cfg.IsHolocene(t):
		return "Holocene"
	}
	return "pre-Holocene"
}

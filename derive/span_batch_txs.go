package derive

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
)

const (
	spanSigLen = 64 // r ++ s, big-endian uint256 each
)

// spanBatchTxs is the txs section of a span batch (delta/span-batches.md), the transactions of all blocks
// stored column by column:
//
//	txs = contract_creation_bits ++ y_parity_bits ++ tx_sigs ++ tx_tos ++ tx_datas ++ tx_nonces ++
//	      tx_gases ++ protected_bits
//
// Byte columns share memory with the decoded input.
type spanBatchTxs struct {
	count uint64 // sum(block_tx_counts)

	contractCreationBits spanBitlist // count bits
	yParityBits          spanBitlist // count bits
	sigs                 []byte      // count * 64 bytes
	tos                  []byte      // 20 bytes per transaction that is not a contract creation
	datas                [][]byte    // count elements
	nonces               []uint64    // count uvarints
	gases                []uint64    // count uvarints
	legacyCount          uint64      // transactions whose tx_data has no type byte (or type byte 0)
	protectedBits        spanBitlist // legacyCount bits
}

// decode reads the txs section of count transactions; count is at most MaxSpanBatchElementCount.
func (t *spanBatchTxs) decode(c *spanCursor, count uint64) error {
	t.count = count
	var err error
	if t.contractCreationBits, err = readSpanBitlist(c, count, "contract_creation_bits"); err != nil {
		return err
	}
	if t.yParityBits, err = readSpanBitlist(c, count, "y_parity_bits"); err != nil {
		return err
	}
	if t.sigs, err = c.take(count*spanSigLen, "tx_sigs"); err != nil {
		return err
	}
	creations := t.contractCreationBits.count()
	if t.tos, err = c.take((count-creations)*common.AddressLength, "tx_tos"); err != nil {
		return err
	}
	t.datas = make([][]byte, 0, c.minAlloc(count))
	for i := uint64(0); i < count; i++ {
		data, typ, err := readSpanTxData(c)
		if err != nil {
			return fmt.Errorf("tx_datas[%d]: %w", i, err)
		}
		t.datas = append(t.datas, data)
		if typ == types.LegacyTxType {
			t.legacyCount++
		}
	}
	if t.nonces, err = readSpanUvarints(c, count, "tx_nonces"); err != nil {
		return err
	}
	if t.gases, err = readSpanUvarints(c, count, "tx_gases"); err != nil {
		return err
	}
	t.protectedBits, err = readSpanBitlist(c, t.legacyCount, "protected_bits")
	return err
}

func readSpanUvarints(c *spanCursor, count uint64, what string) ([]uint64, error) {
	out := make([]uint64, 0, c.minAlloc(count))
	for i := uint64(0); i < count; i++ {
		v, err := c.uvarint(what)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (t *spanBatchTxs) encode(buf *bytes.Buffer) {
	buf.Write(t.contractCreationBits.bytes)
	buf.Write(t.yParityBits.bytes)
	buf.Write(t.sigs)
	buf.Write(t.tos)
	for _, d := range t.datas {
		buf.Write(d)
	}
	for _, n := range t.nonces {
		buf.Write(binary.AppendUvarint(nil, n))
	}
	for _, g := range t.gases {
		buf.Write(binary.AppendUvarint(nil, g))
	}
	buf.Write(t.protectedBits.bytes)
}

// fullTxs rebuilds the signed transactions, in order, with the chain's ID (span batches do not carry it).
func (t *spanBatchTxs) fullTxs(chainID *big.Int) ([][]byte, error) {
	if chainID == nil {
		return nil, errors.New("no chain ID")
	}
	txs := make([][]byte, 0, t.count)
	var toIdx, legacyIdx uint64
	for i := uint64(0); i < t.count; i++ {
		data := t.datas[i]
		env := spanTxEnvelope{
			nonce:   t.nonces[i],
			gas:     t.gases[i],
			yParity: t.yParityBits.bit(i),
		}
		copy(env.r[:], t.sigs[i*spanSigLen:])
		copy(env.s[:], t.sigs[i*spanSigLen+32:])
		if !t.contractCreationBits.bit(i) {
			to := common.BytesToAddress(t.tos[toIdx*common.AddressLength : (toIdx+1)*common.AddressLength])
			env.to = &to
			toIdx++
		}
		if data[0] == types.LegacyTxType || data[0] > 0x7f {
			env.protected = t.protectedBits.bit(legacyIdx)
			legacyIdx++
		}
		tx, err := spanFullTx(data, &env, chainID)
		if err != nil {
			return nil, fmt.Errorf("transaction %d: %w", i, err)
		}
		txs = append(txs, tx)
	}
	return txs, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// pendingSpanTx is a transaction's column fields, collected before the bitlists are sized.
type pendingSpanTx struct {
	creation, yParity bool
	legacy, protected bool
}

// spanTxsBuilder collects the columns of transactions to encode.
type spanTxsBuilder struct {
	txs     spanBatchTxs
	pending []pendingSpanTx
}

// add appends one EIP-2718 encoded transaction. It must be a signed legacy, access-list, dynamic-fee or
// set-code transaction for chainID, or an op-node post-exec transaction.
func (b *spanTxsBuilder) add(raw []byte, chainID *big.Int) error {
	if len(raw) == 0 {
		return errors.New("empty transaction")
	}
	if raw[0] == types.PostExecTxType {
		return b.addPostExec(raw)
	}
	var tx types.Transaction
	if err := tx.UnmarshalBinary(raw); err != nil {
		return fmt.Errorf("decode transaction: %w", err)
	}
	v, r, s := tx.RawSignatureValues()
	if r.BitLen() > 256 || s.BitLen() > 256 {
		return errors.New("signature value does not fit in 256 bits")
	}
	p := pendingSpanTx{creation: tx.To() == nil}
	switch tx.Type() {
	case types.LegacyTxType:
		p.legacy = true
		y, protected, err := spanLegacyYParity(v, chainID)
		if err != nil {
			return err
		}
		p.yParity, p.protected = y == 1, protected
	case types.AccessListTxType, types.DynamicFeeTxType, types.SetCodeTxType:
		if tx.ChainId().Cmp(chainID) != 0 {
			return fmt.Errorf("transaction has chain ID %v, want %v", tx.ChainId(), chainID)
		}
		if !v.IsUint64() || v.Uint64() > 1 {
			return fmt.Errorf("y-parity %v is not 0 or 1", v)
		}
		p.yParity = v.Uint64() == 1
	default:
		return fmt.Errorf("%w: %d", ErrUnsupportedTxType, tx.Type())
	}
	data, err := spanTxData(&tx)
	if err != nil {
		return err
	}
	if list := len(data) - boolInt(tx.Type() != types.LegacyTxType); list > MaxSpanBatchElementCount {
		return fmt.Errorf("%w: %d bytes", ErrTxDataTooLarge, list)
	}
	var sig [spanSigLen]byte
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	b.txs.sigs = append(b.txs.sigs, sig[:]...)
	if to := tx.To(); to != nil {
		b.txs.tos = append(b.txs.tos, to.Bytes()...)
	}
	b.txs.datas = append(b.txs.datas, data)
	b.txs.nonces = append(b.txs.nonces, tx.Nonce())
	b.txs.gases = append(b.txs.gases, tx.Gas())
	b.pending = append(b.pending, p)
	return nil
}

// spanLegacyYParity splits a legacy v into y-parity and EIP-155 protection: v = 27 + y unprotected, or
// v = 2*chainID + 35 + y protected; any other v cannot be represented in a span batch.
func spanLegacyYParity(v, chainID *big.Int) (y uint64, protected bool, err error) {
	if v.IsUint64() && (v.Uint64() == 27 || v.Uint64() == 28) {
		return v.Uint64() - 27, false, nil
	}
	base := new(big.Int).Lsh(chainID, 1)
	base.Add(base, big.NewInt(35))
	d := new(big.Int).Sub(v, base)
	if d.Sign() < 0 || d.Cmp(big.NewInt(1)) > 0 {
		return 0, false, fmt.Errorf("legacy transaction v %v is neither 27/28 nor EIP-155 for chain %v", v, chainID)
	}
	return d.Uint64(), true, nil
}

// addPostExec appends an op-node post-exec transaction: no signature, nonce, gas or recipient (stored as
// zeros and a contract creation), its payload after the type byte as tx_data. The payload must be one RLP
// list, or the span batch would not decode.
func (b *spanTxsBuilder) addPostExec(raw []byte) error {
	kind, _, rest, err := rlp.Split(raw[1:])
	if err != nil || kind != rlp.List || len(rest) != 0 {
		return errors.New("post-exec transaction payload is not a single RLP list")
	}
	if len(raw)-1 > MaxSpanBatchElementCount {
		return fmt.Errorf("%w: %d bytes", ErrTxDataTooLarge, len(raw)-1)
	}
	b.txs.sigs = append(b.txs.sigs, make([]byte, spanSigLen)...)
	b.txs.datas = append(b.txs.datas, append([]byte{}, raw...))
	b.txs.nonces = append(b.txs.nonces, 0)
	b.txs.gases = append(b.txs.gases, 0)
	b.pending = append(b.pending, pendingSpanTx{creation: true})
	return nil
}

// finish sizes and fills the bitlists.
func (b *spanTxsBuilder) finish() *spanBatchTxs {
	t := &b.txs
	t.count = uint64(len(b.pending))
	t.contractCreationBits = newSpanBitlist(t.count)
	t.yParityBits = newSpanBitlist(t.count)
	for _, p := range b.pending {
		if p.legacy {
			t.legacyCount++
		}
	}
	t.protectedBits = newSpanBitlist(t.legacyCount)
	legacyIdx := uint64(0)
	for i, p := range b.pending {
		if p.creation {
			t.contractCreationBits.set(uint64(i))
		}
		if p.yParity {
			t.yParityBits.set(uint64(i))
		}
		if p.legacy {
			if p.protected {
				t.protectedBits.set(legacyIdx)
			}
			legacyIdx++
		}
	}
	return t
}

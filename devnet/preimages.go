package devnet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/faultproof/faultproof/client/l1"
	"github.com/faultproof/faultproof/client/mpt"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

func rollupBlockID(b *types.Block) rollup.BlockID {
	return rollup.BlockID{Hash: b.Hash(), Number: b.NumberU64()}
}

// preimages collects everything a host stores for claims on the devnet (see Devnet.Preimages).
func (g *generator) preimages() (map[[32]byte][]byte, error) {
	out := map[[32]byte][]byte{}
	put := func(v []byte) { out[preimage.KeccakKeyOf(v).PreimageKey()] = v }
	putList := func(what string, want common.Hash, values [][]byte) error {
		root, nodes := mpt.WriteList(values)
		if len(values) == 0 {
			root = types.EmptyRootHash
		}
		if root != want {
			return fmt.Errorf("%s: list trie root %s, header has %s", what, root, want)
		}
		for _, n := range nodes {
			put(n)
		}
		return nil
	}
	header := func(b *types.Block) error {
		enc, err := rlp.EncodeToBytes(b.Header())
		if err != nil {
			return err
		}
		put(enc)
		txs := make([][]byte, len(b.Transactions()))
		for i, tx := range b.Transactions() {
			if txs[i], err = tx.MarshalBinary(); err != nil {
				return err
			}
		}
		return putList(fmt.Sprintf("transactions of block %d", b.NumberU64()), b.TxHash(), txs)
	}

	// L1: headers, transactions, receipts.
	for n, b := range g.l1.blocks {
		if err := header(b); err != nil {
			return nil, fmt.Errorf("l1 block %d: %w", n, err)
		}
		recs := make([][]byte, len(g.l1.receipts[n]))
		for i, r := range g.l1.receipts[n] {
			enc, err := r.MarshalBinary()
			if err != nil {
				return nil, err
			}
			recs[i] = enc
		}
		if err := putList(fmt.Sprintf("receipts of l1 block %d", n), b.ReceiptHash(), recs); err != nil {
			return nil, err
		}
	}
	// Blobs, as the oracle reads them: the commitment by versioned hash, then every field element.
	for vh, r := range g.blobs {
		c := r.commitment
		out[preimage.Sha256Key(vh).PreimageKey()] = c[:]
		for i := range params.BlobTxFieldElementsPerBlob {
			key, in := l1.FieldElementKey(&c, i)
			out[key.PreimageKey()] = r.blob[i*32 : i*32+32]
			put(in[:])
		}
	}

	// Receipts as the receipt trie holds them (EncodeIndex: before Canyon, deposit receipts without their
	// deposit nonce).
	receipts := func(what string, b *types.Block, rs types.Receipts) error {
		recs := make([][]byte, len(rs))
		for i := range rs {
			var buf bytes.Buffer
			rs.EncodeIndex(i, &buf)
			recs[i] = buf.Bytes()
		}
		return putList(what, b.ReceiptHash(), recs)
	}

	// L2: headers, transactions and receipts, state nodes and code, outputs; on an interop devnet also
	// the blocks consolidation replaced.
	for i, c := range g.chains {
		id := c.l2.rollup.ChainID()
		for n, b := range c.l2.blocks {
			if err := header(b); err != nil {
				return nil, fmt.Errorf("chain %d: l2 block %d: %w", id, n, err)
			}
			rs, err := c.l2.receiptsOf(b)
			if err != nil {
				return nil, err
			}
			if err := receipts(fmt.Sprintf("receipts of chain %d block %d", id, n), b, rs); err != nil {
				return nil, err
			}
			put(c.l2.outputs[n].Marshal())
		}
		if g.ix != nil {
			for n, o := range g.ix.optimistic[i] {
				if err := header(o.block); err != nil {
					return nil, fmt.Errorf("chain %d: replaced l2 block %d: %w", id, n, err)
				}
				if err := receipts(fmt.Sprintf("receipts of chain %d replaced block %d", id, n), o.block, o.receipts); err != nil {
					return nil, err
				}
				put(o.output.Marshal())
			}
		}
		it := c.l2.db.NewIterator(nil, nil)
		for it.Next() {
			k, v := it.Key(), it.Value()
			switch {
			case len(k) == 32 && crypto.Keccak256Hash(v) == common.BytesToHash(k):
				put(common.CopyBytes(v)) // a trie node
			case len(k) == 33 && k[0] == 'c' && crypto.Keccak256Hash(v) == common.BytesToHash(k[1:]):
				put(common.CopyBytes(v)) // code
			}
		}
		it.Release()
		if err := it.Error(); err != nil {
			return nil, err
		}
	}

	// The accelerated precompiles' answers: status byte ++ result under the precompile key, and the call
	// itself (address ++ required gas ++ input) under its keccak256 key, as op-program's host stores them.
	putCall := func(p vm.PrecompiledContract, addr common.Address, input []byte) ([]byte, bool) {
		call := append(append(append([]byte{}, addr[:]...), binary.BigEndian.AppendUint64(nil, p.RequiredGas(input))...), input...)
		result, err := p.Run(input)
		answer := []byte{1}
		if err != nil {
			answer, result = []byte{0}, nil
		}
		put(call)
		out[preimage.PrecompileKey(crypto.Keccak256Hash(call)).PreimageKey()] = append(answer, result...)
		return result, err == nil
	}
	for _, c := range g.chains {
		for _, call := range c.l2.calls {
			rules := c.l2.config.Rules(new(big.Int).SetUint64(call.number), true, call.time)
			p, ok := vm.ActivePrecompiledContracts(rules)[call.addr]
			if !ok {
				return nil, fmt.Errorf("l2 block %d calls precompile %s, not active", call.number, call.addr)
			}
			putCall(p, call.addr, call.input)
		}
	}

	// Transaction senders, which the program recovers through the ecrecover precompile
	// (l1.NewSenderSigner): of every batch's transactions, and of every L1 transaction to the batch inbox.
	rec := precompileFunc(func(addr common.Address, _ uint64, input []byte) ([]byte, bool, error) {
		p, ok := vm.PrecompiledContractsHomestead[addr]
		if !ok {
			return nil, false, fmt.Errorf("no precompile %s", addr)
		}
		result, ok := putCall(p, addr, input)
		return result, ok, nil
	})
	for _, c := range g.chains {
		for _, bt := range c.batchTxs {
			tx := new(types.Transaction)
			if err := tx.UnmarshalBinary(bt.tx); err != nil {
				return nil, fmt.Errorf("batch transaction for l2 block %d: %w", bt.block.NumberU64(), err)
			}
			signer := types.MakeSigner(c.l2.config, bt.block.Number(), bt.block.Time())
			if _, err := l1.NewSenderSigner(signer, rec).Sender(tx); err != nil && errors.Is(err, l1.ErrSenderUnavailable) {
				return nil, err
			}
		}
	}
	l1Signer := l1.NewSenderSigner(types.LatestSignerForChainID(g.l1.config.ChainID), rec)
	for _, b := range g.l1.blocks {
		for _, tx := range b.Transactions() {
			to := tx.To()
			if to == nil || !slices.ContainsFunc(g.chains, func(c *chainGen) bool { return *to == c.l2.rollup.BatchInboxAddress }) {
				continue
			}
			if _, err := l1Signer.Sender(tx); errors.Is(err, l1.ErrSenderUnavailable) {
				return nil, err
			}
		}
	}
	return out, nil
}

// precompileFunc adapts a function to l1.PrecompileCaller.
type precompileFunc func(addr common.Address, requiredGas uint64, input []byte) ([]byte, bool, error)

func (f precompileFunc) Precompile(addr common.Address, requiredGas uint64, input []byte) ([]byte, bool, error) {
	return f(addr, requiredGas, input)
}

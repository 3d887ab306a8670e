package devnet

import (
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/faultproof/faultproof/client/l1"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
	"github.com/faultproof/faultproof/rollup"
)

func rollupBlockID(b *types.Block) rollup.BlockID {
	return rollup.BlockID{Hash: b.Hash(), Number: b.NumberU64()}
}

// preimages collects everything a host stores for claims on the devnet (see Devnet.Preimages), laid out
// as preimage/layout says.
func (g *generator) preimages() (map[[32]byte][]byte, error) {
	out := map[[32]byte][]byte{}
	put := func(k preimage.Key, v []byte) { out[k.PreimageKey()] = v }
	// putNode stores a trie node or code under its keccak256 key.
	putNode := func(v []byte) { put(preimage.KeccakKeyOf(v), v) }

	// L1: headers, transactions, receipts.
	for n, b := range g.l1.blocks {
		if err := layout.Block(put, b); err != nil {
			return nil, fmt.Errorf("l1 block %d: %w", n, err)
		}
		if err := layout.Receipts(put, b.Header(), g.l1.receipts[n]); err != nil {
			return nil, fmt.Errorf("l1 block %d: %w", n, err)
		}
	}
	// Blobs, as the oracle reads them: the commitment by versioned hash, then every field element.
	for _, r := range g.blobs {
		c := r.commitment
		layout.Blob(put, &c, r.blob)
	}

	// L2: headers, transactions and receipts, state nodes and code, outputs; on an interop devnet also
	// the blocks consolidation replaced.
	for i, c := range g.chains {
		id := c.l2.rollup.ChainID()
		for n, b := range c.l2.blocks {
			rs, err := c.l2.receiptsOf(b)
			if err != nil {
				return nil, err
			}
			if err := layout.Block(put, b); err != nil {
				return nil, fmt.Errorf("chain %d: l2 block %d: %w", id, n, err)
			}
			if err := layout.Receipts(put, b.Header(), rs); err != nil {
				return nil, fmt.Errorf("chain %d: l2 block %d: %w", id, n, err)
			}
			layout.Output(put, &c.l2.outputs[n])
		}
		if g.ix != nil {
			for n, o := range g.ix.optimistic[i] {
				if err := layout.Block(put, o.block); err != nil {
					return nil, fmt.Errorf("chain %d: replaced l2 block %d: %w", id, n, err)
				}
				if err := layout.Receipts(put, o.block.Header(), o.receipts); err != nil {
					return nil, fmt.Errorf("chain %d: replaced l2 block %d: %w", id, n, err)
				}
				layout.Output(put, &o.output)
			}
		}
		it := c.l2.db.NewIterator(nil, nil)
		for it.Next() {
			k, v := it.Key(), it.Value()
			switch {
			case len(k) == 32 && crypto.Keccak256Hash(v) == common.BytesToHash(k):
				putNode(common.CopyBytes(v)) // a trie node
			case len(k) == 33 && k[0] == 'c' && crypto.Keccak256Hash(v) == common.BytesToHash(k[1:]):
				putNode(common.CopyBytes(v)) // code
			}
		}
		it.Release()
		if err := it.Error(); err != nil {
			return nil, err
		}
	}

	// The accelerated precompiles' calls and answers, as op-program's host stores them.
	putCall := func(p vm.PrecompiledContract, addr common.Address, input []byte) ([]byte, bool) {
		result, err := p.Run(input)
		if err != nil {
			result = nil
		}
		layout.Precompile(put, layout.PrecompileCall(addr, p.RequiredGas(input), input), layout.PrecompileAnswer(err == nil, result))
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

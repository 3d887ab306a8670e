package devnet

import (
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto/kzg4844"
	"github.com/ethereum/go-ethereum/log"

	"github.com/faultproof/faultproof/derive"
	"github.com/faultproof/faultproof/rollup"
)

// The devnet's L2 chain is what derivation makes of its L1 chain. After each L1 block, the generator runs
// our derivation pipeline (derive.Pipeline, as the program does) from the safe head over L1 up to that
// block. Where derivation makes the block the sequencer built, the block becomes safe as it is; where it
// makes another (a faulty batcher's batch was taken, a rejected batch was replaced by its deposits, the
// sequencing window of an epoch ran out), the derived block replaces the sequencer's and the sequencer
// builds on it, as op-node's sequencer does after a reorg of its unsafe chain.

// l1Source shows derivation the L1 chain made so far.
type l1Source struct{ c *l1Chain }

func (s l1Source) block(hash common.Hash) (*types.Block, uint64, error) {
	n, ok := s.c.byHash[hash]
	if !ok {
		return nil, 0, fmt.Errorf("no l1 block %s", hash)
	}
	return s.c.blocks[n], n, nil
}

func (s l1Source) HeaderByHash(hash common.Hash) (*types.Header, error) {
	b, _, err := s.block(hash)
	if err != nil {
		return nil, err
	}
	return b.Header(), nil
}

func (s l1Source) TransactionsByHash(hash common.Hash) (*types.Header, types.Transactions, error) {
	b, _, err := s.block(hash)
	if err != nil {
		return nil, nil, err
	}
	return b.Header(), b.Transactions(), nil
}

func (s l1Source) ReceiptsByHash(hash common.Hash) (*types.Header, types.Receipts, error) {
	b, n, err := s.block(hash)
	if err != nil {
		return nil, nil, err
	}
	return b.Header(), s.c.receipts[n], nil
}

// blobSource serves the blobs posted so far.
type blobSource map[common.Hash]*blobRecord

func (s blobSource) GetBlob(_, _ uint64, hash common.Hash) (*kzg4844.Blob, error) {
	r, ok := s[hash]
	if !ok {
		return nil, fmt.Errorf("no blob %s", hash)
	}
	return r.blob, nil
}

// safeView shows derivation the L2 chain up to the safe head.
type safeView struct {
	c    *l2Chain
	safe uint64
}

func (v safeView) PayloadByNumber(n uint64) (*types.Block, error) {
	if n > v.safe || n >= v.c.next() {
		return nil, fmt.Errorf("l2 block %d is not safe (safe head %d)", n, v.safe)
	}
	return v.c.blocks[n], nil
}

func (v safeView) L2BlockRefByNumber(n uint64) (derive.L2BlockRef, error) {
	b, err := v.PayloadByNumber(n)
	if err != nil {
		return derive.L2BlockRef{}, err
	}
	return derive.L2BlockRefOf(v.c.rollup, b)
}

func (v safeView) byHash(hash common.Hash) (*types.Block, error) {
	n, ok := v.c.byHash[hash]
	if !ok {
		return nil, fmt.Errorf("no l2 block %s", hash)
	}
	return v.PayloadByNumber(n)
}

func (v safeView) L2BlockRefByHash(hash common.Hash) (derive.L2BlockRef, error) {
	b, err := v.byHash(hash)
	if err != nil {
		return derive.L2BlockRef{}, err
	}
	return derive.L2BlockRefOf(v.c.rollup, b)
}

func (v safeView) SystemConfigByL2Hash(hash common.Hash) (rollup.SystemConfig, error) {
	b, err := v.byHash(hash)
	if err != nil {
		return rollup.SystemConfig{}, err
	}
	return derive.SystemConfigFromL2Block(v.c.rollup, b)
}

// deriveAll derives each chain from its safe head over L1 up to its head, then consolidates the chains
// (several chains only).
func (g *generator) deriveAll() error {
	for _, c := range g.chains {
		if _, err := c.deriveSafe(); err != nil {
			return err
		}
	}
	return g.consolidate()
}

// deriveSafe runs derivation from the safe head over L1 up to its head, until L1 has nothing more or the
// devnet's last block is safe. It returns the lowest block number the derived chain replaced in the
// sequencer's chain (0: none).
func (cg *chainGen) deriveSafe() (reorgAt uint64, err error) {
	g, c := cg.g, cg.l2
	rcfg := c.rollup
	view := &safeView{c: c, safe: cg.safe}
	p, err := derive.NewPipeline(rcfg, g.l1.config, g.log, l1Source{g.l1}, blobSource(g.blobs), view, g.l1.head().Hash())
	if err != nil {
		return 0, err
	}
	p.SetDependencySetSize(c.depSetSize)
	safe, err := derive.L2BlockRefOf(rcfg, c.blocks[cg.safe])
	if err != nil {
		return 0, err
	}
	if err := p.Reset(safe); err != nil {
		return 0, err
	}
	for cg.safe < g.cfg.L2Blocks {
		da, err := p.NextAttributes(safe)
		if errors.Is(err, io.EOF) {
			return reorgAt, nil
		}
		if err != nil {
			return 0, fmt.Errorf("chain %d: derive l2 block %d: %w", rcfg.ChainID(), cg.safe+1, err)
		}
		n := cg.safe + 1
		attrs, invalid := da.Attributes, false
		block := c.sequenced(n, da.Parent.Hash, attrs)
		if block == nil {
			block, err = c.build(n, attrs)
			if errors.Is(err, errRejected) {
				// As the program does (derive.Pipeline.InvalidPayload): dropped before Holocene; from
				// Holocene the block holds the deposits alone, and the rest of the batch's channel goes.
				replacement, rerr := p.InvalidPayload(da)
				if rerr != nil {
					return 0, fmt.Errorf("derive l2 block %d: invalid payload (%w): %w", n, err, rerr)
				}
				if replacement == nil {
					g.log.Info("Dropping payload attributes the engine rejects", "number", n, "err", err)
					continue
				}
				attrs, invalid, err = replacement, true, nil
				if block = c.sequenced(n, da.Parent.Hash, attrs); block == nil {
					block, err = c.build(n, attrs)
				}
			}
			if err != nil {
				return 0, fmt.Errorf("derive l2 block %d: %w", n, err)
			}
		}
		if n >= c.next() || c.blocks[n].Hash() != block.Hash() {
			// Derivation made another block than the sequencer's: the sequencer builds on it.
			if reorgAt == 0 {
				reorgAt = n
			}
			c.truncate(n)
			cg.batcher.forget(n)
			if err := c.appendBlock(block, attrs, nil); err != nil {
				return 0, err
			}
			cg.batcher.setInfo(n, BatchInfo{Invalid: invalid})
		}
		if uint64(len(cg.batcher.infos)) < n { // the sequencer's block, made without its batch
			cg.batcher.setInfo(n, BatchInfo{})
		}
		info := &cg.batcher.infos[n-1]
		if safe, err = derive.L2BlockRefOf(rcfg, block); err != nil {
			return 0, err
		}
		info.L1Origin, info.SeqNumber, info.DerivedFrom = safe.L1Origin.Number, safe.SequenceNumber, da.DerivedFrom.Number
		cg.safe, view.safe = n, n
	}
	return reorgAt, nil
}

// sequenced is the sequencer's block n if it is the block of attrs on parent.
func (c *l2Chain) sequenced(n uint64, parent common.Hash, attrs *rollup.PayloadAttributes) *types.Block {
	if n >= c.next() || c.blocks[n].ParentHash() != parent || !reflect.DeepEqual(c.attrs[n], attrs) {
		return nil
	}
	return c.blocks[n]
}

// build has op-geth build block n on block n-1 from attrs (errRejected if it does not).
func (c *l2Chain) build(n uint64, attrs *rollup.PayloadAttributes) (*types.Block, error) {
	block, _, err := buildBlock(c.miner, c.chain, c.config, c.blocks[n-1], attrs, false)
	return block, err
}

// discardLogs is the generator's default logger.
func discardLogs() log.Logger { return log.NewLogger(log.DiscardHandler()) }

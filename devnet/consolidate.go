package devnet

import (
	"errors"
	"fmt"

	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/rollup"
)

// Consolidation on an interop devnet: once every chain's block n is safe (derived from L1), the devnet
// checks the executing messages of those blocks, as a fault proof's consolidation step does
// (specs/interop/messaging.md "Messaging Invariants", in kona's order): the chains of a cycle of
// same-timestamp messages, else the chains with an invalid message, have their block replaced by its
// deposits alone, and the blocks left are checked again against the replacements, until none is invalid.
// A replaced chain's later blocks go: its sequencer builds on the replacement and its batcher posts them
// again; the batches already on L1 no longer fit and derivation drops them.

// consolidateBlock consolidates block n of every chain.
func (g *generator) consolidateBlock(n uint64) error {
	replaced := make([]bool, len(g.chains))
	for round := 0; ; round++ {
		msgs, err := g.executingMessages(n, replaced)
		if err != nil {
			return err
		}
		t := g.chains[0].l2.blocks[n].Time()
		invalid := map[int]error{}
		if cyclic := interop.CyclicChains(msgs, t); len(cyclic) > 0 {
			for _, id := range cyclic {
				invalid[g.chainIndex(id)] = errCycle
			}
		} else {
			for _, m := range msgs {
				i := g.chainIndex(m.Chain)
				if _, ok := invalid[i]; ok {
					continue
				}
				if err := g.checkMessage(n, m); err != nil {
					invalid[i] = fmt.Errorf("log %d executes chain %d block %d log %d: %w", m.LogIndex, m.Msg.ID.ChainID, m.Msg.ID.BlockNumber, m.Msg.ID.LogIndex, err)
				}
			}
		}
		if len(invalid) == 0 {
			return nil
		}
		for i := range g.chains {
			err, ok := invalid[i]
			if !ok {
				continue
			}
			if err := g.replaceBlock(i, n, round, err); err != nil {
				return err
			}
			replaced[i] = true
		}
	}
}

// executingMessages are the executing messages of block n of the chains not replaced yet.
func (g *generator) executingMessages(n uint64, replaced []bool) ([]interop.BlockMessage, error) {
	var out []interop.BlockMessage
	for i, c := range g.chains {
		if replaced[i] {
			continue
		}
		b := c.l2.blocks[n]
		receipts, err := c.l2.receiptsOf(b)
		if err != nil {
			return nil, err
		}
		for _, r := range receipts {
			for _, l := range r.Logs {
				m, err := interop.ExecutingMessageFromLog(l)
				if err != nil || m == nil {
					continue // the CrossL2Inbox never emits a malformed one
				}
				out = append(out, interop.BlockMessage{Msg: *m, Chain: c.l2.rollup.ChainID(), Timestamp: b.Time(), LogIndex: uint32(l.Index)})
			}
		}
	}
	return out, nil
}

// errCycle marks the chains of a cycle of same-timestamp executing messages.
var errCycle = errors.New("part of a cycle of same-timestamp executing messages")

// checkMessage checks one executing message of block n: the rules that need no data (interop.CheckLink),
// then that the initiating log exists in the initiating chain up to its block n, with the message's
// origin and payload hash, in a block of the message's timestamp.
func (g *generator) checkMessage(n uint64, m interop.BlockMessage) error {
	configs := func(id uint64) *rollup.Config {
		if i := g.chainIndex(id); i >= 0 {
			return g.chains[i].l2.rollup
		}
		return nil
	}
	if err := interop.CheckLink(g.ix.depSet, configs, m.Chain, m.Timestamp, m.Msg.ID); err != nil {
		return err
	}
	id := m.Msg.ID
	i := g.chainIndex(id.ChainID)
	if i < 0 || id.BlockNumber > n {
		return fmt.Errorf("%w: no block %d", interop.ErrMessageNotFound, id.BlockNumber)
	}
	c := g.chains[i]
	b := c.l2.blocks[id.BlockNumber]
	receipts, err := c.l2.receiptsOf(b)
	if err != nil {
		return err
	}
	for _, r := range receipts {
		for _, l := range r.Logs {
			if uint32(l.Index) != id.LogIndex {
				continue
			}
			switch {
			case l.Address != id.Origin:
				return interop.ErrMessageOrigin
			case interop.PayloadHash(l) != m.Msg.PayloadHash:
				return interop.ErrMessageHash
			case b.Time() != id.Timestamp:
				return interop.ErrMessageTimestamp
			}
			return nil
		}
	}
	return fmt.Errorf("%w: block %d has no log %d", interop.ErrMessageNotFound, id.BlockNumber, id.LogIndex)
}

// replaceBlock replaces block n of chain i by its deposits alone (its derived attributes without the
// batch's transactions), keeps the replaced block as the chain's optimistic block at n, and drops the
// chain's blocks after n: the sequencer builds on the replacement and the batcher posts them again.
func (g *generator) replaceBlock(i int, n uint64, round int, reason error) error {
	c := g.chains[i]
	old := c.l2.blocks[n]
	receipts, err := c.l2.receiptsOf(old)
	if err != nil {
		return err
	}
	attrs := depositsOnly(c.l2.attrs[n])
	block, err := c.l2.build(n, attrs)
	if err != nil {
		return fmt.Errorf("chain %d: deposit-only block %d: %w", c.l2.rollup.ChainID(), n, err)
	}
	g.ix.optimistic[i][n] = &optimisticBlock{block: old, output: c.l2.outputs[n], receipts: receipts}
	info := c.batcher.infos[n-1]
	info.Replaced = true
	c.l2.truncate(n)
	c.batcher.forget(n + 1)
	if err := c.l2.appendBlock(block, attrs, nil); err != nil {
		return err
	}
	c.batcher.setInfo(n, info)
	c.safe = n
	g.ix.replaced = append(g.ix.replaced, Replacement{
		Chain: c.l2.rollup.ChainID(), Block: n, Round: round, Reason: reason.Error(), Err: reason, Optimistic: old.Hash(), Replacement: block.Hash(),
	})
	g.log.Info("Consolidation replaced a block by its deposits", "chain", c.l2.rollup.ChainID(), "number", n, "round", round, "reason", reason)
	return nil
}

package interop

import (
	"errors"
	"fmt"
	"slices"

	"github.com/faultproof/faultproof/rollup"
)

// Why an executing message is invalid (specs/interop/messaging.md "Messaging Invariants"; the checks and
// their order are kona's MessageGraph, which game type 9 runs).
var (
	ErrExecutingChainNotInSet  = errors.New("executing chain is not in the dependency set")
	ErrInitiatingChainNotInSet = errors.New("initiating chain is not in the dependency set")
	ErrExecutedTooEarly        = errors.New("executing block is not after the interop activation block")
	ErrMessageInFuture         = errors.New("initiating message is later than its executing message")
	ErrInitiatedTooEarly       = errors.New("initiating block is not after the interop activation block")
	ErrMessageExpired          = errors.New("initiating message has expired")
	ErrMessageNotFound         = errors.New("initiating message does not exist")
	ErrMessageOrigin           = errors.New("initiating message has another origin")
	ErrMessageHash             = errors.New("initiating message has another payload hash")
	ErrMessageTimestamp        = errors.New("initiating block has another timestamp")
	ErrUnknownChainConfig      = errors.New("no rollup config for chain")
)

// InteropFullBlock says whether a block at time t may hold (or be the source of) a message: interop is
// active and t is not the activation block, which holds deposits only.
func InteropFullBlock(cfg *rollup.Config, t uint64) bool {
	return cfg.IsLagoon(t) && !cfg.IsActivationBlock(rollup.Lagoon, t)
}

// CheckLink checks the rules that need no data of the initiating block: both chains in the dependency
// set, interop fully active on both sides, the initiating message not later than its executing block and
// not expired. configs gives each chain's rollup config.
func CheckLink(ds *DependencySet, configs func(chainID uint64) *rollup.Config, execChain, execTime uint64, id Identifier) error {
	if !ds.HasChain(execChain) {
		return fmt.Errorf("%w: chain %d", ErrExecutingChainNotInSet, execChain)
	}
	if !ds.HasChain(id.ChainID) {
		return fmt.Errorf("%w: chain %d", ErrInitiatingChainNotInSet, id.ChainID)
	}
	execCfg := configs(execChain)
	if execCfg == nil {
		return fmt.Errorf("%w %d", ErrUnknownChainConfig, execChain)
	}
	if !InteropFullBlock(execCfg, execTime) {
		return fmt.Errorf("%w: chain %d at %d", ErrExecutedTooEarly, execChain, execTime)
	}
	initCfg := configs(id.ChainID)
	if initCfg == nil {
		return fmt.Errorf("%w %d", ErrUnknownChainConfig, id.ChainID)
	}
	if id.Timestamp > execTime {
		return fmt.Errorf("%w: initiated at %d, executed at %d", ErrMessageInFuture, id.Timestamp, execTime)
	}
	if !InteropFullBlock(initCfg, id.Timestamp) {
		return fmt.Errorf("%w: chain %d at %d", ErrInitiatedTooEarly, id.ChainID, id.Timestamp)
	}
	if execTime-id.Timestamp > ds.ExpiryWindow() {
		return fmt.Errorf("%w: initiated at %d, executed at %d, window %d", ErrMessageExpired, id.Timestamp, execTime, ds.ExpiryWindow())
	}
	return nil
}

// BlockMessage is an executing message where it was executed: the chain, the block's timestamp and the
// log's index in the block.
type BlockMessage struct {
	Msg       ExecutingMessage
	Chain     uint64
	Timestamp uint64
	LogIndex  uint32
}

// CyclicChains returns the chains (sorted) whose executing messages at timestamp ts take part in a cycle,
// or are what a cycle depends on: messages of one block depend on the block's earlier executing messages,
// and a message that executes a log of the same timestamp depends on the last executing message at or
// before that log in the initiating block (kona's cycle check). It is empty if there is no cycle.
func CyclicChains(msgs []BlockMessage, ts uint64) []uint64 {
	type node struct {
		chain, target      uint64
		logIndex, targetIx uint32
	}
	var nodes []node
	byChain := map[uint64][]int{}
	for _, m := range msgs {
		if m.Timestamp != ts || m.Msg.ID.Timestamp != ts {
			continue
		}
		byChain[m.Chain] = append(byChain[m.Chain], len(nodes))
		nodes = append(nodes, node{chain: m.Chain, logIndex: m.LogIndex, target: m.Msg.ID.ChainID, targetIx: m.Msg.ID.LogIndex})
	}
	if len(nodes) == 0 {
		return nil
	}
	chains := make([]uint64, 0, len(byChain))
	for c, ix := range byChain {
		slices.SortStableFunc(ix, func(a, b int) int { return int(int64(nodes[a].logIndex) - int64(nodes[b].logIndex)) })
		chains = append(chains, c)
	}
	slices.Sort(chains)
	dependsOn := make([][]int, len(nodes)) // dependsOn[i]: the nodes node i depends on
	dependents := make([]int, len(nodes))  // dependents[i]: how many unresolved nodes depend on node i
	edge := func(from, on int) {
		dependsOn[from] = append(dependsOn[from], on)
		dependents[on]++
	}
	for _, c := range chains {
		ix := byChain[c]
		for k, n := range ix {
			if k > 0 {
				edge(n, ix[k-1])
			}
			target := byChain[nodes[n].target]
			// The last executing message of the initiating block at or before the initiating log.
			p, _ := slices.BinarySearchFunc(target, nodes[n].targetIx+1, func(i int, v uint32) int {
				return int(int64(nodes[i].logIndex) - int64(v))
			})
			if p > 0 {
				edge(n, target[p-1])
			}
		}
	}
	// Peel off the nodes nothing depends on, as kona does: what remains is on a cycle or something a cycle
	// depends on, and those chains are the cyclic ones.
	queue := []int{}
	for i := range nodes {
		if dependents[i] == 0 {
			queue = append(queue, i)
		}
	}
	resolved := 0
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		resolved++
		for _, d := range dependsOn[i] {
			if dependents[d]--; dependents[d] == 0 {
				queue = append(queue, d)
			}
		}
	}
	if resolved == len(nodes) {
		return nil
	}
	var out []uint64
	for i, n := range nodes {
		if dependents[i] > 0 && !slices.Contains(out, n.chain) {
			out = append(out, n.chain)
		}
	}
	slices.Sort(out)
	return out
}

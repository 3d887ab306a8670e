package devnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/stateless"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/miner"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/faultproof/faultproof/host/sources/wire"
	"github.com/faultproof/faultproof/rollup"
)

// l2DebugAPI is the debug namespace of the L2 node, which is also an "experimental" node: it executes
// payloads it is given and returns their witness (debug_executePayload), as the nodes op-program's host
// accepts for --l2.experimental do.
type l2DebugAPI struct {
	debugAPI
	mu    sync.Mutex // op-geth's builder is driven one payload at a time
	miner *miner.Miner
}

func newL2DebugAPI(n *execNode) *l2DebugAPI {
	return &l2DebugAPI{debugAPI: debugAPI{n}, miner: miner.New(minerBackend{n.chain}, miner.Config{GasCeil: 30_000_000}, n.chain.Engine())}
}

func (a *l2DebugAPI) close() { a.miner.Close() }

// ExecutePayload is debug_executePayload: op-geth's block builder builds the block of attrs (forced
// transactions only) on the parent's state without importing it, and the builder's stateless witness is
// returned. Like op-geth's debug_executionWitness, the witness lacks the trie nodes that prove an account
// absent; a host fetches those one by one.
func (a *l2DebugAPI) ExecutePayload(parent common.Hash, attrs *rollup.PayloadAttributes) (*wire.ExecutionWitness, error) {
	if attrs == nil {
		return nil, &invalidParamsError{"missing payload attributes"}
	}
	if a.n.blockByHash(parent) == nil {
		return nil, fmt.Errorf("parent block %s not found", parent)
	}
	txs := make([]*types.Transaction, len(attrs.Transactions))
	for i, enc := range attrs.Transactions {
		txs[i] = new(types.Transaction)
		if err := txs[i].UnmarshalBinary(enc); err != nil {
			return nil, &invalidParamsError{fmt.Sprintf("transaction %d: %v", i, err)}
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	args := payloadArgs(parent, attrs)
	args.Transactions = txs
	payload, err := a.miner.BuildPayload(context.Background(), args, true)
	if err != nil {
		return nil, fmt.Errorf("execute payload on %s: %w", parent, err)
	}
	env := payload.ResolveFull()
	if env == nil || env.Witness == nil {
		return nil, errors.New("execute payload: the builder made no witness")
	}
	var w stateless.Witness
	if err := rlp.DecodeBytes(*env.Witness, &w); err != nil {
		return nil, fmt.Errorf("execute payload: decode witness: %w", err)
	}
	ext := w.ToExtWitness()
	// op-geth lists the witness from maps; sorted, the same request gets the same bytes.
	for _, list := range [][]hexutil.Bytes{ext.Codes, ext.State} {
		slices.SortFunc(list, func(x, y hexutil.Bytes) int { return bytes.Compare(x, y) })
	}
	return &wire.ExecutionWitness{Keys: wire.WitnessValues{}, Codes: ext.Codes, State: ext.State}, nil
}

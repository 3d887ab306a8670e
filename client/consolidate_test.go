package client

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/preimage/layout"
	"github.com/faultproof/faultproof/rollup"
)

// msgWorld is two chains of one-second blocks with interop from genesis, made of headers and receipts
// only: enough to check executing messages without executing anything.
type msgWorld struct {
	values  map[[32]byte][]byte
	configs map[uint64]*rollup.ChainConfigs
	heads   map[uint64][]common.Hash // block hashes by number
	logs    map[uint64][][]*types.Log
}

const (
	chainA, chainB = uint64(901), uint64(902)
	worldGenesis   = uint64(1000)
	worldBlocks    = 7 // blocks 0..6; 6 is the pending (optimistic) block
)

var emitter = common.HexToAddress("0xe0")

func initLog(chain, n uint64, i int) *types.Log {
	return &types.Log{Address: emitter, Topics: []common.Hash{common.BigToHash(new(big.Int).SetUint64(chain<<16 | n<<8 | uint64(i)))}, Data: []byte{1, 2, 3}}
}

// execOf is the executing message of log i of block n of chain.
func execOf(chain, n uint64, i int) interop.ExecutingMessage {
	return interop.ExecutingMessage{
		ID:          interop.Identifier{Origin: emitter, BlockNumber: n, LogIndex: uint32(i), Timestamp: worldGenesis + n, ChainID: chain},
		PayloadHash: interop.PayloadHash(initLog(chain, n, i)),
	}
}

// newMsgWorld makes the chains: every block has two initiating logs, and the pending blocks also the
// executing messages given per chain (after them).
func newMsgWorld(t *testing.T, execs map[uint64][]interop.ExecutingMessage) *msgWorld {
	w := &msgWorld{values: map[[32]byte][]byte{}, configs: map[uint64]*rollup.ChainConfigs{}, heads: map[uint64][]common.Hash{}, logs: map[uint64][][]*types.Log{}}
	zero := uint64(0)
	for _, id := range []uint64{chainA, chainB} {
		l2 := *params.OptimismTestConfig
		l2.ChainID = new(big.Int).SetUint64(id)
		w.configs[id] = &rollup.ChainConfigs{
			Rollup: &rollup.Config{BlockTime: 1, L2ChainID: new(big.Int).SetUint64(id), L1ChainID: big.NewInt(900), LagoonTime: &zero,
				Genesis: rollup.Genesis{L2Time: worldGenesis}},
			L2: &l2,
		}
		parent := common.Hash{}
		for n := uint64(0); n < worldBlocks; n++ {
			logs := []*types.Log{initLog(id, n, 0), initLog(id, n, 1)}
			if n == worldBlocks-1 {
				for _, m := range execs[id] {
					logs = append(logs, interop.ExecutingMessageLog(m))
				}
			}
			r := &types.Receipt{Type: types.DynamicFeeTxType, Status: 1, CumulativeGasUsed: 21000, Logs: logs}
			r.Bloom = types.CreateBloom(r)
			enc, err := r.MarshalBinary()
			require.NoError(t, err)
			root, nodes := layout.ListNodes([][]byte{enc})
			for _, nd := range nodes {
				w.values[preimage.Keccak256Key(crypto.Keccak256Hash(nd)).PreimageKey()] = nd
			}
			h := &types.Header{ParentHash: parent, Number: new(big.Int).SetUint64(n), Time: worldGenesis + n, ReceiptHash: root,
				TxHash: types.EmptyTxsHash, Difficulty: new(big.Int), BaseFee: big.NewInt(1)}
			hdr, err := rlp.EncodeToBytes(h)
			require.NoError(t, err)
			w.values[preimage.Keccak256Key(h.Hash()).PreimageKey()] = hdr
			w.heads[id] = append(w.heads[id], h.Hash())
			w.logs[id] = append(w.logs[id], logs)
			parent = h.Hash()
		}
	}
	return w
}

// boot is the consolidation step's boot info over the world's pending blocks.
func (w *msgWorld) boot(t *testing.T, ds *interop.DependencySet) *InteropBootInfo {
	agreed := worldBlocks - 2
	var chains []interop.ChainOutput
	var pending []interop.OptimisticBlock
	for _, id := range []uint64{chainA, chainB} {
		out := rollup.Output{BlockHash: w.heads[id][agreed]}
		w.values[preimage.Keccak256Key(out.Root()).PreimageKey()] = out.Marshal()
		chains = append(chains, interop.ChainOutput{ChainID: id, Output: out.Root()})
		pending = append(pending, interop.OptimisticBlock{BlockHash: w.heads[id][agreed+1], OutputRoot: common.BigToHash(new(big.Int).SetUint64(id))})
	}
	super := interop.NewSuperV1(worldGenesis+uint64(agreed), chains...)
	ts := interop.TransitionState{SuperRoot: super.Marshal(), PendingProgress: pending, Step: interop.ConsolidateStep}
	pre, err := interop.UnmarshalPreState(ts.Marshal())
	require.NoError(t, err)
	return &InteropBootInfo{Pre: pre, DepSet: ds, Chains: w.configs, GameTimestamp: super.Timestamp + 10}
}

// invalid runs one round of consolidation's checks and returns the chains it would replace.
func (w *msgWorld) invalid(t *testing.T, ds *interop.DependencySet) []uint64 {
	boot := w.boot(t, ds)
	o := &testOracle{values: w.values}
	views, err := openChainViews(boot, o, o, Options{})
	require.NoError(t, err)
	byID := func(id uint64) *chainView {
		for _, v := range views {
			if v.id == id {
				return v
			}
		}
		return nil
	}
	configs := func(id uint64) *rollup.Config {
		if c, ok := w.configs[id]; ok {
			return c.Rollup
		}
		return nil
	}
	got, err := invalidChains(log.NewLogger(log.DiscardHandler()), ds, views, byID, configs)
	require.NoError(t, err)
	return got
}

func TestConsolidationMessageRules(t *testing.T) {
	both, err := interop.NewDependencySet([]uint64{chainA, chainB}, 0)
	require.NoError(t, err)
	onlyB, err := interop.NewDependencySet([]uint64{chainB}, 0)
	require.NoError(t, err)
	short, err := interop.NewDependencySet([]uint64{chainA, chainB}, 3)
	require.NoError(t, err)
	mod := func(m interop.ExecutingMessage, f func(*interop.ExecutingMessage)) interop.ExecutingMessage {
		f(&m)
		return m
	}
	pending := uint64(worldBlocks - 1)
	for _, c := range []struct {
		rule  string
		execs map[uint64][]interop.ExecutingMessage
		ds    *interop.DependencySet
		want  []uint64
	}{
		{"no messages", nil, both, nil},
		{"valid: an earlier block", map[uint64][]interop.ExecutingMessage{chainB: {execOf(chainA, 2, 1)}}, both, nil},
		{"valid: the same timestamp", map[uint64][]interop.ExecutingMessage{chainB: {execOf(chainA, pending, 0)}}, both, nil},
		{"valid: its own block, an earlier log", map[uint64][]interop.ExecutingMessage{chainA: {execOf(chainA, pending, 1)}}, both, nil},
		{"valid: at the expiry bound", map[uint64][]interop.ExecutingMessage{chainB: {execOf(chainA, pending-3, 0)}}, short, nil},
		{"expired", map[uint64][]interop.ExecutingMessage{chainB: {execOf(chainA, pending-4, 0)}}, short, []uint64{chainB}},
		{"initiating message does not exist (log index)", map[uint64][]interop.ExecutingMessage{chainB: {execOf(chainA, 3, 7)}}, both, []uint64{chainB}},
		{"initiating block in the future", map[uint64][]interop.ExecutingMessage{chainA: {mod(execOf(chainB, pending, 0), func(m *interop.ExecutingMessage) {
			m.ID.BlockNumber, m.ID.Timestamp = pending+1, worldGenesis+pending
		})}}, both, []uint64{chainA}},
		{"initiating timestamp in the future", map[uint64][]interop.ExecutingMessage{chainA: {mod(execOf(chainB, pending, 0), func(m *interop.ExecutingMessage) { m.ID.Timestamp++ })}}, both, []uint64{chainA}},
		{"wrong timestamp", map[uint64][]interop.ExecutingMessage{chainA: {mod(execOf(chainB, 2, 0), func(m *interop.ExecutingMessage) { m.ID.Timestamp++ })}}, both, []uint64{chainA}},
		{"wrong origin", map[uint64][]interop.ExecutingMessage{chainA: {mod(execOf(chainB, 2, 0), func(m *interop.ExecutingMessage) { m.ID.Origin = common.Address{1} })}}, both, []uint64{chainA}},
		{"wrong payload", map[uint64][]interop.ExecutingMessage{chainA: {mod(execOf(chainB, 2, 0), func(m *interop.ExecutingMessage) { m.PayloadHash = common.Hash{1} })}}, both, []uint64{chainA}},
		{"initiating chain not in the set", map[uint64][]interop.ExecutingMessage{chainB: {execOf(chainA, 2, 0)}}, onlyB, []uint64{chainB}},
		{"initiating chain unknown", map[uint64][]interop.ExecutingMessage{chainB: {execOf(903, 2, 0)}}, both, []uint64{chainB}},
		{"a later log of its own block", map[uint64][]interop.ExecutingMessage{chainA: {execOf(chainA, pending, 3)}}, both, []uint64{chainA}},
		{"cycle between the chains", map[uint64][]interop.ExecutingMessage{chainA: {execOf(chainB, pending, 2)}, chainB: {execOf(chainA, pending, 2)}}, both, []uint64{chainA, chainB}},
		{"both chains invalid", map[uint64][]interop.ExecutingMessage{chainA: {execOf(chainB, 3, 9)}, chainB: {execOf(chainA, 3, 9)}}, both, []uint64{chainA, chainB}},
	} {
		t.Run(c.rule, func(t *testing.T) {
			w := newMsgWorld(t, c.execs)
			require.Equal(t, c.want, w.invalid(t, c.ds))
		})
	}
}

// With valid messages only, consolidation keeps the optimistic blocks: the next super root is made of
// their outputs.
func TestConsolidationKeepsValidBlocks(t *testing.T) {
	both, err := interop.NewDependencySet([]uint64{chainA, chainB}, 0)
	require.NoError(t, err)
	w := newMsgWorld(t, map[uint64][]interop.ExecutingMessage{chainB: {execOf(chainA, worldBlocks-1, 0)}, chainA: {execOf(chainB, 1, 1)}})
	boot := w.boot(t, both)
	o := &testOracle{values: w.values}
	super, err := consolidate(log.NewLogger(log.DiscardHandler()), boot, o, o, Options{})
	require.NoError(t, err)
	require.Equal(t, boot.Pre.Super.Timestamp+1, super.Timestamp)
	require.Equal(t, []interop.ChainOutput{{ChainID: chainA, Output: common.BigToHash(big.NewInt(int64(chainA)))}, {ChainID: chainB, Output: common.BigToHash(big.NewInt(int64(chainB)))}}, super.Chains)
}

package l2

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client/l1"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

const testChainLength = 20

func TestRebuildEveryBlockThroughTheOracle(t *testing.T) {
	tc := buildTestChain(t, testChainLength)
	for n := 1; n < len(tc.blocks); n++ {
		want := tc.blocks[n]
		ts := want.Time()
		t.Run(fmt.Sprintf("block %d (%s%s)", n, tc.rollup.ForkAt(ts), activationNote(tc.rollup, ts)), func(t *testing.T) {
			oracle := tc.hostOracle()
			chain, err := NewChain(tc.rollup, tc.config, NewOracle(oracle, oracle), tc.blocks[n-1].Hash())
			require.NoError(t, err)
			res, err := chain.BuildBlock(tc.blocks[n-1].Hash(), tc.attrs[n], vm.Config{})
			require.NoError(t, err)
			require.Equal(t, want.Header(), res.Block.Header())
			require.Equal(t, want.Hash(), res.Block.Hash())

			// Before any state read, the engine announced the block it builds (an online host turns this
			// into one debug_executePayload), once.
			var data []byte
			for _, h := range oracle.hints {
				typ, d, err := preimage.ParseHint(h)
				require.NoError(t, err)
				if typ == preimage.HintL2StateNode || typ == preimage.HintL2Code {
					require.NotNil(t, data, "state read before the payload witness hint")
				}
				if typ == preimage.HintL2PayloadWitness {
					require.Nil(t, data, "a second payload witness hint")
					data = d
				}
			}
			require.NotNil(t, data, "no payload witness hint")
			var hint struct {
				ParentBlockHash   common.Hash               `json:"parentBlockHash"`
				PayloadAttributes *rollup.PayloadAttributes `json:"payloadAttributes"`
				ChainID           string                    `json:"chainID"`
			}
			require.NoError(t, json.Unmarshal(data, &hint))
			require.Equal(t, tc.blocks[n-1].Hash(), hint.ParentBlockHash)
			require.Equal(t, tc.rollup.L2ChainID.String(), hint.ChainID)
			require.Equal(t, tc.attrs[n], hint.PayloadAttributes)
		})
	}
}

func activationNote(r *rollup.Config, ts uint64) string {
	for _, f := range rollup.Forks {
		if r.IsActivationBlock(f, ts) {
			return ", activates " + string(f)
		}
	}
	return ""
}

func TestBuildChainOnOwnState(t *testing.T) {
	tc := buildTestChain(t, testChainLength)
	oracle := tc.hostOracle()
	chain, err := NewChain(tc.rollup, tc.config, NewOracle(oracle, oracle), tc.genesis.Hash())
	require.NoError(t, err)
	for n := 1; n < len(tc.blocks); n++ {
		res, err := chain.BuildBlock(chain.Head().Hash(), tc.attrs[n], vm.Config{})
		require.NoError(t, err, "block %d", n)
		require.Equal(t, tc.blocks[n].Hash(), res.Block.Hash(), "block %d", n)
		require.NoError(t, chain.SetHead(res.Block.Hash()))
	}
	// Outputs of our own blocks equal the outputs computed from op-geth's state.
	for _, n := range []int{3, 11, 12, 13, testChainLength} {
		out, err := chain.OutputAt(tc.blocks[n].Hash())
		require.NoError(t, err)
		st, err := tc.StateAt(tc.blocks[n].Root())
		require.NoError(t, err)
		require.Equal(t, st.GetStorageRoot(params.OptimismL2ToL1MessagePasser), out.MessagePasserStorageRoot, "block %d", n)
		require.Equal(t, tc.blocks[n].Root(), out.StateRoot)
	}
}

func TestAcceleratedPrecompiles(t *testing.T) {
	tc := buildTestChain(t, testChainLength)
	oracle := tc.hostOracle()
	chain, err := NewChain(tc.rollup, tc.config, NewOracle(oracle, oracle), tc.genesis.Hash())
	require.NoError(t, err)
	chain.SetPrecompileOracle(l1.NewOracle(oracle, oracle))
	for n := 1; n < len(tc.blocks); n++ {
		res, err := chain.BuildBlock(chain.Head().Hash(), tc.attrs[n], vm.Config{})
		require.NoError(t, err, "block %d", n)
		require.Equal(t, tc.blocks[n].Hash(), res.Block.Hash(), "block %d", n)
		require.NoError(t, chain.SetHead(res.Block.Hash()))
	}
	// Valid ecrecover calls, bn256 pairings and BLS additions were answered by the oracle; malformed
	// ecrecover inputs and sha256 never were.
	require.Positive(t, oracle.precompileCalls[common.BytesToAddress([]byte{0x01})])
	require.Positive(t, oracle.precompileCalls[common.BytesToAddress([]byte{0x08})])
	require.Positive(t, oracle.precompileCalls[common.BytesToAddress([]byte{0x0b})])
	require.Zero(t, oracle.precompileCalls[common.BytesToAddress([]byte{0x02})])
	// ecrecover: one valid signature per ecrecover block, and the sender of every signed transaction
	// (recovered through the oracle too, see l1.NewSenderSigner).
	signed := 0
	for _, b := range tc.blocks[1:] {
		for _, tx := range b.Transactions() {
			if tx.Type() != types.DepositTxType {
				signed++
			}
		}
	}
	require.Positive(t, signed)
	require.Equal(t, 4+signed, oracle.precompileCalls[common.BytesToAddress([]byte{0x01})], "ecrecover calls")
}

func TestPrecompileInputLimits(t *testing.T) {
	jovian := params.Rules{IsOptimismGranite: true, IsOptimismIsthmus: true, IsOptimismJovian: true}
	granite := params.Rules{IsOptimismGranite: true}
	require.Equal(t, uint64(81984), maxInputSize(jovian, bn256PairingAddr))
	require.Equal(t, uint64(112687), maxInputSize(granite, bn256PairingAddr))
	require.Zero(t, maxInputSize(params.Rules{}, bn256PairingAddr))
	require.Equal(t, uint64(513760), maxInputSize(params.Rules{IsOptimismIsthmus: true}, blsG1MSMAddr))
	require.Zero(t, maxInputSize(jovian, ecrecoverAddr))
}

func TestMissingNodeIsAnError(t *testing.T) {
	tc := buildTestChain(t, 3)
	oracle := tc.hostOracle()
	// Drop the parent's state root node: nothing can be read.
	delete(oracle.values, keccakKeyOf(tc.blocks[2].Root()))
	chain, err := NewChain(tc.rollup, tc.config, NewOracle(oracle, oracle), tc.blocks[2].Hash())
	require.NoError(t, err)
	_, err = chain.BuildBlock(tc.blocks[2].Hash(), tc.attrs[3], vm.Config{})
	require.Error(t, err)
	require.ErrorContains(t, err, "missing preimage")
	require.NotErrorIs(t, err, ErrInvalidAttributes, "missing data is not the attributes' fault")
}

func keccakKeyOf(h common.Hash) [32]byte {
	k := h
	k[0] = 2
	return k
}

func TestOutputRootEncoding(t *testing.T) {
	o := &Output{StateRoot: common.Hash{1}, MessagePasserStorageRoot: common.Hash{2}, BlockHash: common.Hash{3}}
	enc := o.Marshal()
	require.Len(t, enc, 128)
	got, err := UnmarshalOutput(enc)
	require.NoError(t, err)
	require.Equal(t, o, got)
	_, err = UnmarshalOutput(enc[:127])
	require.Error(t, err)
	enc[0] = 1
	_, err = UnmarshalOutput(enc)
	require.ErrorContains(t, err, "unsupported output version")
}

func TestMissingCodeIsAnError(t *testing.T) {
	tc := buildTestChain(t, 3)
	oracle := tc.hostOracle()
	delete(oracle.values, keccakKeyOf(crypto.Keccak256Hash(devnet.StorageCode)))
	chain, err := NewChain(tc.rollup, tc.config, NewOracle(oracle, oracle), tc.blocks[2].Hash())
	require.NoError(t, err)
	// Block 3's user deposit calls the storage contract, whose code is now missing.
	_, err = chain.BuildBlock(tc.blocks[2].Hash(), tc.attrs[3], vm.Config{})
	require.ErrorContains(t, err, "missing preimage")
	require.NotErrorIs(t, err, ErrInvalidAttributes)
}

func TestInvalidAttributes(t *testing.T) {
	tc := buildTestChain(t, 12)
	tests := []struct {
		name string
		edit func(a *rollup.PayloadAttributes)
	}{
		{"timestamp not after parent", func(a *rollup.PayloadAttributes) { a.Timestamp = tc.blocks[10].Time() }},
		{"no gas limit", func(a *rollup.PayloadAttributes) { a.GasLimit = nil }},
		{"undecodable transaction", func(a *rollup.PayloadAttributes) { a.Transactions = append(a.Transactions, []byte{0x02, 0xc0}) }},
		{"transaction replayed (nonce too low)", func(a *rollup.PayloadAttributes) {
			a.Transactions = append(a.Transactions, tc.attrs[5].Transactions[len(tc.attrs[5].Transactions)-1])
		}},
		{"bad holocene eip1559 params", func(a *rollup.PayloadAttributes) { a.EIP1559Params = []byte{1, 2, 3} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oracle := tc.hostOracle()
			chain, err := NewChain(tc.rollup, tc.config, NewOracle(oracle, oracle), tc.blocks[11].Hash())
			require.NoError(t, err)
			attrs := *tc.attrs[12]
			attrs.Transactions = append([][]byte{}, attrs.Transactions...)
			tt.edit(&attrs)
			_, err = chain.BuildBlock(tc.blocks[11].Hash(), &attrs, vm.Config{})
			require.ErrorIs(t, err, ErrInvalidAttributes)
		})
	}
}

// BenchmarkBuildBlock re-executes one block with eight transactions through the oracle, from a cold
// start (no caches), and reports the oracle reads it took.
func BenchmarkBuildBlock(b *testing.B) {
	tc := buildTestChain(b, 15)
	oracle := tc.hostOracle()
	n := 15
	b.ResetTimer()
	var reads int
	for i := 0; i < b.N; i++ {
		oracle.reads = 0
		chain, err := NewChain(tc.rollup, tc.config, NewOracle(oracle, oracle), tc.blocks[n-1].Hash())
		require.NoError(b, err)
		res, err := chain.BuildBlock(tc.blocks[n-1].Hash(), tc.attrs[n], vm.Config{})
		require.NoError(b, err)
		require.Equal(b, tc.blocks[n].Hash(), res.Block.Hash(), "wrong block")
		reads = oracle.reads
	}
	b.ReportMetric(float64(reads), "reads/block")
	b.ReportMetric(float64(len(tc.attrs[n].Transactions)), "txs/block")
}

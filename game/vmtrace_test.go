package game

import (
	"fmt"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/faultproof/faultproof/game/toychain"
	"github.com/faultproof/faultproof/game/trace"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/vm"
	"github.com/stretchr/testify/require"
)

// TestVMTrace checks the in-process VM trace against plain runs of the toy program: a claim at trace index i
// is the state after i+1 steps, whichever checkpoints the trace kept on the way; a step's post-state is the
// next claim; past the exit every claim is the final state and a step leaves it; the first read of a key type
// is the step whose proof carries that key.
func TestVMTrace(t *testing.T) {
	toyConfig(t) // builds the toy program
	in := trace.LocalInputs{L1Head: toyChain.L1Head, AgreedOutput: toyChain.Outputs[2], Claim: toyChain.Outputs[4], ClaimBlock: 4, ChainID: toychain.ChainID}
	b := trace.NewVMBackend(toyState, trace.MapSource(toyChain.Preimages))
	b.Checkpoints = 2 // keep few, so that queries go back and forth between them
	tr, err := b.Trace(in, 24)
	require.NoError(t, err)
	exit, err := tr.ExitStep()
	require.NoError(t, err)
	// Plain runs: the state hash after n steps.
	plain := func(n uint64) [32]byte {
		s := toyState.Copy()
		o := vm.NewMemoryOracle()
		for k, v := range toyChain.Preimages {
			o.Set(k, v)
		}
		for i := uint64(1); i <= 5; i++ {
			v, _ := in.LocalKeyValue(i)
			o.Set(preimage.LocalIndexKey(i).PreimageKey(), v)
		}
		m := vm.NewVM(s, o, nil, nil)
		for s.Step < n && !s.Exited {
			require.NoError(t, m.Run(n-s.Step))
		}
		return s.Hash()
	}
	for _, i := range []uint64{exit / 2, 10, exit - 2, exit / 3, exit / 2, exit - 1, exit + 5, 1<<24 - 1, 0} {
		got, err := tr.Claim(i)
		require.NoError(t, err)
		want := plain(i + 1)
		require.Equal(t, common.Hash(want), got, "claim %d: %s, a plain run gives %x", i, got, want)
	}
	for _, i := range []uint64{0, exit / 2, exit - 1, exit, exit + 100} {
		d, err := tr.Step(i)
		require.NoError(t, err)
		next, _ := tr.Claim(i)
		require.Equal(t, next, d.PostHash, "step %d: post-state %s, claim %s", i, d.PostHash, next)
		if i >= exit && (d.PreHash != d.PostHash || len(d.Proof) != 0) {
			require.FailNow(t, fmt.Sprintf("step %d past the exit changes the state or carries a proof", i))
		}
	}
	step, ok, err := tr.FirstRead(byte(preimage.PrecompileKeyType), 0)
	if err != nil || !ok {
		require.FailNow(t, fmt.Sprintf("no precompile read: %v", err))
	}
	d, err := tr.Step(step)
	require.NoError(t, err)
	if !d.HasPreimage() || d.OracleKey != toyChain.Records[3].Key {
		require.FailNow(t, fmt.Sprintf("step %d reads %x, want the precompile key %x", step, d.OracleKey, toyChain.Records[3].Key))
	}
}

package l2

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// The test chain is built by op-geth's own block builder from payload attributes (devnet.L2Builder);
// our engine must rebuild every block, through the oracle alone, to the same hash.

type testChain struct {
	*devnet.L2Builder
	t       testing.TB
	config  *params.ChainConfig
	rollup  *rollup.Config
	blocks  []*types.Block
	attrs   []*rollup.PayloadAttributes
	genesis *types.Block
}

// mapOracle is a preimage oracle over a map, filled the way a host fills its store. It checks every
// answer against its key, as the real channel does, and counts reads.
type mapOracle struct {
	values          map[[32]byte][]byte
	precompileCalls map[common.Address]int
	hints           []string
	reads           int
}

func (o *mapOracle) Get(key preimage.Key) ([]byte, error) {
	k := key.PreimageKey()
	o.reads++
	v, ok := o.values[k]
	if !ok && k[0] == byte(preimage.PrecompileKeyType) {
		v, ok = o.runPrecompile(k)
	}
	if !ok {
		return nil, &missingErr{k}
	}
	return v, preimage.Verify(k, v)
}

// runPrecompile answers a precompile key as a host does: from the last hint, with geth's precompile.
func (o *mapOracle) runPrecompile(k [32]byte) ([]byte, bool) {
	if len(o.hints) == 0 {
		return nil, false
	}
	typ, data, err := preimage.ParseHint(o.hints[len(o.hints)-1])
	if err != nil || typ != preimage.HintL1PrecompileV2 || len(data) < 28 || preimage.PrecompileKey(crypto.Keccak256Hash(data)).PreimageKey() != k {
		return nil, false
	}
	addr, input := common.BytesToAddress(data[:20]), data[28:]
	p, ok := vm.PrecompiledContractsPrague[addr]
	if !ok {
		return nil, false
	}
	o.precompileCalls[addr]++
	out, err := p.Run(input)
	if err != nil {
		return []byte{0}, true
	}
	return append([]byte{1}, out...), true
}

func (o *mapOracle) Hint(h preimage.Hint) error { o.hints = append(o.hints, h.Hint()); return nil }

type missingErr struct{ key [32]byte }

func (e *missingErr) Error() string { return "missing preimage " + common.Hash(e.key).Hex() }

func (o *mapOracle) putKeccak(v []byte) {
	o.values[preimage.KeccakKeyOf(v).PreimageKey()] = v
}

// hostOracle serves everything op-geth's database holds: headers, transaction tries, state and code.
func (tc *testChain) hostOracle() *mapOracle {
	values, err := tc.Preimages()
	require.NoError(tc.t, err)
	return &mapOracle{values: values, precompileCalls: map[common.Address]int{}}
}

func buildTestChain(t testing.TB, n int) *testChain {
	b, err := devnet.NewL2Builder()
	require.NoError(t, err)
	t.Cleanup(b.Close)
	require.NoError(t, b.Build(n))
	tc := &testChain{L2Builder: b, t: t, config: b.Config(), rollup: b.Rollup(), genesis: b.Block(0)}
	for i := 0; i <= n; i++ {
		tc.blocks = append(tc.blocks, b.Block(uint64(i)))
		tc.attrs = append(tc.attrs, b.Attributes(uint64(i)))
	}
	return tc
}

package client

import (
	"encoding/binary"
	"encoding/json"
	"maps"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/log"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/preimage"
)

var interopDevnet = sync.OnceValues(func() (*devnet.Devnet, error) {
	return devnet.New(devnet.Config{L2Blocks: 12, Forks: devnet.AllForksAtGenesis()})
})

// superCase runs the program in interop mode on the devnet's chain as a dependency set of one, with the
// encoded prestate as the agreed prestate.
type superCase struct {
	t      *testing.T
	d      *devnet.Devnet
	values map[[32]byte][]byte
}

func newSuperCase(t *testing.T) *superCase {
	d, err := interopDevnet()
	require.NoError(t, err)
	values := d.Preimages()
	enc := func(v any) []byte {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return b
	}
	ds, err := interop.NewDependencySet([]uint64{d.Rollup().ChainID()}, 0)
	require.NoError(t, err)
	for k, v := range map[preimage.LocalIndexKey][]byte{
		preimage.L1HeadLocalIndex:        d.L1Head().Hash().Bytes(),
		preimage.RollupConfigLocalIndex:  enc([]any{d.Rollup()}),
		preimage.L2ChainConfigLocalIndex: enc([]any{d.L2ChainConfig()}),
		preimage.L1ChainConfigLocalIndex: enc(d.L1ChainConfig()),
		preimage.DependencySetLocalIndex: enc(ds),
	} {
		values[k.PreimageKey()] = v
	}
	return &superCase{t: t, d: d, values: values}
}

// super is the super root at the time of L2 block n.
func (c *superCase) super(n uint64) *interop.SuperV1 {
	return interop.NewSuperV1(c.d.L2Block(n).Time(), interop.ChainOutput{ChainID: c.d.Rollup().ChainID(), Output: c.d.OutputRoot(n)})
}

func (c *superCase) run(prestate []byte, claim common.Hash, gameTime uint64) (*testOracle, error) {
	values := maps.Clone(c.values)
	root := crypto.Keccak256Hash(prestate)
	if prestate != nil {
		values[preimage.Keccak256Key(root).PreimageKey()] = prestate
	} else {
		root = interop.InvalidTransitionHash
	}
	values[preimage.L2OutputRootLocalIndex.PreimageKey()] = root.Bytes()
	values[preimage.L2ClaimLocalIndex.PreimageKey()] = claim.Bytes()
	values[preimage.L2ClaimBlockNumberLocalIndex.PreimageKey()] = binary.BigEndian.AppendUint64(nil, gameTime)
	o := &testOracle{values: values}
	return o, RunInterop(log.NewLogger(log.DiscardHandler()), o, o, Options{})
}

func TestInteropTransitionOfOneChain(t *testing.T) {
	c := newSuperCase(t)
	n := uint64(5)
	s := c.super(n)
	game := s.Timestamp + 10
	blk := c.d.L2Block(n + 1)
	// A 2-second chain has no block at the next second: its block stays.
	same := &interop.TransitionState{SuperRoot: s.Marshal(), PendingProgress: []interop.OptimisticBlock{{BlockHash: c.d.L2Block(n).Hash(), OutputRoot: c.d.OutputRoot(n)}}, Step: 1}
	o, err := c.run(s.Marshal(), same.Hash(), game)
	require.NoError(t, err)
	require.Contains(t, o.hints, preimage.TypedHint{Type: preimage.HintAgreedPreState, Data: s.Root().Bytes()}.Hint())

	// One second later the chain's next block is derived: the hints name the chain.
	s1 := interop.NewSuperV1(s.Timestamp+1, s.Chains...)
	derived := &interop.TransitionState{SuperRoot: s1.Marshal(), PendingProgress: []interop.OptimisticBlock{{BlockHash: blk.Hash(), OutputRoot: c.d.OutputRoot(n + 1)}}, Step: 1}
	o, err = c.run(s1.Marshal(), derived.Hash(), game)
	require.NoError(t, err)
	tagged := append(c.d.L2Block(n).Hash().Bytes(), binary.BigEndian.AppendUint64(nil, c.d.Rollup().ChainID())...)
	require.Contains(t, o.hints, preimage.TypedHint{Type: preimage.HintL2BlockHeader, Data: tagged}.Hint())

	// A wrong block is a wrong claim.
	wrong := *derived
	wrong.PendingProgress = []interop.OptimisticBlock{{BlockHash: blk.Hash(), OutputRoot: common.Hash{1}}}
	_, err = c.run(s1.Marshal(), wrong.Hash(), game)
	require.ErrorIs(t, err, ErrClaimNotValid)

	// Padding steps only count, and the consolidation step (interop not active here) gives the next super
	// root from the pending outputs.
	_, err = c.run(derived.Marshal(), derived.Next(nil).Hash(), game)
	require.NoError(t, err)
	last := derived
	for last.Step < interop.ConsolidateStep {
		last = last.Next(nil)
	}
	next := interop.NewSuperV1(s1.Timestamp+1, interop.ChainOutput{ChainID: c.d.Rollup().ChainID(), Output: c.d.OutputRoot(n + 1)})
	_, err = c.run(last.Marshal(), next.Root(), game)
	require.NoError(t, err)
	_, err = c.run(last.Marshal(), s1.Root(), game)
	require.ErrorIs(t, err, ErrClaimNotValid)
	require.Equal(t, next.Root(), c.super(n+1).Root(), "the next super root is the devnet's at that block's time")
}

func TestInteropTraceEndsAndInvalidTransitions(t *testing.T) {
	c := newSuperCase(t)
	s := c.super(4)
	// At the game timestamp the state stays as it is.
	_, err := c.run(s.Marshal(), s.Root(), s.Timestamp)
	require.NoError(t, err)
	_, err = c.run(s.Marshal(), common.Hash{1}, s.Timestamp)
	require.ErrorIs(t, err, ErrClaimNotValid)
	// After the invalid transition, every state is invalid.
	_, err = c.run(nil, interop.InvalidTransitionHash, s.Timestamp+5)
	require.NoError(t, err)
	_, err = c.run(nil, s.Root(), s.Timestamp+5)
	require.ErrorIs(t, err, ErrClaimNotValid)

	// A block L1 up to the L1 head does not derive: past the devnet's head.
	head := c.d.L2Head().NumberU64()
	h := interop.NewSuperV1(c.d.L2Block(head).Time()+1, interop.ChainOutput{ChainID: c.d.Rollup().ChainID(), Output: c.d.OutputRoot(head)})
	_, err = c.run(h.Marshal(), interop.InvalidTransitionHash, h.Timestamp+5)
	require.NoError(t, err)
}

func TestInteropBadPrestates(t *testing.T) {
	c := newSuperCase(t)
	s := c.super(4)
	other := interop.NewSuperV1(s.Timestamp, append(s.Chains, interop.ChainOutput{ChainID: 77})...)
	for name, pre := range map[string][]byte{
		"transition state with a bad version":     append([]byte{0xFE}, (&interop.TransitionState{SuperRoot: s.Marshal()}).Marshal()[1:]...),
		"chain missing from the dependency set":   other.Marshal(),
		"pending blocks do not match the chains":  (&interop.TransitionState{SuperRoot: s.Marshal(), PendingProgress: []interop.OptimisticBlock{{}, {}}, Step: 2}).Marshal(),
		"prestate after the game timestamp (s+1)": interop.NewSuperV1(s.Timestamp+100, s.Chains...).Marshal(),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.run(pre, common.Hash{}, s.Timestamp+50)
			require.ErrorIs(t, err, ErrBadPrestate)
			require.Equal(t, preimage.ExitFailure, ExitCode(err))
		})
	}
}

package client

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/params"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/preimage"
)

// testOracle serves local keys and a host's store, checks every answer like the channel does, and
// records hints.
type testOracle struct {
	values map[[32]byte][]byte
	hints  []string
}

func (o *testOracle) Get(key preimage.Key) ([]byte, error) {
	k := key.PreimageKey()
	v, ok := o.values[k]
	if !ok {
		return nil, fmt.Errorf("missing preimage %x", k)
	}
	return v, preimage.Verify(k, v)
}

func (o *testOracle) Hint(h preimage.Hint) error { o.hints = append(o.hints, h.Hint()); return nil }

var testChain *devnet.L2Builder

func chain(t *testing.T) *devnet.L2Builder {
	if testChain == nil {
		b, err := devnet.NewL2Builder()
		require.NoError(t, err)
		require.NoError(t, b.Build(16))
		testChain = b
	}
	return testChain
}

func outputAt(t *testing.T, b *devnet.L2Builder, n uint64) *l2.Output {
	blk := b.Block(n)
	st, err := b.StateAt(blk.Root())
	require.NoError(t, err)
	return &l2.Output{StateRoot: blk.Root(), MessagePasserStorageRoot: st.GetStorageRoot(params.OptimismL2ToL1MessagePasser), BlockHash: blk.Hash()}
}

// newOracle serves a custom-chain program instance agreeing on block agreed and claiming claim at
// claimBlock.
func newOracle(t *testing.T, b *devnet.L2Builder, agreed uint64, claim common.Hash, claimBlock uint64) *testOracle {
	values, err := b.Preimages()
	require.NoError(t, err)
	agreedOut := outputAt(t, b, agreed)
	values[preimage.KeccakKeyOf(agreedOut.Marshal()).PreimageKey()] = agreedOut.Marshal()
	be := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	js := func(v any) []byte { d, err := json.Marshal(v); require.NoError(t, err); return d }
	for k, v := range map[preimage.LocalIndexKey][]byte{
		preimage.L1HeadLocalIndex:             common.Hash{0x11}.Bytes(),
		preimage.L2OutputRootLocalIndex:       agreedOut.Root().Bytes(),
		preimage.L2ClaimLocalIndex:            claim.Bytes(),
		preimage.L2ClaimBlockNumberLocalIndex: be(claimBlock),
		preimage.L2ChainIDLocalIndex:          be(preimage.CustomChainIDIndicator),
		preimage.L2ChainConfigLocalIndex:      js(b.Config()),
		preimage.RollupConfigLocalIndex:       js(b.Rollup()),
		preimage.L1ChainConfigLocalIndex:      js(devnet.L1ChainConfig()),
	} {
		values[k.PreimageKey()] = v
	}
	return &testOracle{values: values}
}

func TestClaimsAtOrBeforeTheAgreedBlock(t *testing.T) {
	b := chain(t)
	tests := []struct {
		name       string
		agreed     uint64
		claimBlock uint64
		claim      common.Hash
		wantErr    error
	}{
		{"claim equals the agreed output", 12, 12, outputAt(t, b, 12).Root(), nil},
		{"wrong claim at the agreed block", 12, 12, common.Hash{0xbb}, ErrClaimNotValid},
		{"older block, right output (pre-Isthmus: storage root from state)", 14, 9, outputAt(t, b, 9).Root(), nil},
		{"older block, the agreed output instead", 14, 9, outputAt(t, b, 14).Root(), ErrClaimNotValid},
		{"isthmus block: storage root from the header", 16, 15, outputAt(t, b, 15).Root(), nil},
		{"genesis", 3, 0, outputAt(t, b, 0).Root(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOracle(t, b, tt.agreed, tt.claim, tt.claimBlock)
			err := Run(log.New(), o, o)
			if tt.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.wantErr)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	require.Equal(t, 0, ExitCode(nil))
	require.Equal(t, 1, ExitCode(fmt.Errorf("wrapped: %w", ErrClaimNotValid)))
	require.Equal(t, 2, ExitCode(errors.New("missing preimage")))
}

func TestDeterministicHints(t *testing.T) {
	b := chain(t)
	var first []string
	for i := 0; i < 3; i++ {
		o := newOracle(t, b, 14, outputAt(t, b, 9).Root(), 9)
		require.NoError(t, Run(log.New(), o, o))
		if i == 0 {
			first = o.hints
			continue
		}
		require.Equal(t, first, o.hints, "the same inputs give the same requests")
	}
}

func TestBootFailures(t *testing.T) {
	b := chain(t)
	tests := []struct {
		name   string
		edit   func(o *testOracle)
		errSub string
	}{
		{"agreed output missing", func(o *testOracle) {
			out := outputAt(t, b, 12)
			delete(o.values, preimage.KeccakKeyOf(out.Marshal()).PreimageKey())
		}, "agreed output"},
		{"claim block number of the wrong size", func(o *testOracle) {
			o.values[preimage.L2ClaimBlockNumberLocalIndex.PreimageKey()] = []byte{1}
		}, "l2-claim-block-number (local key 4) is 1 bytes"},
		{"unknown chain ID, configs of another chain", func(o *testOracle) {
			o.values[preimage.L2ChainIDLocalIndex.PreimageKey()] = binary.BigEndian.AppendUint64(nil, 424242)
		}, "the host announced chain 424242"},
		{"L1 chain config for another chain", func(o *testOracle) {
			d, _ := json.Marshal(params.MainnetChainConfig)
			o.values[preimage.L1ChainConfigLocalIndex.PreimageKey()] = d
		}, "l1 chain config is for chain 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOracle(t, b, 12, outputAt(t, b, 12).Root(), 12)
			tt.edit(o)
			err := Run(log.New(), o, o)
			require.ErrorContains(t, err, tt.errSub)
			require.Equal(t, preimage.ExitFailure, ExitCode(err))
		})
	}
}

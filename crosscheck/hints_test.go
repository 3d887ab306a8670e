package crosscheck

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ethereum-optimism/optimism/op-service/eth"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/client/l2"
	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// opProgramPayloadWitnessHint is the data of op-program's l2-payload-witness hint (its client/l2 package,
// no longer in the optimism module this test builds against): JSON of the parent hash, op-service's
// engine API payload attributes and the chain ID.
type opProgramPayloadWitnessHint struct {
	ParentBlockHash   common.Hash            `json:"parentBlockHash"`
	PayloadAttributes *eth.PayloadAttributes `json:"payloadAttributes"`
	ChainID           *eth.ChainID           `json:"chainID,omitempty"`
}

// opNodeAttributes converts attributes to op-service's type, field by field.
func opNodeAttributes(a *rollup.PayloadAttributes) *eth.PayloadAttributes {
	out := &eth.PayloadAttributes{
		Timestamp:             eth.Uint64Quantity(a.Timestamp),
		PrevRandao:            eth.Bytes32(a.Random),
		SuggestedFeeRecipient: a.SuggestedFeeRecipient,
		ParentBeaconBlockRoot: a.BeaconRoot,
		NoTxPool:              a.NoTxPool,
		GasLimit:              (*eth.Uint64Quantity)(a.GasLimit),
		MinBaseFee:            a.MinBaseFee,
	}
	if a.Withdrawals != nil {
		w := types.Withdrawals(a.Withdrawals)
		out.Withdrawals = &w
	}
	for _, tx := range a.Transactions {
		out.Transactions = append(out.Transactions, eth.Data(tx))
	}
	if a.EIP1559Params != nil {
		var p eth.Bytes8
		copy(p[:], a.EIP1559Params)
		out.EIP1559Params = &p
	}
	return out
}

type hintRecorder struct{ hints []string }

func (r *hintRecorder) Hint(h preimage.Hint) error {
	r.hints = append(r.hints, h.Hint())
	return nil
}

// TestPayloadWitnessHintMatchesOpProgram checks that the l2-payload-witness hint the program sends before
// building each block is byte for byte the one op-program's client sends for the same block, on the
// devnet's attributes of every fork (no withdrawals before Canyon, EIP-1559 parameters from Holocene, the
// minimum base fee from Jovian), so that op-program's host can serve our program with a witness.
func TestPayloadWitnessHintMatchesOpProgram(t *testing.T) {
	d, err := devnet.New(devnet.Config{})
	require.NoError(t, err)
	chainID := eth.ChainIDFromUInt64(d.Rollup().ChainID())
	seen := map[string]bool{}
	for n := uint64(1); n <= d.L2Head().NumberU64(); n++ {
		attrs := d.L2Attributes(n)
		parent := d.L2Block(n - 1).Hash()
		rec := &hintRecorder{}
		o := l2.NewOracle(preimage.OracleFunc(func(preimage.Key) ([]byte, error) { return nil, nil }), rec)
		require.NoError(t, o.PayloadWitnessHint(parent, attrs, d.Rollup().ChainID()))
		require.Len(t, rec.hints, 1)

		theirs, err := json.Marshal(opProgramPayloadWitnessHint{ParentBlockHash: parent, PayloadAttributes: opNodeAttributes(attrs), ChainID: &chainID})
		require.NoError(t, err)
		require.Equal(t, preimage.HintL2PayloadWitness+" "+hexutil.Encode(theirs), rec.hints[0], "block %d", n)

		// And op-program's host reads it back to the same attributes.
		typ, data, err := preimage.ParseHint(rec.hints[0])
		require.NoError(t, err)
		require.Equal(t, preimage.HintL2PayloadWitness, typ)
		var back opProgramPayloadWitnessHint
		require.NoError(t, json.Unmarshal(data, &back))
		require.Equal(t, parent, back.ParentBlockHash)
		require.Equal(t, chainID, *back.ChainID)
		require.Equal(t, opNodeAttributes(attrs), back.PayloadAttributes, "block %d", n)
		for _, field := range []string{"withdrawals", "eip1559Params", "minBaseFee", "parentBeaconBlockRoot", "transactions"} {
			if strings.Contains(string(data), `"`+field+`"`) {
				seen[field] = true
			}
		}
	}
	require.Len(t, seen, 5, "the devnet's attributes exercise every optional field: %v", seen)
}

// TestOutputRootMatchesOpService: our version-0 output encoding and root are op-service's, and our decoder
// reads its encoding back.
func TestOutputRootMatchesOpService(t *testing.T) {
	for i := 0; i < 50; i++ {
		var o rollup.Output
		copy(o.StateRoot[:], crypto.Keccak256([]byte{byte(i), 1}))
		copy(o.MessagePasserStorageRoot[:], crypto.Keccak256([]byte{byte(i), 2}))
		copy(o.BlockHash[:], crypto.Keccak256([]byte{byte(i), 3}))
		theirs := &eth.OutputV0{StateRoot: eth.Bytes32(o.StateRoot), MessagePasserStorageRoot: eth.Bytes32(o.MessagePasserStorageRoot), BlockHash: o.BlockHash}
		require.Equal(t, theirs.Marshal(), o.Marshal())
		require.Equal(t, common.Hash(eth.OutputRoot(theirs)), o.Root())
		back, err := rollup.UnmarshalOutput(theirs.Marshal())
		require.NoError(t, err)
		require.Equal(t, o, *back)
	}
	bad := make([]byte, 128)
	bad[31] = 1
	_, err := rollup.UnmarshalOutput(bad)
	require.ErrorContains(t, err, "unsupported output version")
}

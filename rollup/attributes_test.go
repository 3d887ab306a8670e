package rollup

import (
	"encoding/json"
	"testing"

	"github.com/ethereum/go-ethereum/beacon/engine"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/stretchr/testify/require"
)

// The conversion compiles only while our fields are op-geth's, in the same order with the same types.
var _ = (*engine.PayloadAttributes)((*PayloadAttributes)(nil))

func TestPayloadAttributesJSONIsOpGeths(t *testing.T) {
	root := common.HexToHash("0xbeac")
	cases := map[string]*PayloadAttributes{
		"empty": {},
		"every field": {
			Timestamp:             1700000000,
			Random:                common.HexToHash("0x01"),
			SuggestedFeeRecipient: common.HexToAddress("0x4200000000000000000000000000000000000011"),
			Withdrawals:           []*types.Withdrawal{{Index: 1, Validator: 2, Address: common.HexToAddress("0x03"), Amount: 4}},
			BeaconRoot:            &root,
			SlotNumber:            u64(7),
			TargetGasLimit:        u64(30_000_000),
			Transactions:          [][]byte{{0x7e, 0x01}, {0x02, 0xc0}},
			NoTxPool:              true,
			GasLimit:              u64(60_000_000),
			EIP1559Params:         []byte{0, 0, 0, 250, 0, 0, 0, 6},
			MinBaseFee:            u64(1_000_000),
		},
		"empty, not nil, lists": {Withdrawals: []*types.Withdrawal{}, Transactions: [][]byte{}, EIP1559Params: []byte{}},
	}
	for name, a := range cases {
		t.Run(name, func(t *testing.T) {
			ours, err := json.Marshal(a)
			require.NoError(t, err)
			theirs, err := json.Marshal((*engine.PayloadAttributes)(a))
			require.NoError(t, err)
			require.JSONEq(t, string(theirs), string(ours))
			requireSameDecoding(t, ours)
		})
	}
}

func TestPayloadAttributesDecodingIsOpGeths(t *testing.T) {
	for _, input := range payloadAttributesSeeds {
		t.Run(input, func(t *testing.T) { requireSameDecoding(t, []byte(input)) })
	}
}

var payloadAttributesSeeds = []string{
	`{"timestamp":"0x10","prevRandao":"0x0000000000000000000000000000000000000000000000000000000000000001","suggestedFeeRecipient":"0x4200000000000000000000000000000000000011"}`,
	`{"timestamp":"0x10","prevRandao":"0x0000000000000000000000000000000000000000000000000000000000000001","suggestedFeeRecipient":"0x4200000000000000000000000000000000000011",` +
		`"withdrawals":[],"parentBeaconBlockRoot":null,"slotNumber":"0x3","targetGasLimit":null,"transactions":["0x7e01",""],"noTxPool":true,` +
		`"gasLimit":"0x1c9c380","eip1559Params":"0x000000fa00000006","minBaseFee":1000}`,
	`{"timestamp":"0x10","prevRandao":"0x0000000000000000000000000000000000000000000000000000000000000001","suggestedFeeRecipient":"0x4200000000000000000000000000000000000011","eip1559Params":null,"noTxPool":null}`,
	`{"timestamp":"0x10","prevRandao":"0x0000000000000000000000000000000000000000000000000000000000000001","suggestedFeeRecipient":"0x4200000000000000000000000000000000000011","eip1559Params":"0x"}`,
	`{"prevRandao":"0x0000000000000000000000000000000000000000000000000000000000000001","suggestedFeeRecipient":"0x4200000000000000000000000000000000000011"}`,
	`{"timestamp":"0x10","suggestedFeeRecipient":"0x4200000000000000000000000000000000000011"}`,
	`{"timestamp":"0x10","prevRandao":"0x0000000000000000000000000000000000000000000000000000000000000001"}`,
	`{"timestamp":16,"prevRandao":"0x01","suggestedFeeRecipient":"0x42"}`,
	`{"timestamp":"0x10","prevRandao":"0x0000000000000000000000000000000000000000000000000000000000000001","suggestedFeeRecipient":"0x4200000000000000000000000000000000000011","minBaseFee":"0x10"}`,
	`null`,
	`[]`,
}

// FuzzPayloadAttributesJSON checks that any input decodes as op-geth decodes it, and encodes back as
// op-geth encodes it.
func FuzzPayloadAttributesJSON(f *testing.F) {
	for _, s := range payloadAttributesSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, input []byte) { requireSameDecoding(t, input) })
}

// requireSameDecoding decodes input with our type and op-geth's: both fail, or both give the same value
// and the same encoding.
func requireSameDecoding(t *testing.T, input []byte) {
	t.Helper()
	var ours PayloadAttributes
	var theirs engine.PayloadAttributes
	errOurs, errTheirs := json.Unmarshal(input, &ours), json.Unmarshal(input, &theirs)
	require.Equal(t, errTheirs == nil, errOurs == nil, "op-geth's error: %v, ours: %v", errTheirs, errOurs)
	if errOurs != nil {
		return
	}
	require.Equal(t, theirs, engine.PayloadAttributes(ours))
	encOurs, err := json.Marshal(&ours)
	require.NoError(t, err)
	encTheirs, err := json.Marshal(&theirs)
	require.NoError(t, err)
	require.Equal(t, string(encTheirs), string(encOurs))
}

package devnet

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/core/vm/runtime"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/interop"
	"github.com/faultproof/faultproof/rollup"
)

func TestMessengerABI(t *testing.T) {
	require.Equal(t, crypto.Keccak256([]byte("sendMessage(uint256,address,bytes)"))[:4], sendMessageSelector)
	require.Equal(t, crypto.Keccak256([]byte("relayMessage((address,uint256,uint256,uint256,uint256),bytes)"))[:4], relayMessageSelector)
	cd := sendMessageCalldata(902, common.Address{0xaa}, []byte{1, 2, 3})
	require.Len(t, cd, 4+3*32+32+32)
	require.Equal(t, word(902), cd[4:36])
	require.Equal(t, word(0x60), cd[68:100])
	require.Equal(t, word(3), cd[100:132])
	require.Equal(t, []byte{1, 2, 3}, cd[132:135])
	rd := relayMessageCalldata(interop.Identifier{ChainID: 5}, make([]byte, 33))
	require.Len(t, rd, 4+5*32+32+32+64)
	require.Equal(t, word(6*32), rd[4+5*32:4+6*32])
}

// TestCrossL2InboxAccessList runs the Lagoon bundle's CrossL2Inbox: validateMessage emits the
// ExecutingMessage event only when the transaction's access list holds the message's checksum (a warm
// slot).
func TestCrossL2InboxAccessList(t *testing.T) {
	code, err := interopPredeploys()
	require.NoError(t, err)
	cfg, _ := forkConfigs(0, func(rollup.Fork) *uint64 { z := uint64(0); return &z })
	msg := interop.ExecutingMessage{
		ID:          interop.Identifier{Origin: interop.L2ToL2CrossDomainMessengerAddr, BlockNumber: 7, LogIndex: 2, Timestamp: 1234, ChainID: 902},
		PayloadHash: common.Hash{0xee},
	}
	call := func(al types.AccessList, gasPrice int64) ([]*types.Log, error) {
		db := state.NewDatabaseForTesting()
		st, err := state.New(types.EmptyRootHash, db)
		require.NoError(t, err)
		st.SetCode(interop.CrossL2InboxAddr, code[interop.CrossL2InboxAddr], 0)
		rc := &runtime.Config{ChainConfig: cfg, State: st, GasLimit: 200_000, GasPrice: big.NewInt(gasPrice), BlockNumber: common.Big1, Time: 1,
			BaseFee: big.NewInt(params.InitialBaseFee), BlobBaseFee: big.NewInt(1), Difficulty: new(big.Int), Random: &common.Hash{},
			Origin: common.Address{0x0b}}
		evm := runtime.NewEnv(rc)
		rules := cfg.Rules(common.Big1, true, 1)
		st.SetTxContext(common.Hash{1}, 0)
		st.Prepare(rules, rc.Origin, common.Address{}, &interop.CrossL2InboxAddr, vm.ActivePrecompiles(rules), al)
		_, _, err = evm.Call(rc.Origin, interop.CrossL2InboxAddr, interop.ValidateMessageCalldata(msg), rc.GasLimit, new(uint256.Int))
		return st.Logs(), err
	}
	logs, err := call(interop.AccessList(msg), params.GWei)
	require.NoError(t, err)
	require.Len(t, logs, 1)
	got, err := interop.ExecutingMessageFromLog(logs[0])
	require.NoError(t, err)
	require.Equal(t, &msg, got)

	_, err = call(nil, params.GWei)
	require.ErrorIs(t, err, vm.ErrExecutionReverted, "the checksum slot is cold without the access list")
	other := msg
	other.PayloadHash = common.Hash{0xef}
	_, err = call(interop.AccessList(other), params.GWei)
	require.ErrorIs(t, err, vm.ErrExecutionReverted, "another message's checksum")
	// The bundle's implementation (op-core's lagoon_nut_bundle.json of v1.19.6) has no check of the gas
	// price: the source's CrossL2Inbox_NoExecutingDeposits came after the bundle was made. A deposit can
	// then execute a message, with its access list.
	_, err = call(interop.AccessList(msg), 0)
	require.NoError(t, err)
}

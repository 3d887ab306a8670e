package client

import (
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"

	"github.com/faultproof/faultproof/devnet"
	"github.com/faultproof/faultproof/preimage"
	"github.com/faultproof/faultproof/rollup"
)

// bootOracle serves local keys 1-5 for chainID and, if withConfigs, the devnet chain's configs as local
// keys 6, 7 and 9.
func bootOracle(t *testing.T, chainID uint64, withConfigs bool) *testOracle {
	b := chain(t)
	be := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	js := func(v any) []byte { d, err := json.Marshal(v); require.NoError(t, err); return d }
	keys := map[preimage.LocalIndexKey][]byte{
		preimage.L1HeadLocalIndex:             common.Hash{0x11}.Bytes(),
		preimage.L2OutputRootLocalIndex:       common.Hash{0x22}.Bytes(),
		preimage.L2ClaimLocalIndex:            common.Hash{0x33}.Bytes(),
		preimage.L2ClaimBlockNumberLocalIndex: be(7),
		preimage.L2ChainIDLocalIndex:          be(chainID),
	}
	if withConfigs {
		keys[preimage.L2ChainConfigLocalIndex] = js(b.Config())
		keys[preimage.RollupConfigLocalIndex] = js(b.Rollup())
		keys[preimage.L1ChainConfigLocalIndex] = js(devnet.L1ChainConfig())
	}
	o := &testOracle{values: map[[32]byte][]byte{}}
	for k, v := range keys {
		o.values[k.PreimageKey()] = v
	}
	return o
}

func TestReadBootInfoConfigs(t *testing.T) {
	devnetID := chain(t).Rollup().ChainID()
	_, registered := rollup.KnownChain(devnetID)
	require.ErrorIs(t, registered, rollup.ErrUnknownNetwork, "the devnet chain is not a known chain")

	t.Run("registry chain: no config keys read", func(t *testing.T) {
		boot, err := ReadBootInfo(bootOracle(t, 11155420, false))
		require.NoError(t, err)
		require.Equal(t, ConfigsKnown, boot.ConfigsFrom)
		require.Equal(t, uint64(11155420), boot.Rollup.ChainID())
		require.Equal(t, uint64(11155111), boot.L1ChainConfig.ChainID.Uint64())
		require.True(t, boot.Rollup.KeepKarstUpgradeGas)
	})
	t.Run("custom-chain indicator", func(t *testing.T) {
		boot, err := ReadBootInfo(bootOracle(t, preimage.CustomChainIDIndicator, true))
		require.NoError(t, err)
		require.Equal(t, ConfigsCustomIndicator, boot.ConfigsFrom)
		require.Equal(t, devnetID, boot.Rollup.ChainID())
	})
	t.Run("unknown chain ID: configs from local keys", func(t *testing.T) {
		boot, err := ReadBootInfo(bootOracle(t, devnetID, true))
		require.NoError(t, err)
		require.Equal(t, ConfigsLocalFallback, boot.ConfigsFrom)
		require.Equal(t, devnetID, boot.Rollup.ChainID())
		require.Equal(t, devnetID, boot.L2ChainID, "the real chain ID, not the indicator")
	})
	t.Run("unknown chain ID, configs of another chain", func(t *testing.T) {
		_, err := ReadBootInfo(bootOracle(t, devnetID+1, true))
		require.ErrorContains(t, err, "the host announced chain")
	})
	t.Run("unknown chain ID, no configs served", func(t *testing.T) {
		_, err := ReadBootInfo(bootOracle(t, devnetID, false))
		require.ErrorContains(t, err, "neither in the embedded registry nor built into this program")
	})
	t.Run("unsupported registry chain: no fallback", func(t *testing.T) {
		_, err := ReadBootInfo(bootOracle(t, 690, true))
		require.ErrorIs(t, err, rollup.ErrUnsupportedChain)
		require.ErrorContains(t, err, "alt-DA (plasma) is not supported by fault proofs")
	})
}

package rollup

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/stretchr/testify/require"
)

func TestResolveNetwork(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    uint64
		wantErr bool
	}{
		{"registry name", "op-sepolia", 11155420, false},
		{"registry name mainnet", "op-mainnet", 10, false},
		{"decimal chain ID", "11155420", 11155420, false},
		{"bare chain name means mainnet", "op", 10, false},
		{"unknown name", "no-such-chain", 0, true},
		{"unknown chain ID", "424242", 0, true},
		{"empty", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveNetwork(tt.in)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrUnknownNetwork)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestFromRegistryOPSepolia(t *testing.T) {
	cfg, l2, err := FromRegistry(11155420)
	require.NoError(t, err)
	require.NoError(t, cfg.Check())
	// Facts of OP Sepolia that have not changed since its genesis.
	require.Equal(t, common.HexToHash("0x102de6ffb001480cc9b8b548fd05c34cd4f46ae4aa91759393db90ea0409887d"), cfg.Genesis.L2.Hash)
	require.Equal(t, uint64(1691802540), cfg.Genesis.L2Time)
	require.Equal(t, uint64(11155111), cfg.L1ChainID.Uint64())
	require.Equal(t, common.HexToAddress("0xff00000000000000000000000000000011155420"), cfg.BatchInboxAddress)
	require.Equal(t, uint64(300), cfg.ChannelTimeoutBedrock)
	require.Equal(t, uint64(11155420), l2.ChainID.Uint64())
	require.Equal(t, cfg.IsthmusTime, l2.IsthmusTime, "rollup and execution fork schedules agree")
	require.Equal(t, cfg.EcotoneTime, l2.CancunTime, "Cancun activates with Ecotone")
	l1, err := L1ChainConfig(cfg.L1ChainID.Uint64())
	require.NoError(t, err)
	require.Equal(t, uint64(11155111), l1.ChainID.Uint64())
}

func TestEveryRegistryChainLoads(t *testing.T) {
	nets := Networks()
	require.NotEmpty(t, nets)
	for i, n := range nets {
		if i > 0 {
			require.Less(t, nets[i-1].Name, n.Name, "sorted by name")
		}
		cfg, _, err := FromRegistry(n.ChainID)
		require.NoError(t, err, n.Name)
		if cfg.AltDAConfig == nil {
			require.NoError(t, cfg.Check(), n.Name)
		}
	}
}

func TestParseChainConfig(t *testing.T) {
	genesis := `{"config": {"chainId": 901, "optimism": {"eip1559Elasticity": 6, "eip1559Denominator": 50}}, "alloc": {}}`
	cfg, err := ParseChainConfig([]byte(genesis))
	require.NoError(t, err)
	require.Equal(t, uint64(901), cfg.ChainID.Uint64())
	require.Equal(t, uint64(50), cfg.Optimism.EIP1559Denominator)

	bare := `{"chainId": 900, "cancunTime": 0}`
	cfg, err = ParseChainConfig([]byte(bare))
	require.NoError(t, err)
	require.Equal(t, uint64(900), cfg.ChainID.Uint64())

	_, err = ParseChainConfig([]byte(`{"alloc": {}}`))
	require.ErrorContains(t, err, "no chain ID")
	_, err = ParseChainConfig([]byte(`[`))
	require.Error(t, err)
}
